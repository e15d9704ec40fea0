package llbgen

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tomlfront/tomlfront/internal/seedprobe"
	"github.com/tomlfront/tomlfront/spec"
)

// The tests below run snapshot.sh itself, as the seed and export steps do,
// on directories of the test instead of mounts, with the machine's GNU tools
// and with BusyBox's (the tools of Alpine-like base images).

// snapshotTools are the tool sets the script runs with: PATH for each.
func snapshotTools(t *testing.T) map[string]string {
	t.Helper()
	tools := map[string]string{"GNU": os.Getenv("PATH")}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Logf("no busybox on this machine: the script runs with GNU tools only")
		return tools
	}
	dir := t.TempDir()
	for _, applet := range strings.Fields("sh tar find stat awk du sha256sum cut sort xargs tr grep sed head ls mktemp touch date cat rm mkdir dirname basename cp sleep printf tee mkfifo") {
		if err := os.Symlink(bb, filepath.Join(dir, applet)); err != nil {
			t.Fatal(err)
		}
	}
	tools["BusyBox"] = dir
	return tools
}

// snapshotRun is one run of the script: its paths and environment.
type snapshotRun struct {
	path                                 string // PATH
	cache, snapshot, stage, out, pending string
	env                                  []string
}

func newSnapshotRun(t *testing.T, path string) *snapshotRun {
	r := &snapshotRun{path: path}
	for _, d := range []*string{&r.cache, &r.snapshot, &r.stage, &r.out, &r.pending} {
		*d = t.TempDir()
	}
	return r
}

// mark marks the cache as the seed probe does; marked tells whether it is.
func (r *snapshotRun) mark(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.pending, "seed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r *snapshotRun) marked() bool {
	_, err := os.Stat(filepath.Join(r.pending, "seed"))
	return err == nil
}

// run runs the step (seed or export) for the cache directory dir.
func (r *snapshotRun) run(t *testing.T, step, dir string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", "-c", snapshotScript, "tomlfront", step)
	cmd.Env = append([]string{"PATH=" + r.path, "TF_DIR=" + dir, "TF_IDENTITY=tomlfront cache snapshot 1, platform linux/amd64, target /c",
		"TF_CACHE=" + r.cache, "TF_SNAPSHOT=" + r.snapshot, "TF_STAGE=" + r.stage, "TF_OUT=" + r.out, "TF_PENDING=" + r.pending}, r.env...)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustRun is run that fails the test when the script fails.
func (r *snapshotRun) mustRun(t *testing.T, step, dir string, env ...string) string {
	t.Helper()
	out, err := r.run(t, step, dir, env...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", step, dir, err, out)
	}
	return out
}

// useOutput makes what the last export wrote the snapshot of the next run,
// with an empty cache.
func (r *snapshotRun) useOutput(t *testing.T) {
	r.snapshot, r.out, r.cache = r.out, t.TempDir(), t.TempDir()
}

// writeFiles writes files (path: content) under root, with their parents.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// describe lists a tree as the round trip must keep it: every path with its
// type, mode, owner, size, link target and hard-link count.
func describe(t *testing.T, root string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `cd "$1" && find . -exec stat -c '%n %F %a %u:%g %s %h' {} + | LC_ALL=C sort; find . -type l -exec readlink {} +`, "sh", root).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return string(out)
}

func TestSnapshotScriptRoundTrip(t *testing.T) {
	for name, path := range snapshotTools(t) {
		t.Run(name, func(t *testing.T) {
			r := newSnapshotRun(t, path)
			writeFiles(t, r.cache, map[string]string{"a/one": "1", "a/b/two": "22", "three": "333"})
			for _, err := range []error{
				os.Symlink("a/one", filepath.Join(r.cache, "link")),
				os.Link(filepath.Join(r.cache, "three"), filepath.Join(r.cache, "hard")),
				os.Chmod(filepath.Join(r.cache, "a/b"), 0o700),
				os.Chown(filepath.Join(r.cache, "a/b/two"), 1000, 1000),
				os.Chown(filepath.Join(r.cache, "a/b"), 1000, 1000),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
			want := describe(t, r.cache)
			if out := r.mustRun(t, "export", "deps"); !strings.Contains(out, "tomlfront: cache deps: ") || !strings.Contains(out, "archived in deps.tar") {
				t.Errorf("the export does not say what it archived:\n%s", out)
			}
			r.useOutput(t)
			r.mark(t)
			if out := r.mustRun(t, "seed", "deps"); !strings.Contains(out, "tomlfront: cache deps seeded from the snapshot") || r.marked() {
				t.Errorf("seed (mark cleared: %v):\n%s", !r.marked(), out)
			}
			if got := describe(t, r.cache); got != want {
				t.Errorf("the round trip changed the cache:\n%s\nwant\n%s", got, want)
			}
			// A builder with content keeps it.
			if out := r.mustRun(t, "seed", "deps"); !strings.Contains(out, "already has content on this builder") {
				t.Errorf("second seed:\n%s", out)
			}
		})
	}
}

// TestSnapshotScriptRefuses: a snapshot that is corrupt, truncated, of
// another platform or without the cache leaves the cache empty, saying why.
func TestSnapshotScriptRefuses(t *testing.T) {
	for name, path := range snapshotTools(t) {
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct {
				name, say string
				spoil     func(snapshot string) error
			}{
				{"truncated", "deps.tar is corrupt or truncated (its digest is not its .sha256's): cache deps starts empty", func(s string) error {
					return os.Truncate(filepath.Join(s, "deps.tar"), 3000)
				}},
				// What a killed export left: every file, the last ones empty.
				{"unfinished export", "deps.tar is incomplete (its .sha256 or .info is missing or empty, as an export that did not finish leaves it): cache deps starts empty", func(s string) error {
					return os.Truncate(filepath.Join(s, "deps.tar.info"), 0)
				}},
				{"no digest", "deps.tar is incomplete", func(s string) error {
					return os.Remove(filepath.Join(s, "deps.tar.sha256"))
				}},
				{"corrupt", "deps.tar is corrupt or truncated (its digest is not its .sha256's)", func(s string) error {
					f, err := os.OpenFile(filepath.Join(s, "deps.tar"), os.O_WRONLY, 0)
					if err != nil {
						return err
					}
					defer f.Close()
					_, err = f.WriteAt([]byte("garbage"), 1024)
					return err
				}},
				{"another platform", "deps.tar is of another platform or cache layout (tomlfront cache snapshot 1, platform linux/arm64, target /c; this build needs tomlfront cache snapshot 1, platform linux/amd64, target /c)", func(s string) error {
					return os.WriteFile(filepath.Join(s, "deps.tar.info"), []byte("tomlfront cache snapshot 1, platform linux/arm64, target /c\n"), 0o644)
				}},
				{"no archive", "the snapshot has no deps.tar; cache deps starts empty", func(s string) error {
					return os.Remove(filepath.Join(s, "deps.tar"))
				}},
			} {
				r := newSnapshotRun(t, path)
				writeFiles(t, r.cache, map[string]string{"big": strings.Repeat("x", 20000), "small": "s"})
				r.mustRun(t, "export", "deps")
				r.useOutput(t)
				if err := c.spoil(r.snapshot); err != nil {
					t.Fatal(err)
				}
				r.mark(t)
				if out := r.mustRun(t, "seed", "deps"); !strings.Contains(out, c.say) || r.marked() {
					t.Errorf("%s: the seed says\n%s\nwant %q; the mark is cleared: %v", c.name, out, c.say, !r.marked())
				}
				if entries, _ := os.ReadDir(r.cache); len(entries) != 0 {
					t.Errorf("%s: the cache holds %d entries, want none", c.name, len(entries))
				}
			}
		})
	}
}

// TestSnapshotScriptTrim runs the presets' trims: each leaves out what it
// says and keeps the rest, and the export says how much it left out.
func TestSnapshotScriptTrim(t *testing.T) {
	old := time.Now().Add(-3 * time.Hour)
	status := "Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u14\n\nPackage: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 1:2025b-0+deb12u1\n"
	for _, c := range []struct {
		preset string
		dir    int // of the preset's directories
		files  map[string]string
		setup  func(r *snapshotRun) error
		kept   []string
		left   []string
	}{
		{"go", 1,
			map[string]string{"ab/ab01-a": "used", "ab/ab02-d": "used", "cd/cd01-a": "unused", "cd/cd02-d": "unused", "trim.txt": "1", "README": "r"},
			func(r *snapshotRun) error {
				for _, f := range []string{"cd/cd01-a", "cd/cd02-d", "trim.txt", "README"} {
					if err := os.Chtimes(filepath.Join(r.cache, f), old, old); err != nil {
						return err
					}
				}
				return nil
			},
			[]string{"./ab/ab01-a", "./ab/ab02-d", "./trim.txt", "./README"}, []string{"./cd/cd01-a", "./cd/cd02-d"}},
		{"apt", 0,
			map[string]string{"archives/curl_7.88.1-10+deb12u14_amd64.deb": "c", "archives/curl_7.88.1-10+deb12u12_amd64.deb": "old", "archives/tzdata_1%3a2025b-0+deb12u1_all.deb": "tz",
				"archives/partial/x.deb": "p", "archives/lock": "", "pkgcache.bin": "bin", "srcpkgcache.bin": "bin"},
			func(r *snapshotRun) error {
				writeFiles(t, r.stage, map[string]string{"var/lib/dpkg/status": status})
				return nil
			},
			[]string{"./archives/curl_7.88.1-10+deb12u14_amd64.deb", "./archives/tzdata_1%3a2025b-0+deb12u1_all.deb", "./archives/lock", "./archives/partial"},
			[]string{"./archives/curl_7.88.1-10+deb12u12_amd64.deb", "./archives/partial/x.deb", "./pkgcache.bin", "./srcpkgcache.bin"}},
		{"cargo", 0,
			map[string]string{"cache/index/serde-1.0.0.crate": "c", "src/index/serde-1.0.0/lib.rs": "s", "index/x": "i"},
			nil, []string{"./cache/index/serde-1.0.0.crate", "./index/x"}, []string{"./src", "./src/index/serde-1.0.0/lib.rs"}},
	} {
		// The trims are for images with GNU tar (Debian's, Ubuntu's...);
		// TestSnapshotScriptTrimFallback is the rest.
		t.Run(c.preset, func(t *testing.T) {
			r := newSnapshotRun(t, os.Getenv("PATH"))
			writeFiles(t, r.cache, c.files)
			if c.setup != nil {
				if err := c.setup(r); err != nil {
					t.Fatal(err)
				}
			}
			trim := spec.Presets[c.preset].Dirs[c.dir].Trim
			out := r.mustRun(t, "export", "c", "TF_TRIM="+trim, "TF_STARTED="+strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10))
			if !strings.Contains(out, "the next build does not need), archived in c.tar") {
				t.Errorf("the export does not say it trimmed:\n%s", out)
			}
			list, err := exec.Command("tar", "-tf", filepath.Join(r.out, "c.tar")).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, list)
			}
			names := map[string]bool{}
			for _, n := range strings.Fields(string(list)) {
				names[strings.TrimSuffix(n, "/")] = true
			}
			for _, n := range c.kept {
				if !names[n] {
					t.Errorf("the trim left out %s, which the next build needs: %s", n, list)
				}
			}
			for _, n := range c.left {
				if names[n] {
					t.Errorf("the trim kept %s", n)
				}
			}
		})
	}
}

// TestSnapshotScriptTrimFallback: with a tar that cannot leave paths out
// (Debian's BusyBox), the export keeps the whole cache and says so.
func TestSnapshotScriptTrimFallback(t *testing.T) {
	path, ok := snapshotTools(t)["BusyBox"]
	if !ok {
		t.Skip("no busybox on this machine")
	}
	if err := exec.Command(filepath.Join(path, "tar"), "-cf", "/dev/null", "-X", "/dev/null", "/dev/null").Run(); err == nil {
		t.Skip("this machine's busybox tar leaves paths out")
	}
	r := newSnapshotRun(t, path)
	writeFiles(t, r.cache, map[string]string{"junk": "j", "kept": "k"})
	if out := r.mustRun(t, "export", "deps", "TF_TRIM=echo ./junk"); !strings.Contains(out, "this image's tar cannot leave paths out (-X); the snapshot keeps the whole cache") {
		t.Errorf("export:\n%s", out)
	}
	list, err := exec.Command("tar", "-tf", filepath.Join(r.out, "deps.tar")).CombinedOutput()
	if err != nil || !strings.Contains(string(list), "./junk") {
		t.Errorf("the snapshot lost what it could not leave out: %v %s", err, list)
	}
}

// TestSnapshotScriptAuto: an auto export leaves out a cache whose content is
// the snapshot's, even when its times changed, and exports one that changed
// or that the build got no snapshot of.
func TestSnapshotScriptAuto(t *testing.T) {
	for name, path := range snapshotTools(t) {
		t.Run(name, func(t *testing.T) {
			r := newSnapshotRun(t, path)
			writeFiles(t, r.cache, map[string]string{"a/one": "1", "two": "2"})
			if out := r.mustRun(t, "export", "deps", "TF_AUTO=1"); !strings.Contains(out, "cache deps: the build was given no snapshot of it to compare with: exported") {
				t.Errorf("first export:\n%s", out)
			}
			r.useOutput(t)
			r.mustRun(t, "seed", "deps")
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(filepath.Join(r.cache, "two"), later, later); err != nil {
				t.Fatal(err)
			}
			out := r.mustRun(t, "export", "deps", "TF_AUTO=1")
			if !strings.Contains(out, "cache deps unchanged since the snapshot (content sha256:") {
				t.Errorf("unchanged export:\n%s", out)
			}
			if entries, _ := os.ReadDir(r.out); len(entries) != 0 {
				t.Errorf("an unchanged cache was exported: %v", entries)
			}
			writeFiles(t, r.cache, map[string]string{"two": "changed"})
			if out := r.mustRun(t, "export", "deps", "TF_AUTO=1"); !strings.Contains(out, "cache deps changed since the snapshot: exported") {
				t.Errorf("changed export:\n%s", out)
			}
			if _, err := os.Stat(filepath.Join(r.out, "deps.tar")); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSnapshotScriptMaxSize: an export above max_size fails before writing
// anything, with what to do; a trimmed cache is measured after its trim.
func TestSnapshotScriptMaxSize(t *testing.T) {
	for name, path := range snapshotTools(t) {
		t.Run(name, func(t *testing.T) {
			r := newSnapshotRun(t, path)
			writeFiles(t, r.cache, map[string]string{"big": strings.Repeat("x", 300<<10), "small": "s"})
			out, err := r.run(t, "export", "deps", "TF_MAX_KIB=200", "TF_MAX_SIZE=200k")
			if err == nil || !strings.Contains(out, "tomlfront: cache deps holds 300 KiB, above its max_size 200k: the snapshot is not exported; trim the cache, raise max_size or drop persist") {
				t.Errorf("export above max_size: %v\n%s", err, out)
			}
			if entries, _ := os.ReadDir(r.out); len(entries) != 0 {
				t.Errorf("the export wrote %v", entries)
			}
			if name == "GNU" { // TestSnapshotScriptTrimFallback has BusyBox's
				r.mustRun(t, "export", "deps", "TF_MAX_KIB=200", "TF_MAX_SIZE=200k", "TF_TRIM=echo ./big")
			}
		})
	}
}

// TestSnapshotScriptProgress: an archive that takes a while says how far it
// has come, in KiB, while it is written and while it is extracted.
func TestSnapshotScriptProgress(t *testing.T) {
	realTar, err := exec.LookPath("tar")
	if err != nil {
		t.Fatal(err)
	}
	realDu, err := exec.LookPath("du")
	if err != nil {
		t.Fatal(err)
	}
	// A tar that starts only once the script has measured what it has
	// done so far (a du after the tar started: the progress tick), and a
	// du that counts its calls. No timer races another: the tick comes
	// before tar can end, however slow the machine. A tick that never
	// comes lets tar go after a minute, and the test fails.
	slow, calls := t.TempDir(), filepath.Join(t.TempDir(), "du-calls")
	writeFiles(t, slow, map[string]string{
		"du": "#!/bin/sh\necho x >> " + calls + "\nexec " + realDu + ` "$@"` + "\n",
		"tar": "#!/bin/sh\ncount() { cat " + calls + " 2>/dev/null | wc -l; }\nn=$(count) i=0\n" +
			`while [ "$(count)" -le "$n" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done` + "\nexec " + realTar + ` "$@"` + "\n",
	})
	for _, name := range []string{"du", "tar"} {
		if err := os.Chmod(filepath.Join(slow, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r := newSnapshotRun(t, slow+":"+os.Getenv("PATH"))
	r.env = []string{"TF_PROGRESS_SECONDS=1"}
	writeFiles(t, r.cache, map[string]string{"a": strings.Repeat("a", 100<<10)})
	if out := r.mustRun(t, "export", "deps"); !strings.Contains(out, "tomlfront: cache deps: archived 0 of 100 KiB") {
		t.Errorf("the export shows no progress:\n%s", out)
	}
	r.useOutput(t)
	if out := r.mustRun(t, "seed", "deps"); !strings.Contains(out, "tomlfront: cache deps: seeded ") || !strings.Contains(out, " KiB") {
		t.Errorf("the seed shows no progress:\n%s", out)
	}
}

// TestSnapshotScriptTimes: the archive's time follows its content. The same
// cache exports to the same bytes and time (an image snapshot's layer keeps
// its digest); a changed cache of the same size gets another time, or
// BuildKit's transfer of a local context would keep the older file.
func TestSnapshotScriptTimes(t *testing.T) {
	r := newSnapshotRun(t, os.Getenv("PATH"))
	exportOf := func(content string) (time.Time, string) {
		t.Helper()
		writeFiles(t, r.cache, map[string]string{"f": content})
		if err := os.Chtimes(filepath.Join(r.cache, "f"), time.Unix(1e9, 0), time.Unix(1e9, 0)); err != nil {
			t.Fatal(err)
		}
		r.out = t.TempDir()
		r.mustRun(t, "export", "deps")
		fi, err := os.Stat(filepath.Join(r.out, "deps.tar.sha256"))
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime(), readTestFile(t, filepath.Join(r.out, "deps.tar.sha256"))
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

func readTestFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSnapshotScriptTarFails: an export whose tar fails fails, rather than
// write a snapshot of part of the cache.
func TestSnapshotScriptTarFails(t *testing.T) {
	failing := t.TempDir()
	writeFiles(t, failing, map[string]string{"tar": "#!/bin/sh\necho 'tar: ./f: Cannot open' >&2\nexit 2\n"})
	if err := os.Chmod(filepath.Join(failing, "tar"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := newSnapshotRun(t, failing+":"+os.Getenv("PATH"))
	writeFiles(t, r.cache, map[string]string{"f": "x"})
	out, err := r.run(t, "export", "deps")
	if err == nil || !strings.Contains(out, "tomlfront: cache deps: tar failed (above): the snapshot is not exported") {
		t.Errorf("an export whose tar failed: %v\n%s", err, out)
	}
}

// TestSnapshotScriptEmpty: exporting an empty cache says why it may be empty.
func TestSnapshotScriptEmpty(t *testing.T) {
	r := newSnapshotRun(t, os.Getenv("PATH"))
	if out := r.mustRun(t, "export", "deps"); !strings.Contains(out, "tomlfront: cache deps is empty on this builder: its snapshot is empty") {
		t.Errorf("export of an empty cache:\n%s", out)
	}
	writeFiles(t, r.cache, map[string]string{"f": "x"})
	if out := r.mustRun(t, "export", "deps"); strings.Contains(out, "is empty on this builder") {
		t.Errorf("export of a cache with a file:\n%s", out)
	}
}

// TestGuard runs a step's guard, as BuildKit would, on a pending mount of
// the test's: without a mark the command runs at once; at a mark it asks
// for the cache and waits until the mark is gone; a mark nobody answers is
// cleared after ten seconds (GNU tools only: the wait is long).
func TestGuard(t *testing.T) {
	for name, path := range snapshotTools(t) {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			script := filepath.Join(root, "guard")
			if err := os.WriteFile(script, []byte(strings.ReplaceAll(guardScript([]string{"deps"}), seedprobe.PendingDir, root)), 0o755); err != nil {
				t.Fatal(err)
			}
			pending := filepath.Join(root, "deps")
			if err := os.MkdirAll(pending, 0o755); err != nil {
				t.Fatal(err)
			}
			run := func() (string, error) {
				cmd := exec.Command("sh", script, "sh", "-c", `echo "ran $0"`, "step")
				cmd.Env = []string{"PATH=" + path}
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			if out, err := run(); err != nil || out != "ran step\n" {
				t.Fatalf("no mark: %v\n%s", err, out)
			}
			mark := filepath.Join(pending, seedprobe.Mark)
			if err := os.WriteFile(mark, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			// The watcher: answers the ask, then the seed clears the mark.
			done := make(chan error, 1)
			go func() {
				for range 500 {
					if _, err := os.Stat(filepath.Join(pending, seedprobe.Wanted)); err == nil {
						if err := os.WriteFile(filepath.Join(pending, seedprobe.Heard), nil, 0o644); err != nil {
							done <- err
							return
						}
						time.Sleep(300 * time.Millisecond)
						done <- os.Remove(mark)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
				done <- errors.New("the guard did not ask for the cache")
			}()
			out, err := run()
			if werr := <-done; werr != nil || err != nil || !strings.HasSuffix(out, "ran step\n") ||
				!strings.Contains(out, "tomlfront: cache deps is empty on this builder and marked for a seed from the snapshot") {
				t.Fatalf("answered: %v, %v\n%s", werr, err, out)
			}
			if name != "GNU" {
				return
			}
			if err := os.WriteFile(mark, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(pending, seedprobe.Heard))
			out, err = run()
			if _, statErr := os.Stat(mark); err != nil || statErr == nil || !strings.Contains(out, "mark cleared") || !strings.HasSuffix(out, "ran step\n") {
				t.Fatalf("unanswered: %v, mark left: %v\n%s", err, statErr == nil, out)
			}
		})
	}
}
