//go:build e2e

package e2e

// The helpers the tests share: running buildx and the docker CLI, in-process
// builds, files and trees, tarballs and OCI layouts, the bench registry.
// Every helper that fails the test (t.Fatal) must be called from the test's
// own goroutine; helpers that return an error may be called from any.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"

	"github.com/tomlfront/tomlfront/frontend"
	"github.com/tomlfront/tomlfront/internal/progress"
)

// defaultTimeout bounds a docker or buildx command that is given no timeout
// of its own.
const defaultTimeout = 10 * time.Minute

// cmdOpt says how to run a docker command.
type cmdOpt struct {
	env     []string      // extra environment variables, e.g. for --secret env= and --ssh default
	timeout time.Duration // 0: defaultTimeout
	context string        // buildxOutputs' build context: "." (the directory) when empty, or a URL
}

// docker runs `docker ARGS` in dir and returns its combined output. The
// command, and whatever it started (the buildx plugin), is killed when the
// timeout passes.
func docker(o cmdOpt, dir string, args ...string) (string, error) {
	d := o.timeout
	if d == 0 {
		d = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := bounded(ctx, "docker", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), o.env...)
	out, err := cmd.CombinedOutput()
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w: killed after %s", err, d)
	}
	return string(out), err
}

// buildxWith runs `docker buildx ARGS` on the bench's builder (unless ARGS
// name another) in dir, with plain progress, and returns its combined
// output.
func buildxWith(o cmdOpt, dir string, args ...string) (string, error) {
	o.env = append([]string{"BUILDKIT_PROGRESS=plain"}, o.env...)
	return docker(o, dir, append([]string{"buildx", "--builder", os.Getenv("BUILDX_BUILDER")}, engineNetwork(args)...)...)
}

// buildx is buildxWith with the default options.
func buildx(dir string, args ...string) (string, error) { return buildxWith(cmdOpt{}, dir, args...) }

// mustBuildxWith is buildxWith that fails the test when buildx fails.
func mustBuildxWith(t *testing.T, o cmdOpt, dir string, args ...string) string {
	t.Helper()
	out, err := buildxWith(o, dir, args...)
	if err != nil {
		t.Fatalf("docker buildx %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// mustBuildx is buildx that fails the test when buildx fails.
func mustBuildx(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return mustBuildxWith(t, cmdOpt{}, dir, args...)
}

// mustDocker runs the docker CLI (buildx and friends) with the bench's
// DOCKER_CONFIG.
func mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := docker(cmdOpt{timeout: 2 * time.Minute}, "", args...)
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// buildLocal builds dir's build.toml with args through buildx and exports
// the result to a new directory, returned.
func buildLocal(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out := t.TempDir()
	mustBuildx(t, dir, append(append([]string{"build", "-f", "build.toml", "--output", "type=local,dest=" + out}, args...), ".")...)
	return out
}

// solveOpt describes an in-process build: the frontend runs in the test
// binary through client.Build, so no image is needed.
type solveOpt struct {
	dir      string            // build context and spec directory
	attrs    map[string]string // frontend options, e.g. "build-arg:X"
	exports  []client.ExportEntry
	host     string // buildkitd address; default the bench's builder
	contexts map[string]string
	imports  []client.CacheOptionsEntry
	exportsC []client.CacheOptionsEntry
}

// solve runs a build in-process and returns the plain progress output. It
// does not touch a *testing.T, so it may run in any goroutine.
func solve(ctx context.Context, o solveOpt) (string, error) {
	log, err := solveLog(ctx, o)
	return log.text, err
}

// buildLog is what a build said: its plain progress, for messages, and
// BuildKit's structured status of each vertex, for what the test asserts.
type buildLog struct {
	text     string
	vertexes map[digest.Digest]*client.Vertex // the last status of each
}

// solveLog is solve, with the build's structured status.
func solveLog(ctx context.Context, o solveOpt) (*buildLog, error) {
	log := &buildLog{vertexes: map[digest.Digest]*client.Vertex{}}
	c, err := buildkitClient(ctx, o.host)
	if err != nil {
		return log, err
	}
	defer c.Close()
	mounts := map[string]fsutil.FS{}
	for name, dir := range map[string]string{"context": o.dir, "dockerfile": o.dir} {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return log, err
		}
		mounts[name] = fs
	}
	attrs := map[string]string{}
	var entitlements []string
	if bench.kind.engine() { // as buildxWith does: see engineNetwork
		attrs["force-network-mode"] = "host"
		entitlements = append(entitlements, "network.host")
	}
	for k, v := range o.attrs {
		attrs[k] = v
	}
	for name, dir := range o.contexts {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return log, err
		}
		mounts[name] = fs
		attrs["context:"+name] = "local:" + name
	}
	ch, shown := make(chan *client.SolveStatus), make(chan *client.SolveStatus)
	var text bytes.Buffer
	display, err := progressui.NewDisplay(&text, progressui.PlainMode)
	if err != nil {
		return log, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = display.UpdateFrom(context.Background(), shown)
	}()
	status := progress.New()
	go func() {
		defer close(shown)
		for st := range ch {
			status.Add(st)
			shown <- st
		}
	}()
	_, err = c.Build(ctx, client.SolveOpt{
		LocalMounts:         mounts,
		FrontendAttrs:       attrs,
		Exports:             o.exports,
		CacheImports:        o.imports,
		CacheExports:        o.exportsC,
		AllowedEntitlements: entitlements,
	}, "tomlfront-e2e", frontend.Build, ch)
	<-done
	log.vertexes, log.text = status.Vertexes, text.String()
	return log, err
}

func mustSolve(ctx context.Context, t *testing.T, o solveOpt) string {
	t.Helper()
	return mustSolveLog(ctx, t, o).text
}

func mustSolveLog(ctx context.Context, t *testing.T, o solveOpt) *buildLog {
	t.Helper()
	log, err := solveLog(ctx, o)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, log.text)
	}
	return log
}

// cached tells whether the vertices whose name starts with prefix all came
// from the cache; there must be at least one, and each must have finished.
func (l *buildLog) cached(t *testing.T, prefix string) bool {
	t.Helper()
	found, all := false, true
	for _, v := range l.vertexes {
		if !strings.HasPrefix(v.Name, prefix) {
			continue
		}
		if v.Started == nil && !v.Cached {
			// Merged into the same step of a build beside this one (same
			// cache key, another digest): that one's status is here too.
			continue
		}
		found = true
		if !v.Cached && v.Completed == nil {
			t.Fatalf("vertex %q neither finished nor was cached:\n%s", v.Name, l.text)
		}
		all = all && v.Cached
	}
	if !found {
		t.Fatalf("no vertex named %q in the progress:\n%s", prefix, l.text)
	}
	return all
}

// localExport exports the result to a new directory, returned.
func localExport(t *testing.T) (client.ExportEntry, string) {
	dir := t.TempDir()
	return client.ExportEntry{Type: client.ExporterLocal, OutputDir: dir}, dir
}

// timeout bounds a test's builds.
func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// nonce makes content unique to a test run, so that nothing comes from the
// cache of an earlier run on the same bench.
func nonce(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// sha256Digest returns the digest of b, "sha256:" and the hex of its hash.
func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
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

// readFile returns the content of a file, failing the test when it cannot
// be read.
func readFile(t *testing.T, path string) string {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(dt)
}

// fileIn reads a file of an export, or "<missing>".
func fileIn(dir, name string) string {
	dt, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "<missing>"
	}
	return string(dt)
}

// tarFiles returns the regular files of a tar stream, by name without a
// leading "./" or "/".
func tarFiles(t *testing.T, r io.Reader) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	walkTar(t, r, func(h *tar.Header, content io.Reader) {
		if h.Typeflag != tar.TypeReg {
			return
		}
		dt, err := io.ReadAll(content)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")] = dt
	})
	return files
}

// walkTar calls each with every entry of a tar stream, in order: the one
// tar reader of the tests, which every other reads through.
func walkTar(t *testing.T, r io.Reader, each func(h *tar.Header, content io.Reader)) {
	t.Helper()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("reading a tar: %v", err)
		}
		each(h, tr)
	}
}

// walkTarFile is walkTar of the tarball at path.
func walkTarFile(t *testing.T, path string, each func(h *tar.Header, content io.Reader)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	walkTar(t, f, each)
}

// tarFileOf returns the regular files of a tarball, as tarFiles.
func tarFileOf(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return tarFiles(t, f)
}

// tarEntry returns the content of one regular file of a tarball.
func tarEntry(t *testing.T, tarball, name string) string {
	t.Helper()
	dt, ok := tarFileOf(t, tarball)[name]
	if !ok {
		t.Fatalf("%s has no %s", tarball, name)
	}
	return string(dt)
}

// tarGz makes a gzip-compressed tar archive of files (path → content).
func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	dirs := map[string]bool{}
	for _, name := range names {
		if d := filepath.Dir(name); d != "." && !dirs[d] {
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: time.Unix(1, 0)}); err != nil {
				t.Fatal(err)
			}
		}
		content := files[name]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(1, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// layerFiles reads a layer blob, gzip-compressed or not.
func layerFiles(t *testing.T, blob []byte) map[string][]byte {
	t.Helper()
	var r io.Reader = bytes.NewReader(blob)
	if len(blob) > 2 && blob[0] == 0x1f && blob[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	return tarFiles(t, r)
}

// decompressedBytes returns the bytes of a tar export with every gzip blob
// in it decompressed too, for searching.
func decompressedBytes(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	all := bytes.NewBuffer(append([]byte(nil), raw...))
	for _, dt := range tarFileOf(t, path) {
		if len(dt) > 2 && dt[0] == 0x1f && dt[1] == 0x8b {
			zr, err := gzip.NewReader(bytes.NewReader(dt))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(all, zr); err != nil {
				t.Fatal(err)
			}
		}
	}
	return all.Bytes()
}

// imageStore is an image's index and where its blobs are: an exported OCI
// layout (readOCITar) or the bench registry (registryImage). The tests read
// every image, exported or pushed, through it.
type imageStore struct {
	index ocispecs.Index
	fetch func(t *testing.T, d ocispecs.Descriptor) []byte
}

// blob is the content of d.
func (s imageStore) blob(t *testing.T, d ocispecs.Descriptor) []byte {
	t.Helper()
	return s.fetch(t, d)
}

// decode reads the JSON content of d (a manifest, an index, a config, an
// attestation) into v.
func (s imageStore) decode(t *testing.T, d ocispecs.Descriptor, v any) {
	t.Helper()
	if err := json.Unmarshal(s.fetch(t, d), v); err != nil {
		t.Fatalf("%s %s: %v", d.MediaType, d.Digest, err)
	}
}

// manifests are the descriptors of the index, an index nested in it (one
// image of several platforms in a layout) read through.
func (s imageStore) manifests(t *testing.T) []ocispecs.Descriptor {
	t.Helper()
	descs := s.index.Manifests
	for depth := 0; len(descs) == 1 && descs[0].MediaType == ocispecs.MediaTypeImageIndex; depth++ {
		if depth == 3 {
			t.Fatal("index nesting too deep")
		}
		var idx ocispecs.Index
		s.decode(t, descs[0], &idx)
		descs = idx.Manifests
	}
	return descs
}

// image returns the linux/GOARCH image manifest (or the only one) and its
// config.
func (s imageStore) image(t *testing.T) (ocispecs.Manifest, ocispecs.Image) {
	t.Helper()
	for _, d := range s.manifests(t) {
		if isManifest(d.MediaType) && (d.Platform == nil || d.Platform.Architecture == runtime.GOARCH) &&
			d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
			var m ocispecs.Manifest
			s.decode(t, d, &m)
			var img ocispecs.Image
			s.decode(t, m.Config, &img)
			return m, img
		}
	}
	t.Fatalf("no image manifest for linux/%s in %+v", runtime.GOARCH, s.index)
	return ocispecs.Manifest{}, ocispecs.Image{}
}

func isManifest(mediaType string) bool {
	return mediaType == ocispecs.MediaTypeImageManifest || mediaType == "application/vnd.docker.distribution.manifest.v2+json"
}

func isIndex(mediaType string) bool {
	return mediaType == ocispecs.MediaTypeImageIndex || mediaType == "application/vnd.docker.distribution.manifest.list.v2+json"
}

// readOCITar reads an OCI layout tarball (the `type=oci` export).
func readOCITar(t *testing.T, path string) imageStore {
	t.Helper()
	files := tarFileOf(t, path)
	if _, ok := files["oci-layout"]; !ok {
		t.Fatalf("%s has no oci-layout file", path)
	}
	s := imageStore{fetch: func(t *testing.T, d ocispecs.Descriptor) []byte {
		dt, ok := files["blobs/"+d.Digest.Algorithm().String()+"/"+d.Digest.Encoded()]
		if !ok {
			t.Fatalf("blob %s missing from %s", d.Digest, path)
		}
		return dt
	}}
	if err := json.Unmarshal(files["index.json"], &s.index); err != nil {
		t.Fatalf("%s: index.json: %v", path, err)
	}
	return s
}

// registryImage reads repo:tag from the bench registry; an image pushed
// without an index is an index of one.
func registryImage(t *testing.T, repo, tag string) imageStore {
	t.Helper()
	s := imageStore{fetch: func(t *testing.T, d ocispecs.Descriptor) []byte {
		kind := "blobs"
		if isManifest(d.MediaType) || isIndex(d.MediaType) {
			kind = "manifests"
		}
		return registryRaw(t, repo, kind, d.Digest.String())
	}}
	top := registryRaw(t, repo, "manifests", tag)
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(top, &probe); err != nil {
		t.Fatal(err)
	}
	if isIndex(probe.MediaType) {
		if err := json.Unmarshal(top, &s.index); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s.index.Manifests = []ocispecs.Descriptor{{MediaType: probe.MediaType, Digest: digest.FromBytes(top), Size: int64(len(top))}}
	return s
}

// registryClient talks to the bench registry, on loopback.
var registryClient = &http.Client{Timeout: time.Minute}

// registryRaw fetches a manifest, index or blob (kind "manifests" or
// "blobs") from the bench registry.
func registryRaw(t *testing.T, repo, kind, ref string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v2/%s/%s/%s", bench.registry, repo, kind, ref), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", strings.Join([]string{ocispecs.MediaTypeImageIndex, ocispecs.MediaTypeImageManifest,
		"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json"}, ", "))
	resp, err := registryClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dt, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s %s %s: %d %v %s", repo, kind, ref, resp.StatusCode, err, dt)
	}
	return dt
}

// imageManifest returns the manifest of repo:tag for linux/GOARCH.
func imageManifest(t *testing.T, repo, tag string) ocispecs.Manifest {
	t.Helper()
	m, _ := registryImage(t, repo, tag).image(t)
	return m
}

// imageConfig returns the config of repo:tag for linux/GOARCH.
func imageConfig(t *testing.T, repo, tag string) ocispecs.Image {
	t.Helper()
	_, img := registryImage(t, repo, tag).image(t)
	return img
}

// command is the tests' one way to run a command that ends (daemons are
// started and stopped in infra_test.go): bounded by defaultTimeout, and
// when the time is up killed with all it started.
func command(t *testing.T, name string, args ...string) *exec.Cmd {
	return bounded(timeout(t, defaultTimeout), name, args...)
}

// bounded runs name in a process group of its own, so that the end of ctx
// kills what it started too (buildx as a docker plugin, git's helpers), and
// not only the process itself.
func bounded(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// goBuildTomlfront builds the tomlfront command into a temporary directory
// and returns the binary's path.
func goBuildTomlfront(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tomlfront")
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, filepath.Join(root, "cmd/tomlfront")).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
