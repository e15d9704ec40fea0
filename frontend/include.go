package frontend

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/llbgen"
	"github.com/tomlfront/tomlfront/spec"
)

// includes reads the files a spec includes: from the context that holds the
// spec (dockerui's dockerfile context, asking for that one file only) or
// from a named context, as --build-context gives it or [contexts] declares
// it.
type includes struct {
	bc       *dockerui.Client
	client   client.Client
	main     string // the spec's path in its context
	platform ocispecs.Platform
	opt      *llbgen.Options // the resolver and the daemon's caps
}

func (r *includes) read(ctx context.Context, inc spec.Include) ([]byte, error) {
	if inc.Context == "" {
		return r.readOwn(ctx, path.Join(path.Dir(r.main), inc.Path))
	}
	st, _, err := llbgen.NamedContext(ctx, inc.Context, inc.Declared, r.platform, r.opt)
	if err != nil {
		return nil, fmt.Errorf("context %q: %w", inc.Context, err)
	}
	def, err := st.Marshal(ctx, llb.WithCaps(*r.opt.LLBCaps))
	if err != nil {
		return nil, err
	}
	dt, err := r.readFrom(ctx, def, inc.Path)
	if err != nil {
		return nil, fmt.Errorf("context %q: %w", inc.Context, err)
	}
	return dt, nil
}

// readOwn reads p from the spec's own context. dockerui knows how the build
// sent the spec (a local directory, a git repository, an input); asked
// again with FollowPaths naming p too, it transfers just those files.
func (r *includes) readOwn(ctx context.Context, p string) ([]byte, error) {
	src, err := r.bc.ReadEntrypoint(ctx, "toml", llb.FollowPaths([]string{r.main, p}))
	if err != nil {
		return nil, err
	}
	return r.readFrom(ctx, src.SourceMap.Definition, p)
}

func (r *includes) readFrom(ctx context.Context, def *llb.Definition, p string) ([]byte, error) {
	res, err := r.client.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	return ref.ReadFile(ctx, client.ReadRequest{Filename: p})
}

// givenContexts are the names of the build's named contexts
// (--build-context NAME=...), as dockerui reads them from the options.
func givenContexts(opts map[string]string) []string {
	var names []string
	for k := range opts {
		if name, ok := strings.CutPrefix(k, "context:"); ok {
			name, _, _ = strings.Cut(name, "::") // context:NAME::PLATFORM
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
