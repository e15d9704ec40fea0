package frontend

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/gitutil/gitobject"
	"github.com/tomlfront/tomlfront/pipeline"
	"github.com/tomlfront/tomlfront/spec"
)

// sourceDateEpoch resolves --build-arg SOURCE_DATE_EPOCH as the Dockerfile
// frontend does: a number of seconds; "context", the time of the build
// context (a git context's commit, an http one's Last-Modified); the name
// of a named context; or the name of a stage from scratch whose one step
// adds a git or http(s) source, whose time it is. nil when the build has
// no SOURCE_DATE_EPOCH or its source tells no time. The result's epoch is
// what the exporters then use for the image's created time and its files.
func sourceDateEpoch(ctx context.Context, bc *dockerui.Client, c client.Client, p *pipeline.Result) (*time.Time, error) {
	v := bc.BuildArgs[spec.ArgSourceDateEpoch]
	if v == "" {
		return nil, nil
	}
	if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
		t := time.Unix(sec, 0).UTC()
		return &t, nil
	}
	if v == "context" {
		return bc.ResolveMainContextSourceDateEpoch(ctx)
	}
	var st *llb.State
	logName := "[internal] resolve SOURCE_DATE_EPOCH named context " + v
	if nc, err := bc.NamedContext(v, dockerui.ContextOpt{}); err != nil {
		return nil, err
	} else if nc != nil {
		if st, _, err = nc.Load(ctx); err != nil {
			return nil, err
		}
	} else if stage := p.Spec.Stage(v); stage != nil {
		if st, err = epochStage(ctx, p, stage); err != nil {
			return nil, err
		}
		logName = "[internal] resolve SOURCE_DATE_EPOCH source stage " + v
	} else {
		return nil, fmt.Errorf("invalid SOURCE_DATE_EPOCH %q: give seconds since 1970, \"context\", a named context or a stage of the spec%s", v, spec.DidYouMean(v, p.Spec.StageNames()))
	}
	return sourceTime(ctx, c, st, logName)
}

// epochStage is the source of a stage that SOURCE_DATE_EPOCH names: from
// scratch, with one step that adds one git or http(s) source.
func epochStage(ctx context.Context, p *pipeline.Result, st *spec.Stage) (*llb.State, error) {
	remote := len(st.Steps) == 1 && st.Steps[0].Kind == spec.StepAdd && len(st.Steps[0].Sources.Values) == 1 &&
		spec.SourceKindOf(st.Steps[0].Sources.Values[0].Value) != spec.SourceLocal
	if st.From.Value != "scratch" || !remote {
		return nil, p.Spec.ErrorAt(st.Header, "SOURCE_DATE_EPOCH names stage %q, which must be from \"scratch\" with one step that adds one git or http(s) source", st.Name)
	}
	opt := p.Options(nil)
	opt.Target = st.Name
	res, err := p.Convert(ctx, opt)
	if err != nil {
		return nil, err
	}
	return &res.State, nil
}

// sourceTime is the time of the one source st is made of: a git commit's
// committer time or an http download's Last-Modified.
func sourceTime(ctx context.Context, c client.Client, st *llb.State, logName string) (*time.Time, error) {
	if st == nil {
		return nil, nil
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	var src *pb.SourceOp
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, err
		}
		if s := op.GetSource(); s != nil {
			if src != nil {
				return nil, nil // several sources: no one time
			}
			src = &pb.SourceOp{Identifier: s.Identifier, Attrs: s.Attrs}
		}
	}
	if src == nil {
		return nil, nil
	}
	opt := sourceresolver.Opt{LogName: logName}
	if strings.HasPrefix(src.Identifier, "git://") {
		opt.GitOpt = &sourceresolver.ResolveGitOpt{ReturnObject: true}
	}
	md, err := c.ResolveSourceMetadata(ctx, src, opt)
	if err != nil {
		return nil, err
	}
	if md.Git != nil && len(md.Git.CommitObject) > 0 {
		obj, err := gitobject.Parse(md.Git.CommitObject)
		if err != nil {
			return nil, err
		}
		commit, err := obj.ToCommit()
		if err != nil {
			return nil, err
		}
		t := commit.Committer.When.UTC()
		return &t, nil
	}
	if md.HTTP != nil && md.HTTP.LastModified != nil {
		t := md.HTTP.LastModified.UTC()
		return &t, nil
	}
	return nil, nil
}
