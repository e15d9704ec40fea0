// Package llbgen turns a validated spec into a BuildKit LLB graph and the
// config of the image it builds. It is pure: everything outside the spec
// comes through Options and its Resolver, and the same input gives the same
// definition, byte for byte.
package llbgen

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/spec"
)

// Options are the inputs of a conversion besides the spec.
type Options struct {
	// Target is the stage to build; empty means the spec's default.
	Target string
	// BuildArgs override the spec's args (--build-arg).
	BuildArgs map[string]string
	// TargetPlatform is the platform built for; nil means BuildPlatform.
	TargetPlatform *ocispecs.Platform
	// BuildPlatform is the builder's platform; nil means this machine's.
	BuildPlatform *ocispecs.Platform
	// CacheNamespace prefixes every cache id (BUILDKIT_CACHE_MOUNT_NS).
	CacheNamespace string
	// Labels are added to the image config (--label).
	Labels map[string]string
	// PlatformInNames prefixes progress names with the platform, for builds
	// of several platforms.
	PlatformInNames bool
	// NoCache tells the stages whose steps must run again (--no-cache,
	// --no-cache-filter); nil means none.
	NoCache func(stage string) bool
	// Network is the network of run steps that do not set theirs (--network).
	Network pb.NetMode
	// Run is what buildx sets for every run step, as for a Dockerfile's RUN.
	Run RunOptions
	// CacheExport makes the result the target's persisted caches, one
	// archive each, /<cache name>.tar (TOMLFRONT_CACHE_EXPORT).
	CacheExport CacheExport
	// CacheSnapshot is what such an export wrote (the tomlfront-cache
	// context): it seeds the persisted caches the builder has no content
	// for, and an ExportChanged export compares the caches with it.
	CacheSnapshot *llb.State
	// RunID is unique to the build: cache seeds and exports, which must run
	// in every build, carry it. Needed with CacheExport or CacheSnapshot;
	// without it, there are no seeds.
	RunID string
	// Helper is the frontend's own image: its /bin/tomlfront runs the seed
	// probe (internal/seedprobe) and archives and extracts the caches of a
	// snapshot (internal/snapstep), so that no base image's tar is needed.
	// Needed with CacheExport or CacheSnapshot.
	Helper *llb.State
	// Started is when the build started: an export's trims leave out what
	// the build did not use. Zero: nothing is left out for not being used.
	Started time.Time
	// Resolver provides images and contexts; nil means Offline.
	Resolver Resolver
	// GitAdvice asks git sources to print git's advice when a fetch fails
	// (--build-arg BUILDKIT_GIT_ADVICE=true, as for a Dockerfile).
	GitAdvice bool
	// LLBCaps are the daemon's LLB capabilities (BuildOpts().LLBCaps): what
	// it lacks falls back as in the Dockerfile frontend (see supports). nil
	// means a current BuildKit, which has them all.
	LLBCaps *apicaps.CapSet
}

// resolver is the Resolver to use: Options.Resolver, else Offline.
func (o *Options) resolver() Resolver {
	if o.Resolver == nil {
		return Offline{}
	}
	return o.Resolver
}

// supports tells whether the daemon has an LLB capability.
func (o *Options) supports(id apicaps.CapID) bool {
	return o.LLBCaps == nil || o.LLBCaps.Supports(id) == nil
}

// capSince is the first BuildKit release with each capability that a spec
// can need and that has no fallback, for the message that names it.
var capSince = map[apicaps.CapID]string{
	pb.CapSourceGitChecksum:       "v0.22",
	pb.CapSourceGitSkipSubmodules: "v0.24",
	pb.CapSourceGitMTime:          "v0.29",
	pb.CapSourceGitFetchByCommit:  "v0.30",
	pb.CapExecMetaCDI:             "v0.20",
}

// require fails a feature whose capability the daemon lacks.
func (o *Options) require(id apicaps.CapID, feature string) error {
	if o.supports(id) {
		return nil
	}
	return fmt.Errorf("%s needs BuildKit %s or later (LLB capability %s), which this builder does not have: "+
		"upgrade BuildKit or Docker Engine (docker buildx inspect shows the builder's version), or leave it out", feature, capSince[id], id)
}

// RunOptions are the build's settings of run steps: --add-host, --ulimit,
// --shm-size, --cgroup-parent, --resource, the frontend option device and
// the BUILDKIT_SANDBOX_HOSTNAME build arg.
type RunOptions struct {
	ExtraHosts     []llb.HostIP
	Ulimits        []*pb.Ulimit
	ShmSize        int64
	CgroupParent   string
	Devices        []*pb.CDIDevice
	Hostname       string
	LinuxResources *pb.LinuxResources
}

// options returns them as options of a run step. As in the Dockerfile
// frontend, a setting the daemon has no capability for is left out.
func (r RunOptions) options(o *Options) []llb.RunOption {
	var opts []llb.RunOption
	for _, h := range r.ExtraHosts {
		opts = append(opts, llb.AddExtraHost(h.Host, h.IP))
	}
	if o.supports(pb.CapExecMetaUlimit) {
		for _, u := range r.Ulimits {
			opts = append(opts, llb.AddUlimit(llb.UlimitName(u.Name), u.Soft, u.Hard))
		}
	}
	if r.ShmSize > 0 && o.supports(pb.CapExecMountTmpfsSize) {
		opts = append(opts, llb.AddMount("/dev/shm", llb.Scratch(), llb.Tmpfs(llb.TmpfsSize(r.ShmSize))))
	}
	if r.CgroupParent != "" && o.supports(pb.CapExecMetaCgroupParent) {
		opts = append(opts, llb.WithCgroupParent(r.CgroupParent))
	}
	if r.Hostname != "" {
		opts = append(opts, llb.With(llb.Hostname(r.Hostname)))
	}
	if l := r.LinuxResources; l != nil && o.supports(pb.CapExecMetaLinuxResources) {
		opts = append(opts, llb.WithLinuxResources(llb.LinuxResources{Memory: l.Memory, MemorySwap: l.MemorySwap, CPUShares: l.CpuShares,
			CPUPeriod: l.CpuPeriod, CPUQuota: l.CpuQuota, CpusetCpus: l.CpusetCpus, CpusetMems: l.CpusetMems}))
	}
	if !o.supports(pb.CapExecMetaCDI) {
		return opts
	}
	for _, d := range r.Devices {
		deviceOpts := []llb.CDIDeviceOption{llb.CDIDeviceName(d.Name)}
		if d.Optional {
			deviceOpts = append(deviceOpts, llb.CDIDeviceOptional)
		}
		opts = append(opts, llb.AddCDIDevice(deviceOpts...))
	}
	return opts
}

// Result is the converted target.
type Result struct {
	Stage    *spec.Stage
	State    llb.State
	Image    *dockerspec.DockerOCIImage
	Platform ocispecs.Platform
	// Uses are the secrets, ssh agents, caches and stages the target needs.
	Uses Uses
	// Args are the values of the spec's args in this build.
	Args map[string]string
	// SBOMExtras are the states an SBOM scan covers beside State, by the
	// name of their SBOM (sbom-NAME): stages and the build context.
	SBOMExtras map[string]llb.State
	// Snapshot seeds and exports the persisted caches; nil without any, or
	// without Options.RunID.
	Snapshot *Snapshot
}

// TargetPlatforms are a build's target platforms as Options.TargetPlatform
// takes them, one conversion each: the build platform's (nil) when there
// are none.
func TargetPlatforms(targets []ocispecs.Platform) []*ocispecs.Platform {
	if len(targets) == 0 {
		return []*ocispecs.Platform{nil}
	}
	out := make([]*ocispecs.Platform, len(targets))
	for i := range targets {
		out[i] = &targets[i]
	}
	return out
}

// Convert turns the target stage of s, and only the stages it needs, into LLB.
func Convert(ctx context.Context, s *spec.Spec, opt Options) (*Result, error) {
	target := s.DefaultStage()
	if opt.Target != "" {
		if target = s.Stage(opt.Target); target == nil {
			names := s.StageNames()
			return nil, fmt.Errorf("target stage %q not found%s; stages: %s", opt.Target, spec.DidYouMean(opt.Target, names), strings.Join(names, ", "))
		}
	}
	c, err := newConverter(s, opt)
	if err != nil {
		return nil, err
	}
	st, err := c.stage(ctx, target)
	if err != nil {
		return nil, err
	}
	if err := c.finishMainContext(ctx); err != nil {
		return nil, err
	}
	img := st.image
	applyLabels(img, opt.Labels)
	state := st.state
	if len(c.persisted) > 0 && (opt.CacheExport != NoCacheExport || opt.CacheSnapshot != nil) && opt.Helper == nil {
		return nil, errors.New("cache snapshots (TOMLFRONT_CACHE_EXPORT, the tomlfront-cache context) need the frontend's own image, whose binary runs their steps: build the spec through its # syntax= line")
	}
	if opt.CacheExport != NoCacheExport {
		if state, err = c.exportCaches(st, nil); err != nil {
			return nil, err
		}
		img = newImage(nil, st.platform)
	}
	args := map[string]string{}
	for _, a := range s.Args {
		args[a.Name], _ = c.args.Get(a.Name)
	}
	extras, err := c.sbomExtras(ctx, st)
	if err != nil {
		return nil, err
	}
	res := &Result{Stage: target, State: state, Image: img, Platform: st.platform,
		Uses: c.uses.result(), Args: args, SBOMExtras: extras}
	if opt.RunID != "" && len(c.persisted) > 0 {
		res.Snapshot = &Snapshot{c: c, target: st}
	}
	return res, nil
}

// converter holds the state of one conversion.
type converter struct {
	spec       *spec.Spec
	opt        Options
	resolver   Resolver
	target     ocispecs.Platform
	build      ocispecs.Platform
	args       *spec.Vars       // declared args with their values, and platform args
	sourceMaps []*llb.SourceMap // of each file of the spec
	stages     map[*spec.Stage]*stageState
	images     map[string]imageResult // resolved images by ref and platform
	// namedCaches are the converted caches of each stage, by stage and name.
	namedCaches map[string]cacheOpts
	proxy       *llb.ProxyEnv // from the proxy build args
	persisted   []*persisted  // the persisted caches mounted, in order
	uses        uses

	mainContext *lateOutput
	contextUsed bool
	contextAll  bool                // a step uses the whole context
	ctxPaths    map[string]struct{} // the paths steps use from the main context
}

type imageResult struct {
	state llb.State
	image *dockerspec.DockerOCIImage
}

func newConverter(s *spec.Spec, opt Options) (*converter, error) {
	c := &converter{
		spec:        s,
		opt:         opt,
		resolver:    opt.resolver(),
		stages:      map[*spec.Stage]*stageState{},
		images:      map[string]imageResult{},
		namedCaches: map[string]cacheOpts{},
		mainContext: &lateOutput{},
		ctxPaths:    map[string]struct{}{},
	}
	for _, f := range s.Files {
		c.sourceMaps = append(c.sourceMaps, llb.NewSourceMap(nil, f.Name, "toml", f.Source))
	}
	c.proxy = proxyEnv(opt.BuildArgs)
	c.build = platforms.Normalize(platforms.DefaultSpec())
	if opt.BuildPlatform != nil {
		c.build = platforms.Normalize(*opt.BuildPlatform)
	}
	c.target = c.build
	if opt.TargetPlatform != nil {
		c.target = platforms.Normalize(*opt.TargetPlatform)
	}
	return c, c.resolveArgs()
}

// resolveArgs computes the value of every arg: --build-arg, else its default,
// expanded in document order so a default may use the args above it.
func (c *converter) resolveArgs() error {
	c.args = spec.NewVars()
	for name, p := range map[string]ocispecs.Platform{"TARGET": c.target, "BUILD": c.build} {
		c.args.Set(name+"PLATFORM", platforms.Format(p))
		c.args.Set(name+"OS", p.OS)
		c.args.Set(name+"ARCH", p.Architecture)
		c.args.Set(name+"VARIANT", p.Variant)
	}
	for _, a := range c.spec.Args {
		if v, ok := c.opt.BuildArgs[a.Name]; ok {
			c.args.Set(a.Name, v)
			continue
		}
		v, err := c.spec.Expand(a.Value, c.args)
		if err != nil {
			return err
		}
		c.args.Set(a.Name, v)
	}
	return nil
}

// location attaches a spec range to an op, so BuildKit can show the TOML of
// a failing step, from the file that defined it. The range starts at the
// start of its first line: a debugger (docker buildx dap) matches a
// breakpoint set on a line, which has no column, only from the range's
// first character on, and a step is often indented or inline.
func (c *converter) location(r spec.Range) llb.ConstraintsOpt {
	rng := PBRange(r)
	rng.Start.Character = 0
	return c.sourceMaps[r.File].Location([]*pb.Range{rng})
}

// PBRange is r as BuildKit's source maps and errors take it: 1-based lines,
// 0-based characters.
func PBRange(r spec.Range) *pb.Range {
	return &pb.Range{
		Start: &pb.Position{Line: int32(r.Start.Line), Character: int32(r.Start.Column - 1)},
		End:   &pb.Position{Line: int32(r.End.Line), Character: int32(r.End.Column - 1)},
	}
}

// useContext records that a step reads p from the main context.
func (c *converter) useContext(p string) llb.State {
	c.contextUsed = true
	p = path.Join("/", p)
	if p == "/" {
		c.contextAll = true
	}
	c.ctxPaths[p] = struct{}{}
	return llb.NewState(c.mainContext)
}

// finishMainContext creates the main context once every step has said what
// it needs from it, so that only those paths are transferred.
func (c *converter) finishMainContext(ctx context.Context) error {
	if !c.contextUsed {
		return nil
	}
	var opts []llb.LocalOption
	if !c.contextAll {
		paths := make([]string, 0, len(c.ctxPaths))
		for p := range c.ctxPaths {
			paths = append(paths, strings.TrimPrefix(p, "/"))
		}
		sort.Strings(paths)
		opts = append(opts, llb.FollowPaths(paths))
	}
	st, err := c.resolver.MainContext(ctx, opts...)
	if err != nil {
		return err
	}
	c.mainContext.Output = st.Output()
	return nil
}

// lateOutput is an llb.Output set after the states that use it are built:
// the main context's paths are known only at the end of the conversion.
type lateOutput struct{ llb.Output }
