//go:build e2e

// Package e2e tests tomlfront end to end on the bench that scripts/bench
// starts: a real buildkitd, a real registry, buildx, and fixture images.
// Run it with `make test`, which starts the bench first.
//
// A test that is independent of the others calls t.Parallel (go test runs
// GOMAXPROCS of them at once, two on the bench machine). These do not: tests
// whose builds must run at the same time as each other (the cache sharing
// tests), tests that prune the builder's cache, and tests that start
// buildkitds or add buildx builders. go test runs all the tests that are not
// parallel first, one at a time, and the parallel ones after them, so these
// never share the bench with another test.
package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// bench is the running test bench, as scripts/bench/up.sh describes it in
// env.sh.
var bench struct {
	host     string // BUILDKIT_HOST
	kind     builderKind
	registry string // 127.0.0.1:PORT
	state    string
}

// root is the repository's top directory.
var root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}()

func TestMain(m *testing.M) {
	bench.host = os.Getenv("BUILDKIT_HOST")
	bench.registry = os.Getenv("TOMLFRONT_REGISTRY")
	bench.state = os.Getenv("TOMLFRONT_BENCH_STATE")
	bench.kind = builderKind(os.Getenv("TOMLFRONT_BUILDER_KIND"))
	if bench.kind == "" {
		bench.kind = kindBuildkitd
	}
	var err error
	if kinds, err = readKinds(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	if _, ok := kinds[bench.kind]; !ok {
		fmt.Fprintf(os.Stderr, "e2e: unknown builder kind %q: scripts/bench/kinds lists them\n", bench.kind)
		os.Exit(1)
	}
	if bench.host == "" || bench.registry == "" || bench.state == "" || os.Getenv("BUILDX_BUILDER") == "" || os.Getenv("TOMLFRONT_BUILDKITD_BUILDER") == "" {
		fmt.Fprintln(os.Stderr, "e2e: no bench: run `make test`, or `bash scripts/bench/up.sh` and source the env.sh it prints")
		os.Exit(1)
	}
	flag.Parse()
	selectCore()
	os.Exit(m.Run())
}

// frontendRef is the frontend image in the bench registry. The bench
// mirrors ghcr.io to it, so the examples' `# syntax=ghcr.io/tomlfront/tomlfront:1`
// resolves to the image built from this tree.
func frontendRef() string { return bench.registry + "/tomlfront/tomlfront:1" }

var frontendOnce struct {
	sync.Once
	out string
	err error
}

// buildFrontendImage builds the project's Dockerfile on the bench's
// buildkitd for linux/amd64 and linux/arm64 (cross-compiled, no emulation)
// and pushes it. On a Docker Engine it also puts the image into the
// engine's own store as ghcr.io/tomlfront/tomlfront:1 (loadFrontendImage).
// It runs once per test binary.
func buildFrontendImage(t *testing.T) string {
	t.Helper()
	frontendOnce.Do(func() {
		modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			frontendOnce.err = err
			return
		}
		// Cross-compiling for two platforms on a cold Go build cache takes
		// a while on two cores.
		frontendOnce.out, frontendOnce.err = buildxWith(cmdOpt{timeout: 20 * time.Minute}, root, "build",
			"--builder", os.Getenv("TOMLFRONT_BUILDKITD_BUILDER"),
			"--platform", "linux/amd64,linux/arm64", "--provenance=false",
			"--build-context", "gomodcache="+filepath.Join(strings.TrimSpace(string(modcache)), "cache", "download"),
			"--tag", frontendRef(), "--push", ".")
		if frontendOnce.err == nil && bench.kind.engine() {
			frontendOnce.err = loadFrontendImage()
		}
	})
	if frontendOnce.err != nil {
		t.Fatalf("building the frontend image: %v\n%s", frontendOnce.err, frontendOnce.out)
	}
	return frontendOnce.out
}

// syntaxRef is the image the examples' `# syntax=` line names.
const syntaxRef = "ghcr.io/tomlfront/tomlfront:1"

// loadFrontendImage pulls the frontend image from the bench registry into
// the Docker Engine's store and tags it as the examples' syntax image. An
// engine mirrors docker.io only, and its BuildKit resolves the syntax image
// from its own store first, as it does for a user who loads a frontend
// they built.
func loadFrontendImage() error {
	for _, args := range [][]string{{"pull", "--quiet", frontendRef()}, {"tag", frontendRef(), syntaxRef}} {
		if out, err := docker(cmdOpt{timeout: 5 * time.Minute}, "", args...); err != nil {
			return fmt.Errorf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}
