//go:build e2e

package e2e

import (
	"debug/elf"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// TestMultiPlatform builds examples/go-app for two platforms through buildx:
// the build stage runs on the builder's platform and cross-compiles, so no
// emulation is needed, and each platform gets its own binary.
func TestMultiPlatform(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	out := t.TempDir()
	mustBuildx(t, root, "build", "-f", "examples/go-app/build.toml", "--platform", "linux/amd64,linux/arm64",
		"--output", "type=local,dest="+out, "examples/go-app")
	for dir, machine := range map[string]elf.Machine{"linux_amd64": elf.EM_X86_64, "linux_arm64": elf.EM_AARCH64} {
		f, err := elf.Open(filepath.Join(out, dir, "usr/local/bin/app"))
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if f.Machine != machine {
			t.Errorf("%s: binary for %v, want %v", dir, f.Machine, machine)
		}
		f.Close()
	}
}

// TestFrontendOptions runs the frontend in-process and checks the options a
// Dockerfile user relies on: .dockerignore, named contexts, a context that
// replaces a base image, and the warning for an undeclared --build-arg.
func TestFrontendOptions(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 5*time.Minute)
	dir := writeTree(t, map[string]string{
		"build.toml": `
[args]
MESSAGE = "hi"
[stages.base]
from = "busybox:1.36"
[[stages.base.steps]]
copy = ["."]
to = "/ctx/"
[[stages.base.steps]]
copy = ["/asset.txt"]
from = "context:assets"
to = "/ctx/"
[[stages.base.steps]]
run = "ls /ctx > /listing && cat /etc/replaced >> /listing 2>/dev/null || true"
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/listing"]
from = "base"
`,
		"kept.txt":      "kept\n",
		"secret.env":    "TOKEN=1\n",
		".dockerignore": "secret.env\n",
	})
	assets := writeTree(t, map[string]string{"asset.txt": "asset\n"})
	replacement := writeTree(t, map[string]string{"etc/replaced": "busybox was replaced\n", "bin/sh": ""})

	exp, out := localExport(t)
	progress := mustSolve(ctx, t, solveOpt{dir: dir, exports: []client.ExportEntry{exp},
		contexts: map[string]string{"assets": assets},
		attrs:    map[string]string{"build-arg:MESAGE": "typo"}})
	listing := readFile(t, filepath.Join(out, "listing"))
	for _, want := range []string{"kept.txt", "asset.txt", "build.toml"} {
		if !strings.Contains(listing, want) {
			t.Errorf("listing lacks %s:\n%s", want, listing)
		}
	}
	if strings.Contains(listing, "secret.env") {
		t.Errorf(".dockerignore was not applied:\n%s", listing)
	}
	if !strings.Contains(progress, `build arg "MESAGE" is not declared in [args], so nothing uses it (did you mean "MESSAGE"?)`) {
		t.Errorf("no warning for the undeclared build arg:\n%s", progress)
	}

	// A context named like the base image replaces it; the replacement has
	// no shell, so the run step fails: proof that busybox was not used.
	_, err := solve(ctx, solveOpt{dir: dir, contexts: map[string]string{"assets": assets, "busybox:1.36": replacement}})
	if err == nil || !strings.Contains(err.Error(), "/bin/sh") {
		t.Errorf("the base image was not replaced by the named context: %v", err)
	}
}
