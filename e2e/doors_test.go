//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/subrequests/lint"
)

// A door is one way a user asks tomlfront about a spec.
const (
	doorLint    = "tomlfront lint"
	doorLLB     = "tomlfront llb"
	doorCaches  = "tomlfront caches"
	doorCheck   = "--call=check"
	doorOutline = "--call=outline"
	doorBuild   = "build"
)

var doors = []string{doorLint, doorLLB, doorCaches, doorCheck, doorOutline, doorBuild}

// doorCase is a spec and how every door must judge it.
type doorCase struct {
	name  string
	files map[string]string // build.toml and what it includes
	args  []string          // --build-arg values, for every door
	// extra is a context that only the build gives (--build-context
	// extra=DIR): the CLI's doors run without it.
	extra map[string]string
	// fail are the doors that fail; the others pass. Outline describes a
	// spec without judging it: it fails only where the spec does not load
	// or its target does not convert.
	fail []string
	// cliOnly are rules that only the CLI's doors report, which do not
	// know the build's contexts nor its base images; where one warns, a
	// builder's doors may find an error.
	cliOnly []string
}

// The spec of every case builds scratch content only, so a build is quick.
var doorCases = []doorCase{
	{name: "valid", files: map[string]string{"build.toml": syntaxLine + "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\nrun = \"echo hi > /hi\"\n"}},
	{name: "comment in an inline table", files: map[string]string{"build.toml": syntaxLine + "[stages.a]\nfrom = \"busybox:1.36\"\nenv = { # the message\n  A = \"1\" }\n"}},
	{name: "warnings", files: map[string]string{"build.toml": syntaxLine + "[args]\nAPI_TOKEN = \"\"\nUNUSED = \"x\"\n[stages.a]\nfrom = \"busybox\"\nargs = [\"API_TOKEN\"]\n[[stages.a.steps]]\nrun = \"true\"\n"}},
	{name: "cache warnings", files: map[string]string{"build.toml": syntaxLine + "[caches.aptcache]\ntarget = \"/var/cache/apt\"\n[caches.deps]\nid = \"deps-${TARGETARCH}\"\ntarget = \"/deps\"\n[stages.a]\nfrom = \"busybox:1.36\"\ncaches = [\"aptcache\", \"deps\"]\n[[stages.a.steps]]\nrun = \"echo apt-get > /x\"\nmounts = [{ type = \"cache\", id = \"deps-${TARGETARCH}\", target = \"/other\" }]\n"}},
	{name: "invalid in several places", fail: []string{doorLint, doorLLB, doorCaches, doorCheck, doorOutline, doorBuild},
		files: map[string]string{"build.toml": syntaxLine + "[stages.a]\nform = \"busybox\"\n[stages.b]\nfrom = \"busybox\"\nworkdir = \"${NOPE}\"\n"}},
	{name: "invalid TOML", fail: []string{doorLint, doorLLB, doorCaches, doorCheck, doorOutline, doorBuild},
		files: map[string]string{"build.toml": syntaxLine + "[stages.a]\nfrom = \"busybox:1.36\"\nreleased = 1979-02-30\n"}},
	{name: "required arg unset", fail: []string{doorLint, doorLLB, doorCaches, doorCheck, doorBuild},
		files: map[string]string{"build.toml": syntaxLine + "[args]\nAPP = { required = true, description = \"who to greet\" }\n[stages.a]\nfrom = \"busybox:1.36\"\nargs = [\"APP\"]\n[[stages.a.steps]]\nrun = \"echo $APP\"\n"}},
	{name: "required arg set", args: []string{"APP=e2e"},
		files: map[string]string{"build.toml": syntaxLine + "[args]\nAPP = { required = true }\n[stages.a]\nfrom = \"busybox:1.36\"\nargs = [\"APP\"]\n[[stages.a.steps]]\nrun = \"echo $APP\"\n"}},
	{name: "context given only at build time", cliOnly: []string{"UndeclaredContext"},
		extra: map[string]string{"f.txt": "from the context\n"},
		files: map[string]string{"build.toml": syntaxLine + "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\ncopy = \"f.txt\"\nfrom = \"context:extra\"\n"}},
	{name: "variable of the base image's env", cliOnly: []string{"UndeclaredVariable"},
		files: map[string]string{"build.toml": syntaxLine + "[stages.a]\nfrom = \"busybox:1.36\"\nenv = { BIN = \"${PATH}:/x\" }\n[[stages.a.steps]]\nrun = \"echo $BIN > /bin-path\"\n"}},
	{name: "variable the base image's env lacks", cliOnly: []string{"UndeclaredVariable"}, fail: []string{doorCheck, doorOutline, doorBuild},
		files: map[string]string{"build.toml": syntaxLine + "[stages.a]\nfrom = \"busybox:1.36\"\nworkdir = \"${NOT_IN_BUSYBOX}/app\"\n"}},
	{name: "error inside an include", fail: []string{doorLint, doorLLB, doorCaches, doorCheck, doorOutline, doorBuild},
		files: map[string]string{"build.toml": syntaxLine + "include = [\"ci/common.toml\"]\n[stages.a]\nfrom = \"busybox:1.36\"\n",
			"ci/common.toml": "[stages.base]\nfrom = \"busybox:1.36\"\nusr = \"nobody\"\n"}},
	{name: "a [lint] error rule", fail: []string{doorLint, doorLLB, doorCaches, doorCheck, doorBuild},
		files: map[string]string{"build.toml": syntaxLine + "[lint]\nerror = [\"UnpinnedBaseImage\"]\n[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\n"}},
	{name: "found by conversion", fail: []string{doorLint, doorLLB, doorCaches, doorCheck, doorOutline, doorBuild},
		files: map[string]string{"build.toml": syntaxLine + "[args]\nDIR = \"\"\n[stages.a]\nfrom = \"busybox:1.36\"\nargs = [\"DIR\"]\nworkdir = \"${DIR:?set DIR}\"\n"}},
}

// withoutWarned drops the errors at a place where the CLI warned by one of
// the rules only it reports: what a builder finds there and the CLI cannot
// know (a variable the base image's env lacks).
func withoutWarned(errors, warnings, cliOnly []string) []string {
	var kept []string
	for _, e := range errors {
		parts := strings.SplitN(e, ":", 4) // FILE:LINE:COL: message
		at := strings.Join(parts[:min(3, len(parts))], ":")
		if !slices.ContainsFunc(cliOnly, func(rule string) bool { return slices.Contains(warnings, rule+"@"+at) }) {
			kept = append(kept, e)
		}
	}
	return kept
}

// doorAnswer is what one door said: did it pass, its errors as
// FILE:LINE:COL: message lines, and its warnings as RULE@FILE:LINE:COL.
type doorAnswer struct {
	ok       bool
	errors   []string
	warnings []string
	// failing are the findings of rules the policy makes errors, as
	// RULE@FILE:LINE:COL: the CLI prints them among the errors; --call=check
	// lists them among the warnings too, as for a Dockerfile.
	failing []string
	output  string
}

// TestEveryDoor runs one corpus of specs through every door — tomlfront
// lint, llb and caches, buildx's --call=check and --call=outline, and a
// build — and requires the same verdict from each, and the same errors and
// warnings wherever two doors report them.
func TestEveryDoor(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	bin := goBuildTomlfront(t)
	for _, tc := range doorCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, tc.files)
			var buildArgs, buildContexts []string
			for _, a := range tc.args {
				buildArgs = append(buildArgs, "--build-arg", a)
			}
			if tc.extra != nil {
				buildContexts = []string{"--build-context", "extra=" + writeTree(t, tc.extra)}
			}
			answers := map[string]doorAnswer{}
			for _, door := range []string{doorLint, doorLLB, doorCaches} {
				answers[door] = cliDoor(t, bin, dir, door, buildArgs)
			}
			for _, door := range []string{doorCheck, doorOutline, doorBuild} {
				answers[door] = buildxDoor(t, dir, door, append(buildArgs, buildContexts...))
			}

			for _, door := range doors {
				if want := !slices.Contains(tc.fail, door); answers[door].ok != want {
					t.Errorf("%s: passed %v, want %v:\n%s", door, answers[door].ok, want, answers[door].output)
				}
			}
			// The CLI's doors print one list of problems; --call=check
			// answers the same, less what only the CLI can say.
			lintAnswer := answers[doorLint]
			for _, door := range []string{doorLLB, doorCaches} {
				if a := answers[door]; a.ok || len(a.errors) > 0 { // an error conversion finds stops before the rest
					if !slices.Equal(a.warnings, lintAnswer.warnings) {
						t.Errorf("warnings differ:\n%s: %q\n%s: %q", doorLint, lintAnswer.warnings, door, a.warnings)
					}
				}
			}
			check := answers[doorCheck]
			want := slices.Sorted(slices.Values(append(without(lintAnswer.warnings, tc.cliOnly), lintAnswer.failing...)))
			if !slices.Equal(check.warnings, want) {
				t.Errorf("warnings differ:\n%s: %q\n%s: %q", doorLint, want, doorCheck, check.warnings)
			}
			if !slices.Equal(withoutWarned(check.errors, lintAnswer.warnings, tc.cliOnly), lintAnswer.errors) {
				t.Errorf("errors differ:\n%s: %q\n%s: %q", doorLint, lintAnswer.errors, doorCheck, check.errors)
			}
			// A build reports each error the check finds (every case's
			// errors are in its target), and warns by rule.
			build := answers[doorBuild]
			for _, e := range check.errors {
				if !strings.Contains(build.output, e) {
					t.Errorf("the build does not report %q:\n%s", e, build.output)
				}
			}
			if check.ok {
				for _, w := range check.warnings {
					rule, _, _ := strings.Cut(w, "@")
					if !strings.Contains(build.output, rule+":") {
						t.Errorf("the build does not warn %s:\n%s", rule, build.output)
					}
				}
			}
			if tc.cliOnly != nil && !slices.ContainsFunc(lintAnswer.warnings, func(w string) bool { return strings.HasPrefix(w, tc.cliOnly[0]+"@") }) {
				t.Errorf("%s does not warn %s: %q", doorLint, tc.cliOnly[0], lintAnswer.warnings)
			}
		})
	}
}

// cliDoor runs a tomlfront command on dir's build.toml: its problems are
// the lines of stdout (lint) or stderr (llb, caches).
func cliDoor(t *testing.T, bin, dir, door string, buildArgs []string) doorAnswer {
	cmd := command(t, bin, append([]string{strings.TrimPrefix(door, "tomlfront "), "-f", "build.toml"}, buildArgs...)...)
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("%s: %v", door, err)
	}
	problems := stderr.String()
	if door == doorLint {
		problems = stdout.String()
	}
	a := doorAnswer{ok: err == nil, output: stdout.String() + stderr.String()}
	for line := range strings.Lines(problems) {
		line = strings.TrimSuffix(line, "\n")
		// FILE:LINE:COL: warning: MSG (RULE) → RULE@FILE:LINE:COL, and
		// FILE:LINE:COL: MSG (RULE, an error by ...) likewise.
		finding := func(line string) string {
			pos := strings.Split(line, ":")
			rule := line[strings.LastIndex(line, "(")+1:]
			rule, _, _ = strings.Cut(strings.TrimSuffix(rule, ")"), ",")
			return rule + "@" + pos[0] + ":" + pos[1] + ":" + pos[2]
		}
		switch {
		case strings.Contains(line, ": warning: "):
			a.warnings = append(a.warnings, finding(line))
		case line != "":
			a.errors = append(a.errors, line)
			if strings.HasSuffix(line, ", an error by the spec's [lint], TOMLFRONT_CHECK or BUILDKIT_DOCKERFILE_CHECK)") {
				a.failing = append(a.failing, finding(line))
			}
		}
	}
	slices.Sort(a.warnings)
	return a
}

// buildxDoor asks buildx: --call=check (its JSON answer), --call=outline,
// or a build with a local output.
func buildxDoor(t *testing.T, dir, door string, extra []string) doorAnswer {
	args := []string{"build", "-f", "build.toml"}
	switch door {
	case doorCheck:
		args = append(args, "--call=check,format=json")
	case doorOutline:
		args = append(args, "--call=outline")
	default:
		args = append(args, "--output", "type=local,dest="+filepath.Join(t.TempDir(), "out"))
	}
	out, err := buildx(dir, append(append(args, extra...), ".")...)
	a := doorAnswer{ok: err == nil, output: out}
	if door != doorCheck {
		return a
	}
	var res lint.LintResults
	// The JSON answer, then (for an invalid spec) buildx's ERROR lines.
	start := strings.Index(out, "{")
	if start < 0 {
		t.Fatalf("--call=check answered no JSON:\n%s", out)
	}
	if err := json.NewDecoder(strings.NewReader(out[start:])).Decode(&res); err != nil {
		t.Fatalf("--call=check answered no JSON (%v):\n%s", err, out)
	}
	if res.Error != nil {
		a.errors = strings.Split(res.Error.Message, "\n")
		if len(res.Error.Location.Ranges) == 0 {
			t.Errorf("--call=check: an error without a location")
		}
	}
	for _, w := range res.Warnings {
		start := w.Location.Ranges[0].Start // its Character counts from 0
		a.warnings = append(a.warnings, fmt.Sprintf("%s@%s:%d:%d", w.RuleName, res.Sources[w.Location.SourceIndex].Filename, start.Line, start.Character+1))
	}
	slices.Sort(a.warnings)
	// buildx fails a check with warnings, as for a Dockerfile: the verdict
	// is the error's.
	a.ok = res.Error == nil
	return a
}

// without is list less the entries of the rules given.
func without(list, rules []string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(w string) bool {
		rule, _, _ := strings.Cut(w, "@")
		return slices.Contains(rules, rule)
	})
}
