//go:build e2e

package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Faults: what a user sees, and what is kept, when a cache backend, a
// registry or a builder fails on the way (docs/reliability.md).

// closedAddr is a loopback address nothing listens on: a port the kernel
// gave a listener that is closed again.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// faultSpec writes SIZE_MB of random bytes to /out/blob, and its digest
// beside it, in a step that runs again for each NONCE.
const faultSpec = `# syntax=ghcr.io/tomlfront/tomlfront:1
[args]
NONCE = ""
SIZE_MB = "1"

[stages.s]
from = "busybox:1.36"
args = ["NONCE", "SIZE_MB"]

[[stages.s.steps]]
run = "mkdir -p /out && echo ran step $NONCE && head -c $((SIZE_MB * 1048576)) /dev/urandom > /out/blob && sha256sum /out/blob | cut -c1-64 > /out/blob.sha256"

[stages.out]
from = "scratch"

[[stages.out.steps]]
copy = ["/out/"]
from = "s"
`

// checkBlob checks that a faultSpec output is whole: the blob of size MiB
// matches the digest the step took.
func checkBlob(t *testing.T, out string, size int) {
	t.Helper()
	blob := readFile(t, filepath.Join(out, "blob"))
	sum := sha256.Sum256([]byte(blob))
	if len(blob) != size<<20 || hex.EncodeToString(sum[:]) != strings.TrimSpace(readFile(t, filepath.Join(out, "blob.sha256"))) {
		t.Errorf("the output's blob is %d bytes, its digest %x, the step's %s", len(blob), sum, readFile(t, filepath.Join(out, "blob.sha256")))
	}
}

// TestFaultCacheImportUnreachable: a --cache-from backend that cannot be
// reached does not fail the build: it runs without the cache, and the
// progress says which import failed, and why.
func TestFaultCacheImportUnreachable(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	token := benchEnv(t, "TOMLFRONT_GHA_TOKEN")["TOMLFRONT_GHA_TOKEN"]
	down := closedAddr(t)
	for _, c := range []struct {
		name, from string
		needs      []feature
	}{
		{"registry", "type=registry,ref=" + down + "/cache:e2e", []feature{cacheExport}},
		{"s3", "type=s3,endpoint_url=http://" + down + ",bucket=b,region=us-east-1,access_key_id=a,secret_access_key=b,use_path_style=true,name=e2e", []feature{cacheExport, s3Azblob}},
		{"gha", "type=gha,url=http://" + down + "/,token=" + token + ",version=1,scope=e2e", []feature{cacheExport}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			needs(t, c.needs...)
			dir := writeTree(t, map[string]string{"build.toml": faultSpec})
			out := t.TempDir()
			log := mustBuildx(t, dir, "build", "-f", "build.toml", "--provenance=false", "--build-arg", "NONCE="+nonce(t),
				"--cache-from", c.from, "--output", "type=local,dest="+out, ".")
			checkBlob(t, out, 1)
			if !strings.Contains(log, "importing cache manifest from") || !strings.Contains(log, down+": connect: connection refused") {
				t.Errorf("the progress does not say the cache import failed, and why:\n%s", log)
			}
		})
	}
}

// registryd is a registry of a test's own, which it can stop and start
// again on the same address and storage.
type registryd struct {
	t    *testing.T
	dir  string // config.yml, storage/, registry.log
	addr string
	*process
}

// startRegistry starts a registry (the bench's distribution binary) on a
// port the kernel picks, read from its log.
func startRegistry(t *testing.T) *registryd {
	t.Helper()
	r := &registryd{t: t, dir: t.TempDir(), addr: "127.0.0.1:0"}
	t.Cleanup(func() { r.stop(syscall.SIGTERM) })
	r.start()
	return r
}

var listeningOn = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// start starts the registry, on the address it had when it was started
// before, and waits until it listens.
func (r *registryd) start() {
	t := r.t
	t.Helper()
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: %s\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: %s\n",
		filepath.Join(r.dir, "storage"), r.addr)
	if err := os.WriteFile(filepath.Join(r.dir, "config.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(r.dir, "registry.log")
	_ = os.Remove(logPath) // the address read below is this run's
	cmd := exec.Command("registry", "serve", filepath.Join(r.dir, "config.yml"))
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true")
	r.process = startProcess(t, "registry-"+filepath.Base(r.dir), logPath, cmd)
	deadline := time.After(time.Minute)
	for {
		if m := listeningOn.FindStringSubmatch(readFile(t, logPath)); m != nil {
			r.addr = m[1]
			return
		}
		select {
		case err := <-r.exited:
			t.Fatalf("the registry exited (%v):\n%s", err, readFile(t, logPath))
		case <-deadline:
			t.Fatalf("the registry does not listen after a minute:\n%s", readFile(t, logPath))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// uploading tells whether a blob upload to the registry has data.
func (r *registryd) uploading() bool {
	found := false
	_ = filepath.WalkDir(filepath.Join(r.dir, "storage"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "data" && strings.Contains(path, "/_uploads/") {
			if info, err := d.Info(); err == nil && info.Size() > 0 {
				found = true
			}
		}
		return nil
	})
	return found
}

// waitFor polls cond every 20 ms until it holds, or fails the test when
// done is closed first (what it waits in has ended) or after limit.
func waitFor(t *testing.T, what string, limit time.Duration, done <-chan struct{}, cond func() bool) {
	t.Helper()
	deadline := time.After(limit)
	for !cond() {
		select {
		case <-done:
			t.Fatalf("%s: it ended first", what)
		case <-deadline:
			t.Fatalf("%s: not after %s", what, limit)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestFaultRegistryStopsDuringCacheExport: the registry dies while a build
// uploads its layer cache. The build fails, naming the registry; once the
// registry is back, a fresh builder importing that cache builds, whole:
// BuildKit pushes the cache's manifest last, so what the registry kept is a
// complete cache or none.
func TestFaultRegistryStopsDuringCacheExport(t *testing.T) {
	needs(t, ownDaemons)
	buildFrontendImage(t)
	reg := startRegistry(t)
	ref := reg.addr + "/cache/fault:e2e"
	dir := writeTree(t, map[string]string{"build.toml": faultSpec})
	n := nonce(t)
	builder := freshBuilder(t, "fault-registry")
	args := []string{"build", "--builder", builder, "-f", "build.toml", "--provenance=false", "--build-arg", "NONCE=" + n,
		"--build-arg", "SIZE_MB=256", "--cache-to", "type=registry,ref=" + ref + ",mode=max", "--output", "type=local,dest=" + t.TempDir(), "."}
	done := make(chan struct{})
	var log string
	var err error
	go func() {
		defer close(done)
		log, err = buildx(dir, args...)
	}()
	waitFor(t, "an upload to the registry", 5*time.Minute, done, reg.uploading)
	reg.stop(syscall.SIGKILL)
	<-done
	if err == nil {
		t.Fatalf("the build passed with its registry gone:\n%s", log)
	}
	if !strings.Contains(log, "exporting cache to registry") || !strings.Contains(log, reg.addr) {
		t.Errorf("the failure does not say the cache export to %s failed:\n%s", reg.addr, log)
	}
	t.Logf("the build failed: %s", lastError(log))

	reg.start()
	out := t.TempDir()
	again := mustBuildx(t, dir, "build", "--builder", freshBuilder(t, "fault-registry-after"), "-f", "build.toml", "--provenance=false",
		"--build-arg", "NONCE="+n, "--build-arg", "SIZE_MB=256", "--cache-from", "type=registry,ref="+ref, "--output", "type=local,dest="+out, ".")
	checkBlob(t, out, 256)
	t.Logf("after the registry came back, the import: %s", map[bool]string{true: "missed, the step ran", false: "reused a complete cache"}[ranOutput.MatchString(again)])
}

// lastError is the last ERROR line of buildx's output: what the user reads
// last.
func lastError(log string) string {
	last := ""
	for l := range strings.Lines(log) {
		if strings.HasPrefix(l, "ERROR: ") {
			last = strings.TrimSpace(l)
		}
	}
	return last
}

// snapshotFaultSpec keeps SIZE_MB of random bytes in a persisted cache.
const snapshotFaultSpec = `# syntax=ghcr.io/tomlfront/tomlfront:1
[args]
NONCE = ""
SIZE_MB = "1"

[caches.deps]
target = "/deps"
persist = true

[stages.s]
from = "busybox:1.36"
args = ["NONCE", "SIZE_MB"]
caches = ["deps"]

[[stages.s.steps]]
run = """
mkdir -p /out
if [ -f /deps/blob ]; then echo kept > /out/seen; else echo none > /out/seen; fi
[ -f /deps/blob ] || head -c $((SIZE_MB * 1048576)) /dev/urandom > /deps/blob
echo $NONCE > /out/nonce
"""

[stages.out]
from = "scratch"

[[stages.out.steps]]
copy = ["/out/"]
from = "s"
`

// TestFaultBuildkitdKilledDuringSnapshotExport: buildkitd is killed while a
// snapshot export writes to a local directory. What it left there is
// refused by the next build's seed, which says so and builds with an empty
// cache; never a half-seeded one.
func TestFaultBuildkitdKilledDuringSnapshotExport(t *testing.T) {
	needs(t, ownDaemons)
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{"build.toml": snapshotFaultSpec})
	d := startBuildkitd(t, "fault-export")
	builder := "tf-fault-export"
	mustDocker(t, "buildx", "create", "--name", builder, "--driver", "remote", d.addr)
	t.Cleanup(func() { _, _ = docker(cmdOpt{timeout: time.Minute}, "", "buildx", "rm", builder) })
	build := func(extra ...string) (string, error) {
		args := append([]string{"build", "--builder", builder, "-f", "build.toml", "--provenance=false", "--build-arg", "NONCE=" + nonce(t),
			"--build-arg", "SIZE_MB=512"}, extra...)
		return buildx(dir, append(args, ".")...)
	}
	if log, err := build("--output", "type=local,dest="+t.TempDir()); err != nil {
		t.Fatalf("filling the cache: %v\n%s", err, log)
	}

	snapshot := t.TempDir()
	done := make(chan struct{})
	var log string
	var err error
	go func() {
		defer close(done)
		log, err = build("--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--output", "type=local,dest="+snapshot)
	}()
	// Killed once the transfer of the archive has begun.
	waitFor(t, "the snapshot's transfer", 5*time.Minute, done, func() bool {
		entries, _ := os.ReadDir(snapshot)
		for _, e := range entries {
			if info, err := e.Info(); err == nil && info.Size() > 0 {
				return true
			}
		}
		return false
	})
	d.stop(syscall.SIGKILL)
	<-done
	if err == nil {
		t.Fatalf("the export passed with its buildkitd killed:\n%s", log)
	}
	t.Logf("the export failed: %s", lastError(log))
	var left []string
	entries, _ := os.ReadDir(snapshot)
	for _, e := range entries {
		info, _ := e.Info()
		left = append(left, fmt.Sprintf("%s (%d bytes)", e.Name(), info.Size()))
	}
	t.Logf("the killed export left: %v", left)

	fresh := freshBuilder(t, "fault-export-seed")
	out := t.TempDir()
	seeded := mustBuildx(t, dir, "build", "--builder", fresh, "-f", "build.toml", "--provenance=false", "--build-arg", "NONCE="+nonce(t),
		"--build-context", "tomlfront-cache="+snapshot, "--output", "type=local,dest="+out, ".")
	// Whatever the kill left (files not yet written, empty or cut short),
	// the seed names the archive and why it refuses it.
	refused := regexp.MustCompile(`tomlfront: the snapshot's deps\.tar is (incomplete|corrupt or truncated) \(.*\): cache deps starts empty|tomlfront: the snapshot has no deps\.tar; cache deps starts empty`)
	if !refused.MatchString(seeded) {
		t.Errorf("the seed does not refuse what the killed export left (%v):\n%s", left, seeded)
	}
	if got := readFile(t, filepath.Join(out, "seen")); got != "none\n" {
		t.Errorf("the step found %q in its cache, want an empty cache", got)
	}
}

// lockedFaultSpec holds a step in a locked cache (MODE=hang), or writes a
// token to it (write) or reads it (read).
const lockedFaultSpec = `# syntax=ghcr.io/tomlfront/tomlfront:1
[args]
NONCE = ""
MODE = ""

[caches.deps]
target = "/deps"
sharing = "locked"

[stages.s]
from = "busybox:1.36"
args = ["NONCE", "MODE"]
caches = ["deps"]

[[stages.s.steps]]
run = """
mkdir -p /out
case $MODE in
hang) echo $NONCE > /deps/started; sleep 600 ;;
write) head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /deps/token; cp /deps/token /out/token ;;
read) cp /deps/token /out/token 2>/dev/null || echo none > /out/token ;;
esac
ls /deps > /out/listing
"""

[stages.out]
from = "scratch"

[[stages.out.steps]]
copy = ["/out/"]
from = "s"
`

// processesWith returns the pids of the processes whose environment holds
// marker (a build arg's value, in each process of a step).
func processesWith(marker string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if environ, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ")); err == nil && bytes.Contains(environ, []byte(marker)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestFaultBuildkitdKilledHoldingLockedCache: buildkitd is killed while a
// step holds a locked cache, and started again on the same root. The next
// builds run, and the cache works: what one writes, the next reads.
func TestFaultBuildkitdKilledHoldingLockedCache(t *testing.T) {
	needs(t, ownDaemons)
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{"build.toml": lockedFaultSpec})
	d := startBuildkitd(t, "fault-locked")
	builder := "tf-fault-locked"
	mustDocker(t, "buildx", "create", "--name", builder, "--driver", "remote", d.addr)
	t.Cleanup(func() { _, _ = docker(cmdOpt{timeout: time.Minute}, "", "buildx", "rm", builder) })
	build := func(mode, n string) (string, string, error) {
		out := t.TempDir()
		log, err := buildx(dir, "build", "--builder", builder, "-f", "build.toml", "--provenance=false", "--build-arg", "NONCE="+n,
			"--build-arg", "MODE="+mode, "--output", "type=local,dest="+out, ".")
		return out, log, err
	}

	out, log, err := build("write", nonce(t))
	if err != nil {
		t.Fatalf("the first build: %v\n%s", err, log)
	}
	before := readFile(t, filepath.Join(out, "token"))

	hung := "fault-" + nonce(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, log, err = build("hang", hung)
	}()
	// The step's processes have the nonce in their environment once it runs.
	waitFor(t, "the step holding the lock", 5*time.Minute, done, func() bool { return len(processesWith(hung)) > 0 })
	d.stop(syscall.SIGKILL)
	// The step's container outlives its buildkitd: its shell is the init of
	// its pid namespace, and takes the rest with it.
	for _, pid := range processesWith(hung) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	<-done
	if err == nil {
		t.Fatalf("the build passed with its buildkitd killed:\n%s", log)
	}
	t.Logf("the build failed: %s", lastError(log))
	unmountUnder(t, filepath.Join(d.dir, "root")) // the killed step's root, left mounted
	d.start()

	// What the cache kept of the builds before the kill is BuildKit's to
	// say: a cache mount is committed when its step ends, and the killed
	// step never ended. Either the content before it, or none.
	out, log, err = build("read", nonce(t))
	if err != nil {
		t.Fatalf("the first build after the restart: %v\n%s", err, log)
	}
	kept := readFile(t, filepath.Join(out, "token"))
	if kept != before && kept != "none\n" {
		t.Errorf("after the restart the locked cache holds %q (%s), neither what it held before the kill, %q, nor nothing", kept, readFile(t, filepath.Join(out, "listing")), before)
	}
	t.Logf("after the restart, the locked cache holds %s (the token written before the kill: %v)", strings.Fields(readFile(t, filepath.Join(out, "listing"))), kept == before)

	out, log, err = build("write", nonce(t))
	if err != nil {
		t.Fatalf("the second build after the restart: %v\n%s", err, log)
	}
	token := readFile(t, filepath.Join(out, "token"))
	out, log, err = build("read", nonce(t))
	if err != nil {
		t.Fatalf("the third build after the restart: %v\n%s", err, log)
	}
	if got := readFile(t, filepath.Join(out, "token")); got != token || len(token) != 32 {
		t.Errorf("the locked cache gave %q, want what the build before wrote, %q", got, token)
	}
}

// concurrentSpec is spec number I of TestFaultConcurrentBuilds: its own
// stage names and output, sharing a locked counter (persisted) and a shared
// directory with the others.
func concurrentSpec(i int) string {
	return fmt.Sprintf(`# syntax=ghcr.io/tomlfront/tomlfront:1
[caches.counter]
target = "/counter"
sharing = "locked"
persist = true

[caches.common]
target = "/common"
sharing = "shared"

[stages.work%[1]d]
from = "busybox:1.36"
caches = ["counter", "common"]

[[stages.work%[1]d.steps]]
run = """
n=$(cat /counter/n 2>/dev/null || echo 0)
sleep 0.2
echo $((n + 1)) > /counter/n
echo spec-%[1]d >> /counter/log
echo spec-%[1]d > /common/spec-%[1]d
mkdir -p /out && echo spec-%[1]d > /out/name && echo $((n + 1)) > /out/n
"""

[stages.out%[1]d]
from = "scratch"

[[stages.out%[1]d.steps]]
copy = ["/out/"]
from = "work%[1]d"
`, i)
}

// TestFaultConcurrentBuilds: sixteen builds of different specs at once on
// one builder, sharing a locked cache (a counter each increments, read,
// wait, write) and a shared one, four of them exporting the locked cache's
// snapshot. Every output is exact, no increment is lost, and every archive
// verifies and holds a consistent counter.
func TestFaultConcurrentBuilds(t *testing.T) {
	needs(t, ownDaemons)
	buildFrontendImage(t)
	builder := freshBuilder(t, "concurrent")
	ns := nonce(t)
	const builds, exports = 16, 4
	type result struct {
		out, log string
		err      error
	}
	results := make([]result, builds)
	var wg sync.WaitGroup
	for i := range builds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := writeTree(t, map[string]string{"build.toml": concurrentSpec(i)})
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"build", "--builder", builder, "-f", "build.toml", "--provenance=false",
				"--build-arg", "BUILDKIT_CACHE_MOUNT_NS=" + ns, "--output", "type=local,dest=" + out}
			if i < exports {
				args = append(args, "--build-arg", "TOMLFRONT_CACHE_EXPORT=1")
			}
			log, err := buildxWith(cmdOpt{timeout: 15 * time.Minute}, dir, append(args, ".")...)
			results[i] = result{out, log, err}
		}()
	}
	wg.Wait()

	var counts []int
	for i, r := range results {
		if r.err != nil {
			t.Errorf("build %d: %v\n%s", i, r.err, r.log)
			continue
		}
		if i < exports {
			// A snapshot taken under the lock: the counter and the log agree.
			files := tarFileOf(t, filepath.Join(r.out, "counter.tar"))
			sum := sha256.Sum256([]byte(readFile(t, filepath.Join(r.out, "counter.tar"))))
			if want := strings.Fields(readFile(t, filepath.Join(r.out, "counter.tar.sha256")))[0]; hex.EncodeToString(sum[:]) != want {
				t.Errorf("export %d: counter.tar's digest %x, its .sha256 says %s", i, sum, want)
			}
			n, _ := strconv.Atoi(strings.TrimSpace(string(files["n"])))
			if lines := strings.Count(string(files["log"]), "\n"); n < 1 || lines != n {
				t.Errorf("export %d: the snapshot's counter is %d, its log has %d lines", i, n, lines)
			}
			continue
		}
		if got := fileIn(r.out, "name"); got != fmt.Sprintf("spec-%d\n", i) {
			t.Errorf("build %d: its output is %q", i, got)
		}
		n, err := strconv.Atoi(strings.TrimSpace(fileIn(r.out, "n")))
		if err != nil {
			t.Errorf("build %d: n = %q", i, fileIn(r.out, "n"))
		}
		counts = append(counts, n)
	}
	// Each build incremented once, under the lock: the counts the builds
	// saw are distinct, and a last build sees all sixteen.
	slices.Sort(counts)
	if len(slices.Compact(slices.Clone(counts))) != len(counts) || len(counts) > 0 && counts[len(counts)-1] > builds {
		t.Errorf("the builds saw the counter at %v: an increment was lost", counts)
	}
	dir := writeTree(t, map[string]string{"build.toml": concurrentSpec(builds)})
	out := t.TempDir()
	mustBuildx(t, dir, "build", "--builder", builder, "-f", "build.toml", "--provenance=false",
		"--build-arg", "BUILDKIT_CACHE_MOUNT_NS="+ns, "--output", "type=local,dest="+out, ".")
	if got := fileIn(out, "n"); got != fmt.Sprintf("%d\n", builds+1) {
		t.Errorf("after %d builds, the next one counts %q, want %d", builds, got, builds+1)
	}
}

// silentServer accepts connections and never answers, as a server whose
// process hangs, or a firewall that lets a connection in and nothing more.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return l.Addr().String()
}

// TestFaultIncludeSourceUnreachable: the source of an included template (a
// git server, an image's registry) refuses connections, or takes them and
// never answers. The build fails at the include entry, naming the context
// and its source; a silent server within TOMLFRONT_FETCH_TIMEOUT.
func TestFaultIncludeSourceUnreachable(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	service := readFile(t, filepath.Join(root, "examples", "service-a", "build.toml"))
	refused, silent := closedAddr(t), silentServer(t)
	for _, c := range []struct{ name, source, want string }{
		{"git server refuses", "https://" + refused + "/templates.git#main", refused},
		{"registry refuses", "docker-image://" + refused + "/templates:1", refused},
		{"git server silent", "https://" + silent + "/templates.git#main", `context "templates" (https://` + silent + `/templates.git#main) did not answer in 5s: is its server reachable?`},
		{"registry silent", "docker-image://" + silent + "/templates:1", `context "templates" (docker-image://` + silent + `/templates:1) did not answer in 5s: is its server reachable?`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, map[string]string{
				"go.mod": "module example.com/service-a\n", "cmd/service-a/main.go": "package main\nfunc main() {}\n",
				"build.toml": templatesLine.ReplaceAllString(service, fmt.Sprintf("templates = %q", c.source)),
			})
			// The command's own bound (two minutes) is the test's: a build
			// that waits forever fails it.
			out, err := docker(cmdOpt{timeout: 2 * time.Minute, env: []string{"BUILDKIT_PROGRESS=plain"}}, dir,
				"buildx", "build", "-f", "build.toml", "--provenance=false", "--build-arg", "TOMLFRONT_FETCH_TIMEOUT=5s", ".")
			if err == nil {
				t.Fatalf("the build passed:\n%s", out)
			}
			for _, w := range []string{`build.toml:4:12: include "context:templates/go-service.toml": context "templates"`, c.want} {
				if !strings.Contains(out, w) {
					t.Errorf("the output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
