package llbgen

import (
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/tomlfront/tomlfront/spec"
)

// Cache snapshots carry the content of `persist = true` caches from one
// builder to another: BuildKit's --cache-to never does. A snapshot holds one
// archive per cache directory, /<cache name>.tar (/<cache name>/<part>.tar
// for presets of several directories), with owners, modes, symlinks and hard
// links, and its digest beside it (.tar.sha256). One file per cache, not a
// tree of thousands, is what the local exporter moves without stalling
// (moby/buildkit#2950). The seed still reads the older layout, a tree
// /<cache name>/.... The steps that copy caches in and out run in the base
// of the first stage that mounts the cache: it has the sh, tar, sha256sum
// and du its own steps use.

// The paths those steps mount at; BuildKit removes the mount points after.
const (
	cacheDir    = "/.tomlfront/cache"
	snapshotDir = "/.tomlfront/snapshot"
	outDir      = "/.tomlfront/out"
)

// persisted is one directory of a persisted cache.
type persisted struct {
	dir   string // in snapshots
	cache *cacheInfo
	tools llb.State
	// identity says what the archive holds, in its .info file: a seed
	// refuses an archive of another platform or cache layout.
	identity string
	// seeded is the output of the step that seeds the cache from the
	// snapshot, nil without one. Steps that mount the cache mount it too,
	// so they run after it.
	seeded *llb.State
}

// persist records a persisted cache directory when a stage mounts it, and
// returns what its steps mount besides: the seed's output, when a snapshot
// is given.
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
		p = &persisted{dir: dir, cache: at.cache, tools: s.base,
			identity: fmt.Sprintf("tomlfront cache snapshot 1, platform %s, target %s", platforms.Format(s.platform), at.target)}
		if c.opt.CacheSnapshot != nil && c.opt.RunID != "" {
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

// seed copies the snapshot's directory into the cache, unless the builder
// already has content for it: a snapshot never replaces what may be newer.
// It runs in every build, since the builder's cache may have been pruned
// since the last; its output is an empty directory, so the steps after it
// stay cached.
//
// Seeds and exports run again through Options.RunID in their environment,
// not llb.IgnoreCache: BuildKit prunes the caches that an ignore-cache step
// mounts before the build starts.
func (c *converter) seed(p *persisted) llb.State {
	// An archive is checked whole before anything is extracted, and a failed
	// extraction empties the cache again: never a half-seeded cache.
	script := fmt.Sprintf(`set -e
archive=%[3]s/%[1]s.tar
if [ -n "$(ls -A %[2]s)" ]; then
  echo "tomlfront: cache %[1]s already has content on this builder; the snapshot is not used"
elif [ -f "$archive" ]; then
  if ! (cd "$(dirname "$archive")" && sha256sum -c "$(basename "$archive").sha256" >/dev/null 2>&1) || ! tar -tf "$archive" >/dev/null 2>&1; then
    echo "tomlfront: the snapshot's %[1]s.tar is corrupt, truncated or without its .sha256: cache %[1]s starts empty; export a new snapshot"
  elif [ "$(cat "$archive.info" 2>/dev/null)" != %[4]s ]; then
    echo "tomlfront: the snapshot's %[1]s.tar is of another platform or cache layout ($(cat "$archive.info" 2>/dev/null || echo 'no .info'); this build needs %[5]s): cache %[1]s starts empty"
  elif tar -xpf "$archive" -C %[2]s; then
    echo "tomlfront: cache %[1]s seeded from the snapshot: $(du -sh %[2]s | cut -f1)"
  else
    find %[2]s -mindepth 1 -maxdepth 1 -exec rm -rf {} +
    echo "tomlfront: the snapshot's %[1]s.tar does not extract: cache %[1]s starts empty; export a new snapshot"
  fi
elif [ -d %[3]s/%[1]s ]; then
  cp -a %[3]s/%[1]s/. %[2]s/
  echo "tomlfront: cache %[1]s seeded from the snapshot (a tree, as older exports wrote it): $(du -sh %[2]s | cut -f1)"
else
  echo "tomlfront: the snapshot has no %[1]s.tar; cache %[1]s starts empty"
fi`, p.dir, cacheDir, snapshotDir, shellQuote(p.identity), p.identity)
	run := p.tools.Run(
		llb.Args([]string{"/bin/sh", "-c", script}),
		p.mountCache(),
		llb.AddMount(snapshotDir, *c.opt.CacheSnapshot, llb.Readonly),
		llb.AddEnv("TOMLFRONT_RUN", c.opt.RunID),
		llb.WithCustomName("[tomlfront] seed cache "+p.dir+" from the snapshot"),
	)
	return run.AddMount(outDir, llb.Scratch())
}

// sizeCheck is the shell that fails an export of a directory above its
// cache's max_size, before anything is copied: a snapshot that would fill a
// CI cache quota is refused with what to do, not written.
func (c *converter) sizeCheck(p *persisted) string {
	name, _, _ := strings.Cut(p.dir, "/")
	cache := c.spec.Cache(name)
	if cache == nil || cache.MaxBytes == 0 {
		return ""
	}
	return fmt.Sprintf(`kib=$(du -sk %[2]s | cut -f1)
if [ "$kib" -gt %[3]d ]; then
  echo "tomlfront: cache %[1]s holds ${kib} KiB, above its max_size %[4]s: the snapshot is not exported; trim the cache, raise max_size or drop persist" >&2
  exit 1
fi
`, p.dir, cacheDir, cache.MaxBytes/1024, cache.MaxSize.Value)
}

// shellQuote quotes s for sh, in single quotes.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// mountCache mounts the cache at cacheDir as its steps mount it.
func (p *persisted) mountCache() llb.RunOption {
	return llb.AddMount(cacheDir, p.cache.source, p.cache.opts...)
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
	// Each cache's copy goes to a tree of its own, merged at the end; a
	// daemon without MergeOp (Docker Engine's graphdriver store) gets one
	// tree that each copy adds to in turn.
	merge := c.opt.supports(pb.CapMergeOp)
	outs := make([]llb.State, 0, len(c.persisted))
	chained := llb.Scratch()
	for _, p := range c.persisted {
		// The archive's own time is fixed, so an image snapshot's layer
		// keeps its digest while the cache does not change.
		script := "set -e\n" + c.sizeCheck(p) + fmt.Sprintf(`archive=%[3]s/%[1]s.tar
mkdir -p "$(dirname "$archive")"
(cd %[2]s && tar -cf "$archive" .)
(cd "$(dirname "$archive")" && sha256sum "$(basename "$archive")" > "$(basename "$archive").sha256")
printf '%%s\n' %[4]s > "$archive.info"
touch -t 197001010000.00 "$archive" "$archive.sha256" "$archive.info"
echo "tomlfront: cache %[1]s: $(du -sh %[2]s | cut -f1), archived in %[1]s.tar: $(du -sh "$archive" | cut -f1)"`, p.dir, cacheDir, outDir, shellQuote(p.identity))
		run := p.tools.Run(
			llb.Args([]string{"/bin/sh", "-c", script}),
			p.mountCache(),
			// Mounting the target makes the copy wait for the whole build.
			llb.AddMount("/.tomlfront/target", target.state, llb.Readonly),
			// A cache's content is not part of any cache key: copy it anew.
			llb.AddEnv("TOMLFRONT_RUN", c.opt.RunID),
			llb.WithCustomName("[tomlfront] export cache "+p.dir),
		)
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
