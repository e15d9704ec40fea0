package frontend

import (
	"context"
	"slices"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/subrequests/convertllb"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	digest "github.com/opencontainers/go-digest"
	"github.com/tomlfront/tomlfront/pipeline"
	"github.com/tomlfront/tomlfront/spec"
)

// The subrequests answer `docker buildx build --call=targets|outline|check`
// from the spec, as the Dockerfile frontend answers them from a Dockerfile.
// Locations point into the spec's files: the main one is source 0, and an
// included file is listed once a location points into it.

// convertLLB is the target's LLB for --call=convertllb, as the Dockerfile
// frontend returns its own: each op by digest, with the ops' metadata and
// the source map, marshalled for the builder's caps as a build would be.
func convertLLB(ctx context.Context, p *pipeline.Result, caps apicaps.CapSet) (*convertllb.Result, error) {
	res, err := p.Convert(ctx, p.Options(nil))
	if err != nil {
		return nil, err
	}
	def, err := res.State.Marshal(ctx, llb.WithCaps(caps))
	if err != nil {
		return nil, err
	}
	out := &convertllb.Result{Def: make(map[digest.Digest]*pb.Op, len(def.Def)), Metadata: def.Metadata, Source: def.Source}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, err
		}
		out.Def[digest.FromBytes(dt)] = &op
	}
	return out, nil
}

// listTargets lists every stage, the default marked.
func listTargets(s *spec.Spec, sm *llb.SourceMap) *targets.List {
	srcs := newSources(sm)
	list := &targets.List{}
	def := s.DefaultStage()
	for _, st := range s.Stages {
		list.Targets = append(list.Targets, targets.Target{
			Name:        st.Name,
			Default:     st == def,
			Description: st.Description,
			Base:        st.From.Value,
			Platform:    st.Platform.Value,
			Location:    srcs.location(s.Files, st.Header),
		})
	}
	list.Sources = srcs.data()
	return list
}

// outlineOf describes what building the target takes: its args with their
// values, the secrets and ssh agents it mounts, and its cache mounts by the
// ids BuildKit knows them by.
func outlineOf(ctx context.Context, p *pipeline.Result, sm *llb.SourceMap) (*outline.Outline, error) {
	s := p.Spec
	res, err := p.Convert(ctx, p.Options(nil))
	if err != nil {
		return nil, err
	}
	srcs := newSources(sm)
	location := func(r spec.Range) *pb.Location { return srcs.location(s.Files, r) }
	o := &outline.Outline{Name: res.Stage.Name, Description: res.Stage.Description}
	used := map[string]bool{}
	for _, st := range res.Uses.Stages {
		for _, name := range st.Refs {
			used[name] = true
		}
	}
	for _, cu := range res.Uses.Caches {
		if c := s.Cache(cu.Cache); c != nil {
			for _, name := range c.Refs {
				used[name] = true
			}
		}
	}
	for _, a := range s.Args {
		if used[a.Name] {
			desc := a.Description
			if a.Required.Value { // the outline has no field for it
				desc = strings.TrimSpace("(required) " + desc)
			}
			o.Args = append(o.Args, outline.Arg{Name: a.Name, Value: res.Args[a.Name], Description: desc, Location: location(a.Range())})
		}
	}
	for _, u := range res.Uses.Secrets {
		o.Secrets = append(o.Secrets, outline.Secret{Name: u.ID, Required: u.Required, Location: location(u.Range)})
	}
	for _, u := range res.Uses.SSH {
		o.SSH = append(o.SSH, outline.SSH{Name: u.ID, Required: u.Required, Location: location(u.Range)})
	}
	for _, cu := range res.Uses.Caches {
		if slices.ContainsFunc(o.Cache, func(c outline.CacheMount) bool { return c.ID == cu.ID }) {
			continue
		}
		o.Cache = append(o.Cache, outline.CacheMount{ID: cu.ID, Location: location(cu.Steps[0].Range)})
	}
	o.Sources = srcs.data()
	return o, nil
}

// lintResults are a check's findings and errors as `--call=check` prints
// them. LintResults holds one error: it says every problem, one a line, and
// its location covers all of their ranges.
func lintResults(p *pipeline.Result, sm *llb.SourceMap) *lint.LintResults {
	srcs := newSources(sm)
	res := &lint.LintResults{Warnings: []lint.Warning{}}
	errs := p.Errors
	if len(errs) > 0 {
		// One location: the ranges of the problems in the first one's file.
		res.Error = &lint.BuildError{Message: errs.Error()}
		first := srcs.info(errs[0])
		res.Error.Location.SourceIndex = srcs.index[first.Filename]
		for _, e := range errs {
			if srcs.info(e) == first {
				res.Error.Location.Ranges = append(res.Error.Location.Ranges, pbRanges(e)...)
			}
		}
	}
	for _, f := range p.Findings {
		res.Warnings = append(res.Warnings, lint.Warning{
			RuleName:    f.Rule.Name,
			Description: f.Rule.Description,
			URL:         f.Rule.DocsURL(),
			Detail:      f.Msg,
			Location:    srcs.location(p.Spec.Files, f.Range),
		})
	}
	res.Sources = srcs.infos
	return res
}
