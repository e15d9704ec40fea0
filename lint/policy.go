package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/tomlfront/tomlfront/spec"
)

// policy says which rules are reported and which fail the build.
type policy struct {
	skipAll  bool
	skip     map[string]bool
	errorAll bool
	errors   map[string]bool
}

func (p policy) skips(r Rule) bool { return p.skipAll || p.skip[r.Name] }
func (p policy) fails(r Rule) bool { return p.errorAll || p.errors[r.Name] }

// policyOf is the spec's [lint], with BUILDKIT_DOCKERFILE_CHECK applied to
// the rules that correspond to a Dockerfile's; or the build's
// TOMLFRONT_CHECK when given, which replaces both (parsed by BuildKit's own
// parser of the Dockerfile's check options). Unknown rule names are errors,
// at the name in the spec.
func policyOf(s *spec.Spec, buildArgs map[string]string) (policy, error) {
	p := policy{skip: map[string]bool{}, errors: map[string]bool{}}
	if check, ok := buildArgs[spec.ArgCheck]; ok {
		cfg, err := linter.ParseLintOptions(check)
		if err != nil {
			return p, fmt.Errorf("--build-arg %s=%q: %w", spec.ArgCheck, check, err)
		}
		for _, name := range cfg.SkipRules {
			if ruleNamed(name) == nil {
				return p, fmt.Errorf("--build-arg %s=%q: unknown rule %q%s; rules: %s", spec.ArgCheck, check, name, spec.DidYouMean(name, ruleNames()), strings.Join(ruleNames(), ", "))
			}
			p.skip[name] = true
		}
		p.skipAll, p.errorAll = cfg.SkipAll, cfg.ReturnAsError
		return p, nil
	}
	var errs spec.Errors
	names := func(list spec.Strings, into map[string]bool) {
		for _, n := range list.Values {
			if ruleNamed(n.Value) == nil {
				errs = append(errs, s.ErrorAt(n.Loc.Value, "unknown lint rule %q%s; rules: %s", n.Value, spec.DidYouMean(n.Value, ruleNames()), strings.Join(ruleNames(), ", ")))
			}
			into[n.Value] = true
		}
	}
	names(s.Lint.Skip, p.skip)
	names(s.Lint.Error, p.errors)
	p.errorAll = s.Lint.ErrorAll.Value
	if errs != nil {
		return p, errs
	}
	// A builder's or CI's options for Dockerfiles apply to the rules that
	// correspond to the Dockerfile's, on top of [lint].
	if check, ok := buildArgs[spec.ArgDockerfileCheck]; ok {
		c, err := ParseDockerfileCheck(check)
		if err != nil {
			return p, fmt.Errorf("--build-arg %s=%q: %w", spec.ArgDockerfileCheck, check, err)
		}
		for _, name := range c.Skip {
			p.skip[name] = true
		}
		for _, name := range c.Error {
			p.errors[name] = true
		}
	}
	return p, nil
}

// ruleNamed returns the rule of that name, or nil.
func ruleNamed(name string) *Rule {
	if i := slices.IndexFunc(Rules, func(r Rule) bool { return r.Name == name }); i >= 0 {
		return &Rules[i]
	}
	return nil
}

func ruleNames() []string {
	names := make([]string, len(Rules))
	for i, r := range Rules {
		names[i] = r.Name
	}
	return names
}
