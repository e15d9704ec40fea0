//go:build e2e

// Package e2e tests tomlfront end to end on the bench that scripts/bench
// starts: a real buildkitd, a real registry, buildx, and fixture images.
// Run it with `make test`, which starts the bench first.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/frontend"
	"github.com/tonistiigi/fsutil"
)

// bench is the running test bench, as scripts/bench/up.sh describes it in
// env.sh.
var bench struct {
	host     string // BUILDKIT_HOST
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
	if bench.host == "" || bench.registry == "" || bench.state == "" || os.Getenv("BUILDX_BUILDER") == "" {
		fmt.Fprintln(os.Stderr, "e2e: no bench: run `make test`, or `bash scripts/bench/up.sh` and source the env.sh it prints")
		os.Exit(1)
	}
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

// buildFrontendImage builds the project's Dockerfile on the bench for
// linux/amd64 and linux/arm64 (cross-compiled, no emulation) and pushes it.
// It runs once per test binary.
func buildFrontendImage(t *testing.T) string {
	t.Helper()
	frontendOnce.Do(func() {
		modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			frontendOnce.err = err
			return
		}
		frontendOnce.out, frontendOnce.err = buildx(context.Background(), root, "build",
			"--platform", "linux/amd64,linux/arm64", "--provenance=false",
			"--build-context", "gomodcache="+filepath.Join(strings.TrimSpace(string(modcache)), "cache", "download"),
			"--tag", frontendRef(), "--push", ".")
	})
	if frontendOnce.err != nil {
		t.Fatalf("building the frontend image: %v\n%s", frontendOnce.err, frontendOnce.out)
	}
	return frontendOnce.out
}

// buildx runs `docker buildx ARGS` in dir with plain progress and returns its
// combined output.
func buildx(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", append([]string{"buildx", "--builder", os.Getenv("BUILDX_BUILDER")}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BUILDKIT_PROGRESS=plain")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustBuildx(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := buildx(context.Background(), dir, args...)
	if err != nil {
		t.Fatalf("docker buildx %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// writeTree writes files (path → content) under a new temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(dt)
}

// solveOpt describes an in-process build: the frontend runs in the test
// binary through client.Build, so no image is needed.
type solveOpt struct {
	dir      string            // build context and spec directory
	attrs    map[string]string // frontend options, e.g. "build-arg:X"
	exports  []client.ExportEntry
	host     string // buildkitd address; default the bench's
	contexts map[string]string
	imports  []client.CacheOptionsEntry
	exportsC []client.CacheOptionsEntry
}

// solve runs a build in-process and returns the plain progress output.
func solve(ctx context.Context, t *testing.T, o solveOpt) (string, error) {
	t.Helper()
	host := o.host
	if host == "" {
		host = bench.host
	}
	c, err := client.New(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mounts := map[string]fsutil.FS{}
	for name, dir := range map[string]string{"context": o.dir, "dockerfile": o.dir} {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			t.Fatal(err)
		}
		mounts[name] = fs
	}
	attrs := map[string]string{}
	for k, v := range o.attrs {
		attrs[k] = v
	}
	for name, dir := range o.contexts {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			t.Fatal(err)
		}
		mounts[name] = fs
		attrs["context:"+name] = "local:" + name
	}
	ch := make(chan *client.SolveStatus)
	var progress bytes.Buffer
	display, err := progressui.NewDisplay(&progress, progressui.PlainMode)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = display.UpdateFrom(context.Background(), ch)
	}()
	_, err = c.Build(ctx, client.SolveOpt{
		LocalMounts:   mounts,
		FrontendAttrs: attrs,
		Exports:       o.exports,
		CacheImports:  o.imports,
		CacheExports:  o.exportsC,
	}, "tomlfront-e2e", frontend.Build, ch)
	<-done
	return progress.String(), err
}

func mustSolve(ctx context.Context, t *testing.T, o solveOpt) string {
	t.Helper()
	out, err := solve(ctx, t, o)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return out
}

// localExport exports the result to a new directory, returned.
func localExport(t *testing.T) (client.ExportEntry, string) {
	dir := t.TempDir()
	return client.ExportEntry{Type: client.ExporterLocal, OutputDir: dir}, dir
}

// registryGet fetches a manifest, index or blob from the bench registry.
func registryGet(t *testing.T, repo, kind, ref string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v2/%s/%s/%s", bench.registry, repo, kind, ref), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", strings.Join([]string{ocispecs.MediaTypeImageIndex, ocispecs.MediaTypeImageManifest,
		"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json"}, ", "))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dt, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s %s %s: %d %v %s", repo, kind, ref, resp.StatusCode, err, dt)
	}
	if err := json.Unmarshal(dt, v); err != nil {
		t.Fatal(err)
	}
}

// imageConfig returns the config of repo:tag for linux/amd64, following an
// index when there is one.
func imageConfig(t *testing.T, repo, tag string) ocispecs.Image {
	t.Helper()
	var m struct {
		ocispecs.Manifest
		Manifests []ocispecs.Descriptor `json:"manifests"`
	}
	registryGet(t, repo, "manifests", tag, &m)
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.Architecture == "amd64" {
			registryGet(t, repo, "manifests", d.Digest.String(), &m)
			break
		}
	}
	var img ocispecs.Image
	registryGet(t, repo, "blobs", m.Config.Digest.String(), &img)
	return img
}

// extraBuilder starts a second buildkitd with an empty root and returns its
// address; it is stopped with the bench.
func extraBuilder(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("bash", filepath.Join(root, "scripts/bench/buildkitd-extra.sh"), name).Output()
	if err != nil {
		t.Fatalf("starting a second buildkitd: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// timeout bounds a test's builds.
func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
