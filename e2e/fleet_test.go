//go:build e2e

package e2e

import (
	"context"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// fleetNode is one buildkitd node of a buildx builder of several.
type fleetNode struct {
	name, platform, addr string
}

// fleetBuilder makes a buildx builder of one new buildkitd (empty root)
// per platform, appended node by node as a team grows its builder
// (`docker buildx create --append --platform`), and returns its name and
// nodes. Each node runs on this machine's platform and says it is for its
// platform: buildx sends it that platform's builds, which a cross-compiling
// spec does without emulation.
func fleetBuilder(t *testing.T, name string, platforms ...string) (string, []fleetNode) {
	t.Helper()
	builder := "tf-" + name
	var nodes []fleetNode
	for i, p := range platforms {
		node := fleetNode{name: name + "-" + strings.ReplaceAll(p, "/", "-"), platform: p}
		node.addr = extraBuilder(t, node.name)
		args := []string{"buildx", "create", "--name", builder, "--node", node.name, "--driver", "remote", "--platform", p}
		if i > 0 {
			args = append(args, "--append")
		}
		mustDocker(t, append(args, node.addr)...)
		nodes = append(nodes, node)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = exec.CommandContext(ctx, "docker", "buildx", "rm", builder).Run()
	})
	return builder, nodes
}

// builtPlatforms are the platforms of the builds a buildkitd has run, one
// per build, from its build history (the platform frontend option buildx
// gives each node).
func builtPlatforms(t *testing.T, addr string) []string {
	t.Helper()
	ctx := timeout(t, time.Minute)
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{EarlyExit: true})
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p := ev.Record.GetFrontendAttrs()["platform"]; p != "" {
			platforms = append(platforms, p)
		}
	}
	slices.Sort(platforms)
	return platforms
}

// TestFleet: a buildx builder of two buildkitd nodes, one per platform, as
// teams run builders. A multi-platform build of a cross-compiling spec
// splits across the nodes and gives one index of both platforms; a registry
// cache one node exports, the other reuses, every step; a cache snapshot one
// node pushes as an image seeds the other's cache mounts, which live on
// each node alone (docs/fleets.md).
//
// Not parallel: it starts buildkitds of its own and adds and removes buildx
// builders in the bench's DOCKER_CONFIG.
func TestFleet(t *testing.T) {
	needs(t, ownDaemons)
	buildFrontendImage(t)
	fleet, nodes := fleetBuilder(t, "fleet", "linux/amd64", "linux/arm64")
	app := filepath.Join(root, "examples", "go-app")
	ns := nonce(t)
	var buildIn func(t *testing.T, app, builder string, args ...string) *buildLog
	build := func(t *testing.T, builder string, args ...string) *buildLog {
		t.Helper()
		return buildIn(t, app, builder, args...)
	}
	buildIn = func(t *testing.T, app, builder string, args ...string) *buildLog {
		t.Helper()
		// A cache mount namespace of the run's own: the nodes' caches are
		// new, but the snapshot below must hold this run's content.
		args = append([]string{"build", "--builder", builder, "--progress", "rawjson", "-f", "build.toml", "--provenance=false",
			"--build-arg", "BUILDKIT_CACHE_MOUNT_NS=" + ns}, args...)
		out, err := buildxWith(cmdOpt{}, app, append(args, ".")...)
		log := progressOf(t, out)
		if err != nil {
			t.Fatalf("docker buildx %s: %v\n%s", strings.Join(args, " "), err, log.text)
		}
		return log
	}

	// The other node, as a builder of its own: the same buildkitd.
	other := "tf-fleet-other"
	mustDocker(t, "buildx", "create", "--name", other, "--driver", "remote", nodes[1].addr)
	t.Cleanup(func() { _, _ = docker(cmdOpt{timeout: time.Minute}, "", "buildx", "rm", other) })

	t.Run("a registry cache of one node reused by the other", func(t *testing.T) {
		cache := bench.registry + "/fleet/cache:" + ns
		// The other node has built nothing yet: what it reuses can only be
		// the registry's.
		first := build(t, fleet, "--platform", "linux/amd64", "--cache-to", "type=registry,ref="+cache+",mode=max",
			"--output", "type=local,dest="+t.TempDir())
		if first.cached(t, "[build 4/4] run") {
			t.Fatalf("the compile came from a cache on its first build:\n%s", first.text)
		}
		if got := builtPlatforms(t, nodes[0].addr); !slices.Contains(got, "linux/amd64") {
			t.Fatalf("the amd64 build did not run on the amd64 node: it built %v", got)
		}
		second := build(t, other, "--platform", "linux/amd64", "--cache-from", "type=registry,ref="+cache,
			"--output", "type=local,dest="+t.TempDir())
		for _, step := range []string{"[build 2/4] run go mod download", "[build 4/4] run"} {
			if !second.cached(t, step) {
				t.Errorf("%s ran again on the other node:\n%s", step, second.text)
			}
		}
	})

	t.Run("a snapshot pushed by one node seeds the other", func(t *testing.T) {
		snapshot := bench.registry + "/fleet/snapshot:" + ns
		build(t, fleet, "--platform", "linux/amd64", "--build-arg", "TOMLFRONT_CACHE_EXPORT=1",
			"--output", "type=image,name="+snapshot+",push=true")
		// The other node's steps all came from the registry's cache above:
		// its cache mounts are empty. While no step runs, nothing is seeded;
		// a change makes the compile run, and the snapshot fills them.
		given := []string{"--platform", "linux/amd64", "--build-context", "tomlfront-cache=docker-image://" + snapshot, "--output", "type=local,dest=" + t.TempDir()}
		if cached := build(t, other, given...); strings.Contains(cached.text, "[tomlfront] seed cache") {
			t.Errorf("the other node seeded a cache no step used:\n%s", cached.text)
		}
		changed := t.TempDir()
		copyTree(t, app, changed)
		if err := os.WriteFile(filepath.Join(changed, "fleet.go"), []byte("package main\n\nconst fleet = true\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		seeded := buildIn(t, changed, other, given...)
		if !strings.Contains(seeded.text, "tomlfront: cache go/build seeded from the snapshot") {
			t.Errorf("the other node's build was not seeded from the snapshot:\n%s", seeded.text)
		}
	})

	t.Run("one index split across the nodes", func(t *testing.T) {
		image := bench.registry + "/fleet/app:" + ns
		before := builtPlatforms(t, nodes[0].addr)
		build(t, fleet, "--platform", "linux/amd64,linux/arm64", "--output", "type=image,name="+image+",push=true")
		// The amd64 node built amd64 once more and never arm64; the arm64
		// node built arm64.
		if got := builtPlatforms(t, nodes[0].addr); len(got) != len(before)+1 || slices.Contains(got, "linux/arm64") {
			t.Errorf("the amd64 node built %v, before the build %v", got, before)
		}
		if got := builtPlatforms(t, nodes[1].addr); !slices.Contains(got, "linux/arm64") {
			t.Errorf("the arm64 node built %v", got)
		}
		pushed := registryImage(t, "fleet/app", ns)
		var got []string
		for _, d := range pushed.manifests(t) {
			got = append(got, d.Platform.OS+"/"+d.Platform.Architecture)
			var m ocispecs.Manifest
			pushed.decode(t, d, &m)
			files := layerFiles(t, pushed.blob(t, m.Layers[len(m.Layers)-1]))
			bin, ok := files["usr/local/bin/app"]
			if !ok {
				t.Fatalf("%s: no usr/local/bin/app in the image", d.Platform.Architecture)
			}
			f, err := elf.NewFile(strings.NewReader(string(bin)))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[d.Platform.Architecture]
			if f.Machine != want {
				t.Errorf("%s: the binary is for %v", d.Platform.Architecture, f.Machine)
			}
		}
		slices.Sort(got)
		if strings.Join(got, ",") != "linux/amd64,linux/arm64" {
			t.Errorf("the index holds %v, want linux/amd64 and linux/arm64", got)
		}
	})
}
