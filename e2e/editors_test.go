//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// taplo runs the pinned Taplo CLI (scripts/bench/tools.sh) on files, from
// dir, and returns its output and whether it found them valid.
func taplo(t *testing.T, dir string, files ...string) (string, bool) {
	t.Helper()
	bin := os.Getenv("TOMLFRONT_TAPLO")
	if bin == "" {
		t.Fatal("TOMLFRONT_TAPLO is not set: source the bench's env.sh")
	}
	cmd := command(t, bin, append([]string{"check"}, files...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("taplo: %v\n%s", err, out)
	}
	return string(out), err == nil
}

// TestSchemaInTaplo: Taplo, as editors embed it, validates every example
// against the committed schema through the `#:schema` line that follows the
// `# syntax=` line, and flags each invalid spec where tomlfront does.
func TestSchemaInTaplo(t *testing.T) {
	t.Parallel()
	examples, err := filepath.Glob(filepath.Join(root, "examples", "*", "*.toml"))
	if err != nil || len(examples) < 5 {
		t.Fatalf("examples: %v %v", examples, err)
	}
	for _, f := range examples {
		lines := strings.SplitN(readFile(t, f), "\n", 3)
		if len(lines) < 3 || !strings.HasPrefix(lines[0], "# syntax=") || lines[1] != "#:schema ../../schema/tomlfront.schema.json" {
			t.Errorf("%s does not start with the syntax line, then the schema line", f)
		}
	}
	if out, ok := taplo(t, root, examples...); !ok {
		t.Errorf("Taplo rejects the examples:\n%s", out)
	}

	bin := goBuildTomlfront(t)
	schemaLine := "#:schema " + filepath.Join(root, "schema", "tomlfront.schema.json") + "\n"
	for _, c := range []struct{ name, spec string }{
		{"unknown key", "[stages.a]\nfrom = \"busybox\"\nwokdir = \"/src\"\n"},
		{"unknown top-level key", "verison = 1\n[stages.a]\nfrom = \"busybox\"\n"},
		{"wrong type", "[stages.a]\nfrom = \"busybox\"\nworkdir = 1\n"},
		{"sharing not allowed", "[caches.c]\ntarget = \"/c\"\nsharing = \"exclusive\"\n[stages.a]\nfrom = \"busybox\"\n"},
		{"unknown preset", "[caches.c]\npreset = \"gradel\"\n[stages.a]\nfrom = \"busybox\"\n"},
		{"mount type", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"x\"\nmounts = [{ type = \"volume\", target = \"/x\" }]\n"},
		{"unknown lint rule", "[lint]\nerror = [\"UnpinedBaseImage\"]\n[stages.a]\nfrom = \"busybox:1.36\"\n"},
		{"stage name", "[stages.Build]\nfrom = \"busybox\"\n"},
		{"step key", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"x\"\ncahces = [\"go\"]\n"},
		{"step without a verb", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nuser = \"nobody\"\n"},
		{"healthcheck retries", "[stages.a]\nfrom = \"busybox\"\n[stages.a.image.healthcheck]\ntest = [\"NONE\"]\nretries = \"3\"\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, map[string]string{"build.toml": syntaxLine + schemaLine + c.spec})
			cmd := command(t, bin, "lint", "-f", "build.toml")
			cmd.Dir = dir
			lintOut, err := cmd.Output()
			if err == nil {
				t.Fatalf("tomlfront lint passes:\n%s", lintOut)
			}
			m := regexp.MustCompile(`^build\.toml:(\d+):\d+: `).FindStringSubmatch(string(lintOut))
			if m == nil {
				t.Fatalf("tomlfront lint said %q", lintOut)
			}
			out, ok := taplo(t, dir, "build.toml")
			if ok {
				t.Fatalf("Taplo accepts what tomlfront rejects (%s):\n%s", lintOut, out)
			}
			if !strings.Contains(out, fmt.Sprintf("build.toml:%s:", m[1])) {
				t.Errorf("Taplo flags other lines than tomlfront's %s:\n%s", m[0], out)
			}
		})
	}
}
