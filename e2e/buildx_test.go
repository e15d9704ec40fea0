//go:build e2e

package e2e

// The buildx options a Dockerfile user relies on, each through
// `docker buildx build` and the frontend image (the `# syntax=` line), on the
// bench's buildkitd and registry. docs/buildx.md lists them.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

const syntaxLine = "# syntax=" + syntaxRef + "\n"

// TestBuildxTargetAndBuildArgs checks --target (only the named stage and
// what it needs is built and exported) and --build-arg (it overrides a
// declared arg in a run step, seen through the stage's `args`, and in a
// field tomlfront expands).
func TestBuildxTargetAndBuildArgs(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{
		"build.toml": syntaxLine + `
[args]
GREETING = "default-greeting"
SUBDIR = "default-dir"

[stages.gen]
from = "busybox:1.36"
args = ["GREETING"]
[[stages.gen.steps]]
run = "mkdir -p /out && echo \"$GREETING\" > /out/greeting.txt"
[[stages.gen.steps]]
copy = ["marker.txt"]
to = "/out/${SUBDIR}/"

[stages.one]
from = "scratch"
[[stages.one.steps]]
copy = ["/out/"]
from = "gen"
to = "/one/"

[stages.two]
from = "scratch"
[[stages.two.steps]]
copy = ["marker.txt"]
to = "/two/"
`,
		"marker.txt": "marker\n",
	})
	n := nonce(t)

	// No --target: the last stage, "two", which does not need "gen".
	out := buildLocal(t, dir)
	if got := fileIn(out, "two/marker.txt"); got != "marker\n" {
		t.Errorf("default target: two/marker.txt = %q", got)
	}
	if got := fileIn(out, "one/greeting.txt"); got != "<missing>" {
		t.Errorf("default target exported stage one too: %q", got)
	}

	// --target one, with the args' defaults.
	out = buildLocal(t, dir, "--target", "one")
	if got := fileIn(out, "one/greeting.txt"); got != "default-greeting\n" {
		t.Errorf("--target one: greeting.txt = %q", got)
	}
	if got := fileIn(out, "one/default-dir/marker.txt"); got != "marker\n" {
		t.Errorf("--target one: the default SUBDIR was not used: %q", got)
	}
	if got := fileIn(out, "two/marker.txt"); got != "<missing>" {
		t.Errorf("--target one exported stage two: %q", got)
	}

	// --build-arg overrides both args.
	out = buildLocal(t, dir, "--target", "one", "--build-arg", "GREETING=hello-"+n, "--build-arg", "SUBDIR=dir-"+n)
	if got := fileIn(out, "one/greeting.txt"); got != "hello-"+n+"\n" {
		t.Errorf("--build-arg GREETING: the run step saw %q", got)
	}
	if got := fileIn(out, "one/dir-"+n+"/marker.txt"); got != "marker\n" {
		t.Errorf("--build-arg SUBDIR: copy `to` was not expanded with it: %q", got)
	}
	if _, err := os.Stat(filepath.Join(out, "one/default-dir")); err == nil {
		t.Errorf("--build-arg SUBDIR: the default was used too")
	}

	// An unknown --target fails and names the stages.
	o, err := buildx(dir, "build", "-f", "build.toml", "--target", "onne", ".")
	if err == nil || !strings.Contains(o, `target stage "onne" not found (did you mean "one"?)`) {
		t.Errorf("--target onne: %v\n%s", err, o)
	}
}

// TestBuildxNoCache checks --no-cache and --no-cache-filter. Two stages each
// write random bytes and print them; plain progress shows a step's output
// only when the step runs. A plain rebuild runs nothing (the cache works, so
// the checks below can fail), --no-cache runs both stages and changes the
// output, --no-cache-filter a runs only a's step, with new bytes.
//
// The files of the final stage are not compared after --no-cache-filter:
// BuildKit may serve the (not filtered) final stage's copy from the cache
// even though the stage it copies from ran again; the Dockerfile frontend
// does the same with the equivalent Dockerfile.
func TestBuildxNoCache(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{
		"build.toml": syntaxLine + `
[args]
NONCE = ""
[stages.a]
from = "busybox:1.36"
args = ["NONCE"]
[[stages.a.steps]]
run = "head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /a && echo \"ran a $(cat /a)\""

[stages.b]
from = "busybox:1.36"
args = ["NONCE"]
[[stages.b.steps]]
run = "head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /b && echo \"ran b $(cat /b)\""

[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/a"]
from = "a"
[[stages.final.steps]]
copy = ["/b"]
from = "b"
`,
	})
	n := "NONCE=" + nonce(t)
	ranRE := regexp.MustCompile(`(?m)^#\d+ \d+\.\d+ ran ([ab]) ([0-9a-f]{32})$`)
	type result struct {
		files map[string]string // a and b of the export
		ran   map[string]string // stage → the bytes its step printed, when it ran
	}
	build := func(args ...string) result {
		t.Helper()
		out := t.TempDir()
		log := mustBuildx(t, dir, append(append([]string{"build", "-f", "build.toml", "--build-arg", n, "--output", "type=local,dest=" + out}, args...), ".")...)
		r := result{files: map[string]string{"a": fileIn(out, "a"), "b": fileIn(out, "b")}, ran: map[string]string{}}
		for _, m := range ranRE.FindAllStringSubmatch(log, -1) {
			r.ran[m[1]] = m[2]
		}
		if len(r.files["a"]) != 32 || len(r.files["b"]) != 32 {
			t.Fatalf("random outputs %v\n%s", r.files, log)
		}
		return r
	}
	first := build()
	if len(first.ran) != 2 || first.ran["a"] != first.files["a"] || first.ran["b"] != first.files["b"] {
		t.Fatalf("the first build: steps printed %v, exported %v: both steps must run and print what they wrote", first.ran, first.files)
	}
	if again := build(); len(again.ran) != 0 || again.files["a"] != first.files["a"] || again.files["b"] != first.files["b"] {
		t.Fatalf("a rebuild without --no-cache ran %v, exported %v (first %v)", again.ran, again.files, first.files)
	}

	noCache := build("--no-cache")
	if len(noCache.ran) != 2 {
		t.Errorf("--no-cache ran only %v", noCache.ran)
	}
	if noCache.files["a"] == first.files["a"] || noCache.files["b"] == first.files["b"] {
		t.Errorf("--no-cache exported %v, the cached build %v: a stage came from the cache", noCache.files, first.files)
	}

	for _, tc := range []struct{ filter, runs, cached string }{{"a", "a", "b"}, {"b", "b", "a"}} {
		r := build("--no-cache-filter", tc.filter)
		if got, ok := r.ran[tc.runs]; !ok {
			t.Errorf("--no-cache-filter %s: stage %s did not run (ran %v)", tc.filter, tc.runs, r.ran)
		} else if got == first.ran[tc.runs] || got == noCache.ran[tc.runs] {
			t.Errorf("--no-cache-filter %s: stage %s wrote the same bytes as before (%s)", tc.filter, tc.runs, got)
		}
		if _, ok := r.ran[tc.cached]; ok {
			t.Errorf("--no-cache-filter %s: stage %s ran too", tc.filter, tc.cached)
		}
	}
}

// TestBuildxNetwork checks --network none: a run step cannot reach the
// registry on 127.0.0.1 and sees only the loopback interface, while a step
// with `network = "host"` still can (the step's own network wins, as
// RUN --network=host does). Without --network the builder's default
// (host, on this bench) applies. bash's /dev/tcp speaks HTTP: busybox's
// wget crashes on the bench.
func TestBuildxNetwork(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{
		"build.toml": syntaxLine + `
[args]
REGISTRY = ""
NONCE = ""
[stages.probe]
from = "debian:bookworm"
args = ["REGISTRY", "NONCE"]
shell = ["/bin/bash", "-c"]
[[stages.probe.steps]]
run = """
mkdir -p /out
probe() {
  if exec 3<>"/dev/tcp/${REGISTRY%:*}/${REGISTRY##*:}"; then
    printf 'GET /v2/ HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 5 head -n 1 <&3 | tr -d '\\r'
  else
    echo unreachable
  fi
}
probe > /out/default 2>/dev/null
tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' ' > /out/default-ifaces
"""
[[stages.probe.steps]]
run = """
probe() {
  if exec 3<>"/dev/tcp/${REGISTRY%:*}/${REGISTRY##*:}"; then
    printf 'GET /v2/ HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 5 head -n 1 <&3 | tr -d '\\r'
  else
    echo unreachable
  fi
}
probe > /out/host 2>/dev/null
tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' ' > /out/host-ifaces
"""
network = "host"
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/out/"]
from = "probe"
`,
	})
	args := []string{"--build-arg", "REGISTRY=" + bench.registry, "--build-arg", "NONCE=" + nonce(t), "--allow", "network.host"}
	const ok = "HTTP/1.0 200 OK\n"

	out := buildLocal(t, dir, args...)
	if got := fileIn(out, "default"); got != ok {
		t.Fatalf("without --network the registry answered %q, want %q: the bench's default network reaches it, so the check below would be blind", got, ok)
	}

	out = buildLocal(t, dir, append(args, "--network", "none")...)
	if got := fileIn(out, "default"); got != "unreachable\n" {
		t.Errorf("--network none: a run step reached the registry (%q)", got)
	}
	if got := fileIn(out, "default-ifaces"); got != "lo " {
		t.Errorf("--network none: a run step sees interfaces %q, want only lo", got)
	}
	if got := fileIn(out, "host"); got != ok {
		t.Errorf(`--network none: the step with network = "host" did not reach the registry (%q)`, got)
	}
	if got := fileIn(out, "host-ifaces"); got == "lo " || got == "<missing>" {
		t.Errorf(`--network none: the step with network = "host" sees interfaces %q`, got)
	}

	// network = "host" needs the entitlement.
	o, err := buildx(dir, "build", "-f", "build.toml", "--network", "none",
		"--build-arg", "REGISTRY="+bench.registry, "--build-arg", "NONCE="+nonce(t), ".")
	if err == nil || !strings.Contains(o, "network.host") {
		t.Errorf(`network = "host" without --allow network.host: %v\n%s`, err, o)
	}
}

// capSysAdmin is the bit of CAP_SYS_ADMIN in CapEff.
const capSysAdmin = 21

// TestBuildxSecurityInsecure checks `security = "insecure"` with
// --allow security.insecure: the step has every capability and can mount a
// tmpfs, which a sandboxed step cannot; without --allow the build fails.
func TestBuildxSecurityInsecure(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{
		"build.toml": syntaxLine + `
[args]
NONCE = ""
[stages.s]
from = "busybox:1.36"
args = ["NONCE"]
[[stages.s.steps]]
run = """
mkdir -p /out /mnt/x
grep CapEff /proc/self/status | cut -f2 > /out/sandbox-capeff
if mount -t tmpfs none /mnt/x 2>/dev/null; then echo mounted; else echo refused; fi > /out/sandbox-mount
"""
[[stages.s.steps]]
run = """
grep CapEff /proc/self/status | cut -f2 > /out/insecure-capeff
if mount -t tmpfs none /mnt/x; then echo mounted; umount /mnt/x; else echo refused; fi > /out/insecure-mount
"""
security = "insecure"
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/out/"]
from = "s"
`,
	})
	n := "NONCE=" + nonce(t)
	out := buildLocal(t, dir, "--build-arg", n, "--allow", "security.insecure")
	caps := func(name string) uint64 {
		v, err := strconv.ParseUint(strings.TrimSpace(fileIn(out, name)), 16, 64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	sandbox, insecure := caps("sandbox-capeff"), caps("insecure-capeff")
	if sandbox&(1<<capSysAdmin) != 0 {
		t.Errorf("a sandboxed step has CAP_SYS_ADMIN (CapEff %x)", sandbox)
	}
	if insecure&(1<<capSysAdmin) == 0 || insecure&sandbox != sandbox || insecure == sandbox {
		t.Errorf(`the step with security = "insecure" has CapEff %x, the sandboxed one %x: want a superset with CAP_SYS_ADMIN`, insecure, sandbox)
	}
	if got := fileIn(out, "sandbox-mount"); got != "refused\n" {
		t.Errorf("a sandboxed step could mount a tmpfs: %q", got)
	}
	if got := fileIn(out, "insecure-mount"); got != "mounted\n" {
		t.Errorf(`the step with security = "insecure" could not mount a tmpfs: %q`, got)
	}

	o, err := buildx(dir, "build", "-f", "build.toml", "--build-arg", "NONCE="+nonce(t), ".")
	if err == nil || !strings.Contains(o, "security.insecure") {
		t.Errorf("without --allow security.insecure the build did not fail on the entitlement: %v\n%s", err, o)
	}
}

// TestBuildxMultiPlatform builds for linux/amd64 and linux/arm64: a stage on
// ${BUILDPLATFORM} writes the platform args it gets through `args`, a
// scratch stage copies them, and each platform gets its own directory, and
// its own manifest when pushed. Every run step runs on the build platform
// (no emulation on the bench).
func TestBuildxMultiPlatform(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{
		"build.toml": syntaxLine + `
[stages.info]
from = "busybox:1.36"
platform = "${BUILDPLATFORM}"
args = ["TARGETPLATFORM", "TARGETOS", "TARGETARCH", "BUILDPLATFORM", "BUILDARCH"]
[[stages.info.steps]]
run = """
mkdir /out
echo "$TARGETPLATFORM $TARGETOS $TARGETARCH $BUILDPLATFORM $BUILDARCH" > /out/args
uname -m > /out/uname
"""
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/out/"]
from = "info"
to = "/"
[stages.final.image]
labels = { arch = "${TARGETARCH}" }
`,
	})
	build := "linux/" + runtime.GOARCH
	out := t.TempDir()
	image := bench.registry + "/buildx/multi:" + nonce(t)
	log := mustBuildx(t, dir, "build", "-f", "build.toml", "--platform", "linux/amd64,linux/arm64", "--provenance=false",
		"--output", "type=local,dest="+out, "--output", "type=image,name="+image+",push=true", ".")
	uname := strings.TrimSpace(fileIn(out, filepath.Join("linux_"+runtime.GOARCH, "uname")))
	for _, arch := range []string{"amd64", "arm64"} {
		want := fmt.Sprintf("linux/%s linux %s %s %s\n", arch, arch, build, runtime.GOARCH)
		if got := fileIn(out, filepath.Join("linux_"+arch, "args")); got != want {
			t.Errorf("linux_%s/args = %q, want %q", arch, got, want)
		}
		if got := strings.TrimSpace(fileIn(out, filepath.Join("linux_"+arch, "uname"))); got != uname || got == "" {
			t.Errorf("linux_%s: the run step ran on %q, not on the build platform (%q)", arch, got, uname)
		}
	}
	// The stage runs on the build platform for both targets (one step, which
	// BuildKit shows once, named for either target); the copy into scratch
	// belongs to each target platform.
	if !regexp.MustCompile(`\[` + regexp.QuoteMeta(build) + `(->arm64)? info 1/1\] run mkdir /out \.\.\.`).MatchString(log) {
		t.Errorf("progress lacks the info step on %s:\n%s", build, log)
	}
	for _, name := range []string{"[linux/arm64 final 1/1] copy --from=info /out/ /", "[linux/amd64 final 1/1] copy --from=info /out/ /"} {
		if !strings.Contains(log, name) {
			t.Errorf("progress lacks %q:\n%s", name, log)
		}
	}

	repo, tag, _ := strings.Cut(strings.TrimPrefix(image, bench.registry+"/"), ":")
	var index ocispecs.Index
	registryGet(t, repo, "manifests", tag, &index)
	var got []string
	for _, d := range index.Manifests {
		got = append(got, d.Platform.OS+"/"+d.Platform.Architecture)
		var m ocispecs.Manifest
		registryGet(t, repo, "manifests", d.Digest.String(), &m)
		var img ocispecs.Image
		registryGet(t, repo, "blobs", m.Config.Digest.String(), &img)
		if img.Architecture != d.Platform.Architecture || img.Config.Labels["arch"] != d.Platform.Architecture {
			t.Errorf("%s: config architecture %q, label arch %q", d.Platform.Architecture, img.Architecture, img.Config.Labels["arch"])
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("pushed platforms %v", got)
	}
}

// ctxImageSpec builds a small busybox-based image whose env and files carry
// a value, to be used as a named context.
const ctxImageSpec = syntaxLine + `
[args]
VALUE = ""
[stages.img]
from = "busybox:1.36"
env = { CTX_VALUE = "${VALUE}" }
[[stages.img.steps]]
run = "echo \"$CTX_VALUE\" > /ctx.txt && echo \"replaced-$CTX_VALUE\" > /etc/replaced"
`

// TestBuildxBuildContexts checks --build-context with a local directory, a
// docker-image:// of the registry, an oci-layout:// directory (by tag and by
// digest), and a context named like a base image, which replaces it. The
// images' configs apply to stages built `from = "context:NAME"`.
func TestBuildxBuildContexts(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	ctxDir := writeTree(t, map[string]string{"build.toml": ctxImageSpec})
	imgValue, ociValue := "img-"+nonce(t), "oci-"+nonce(t)
	image := bench.registry + "/ctx/img:" + nonce(t)
	mustBuildx(t, ctxDir, "build", "-f", "build.toml", "--build-arg", "VALUE="+imgValue, "--provenance=false",
		"--output", "type=image,name="+image+",push=true", ".")
	// The context ocictx: an OCI layout, by tag and by digest. A Docker
	// Engine on the graphdriver store has no oci-layout source (nor an OCI
	// exporter): there, it is an image in the registry like img.
	var ociCases []struct{ name, oci string }
	if bench.kind.graphdriver() {
		t.Logf("no oci-layout context on %s: its BuildKit has no oci-layout source; ocictx is a docker-image:// there", bench.kind)
		ociImage := bench.registry + "/ctx/oci:" + nonce(t)
		mustBuildx(t, ctxDir, "build", "-f", "build.toml", "--build-arg", "VALUE="+ociValue, "--provenance=false",
			"--output", "type=image,name="+ociImage+",push=true", ".")
		ociCases = append(ociCases, struct{ name, oci string }{"image", "docker-image://" + ociImage})
	} else {
		ociTar := filepath.Join(t.TempDir(), "ctx.tar")
		mustBuildx(t, ctxDir, "build", "-f", "build.toml", "--build-arg", "VALUE="+ociValue, "--provenance=false",
			"--output", "type=oci,dest="+ociTar+",name=ctx/oci:v1", ".")
		layout := t.TempDir()
		if o, err := command(t, "tar", "-xf", ociTar, "-C", layout).CombinedOutput(); err != nil {
			t.Fatalf("untar: %v\n%s", err, o)
		}
		var index ocispecs.Index
		if err := json.Unmarshal([]byte(readFile(t, filepath.Join(layout, "index.json"))), &index); err != nil || len(index.Manifests) != 1 {
			t.Fatalf("index.json: %v %+v", err, index)
		}
		if tag := index.Manifests[0].Annotations[ocispecs.AnnotationRefName]; tag != "v1" {
			t.Fatalf("the layout's tag is %q, want v1", tag)
		}
		ociCases = append(ociCases,
			struct{ name, oci string }{"oci tag", "oci-layout://" + layout + ":v1"},
			struct{ name, oci string }{"oci digest", "oci-layout://" + layout + "@" + index.Manifests[0].Digest.String()})
	}

	dir := writeTree(t, map[string]string{
		"build.toml": syntaxLine + `
[stages.fromimg]
from = "context:img"
[[stages.fromimg.steps]]
run = "mkdir /res && echo \"$CTX_VALUE\" > /res/env-img.txt"

[stages.fromoci]
from = "context:ocictx"
[[stages.fromoci.steps]]
run = "mkdir /res && echo \"$CTX_VALUE\" > /res/env-oci.txt"

[stages.base]
from = "busybox:1.36"
[[stages.base.steps]]
copy = ["/asset.txt"]
from = "context:assets"
to = "/res/"
[[stages.base.steps]]
copy = ["/ctx.txt"]
from = "context:img"
to = "/res/img.txt"
[[stages.base.steps]]
copy = ["/ctx.txt"]
from = "context:ocictx"
to = "/res/oci.txt"
[[stages.base.steps]]
run = "cat /etc/replaced > /res/replaced 2>/dev/null || echo original > /res/replaced"

[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/res/"]
from = "base"
[[stages.final.steps]]
copy = ["/res/"]
from = "fromimg"
[[stages.final.steps]]
copy = ["/res/"]
from = "fromoci"
`,
	})
	assets := writeTree(t, map[string]string{"asset.txt": "asset " + nonce(t) + "\n"})
	want := map[string]string{
		"asset.txt":   readFile(t, filepath.Join(assets, "asset.txt")),
		"img.txt":     imgValue + "\n",
		"oci.txt":     ociValue + "\n",
		"env-img.txt": imgValue + "\n",
		"env-oci.txt": ociValue + "\n",
	}
	for _, tc := range ociCases {
		t.Run(tc.name, func(t *testing.T) {
			common := []string{"--build-context", "assets=" + assets, "--build-context", "img=docker-image://" + image,
				"--build-context", "ocictx=" + tc.oci}
			out := buildLocal(t, dir, common...)
			for name, w := range want {
				if got := fileIn(out, name); got != w {
					t.Errorf("%s = %q, want %q", name, got, w)
				}
			}
			if got := fileIn(out, "replaced"); got != "original\n" {
				t.Errorf("without a busybox:1.36 context the base has /etc/replaced: %q", got)
			}

			// A context named like the base image replaces it.
			out = buildLocal(t, dir, append(common, "--build-context", "busybox:1.36=docker-image://"+image)...)
			if got := fileIn(out, "replaced"); got != "replaced-"+imgValue+"\n" {
				t.Errorf("--build-context busybox:1.36=docker-image://...: the base was not replaced (%q)", got)
			}
		})
	}

	// A missing context is an error that says how to pass it.
	o, err := buildx(dir, "build", "-f", "build.toml", "--build-context", "assets="+assets,
		"--build-context", "img=docker-image://"+image, ".")
	if err == nil || !strings.Contains(o, `the build has no context named "ocictx"`) {
		t.Errorf("a missing context: %v\n%s", err, o)
	}
}

// TestBuildxSecrets checks --secret from a file and from an environment
// variable: mounted at /run/secrets/<id>, at a custom target, and as an env
// variable. The step proves it read each value by writing its hash; the
// value itself must appear nowhere: not in the image's files (type=tar, and
// type=oci uncompressed with the max provenance, which holds the LLB the
// frontend sent), not in the pushed config (env, labels, history), not in
// the LLB of `tomlfront llb`, not in the progress output.
func TestBuildxSecrets(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	fileSecret := "file-secret-" + nonce(t)
	envSecret := "env-secret-" + nonce(t)
	spec := syntaxLine + `
[args]
NONCE = ""
[stages.use]
from = "busybox:1.36"
args = ["NONCE"]
[[stages.use.steps]]
run = """
mkdir -p /out
sha256sum /run/secrets/filetok | cut -d' ' -f1 > /out/default.sha
sha256sum /custom/place | cut -d' ' -f1 > /out/custom.sha
printf %s "$TOKEN" | sha256sum | cut -d' ' -f1 > /out/env.sha
cp /run/secrets/filetok /tmp/copy && rm /tmp/copy
"""
mounts = [
  { type = "secret", id = "filetok", required = true },
  { type = "secret", id = "envtok", target = "/custom/place", required = true },
  { type = "secret", id = "filetok", env = "TOKEN", required = true },
]
[stages.use.image]
labels = { "org.example.nonce" = "${NONCE}" }
`
	dir := writeTree(t, map[string]string{"build.toml": spec})
	secretFile := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secretFile, []byte(fileSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	image := bench.registry + "/buildx/secrets:" + nonce(t)
	exports := t.TempDir()
	ociTar, plainTar := filepath.Join(exports, "image-oci.tar"), filepath.Join(exports, "image.tar")
	args := []string{"build", "-f", "build.toml", "--build-arg", "NONCE=" + nonce(t),
		"--secret", "id=filetok,src=" + secretFile, "--secret", "id=envtok,env=TF_E2E_SECRET"}
	outputs := []string{"type=tar,dest=" + plainTar, "type=image,name=" + image + ",push=true"}
	// The docker driver on the graphdriver store has neither attestations
	// nor the OCI exporter: there, the image and its tar are searched.
	withProvenance := !bench.kind.graphdriver()
	if withProvenance {
		args = append(args, "--provenance=mode=max")
		outputs = append(outputs, "type=oci,dest="+ociTar+",compression=uncompressed")
	} else {
		args = append(args, "--provenance=false")
	}
	log := buildxOutputs(t, cmdOpt{env: []string{"TF_E2E_SECRET=" + envSecret}}, dir, args, outputs...)

	files := tarFileOf(t, plainTar)
	for name, w := range map[string]string{"out/default.sha": fileSecret, "out/custom.sha": envSecret, "out/env.sha": fileSecret} {
		if got := strings.TrimSpace(string(files[name])); "sha256:"+got != sha256Digest([]byte(w)) {
			t.Errorf("%s = %q: the step did not read the secret (want the sha256 of it, %s)", name, got, sha256Digest([]byte(w)))
		}
	}
	for name := range files {
		if strings.HasPrefix(name, "run/secrets/") || strings.HasPrefix(name, "custom/") {
			t.Errorf("the image holds the secret mount point's file %s", name)
		}
	}

	searched := map[string][]byte{
		"the type=tar export": []byte(readFile(t, plainTar)),
		"the progress output": []byte(log),
	}
	if withProvenance {
		layout := decompressedBytes(t, ociTar)
		if !bytes.Contains(layout, []byte("sha256sum /run/secrets/filetok")) || !bytes.Contains(layout, []byte(`"llbDefinition"`)) {
			t.Fatalf("the OCI export holds no provenance with the LLB definition, so the secret search in it is blind")
		}
		searched["the type=oci export (layers, config, LLB provenance)"] = layout
	}
	for _, s := range []string{fileSecret, envSecret} {
		for what, dt := range searched {
			if bytes.Contains(dt, []byte(s)) {
				t.Errorf("the secret %q appears in %s", s, what)
			}
		}
	}

	repo, tag, _ := strings.Cut(strings.TrimPrefix(image, bench.registry+"/"), ":")
	var m struct {
		ocispecs.Manifest
		Manifests []ocispecs.Descriptor `json:"manifests"`
	}
	registryGet(t, repo, "manifests", tag, &m)
	if withProvenance && len(m.Manifests) != 2 { // the image and its provenance
		t.Fatalf("pushed index %+v", m.Manifests)
	}
	for _, d := range m.Manifests { // the provenance's manifest is searched too
		var sub ocispecs.Manifest
		registryGet(t, repo, "manifests", d.Digest.String(), &sub)
		if d.Platform != nil && d.Platform.Architecture == runtime.GOARCH {
			m.Manifest = sub
		}
		for _, l := range sub.Layers {
			if l.MediaType == "application/vnd.in-toto+json" {
				prov := registryBlob(t, repo, l.Digest.String())
				if !bytes.Contains(prov, []byte(`"llbDefinition"`)) {
					t.Errorf("the pushed provenance has no LLB definition")
				}
				for _, s := range []string{fileSecret, envSecret} {
					if bytes.Contains(prov, []byte(s)) {
						t.Errorf("the secret %q appears in the pushed provenance", s)
					}
				}
			}
		}
	}
	cfg := registryBlob(t, repo, m.Config.Digest.String())
	if !bytes.Contains(cfg, []byte("sha256sum /run/secrets/filetok")) {
		t.Errorf("the pushed config's history lacks the run step: %s", cfg)
	}
	var img ocispecs.Image
	if err := json.Unmarshal(cfg, &img); err != nil {
		t.Fatal(err)
	}
	for _, e := range img.Config.Env {
		if strings.HasPrefix(e, "TOKEN=") {
			t.Errorf("the secret's env variable is in the image config: %q", e)
		}
	}
	for _, s := range []string{fileSecret, envSecret} {
		if bytes.Contains(cfg, []byte(s)) {
			t.Errorf("the secret %q appears in the pushed config: %s", s, cfg)
		}
	}
	for _, l := range m.Layers {
		for name, dt := range layerFiles(t, registryBlob(t, repo, l.Digest.String())) {
			for _, s := range []string{fileSecret, envSecret} {
				if bytes.Contains(dt, []byte(s)) {
					t.Errorf("the secret %q appears in %s of the pushed layer %s", s, name, l.Digest)
				}
			}
		}
	}

	// The LLB that `tomlfront llb` prints for the spec.
	bin := goBuildTomlfront(t)
	cmd := command(t, bin, "llb", "-f", filepath.Join(dir, "build.toml"))
	cmd.Env = append(os.Environ(), "TF_E2E_SECRET="+envSecret)
	def, err := cmd.Output()
	if err != nil || !bytes.Contains(def, []byte("filetok")) {
		t.Fatalf("tomlfront llb: %v (has filetok: %v)", err, bytes.Contains(def, []byte("filetok")))
	}
	for _, s := range []string{fileSecret, envSecret} {
		if bytes.Contains(def, []byte(s)) {
			t.Errorf("the secret %q appears in the LLB", s)
		}
	}

	// A required secret that is not given fails the step.
	o, err := buildx(dir, "build", "-f", "build.toml", "--build-arg", "NONCE="+nonce(t),
		"--secret", "id=filetok,src="+secretFile, ".")
	if err == nil || !strings.Contains(o, "secret envtok: not found") {
		t.Errorf("a missing required secret: %v\n%s", err, o)
	}
}

// agentScript speaks the ssh-agent protocol with perl (in debian's
// perl-base): it asks for the identities and prints their type and comment,
// as `ssh-add -L` would.
const agentScript = `use strict;
use warnings;
use Socket;
use IO::Socket::UNIX;
my $path = $ENV{SSH_AUTH_SOCK} or die "SSH_AUTH_SOCK is not set\n";
-S $path or die "$path is not a socket\n";
my $s = IO::Socket::UNIX->new(Peer => $path, Type => SOCK_STREAM) or die "connect $path: $!\n";
syswrite($s, pack("N C", 1, 11)) == 5 or die "write: $!\n";
sub readn {
    my ($n) = @_;
    my $buf = '';
    while (length($buf) < $n) {
        my $r = sysread($s, $buf, $n - length($buf), length($buf));
        die "read: $!\n" unless $r;
    }
    return $buf;
}
my $msg = readn(unpack("N", readn(4)));
my ($type, $count) = unpack("C N", $msg);
die "agent answered message type $type, not 12\n" unless $type == 12;
print "sock $path\n";
print "keys $count\n";
my $off = 5;
for (1 .. $count) {
    my $bl = unpack("N", substr($msg, $off, 4));
    my $blob = substr($msg, $off + 4, $bl);
    $off += 4 + $bl;
    my $cl = unpack("N", substr($msg, $off, 4));
    my $comment = substr($msg, $off + 4, $cl);
    $off += 4 + $cl;
    print "key ", substr($blob, 4, unpack("N", $blob)), " ", $comment, "\n";
}
`

// startAgent starts an ssh-agent holding a new ed25519 key whose comment is
// returned, and stops it when the test ends.
func startAgent(t *testing.T) (sock, comment string) {
	t.Helper()
	tmp := t.TempDir()
	sock = filepath.Join(tmp, "agent.sock")
	comment = "tomlfront-e2e-" + nonce(t)
	key := filepath.Join(tmp, "id_ed25519")
	if o, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, o)
	}
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatalf("ssh-agent: %v", err)
	}
	t.Cleanup(func() {
		_ = agent.Process.Kill()
		_ = agent.Wait()
	})
	for i := 0; ; i++ {
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			break
		}
		if i == 100 {
			t.Fatal("ssh-agent did not create its socket")
		}
		time.Sleep(50 * time.Millisecond)
	}
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if o, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, o)
	}
	return sock, comment
}

// TestBuildxSSH checks --ssh default with a real ssh-agent: a run step with
// `{ type = "ssh" }` finds the forwarded agent at $SSH_AUTH_SOCK and lists
// the key that the test added; a custom target moves the socket; a required
// ssh mount without --ssh fails the build.
func TestBuildxSSH(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	sock, comment := startAgent(t)
	dir := writeTree(t, map[string]string{
		"build.toml": syntaxLine + `
[args]
NONCE = ""
[stages.s]
from = "debian:bookworm"
args = ["NONCE"]
[[stages.s.steps]]
copy = ["agent.pl"]
to = "/usr/local/lib/"
[[stages.s.steps]]
run = "mkdir -p /out && perl /usr/local/lib/agent.pl > /out/default"
mounts = [{ type = "ssh", required = true }]
[[stages.s.steps]]
run = "perl /usr/local/lib/agent.pl > /out/custom"
mounts = [{ type = "ssh", id = "default", target = "/tmp/agent.sock", required = true }]
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/out/"]
from = "s"
`,
		"agent.pl": agentScript,
	})
	out := t.TempDir()
	mustBuildxWith(t, cmdOpt{env: []string{"SSH_AUTH_SOCK=" + sock}}, dir, "build", "-f", "build.toml", "--build-arg", "NONCE="+nonce(t),
		"--ssh", "default", "--output", "type=local,dest="+out, ".")
	want := "keys 1\nkey ssh-ed25519 " + comment + "\n"
	def := fileIn(out, "default")
	if !strings.HasPrefix(def, "sock /run/buildkit/ssh_agent.") || !strings.HasSuffix(def, want) {
		t.Errorf("the ssh mount at the default target: %q, want a socket in /run/buildkit and %q", def, want)
	}
	if got := fileIn(out, "custom"); got != "sock /tmp/agent.sock\n"+want {
		t.Errorf("the ssh mount at /tmp/agent.sock: %q", got)
	}

	o, err := buildxWith(cmdOpt{env: []string{"SSH_AUTH_SOCK="}}, dir, "build", "-f", "build.toml",
		"--build-arg", "NONCE="+nonce(t), ".")
	if err == nil || !strings.Contains(o, "unset ssh forward key default") {
		t.Errorf("a required ssh mount without --ssh: %v\n%s", err, o)
	}
}

// TestBuildxDockerignore checks the context filter through buildx:
// .dockerignore applies, and <spec>.dockerignore next to the spec (here
// specs/app.toml.dockerignore) wins over it.
func TestBuildxDockerignore(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	spec := syntaxLine + `
[stages.list]
from = "busybox:1.36"
[[stages.list.steps]]
copy = ["."]
to = "/ctx/"
[[stages.list.steps]]
run = "cd /ctx && find . -type f | sort > /listing"
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/listing"]
from = "list"
`
	files := map[string]string{
		"specs/app.toml": spec,
		".dockerignore":  "a.txt\n",
		"a.txt":          "a\n",
		"b.txt":          "b\n",
		"keep.txt":       "keep\n",
		"sub/nested.log": "log\n",
		"sub/nested.txt": "txt\n",
	}
	list := func(dir string) string {
		out := t.TempDir()
		mustBuildx(t, dir, "build", "-f", "specs/app.toml", "--output", "type=local,dest="+out, ".")
		return fileIn(out, "listing")
	}

	got := list(writeTree(t, files))
	if strings.Contains(got, "./a.txt") || !strings.Contains(got, "./b.txt") || !strings.Contains(got, "./keep.txt") {
		t.Errorf(".dockerignore (a.txt) was not applied:\n%s", got)
	}

	files["specs/app.toml.dockerignore"] = "b.txt\n**/*.log\n"
	got = list(writeTree(t, files))
	for _, gone := range []string{"./b.txt", "./sub/nested.log"} {
		if strings.Contains(got, gone) {
			t.Errorf("specs/app.toml.dockerignore was not applied: %s is in the context:\n%s", gone, got)
		}
	}
	for _, kept := range []string{"./a.txt", "./keep.txt", "./sub/nested.txt", "./.dockerignore"} {
		if !strings.Contains(got, kept) {
			t.Errorf("%s is missing: .dockerignore must be ignored when specs/app.toml.dockerignore exists:\n%s", kept, got)
		}
	}
}

// TestBuildxOutputs exports one build in every form buildx offers and
// checks each: a pushed image (manifest, config, layer), a docker tarball
// (manifest.json and config), an OCI tarball (index.json), a local
// directory and a tar. It also checks --label over the spec's labels.
func TestBuildxOutputs(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	n := nonce(t)
	dir := writeTree(t, map[string]string{
		"build.toml": syntaxLine + `
[args]
VALUE = ""
[stages.gen]
from = "busybox:1.36"
args = ["VALUE"]
[[stages.gen.steps]]
run = "mkdir -p /app && echo \"$VALUE\" > /app/value.txt"
[stages.final]
from = "scratch"
env = { VALUE = "${VALUE}" }
[[stages.final.steps]]
copy = ["/app/"]
from = "gen"
to = "/app/"
[stages.final.image]
cmd = ["/app/run"]
labels = { "org.example.who" = "spec", "org.example.keep" = "kept" }
`,
	})
	args := []string{"build", "-f", "build.toml", "--build-arg", "VALUE=" + n, "--label", "org.example.who=cli", "--provenance=false"}
	checkConfig := func(t *testing.T, img ocispecs.Image) {
		t.Helper()
		c := img.Config
		if strings.Join(c.Cmd, " ") != "/app/run" || !slices.Contains(c.Env, "VALUE="+n) ||
			c.Labels["org.example.who"] != "cli" || c.Labels["org.example.keep"] != "kept" || img.Architecture != runtime.GOARCH {
			t.Errorf("config: arch %s cmd %q env %q labels %v", img.Architecture, c.Cmd, c.Env, c.Labels)
		}
	}
	checkLayers := func(t *testing.T, layers [][]byte) {
		t.Helper()
		if len(layers) != 1 {
			t.Fatalf("%d layers, want 1 (scratch + one copy)", len(layers))
		}
		if got := string(layerFiles(t, layers[0])["app/value.txt"]); got != n+"\n" {
			t.Errorf("the layer's app/value.txt = %q", got)
		}
	}

	t.Run("image", func(t *testing.T) {
		repo := "buildx/outputs"
		mustBuildx(t, dir, append(args, "--output", "type=image,name="+bench.registry+"/"+repo+":"+n+",push=true", ".")...)
		var m ocispecs.Manifest
		registryGet(t, repo, "manifests", n, &m)
		if m.MediaType != ocispecs.MediaTypeImageManifest && m.MediaType != "application/vnd.docker.distribution.manifest.v2+json" {
			t.Errorf("manifest media type %q", m.MediaType)
		}
		var img ocispecs.Image
		registryGet(t, repo, "blobs", m.Config.Digest.String(), &img)
		checkConfig(t, img)
		var layers [][]byte
		for _, l := range m.Layers {
			layers = append(layers, registryBlob(t, repo, l.Digest.String()))
		}
		checkLayers(t, layers)
	})

	t.Run("docker", func(t *testing.T) {
		dest := filepath.Join(t.TempDir(), "image.tar")
		mustBuildx(t, dir, append(args, "--output", "type=docker,name=example.com/outputs:"+n+",dest="+dest, ".")...)
		files := tarFileOf(t, dest)
		var manifest []struct {
			Config   string
			RepoTags []string
			Layers   []string
		}
		if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
			t.Fatalf("manifest.json: %v %s", err, files["manifest.json"])
		}
		if strings.Join(manifest[0].RepoTags, ",") != "example.com/outputs:"+n {
			t.Errorf("RepoTags %q", manifest[0].RepoTags)
		}
		var img ocispecs.Image
		if err := json.Unmarshal(files[manifest[0].Config], &img); err != nil {
			t.Fatalf("config %s: %v", manifest[0].Config, err)
		}
		checkConfig(t, img)
		var layers [][]byte
		for _, l := range manifest[0].Layers {
			layers = append(layers, files[l])
		}
		checkLayers(t, layers)
	})

	t.Run("oci", func(t *testing.T) {
		dest := filepath.Join(t.TempDir(), "image.tar")
		mustBuildx(t, dir, append(args, "--output", "type=oci,name=example.com/outputs:"+n+",dest="+dest, ".")...)
		l := readOCITar(t, dest)
		if len(l.index.Manifests) != 1 || l.index.Manifests[0].Annotations[ocispecs.AnnotationRefName] != n {
			t.Errorf("index.json: %+v", l.index)
		}
		m, img := l.image(t)
		checkConfig(t, img)
		var layers [][]byte
		for _, d := range m.Layers {
			layers = append(layers, l.blobs[d.Digest.String()])
		}
		checkLayers(t, layers)
	})

	t.Run("local", func(t *testing.T) {
		out := t.TempDir()
		mustBuildx(t, dir, append(args, "--output", "type=local,dest="+out, ".")...)
		if got := fileIn(out, "app/value.txt"); got != n+"\n" {
			t.Errorf("app/value.txt = %q", got)
		}
		entries, _ := os.ReadDir(out)
		if len(entries) != 1 {
			t.Errorf("the export holds more than /app: %v", entries)
		}
	})

	t.Run("tar", func(t *testing.T) {
		dest := filepath.Join(t.TempDir(), "out.tar")
		mustBuildx(t, dir, append(args, "--output", "type=tar,dest="+dest, ".")...)
		files := tarFileOf(t, dest)
		if got := string(files["app/value.txt"]); got != n+"\n" {
			t.Errorf("app/value.txt = %q", got)
		}
		var names []string
		for name := range files {
			names = append(names, name)
		}
		if len(names) != 1 {
			t.Errorf("entries %v, want only app/value.txt", names)
		}
	})
}

// TestBuildxRunOptions checks the buildx flags that shape the container of
// every run step: --add-host, --ulimit and --shm-size. The same command
// runs in a Dockerfile on the same builder first, so a failure here is
// tomlfront's, not the bench's.
func TestBuildxRunOptions(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	const probe = `mkdir -p /out && (grep tf-e2e-host /etc/hosts || echo no-host) > /out/hosts && ulimit -n > /out/nofile && (df -k /dev/shm | tail -n 1 | tr -s ' ' | cut -d' ' -f2) > /out/shm`
	n := nonce(t)
	dir := writeTree(t, map[string]string{
		"Dockerfile": readFile(t, filepath.Join(root, "e2e", "testdata", "dockerfiles", "run-options", "Dockerfile")),
		"build.toml": syntaxLine + `
[args]
NONCE = ""
[stages.probe]
from = "busybox:1.36"
args = ["NONCE"]
[[stages.probe.steps]]
run = '''` + probe + `'''
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/out/"]
from = "probe"
`,
	})
	flags := []string{"--build-arg", "NONCE=" + n, "--add-host", "tf-e2e-host=10.11.12.13", "--ulimit", "nofile=1234:1234", "--shm-size", "96m"}
	want := map[string]string{"hosts": "10.11.12.13", "nofile": "1234\n", "shm": strconv.Itoa(96*1024) + "\n"}

	dockerfile := t.TempDir()
	mustBuildx(t, dir, append(append([]string{"build", "-f", "Dockerfile", "--output", "type=local,dest=" + dockerfile}, flags...), ".")...)
	for name, w := range want {
		if got := fileIn(dockerfile, name); !strings.Contains(got, w) {
			t.Fatalf("the Dockerfile build: %s = %q, want %q: the bench does not support the flag, so the check below is moot", name, got, w)
		}
	}

	out := buildLocal(t, dir, flags...)
	for name, flag := range map[string]string{"hosts": "--add-host tf-e2e-host=10.11.12.13", "nofile": "--ulimit nofile=1234:1234", "shm": "--shm-size 96m"} {
		if got := fileIn(out, name); !strings.Contains(got, want[name]) {
			t.Errorf("%s: a run step saw %s = %q, want %q as with the Dockerfile", flag, name, got, want[name])
		}
	}
}
