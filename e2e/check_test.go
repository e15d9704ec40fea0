//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
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
