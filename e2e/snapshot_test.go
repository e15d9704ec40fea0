//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
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
	if got := readFile(t, filepath.Join(local, "deps", "token")); got != token {
		t.Fatalf("snapshot holds %q, want %q", got, token)
	}
	if _, err := os.Stat(filepath.Join(local, "scratchpad")); err == nil {
		t.Error("the snapshot holds a cache without persist = true")
	}
	if !strings.Contains(log, "tomlfront: cache deps: ") {
		t.Errorf("the export does not show the snapshot's size:\n%s", log)
	}
	tarball := filepath.Join(t.TempDir(), "snapshot.tar")
	build(t, "", "--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--output", "type=tar,dest="+tarball)
	if got := tarEntry(t, tarball, "deps/token"); got != token {
		t.Errorf("snapshot tarball holds %q, want %q", got, token)
	}
	image := bench.registry + "/snapshots/e2e:" + ns
	build(t, "", "--build-arg", "TOMLFRONT_CACHE_EXPORT=1", "--output", "type=image,name="+image+",push=true")
	snapshots := map[string]string{
		"local":        local,
		"docker-image": "docker-image://" + image,
	}
	if bench.kind.graphdriver() {
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
			if _, err := os.Stat(filepath.Join(out, "big", "blob")); (err == nil) == c.fails {
				t.Errorf("max_size %s: the snapshot holds the cache: %v", c.maxSize, err == nil)
			}
		})
	}
}
