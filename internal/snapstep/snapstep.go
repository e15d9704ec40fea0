// Package snapstep is the seed and the export of one persisted cache
// directory of a cache snapshot (see llbgen/snapshot.go): the hidden
// command `tomlfront snapshot-step seed|export`, which llbgen/snapshot.sh
// runs in the build's container from the frontend's own binary, mounted
// there, once it has run the trim of an export in the stage's base image.
// The archive is written and read in one pass each (internal/snaparchive),
// so that neither depends on the base image's tar or coreutils.
//
// It runs inside build containers, in the frontend's static binary: it must
// import nothing but the standard library and tomlfront's internal/
// snaparchive and internal/seedprobe, which import nothing else either.
package snapstep

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tomlfront/tomlfront/internal/seedprobe"
	"github.com/tomlfront/tomlfront/internal/snaparchive"
)

// Command is the hidden command of the frontend's binary that runs a step.
const Command = "snapshot-step"

// Step is one step on one cache directory. FromEnv reads it from the
// environment snapshot.sh is given (see there).
type Step struct {
	Dir      string // the cache's name in the snapshot: deps, go/mod
	Identity string // what the archive holds: a seed refuses another

	// The mounts: the cache, the snapshot given to the build (seed and
	// auto export), the export's output and the cache's pending mount
	// (seed), whose mark the seed clears.
	Cache, Snapshot, Out, Pending string

	// With export: a file of the paths (./...) the trim left out, one per
	// line; MaxKiB (0: none) is max_size in KiB, MaxSize as written; Auto
	// skips a cache whose content is the snapshot's.
	Exclude string
	MaxKiB  int64
	MaxSize string
	Auto    bool

	// Progress is how often a long archive says how far it has come.
	Progress time.Duration
	Log      io.Writer // what the step says, for the build's progress
}

// FromEnv reads a step from the variables snapshot.sh is given (llbgen
// sets them, the mount points among them).
func FromEnv(getenv func(string) string) (*Step, error) {
	s := &Step{
		Dir:      getenv("TF_DIR"),
		Identity: getenv("TF_IDENTITY"),
		Cache:    getenv("TF_CACHE"),
		Snapshot: getenv("TF_SNAPSHOT"),
		Out:      getenv("TF_OUT"),
		Pending:  getenv("TF_PENDING"),
		Exclude:  getenv("TF_EXCLUDE"),
		MaxSize:  getenv("TF_MAX_SIZE"),
		Auto:     getenv("TF_AUTO") == "1",
		Progress: 10 * time.Second,
	}
	for _, v := range []struct{ key, value string }{{"TF_DIR", s.Dir}, {"TF_IDENTITY", s.Identity},
		{"TF_CACHE", s.Cache}, {"TF_SNAPSHOT", s.Snapshot}, {"TF_OUT", s.Out}, {"TF_PENDING", s.Pending}} {
		if v.value == "" {
			return nil, fmt.Errorf("%s must be set", v.key)
		}
	}
	if v := getenv("TF_MAX_KIB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("TF_MAX_KIB: %w", err)
		}
		s.MaxKiB = n
	}
	if v := getenv("TF_PROGRESS_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("TF_PROGRESS_SECONDS: %q is not a number of seconds", v)
		}
		s.Progress = time.Duration(n) * time.Second
	}
	return s, nil
}

// Main runs the step named by args (seed or export) from the environment.
func Main(args []string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "seed" && args[0] != "export") {
		return errors.New("usage: " + Command + " seed|export")
	}
	s, err := FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	s.Log = stdout
	if args[0] == "seed" {
		return s.Seed()
	}
	return s.Export()
}

func (s *Step) say(format string, args ...any) {
	fmt.Fprintf(s.Log, "tomlfront: "+format+"\n", args...)
}

// archive is the path of the cache's archive under dir.
func (s *Step) archive(dir string) string {
	return filepath.Join(dir, filepath.FromSlash(s.Dir)+".tar")
}

// Seed copies the snapshot's archive of the cache into it, unless the
// build has no snapshot or the cache has content; an archive that does not
// extract whole, or whose digest is not its .sha256's, leaves the cache
// empty before any step mounts it: never a half-seeded cache. With or
// without a seed, it clears the cache's mark.
func (s *Step) Seed() error {
	err := s.seed()
	for _, f := range []string{seedprobe.Mark, seedprobe.Wanted, seedprobe.Heard} {
		if rerr := os.Remove(filepath.Join(s.Pending, f)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
			err = rerr
		}
	}
	return err
}

func (s *Step) seed() error {
	if _, err := os.Stat(s.Snapshot); err != nil {
		return nil // the build was given no snapshot
	}
	if empty, err := isEmpty(s.Cache); err != nil || !empty {
		if err == nil {
			s.say("cache %s already has content on this builder; the snapshot is not used", s.Dir)
		}
		return err
	}
	archive := s.archive(s.Snapshot)
	if _, err := os.Stat(archive); err != nil {
		if tree := filepath.Join(s.Snapshot, filepath.FromSlash(s.Dir)); isDir(tree) {
			return s.seedTree(tree)
		}
		s.say("the snapshot has no %s.tar; cache %s starts empty", s.Dir, s.Dir)
		return nil
	}
	// An export that did not finish (its builder or client killed) leaves
	// the files it was writing, some of them empty.
	sum, _ := os.ReadFile(archive + ".sha256")
	info, _ := os.ReadFile(archive + ".info")
	identity := infoLine(info, 0)
	switch {
	case len(sum) < 64 || len(info) == 0:
		s.say("the snapshot's %s.tar is incomplete (its .sha256 or .info is missing or empty, as an export that did not finish leaves it): cache %s starts empty; export a new snapshot", s.Dir, s.Dir)
		return nil
	case identity != s.Identity:
		s.say("the snapshot's %s.tar is of another platform or cache layout (%s; this build needs %s): cache %s starts empty", s.Dir, identity, s.Identity, s.Dir)
		return nil
	}
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	var read counter
	stop := s.showProgress("seeded", &read, fi.Size())
	got, err := snaparchive.Extract(io.TeeReader(f, &read), s.Cache)
	stop()
	if err == nil && got.Digest != string(sum[:64]) {
		err = errors.New("its digest is not its .sha256's")
	}
	if err != nil {
		if rerr := emptyDir(s.Cache); rerr != nil {
			return rerr
		}
		s.say("the snapshot's %s.tar is corrupt or truncated (%v): cache %s starts empty; export a new snapshot", s.Dir, err, s.Dir)
		return nil
	}
	s.say("cache %s seeded from the snapshot: %s", s.Dir, human(fi.Size()))
	return nil
}

// seedTree seeds the cache from a tree, as older exports wrote snapshots:
// an archive of it, read as it is written.
func (s *Step) seedTree(tree string) error {
	pr, pw := io.Pipe()
	go func() {
		_, err := snaparchive.Write(pw, tree, nil)
		pw.CloseWithError(err)
	}()
	sum, err := snaparchive.Extract(pr, s.Cache)
	pr.CloseWithError(err) // lets Write end after an error of Extract
	if err != nil {
		if rerr := emptyDir(s.Cache); rerr != nil {
			return rerr
		}
		return fmt.Errorf("cache %s: seeding from the snapshot's tree: %w", s.Dir, err)
	}
	s.say("cache %s seeded from the snapshot (a tree, as older exports wrote it): %s", s.Dir, human(sum.ContentBytes))
	return nil
}

// Export writes the cache's archive, its .sha256 and its .info to Out,
// without the paths Exclude lists, unless the cache is over MaxKiB (an
// error) or, with Auto, its content is the snapshot's.
func (s *Step) Export() error {
	skip, err := readExclude(s.Exclude)
	if err != nil {
		return err
	}
	size, err := measure(s.Cache, skip)
	if err != nil {
		return err
	}
	leftOut := func(rel string) bool { return skip[rel] }
	if size.keptEntries <= 1 {
		// BuildKit leaves cache mount ids out of cache keys: steps taken from
		// the layer cache (of this builder or --cache-from) never filled it.
		s.say("cache %s is empty on this builder: its snapshot is empty; if the steps that fill it came from the layer cache, build once with --no-cache-filter for their stage before exporting", s.Dir)
	}
	if keptKiB := size.kept / 1024; s.MaxKiB > 0 && keptKiB > s.MaxKiB {
		return fmt.Errorf("cache %s holds %d KiB, above its max_size %s: the snapshot is not exported; trim the cache, raise max_size or drop persist", s.Dir, keptKiB, s.MaxSize)
	}
	if s.Auto {
		// The content is read once to compare it, and again only when it
		// changed: an unchanged cache, the common case, writes nothing.
		info, err := os.ReadFile(s.archive(s.Snapshot) + ".info")
		if err != nil {
			s.say("cache %s: the build was given no snapshot of it to compare with: exported", s.Dir)
		} else {
			sum, err := snaparchive.Write(io.Discard, s.Cache, leftOut)
			if err != nil {
				return fmt.Errorf("cache %s: reading it: %w: the snapshot is not exported", s.Dir, err)
			}
			content := contentLine(sum)
			if infoLine(info, 1) == content {
				s.say("cache %s unchanged since the snapshot (%s): not exported", s.Dir, content)
				return nil
			}
			s.say("cache %s changed since the snapshot: exported", s.Dir)
		}
	}
	sum, err := s.write(leftOut, size.kept, size.keptEntries-1)
	if err != nil {
		return fmt.Errorf("cache %s: archiving it: %w: the snapshot is not exported", s.Dir, err)
	}
	if len(skip) > 0 {
		paths := "paths"
		if len(skip) == 1 {
			paths = "path"
		}
		s.say("cache %s: %s, trimmed to %s (left out %d %s the next build does not need), archived in %s.tar", s.Dir, human(size.all), human(sum.ArchiveBytes), len(skip), paths, s.Dir)
	} else {
		s.say("cache %s: %s, archived in %s.tar: %s", s.Dir, human(size.all), s.Dir, human(sum.ArchiveBytes))
	}
	return nil
}

// write writes the archive to Out, with its .sha256 and .info, in one read
// of the cache, which holds entries below its root.
func (s *Step) write(leftOut func(rel string) bool, keptBytes int64, entries int) (snaparchive.Summary, error) {
	target := s.archive(s.Out)
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return snaparchive.Summary{}, err
	}
	f, err := os.Create(target)
	if err != nil {
		return snaparchive.Summary{}, err
	}
	var written counter
	stop := s.showProgress("archived", &written, keptBytes)
	sum, err := snaparchive.Write(io.MultiWriter(f, &written), s.Cache, leftOut)
	stop()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sum, err
	}
	files := map[string]string{
		target + ".sha256": sum.Digest + "  " + path.Base(s.Dir) + ".tar\n",
		target + ".info":   s.Identity + "\n" + contentLine(sum) + "\n" + entriesLine(entries) + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			return sum, err
		}
	}
	// A time from the archive's digest: an image snapshot's layer keeps its
	// digest while the cache does not change, and a snapshot that did change
	// never has the time and size of an older one, which BuildKit's transfer
	// of a local context would take for the same file and not send again.
	seconds, _ := strconv.ParseInt(sum.Digest[:7], 16, 64)
	at := time.Unix(seconds, 0)
	for _, name := range []string{target, target + ".sha256", target + ".info"} {
		if err := os.Chtimes(name, at, at); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// contentLine is the .info line that says what the archive holds, times
// aside: an auto export compares it with the snapshot's.
func contentLine(sum snaparchive.Summary) string { return "content sha256:" + sum.ContentDigest }

// entriesLine is the .info line that says how many entries the archive
// holds below the cache's root: the frontend leaves out an auto export
// whose every archive holds none (HoldsNothing).
func entriesLine(n int) string { return "entries " + strconv.Itoa(n) }

// HoldsNothing tells, from an archive's .info, that the archive holds no
// entry below the cache's root: the cache was empty. Older exports did not
// say: false.
func HoldsNothing(info []byte) bool { return infoLine(info, 2) == entriesLine(0) }

// infoLine is line i (from 0) of an archive's .info, as write writes it:
// what the archive is of, contentLine, entriesLine; "" when it has none.
func infoLine(info []byte, i int) string {
	lines := strings.Split(string(info), "\n")
	if i >= len(lines) {
		return ""
	}
	return strings.TrimSpace(lines[i])
}

// readExclude reads the paths a trim printed (./a/b, one per line) as
// snaparchive's skip takes them (a/b).
func readExclude(file string) (map[string]bool, error) {
	skip := map[string]bool{}
	if file == "" {
		return skip, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rel := path.Clean(strings.TrimPrefix(sc.Text(), "./"))
		if rel != "." && rel != "" && !strings.HasPrefix(rel, "../") && rel != ".." {
			skip[rel] = true
		}
	}
	return skip, sc.Err()
}

// sizes is what a cache holds: the bytes of all its regular files, of
// those the snapshot keeps, and the entries it keeps (its root included).
type sizes struct {
	all, kept   int64
	keptEntries int
}

func measure(root string, skip map[string]bool) (sizes, error) {
	var s sizes
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		kept := !skipped(filepath.ToSlash(rel), skip)
		if kept {
			s.keptEntries++
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			s.all += fi.Size()
			if kept {
				s.kept += fi.Size()
			}
		}
		return nil
	})
	return s, err
}

// skipped tells whether rel or a directory above it is in skip.
func skipped(rel string, skip map[string]bool) bool {
	for ; rel != "." && rel != "/" && rel != ""; rel = path.Dir(rel) {
		if skip[rel] {
			return true
		}
	}
	return false
}

// showProgress says every Progress how many of total KiB have gone through
// n, with verb (seeded, archived); the function it returns stops it.
func (s *Step) showProgress(verb string, n *counter, total int64) (stop func()) {
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		tick := time.NewTicker(s.Progress)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				s.say("cache %s: %s %d of %d KiB", s.Dir, verb, n.Load()/1024, total/1024)
			}
		}
	}()
	return func() { close(done); <-ended }
}

// counter counts the bytes written to it, for showProgress: those read
// (beside an io.TeeReader) or written (beside an io.MultiWriter).
type counter struct{ atomic.Int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.Add(int64(len(p)))
	return len(p), nil
}

// human is a size as people read it: 48.0K, 515.3M.
func human(bytes int64) string {
	v, units := float64(bytes)/1024, []string{"K", "M", "G", "T"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f%s", v, units[i])
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func isEmpty(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}

// emptyDir removes what dir holds, not dir: a mount point.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
