//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestInternalErrorReported builds through buildx with a panic injected
// into the frontend (at the start, and in a platform's build goroutine):
// the user sees tomlfront's internal-error message, not just an exit code.
// The spec is one that crashed the loader before.
func TestInternalErrorReported(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{"build.toml": "# syntax=ghcr.io/tomlfront/tomlfront:1\n[stages.a]\nfrom = \"busybox:1.36\"\nenv = { # a comment\n  A = \"1\" }\n[[stages.a.steps]]\nrun = \"test \\\"$A\\\" = 1\"\n"})
	mustBuildx(t, dir, "build", "-f", "build.toml", ".")
	for _, where := range []string{"frontend", "platform"} {
		t.Run(where, func(t *testing.T) {
			out, err := buildx(dir, "build", "-f", "build.toml", "--build-arg", "TOMLFRONT_TEST_PANIC="+where, ".")
			if err == nil {
				t.Fatalf("the build passed:\n%s", out)
			}
			for _, want := range []string{"internal error in tomlfront", "panic injected by --build-arg TOMLFRONT_TEST_PANIC=" + where, "please report it at", "with the spec"} {
				if !strings.Contains(out, want) {
					t.Errorf("buildx output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestTeamRules: through buildx, a rule the spec's [lint] makes an error
// fails the build and --call=check at the finding's line, TOMLFRONT_CHECK
// overrides it, and a required arg that is not set fails the build at its
// declaration until --build-arg sets it.
func TestTeamRules(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{"build.toml": syntaxLine + `[args]
APP = { required = true, description = "who to greet" }
[lint]
error = ["UnpinnedBaseImage"]
[stages.a]
from = "busybox"
args = ["APP"]
[[stages.a.steps]]
run = "echo hello $APP > /greeting"
[stages.out]
from = "scratch"
[[stages.out.steps]]
copy = "/greeting"
from = "a"
`})
	const lintErr = `build.toml:7:8: image "busybox" has no tag: pin a version, e.g. "busybox:1.2" (UnpinnedBaseImage, an error by the spec's [lint], TOMLFRONT_CHECK or BUILDKIT_DOCKERFILE_CHECK)`
	const argErr = `build.toml:3:1: arg "APP" (who to greet) is required and not set: pass --build-arg APP=VALUE`
	skip := "TOMLFRONT_CHECK=skip=UnpinnedBaseImage"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"lint error fails the build", []string{"--build-arg", "APP=e2e"}, lintErr},
		{"lint error fails the check", []string{"--call=check"}, lintErr},
		{"required arg missing", []string{"--build-arg", skip}, argErr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := buildx(dir, append(append([]string{"build", "-f", "build.toml"}, tc.args...), ".")...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("want a failure with %s: %v\n%s", tc.want, err, out)
			}
		})
	}
	out := buildLocal(t, dir, "--build-arg", skip, "--build-arg", "APP=e2e")
	if got := readFile(t, filepath.Join(out, "greeting")); got != "hello e2e\n" {
		t.Errorf("greeting %q", got)
	}
}
