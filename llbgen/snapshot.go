package llbgen

import (
	_ "embed"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/tomlfront/tomlfront/internal/seedprobe"
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
// out run snapshot.sh in the base of the first stage that mounts the cache,
// whose tools a preset's trim uses (uv, ccache); the script then runs the
// step itself (internal/snapstep) with the frontend's binary, mounted from
// Options.Helper, which reads and writes each archive in one pass.

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

// The paths the snapshot steps mount at, which snapshot.sh and snapstep
// are told in their environment; BuildKit removes the mount points after.
const (
	cacheDir    = "/.tomlfront/cache"
	snapshotDir = "/.tomlfront/snapshot"
	stageDir    = "/.tomlfront/stage"
	outDir      = "/.tomlfront/out"
	toolPath    = "/.tomlfront/bin/tomlfront"
)

// helperBinary is the frontend's binary in its image (Options.Helper).
const helperBinary = "/bin/tomlfront"

// persisted is one directory of a persisted cache.
type persisted struct {
	dir   string // in snapshots
	mount spec.CacheMount
	cache *cacheInfo
	stage *stageState // the first that mounts it
	// identity says what the archive holds, in its .info file: a seed
	// refuses an archive of another platform or cache layout.
	identity string
}

// guard wraps the command of a run step that mounts the persisted caches
// dirs. At a cache the seed probe marked (internal/seedprobe: the builder
// has no content for it, the build has a snapshot of it), it asks for the
// cache and waits; the frontend's watcher answers, the frontend cancels the
// build, seeds the cache and solves again: what ran before is cached by
// then, and the step starts again. A step that the layer cache has does not
// run, nor its guard: a build whose steps all come from it seeds no cache
// and reads no archive. With no answer in ten seconds, the mark is one a
// build that is over left: the guard clears it and the step runs on the
// empty cache; once answered, it waits at most ten minutes.
//
// The guard is in the step's command, not a step of its own, which BuildKit
// could take from a cache backend instead of running it; the step waits to
// be cancelled rather than failing, since BuildKit remembers a failed step
// for the rest of the build. It carries nothing of the build or of the
// snapshot, and the marks are in cache mounts, which cache keys leave out:
// the step's cache key is the same with a snapshot and without. It is a
// script mounted at guardPath, so that a step that fails is reported as
// `process "/.tomlfront/guard /bin/sh -c ..."`, its own command after a
// word, not after the guard's lines. It needs /bin/sh in the step's image,
// as the seed does.
func guard(dirs, args []string) ([]string, llb.RunOption) {
	script := llb.Scratch().File(llb.Mkfile("/guard", 0o755, []byte(guardScript(dirs))),
		llb.WithCustomName("[internal] tomlfront's guard of the persisted caches "+strings.Join(dirs, ", ")))
	return append([]string{guardPath}, args...), llb.AddMount(guardPath, script, llb.SourcePath("/guard"), llb.Readonly)
}

// guardPath is where a guarded step's guard is mounted.
const guardPath = "/.tomlfront/guard"

// guardScript is the guard of dirs (see guard): a shell script that runs
// its arguments once the caches are ready. It asks for every marked cache
// before it waits for any, so that the watcher hears them together and the
// frontend seeds them in one round, not a cancelled build per cache.
func guardScript(dirs []string) string {
	quoted := make([]string, len(dirs))
	for i, d := range dirs {
		quoted[i] = "'" + strings.ReplaceAll(d, "'", `'\''`) + "'"
	}
	list := strings.Join(quoted, " ")
	return `#!/bin/sh
wait_while() { i=0; while [ $i -lt "$1" ] && eval "$2"; do sleep 0.1 2>/dev/null || sleep 1; i=$((i + 1)); done; }
for d in ` + list + `; do
  m="` + seedprobe.PendingDir + `/$d"
  [ -e "$m/` + seedprobe.Mark + `" ] || continue
  echo "tomlfront: cache $d is empty on this builder and marked for a seed from the snapshot: this step waits for it, then starts again"
  : >"$m/` + seedprobe.Wanted + `"
done
for d in ` + list + `; do
  m="` + seedprobe.PendingDir + `/$d"
  [ -e "$m/` + seedprobe.Mark + `" ] || continue
  wait_while 100 '[ ! -e "$m/` + seedprobe.Heard + `" ] && [ -e "$m/` + seedprobe.Mark + `" ]'
  if [ -e "$m/` + seedprobe.Heard + `" ]; then
    wait_while 6000 '[ -e "$m/` + seedprobe.Mark + `" ]'
  elif [ -e "$m/` + seedprobe.Mark + `" ]; then
    rm -f "$m/` + seedprobe.Mark + `" "$m/` + seedprobe.Wanted + `"
    echo "tomlfront: cache $d was marked for a seed by a build that is over: mark cleared"
  fi
done
exec "$@"
`
}

// persist records a persisted cache directory when a stage mounts it, and
// returns it (as snapshots name it) with what its steps mount besides: its
// mark, in builds that have a RunID, which guard.
func (c *converter) persist(s *stageState, m spec.CacheMount, at mounted) (string, []llb.RunOption) {
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
		c.persisted = append(c.persisted, p)
	}
	if c.opt.RunID == "" {
		return dir, nil
	}
	return dir, []llb.RunOption{p.pendingMount(seedprobe.PendingDir + "/" + dir)}
}

// pendingMount mounts at target the small cache that holds p's mark (see
// internal/seedprobe): one for each cache id. It has no source state:
// BuildKit finds a cache mount by its id and the id of the source's result,
// and the probe, the watcher, the guards and the seed, in solves of their
// own, must all find the same one. The probe makes it writable by all when
// it marks it, since a guard asks for the cache there as its step's user.
func (p *persisted) pendingMount(target string) llb.RunOption {
	return llb.AddMount(target, llb.Scratch(), llb.AsPersistentCacheDir("tomlfront-seed-pending/"+p.cache.id, llb.CacheMountShared))
}

// snapshotStep runs snapshot.sh's step (seed or export) on the cache of p,
// mounted with cache (its id and sharing).
//
// Seeds and exports run again through Options.RunID in their environment,
// not llb.IgnoreCache: BuildKit prunes the caches that an ignore-cache step
// mounts before the build starts.
func (c *converter) snapshotStep(p *persisted, step, name string, cache []llb.MountOption, opts ...llb.RunOption) llb.ExecState {
	opts = append([]llb.RunOption{
		llb.Args([]string{"/bin/sh", "-c", snapshotScript, "tomlfront", step}),
		llb.AddMount(toolPath, *c.opt.Helper, c.readonly(llb.SourcePath(helperBinary))...),
		llb.AddMount(cacheDir, p.cache.source, cache...),
		llb.AddEnv("TF_TOOL", toolPath),
		llb.AddEnv("TF_CACHE", cacheDir),
		llb.AddEnv("TF_SNAPSHOT", snapshotDir),
		llb.AddEnv("TF_STAGE", stageDir),
		llb.AddEnv("TF_OUT", outDir),
		llb.AddEnv("TF_PENDING", seedprobe.PendingDir),
		llb.AddEnv("TF_DIR", p.dir),
		llb.AddEnv("TF_IDENTITY", p.identity),
		llb.AddEnv(seedprobe.RunEnv, c.opt.RunID),
		llb.WithCustomName(name),
	}, opts...)
	if c.opt.CacheSnapshot != nil {
		opts = append(opts, llb.AddMount(snapshotDir, *c.opt.CacheSnapshot, c.readonly()...))
	}
	return p.stage.base.Run(opts...)
}

// readonly are the options of a snapshot step's read-only mount. BuildKit
// hashes the content of a read-only mount for the step's cache key unless
// told not to: every file of the stage's root, or of a snapshot of hundreds
// of megabytes, read before the step starts (seconds, the first time on a
// builder), for a step that runs in every build anyway.
func (c *converter) readonly(opts ...llb.MountOption) []llb.MountOption {
	opts = append(opts, llb.Readonly)
	if c.opt.supports(pb.CapExecMountContentCache) {
		opts = append(opts, llb.ContentCache(llb.MountContentCacheOff))
	}
	return opts
}

// seed copies the snapshot's directory into the cache, unless the builder
// already has content for it: a snapshot never replaces what may be newer.
// Either way, it clears the cache's mark, so that the guards let the steps
// run.
func (c *converter) seed(p *persisted) llb.State {
	return c.snapshotStep(p, "seed", "[tomlfront] seed cache "+p.dir+" from the snapshot", p.cache.opts, p.pendingMount(seedprobe.PendingDir)).AddMount(outDir, llb.Scratch())
}

// helperStep runs the tomlfront binary of the helper image (the frontend's
// own, so that no base image is pulled for it) on the pending mounts of
// every persisted cache (internal/seedprobe), with the caches themselves
// for the probe.
func (c *converter) helperStep(name string, caches []*persisted, withCaches bool, env []string, args ...string) llb.State {
	args = append([]string{helperBinary, seedprobe.Command}, args...)
	opts := []llb.RunOption{llb.AddEnv(seedprobe.RunEnv, c.opt.RunID), llb.WithCustomName(name)}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		opts = append(opts, llb.AddEnv(k, v))
	}
	for i, p := range caches {
		at := path.Join(seedprobe.Root, strconv.Itoa(i))
		args = append(args, p.dir)
		opts = append(opts, p.pendingMount(path.Join(at, "pending")))
		if withCaches {
			opts = append(opts, llb.AddMount(path.Join(at, "cache"), p.cache.source, p.cache.opts...))
		}
	}
	return c.opt.Helper.Run(append(opts, llb.Args(args))...).AddMount(seedprobe.Out, llb.Scratch())
}

// lockedCache mounts p's cache as its steps do, but locked, for its
// export: a shared mount that no running step holds is given a new, empty
// cache while the daemon's garbage collector sizes the cache (see
// internal/seedprobe, the holder), for seconds at hundreds of megabytes, a
// second after a build ends, as the next one starts. A locked mount waits
// instead, so an export reads the cache's content; a step of another build
// that mounts the cache while the export reads it gets a new one.
func (p *persisted) lockedCache() []llb.MountOption {
	return append(slices.Clone(p.cache.opts), llb.AsPersistentCacheDir(p.cache.id, llb.CacheMountLocked))
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
// mounts, taken after the target is built, but those skip leaves out: with
// none left, an empty directory.
func (c *converter) exportCaches(target *stageState, skip func(dir string) bool) (llb.State, error) {
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
		if skip != nil && skip(p.dir) {
			continue
		}
		opts := append(c.exportEnv(p),
			// Mounting the target makes the export wait for the whole build;
			// the stage's root is what a trim reads (apt: what is installed).
			llb.AddMount("/.tomlfront/target", target.state, c.readonly()...),
			llb.AddMount(stageDir, p.stage.state, c.readonly()...))
		run := c.snapshotStep(p, "export", "[tomlfront] export cache "+p.dir, p.lockedCache(), opts...)
		if !merge {
			chained = run.AddMount(outDir, chained)
			continue
		}
		outs = append(outs, run.AddMount(outDir, llb.Scratch()))
	}
	switch {
	case !merge:
		return chained, nil
	case len(outs) == 0:
		return llb.Scratch(), nil
	case len(outs) == 1:
		return outs[0], nil
	}
	return llb.Merge(outs, llb.WithCustomName("[tomlfront] cache snapshot")), nil
}

// Snapshot is what the frontend solves, besides a build's State, for the
// persisted caches of a build that has a RunID: the seed probe, and each
// cache's seed and export, so that a cache is seeded only when a step that
// mounts it runs (see guardScript).
type Snapshot struct {
	c      *converter
	target *stageState
}

// Dirs are the persisted caches, as snapshots name them (deps, go/mod).
func (s *Snapshot) Dirs() []string {
	dirs := make([]string, len(s.c.persisted))
	for i, p := range s.c.persisted {
		dirs[i] = p.dir
	}
	return dirs
}

// Probe marks those of the caches dirs the builder has no content for and
// lists them (internal/seedprobe); it runs in Options.Helper, the
// frontend's image. A build given a snapshot solves it first, on the
// caches the snapshot holds.
func (s *Snapshot) Probe(dirs []string) llb.State {
	var caches []*persisted
	for _, p := range s.c.persisted {
		if slices.Contains(dirs, p.dir) {
			caches = append(caches, p)
		}
	}
	return s.c.helperStep(ProbeName, caches, true, nil)
}

// Watch ends when a step asks for a cache to be seeded, and lists those
// asked for (internal/seedprobe); it runs in Options.Helper. Each attempt
// of the build has a watcher of its own.
func (s *Snapshot) Watch(attempt int) llb.State {
	return s.c.helperStep(WatcherName, s.c.persisted, false,
		[]string{"TOMLFRONT_ATTEMPT=" + strconv.Itoa(attempt)}, seedprobe.WaitFlag)
}

// Hold keeps every cache's mark where each step finds it, from the probe
// to the end of the build (internal/seedprobe); it runs in
// Options.Helper, and ends only when the frontend cancels it.
func (s *Snapshot) Hold() llb.State {
	return s.c.helperStep(HolderName, s.c.persisted, false, nil, seedprobe.HoldFlag)
}

// The names of the steps that run beside a build given a snapshot, as its
// progress shows them.
const (
	ProbeName   = "[tomlfront] which persisted caches does this builder have?"
	WatcherName = "[tomlfront] wait for a step that needs a cache seeded (cancelled at the end)"
	HolderName  = "[tomlfront] hold the caches' marks for this build (cancelled at the end)"
)

// Shared tells whether the cache dir is mounted with sharing "shared": a
// seed can then fill it while a step that mounts it waits.
func (s *Snapshot) Shared(dir string) bool {
	for _, p := range s.c.persisted {
		if p.dir == dir {
			return p.cache.sharing == spec.SharingShared
		}
	}
	return false
}

// Seed seeds the cache dir from the snapshot, unless the builder has
// content for it, and clears its mark.
func (s *Snapshot) Seed(dir string) (llb.State, bool) {
	for _, p := range s.c.persisted {
		if p.dir == dir {
			return s.c.seed(p), true
		}
	}
	return llb.State{}, false
}

// Export is the build's State for a cache export (Options.CacheExport)
// without the caches skip leaves out.
func (s *Snapshot) Export(skip func(dir string) bool) (llb.State, error) {
	return s.c.exportCaches(s.target, skip)
}
