package lint

import (
	"context"
	"errors"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/llbgen"
	"github.com/tomlfront/tomlfront/spec"
)

// Report is everything one check of a spec finds.
type Report struct {
	// Spec is the loaded spec; nil when it does not load.
	Spec *spec.Spec
	// Errors fail a build: invalid TOML, a spec that breaks the language's
	// rules, and what only conversion finds (a ${VAR:?message}, a stage
	// cycle, ...). Sorted by position.
	Errors spec.Errors
	// Findings are the rules' warnings, sorted by position.
	Findings []Finding
}

// Problems lists the errors and the findings, as errors of the spec's
// files, sorted by file and position.
func (r *Report) Problems() spec.Errors {
	all := append(spec.Errors{}, r.Errors...)
	for _, f := range r.Findings {
		all = append(all, f.Error(r.Spec.Files))
	}
	all.Sort()
	return all
}

// Run is the one check behind `tomlfront lint` and `--call=check`: it
// loads the spec, runs the rules on it, and converts every stage for each
// of opt.Platforms offline (no image is resolved), so that problems only
// conversion finds show too. Errors that are not the spec's own (a
// cancelled ctx) are returned as the error.
func Run(ctx context.Context, file string, src []byte, opt Options) (*Report, error) {
	s, err := spec.LoadWith(ctx, file, src, opt.Read)
	if err != nil {
		var errs spec.Errors
		if !errors.As(err, &errs) {
			return nil, err
		}
		return &Report{Errors: errs}, nil
	}
	findings, err := Check(s, opt)
	var policyErrs spec.Errors
	switch {
	case errors.As(err, &policyErrs): // unknown rules in [lint]
	case err != nil:
		return nil, err
	}
	r := &Report{Spec: s, Findings: findings, Errors: policyErrs}
	targets := opt.Platforms
	if len(targets) == 0 {
		targets = []ocispecs.Platform{{}} // llbgen's default: this machine's
	}
	seen := map[string]bool{}
	for _, st := range s.Stages {
		for _, p := range targets {
			copt := llbgen.Options{Target: st.Name, BuildArgs: opt.BuildArgs, BuildPlatform: opt.BuildPlatform,
				Resolver: llbgen.Offline{Contexts: opt.Contexts}}
			if p.OS != "" {
				copt.TargetPlatform = &p
			}
			_, err := llbgen.Convert(ctx, s, copt)
			var e *spec.Error
			switch {
			case err == nil:
			case errors.As(err, &e):
				if !seen[e.Error()] {
					seen[e.Error()] = true
					r.Errors = append(r.Errors, e)
				}
			default:
				return nil, err
			}
		}
	}
	r.Errors.Sort()
	return r, nil
}
