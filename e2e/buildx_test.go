//go:build e2e

package e2e

// The buildx options a Dockerfile user relies on, each through
// `docker buildx build` and the frontend image (the `# syntax=` line), on the
// bench's buildkitd and registry. docs/buildx.md lists them.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
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
		pushed := registryImage(t, repo, n)
		if mt := pushed.index.Manifests[0].MediaType; len(pushed.index.Manifests) != 1 || !isManifest(mt) {
			t.Errorf("pushed %+v, want one image manifest", pushed.index)
		}
		m, img := pushed.image(t)
		checkConfig(t, img)
		var layers [][]byte
		for _, l := range m.Layers {
			layers = append(layers, pushed.blob(t, l))
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
			layers = append(layers, l.blob(t, d))
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
// every run step: --add-host, --ulimit, --shm-size, --resource and the
// BUILDKIT_SANDBOX_HOSTNAME build arg. The same command
// runs in a Dockerfile on the same builder first, so a failure here is
// tomlfront's, not the bench's.
func TestBuildxRunOptions(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	const probe = `mkdir -p /out && (grep tf-e2e-host /etc/hosts || echo no-host) > /out/hosts && ulimit -n > /out/nofile && (df -k /dev/shm | tail -n 1 | tr -s ' ' | cut -d' ' -f2) > /out/shm && hostname > /out/hostname && (cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes) > /out/memory && (grep -o -m 1 tf-e2e-cgroup /proc/self/cgroup || echo no-parent) > /out/cgroup`
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
	flags := []string{"--build-arg", "NONCE=" + n, "--add-host", "tf-e2e-host=10.11.12.13", "--ulimit", "nofile=1234:1234", "--shm-size", "96m",
		"--build-arg", "BUILDKIT_SANDBOX_HOSTNAME=tf-e2e-box", "--resource", "memory=1g", "--cgroup-parent", "tf-e2e-cgroup"}
	want := map[string]string{"hosts": "10.11.12.13", "nofile": "1234\n", "shm": strconv.Itoa(96*1024) + "\n", "hostname": "tf-e2e-box\n", "memory": strconv.Itoa(1<<30) + "\n",
		"cgroup": "tf-e2e-cgroup\n"}

	dockerfile := t.TempDir()
	mustBuildx(t, dir, append(append([]string{"build", "-f", "Dockerfile", "--output", "type=local,dest=" + dockerfile}, flags...), ".")...)
	for name, w := range want {
		if got := fileIn(dockerfile, name); !strings.Contains(got, w) {
			t.Fatalf("the Dockerfile build: %s = %q, want %q: the bench does not support the flag, so the check below is moot", name, got, w)
		}
	}

	out := buildLocal(t, dir, flags...)
	for name, flag := range map[string]string{"hosts": "--add-host tf-e2e-host=10.11.12.13", "nofile": "--ulimit nofile=1234:1234", "shm": "--shm-size 96m",
		"hostname": "--build-arg BUILDKIT_SANDBOX_HOSTNAME=tf-e2e-box", "memory": "--resource memory=1g", "cgroup": "--cgroup-parent tf-e2e-cgroup"} {
		if got := fileIn(out, name); !strings.Contains(got, want[name]) {
			t.Errorf("%s: a run step saw %s = %q, want %q as with the Dockerfile", flag, name, got, want[name])
		}
	}
}

// TestBuildxPull checks --pull against the Dockerfile frontend on the same
// builder. The base image's tag names one image in the bench registry
// (v2) and another in the builder's image store (v1, --load ed after the
// push): without --pull a Docker Engine builds on the one it has, with it
// on the registry's. (buildkitd resolves every tag from its registry, with
// or without --pull: there frontend.TestPull checks the LLB.)
func TestBuildxPull(t *testing.T) {
	needs(t, localBaseImages)
	t.Parallel()
	buildFrontendImage(t)
	base := bench.registry + "/tomlfront-e2e/pull-base:" + nonce(t)
	dir := writeTree(t, map[string]string{
		"base.Dockerfile": "FROM busybox:1.36\nARG V\nRUN echo $V > /v\n",
		"Dockerfile":      "FROM " + base + "\nRUN cp /v /w\n",
		"build.toml": syntaxLine + `
[stages.app]
from = "` + base + `"
[[stages.app.steps]]
run = "cp /v /w"
`,
	})
	mustBuildx(t, dir, "build", "-f", "base.Dockerfile", "--build-arg", "V=v2", "--tag", base, "--push", ".")
	mustBuildx(t, dir, "build", "-f", "base.Dockerfile", "--build-arg", "V=v1", "--tag", base, "--load", ".")
	t.Cleanup(func() { _, _ = docker(cmdOpt{timeout: time.Minute}, "", "rmi", base) })
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{nil, "v1\n"},
		{[]string{"--pull"}, "v2\n"},
	} {
		for _, file := range []string{"Dockerfile", "build.toml"} {
			out := t.TempDir()
			mustBuildx(t, dir, append(append([]string{"build", "-f", file, "--output", "type=local,dest=" + out}, c.flags...), ".")...)
			if got := fileIn(out, "w"); got != c.want {
				t.Errorf("%s with %q: the base image's /v is %q, want %q", file, c.flags, got, c.want)
			}
		}
	}
}

// TestHTTPContext builds from an http URL as the build context (docker
// buildx build URL): a tarball that holds the spec and a Dockerfile that
// says the same, served from loopback; -f names the file in it. Both give
// the same files.
func TestHTTPContext(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	tarball := tarGz(t, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY data/ /data/\n",
		"build.toml": syntaxLine + `
[stages.app]
from = "scratch"
[[stages.app.steps]]
copy = ["data/"]
to = "/data/"
`,
		"data/a.txt": "from the served context\n",
	})
	srv, hits := fileServer(t, map[string][]byte{"/context.tar.gz": tarball})
	url := srv.URL + "/context.tar.gz"
	for _, file := range []string{"Dockerfile", "build.toml"} {
		out := t.TempDir()
		mustBuildx(t, t.TempDir(), "build", "-f", file, "--output", "type=local,dest="+out, url)
		if got := fileIn(out, "data/a.txt"); got != "from the served context\n" {
			t.Errorf("%s from %s: data/a.txt is %q", file, url, got)
		}
	}
	if hits()["/context.tar.gz"] == 0 {
		t.Errorf("the builder never fetched %s", url)
	}
}
