package lint

import (
	"context"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestRun(t *testing.T) {
	arm := []ocispecs.Platform{{OS: "linux", Architecture: "arm64"}}
	tests := []struct {
		name      string
		src       string
		opt       Options
		errors    []string // each FILE:LINE:COL: message, in order
		findings  []string // rule names, in order
		specKnown bool
	}{
		{name: "valid", src: "[stages.a]\nfrom = \"busybox:1.36\"\n", specKnown: true},
		{name: "invalid TOML", src: "[stages.a]\nfrom = 1979-02-30\n",
			errors: []string{"b.toml:2:8: invalid TOML: 1979-02-30 is not a date-time: impossible date"}},
		{name: "invalid spec", src: "[stages.a]\nform = \"busybox\"\n",
			errors: []string{"b.toml:1:1: stage \"a\" has no `from`", "b.toml:2:1: unknown key \"form\" in stage \"a\" (did you mean \"from\"?)"}},
		{name: "found by conversion", specKnown: true,
			src:      "[args]\nV = \"\"\n[stages.a]\nfrom = \"busybox:1.36\"\nargs = [\"V\"]\nworkdir = \"${V:?set V}\"\n",
			errors:   []string{"b.toml:6:11: "},
			findings: nil},
		{name: "for each platform", specKnown: true, opt: Options{Platforms: arm},
			src:    "[stages.a]\nfrom = \"busybox:1.36\"\nworkdir = \"/${TARGETARCH}\"\n[[stages.a.steps]]\nrun = \"true\"\nuser = \"${TARGETARCH:+x}${TARGETARCH:?}\"\n",
			errors: nil},
		{name: "findings and errors", specKnown: true,
			src:      "[args]\nTOKEN = \"\"\n[stages.a]\nfrom = \"busybox:1.36\"\nargs = [\"TOKEN\"]\nworkdir = \"${TOKEN:?no}\"\n",
			errors:   []string{"b.toml:6:11: "},
			findings: []string{"SecretsUsedInArgOrEnv"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Run(context.Background(), "b.toml", []byte(tc.src), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if (r.Spec != nil) != tc.specKnown {
				t.Errorf("spec loaded: %v, want %v", r.Spec != nil, tc.specKnown)
			}
			if len(r.Errors) != len(tc.errors) {
				t.Fatalf("errors %v, want %d", r.Errors, len(tc.errors))
			}
			for i, want := range tc.errors {
				if !strings.HasPrefix(r.Errors[i].Error(), want) {
					t.Errorf("error %d: %q, want prefix %q", i, r.Errors[i], want)
				}
			}
			var rules []string
			for _, f := range r.Findings {
				rules = append(rules, f.Rule.Name)
			}
			if strings.Join(rules, ",") != strings.Join(tc.findings, ",") {
				t.Errorf("findings %v, want %v", rules, tc.findings)
			}
			if got, want := len(r.Problems()), len(r.Errors)+len(r.Findings); got != want {
				t.Errorf("%d problems, want %d", got, want)
			}
		})
	}
}
