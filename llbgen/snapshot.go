package llbgen

import (
	_ "embed"
	"errors"
	"fmt"
	"strconv"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/tomlfront/tomlfront/spec"
)

// Cache snapshots carry the content of `persist = true` caches from one
// builder to another: BuildKit's --cache-to never does. A snapshot holds one
// archive per cache directory, /<cache name>.tar (/<cache name>/<part>.tar
// for presets of several directories), with owners, modes, symlinks and hard
// links, its digest beside it (.tar.sha256) and what it holds (.tar.info).
// One file per cache, not a tree of thousands, is what the local exporter
// moves without stalling (moby/buildkit#2950). The seed still reads the
// older layout, a tree /<cache name>/.... The steps that copy caches in and
// out run snapshot.sh in the base of the first stage that mounts the cache:
// it has the sh, tar and coreutils its own steps use.

// CacheExport says whether a build's result is its persisted caches.
type CacheExport int

const (
	NoCacheExport CacheExport = iota
	ExportAll                 // TOMLFRONT_CACHE_EXPORT=1
	// ExportChanged leaves out the caches whose content is the given
	// snapshot's (TOMLFRONT_CACHE_EXPORT=auto).
	ExportChanged
)

//go:embed snapshot.sh
var snapshotScript string

// The paths the snapshot steps mount at (snapshot.sh's defaults); BuildKit
// removes the mount points after.
const (
	cacheDir    = "/.tomlfront/cache"
	snapshotDir = "/.tomlfront/snapshot"
	stageDir    = "/.tomlfront/stage"
	outDir      = "/.tomlfront/out"
)

// persisted is one directory of a persisted cache.
type persisted struct {
	dir   string // in snapshots
	mount spec.CacheMount
	cache *cacheInfo
	stage *stageState // the first that mounts it
	// identity says what the archive holds, in its .info file: a seed
	// refuses an archive of another platform or cache layout.
	identity string
	// seeded is the output of the step that seeds the cache from the
	// snapshot, nil without one. Steps that mount the cache mount it too,
	// so they run after it.
	seeded *llb.State
}

// persist records a persisted cache directory when a stage mounts it, and
// returns what its steps mount besides: the seed's output, in builds that
// have a RunID.
func (c *converter) persist(s *stageState, m spec.CacheMount, at mounted) []llb.RunOption {
	dir := m.Cache
	if m.Part != "" {
		dir += "/" + m.Part
	}
	var p *persisted
	for _, q := range c.persisted {
		if q.dir == dir {
			p = q
		}
	}
	if p == nil {
		p = &persisted{dir: dir, mount: m, cache: at.cache, stage: s,
			identity: fmt.Sprintf("tomlfront cache snapshot 1, platform %s, target %s", platforms.Format(s.platform), at.target)}
		// The seed runs with or without a snapshot, so that the steps after
		// it mount the same and have the same cache keys either way: a build
		// given a snapshot shares its layers with one that is not.
		if c.opt.RunID != "" {
			seeded := c.seed(p)
			p.seeded = &seeded
		}
		c.persisted = append(c.persisted, p)
	}
	if p.seeded == nil {
		return nil
	}
	return []llb.RunOption{llb.AddMount("/.tomlfront/seeded/"+dir, *p.seeded, llb.Readonly)}
}

// snapshotStep runs snapshot.sh's step (seed or export) on the cache of p.
//
// Seeds and exports run again through Options.RunID in their environment,
// not llb.IgnoreCache: BuildKit prunes the caches that an ignore-cache step
// mounts before the build starts.
func (c *converter) snapshotStep(p *persisted, step, name string, opts ...llb.RunOption) llb.ExecState {
	opts = append([]llb.RunOption{
		llb.Args([]string{"/bin/sh", "-c", snapshotScript, "tomlfront", step}),
		llb.AddMount(cacheDir, p.cache.source, p.cache.opts...),
		llb.AddEnv("TF_DIR", p.dir),
		llb.AddEnv("TF_IDENTITY", p.identity),
		llb.AddEnv("TOMLFRONT_RUN", c.opt.RunID),
		llb.WithCustomName(name),
	}, opts...)
	if c.opt.CacheSnapshot != nil {
		opts = append(opts, llb.AddMount(snapshotDir, *c.opt.CacheSnapshot, llb.Readonly))
	}
	return p.stage.base.Run(opts...)
}

// seed copies the snapshot's directory into the cache, if the build has a
// snapshot, unless the builder already has content for it: a snapshot never
// replaces what may be newer.
// It runs in every build, since the builder's cache may have been pruned
// since the last; its output is an empty directory, so the steps after it
// stay cached.
func (c *converter) seed(p *persisted) llb.State {
	name := "[tomlfront] seed cache " + p.dir + " from the snapshot"
	if c.opt.CacheSnapshot == nil { // a progress name is not part of the step's cache key
		name = "[tomlfront] cache " + p.dir + ": no snapshot to seed it from"
	}
	return c.snapshotStep(p, "seed", name).AddMount(outDir, llb.Scratch())
}

// exportEnv is what an export of p is told besides what every step is: its
// trim, max_size and whether to skip it unchanged.
func (c *converter) exportEnv(p *persisted) []llb.RunOption {
	var opts []llb.RunOption
	if p.mount.Trim != "" {
		opts = append(opts, llb.AddEnv("TF_TRIM", p.mount.Trim))
		if !c.opt.Started.IsZero() {
			opts = append(opts, llb.AddEnv("TF_STARTED", strconv.FormatInt(c.opt.Started.Unix(), 10)))
		}
	}
	if cache := c.spec.Cache(p.mount.Cache); cache != nil && cache.MaxBytes > 0 {
		opts = append(opts, llb.AddEnv("TF_MAX_KIB", strconv.FormatInt(cache.MaxBytes/1024, 10)), llb.AddEnv("TF_MAX_SIZE", cache.MaxSize.Value))
	}
	if c.opt.CacheExport == ExportChanged {
		opts = append(opts, llb.AddEnv("TF_AUTO", "1"))
	}
	return opts
}

// exportCaches returns the snapshot of the persisted caches the target
// mounts, taken after the target is built.
func (c *converter) exportCaches(target *stageState) (llb.State, error) {
	if c.opt.RunID == "" {
		return llb.State{}, errors.New("cache export needs Options.RunID, a value unique to the build")
	}
	if len(c.persisted) == 0 {
		return llb.State{}, fmt.Errorf("TOMLFRONT_CACHE_EXPORT is set, but stage %q mounts no cache with persist = true", target.spec.Name)
	}
	// Each cache's archive goes to a tree of its own, merged at the end; a
	// daemon without MergeOp (Docker Engine's graphdriver store) gets one
	// tree that each export adds to in turn.
	merge := c.opt.supports(pb.CapMergeOp)
	outs := make([]llb.State, 0, len(c.persisted))
	chained := llb.Scratch()
	for _, p := range c.persisted {
		opts := append(c.exportEnv(p),
			// Mounting the target makes the export wait for the whole build;
			// the stage's root is what a trim reads (apt: what is installed).
			llb.AddMount("/.tomlfront/target", target.state, llb.Readonly),
			llb.AddMount(stageDir, p.stage.state, llb.Readonly))
		run := c.snapshotStep(p, "export", "[tomlfront] export cache "+p.dir, opts...)
		if !merge {
			chained = run.AddMount(outDir, chained)
			continue
		}
		outs = append(outs, run.AddMount(outDir, llb.Scratch()))
	}
	if !merge {
		return chained, nil
	}
	if len(outs) == 1 {
		return outs[0], nil
	}
	return llb.Merge(outs, llb.WithCustomName("[tomlfront] cache snapshot")), nil
}
