package frontend

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

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
	// timeout bounds the reading of a file from a named context: BuildKit
	// waits forever on a server that accepts a connection and never
	// answers.
	timeout time.Duration
	sources map[string]string // the build's --build-context NAME=SOURCE
}

// DefaultFetchTimeout is how long an include's context may take without
// TOMLFRONT_FETCH_TIMEOUT.
const DefaultFetchTimeout = 2 * time.Minute

// fetchTimeout reads --build-arg TOMLFRONT_FETCH_TIMEOUT.
func fetchTimeout(args map[string]string) (time.Duration, error) {
	v, ok := args[spec.ArgFetchTimeout]
	if !ok {
		return DefaultFetchTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--build-arg %s=%q: want a positive duration, as 90s or 5m (default %s)", spec.ArgFetchTimeout, v, DefaultFetchTimeout)
	}
	return d, nil
}

func (r *includes) read(ctx context.Context, inc spec.Include) ([]byte, error) {
	if inc.Context == "" {
		return r.readOwn(ctx, path.Join(path.Dir(r.main), inc.Path))
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	dt, err := r.readContext(ctx, inc)
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		source := r.sources[inc.Context]
		if source == "" && inc.Declared != nil {
			source = inc.Declared.Source.Value
		}
		return nil, fmt.Errorf("context %q (%s) did not answer in %s: is its server reachable? (--build-arg %s=DURATION waits longer)",
			inc.Context, source, r.timeout, spec.ArgFetchTimeout)
	}
	return dt, err
}

func (r *includes) readContext(ctx context.Context, inc spec.Include) ([]byte, error) {
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

// givenContexts are the build's named contexts (--build-context
// NAME=SOURCE), as dockerui reads them from the options.
func givenContexts(opts map[string]string) map[string]string {
	given := map[string]string{}
	for k, v := range opts {
		if name, ok := strings.CutPrefix(k, "context:"); ok {
			name, _, _ = strings.Cut(name, "::") // context:NAME::PLATFORM
			given[name] = v
		}
	}
	return given
}
