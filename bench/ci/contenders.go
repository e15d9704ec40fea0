package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tomlfront/tomlfront/frontend"
	"golang.org/x/sync/errgroup"
)

// sequence is what one CI keeps between its runs of one project, for one
// contender: the repository's work copy, the gha cache's scope, the
// directories actions/cache would save and restore.
type sequence struct {
	p         project
	repo      string // the repository's root
	src       string // the work copy of the project
	work      string // scratch space
	gha       []string
	scope     string
	snapshot  string // tomlfront's cache snapshot, as actions/cache keeps it
	dance     string // the cache dance's directories, as actions/cache keeps them
	warm      *builder
	runNumber int
}

// contender runs the builds one CI run makes, on b.
type contender struct {
	name string
	run  func(ctx context.Context, s *sequence, b *builder) (build, error)
}

var contenders = []contender{
	{"dockerfile+gha", func(ctx context.Context, s *sequence, b *builder) (build, error) {
		return b.buildx(ctx, s.src, s.gha, s.dockerfileArgs(true)...)
	}},
	{"dockerfile+gha+dance", runDance},
	{"tomlfront+gha", func(ctx context.Context, s *sequence, b *builder) (build, error) {
		return b.buildx(ctx, s.src, s.gha, s.specArgs(true)...)
	}},
	{"tomlfront+gha+snapshot", runSnapshot},
	{"warm builder", func(ctx context.Context, s *sequence, b *builder) (build, error) {
		return b.buildx(ctx, s.src, nil, s.specArgs(false)...)
	}},
}

func contenderNamed(name string) (contender, error) {
	var names []string
	for _, c := range contenders {
		if c.name == name {
			return c, nil
		}
		names = append(names, c.name)
	}
	return contender{}, fmt.Errorf("unknown contender %q; contenders: %v", name, names)
}

func (s *sequence) output() []string {
	if s.p.image {
		return []string{"--output", "type=cacheonly"}
	}
	return []string{"--output", "type=local,dest=" + filepath.Join(s.work, fmt.Sprintf("out-%d", s.runNumber))}
}

func (s *sequence) ghaCache(export bool) []string {
	args := []string{"--cache-from", "type=gha,scope=" + s.scope}
	if export {
		args = append(args, "--cache-to", "type=gha,mode=max,scope="+s.scope)
	}
	return args
}

// dockerfileArgs builds the project's Dockerfile, with the gha cache or not.
func (s *sequence) dockerfileArgs(gha bool) []string {
	args := []string{"-f", dockerfileName, "--target", s.p.target}
	if gha {
		args = append(args, s.ghaCache(true)...)
	}
	return append(append(args, s.output()...), ".")
}

// specArgs builds the project's spec, with the gha cache or not.
func (s *sequence) specArgs(gha bool) []string {
	args := []string{"-f", "build.toml", "--target", s.p.target}
	if gha {
		args = append(args, s.ghaCache(true)...)
	}
	return append(append(args, s.output()...), ".")
}

// runSnapshot is the workflow of docs/ci.md: the build seeded from the
// restored snapshot, then, unless the build says the snapshot is current,
// the export of the caches that changed, merged into the snapshot that is
// saved. With nothing restored, the export runs beside the build.
func runSnapshot(ctx context.Context, s *sequence, b *builder) (build, error) {
	if err := os.MkdirAll(s.snapshot, 0o755); err != nil {
		return build{}, err
	}
	restored, err := os.ReadDir(s.snapshot)
	if err != nil {
		return build{}, err
	}
	metadata := filepath.Join(s.work, fmt.Sprintf("metadata-%d.json", s.runNumber))
	args := append([]string{"--build-context", "tomlfront-cache=" + s.snapshot, "--metadata-file", metadata}, s.specArgs(true)...)
	changed := filepath.Join(s.work, fmt.Sprintf("snapshot-new-%d", s.runNumber))
	// As examples/ci/github-actions.yml: on the same builder, with no
	// cache-from.
	exportArgs := []string{"-f", "build.toml", "--target", s.p.target,
		"--build-arg", "TOMLFRONT_CACHE_EXPORT=auto", "--build-context", "tomlfront-cache=" + s.snapshot,
		"--output", "type=local,dest=" + changed, "."}
	if len(restored) == 0 {
		var m, export build
		start := time.Now()
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() (err error) { m, err = b.buildx(gctx, s.src, s.gha, args...); return err })
		g.Go(func() (err error) { export, err = b.buildx(gctx, s.src, s.gha, exportArgs...); return err })
		if err := g.Wait(); err != nil {
			return m, err
		}
		export.Export = export.Seconds
		return m.beside(export, time.Since(start).Seconds()), copyDir(changed, s.snapshot)
	}
	m, err := b.buildx(ctx, s.src, s.gha, args...)
	if err != nil {
		return m, err
	}
	if current, err := snapshotCurrent(metadata); err != nil || current {
		return m, err
	}
	export, err := b.buildx(ctx, s.src, s.gha, exportArgs...)
	if err != nil {
		return m, err
	}
	export.Export = export.Seconds
	return m.add(export), copyDir(changed, s.snapshot)
}

// runDance is the Dockerfile with reproducible-containers/buildkit-cache-dance:
// the saved directories copied into the cache mounts before the build, and
// the cache mounts copied out after it, by two more builds.
func runDance(ctx context.Context, s *sequence, b *builder) (build, error) {
	dir := filepath.Join(s.work, fmt.Sprintf("dance-%d", s.runNumber))
	if err := writeDanceFiles(dir, s.p.cacheMounts, s.runNumber); err != nil {
		return build{}, err
	}
	if err := os.MkdirAll(s.dance, 0o755); err != nil {
		return build{}, err
	}
	m, err := b.buildx(ctx, s.dance, nil, "-f", filepath.Join(dir, "inject.Dockerfile"), "--output", "type=cacheonly", ".")
	if err != nil {
		return m, err
	}
	main, err := b.buildx(ctx, s.src, s.gha, s.dockerfileArgs(true)...)
	if err != nil {
		return m, err
	}
	m = m.add(main)
	// A tarball, unpacked here: the local exporter stalls on a tree of
	// thousands of files (moby/buildkit#2950), as the Go caches are.
	tarball := filepath.Join(s.work, fmt.Sprintf("dance-out-%d.tar", s.runNumber))
	out, err := b.buildx(ctx, dir, nil, "-f", "extract.Dockerfile", "--output", "type=tar,dest="+tarball, ".")
	if err != nil {
		return m, err
	}
	start := time.Now()
	if err := os.RemoveAll(s.dance); err != nil {
		return m, err
	}
	if err := os.MkdirAll(s.dance, 0o755); err != nil {
		return m, err
	}
	if msg, err := exec.CommandContext(ctx, "tar", "-xf", tarball, "-C", s.dance).CombinedOutput(); err != nil {
		return m, fmt.Errorf("tar -x: %v\n%s", err, msg)
	}
	syncDisks()
	out.Seconds += time.Since(start).Seconds()
	return m.add(out), os.Remove(tarball)
}

// writeDanceFiles writes the cache dance's two Dockerfiles, as the action
// makes them: inject copies the context's /<n>/ into cache mount n, extract
// copies each cache mount out. stamp makes them run each time.
func writeDanceFiles(dir string, cacheMounts []string, stamp int) error {
	var mounts, in, out strings.Builder
	for i, m := range cacheMounts {
		_, t, _ := strings.Cut(strings.Split(m, ",")[0], "target=")
		fmt.Fprintf(&mounts, " --mount=type=cache,%s", m)
		fmt.Fprintf(&in, " && mkdir -p /dance/%d && cp -p -R /dance/%d/. %s/", i, i, t)
		fmt.Fprintf(&out, " && mkdir -p /out/%d && cp -p -R %s/. /out/%d/", i, t, i)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	inject := fmt.Sprintf("FROM busybox:1.36\nRUN --mount=type=bind,source=.,target=/dance,rw%s echo %d%s\n", mounts.String(), stamp, in.String())
	extract := fmt.Sprintf("FROM busybox:1.36 AS dance\nRUN%s echo %d && mkdir -p /out%s\nFROM scratch\nCOPY --from=dance /out /\n", mounts.String(), stamp, out.String())
	if err := os.WriteFile(filepath.Join(dir, "inject.Dockerfile"), []byte(inject), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "extract.Dockerfile"), []byte(extract), 0o644)
}

// snapshotCurrent reads what a build's metadata file says of its snapshot.
func snapshotCurrent(metadata string) (bool, error) {
	dt, err := os.ReadFile(metadata)
	if err != nil {
		return false, err
	}
	var m map[string]any
	if err := json.Unmarshal(dt, &m); err != nil {
		return false, fmt.Errorf("%s: %w", metadata, err)
	}
	return m[frontend.SnapshotMetadata] == frontend.SnapshotCurrent, nil
}
