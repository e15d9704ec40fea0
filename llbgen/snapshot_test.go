package llbgen

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tomlfront/tomlfront/internal/seedprobe"
	"github.com/tomlfront/tomlfront/internal/snapstep"
	"github.com/tomlfront/tomlfront/spec"
)

// The tests below run snapshot.sh itself, as the seed and export steps do,
// on directories of the test instead of mounts, with the machine's GNU tools
// and with BusyBox's (the tools of Alpine-like base images), and with this
// test's binary as the frontend's (TestMain): internal/snapstep's tests
// are the step's own.

// runStep makes the test binary the step snapshot.sh runs at $TF_TOOL.
const runStep = "TOMLFRONT_TEST_RUN_SNAPSHOT_STEP"

func TestMain(m *testing.M) {
	if os.Getenv(runStep) == "1" {
		if len(os.Args) < 2 || os.Args[1] != snapstep.Command {
			fmt.Fprintf(os.Stderr, "want %s, got %q\n", snapstep.Command, os.Args[1:])
			os.Exit(2)
		}
		if err := snapstep.Main(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "tomlfront: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

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
	cmd.Env = append([]string{"PATH=" + r.path, runStep + "=1", "TF_TOOL=" + os.Args[0], "TF_DIR=" + dir, "TF_IDENTITY=tomlfront cache snapshot 1, platform linux/amd64, target /c",
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

// TestSnapshotScriptTrimFails: a trim that fails leaves nothing out, and
// the export says so.
func TestSnapshotScriptTrimFails(t *testing.T) {
	r := newSnapshotRun(t, os.Getenv("PATH"))
	writeFiles(t, r.cache, map[string]string{"junk": "j", "kept": "k"})
	out := r.mustRun(t, "export", "deps", "TF_TRIM=echo ./junk; false")
	if !strings.Contains(out, "tomlfront: cache deps: trimming failed (above); the snapshot keeps the whole cache") || !strings.Contains(out, "archived in deps.tar") {
		t.Errorf("export:\n%s", out)
	}
	list, err := exec.Command("tar", "-tf", filepath.Join(r.out, "deps.tar")).CombinedOutput()
	if err != nil || !strings.Contains(string(list), "./junk") {
		t.Errorf("the snapshot lost what a failed trim printed: %v %s", err, list)
	}
}

// TestGuard runs a step's guard, as BuildKit would, on pending mounts of
// the test's: without a mark the command runs at once; at marks it asks for
// every marked cache before it waits, and waits until the marks are gone; a
// mark nobody answers is cleared after ten seconds (GNU tools only: the
// wait is long).
func TestGuard(t *testing.T) {
	dirs := []string{"deps", "go/mod"}
	for name, path := range snapshotTools(t) {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			script := filepath.Join(root, "guard")
			if err := os.WriteFile(script, []byte(strings.ReplaceAll(guardScript(dirs), seedprobe.PendingDir, root)), 0o755); err != nil {
				t.Fatal(err)
			}
			var pending, marks []string
			for _, d := range dirs {
				p := filepath.Join(root, d)
				if err := os.MkdirAll(p, 0o755); err != nil {
					t.Fatal(err)
				}
				pending, marks = append(pending, p), append(marks, filepath.Join(p, seedprobe.Mark))
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
			for _, mark := range marks {
				if err := os.WriteFile(mark, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// The watcher: answers once both caches are asked for, then the
			// seed clears the marks.
			done := make(chan error, 1)
			go func() {
				for range 500 {
					if exist(pending[0], seedprobe.Wanted) && exist(pending[1], seedprobe.Wanted) {
						for _, p := range pending {
							if err := os.WriteFile(filepath.Join(p, seedprobe.Heard), nil, 0o644); err != nil {
								done <- err
								return
							}
						}
						time.Sleep(300 * time.Millisecond)
						done <- errors.Join(os.Remove(marks[0]), os.Remove(marks[1]))
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
				done <- errors.New("the guard did not ask for both caches before it waited")
			}()
			out, err := run()
			if werr := <-done; werr != nil || err != nil || !strings.HasSuffix(out, "ran step\n") ||
				!strings.Contains(out, "tomlfront: cache go/mod is empty on this builder and marked for a seed from the snapshot") {
				t.Fatalf("answered: %v, %v\n%s", werr, err, out)
			}
			if name != "GNU" {
				return
			}
			if err := os.WriteFile(marks[0], nil, 0o644); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(pending[0], seedprobe.Heard))
			out, err = run()
			if _, statErr := os.Stat(marks[0]); err != nil || statErr == nil || !strings.Contains(out, "mark cleared") || !strings.HasSuffix(out, "ran step\n") {
				t.Fatalf("unanswered: %v, mark left: %v\n%s", err, statErr == nil, out)
			}
		})
	}
}

func exist(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}
