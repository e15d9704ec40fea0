//go:build e2e

package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// TestCacheMountPersists writes a random token into a cache mount in one
// build and reads it in another: a cache mount outlives the build.
func TestCacheMountPersists(t *testing.T) {
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

// sharingRun is what one build saw while it held a cache mount.
type sharingRun struct {
	start, end float64  // host uptime, seconds
	seen       []string // markers in the cache at the end of the step
}

// runConcurrently builds the same spec twice at once, as runs "a" and "b",
// with the cache's sharing mode set, and returns what each saw.
func runConcurrently(t *testing.T, sharing string) map[string]sharingRun {
	ctx := timeout(t, 5*time.Minute)
	ns := nonce(t)
	spec := `
[args]
RUN = ""
SHARING = ""
NONCE = ""
[caches.c]
target = "/c"
sharing = "${SHARING}"
[stages.s]
from = "busybox:1.36"
args = ["RUN", "NONCE"]
caches = ["c"]
[[stages.s.steps]]
run = """
mkdir -p /result
cut -d' ' -f1 /proc/uptime > /result/start
touch /c/marker-$RUN
sleep 4
ls /c > /result/seen
cut -d' ' -f1 /proc/uptime > /result/end
"""
[stages.out]
from = "scratch"
[[stages.out.steps]]
copy = ["/result/"]
from = "s"
`
	dir := writeTree(t, map[string]string{"build.toml": spec})
	runs := map[string]sharingRun{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, run := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exp, out := localExport(t)
			_, err := solve(ctx, solveOpt{dir: dir, exports: []client.ExportEntry{exp}, attrs: map[string]string{
				// The nonce makes the steps new: BuildKit's cache key of a step
				// leaves out its cache mounts, sharing mode included.
				"build-arg:RUN": run, "build-arg:SHARING": sharing, "build-arg:NONCE": ns, "build-arg:BUILDKIT_CACHE_MOUNT_NS": ns,
			}})
			if err != nil {
				t.Errorf("run %s: %v", run, err)
				return
			}
			r := sharingRun{seen: strings.Fields(readFile(t, filepath.Join(out, "seen")))}
			r.start, _ = strconv.ParseFloat(strings.TrimSpace(readFile(t, filepath.Join(out, "start"))), 64)
			r.end, _ = strconv.ParseFloat(strings.TrimSpace(readFile(t, filepath.Join(out, "end"))), 64)
			mu.Lock()
			runs[run] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(runs) != 2 {
		t.FailNow()
	}
	return runs
}

func overlap(a, b sharingRun) bool { return a.start < b.end && b.start < a.end }

func TestCacheSharingLocked(t *testing.T) {
	runs := runConcurrently(t, "locked")
	if overlap(runs["a"], runs["b"]) {
		t.Errorf("locked cache held by two builds at once: %+v", runs)
	}
}

func TestCacheSharingShared(t *testing.T) {
	runs := runConcurrently(t, "shared")
	if !overlap(runs["a"], runs["b"]) {
		t.Errorf("shared cache: the builds did not overlap: %+v", runs)
	}
	for name, r := range runs {
		if strings.Join(r.seen, " ") != "marker-a marker-b" {
			t.Errorf("shared cache: run %s saw %q, want both markers", name, r.seen)
		}
	}
}

func TestCacheSharingPrivate(t *testing.T) {
	runs := runConcurrently(t, "private")
	if !overlap(runs["a"], runs["b"]) {
		t.Errorf("private cache: the builds did not overlap: %+v", runs)
	}
	for name, r := range runs {
		if strings.Join(r.seen, " ") != "marker-"+name {
			t.Errorf("private cache: run %s saw %q, want only its own marker", name, r.seen)
		}
	}
}

// TestCacheBackends builds with --cache-to, then builds again on a second
// buildkitd with an empty root and --cache-from: nothing may run again. Every
// run step writes random bytes, so a step that ran again changes the output.
func TestCacheBackends(t *testing.T) {
	local := t.TempDir()
	registry := bench.registry + "/cache/registry:e2e-" + nonce(t)
	inline := bench.registry + "/cache/inline:e2e-" + nonce(t)
	tests := []struct{ name, to, from, push string }{
		{"local", "type=local,dest=" + local + ",mode=max", "type=local,src=" + local, ""},
		{"registry", "type=registry,ref=" + registry + ",mode=max", "type=registry,ref=" + registry, ""},
		{"inline", "type=inline", "type=registry,ref=" + inline, inline},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { testCacheBackend(t, tc.name, tc.to, tc.from, tc.push) })
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

// testCacheBackend builds backendSpec with --cache-to to (and, for inline
// caches, pushes the image push), then on a new empty buildkitd with
// --cache-from from, and checks that no step ran the second time.
func testCacheBackend(t *testing.T, backend, to, from, push string) {
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{"build.toml": backendSpec, "input.txt": "input\n"})
	n := nonce(t)

	first := t.TempDir()
	args := []string{"build", "-f", "build.toml", "--build-arg", "NONCE=" + n, "--provenance=false",
		"--cache-to", to, "--output", "type=local,dest=" + first}
	if push != "" {
		args = append(args, "--output", "type=image,name="+push+",push=true")
	}
	out := mustBuildx(t, dir, append(args, ".")...)
	if !ranOutput.MatchString(out) {
		t.Fatalf("the first build shows no step output, so the check below would be blind:\n%s", out)
	}
	// buildx silently drops a cache backend the builder lacks (as s3 without
	// the cache.s3 capability): the export must show in the progress.
	if push == "" && !strings.Contains(out, "exporting cache") && !strings.Contains(out, "exporting to "+backend) {
		t.Errorf("the first build shows no cache export:\n%s", out)
	}

	builder := "tf-" + backend
	addr := extraBuilder(t, "cache-"+backend)
	mustDocker(t, "buildx", "create", "--name", builder, "--driver", "remote", addr)
	t.Cleanup(func() { _ = exec.Command("docker", "buildx", "rm", builder).Run() })
	second := t.TempDir()
	out = mustBuildx(t, dir, "build", "--builder", builder, "-f", "build.toml", "--build-arg", "NONCE="+n,
		"--provenance=false", "--cache-from", from, "--output", "type=local,dest="+second, ".")
	for _, f := range []string{"r1", "r2", "r3"} {
		a, b := readFile(t, filepath.Join(first, f)), readFile(t, filepath.Join(second, f))
		if a != b {
			t.Errorf("%s differs: a step ran again on the empty builder", f)
		}
	}
	if ranOutput.MatchString(out) { // a step's own output, as "#9 0.104 ran step 1"
		t.Errorf("a step ran on the second builder:\n%s", out)
	}
	if !strings.Contains(out, "[base 1/1] run echo ran step 1") || !strings.Contains(out, "[final 2/2] run echo ran step 2") {
		t.Errorf("the second build has no steps:\n%s", out)
	}
}

var ranOutput = regexp.MustCompile(`(?m)^#\d+ \d+\.\d+ ran step`)

// TestCachesPruneFilter checks that the prune line `tomlfront caches`
// prints selects exactly that cache mount on a real builder, and drops it.
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
	out, err := exec.Command(bin, "caches", "-f", filepath.Join(dir, "build.toml"), "--build-arg", "BUILDKIT_CACHE_MOUNT_NS="+ns).Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^  drop:    buildctl prune --filter '(.*)'$`).FindAllStringSubmatch(string(out), -1)
	if len(m) != 2 {
		t.Fatalf("no prune lines in:\n%s", out)
	}
	filter := m[0][1] // "data" sorts first
	du := func() string {
		out, err := exec.Command("buildctl", "du", "-v", "--filter", filter).CombinedOutput()
		if err != nil {
			t.Fatalf("buildctl du: %v\n%s", err, out)
		}
		return string(out)
	}
	before := du()
	if strings.Count(before, "Description:") != 1 || !strings.Contains(before, `cached mount /data from exec`) || !strings.Contains(before, `with id "`+ns+`/data"`) {
		t.Fatalf("the filter %s selects:\n%s", filter, before)
	}
	if out, err := exec.Command("buildctl", "prune", "--filter", filter).CombinedOutput(); err != nil {
		t.Fatalf("buildctl prune: %v\n%s", err, out)
	}
	if after := du(); strings.Contains(after, "Description:") {
		t.Errorf("the cache is still there after prune:\n%s", after)
	}
}
