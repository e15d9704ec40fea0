// Package frontend is the BuildKit gateway frontend: it reads the spec from
// the build's dockerfile context through dockerui, converts it with llbgen
// for each target platform, and solves it.
package frontend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/convertllb"
	sublint "github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/identity"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/internal/crash"
	"github.com/tomlfront/tomlfront/llbgen"
	"github.com/tomlfront/tomlfront/pipeline"
	"github.com/tomlfront/tomlfront/spec"
)

// DefaultFilename is the spec read when the build names none (-f).
const DefaultFilename = "build.toml"

// Build is the gateway build function: grpcclient.RunFromEnvironment runs it
// when BuildKit starts the frontend image, and client.Build can run it
// in-process.
func Build(ctx context.Context, c client.Client) (_ *client.Result, err error) {
	defer crash.Recover(&err)
	injectPanic(c, "frontend")
	c = &resolveCache{Client: withDefaultFilename{c}}
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	src, err := bc.ReadEntrypoint(ctx, "toml")
	if err != nil {
		return nil, err
	}
	sm := src.SourceMap
	cacheExport, err := CacheExportRequested(bc.BuildArgs)
	if err != nil {
		return nil, err
	}
	runID, started := identity.NewID(), time.Now() // one build, every platform
	llbCaps := c.BuildOpts().LLBCaps
	res := &resolver{bc: bc, client: c, multiPlatform: bc.MultiPlatformRequested}
	options := func(platform *ocispecs.Platform) llbgen.Options {
		return llbgen.Options{
			RunID:           runID,
			Started:         started,
			CacheExport:     cacheExport,
			Target:          bc.Target,
			BuildArgs:       maps.Clone(bc.BuildArgs),
			TargetPlatform:  platform,
			BuildPlatform:   &bc.BuildPlatforms[0],
			CacheNamespace:  bc.CacheIDNamespace,
			Labels:          bc.Labels,
			PlatformInNames: bc.MultiPlatformRequested,
			NoCache:         bc.IsNoCache,
			Network:         bc.NetworkMode,
			Run: llbgen.RunOptions{
				ExtraHosts: bc.ExtraHosts, Ulimits: bc.Ulimits, ShmSize: bc.ShmSize,
				CgroupParent: bc.CgroupParent, Devices: bc.Devices, Hostname: bc.Hostname, LinuxResources: bc.LinuxResources,
			},
			Resolver:  res,
			LLBCaps:   &llbCaps,
			GitAdvice: bc.GitAdvice,
		}
	}
	timeout, err := fetchTimeout(bc.BuildArgs)
	if err != nil {
		return nil, err
	}
	given := givenContexts(c.BuildOpts().Opts)
	inc := &includes{bc: bc, client: c, main: sm.Filename, platform: bc.BuildPlatforms[0],
		opt: &llbgen.Options{Resolver: res, LLBCaps: &llbCaps}, timeout: timeout, sources: given}
	p, err := pipeline.Run(ctx, pipeline.Request{File: sm.Filename, Source: sm.Data, Read: inc.read,
		Options: options(nil), Platforms: bc.TargetPlatforms, Contexts: slices.Sorted(maps.Keys(given))})
	if err != nil {
		return nil, err
	}
	loaded := func() error {
		if p.Spec == nil {
			return withSource(p.Err(), sm)
		}
		return nil
	}
	if res, ok, err := bc.HandleSubrequest(ctx, dockerui.RequestHandler{
		ListTargets: func(context.Context) (*targets.List, error) {
			if err := loaded(); err != nil {
				return nil, err
			}
			return listTargets(p.Spec, sm), nil
		},
		Outline: func(ctx context.Context) (*outline.Outline, error) {
			if err := loaded(); err != nil {
				return nil, err
			}
			o, err := outlineOf(ctx, p, sm)
			return o, withSource(err, sm)
		},
		ConvertLLB: func(ctx context.Context) (*convertllb.Result, error) {
			if err := loaded(); err != nil {
				return nil, err
			}
			if err := p.Err(); err != nil {
				return nil, withSource(err, sm)
			}
			res, err := convertLLB(ctx, p, llbCaps)
			return res, withSource(err, sm)
		},
		// The same check as `tomlfront lint`: an invalid spec is a result
		// with its errors, not a failed request.
		Lint: func(ctx context.Context) (*sublint.LintResults, error) {
			if err := p.Check(ctx); err != nil {
				return nil, err
			}
			return lintResults(p, sm), nil
		},
	}); err != nil || ok {
		return res, err
	}
	if err := loaded(); err != nil {
		return nil, err
	}
	srcs := newSources(sm)
	for _, f := range p.Findings {
		e := f.Error(p.Spec.Files) // shown with the lines of its own file
		src.Warn(ctx, fmt.Sprintf("%s: %s (%s:%d)", f.Rule.Name, f.Msg, e.File, f.Range.Start.Line), client.WarnOpts{
			SourceInfo: srcs.info(e), Range: pbRanges(e), Detail: [][]byte{[]byte(f.Rule.Description)}, URL: f.Rule.DocsURL(),
		})
	}
	// Before anything runs: the findings of the rules the spec makes
	// errors, and a template's required args.
	if err := p.Err(); err != nil {
		return nil, withSource(err, sm)
	}

	epoch, err := sourceDateEpoch(ctx, bc, c, p)
	if err != nil {
		return nil, withSource(err, sm)
	}
	scans, err := newSBOMScans(ctx, bc, c)
	if err != nil {
		return nil, err
	}
	// Platforms build at once: the helper is resolved once, by the first.
	helper := sync.OnceValues(func() (*llb.State, error) { return helperImage(ctx, c, bc.BuildPlatforms[0]) })
	var persisted, stale atomic.Bool // of any platform's build
	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, idx int) (_ *dockerui.BuildResult, err error) {
		defer crash.Recover(&err) // each platform builds in a goroutine of its own
		injectPanic(c, "platform")
		opt := p.Options(platform)
		snapshot, err := cacheSnapshot(ctx, bc, platform) // platforms build at once: no shared err
		if err != nil {
			return nil, err
		}
		opt.CacheSnapshot = snapshot
		if snapshot != nil || opt.CacheExport != llbgen.NoCacheExport {
			if opt.Helper, err = helper(); err != nil {
				return nil, err
			}
		}
		res, err := p.Convert(ctx, opt)
		if err != nil {
			return nil, withSource(err, sm)
		}
		holds := func(dirs []string) ([]string, error) { return snapshotHolds(ctx, bc, c, platform, dirs) }
		ref, current, err := solveSeeding(ctx, res, opt, holds, func(ctx context.Context, st llb.State, evaluate bool) (client.Reference, error) {
			// With the daemon's caps, the definition asks for no more than
			// that BuildKit has.
			def, err := st.Marshal(ctx, llb.WithCaps(llbCaps))
			if err != nil {
				return nil, err
			}
			// Without CacheImports, --cache-from would be silently ignored.
			r, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: bc.CacheImports, Evaluate: evaluate})
			if err != nil {
				return nil, err
			}
			return r.SingleRef()
		})
		if err != nil {
			return nil, err
		}
		if opt.CacheExport == llbgen.ExportChanged && res.Snapshot != nil {
			if ref, err = withoutEmptyExport(ctx, c, ref, res.Snapshot.Dirs()); err != nil {
				return nil, err
			}
		}
		if res.Snapshot != nil {
			persisted.Store(true)
			if !current {
				stale.Store(true)
			}
		}
		scans.record(platform, res)
		return &dockerui.BuildResult{Reference: ref, Image: res.Image, Epoch: epoch}, nil
	})
	if err != nil {
		return nil, err
	}
	if err := scans.attach(ctx, c, rb); err != nil {
		return nil, err
	}
	out, err := rb.Finalize()
	if err == nil && persisted.Load() {
		state := SnapshotCurrent
		if stale.Load() {
			state = SnapshotStale
		}
		out.AddMeta(SnapshotMetadata, []byte(state))
	}
	return out, err
}

// injectPanic is a test hook: --build-arg TOMLFRONT_TEST_PANIC=frontend
// (or =platform) makes the frontend panic at the start of the build (or in
// a platform's conversion), so the tests can see what a user sees of a bug.
func injectPanic(c client.Client, where string) {
	if c.BuildOpts().Opts["build-arg:"+spec.ArgTestPanic] == where {
		panic("panic injected by --build-arg " + spec.ArgTestPanic + "=" + where)
	}
}

// CacheSnapshotContext is the named context that seeds persisted caches:
// --build-context tomlfront-cache=<dir|docker-image://...|oci-layout://...>.
const CacheSnapshotContext = "tomlfront-cache"

// SnapshotMetadata is the key, in the metadata of the result of a build
// with persisted caches, that tells a CI workflow whether to export them:
// SnapshotCurrent when the snapshot it was given is current for every one,
// on every platform (the builder had none of them and no step that mounts
// one ran: an auto export would write nothing), else SnapshotStale.
// BuildKit hands keys that start with "frontend." to the client: buildx
// writes them to --metadata-file, build-push-action to its metadata output.
const (
	SnapshotMetadata = "frontend.tomlfront.snapshot"
	SnapshotCurrent  = "current"
	SnapshotStale    = "stale"
)

// CacheExportRequested reads --build-arg TOMLFRONT_CACHE_EXPORT: 1 (or
// true) exports every persisted cache, auto those that changed since the
// snapshot the build was given.
func CacheExportRequested(args map[string]string) (llbgen.CacheExport, error) {
	v := args[spec.ArgCacheExport]
	if v == "" {
		return llbgen.NoCacheExport, nil
	}
	if strings.EqualFold(v, "auto") {
		return llbgen.ExportChanged, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return llbgen.NoCacheExport, fmt.Errorf("TOMLFRONT_CACHE_EXPORT=%q: write 1 (or true) to export the persisted caches, auto to export those that changed since the snapshot given, 0 not to", v)
	}
	if on {
		return llbgen.ExportAll, nil
	}
	return llbgen.NoCacheExport, nil
}

// cacheSnapshot returns the tomlfront-cache context, or nil when the build
// has none.
func cacheSnapshot(ctx context.Context, bc *dockerui.Client, platform *ocispecs.Platform) (*llb.State, error) {
	nc, err := bc.NamedContext(CacheSnapshotContext, dockerui.ContextOpt{Platform: platform})
	if err != nil || nc == nil {
		return nil, err
	}
	st, _, err := nc.Load(ctx)
	return st, err
}

// snapshotHolds returns which of dirs the build's snapshot holds an archive
// of (or a tree, as older exports wrote them), moving only their .info
// files (and older trees) of a snapshot in a local directory: a snapshot
// that a CI run restored empty, or without a cache, then costs no probe and
// no step waits for a seed that would find nothing. A snapshot of another
// kind (an image, an OCI layout) is taken to hold them all: listing it
// would pull it.
func snapshotHolds(ctx context.Context, bc *dockerui.Client, c client.Client, platform *ocispecs.Platform, dirs []string) ([]string, error) {
	if !strings.HasPrefix(c.BuildOpts().Opts["context:"+CacheSnapshotContext], "local:") {
		return dirs, nil
	}
	paths := make([]string, 0, 2*len(dirs))
	for _, d := range dirs {
		paths = append(paths, d+".tar.info", d)
	}
	nc, err := bc.NamedContext(CacheSnapshotContext, dockerui.ContextOpt{Platform: platform, NoDockerignore: true,
		AsyncLocalOpts: func() []llb.LocalOption {
			return []llb.LocalOption{llb.FollowPaths(paths), llb.SharedKeyHint("tomlfront-cache-listing"),
				llb.WithCustomName("[context " + CacheSnapshotContext + "] which caches does the snapshot hold?")}
		}})
	if err != nil || nc == nil {
		return nil, err
	}
	st, _, err := nc.Load(ctx)
	if err != nil {
		return nil, err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), Evaluate: true})
	if err != nil {
		return nil, err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	var held []string
	for _, d := range dirs {
		if _, err := ref.StatFile(ctx, client.StatRequest{Path: d + ".tar.info"}); err == nil {
			held = append(held, d)
		} else if st, err := ref.StatFile(ctx, client.StatRequest{Path: d}); err == nil && fs.FileMode(st.Mode).IsDir() {
			held = append(held, d)
		}
	}
	return held, nil
}

// withDefaultFilename makes dockerui read build.toml, not Dockerfile, when
// the build names no file.
type withDefaultFilename struct{ client.Client }

func (c withDefaultFilename) BuildOpts() client.BuildOpts {
	opts := c.Client.BuildOpts()
	if opts.Opts["filename"] == "" {
		opts.Opts = maps.Clone(opts.Opts)
		if opts.Opts == nil {
			opts.Opts = map[string]string{}
		}
		opts.Opts["filename"] = DefaultFilename
	}
	return opts
}

// withSource attaches the text of the spec's files and the ranges of its
// problems to err, so buildx and buildctl print FILE:LINE and the snippet
// of the file each problem is in.
func withSource(err error, sm *llb.SourceMap) error {
	var list spec.Errors
	var one *spec.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = spec.Errors{one}
	default:
		return err
	}
	// The first problem innermost, as the Dockerfile frontend wraps its
	// locations: errdefs.Sources then lists them in the order of the file.
	srcs := newSources(sm)
	for _, e := range list {
		err = errdefs.WithSource(err, &errdefs.Source{Info: srcs.info(e), Ranges: pbRanges(e)})
	}
	return err
}

// pbRanges is where a problem is, for BuildKit: its range, or its position.
func pbRanges(e *spec.Error) []*pb.Range {
	return []*pb.Range{llbgen.PBRange(orPos(e.Range, e.Pos))}
}
