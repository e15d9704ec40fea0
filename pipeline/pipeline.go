// Package pipeline is the one road from a spec's text to its LLB: load the
// spec (each included file read once), run the lint rules under the team's
// policy ([lint] or TOMLFRONT_CHECK), check the required args, check that
// every stage converts for every target platform, and convert the target.
// Every door takes it: the frontend's build and each of its --call
// handlers, and every tomlfront command. No other code wires these steps,
// so every door gives the same answer for the same spec.
//
// It imports spec, lint and llbgen. It must not import a gateway client or
// reach the network itself: what comes from outside the spec comes through
// the request's spec.ReadFunc and llbgen.Resolver.
package pipeline

import (
	"context"
	"errors"
	"slices"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/lint"
	"github.com/tomlfront/tomlfront/llbgen"
	"github.com/tomlfront/tomlfront/spec"
)

// Request is what a door asks of a spec.
type Request struct {
	// File names the main spec file in messages; its directory is the root
	// of the spec's own context.
	File   string
	Source []byte
	// Read reads the files the spec includes; nil when it can include none.
	Read spec.ReadFunc
	// Options are the build's conversion options. Options.TargetPlatform is
	// left nil: the pipeline sets it for each of Platforms.
	Options llbgen.Options
	// Platforms are the build's target platforms (--platform a,b); none
	// means the build platform's.
	Platforms []ocispecs.Platform
	// Contexts are the names of the named contexts the build is given
	// (--build-context NAME=...).
	Contexts []string
	// Offline is set by the doors that run without a builder (the CLI):
	// images are used by name, the given contexts are local sources of
	// the same name, and a context that [contexts] does not declare and
	// the request does not give is taken as one a build will give, with a
	// warning (UndeclaredContext) instead of an error: [contexts] is
	// additive. So is a variable declared nowhere, which a base image's
	// env may set (UndeclaredVariable).
	Offline bool
}

// Result is a loaded spec and what the pipeline found in it.
type Result struct {
	req Request
	// Spec is the loaded spec; nil when it does not load.
	Spec *spec.Spec
	// Findings are the rules' findings, sorted by position; those the
	// policy makes errors are in Errors too.
	Findings []lint.Finding
	// Errors fail the build: the spec's own problems, unknown rules in the
	// policy, the findings of rules it makes errors, required args left
	// unset, and after Check what only conversion finds. Sorted by file
	// and position.
	Errors spec.Errors
}

// Run loads the spec and runs, in order, the rules, the policy and the
// check of required args. Problems of the spec are in the result; the
// error is for what is not the spec's (a cancelled ctx, an include that
// could not be read for a reason of the builder's).
func Run(ctx context.Context, req Request) (*Result, error) {
	if req.Offline {
		req.Options.Resolver = nil // set below, once the spec's contexts are known
	}
	r := &Result{req: req}
	s, err := spec.LoadWith(ctx, req.File, req.Source, req.Read)
	if err != nil {
		if !errors.As(err, &r.Errors) {
			return nil, err
		}
		return r, nil
	}
	r.Spec = s
	if req.Offline {
		r.req.Options.Resolver = llbgen.Offline{Contexts: r.offlineContexts()}
	}
	r.Findings, err = lint.Check(s, lint.Options{
		BuildArgs: req.Options.BuildArgs, Platforms: req.Platforms, BuildPlatform: req.Options.BuildPlatform,
		Contexts: req.Contexts, Offline: req.Offline,
	})
	if err != nil {
		if !collect(&r.Errors, err) {
			return nil, err
		}
	}
	r.Errors = append(r.Errors, lint.Failing(s.Files, r.Findings)...)
	if err := s.CheckRequiredArgs(req.Options.BuildArgs); err != nil {
		collect(&r.Errors, err)
	}
	r.Errors.Sort()
	return r, nil
}

// offlineContexts are the contexts an offline conversion reads as local
// sources: those given, and those used but neither declared nor given,
// which a build must give.
func (r *Result) offlineContexts() []string {
	names := slices.Clone(r.req.Contexts)
	for _, ref := range r.Spec.ContextRefs() {
		if r.Spec.Context(ref.Name) == nil {
			names = append(names, ref.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// collect appends err's problems of the spec to errs; false when err is
// not the spec's.
func collect(errs *spec.Errors, err error) bool {
	var list spec.Errors
	var one *spec.Error
	switch {
	case errors.As(err, &list):
		*errs = append(*errs, list...)
	case errors.As(err, &one):
		*errs = append(*errs, one)
	default:
		return false
	}
	return true
}

// Err is what fails the build, nil when nothing does.
func (r *Result) Err() error {
	if len(r.Errors) == 0 {
		return nil
	}
	return r.Errors
}

// Problems are the errors and the findings, as problems of the spec's
// files, sorted by file and position: what `tomlfront lint` prints.
func (r *Result) Problems() spec.Errors {
	all := slices.Clone(r.Errors)
	for _, f := range r.Findings {
		if !f.Fails { // those that fail are among the errors
			all = append(all, f.Error(r.Spec.Files))
		}
	}
	all.Sort()
	return all
}

// Options are the request's conversion options for one target platform
// (nil: the default), for a door to adjust before Convert.
func (r *Result) Options(platform *ocispecs.Platform) llbgen.Options {
	opt := r.req.Options
	opt.TargetPlatform = platform
	return opt
}

// Convert converts the loaded spec's target with opt (from Options).
func (r *Result) Convert(ctx context.Context, opt llbgen.Options) (*llbgen.Result, error) {
	return llbgen.Convert(ctx, r.Spec, opt)
}

// Check converts every stage for each target platform, as a build of each
// would, so that what only conversion finds (a ${VAR:?message}, a context
// the build lacks, an image that does not resolve) is in Errors too. It
// does nothing when the spec already fails: a build stops there too. The
// error is for what is not the spec's.
func (r *Result) Check(ctx context.Context) error {
	if r.Spec == nil || len(r.Errors) > 0 {
		return nil
	}
	targets := llbgen.TargetPlatforms(r.req.Platforms)
	seen := map[string]bool{}
	for _, st := range r.Spec.Stages {
		for _, p := range targets {
			opt := r.Options(p)
			opt.Target = st.Name
			_, err := r.Convert(ctx, opt)
			if err == nil {
				continue
			}
			var found spec.Errors
			if !collect(&found, err) {
				return err
			}
			for _, e := range found {
				if !seen[e.Error()] {
					seen[e.Error()] = true
					r.Errors = append(r.Errors, e)
				}
			}
		}
	}
	r.Errors.Sort()
	return nil
}
