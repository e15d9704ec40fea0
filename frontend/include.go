package frontend

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
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
	st, _, ok, err := r.opt.Resolver.NamedContext(ctx, inc.Context, r.platform)
	switch {
	case err != nil:
		return nil, fmt.Errorf("context %q: %w", inc.Context, err)
	case !ok && inc.Declared == nil:
		return nil, fmt.Errorf("the build has no context named %q: declare it in [contexts], or pass --build-context %s=<dir|docker-image://ref|git URL>", inc.Context, inc.Context)
	case !ok:
		if st, _, err = llbgen.ContextSource(ctx, inc.Declared, r.platform, r.opt); err != nil {
			return nil, err
		}
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
		if name, ok := strings.CutPrefix(k, "context:"); ok && !strings.Contains(name, "::") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// sources are the source infos of the spec's files in a subrequest's
// answer, the main one first: a location's SourceIndex points into them.
type sources struct {
	main  *llb.SourceMap
	infos []*pb.SourceInfo
	index map[string]int32
}

func newSources(main *llb.SourceMap) *sources {
	s := &sources{main: main, index: map[string]int32{}}
	s.add(main.Filename, main.Data)
	return s
}

// add returns the index of file, adding it when new.
func (s *sources) add(file string, data []byte) int32 {
	if i, ok := s.index[file]; ok {
		return i
	}
	info := &pb.SourceInfo{Filename: file, Data: data, Language: s.main.Language}
	if file == s.main.Filename && s.main.Definition != nil {
		info.Definition = s.main.Definition.ToPB()
	}
	i := int32(len(s.infos))
	s.infos, s.index[file] = append(s.infos, info), i
	return i
}

// location is r of the spec's files.
func (s *sources) location(files spec.Files, r spec.Range) *pb.Location {
	f := files[r.File]
	return &pb.Location{SourceIndex: s.add(f.Name, f.Source), Ranges: []*pb.Range{llbgen.PBRange(orPos(r, r.Start))}}
}

// data are the sources' texts, as targets and outline list them.
func (s *sources) data() [][]byte {
	out := make([][]byte, len(s.infos))
	for i, info := range s.infos {
		out[i] = info.Data
	}
	return out
}

// info is the source of an error: its own file, else the main one.
func (s *sources) info(e *spec.Error) *pb.SourceInfo {
	if e.File == "" {
		return s.infos[0]
	}
	return s.infos[s.add(e.File, e.Source)]
}

// orPos is r, or the empty range at pos when r is unknown.
func orPos(r spec.Range, pos spec.Pos) spec.Range {
	if r.Start.Line == 0 {
		return spec.Range{File: r.File, Start: pos, End: pos}
	}
	return r
}
