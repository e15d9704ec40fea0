//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// TestCacheMountPersists writes a random token into a cache mount in one
// build and reads it in another: a cache mount outlives the build.
func TestCacheMountPersists(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 5*time.Minute)
	ns := nonce(t)
	spec := `
[args]
STEP = ""
NONCE = ""
[caches.data]
target = "/data"
[stages.s]
from = "busybox:1.36"
args = ["STEP", "NONCE"]
caches = ["data"]
[[stages.s.steps]]
run = """
mkdir -p /result
if [ "$STEP" = write ]; then head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > /data/token; fi
cp /data/token /result/token
"""
[stages.out]
from = "scratch"
[[stages.out.steps]]
copy = ["/result/"]
from = "s"
`
	dir := writeTree(t, map[string]string{"build.toml": spec})
	var tokens []string
	for _, step := range []string{"write", "read"} {
		exp, out := localExport(t)
		mustSolve(ctx, t, solveOpt{dir: dir, exports: []client.ExportEntry{exp},
			attrs: map[string]string{"build-arg:STEP": step, "build-arg:NONCE": ns, "build-arg:BUILDKIT_CACHE_MOUNT_NS": ns}})
		tokens = append(tokens, readFile(t, filepath.Join(out, "token")))
	}
	if len(tokens[0]) != 32 || tokens[0] != tokens[1] {
		t.Errorf("tokens %q: the second build did not see the first's cache", tokens)
	}
}

// sharingRun is what one build saw while its step held the cache mount /c.
type sharingRun struct {
	before []string // the cache's entries when the step started: what an earlier holder left
	seen   []string // the cache's entries once the other build was in too (or gone)
	log    []string // the records of both builds so far: "enter-RUN" and "exit-RUN", in order
	ready  bool     // the other build reached its step on /c while this one was in it
	other  string   // the other build's step: "in" with this one, "gone" before this one came in, or "out" for all of it
}

// The two builds of runConcurrently meet in a second cache, /sync, that is
// always shared: each build marks there that it is about to mount /c
// (ready-RUN), that it is in its step on /c (in-RUN) and that it left it
// (done-RUN). Every wait is a bounded loop on a marker, not a fixed sleep:
// what the test concludes does not depend on how loaded the machine is.
//
// A step on /c that finds done-OTHER has come in after the other (other =
// "gone"). Otherwise it waits for the other build to reach its step
// (ready-OTHER, up to two minutes) and then for in-OTHER, up to the WINDOW
// in tenths of a second: when it sees it, both steps held /c at once
// ("in"); when it does not, the other build was kept out ("out"). For
// shared and private caches the window is long, since the steps must meet;
// for a locked cache it is how long the holder keeps the lock with the other
// build waiting at its door, during which a broken lock would let it in.
const sharingSpec = `
[args]
RUN = ""
OTHER = ""
WINDOW = ""
SHARING = ""
NONCE = ""
[caches.c]
target = "/c"
sharing = "${SHARING}"
[caches.sync]
target = "/sync"
sharing = "shared"
[stages.s]
from = "busybox:1.36"
args = ["RUN", "OTHER", "WINDOW", "NONCE"]
caches = ["sync"]
[[stages.s.steps]]
run = "touch /sync/ready-$RUN"
[[stages.s.steps]]
caches = ["c"]
run = """
waitfor() { i=0; while [ ! -e "$1" ] && [ $i -lt "$2" ]; do sleep 0.1; i=$((i+1)); done; [ -e "$1" ]; }
mkdir -p /result
echo enter-$RUN >> /sync/log
ls /c > /result/before
touch /c/marker-$RUN
touch /sync/in-$RUN
if [ -e /sync/done-$OTHER ]; then
  echo gone > /result/other
  echo yes > /result/ready
else
  if waitfor /sync/ready-$OTHER 1200; then echo yes; else echo no; fi > /result/ready
  if waitfor /sync/in-$OTHER "$WINDOW"; then echo in; else echo out; fi > /result/other
fi
ls /c > /result/seen
echo exit-$RUN >> /sync/log
cp /sync/log /result/log
touch /sync/done-$RUN
"""
[stages.out]
from = "scratch"
[[stages.out.steps]]
copy = ["/result/"]
from = "s"
`

// runConcurrently builds sharingSpec twice at once, as runs "a" and "b",
// with the cache's sharing mode set and the given window (see sharingSpec),
// and returns what each saw.
func runConcurrently(t *testing.T, sharing string, window int) map[string]sharingRun {
	ctx := timeout(t, 5*time.Minute)
	ns := nonce(t)
	dir := writeTree(t, map[string]string{"build.toml": sharingSpec})
	type result struct {
		name string
		run  sharingRun
		err  error
	}
	results := make(chan result, 2)
	for _, pair := range [][2]string{{"a", "b"}, {"b", "a"}} {
		run, other := pair[0], pair[1]
		exp, out := localExport(t) // here: t.TempDir may fail the test, so not in the goroutine
		go func() {
			// Only errors leave this goroutine: failing the test is for the
			// test's own goroutine, below.
			progress, err := solve(ctx, solveOpt{dir: dir, exports: []client.ExportEntry{exp}, attrs: map[string]string{
				// The nonce makes the steps new: BuildKit's cache key of a step
				// leaves out its cache mounts, sharing mode included.
				"build-arg:RUN": run, "build-arg:OTHER": other, "build-arg:WINDOW": strconv.Itoa(window),
				"build-arg:SHARING": sharing, "build-arg:NONCE": ns, "build-arg:BUILDKIT_CACHE_MOUNT_NS": ns,
			}})
			if err != nil {
				results <- result{name: run, err: fmt.Errorf("%v\n%s", err, progress)}
				return
			}
			var r sharingRun
			files := map[string]string{}
			for _, f := range []string{"before", "seen", "ready", "other", "log"} {
				dt, err := os.ReadFile(filepath.Join(out, f))
				if err != nil {
					results <- result{name: run, err: err}
					return
				}
				files[f] = string(dt)
			}
			r.before, r.seen, r.log = strings.Fields(files["before"]), strings.Fields(files["seen"]), strings.Fields(files["log"])
			r.ready, r.other = strings.TrimSpace(files["ready"]) == "yes", strings.TrimSpace(files["other"])
			results <- result{name: run, run: r}
		}()
	}
	runs := map[string]sharingRun{}
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Errorf("run %s: %v", r.name, r.err)
			continue
		}
		runs[r.name] = r.run
	}
	if len(runs) != 2 {
		t.FailNow()
	}
	return runs
}

// A locked cache: the second build waits at its step while the first holds
// the cache, then comes in after it and finds what it left. Each build
// records its entry and exit in a shared log, and the records of the two
// never interleave. The holder stays in the cache until the other build has
// reached its step (a bounded wait for a marker, which fails the test
// rather than passing it when it runs out) and then two seconds more, the
// chance a broken lock gets to let the other in; no verdict depends on how
// fast the machine is: a working lock passes however slow it is.
//
// Not parallel: its two builds must run at the same time, which other
// builds on the bench's two cores would only delay.
func TestCacheSharingLocked(t *testing.T) {
	runs := runConcurrently(t, "locked", 20)
	first, second := "a", "b"
	if runs["a"].other == "gone" {
		first, second = "b", "a"
	}
	f, s := runs[first], runs[second]
	if !f.ready {
		t.Fatalf("run %s held the lock, but run %s never reached its step in the meantime: the lock was not tested: %+v", first, second, runs)
	}
	if want := []string{"enter-" + first, "exit-" + first, "enter-" + second, "exit-" + second}; !slices.Equal(s.log, want) {
		t.Errorf("locked cache held by two builds at once: the records are %q, want %q: %+v", s.log, want, runs)
	}
	if f.other != "out" || s.other != "gone" {
		t.Errorf("locked cache held by two builds at once (run %s saw the other %s, run %s saw it %s): %+v", first, f.other, second, s.other, runs)
	}
	if len(f.before) != 0 || strings.Join(s.before, " ") != "marker-"+first {
		t.Errorf("locked cache: run %s found %q, then run %s found %q; want nothing, then marker-%s: %+v", first, f.before, second, s.before, first, runs)
	}
}

// A shared cache: both builds are in it at once, and each sees what the
// other wrote.
//
// Not parallel: its two builds must run at the same time, which other
// builds on the bench's two cores would only delay.
func TestCacheSharingShared(t *testing.T) {
	runs := runConcurrently(t, "shared", 1200)
	for name, r := range runs {
		if r.other != "in" {
			t.Errorf("shared cache: run %s did not have the other build in the cache with it (%s): %+v", name, r.other, runs)
		}
		if strings.Join(r.seen, " ") != "marker-a marker-b" {
			t.Errorf("shared cache: run %s saw %q, want both markers", name, r.seen)
		}
	}
}

// A private cache: both builds are in their step at once, each in a cache
// of its own, so neither sees what the other wrote.
//
// Not parallel: its two builds must run at the same time, which other
// builds on the bench's two cores would only delay.
func TestCacheSharingPrivate(t *testing.T) {
	runs := runConcurrently(t, "private", 1200)
	for name, r := range runs {
		if r.other != "in" {
			t.Errorf("private cache: run %s did not run at the same time as the other (%s): %+v", name, r.other, runs)
		}
		if strings.Join(r.seen, " ") != "marker-"+name {
			t.Errorf("private cache: run %s saw %q, want only its own marker", name, r.seen)
		}
	}
}

// backendSpec writes random bytes in every run step, so a step that ran
// again changes the output.
const backendSpec = `# syntax=ghcr.io/tomlfront/tomlfront:1
[args]
NONCE = ""
[stages.base]
from = "busybox:1.36"
args = ["NONCE"]
[[stages.base.steps]]
run = "echo ran step 1 && head -c 32 /dev/urandom > /r1"
[stages.final]
from = "base"
[[stages.final.steps]]
copy = ["input.txt"]
to = "/in/"
[[stages.final.steps]]
run = "echo ran step 2 && head -c 32 /dev/urandom > /r2 && cat /in/input.txt > /r3"
`

var ranOutput = regexp.MustCompile(`(?m)^#\d+ \d+\.\d+ ran step`)

// TestCachesPruneFilter checks that the prune line `tomlfront caches`
// prints selects exactly that cache mount on a real builder, and drops it.
//
// Not parallel: it prunes the bench builder's cache.
func TestCachesPruneFilter(t *testing.T) {
	ctx := timeout(t, 5*time.Minute)
	ns := nonce(t)
	dir := writeTree(t, map[string]string{"build.toml": `
[args]
NONCE = ""
[caches.data]
target = "/data"
[caches.other]
target = "/other"
[stages.s]
from = "busybox:1.36"
args = ["NONCE"]
caches = ["data", "other"]
[[stages.s.steps]]
run = "date > /data/stamp && date > /other/stamp"
`})
	// The nonce makes the step run, and so mount its caches, in every run.
	mustSolve(ctx, t, solveOpt{dir: dir, attrs: map[string]string{"build-arg:BUILDKIT_CACHE_MOUNT_NS": ns, "build-arg:NONCE": ns}})

	bin := goBuildTomlfront(t)
	out, err := command(t, bin, "caches", "-f", filepath.Join(dir, "build.toml"), "--build-arg", "BUILDKIT_CACHE_MOUNT_NS="+ns).Output()
	if err != nil {
		t.Fatal(err)
	}
	// The drop lines: buildctl's for buildkitd, buildx's for any builder
	// (the only one for a Docker Engine's), with the same filter.
	m := regexp.MustCompile(`(?m)^  drop:    buildctl prune --filter '(.*)'\n           docker buildx prune --filter type=exec.cachemount --filter '(.*)'$`).FindAllStringSubmatch(string(out), -1)
	if len(m) != 2 || m[0][1] != "type==exec.cachemount,"+m[0][2] {
		t.Fatalf("no prune lines, or two filters, in:\n%s", out)
	}
	filter, desc := m[0][1], m[0][2] // "data" sorts first
	du := func() string {
		return mustDocker(t, "buildx", "du", "--verbose", "--filter", "type=exec.cachemount", "--filter", desc)
	}
	if !bench.kind.engine() {
		out, err := command(t, "buildctl", "du", "-v", "--filter", filter).CombinedOutput()
		if err != nil || strings.Count(string(out), "Description:") != 1 || !strings.Contains(string(out), `with id "`+ns+`/data"`) {
			t.Fatalf("buildctl du --filter %s: %v\n%s", filter, err, out)
		}
	}
	before := du()
	if strings.Count(before, "Description:") != 1 || !strings.Contains(before, `cached mount /data from exec`) || !strings.Contains(before, `with id "`+ns+`/data"`) {
		t.Fatalf("the filter %s selects:\n%s", filter, before)
	}
	mustDocker(t, "buildx", "prune", "--force", "--filter", "type=exec.cachemount", "--filter", desc)
	if after := du(); strings.Contains(after, "Description:") {
		t.Errorf("the cache is still there after prune:\n%s", after)
	}
}
