package snapstep

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tomlfront/tomlfront/internal/seedprobe"
)

// The tests run steps on directories of the test instead of mounts;
// llbgen's tests run them through snapshot.sh, with its trims.

type run struct {
	step *Step
	log  *bytes.Buffer
}

func newRun(t *testing.T) *run {
	t.Helper()
	log := &bytes.Buffer{}
	return &run{log: log, step: &Step{
		Dir: "deps", Identity: "tomlfront cache snapshot 1, platform linux/amd64, target /c",
		Cache: t.TempDir(), Snapshot: t.TempDir(), Out: t.TempDir(), Pending: t.TempDir(),
		Progress: time.Hour, Log: log,
	}}
}

// said runs f and returns what the step said.
func (r *run) said(t *testing.T, f func() error) string {
	t.Helper()
	r.log.Reset()
	if err := f(); err != nil {
		t.Fatalf("%v\n%s", err, r.log)
	}
	return r.log.String()
}

// useOutput makes what the last export wrote the snapshot of the next
// step, with an empty cache.
func (r *run) useOutput(t *testing.T) {
	r.step.Snapshot, r.step.Out, r.step.Cache = r.step.Out, t.TempDir(), t.TempDir()
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func entries(t *testing.T, dir string) int {
	t.Helper()
	e, err := os.ReadDir(dir)
	must(t, err)
	return len(e)
}

// TestSeedRefuses: a snapshot that is corrupt, truncated, unfinished, of
// another platform or without the cache leaves the cache empty, saying why,
// and the cache's mark cleared.
func TestSeedRefuses(t *testing.T) {
	tests := []struct {
		name, say string
		spoil     func(snapshot string) error
	}{
		{"truncated", "deps.tar is corrupt or truncated (", func(s string) error {
			return os.Truncate(filepath.Join(s, "deps.tar"), 3000)
		}},
		// What a killed export left: every file, the last ones empty.
		{"unfinished export", "deps.tar is incomplete (its .sha256 or .info is missing or empty, as an export that did not finish leaves it): cache deps starts empty", func(s string) error {
			return os.Truncate(filepath.Join(s, "deps.tar.info"), 0)
		}},
		{"no digest", "deps.tar is incomplete", func(s string) error { return os.Remove(filepath.Join(s, "deps.tar.sha256")) }},
		{"corrupt", "deps.tar is corrupt or truncated (its digest is not its .sha256's): cache deps starts empty", func(s string) error {
			f, err := os.OpenFile(filepath.Join(s, "deps.tar"), os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte("garbage"), 1024+600) // in the content of a file
			return err
		}},
		{"another platform", "deps.tar is of another platform or cache layout (tomlfront cache snapshot 1, platform linux/arm64, target /c; this build needs tomlfront cache snapshot 1, platform linux/amd64, target /c)", func(s string) error {
			return os.WriteFile(filepath.Join(s, "deps.tar.info"), []byte("tomlfront cache snapshot 1, platform linux/arm64, target /c\n"), 0o644)
		}},
		{"no archive", "the snapshot has no deps.tar; cache deps starts empty", func(s string) error {
			return os.Remove(filepath.Join(s, "deps.tar"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t)
			writeFiles(t, r.step.Cache, map[string]string{"big": strings.Repeat("x", 20000), "small": "s"})
			r.said(t, r.step.Export)
			r.useOutput(t)
			must(t, tt.spoil(r.step.Snapshot))
			mark := filepath.Join(r.step.Pending, seedprobe.Mark)
			must(t, os.WriteFile(mark, nil, 0o644))
			if out := r.said(t, r.step.Seed); !strings.Contains(out, tt.say) {
				t.Errorf("the seed says\n%s\nwant %q", out, tt.say)
			}
			if _, err := os.Stat(mark); err == nil {
				t.Error("the mark is not cleared")
			}
			if n := entries(t, r.step.Cache); n != 0 {
				t.Errorf("the cache holds %d entries, want none", n)
			}
		})
	}
}

// TestSeed: a seed fills an empty cache, keeps one with content, and reads
// a snapshot written as a tree, as older exports wrote them.
func TestSeed(t *testing.T) {
	r := newRun(t)
	writeFiles(t, r.step.Cache, map[string]string{"a/one": "1"})
	r.said(t, r.step.Export)
	r.useOutput(t)
	if out := r.said(t, r.step.Seed); !strings.Contains(out, "tomlfront: cache deps seeded from the snapshot: ") {
		t.Errorf("seed:\n%s", out)
	}
	if out := r.said(t, r.step.Seed); !strings.Contains(out, "tomlfront: cache deps already has content on this builder; the snapshot is not used") {
		t.Errorf("seed of a cache with content:\n%s", out)
	}

	r = newRun(t)
	writeFiles(t, r.step.Snapshot, map[string]string{"deps/a/one": "1"})
	if out := r.said(t, r.step.Seed); !strings.Contains(out, "tomlfront: cache deps seeded from the snapshot (a tree, as older exports wrote it)") {
		t.Errorf("seed from a tree:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(r.step.Cache, "a/one")); err != nil || string(b) != "1" {
		t.Errorf("seeded from a tree: %q, %v", b, err)
	}

	r = newRun(t)
	r.step.Snapshot = filepath.Join(t.TempDir(), "none")
	if out := r.said(t, r.step.Seed); out != "" {
		t.Errorf("a build given no snapshot says %q", out)
	}
}

// TestExportAuto: an auto export leaves out a cache whose content is the
// snapshot's, even when its times changed, and exports one that changed or
// that the build got no snapshot of.
func TestExportAuto(t *testing.T) {
	r := newRun(t)
	r.step.Auto = true
	writeFiles(t, r.step.Cache, map[string]string{"a/one": "1", "two": "2"})
	if out := r.said(t, r.step.Export); !strings.Contains(out, "cache deps: the build was given no snapshot of it to compare with: exported") {
		t.Errorf("first export:\n%s", out)
	}
	r.useOutput(t)
	r.said(t, r.step.Seed)
	later := time.Now().Add(time.Hour)
	must(t, os.Chtimes(filepath.Join(r.step.Cache, "two"), later, later))
	if out := r.said(t, r.step.Export); !strings.Contains(out, "cache deps unchanged since the snapshot (content sha256:") {
		t.Errorf("unchanged export:\n%s", out)
	}
	if n := entries(t, r.step.Out); n != 0 {
		t.Errorf("an unchanged cache was exported: %d entries", n)
	}
	writeFiles(t, r.step.Cache, map[string]string{"two": "changed"})
	if out := r.said(t, r.step.Export); !strings.Contains(out, "cache deps changed since the snapshot: exported") {
		t.Errorf("changed export:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(r.step.Out, "deps.tar")); err != nil {
		t.Error(err)
	}
}

// TestExportMaxSize: an export above max_size fails before writing
// anything, with what to do; a trimmed cache is measured after its trim.
func TestExportMaxSize(t *testing.T) {
	r := newRun(t)
	r.step.MaxKiB, r.step.MaxSize = 200, "200k"
	writeFiles(t, r.step.Cache, map[string]string{"big": strings.Repeat("x", 300<<10), "small": "s"})
	err := r.step.Export()
	if err == nil || err.Error() != "cache deps holds 300 KiB, above its max_size 200k: the snapshot is not exported; trim the cache, raise max_size or drop persist" {
		t.Errorf("export above max_size: %v", err)
	}
	if n := entries(t, r.step.Out); n != 0 {
		t.Errorf("the export wrote %d entries", n)
	}
	r.step.Exclude = filepath.Join(t.TempDir(), "exclude")
	must(t, os.WriteFile(r.step.Exclude, []byte("./big\n"), 0o644))
	if out := r.said(t, r.step.Export); !strings.Contains(out, "(left out 1 path the next build does not need), archived in deps.tar") {
		t.Errorf("trimmed export:\n%s", out)
	}
}

// TestExportTimes: the archive's time follows its content. The same cache
// exports to the same bytes and time (an image snapshot's layer keeps its
// digest); a changed cache of the same size gets another time, or
// BuildKit's transfer of a local context would keep the older file.
func TestExportTimes(t *testing.T) {
	r := newRun(t)
	exportOf := func(content string) (time.Time, string) {
		t.Helper()
		writeFiles(t, r.step.Cache, map[string]string{"f": content})
		must(t, os.Chtimes(filepath.Join(r.step.Cache, "f"), time.Unix(1e9, 0), time.Unix(1e9, 0)))
		must(t, os.Chtimes(r.step.Cache, time.Unix(1e9, 0), time.Unix(1e9, 0)))
		r.step.Out = t.TempDir()
		r.said(t, r.step.Export)
		sum := filepath.Join(r.step.Out, "deps.tar.sha256")
		fi, err := os.Stat(sum)
		must(t, err)
		b, err := os.ReadFile(sum)
		must(t, err)
		return fi.ModTime(), string(b)
	}
	t1, sum1 := exportOf("one")
	t2, sum2 := exportOf("one")
	t3, _ := exportOf("two")
	if sum1 != sum2 || !t1.Equal(t2) {
		t.Errorf("the same cache exported twice: %s at %v, then %s at %v", sum1, t1, sum2, t2)
	}
	if t1.Equal(t3) {
		t.Errorf("a changed cache of the same size has the older archive's time %v", t1)
	}
}

// TestExportFails: an export that cannot write its archive fails, rather
// than leave a snapshot of part of the cache.
func TestExportFails(t *testing.T) {
	r := newRun(t)
	writeFiles(t, r.step.Cache, map[string]string{"f": "x"})
	r.step.Out = filepath.Join(t.TempDir(), "a-file")
	must(t, os.WriteFile(r.step.Out, nil, 0o644))
	if err := r.step.Export(); err == nil || !strings.HasPrefix(err.Error(), "cache deps: archiving it: ") || !strings.HasSuffix(err.Error(), ": the snapshot is not exported") {
		t.Errorf("an export that could not write: %v", err)
	}
}

// TestExportEmpty: exporting an empty cache says why it may be empty.
func TestExportEmpty(t *testing.T) {
	r := newRun(t)
	if out := r.said(t, r.step.Export); !strings.Contains(out, "tomlfront: cache deps is empty on this builder: its snapshot is empty") {
		t.Errorf("export of an empty cache:\n%s", out)
	}
	writeFiles(t, r.step.Cache, map[string]string{"f": "x"})
	if out := r.said(t, r.step.Export); strings.Contains(out, "is empty on this builder") {
		t.Errorf("export of a cache with a file:\n%s", out)
	}
}

// TestHoldsNothing: an archive's .info says whether the cache held
// anything.
func TestHoldsNothing(t *testing.T) {
	r := newRun(t)
	r.said(t, r.step.Export)
	info := func() []byte {
		dt, err := os.ReadFile(r.step.archive(r.step.Out) + ".info")
		if err != nil {
			t.Fatal(err)
		}
		return dt
	}
	if !HoldsNothing(info()) {
		t.Errorf("the .info of an empty cache's archive does not say it holds nothing:\n%s", info())
	}
	writeFiles(t, r.step.Cache, map[string]string{"d/f": "x"})
	r.said(t, r.step.Export)
	if HoldsNothing(info()) {
		t.Errorf("the .info of a cache with a file says it holds nothing:\n%s", info())
	}
	if HoldsNothing([]byte("tomlfront cache snapshot 1, platform linux/amd64, target /c\ncontent sha256:00\n")) {
		t.Errorf("an older .info, which does not say, is taken to hold nothing")
	}
}

// lines is a log that tells when a line is written.
type lines struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.wrote <- struct{}{}:
	default:
	}
	return l.buf.Write(p)
}

// TestProgress: a long archive says how far it has come, in KiB.
func TestProgress(t *testing.T) {
	log := &lines{wrote: make(chan struct{}, 1)}
	s := &Step{Dir: "deps", Progress: time.Millisecond, Log: log}
	var n counter
	n.Store(3 << 10)
	stop := s.showProgress("seeded", &n, 100<<10)
	<-log.wrote // no timer races this: it waits for the first tick
	stop()
	log.mu.Lock()
	defer log.mu.Unlock()
	if got := log.buf.String(); !strings.HasPrefix(got, "tomlfront: cache deps: seeded 3 of 100 KiB\n") {
		t.Errorf("progress %q", got)
	}
}

func TestFromEnv(t *testing.T) {
	base := map[string]string{"TF_DIR": "go/mod", "TF_IDENTITY": "id", "TF_CACHE": "/c", "TF_SNAPSHOT": "/s", "TF_OUT": "/o", "TF_PENDING": "/p"}
	with := func(kv ...string) func(string) string {
		env := maps.Clone(base)
		for i := 0; i+1 < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return func(k string) string { return env[k] }
	}
	s, err := FromEnv(with("TF_MAX_KIB", "200", "TF_MAX_SIZE", "200k", "TF_AUTO", "1", "TF_PROGRESS_SECONDS", "2"))
	must(t, err)
	want := Step{Dir: "go/mod", Identity: "id", Cache: "/c", Snapshot: "/s", Out: "/o", Pending: "/p", MaxKiB: 200, MaxSize: "200k", Auto: true, Progress: 2 * time.Second}
	if *s != want {
		t.Errorf("%+v, want %+v", *s, want)
	}
	for _, bad := range [][]string{{"TF_CACHE", ""}, {"TF_DIR", ""}, {"TF_MAX_KIB", "x"}, {"TF_PROGRESS_SECONDS", "0"}} {
		if _, err := FromEnv(with(bad...)); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
