//go:build e2e

package e2e

import (
	"archive/tar"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/frontend"
	"github.com/tomlfront/tomlfront/llbgen"
)

// snapshotSpec keeps a random token in a persisted cache: the first build
// on a builder writes it, later builds copy what they find to their result.
const snapshotSpec = `# syntax=ghcr.io/tomlfront/tomlfront:1
[args]
NONCE = ""

[caches.deps]
target = "/deps"
persist = true

[caches.scratchpad]
target = "/scratchpad"

[stages.s]
from = "busybox:1.36"
args = ["NONCE"]
caches = ["deps", "scratchpad"]

[[stages.s.steps]]
run = """
mkdir -p /result
if [ -f /deps/token ]; then cp /deps/token /result/seen; else echo none > /result/seen; fi
[ -f /deps/token ] || head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /deps/token
echo $NONCE > /scratchpad/x
"""

[stages.out]
from = "scratch"

[[stages.out.steps]]
copy = ["/result/"]
from = "s"
`

// TestCacheSnapshots carries a persisted cache from one buildkitd to others
// with empty roots, through each way of exporting and importing a snapshot.
//
// Not parallel: it starts buildkitds of its own and adds and removes buildx
// builders in the bench's DOCKER_CONFIG.
func TestCacheSnapshots(t *testing.T) {
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{"build.toml": snapshotSpec})
	ns := nonce(t)
	// The helpers take the t of the (sub)test they run in.
	build := func(t *testing.T, builder string, extra ...string) string {
		t.Helper()
		// A new nonce each time makes the step run: its cache key leaves
		// out what its cache mounts hold.
		a := append([]string{"build", "-f", "build.toml", "--provenance=false",
			"--build-arg", "NONCE=" + nonce(t), "--build-arg", "BUILDKIT_CACHE_MOUNT_NS=" + ns}, extra...)
		if builder != "" {
			a = append(a, "--builder", builder)
		}
		return mustBuildx(t, dir, append(a, ".")...)
	}
	seen := func(t *testing.T, builder string, extra ...string) (string, string) {
		t.Helper()
		out := t.TempDir()
		log := build(t, builder, append(extra, "--output", "type=local,dest="+out)...)
		return strings.TrimSpace(readFile(t, filepath.Join(out, "seen"))), log
	}

	// The first builder makes the token, then exports it three ways.
	if got, _ := seen(t, ""); got != "none" {
		t.Fatalf("the first build saw %q in a new cache", got)
	}
	token, _ := seen(t, "")
	if len(token) != 32 {
		t.Fatalf("the second build on one builder saw %q, want the token", token)
	}
	local := t.TempDir()
	log := build(t, "", "--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--output", "type=local,dest="+local)
	// One archive per cache, with its digest beside it, and nothing else.
	entries, _ := os.ReadDir(local)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "deps.tar deps.tar.info deps.tar.sha256" {
		t.Fatalf("the snapshot holds %v, want deps.tar with its .info and .sha256 (no cache without persist = true)", names)
	}
	if got := tarEntry(t, filepath.Join(local, "deps.tar"), "token"); got != token {
		t.Fatalf("snapshot holds %q, want %q", got, token)
	}
	if !strings.Contains(log, "tomlfront: cache deps: ") {
		t.Errorf("the export does not show the snapshot's size:\n%s", log)
	}
	tarball := filepath.Join(t.TempDir(), "snapshot.tar")
	build(t, "", "--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--output", "type=tar,dest="+tarball)
	inner := filepath.Join(t.TempDir(), "deps.tar")
	if err := os.WriteFile(inner, []byte(tarEntry(t, tarball, "deps.tar")), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := tarEntry(t, inner, "token"); got != token {
		t.Errorf("snapshot tarball holds %q, want %q", got, token)
	}
	image := bench.registry + "/snapshots/e2e:" + ns
	build(t, "", "--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--output", "type=image,name="+image+",push=true")
	// An unchanged cache exports to the same layer: CI can tell a snapshot
	// it need not save again.
	again := image + "-again"
	build(t, "", "--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--output", "type=image,name="+again+",push=true")
	if a, b := imageLayers(t, "snapshots/e2e", ns), imageLayers(t, "snapshots/e2e", ns+"-again"); len(a) != 1 || !slices.Equal(a, b) {
		t.Errorf("two exports of an unchanged cache: layers %v and %v, want one, the same", a, b)
	}
	snapshots := map[string]string{
		"local":        local,
		"docker-image": "docker-image://" + image,
	}
	if !bench.kind.has(ociExporter) {
		t.Logf("no oci-layout snapshot on %s: buildx's docker driver has no OCI exporter on the graphdriver store", bench.kind)
	} else {
		layout := t.TempDir()
		build(t, "", "--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--output", "type=oci,dest="+layout+",tar=false")
		var index ocispecs.Index
		if err := json.Unmarshal([]byte(readFile(t, filepath.Join(layout, "index.json"))), &index); err != nil || len(index.Manifests) == 0 {
			t.Fatalf("oci layout index: %v", err)
		}
		snapshots["oci-layout"] = "oci-layout://" + layout + "@" + index.Manifests[0].Digest.String()
	}

	// Each empty builder starts its cache from a snapshot.
	for name, context := range snapshots {
		t.Run(name, func(t *testing.T) {
			builder := freshBuilder(t, "snap-"+name)
			got, log := seen(t, builder, "--build-context", "tomlfront-cache="+context)
			if got != token {
				t.Errorf("the empty builder saw %q, want the snapshot's token %q", got, token)
			}
			if !strings.Contains(log, "tomlfront: cache deps seeded from the snapshot") {
				t.Errorf("no seeding in the progress:\n%s", log)
			}
		})
	}

	// A snapshot in the layout older exports wrote, a tree /deps/..., seeds
	// too; a truncated archive is refused, and the cache starts empty.
	tree := writeTree(t, map[string]string{"deps/token": token})
	truncated := t.TempDir()
	whole, err := os.ReadFile(filepath.Join(local, "deps.tar"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(truncated, "deps.tar"), whole[:len(whole)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"deps.tar.sha256", "deps.tar.info"} {
		dt, _ := os.ReadFile(filepath.Join(local, f))
		if err := os.WriteFile(filepath.Join(truncated, f), dt, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An archive of another platform: its .info says so.
	foreign := t.TempDir()
	for _, f := range []string{"deps.tar", "deps.tar.sha256"} {
		dt, _ := os.ReadFile(filepath.Join(local, f))
		if err := os.WriteFile(filepath.Join(foreign, f), dt, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	info := strings.Replace(readFile(t, filepath.Join(local, "deps.tar.info")), "platform linux/", "platform linux-other/", 1)
	if err := os.WriteFile(filepath.Join(foreign, "deps.tar.info"), []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, dir, want, says string }{
		{"older tree layout", tree, token, "tomlfront: cache deps seeded from the snapshot (a tree, as older exports wrote it)"},
		{"truncated archive", truncated, "none", "tomlfront: the snapshot's deps.tar is corrupt or truncated ("},
		{"another platform", foreign, "none", "tomlfront: the snapshot's deps.tar is of another platform or cache layout (tomlfront cache snapshot 1, platform linux-other/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			builder := freshBuilder(t, "snap-"+strings.ReplaceAll(c.name, " ", "-"))
			got, log := seen(t, builder, "--build-context", "tomlfront-cache="+c.dir)
			if got != c.want || !strings.Contains(log, c.says) {
				t.Errorf("the build saw %q, want %q, and said (want %q):\n%s", got, c.want, c.says, log)
			}
		})
	}

	// A builder that has content keeps it: a snapshot never replaces it.
	t.Run("builder content wins", func(t *testing.T) {
		builder := freshBuilder(t, "snap-keep")
		// The first build makes the builder's own token, the second reads it.
		if got, _ := seen(t, builder); got != "none" {
			t.Fatalf("the first build on an empty builder saw %q", got)
		}
		own, _ := seen(t, builder)
		if own == token || len(own) != 32 {
			t.Fatalf("the builder's own token is %q", own)
		}
		got, log := seen(t, builder, "--build-context", "tomlfront-cache="+local)
		if got != own {
			t.Errorf("the snapshot replaced the builder's content: saw %q, want %q", got, own)
		}
		if !strings.Contains(log, "tomlfront: cache deps already has content on this builder; the snapshot is not used") {
			t.Errorf("the build does not say the snapshot was not used:\n%s", log)
		}
	})
}

// imageLayers are the layer digests of repo:tag for linux/amd64.
func imageLayers(t *testing.T, repo, tag string) []string {
	t.Helper()
	var out []string
	for _, l := range imageManifest(t, repo, tag).Layers {
		out = append(out, l.Digest.String())
	}
	return out
}

// TestSnapshotMaxSize: a persisted cache above its max_size fails the
// export, saying so, and writes nothing; under the cap it exports.
func TestSnapshotMaxSize(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	spec := func(maxSize string) string {
		return syntaxLine + `
[args]
NONCE = ""
[caches.big]
target = "/big"
persist = true
max_size = "` + maxSize + `"
[stages.s]
from = "busybox:1.36"
args = ["NONCE"]
caches = ["big"]
[[stages.s.steps]]
run = "head -c 300000 /dev/zero > /big/blob && echo $NONCE > /done"
`
	}
	for _, c := range []struct {
		maxSize string
		fails   bool
	}{{"64k", true}, {"10m", false}} {
		t.Run(c.maxSize, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, map[string]string{"build.toml": spec(c.maxSize)})
			out := t.TempDir()
			log, err := buildx(dir, "build", "-f", "build.toml", "--provenance=false", "--build-arg", "NONCE="+nonce(t),
				"--build-arg", "BUILDKIT_CACHE_MOUNT_NS="+nonce(t), "--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--output", "type=local,dest="+out, ".")
			refused := strings.Contains(log, "above its max_size "+c.maxSize+": the snapshot is not exported")
			if (err != nil) != c.fails || refused != c.fails {
				t.Fatalf("max_size %s: build error %v, refused %v, want %v:\n%s", c.maxSize, err, refused, c.fails, log)
			}
			if _, err := os.Stat(filepath.Join(out, "big.tar")); (err == nil) == c.fails {
				t.Errorf("max_size %s: the snapshot holds the cache: %v", c.maxSize, err == nil)
			}
		})
	}
}

// TestSnapshotArchive carries a cache that a non-root user writes to a
// fresh builder: owners, modes, symlinks and hard links survive the round
// trip. (TestSnapshotGoService exports a large cache ten times.)
func TestSnapshotArchive(t *testing.T) {
	buildFrontendImage(t)
	ns := nonce(t)
	dir := writeTree(t, map[string]string{"build.toml": syntaxLine + `
[args]
NONCE = ""
[caches.owned]
target = "/owned"
persist = true
uid = 1000
gid = 1001
mode = "0750"
[stages.s]
from = "busybox:1.36"
args = ["NONCE"]
caches = ["owned"]
[[stages.s.steps]]
user = "1000:1001"
run = """
if [ ! -f /owned/file ]; then
  mkdir -p /owned/sub && chmod 0700 /owned/sub
  echo owned > /owned/file && chmod 0640 /owned/file
  ln -s file /owned/link && ln /owned/file /owned/hard
fi
"""
[[stages.s.steps]]
run = """
mkdir -p /result
stat -c '%u:%g %a' /owned /owned/sub /owned/file > /result/owners
readlink /owned/link > /result/link
stat -c '%i' /owned/file > /result/inode-file
stat -c '%i' /owned/hard > /result/inode-hard
echo $NONCE > /result/nonce
"""
[stages.out]
from = "scratch"
[[stages.out.steps]]
copy = ["/result/"]
from = "s"
`})
	args := func(extra ...string) []string {
		return append(append([]string{"build", "-f", "build.toml", "--provenance=false", "--build-arg", "NONCE=" + nonce(t),
			"--build-arg", "BUILDKIT_CACHE_MOUNT_NS=" + ns}, extra...), ".")
	}
	mustBuildx(t, dir, args("--output", "type=local,dest="+t.TempDir())...)
	snapshot := t.TempDir()
	mustBuildx(t, dir, args("--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--output", "type=local,dest="+snapshot)...)
	builder := freshBuilder(t, "snap-archive")
	out := t.TempDir()
	mustBuildx(t, dir, args("--builder", builder, "--build-context", "tomlfront-cache="+snapshot, "--output", "type=local,dest="+out)...)
	for file, want := range map[string]string{"owners": "1000:1001 750\n1000:1001 700\n1000:1001 640", "link": "file"} {
		if got := strings.TrimSpace(readFile(t, filepath.Join(out, file))); got != want {
			t.Errorf("%s after the round trip: %q, want %q", file, got, want)
		}
	}
	if a, b := readFile(t, filepath.Join(out, "inode-file")), readFile(t, filepath.Join(out, "inode-hard")); a != b {
		t.Errorf("the hard link is a copy after the round trip: inodes %s and %s", strings.TrimSpace(a), strings.TrimSpace(b))
	}
}

// goServiceSpec builds e2e/testdata/projects/go-service with the go preset
// persisted; OFFLINE=1 makes every go command fail on a download. The build
// step lists what it compiles (go build -v) and leaves a build cache entry
// that no build uses, dated 2001, as an old cache holds: the trim must
// leave it out.
const goServiceSpec = syntaxLine + `
[args]
NONCE = ""
OFFLINE = ""
[caches.go]
preset = "go"
persist = true
[stages.build]
from = "golang:1.26"
args = ["NONCE", "OFFLINE"]
workdir = "/src"
env = { CGO_ENABLED = "0" }
caches = ["go"]
[[stages.build.steps]]
copy = ["go.mod", "go.sum"]
[[stages.build.steps]]
run = "if [ -n \"$OFFLINE\" ]; then export GOPROXY=off; fi; go mod download"
[[stages.build.steps]]
copy = ["*.go"]
[[stages.build.steps]]
run = """
if [ -n "$OFFLINE" ]; then export GOPROXY=off; fi
mkdir -p /out && go build -v -o /out/go-service . 2> /out/compiled
mkdir -p "$GOCACHE/ff" && echo unused > "$GOCACHE/ff/ff00000000-d" && touch -d 2001-01-01 "$GOCACHE/ff/ff00000000-d"
"""
[stages.out]
from = "scratch"
[[stages.out.steps]]
copy = ["/out/compiled"]
from = "build"
`

// TestSnapshotGoService carries the Go caches of a real service (54 module
// requirements, over 10,000 files) where exports used to stall: ten exports
// with -o type=local in a row, each within a time limit (moby/buildkit#2950),
// each trimmed; the snapshot holds every module the service requires, and a
// fresh builder seeded from it builds the service after a one-line change
// offline, so downloading nothing, and compiles only the changed package.
// Then TOMLFRONT_CACHE_EXPORT=auto leaves out what did not change. The test
// has a builder of its own: on the shared one, what other tests left there
// (and its garbage collection, on a busy machine) decided what the caches
// held.
func TestSnapshotGoService(t *testing.T) {
	needs(t, twoBuilders)
	buildFrontendImage(t)
	own := freshBuilder(t, "snap-go-service-own")
	src := filepath.Join("testdata", "projects", "go-service")
	files := map[string]string{"build.toml": goServiceSpec}
	for _, name := range []string{"go.mod", "go.sum", "main.go"} {
		files[name] = readFile(t, filepath.Join(src, name))
	}
	dir := writeTree(t, files)
	ns := nonce(t)
	args := func(extra ...string) []string {
		return append(append([]string{"build", "-f", "build.toml", "--provenance=false", "--build-arg", "NONCE=" + ns, "--build-arg", "BUILDKIT_CACHE_MOUNT_NS=" + ns}, extra...), ".")
	}
	onOwn := func(extra ...string) []string { return args(append([]string{"--builder", own}, extra...)...) }
	mustBuildxWith(t, cmdOpt{timeout: 15 * time.Minute}, dir, onOwn("--output", "type=local,dest="+t.TempDir())...)
	// As in CI, each export is given the snapshot before it (the first an
	// empty one).
	snapshot, log := t.TempDir(), ""
	for i := range 10 {
		previous := snapshot
		snapshot = t.TempDir()
		var err error
		if log, err = buildxWith(cmdOpt{timeout: 3 * time.Minute}, dir, onOwn("--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--build-context", "tomlfront-cache="+previous, "--output", "type=local,dest="+snapshot)...); err != nil {
			t.Fatalf("export %d of 10: %v\n%s", i+1, err, log)
		}
	}
	if !strings.Contains(log, "tomlfront: cache go/build: ") || !strings.Contains(log, "the next build does not need), archived in go/build.tar") {
		t.Errorf("the export does not say what it trimmed:\n%s", log)
	}
	members := map[string][]string{}
	for _, part := range []string{"mod", "build"} {
		members[part] = archiveMembers(t, filepath.Join(snapshot, "go", part+".tar"))
	}
	t.Logf("the snapshot holds %d files of the module cache and %d of the build cache", len(members["mod"]), len(members["build"]))
	for _, m := range requiredModules(t, files["go.mod"]) {
		if zip := "./cache/download/" + escapeModulePath(m.path) + "/@v/" + m.version + ".zip"; !slices.Contains(members["mod"], zip) {
			t.Errorf("the snapshot's module cache lacks %s, which the service requires", zip)
		}
	}
	if slices.Contains(members["build"], "./ff/ff00000000-d") {
		t.Errorf("the trim kept a build cache entry unused since 2001")
	}

	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(files["main.go"]+"\n// a one-line change\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	builder := freshBuilder(t, "snap-go-service")
	out := t.TempDir()
	log = mustBuildx(t, dir, args("--builder", builder, "--build-arg", "OFFLINE=1", "--build-context", "tomlfront-cache="+snapshot, "--output", "type=local,dest="+out)...)
	if !strings.Contains(log, "tomlfront: cache go/mod seeded from the snapshot") || !strings.Contains(log, "tomlfront: cache go/build seeded from the snapshot") {
		t.Errorf("the fresh builder was not seeded:\n%s", log)
	}
	if got := strings.Fields(readFile(t, filepath.Join(out, "compiled"))); !slices.Equal(got, []string{"example.com/go-service"}) {
		t.Errorf("after a one-line change, the seeded builder compiled %q, want only example.com/go-service", got)
	}

	// On the first builder: nothing changed since the last export, then the
	// change compiles into the build cache, while the module cache stays.
	auto := func() (string, []string) {
		t.Helper()
		dest := t.TempDir()
		log := mustBuildxWith(t, cmdOpt{timeout: 5 * time.Minute}, dir, onOwn("--build-arg", "TOMLFRONT_CACHE_EXPORT=auto", "--build-context", "tomlfront-cache="+snapshot, "--output", "type=local,dest="+dest)...)
		var archives []string
		_ = filepath.WalkDir(dest, func(p string, _ os.DirEntry, _ error) error {
			if strings.HasSuffix(p, ".tar") {
				rel, _ := filepath.Rel(dest, p)
				archives = append(archives, rel)
			}
			return nil
		})
		return log, archives
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(files["main.go"]), 0o644); err != nil {
		t.Fatal(err)
	}
	log, archives := auto()
	for _, part := range []string{"mod", "build"} {
		if !strings.Contains(log, "tomlfront: cache go/"+part+" unchanged since the snapshot (content sha256:") {
			t.Errorf("auto, nothing changed: go/%s is not said unchanged:\n%s", part, log)
		}
	}
	if len(archives) != 0 {
		t.Errorf("auto, nothing changed: exported %v", archives)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(files["main.go"]+"\n// another change\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	log, archives = auto()
	if !strings.Contains(log, "tomlfront: cache go/mod unchanged since the snapshot") || !strings.Contains(log, "tomlfront: cache go/build changed since the snapshot: exported") {
		t.Errorf("auto after a change: want go/mod unchanged and go/build exported:\n%s", log)
	}
	if !slices.Equal(archives, []string{filepath.Join("go", "build.tar")}) {
		t.Errorf("auto after a change exported %v, want only go/build.tar", archives)
	}
}

// TestSnapshotTrimApt: the apt preset's trim leaves out packages the stage
// has not installed and apt's *.bin caches, and a fresh builder seeded from
// the trimmed snapshot installs the same package again downloading nothing.
func TestSnapshotTrimApt(t *testing.T) {
	buildFrontendImage(t)
	ns := nonce(t)
	dir := writeTree(t, map[string]string{"build.toml": syntaxLine + `
[args]
NONCE = ""
[caches.apt]
preset = "apt"
persist = true
[stages.tools]
from = "debian:bookworm"
args = ["NONCE"]
caches = ["apt"]
[[stages.tools.steps]]
run = """
echo $NONCE
apt-get update && apt-get install -y --no-install-recommends hello && hello
echo junk > /var/cache/apt/archives/junk_1.0_all.deb
"""
[stages.out]
from = "scratch"
[[stages.out.steps]]
copy = ["/usr/bin/hello"]
from = "tools"
`})
	args := func(nonce string, extra ...string) []string {
		return append(append([]string{"build", "-f", "build.toml", "--provenance=false", "--build-arg", "NONCE=" + nonce, "--build-arg", "BUILDKIT_CACHE_MOUNT_NS=" + ns}, extra...), ".")
	}
	downloaded := regexp.MustCompile(`(?m)Get:\d+ \S+ \S+ amd64 hello `)
	if log := mustBuildx(t, dir, args(ns+"-1", "--output", "type=local,dest="+t.TempDir())...); !downloaded.MatchString(log) {
		t.Fatalf("the first build downloaded no package, so the check below would be blind:\n%s", log)
	}
	snapshot := t.TempDir()
	log := mustBuildx(t, dir, args(ns+"-1", "--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--output", "type=local,dest="+snapshot)...)
	if !strings.Contains(log, "paths the next build does not need), archived in apt/cache.tar") {
		t.Errorf("the export does not say it trimmed apt/cache:\n%s", log)
	}
	members := archiveMembers(t, filepath.Join(snapshot, "apt", "cache.tar"))
	if !slices.ContainsFunc(members, func(m string) bool { return strings.HasPrefix(m, "./archives/hello_") }) {
		t.Errorf("the trim left out the installed package: %v", members)
	}
	for _, m := range members {
		if m == "./archives/junk_1.0_all.deb" || strings.HasSuffix(m, ".bin") {
			t.Errorf("the trim kept %s", m)
		}
	}
	builder := freshBuilder(t, "snap-apt")
	log = mustBuildx(t, dir, args(ns+"-2", "--builder", builder, "--build-context", "tomlfront-cache="+snapshot, "--output", "type=local,dest="+t.TempDir())...)
	if downloaded.MatchString(log) || !strings.Contains(log, "Need to get 0 B/") {
		t.Errorf("the seeded builder downloaded the package again:\n%s", log)
	}
}

// archiveMembers lists the paths in a snapshot's tar archive.
// module is a module requirement of a go.mod.
type module struct{ path, version string }

// requiredModules lists the requirements of a go.mod, direct and indirect.
func requiredModules(t *testing.T, gomod string) []module {
	t.Helper()
	var out []module
	inBlock := false
	for line := range strings.Lines(gomod) {
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 2 && fields[0] == "require" && fields[1] == "(":
			inBlock = true
		case inBlock && len(fields) > 0 && fields[0] == ")":
			inBlock = false
		case inBlock && len(fields) >= 2:
			out = append(out, module{fields[0], fields[1]})
		case len(fields) >= 3 && fields[0] == "require":
			out = append(out, module{fields[1], fields[2]})
		}
	}
	if len(out) == 0 {
		t.Fatal("go.mod requires no module")
	}
	return out
}

// escapeModulePath is a module path as the module cache spells it: each
// upper-case letter as '!' and its lower case.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func archiveMembers(t *testing.T, archive string) []string {
	t.Helper()
	var names []string
	walkTarFile(t, archive, func(h *tar.Header, _ io.Reader) { names = append(names, h.Name) })
	return names
}

// TestSnapshotSeedsOnlyWhatRuns: a snapshot is read only for a cache that a
// running step mounts. On a fresh builder given the layer cache and a
// snapshot, every step comes from the layer cache: the seed probe runs, in
// the frontend's image, and nothing else: no step, no seed, no transfer of
// the snapshot, and an auto export writes nothing. When a step that mounts
// the cache runs, its guard asks for the cache and waits, the frontend
// seeds it, and the step, started again, sees the snapshot's content.
//
// Not parallel: it starts buildkitds of its own and adds and removes buildx
// builders in the bench's DOCKER_CONFIG.
func TestSnapshotSeedsOnlyWhatRuns(t *testing.T) {
	needs(t, cacheExport)
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{"build.toml": snapshotSpec})
	ns, layers, snapshot := nonce(t), t.TempDir(), t.TempDir()
	// The snapshot's state the last build gave in its metadata, for a CI
	// workflow to skip the export when it is current.
	var state string
	build := func(t *testing.T, builder string, args ...string) (*buildLog, string) {
		t.Helper()
		out, metadata := t.TempDir(), filepath.Join(t.TempDir(), "metadata.json")
		a := append([]string{"build", "--builder", builder, "--progress", "rawjson", "-f", "build.toml", "--provenance=false",
			"--build-arg", "BUILDKIT_CACHE_MOUNT_NS=" + ns, "--output", "type=local,dest=" + out, "--metadata-file", metadata}, args...)
		log := progressOf(t, mustBuildx(t, dir, append(a, ".")...))
		var m map[string]any
		if err := json.Unmarshal([]byte(readFile(t, metadata)), &m); err != nil {
			t.Fatalf("the build's metadata: %v", err)
		}
		state, _ = m[frontend.SnapshotMetadata].(string)
		return log, out
	}
	// Vertices that ran, by name; none is cached or left out.
	ran := func(log *buildLog) []string {
		var names []string
		for _, v := range log.vertexes {
			if v.Started != nil && !v.Cached {
				names = append(names, v.Name)
			}
		}
		slices.Sort(names)
		return names
	}

	// The first builder fills the cache twice (the second build sees the
	// token), exports the layer cache and the snapshot.
	a := freshBuilder(t, "seeds-a")
	build(t, a, "--build-arg", "NONCE=1")
	_, out := build(t, a, "--build-arg", "NONCE=2", "--cache-to", "type=local,mode=max,dest="+layers)
	token := strings.TrimSpace(readFile(t, filepath.Join(out, "seen")))
	if len(token) != 32 {
		t.Fatalf("the second build saw %q, want a token", token)
	}
	build(t, a, "--build-arg", "NONCE=2", "--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--output", "type=local,dest="+snapshot)

	b := freshBuilder(t, "seeds-b")
	given := []string{"--build-arg", "NONCE=2", "--cache-from", "type=local,src=" + layers, "--build-context", "tomlfront-cache=" + snapshot}
	log, out := build(t, b, given...)
	if got := strings.TrimSpace(readFile(t, filepath.Join(out, "seen"))); got != token {
		t.Errorf("the build from the layer cache saw %q, want %q", got, token)
	}
	probe := llbgen.ProbeName
	for _, name := range ran(log) {
		// The snapshot's .dockerignore is all that dockerui reads of it, and
		// its .info files all that the frontend reads.
		snapshotRead := strings.HasPrefix(name, "[context tomlfront-cache]") &&
			!strings.HasSuffix(name, "load .dockerignore") && !strings.HasSuffix(name, "which caches does the snapshot hold?")
		// The watcher runs beside the build, and is cancelled at its end.
		if snapshotRead || strings.Contains(name, "seed") && name != llbgen.WatcherName || strings.Contains(name, "] run ") {
			t.Errorf("with every step in the layer cache, %q ran:\n%s", name, log.text)
		}
	}
	if !slices.Contains(ran(log), probe) || !strings.Contains(log.text, "tomlfront: cache deps is empty on this builder: it is seeded from the snapshot if a step that mounts it runs") {
		t.Errorf("the probe did not run, or does not say what it found:\n%s", log.text)
	}
	if state != frontend.SnapshotCurrent {
		t.Errorf("the build whose steps all came from the layer cache says its snapshot is %q, want current", state)
	}
	// Nothing used the cache: an auto export leaves it out, running no step.
	log, out = build(t, b, append(given, "--build-arg", "TOMLFRONT_CACHE_EXPORT=auto")...)
	if entries, _ := os.ReadDir(out); len(entries) != 0 || slices.ContainsFunc(ran(log), func(n string) bool { return strings.Contains(n, "export cache") }) {
		t.Errorf("an auto export of an unused cache wrote %d files:\n%s", len(entries), log.text)
	}

	// A step that mounts the cache runs: its guard asks for the cache, it
	// is seeded, and the step, started again, sees the snapshot's token.
	log, out = build(t, b, slices.Concat(given[2:], []string{"--build-arg", "NONCE=3"})...)
	if got := strings.TrimSpace(readFile(t, filepath.Join(out, "seen"))); got != token {
		t.Errorf("the step that ran saw %q, want the snapshot's %q:\n%s", got, token, log.text)
	}
	if state != frontend.SnapshotStale {
		t.Errorf("the build whose step used the cache says its snapshot is %q, want stale", state)
	}
	for _, say := range []string{
		"tomlfront: cache deps is empty on this builder and marked for a seed from the snapshot: this step waits for it, then starts again",
		"tomlfront: cache deps seeded from the snapshot",
	} {
		if !strings.Contains(log.text, say) {
			t.Errorf("the build does not say %q:\n%s", say, log.text)
		}
	}

	// An empty snapshot, as a first CI run restores: nothing is probed, no
	// step waits, and the step runs once, on the empty cache.
	c := freshBuilder(t, "seeds-c")
	log, out = build(t, c, "--build-arg", "NONCE=4", "--build-context", "tomlfront-cache="+t.TempDir())
	if slices.Contains(ran(log), probe) || strings.Contains(log.text, "marked for a seed") {
		t.Errorf("a build given an empty snapshot probed or waited:\n%s", log.text)
	}
	if state != frontend.SnapshotStale {
		t.Errorf("the build given an empty snapshot says it is %q, want stale", state)
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(out, "seen"))); got == token {
		t.Errorf("the build given an empty snapshot saw the other builder's token")
	}

	// An auto export given no snapshot, whose steps all come from the layer
	// cache (a snapshot evicted while the layer cache stays): the caches
	// are empty, and it exports nothing rather than archives of nothing.
	d := freshBuilder(t, "seeds-d")
	log, out = build(t, d, "--build-arg", "NONCE=2", "--cache-from", "type=local,src="+layers,
		"--build-context", "tomlfront-cache="+t.TempDir(), "--build-arg", "TOMLFRONT_CACHE_EXPORT=auto")
	if !strings.Contains(log.text, "tomlfront: cache deps is empty on this builder") {
		t.Errorf("the export does not say the cache is empty:\n%s", log.text)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("an auto export of caches no step filled wrote %d files:\n%s", len(entries), log.text)
	}
}
