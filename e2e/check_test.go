//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/subrequests/lint"
)

// TestLintMatchesCheck runs `tomlfront lint` and `--call=check` through
// buildx on the same specs, valid and invalid: they must find the same
// errors and the same warnings at the same lines.
func TestLintMatchesCheck(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	bin := goBuildTomlfront(t)
	const syntax = "# syntax=ghcr.io/tomlfront/tomlfront:1\n"
	for _, tc := range []struct {
		name    string
		spec    string
		invalid bool
	}{
		{"warnings", subrequestSpec, false},
		{"comment in an inline table", syntax + "[stages.a]\nfrom = \"busybox:1.36\"\nenv = { # the message\n  A = \"1\" }\n", false},
		{"invalid TOML", syntax + "[stages.a]\nfrom = \"busybox:1.36\"\nreleased = 1979-02-30\n", true},
		{"invalid spec", syntax + "[stages.a]\nform = \"busybox\"\n[stages.b]\nfrom = \"busybox\"\nworkdir = \"${NOPE}\"\n", true},
		{"found by conversion", syntax + "[args]\nTOKEN = \"\"\n[stages.a]\nfrom = \"busybox\"\nargs = [\"TOKEN\"]\nworkdir = \"${TOKEN:?set TOKEN}\"\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, map[string]string{"build.toml": tc.spec})
			cmd := command(t, bin, "lint", "-f", "build.toml")
			cmd.Dir = dir
			out, err := cmd.Output()
			if (err != nil) != tc.invalid {
				t.Fatalf("tomlfront lint: %v, want failure %v:\n%s", err, tc.invalid, out)
			}
			var lintErrors, lintWarnings []string
			for line := range strings.Lines(string(out)) {
				line = strings.TrimSuffix(line, "\n")
				if file, rest, ok := strings.Cut(line, ": warning: "); ok {
					// build.toml:LINE:COL: warning: MSG (RULE) → RULE@LINE
					pos := strings.Split(file, ":")
					rule := rest[strings.LastIndex(rest, "(")+1 : len(rest)-1]
					lintWarnings = append(lintWarnings, rule+"@"+pos[1])
				} else {
					lintErrors = append(lintErrors, line)
				}
			}

			text, err := buildx(dir, "build", "-f", "build.toml", "--call=check,format=json", ".")
			if tc.invalid && err == nil {
				t.Errorf("--call=check passed on an invalid spec:\n%s", text)
			}
			var res lint.LintResults
			// The JSON answer, then (for an invalid spec) buildx's ERROR lines.
			if err := json.NewDecoder(strings.NewReader(text[strings.Index(text, "{"):])).Decode(&res); err != nil {
				t.Fatalf("--call=check answered no JSON (%v):\n%s", err, text)
			}
			var checkErrors, checkWarnings []string
			if res.Error != nil {
				checkErrors = strings.Split(res.Error.Message, "\n")
				if len(res.Error.Location.Ranges) != len(checkErrors) {
					t.Errorf("%d ranges for %d errors", len(res.Error.Location.Ranges), len(checkErrors))
				}
				if len(res.Sources) == 0 || string(res.Sources[0].Data) != tc.spec {
					t.Errorf("the error's source is not the spec")
				}
			}
			for _, w := range res.Warnings {
				checkWarnings = append(checkWarnings, fmt.Sprintf("%s@%d", w.RuleName, w.Location.Ranges[0].Start.Line))
			}
			slices.Sort(lintWarnings)
			slices.Sort(checkWarnings)
			if !slices.Equal(lintErrors, checkErrors) {
				t.Errorf("errors differ:\ntomlfront lint: %q\n--call=check:   %q", lintErrors, checkErrors)
			}
			if !slices.Equal(lintWarnings, checkWarnings) {
				t.Errorf("warnings differ:\ntomlfront lint: %q\n--call=check:   %q", lintWarnings, checkWarnings)
			}
			if tc.invalid && len(checkErrors) == 0 {
				t.Errorf("--call=check reported no error:\n%s", text)
			}
		})
	}
}

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
	const lintErr = `build.toml:7:8: image "busybox" has no tag: pin a version, e.g. "busybox:1.2" (UnpinnedBaseImage, an error by the spec's [lint] or TOMLFRONT_CHECK)`
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
