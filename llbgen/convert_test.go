package llbgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	capspb "github.com/moby/buildkit/util/apicaps/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/spec"
)

const cachesSpec = `
[caches.gomod]
target = "/go/pkg/mod"
sharing = "locked"
mode = "0700"
uid = 1000
gid = 1001

[caches.seeded]
target = "cache"
from = "seed"
source = "/data"
readonly = true

[stages.seed]
from = "busybox:1.36"

[stages.build]
from = "golang:1.26"
workdir = "/src"
caches = ["gomod"]

[[stages.build.steps]]
run = "go mod download"

[[stages.build.steps]]
run = "go build ./..."
caches = ["pip", "seeded", "gomod"]
mounts = [{ type = "cache", target = "/tmp/x", id = "x", sharing = "private" }]
`

func TestCacheMounts(t *testing.T) {
	tests := []struct {
		name, ns, op, dest, id, selector string
		sharing                          pb.CacheSharingOpt
		readonly                         bool
	}{
		{"named cache, namespaced", "ns", "run go mod download", "/go/pkg/mod", "ns/gomod", "/cache", pb.CacheSharingOpt_LOCKED, false},
		{"named cache", "", "run go mod download", "/go/pkg/mod", "gomod", "/cache", pb.CacheSharingOpt_LOCKED, false},
		{"preset", "", "run go build", "/var/cache/tomlfront/pip", "pip", "/cache", pb.CacheSharingOpt_SHARED, false},
		{"stage cache listed again by a step", "", "run go build", "/go/pkg/mod", "gomod", "/cache", pb.CacheSharingOpt_LOCKED, false},
		{"seeded from a stage, relative target", "team", "run go build", "/src/cache", "team/seeded", "/data", pb.CacheSharingOpt_SHARED, true},
		{"inline cache mount", "team", "run go build", "/tmp/x", "team/x", "", pb.CacheSharingOpt_PRIVATE, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, g := convert(t, cachesSpec, Options{CacheNamespace: tc.ns})
			op, _ := g.op(tc.op)
			m := mount(t, op.GetExec(), tc.dest)
			if m.MountType != pb.MountType_CACHE || m.CacheOpt.ID != tc.id || m.CacheOpt.Sharing != tc.sharing ||
				m.Selector != tc.selector || m.Readonly != tc.readonly {
				t.Errorf("mount = %s", mustJSON(t, m))
			}
		})
	}
}

// TestCacheRootOwner checks the owner and mode of a cache root: a directory
// made with them seeds the cache, as the Dockerfile frontend does.
func TestCacheRootOwner(t *testing.T) {
	_, g := convert(t, cachesSpec, Options{})
	op, _ := g.op("run go mod download")
	m := mount(t, op.GetExec(), "/go/pkg/mod")
	seed := g.input(op, m.Input).GetFile()
	if seed == nil || len(seed.Actions) != 1 {
		t.Fatalf("cache seed is not a file op: %v", seed)
	}
	mkdir := seed.Actions[0].GetMkdir()
	if mkdir.Path != "/cache" || mkdir.Mode != 0o700 ||
		mkdir.Owner.User.GetByID() != 1000 || mkdir.Owner.Group.GetByID() != 1001 {
		t.Errorf("mkdir = %s", mustJSON(t, mkdir))
	}
}

func TestPresets(t *testing.T) {
	src := `
[stages.a]
from = "debian:bookworm"
caches = ["apt"]
[[stages.a.steps]]
run = "apt-get update"
caches = ["npm"]
`
	_, g := convert(t, src, Options{})
	op, _ := g.op("run apt-get update")
	exec := op.GetExec()
	for dest, id := range map[string]string{"/var/cache/apt": "apt/cache", "/var/lib/apt": "apt/lists"} {
		m := mount(t, exec, dest)
		if m.CacheOpt.ID != id || m.CacheOpt.Sharing != pb.CacheSharingOpt_LOCKED {
			t.Errorf("%s: %s", dest, mustJSON(t, m))
		}
	}
	npm := mount(t, exec, "/var/cache/tomlfront/npm")
	if npm.CacheOpt.Sharing != pb.CacheSharingOpt_SHARED {
		t.Errorf("npm: %s", mustJSON(t, npm))
	}
	// A cache root anyone may write: the tool may run as a non-root user.
	if mkdir := g.input(op, npm.Input).GetFile().Actions[0].GetMkdir(); mkdir.Mode != 0o777 {
		t.Errorf("npm cache root mode %o", mkdir.Mode)
	}
	if !hasEnv(exec.Meta.Env, "npm_config_cache=/var/cache/tomlfront/npm") || !hasEnv(exec.Meta.Env, "npm_config_prefer_offline=true") {
		t.Errorf("env %v lacks the npm preset's", exec.Meta.Env)
	}
	clean := mount(t, exec, "/etc/apt/apt.conf.d/docker-clean")
	if !clean.Readonly || clean.MountType != pb.MountType_BIND {
		t.Errorf("docker-clean mask: %s", mustJSON(t, clean))
	}
	mkfile := g.input(op, clean.Input).GetFile().Actions[0].GetMkfile()
	if !strings.Contains(string(mkfile.Data), `Keep-Downloaded-Packages "true"`) {
		t.Errorf("docker-clean mask content: %q", mkfile.Data)
	}
}

func TestRunStep(t *testing.T) {
	src := `
[args]
VERSION = "1.0"
UNUSED = "x"

[stages.build]
from = "busybox:1.36"
args = ["VERSION", "TARGETARCH"]
env = { A = "a-${VERSION}", PATH = "/opt/bin:${PATH}" }
workdir = "/src"
user = "builder"
shell = ["/bin/bash", "-eu", "-c"]

[[stages.build.steps]]
run = "make all"
env = { B = "${A}-b" }
workdir = "sub"
user = "1000:1000"
network = "none"
security = "insecure"

[[stages.build.steps]]
run = ["/bin/echo", "exec", "form"]
network = "host"
`
	_, g := convert(t, src, Options{BuildArgs: map[string]string{"VERSION": "2.0"}, TargetPlatform: &ocispecs.Platform{OS: "linux", Architecture: "arm64"}})
	op, _ := g.op("[build 1/2] run make all")
	exec := op.GetExec()
	meta := exec.Meta
	if want := []string{"/bin/bash", "-eu", "-c", "make all"}; !reflect.DeepEqual(meta.Args, want) {
		t.Errorf("args = %q, want %q", meta.Args, want)
	}
	for _, kv := range []string{"A=a-2.0", "B=a-2.0-b", "VERSION=2.0", "TARGETARCH=arm64", "PATH=/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"} {
		if !hasEnv(meta.Env, kv) {
			t.Errorf("env %q lacks %s", meta.Env, kv)
		}
	}
	if hasEnv(meta.Env, "UNUSED=x") {
		t.Errorf("env %q has an arg the stage does not list", meta.Env)
	}
	if meta.Cwd != "/src/sub" || meta.User != "1000:1000" {
		t.Errorf("cwd %q user %q", meta.Cwd, meta.User)
	}
	if exec.Network != pb.NetMode_NONE || exec.Security != pb.SecurityMode_INSECURE {
		t.Errorf("network %v security %v", exec.Network, exec.Security)
	}
	op, _ = g.op("[build 2/2] run /bin/echo exec form")
	exec = op.GetExec()
	if want := []string{"/bin/echo", "exec", "form"}; !reflect.DeepEqual(exec.Meta.Args, want) || exec.Meta.User != "builder" || exec.Network != pb.NetMode_HOST {
		t.Errorf("exec form: args %q user %q network %v", exec.Meta.Args, exec.Meta.User, exec.Network)
	}
}

func TestMounts(t *testing.T) {
	src := `
[stages.assets]
from = "busybox:1.36"

[stages.a]
from = "busybox:1.36"
workdir = "/w"
[[stages.a.steps]]
run = "true"
mounts = [
  { type = "secret", id = "netrc", target = "/root/.netrc", required = true, mode = "0440", uid = 1 },
  { type = "secret", id = "token", env = "TOKEN" },
  { type = "secret", id = "npmrc" },
  { type = "ssh" },
  { type = "ssh", id = "github", target = "/ssh.sock", mode = "0666" },
  { type = "tmpfs", target = "/tmp", size = "64m" },
  { type = "bind", from = "assets", source = "/dist", target = "assets" },
  { type = "bind", source = "conf", target = "/conf", readonly = false },
]
`
	_, g := convert(t, src, Options{})
	op, _ := g.op("run true")
	exec := op.GetExec()
	secrets := map[string]*pb.SecretOpt{}
	ssh := map[string]*pb.Mount{}
	for _, m := range exec.Mounts {
		switch m.MountType {
		case pb.MountType_SECRET:
			secrets[m.Dest] = m.SecretOpt
		case pb.MountType_SSH:
			ssh[m.Dest] = m
		}
	}
	if s := secrets["/root/.netrc"]; s == nil || s.ID != "netrc" || s.Optional || s.Mode != 0o440 || s.Uid != 1 {
		t.Errorf("netrc secret: %s", mustJSON(t, s))
	}
	if s := secrets["/run/secrets/npmrc"]; s == nil || !s.Optional || s.Mode != 0o400 {
		t.Errorf("default secret target: %v", mustJSON(t, secrets))
	}
	var envSecret *pb.SecretEnv
	for _, e := range exec.Secretenv {
		if e.ID == "token" {
			envSecret = e
		}
	}
	if envSecret == nil || envSecret.Name != "TOKEN" {
		t.Errorf("secret env: %s", mustJSON(t, exec.Secretenv))
	}
	if m := ssh["/ssh.sock"]; m == nil || m.SSHOpt.ID != "github" || m.SSHOpt.Mode != 0o666 {
		t.Errorf("ssh: %s", mustJSON(t, ssh))
	}
	if m := ssh["/run/buildkit/ssh_agent.0"]; m == nil || m.SSHOpt.ID != "default" || !m.SSHOpt.Optional {
		t.Errorf("default ssh: %s", mustJSON(t, ssh))
	}
	if m := mount(t, exec, "/tmp"); m.MountType != pb.MountType_TMPFS || m.TmpfsOpt.Size != 64<<20 {
		t.Errorf("tmpfs: %s", mustJSON(t, m))
	}
	bind := mount(t, exec, "/w/assets")
	if bind.Selector != "/dist" || !bind.Readonly || g.input(op, bind.Input).GetSource().Identifier != "docker-image://docker.io/library/busybox:1.36" {
		t.Errorf("bind from stage: %s", mustJSON(t, bind))
	}
	rw := mount(t, exec, "/conf")
	if rw.Readonly || rw.Output != -1 || g.input(op, rw.Input).GetSource().Identifier != "local://context" {
		t.Errorf("read-write bind of the context: %s", mustJSON(t, rw))
	}
}

const copySpec = `
[stages.build]
from = "golang:1.26"
[[stages.build.steps]]
run = "go build -o /out/app"

[stages.runtime]
from = "busybox:1.36"
workdir = "/app"
[[stages.runtime.steps]]
copy = ["/out/app"]
from = "build"
to = "bin/"
chown = "1000:1000"
chmod = "0755"

[[stages.runtime.steps]]
copy = ["config/*.yaml", "README.md"]
exclude = ["*.tmp"]

[[stages.runtime.steps]]
copy = ["static"]
to = "/srv/static"
link = true

[[stages.runtime.steps]]
add = ["vendor.tar.gz"]
to = "/opt/"

[[stages.runtime.steps]]
add = ["raw.tar.gz"]
unpack = false
`

func TestCopy(t *testing.T) {
	_, g := convert(t, copySpec, Options{})
	copyOf := func(name string) *pb.FileActionCopy {
		op, _ := g.op(name)
		return op.GetFile().Actions[0].GetCopy()
	}
	c := copyOf("[runtime 1/5] copy")
	if c.Src != "/out/app" || c.Dest != "/app/bin/" || c.Mode != 0o755 || c.Owner.User.GetByID() != 1000 || !c.CreateDestPath {
		t.Errorf("copy from stage: %s", mustJSON(t, c))
	}
	op, _ := g.op("[runtime 1/5] copy")
	if src := g.input(op, 1).GetExec(); src == nil || src.Meta.Args[2] != "go build -o /out/app" {
		t.Errorf("copy --from=build does not read the build stage")
	}
	op, _ = g.op("[runtime 2/5] copy")
	actions := op.GetFile().Actions
	if len(actions) != 2 || actions[0].GetCopy().Src != "/config/*.yaml" || actions[1].GetCopy().Src != "/README.md" {
		t.Fatalf("copy of two sources: %s", mustJSON(t, actions))
	}
	if c := actions[0].GetCopy(); !c.AllowWildcard || !reflect.DeepEqual(c.ExcludePatterns, []string{"*.tmp"}) || c.Dest != "/app/" {
		t.Errorf("glob copy: %s", mustJSON(t, c))
	}
	if c := copyOf("add vendor.tar.gz"); !c.AttemptUnpackDockerCompatibility || c.Dest != "/opt/" {
		t.Errorf("add of a local archive: %s", mustJSON(t, c))
	}
	if c := copyOf("add raw.tar.gz"); c.AttemptUnpackDockerCompatibility {
		t.Errorf("add with unpack = false unpacks: %s", mustJSON(t, c))
	}
}

// TestCopyLink checks that link = true makes an independent layer merged
// onto the stage, as COPY --link does.
func TestCopyLink(t *testing.T) {
	_, g := convert(t, copySpec, Options{})
	merge, _ := g.op("[runtime 3/5] link")
	if merge.GetMerge() == nil || len(merge.Inputs) != 2 {
		t.Fatalf("link is not a merge of two inputs: %s", mustJSON(t, merge))
	}
	layer := g.input(merge, 1).GetFile()
	if layer == nil || len(g.input(merge, 1).Inputs) != 1 {
		t.Fatalf("linked layer is not a copy onto scratch")
	}
	if c := layer.Actions[0].GetCopy(); c.Dest != "/srv/static" || layer.Actions[0].Input != -1 {
		t.Errorf("linked copy: %s", mustJSON(t, layer.Actions[0]))
	}
}

// TestFollowPaths checks that the context is asked only for the paths steps
// use, and for all of it when a step copies ".".
func TestFollowPaths(t *testing.T) {
	tests := []struct {
		name, steps string
		want        []string
	}{
		{"files and globs", `
[[stages.a.steps]]
copy = ["go.mod", "go.sum"]
[[stages.a.steps]]
copy = ["cmd/*.go"]
[[stages.a.steps]]
run = "true"
mounts = [{ type = "bind", source = "scripts", target = "/s" }]
`, []string{"cmd/*.go", "go.mod", "go.sum", "scripts"}},
		{"whole context", `
[[stages.a.steps]]
copy = ["go.mod"]
[[stages.a.steps]]
copy = ["."]
`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, g := convert(t, "[stages.a]\nfrom = \"busybox:1.36\"\n"+tc.steps, Options{})
			local := g.sources()["local://context"]
			if local == nil {
				t.Fatal("no main context")
			}
			var got []string
			if fp, ok := local.Attrs[pb.AttrFollowPaths]; ok {
				if err := json.Unmarshal([]byte(fp), &got); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("follow paths %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAddRemote(t *testing.T) {
	src := `
[stages.a]
from = "busybox:1.36"
[[stages.a.steps]]
add = ["https://example.com/dl/tool.tar.gz"]
checksum = "sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d"
to = "/opt/"
[[stages.a.steps]]
add = ["https://github.com/org/repo.git#v1.2.3"]
keep_git_dir = true
to = "/src"
`
	_, g := convert(t, src, Options{})
	sources := g.sources()
	http := sources["https://example.com/dl/tool.tar.gz"]
	if http == nil || http.Attrs[pb.AttrHTTPChecksum] != "sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d" || http.Attrs["http.filename"] != "tool.tar.gz" {
		t.Errorf("http source: %s", mustJSON(t, sources))
	}
	var git *pb.SourceOp
	for id, s := range sources {
		if strings.HasPrefix(id, "git://github.com/org/repo.git") {
			git = s
		}
	}
	if git == nil || git.Attrs[pb.AttrKeepGitDir] != "true" || !strings.HasSuffix(git.Identifier, "#v1.2.3") {
		t.Errorf("git source: %s", mustJSON(t, sources))
	}
}

func TestImageConfig(t *testing.T) {
	src := `
[stages.a]
from = "busybox:1.36"
env = { MODE = "prod" }
workdir = "/srv"
user = "app"
[stages.a.image]
entrypoint = ["/srv/app"]
cmd = ["serve", "--mode=${MODE}"]
expose = ["8080", "53/udp"]
volumes = ["/data"]
labels = { "org.opencontainers.image.source" = "https://example.com/repo" }
stop_signal = "SIGINT"
healthcheck = { test = ["CMD", "/srv/app", "health"], interval = "30s", timeout = "5s", retries = 3 }
`
	res, _ := convert(t, src, Options{Labels: map[string]string{"team": "core"}})
	cfg := res.Image.Config
	if !reflect.DeepEqual(cfg.Entrypoint, []string{"/srv/app"}) || !reflect.DeepEqual(cfg.Cmd, []string{"serve", "--mode=prod"}) {
		t.Errorf("entrypoint %q cmd %q", cfg.Entrypoint, cfg.Cmd)
	}
	if cfg.WorkingDir != "/srv" || cfg.User != "app" || cfg.StopSignal != "SIGINT" || !hasEnv(cfg.Env, "MODE=prod") {
		t.Errorf("config: %s", mustJSON(t, cfg))
	}
	if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok || len(cfg.ExposedPorts) != 2 {
		t.Errorf("ports %v", cfg.ExposedPorts)
	}
	if cfg.Labels["team"] != "core" || cfg.Labels["org.opencontainers.image.source"] != "https://example.com/repo" {
		t.Errorf("labels %v", cfg.Labels)
	}
	if h := cfg.Healthcheck; h == nil || h.Interval != 30*time.Second || h.Retries != 3 || h.Test[0] != "CMD" {
		t.Errorf("healthcheck %v", h)
	}
	if res.Image.OS != "linux" || res.Image.Architecture != "amd64" {
		t.Errorf("platform %s/%s", res.Image.OS, res.Image.Architecture)
	}
}

// TestReachableStages checks that only the target's stages are converted
// and that independent stages stay independent branches.
func TestReachableStages(t *testing.T) {
	src := `
[stages.frontend]
from = "node:22"
[[stages.frontend.steps]]
run = "npm run build"
[stages.backend]
from = "golang:1.26"
[[stages.backend.steps]]
run = "go build"
[stages.unused]
from = "debian:bookworm"
[[stages.unused.steps]]
run = "never"
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/dist"]
from = "frontend"
[[stages.final.steps]]
copy = ["/app"]
from = "backend"
`
	_, g := convert(t, src, Options{})
	sources := g.sources()
	if _, ok := sources["docker-image://docker.io/library/debian:bookworm"]; ok {
		t.Error("an unreachable stage was converted")
	}
	fe, _ := g.op("run npm run build")
	be, _ := g.op("run go build")
	for _, in := range be.Inputs {
		if g.ops[digest.Digest(in.Digest)] == fe {
			t.Error("backend depends on frontend")
		}
	}
	if _, ok := sources["docker-image://docker.io/library/node:22"]; !ok {
		t.Error("frontend base missing")
	}
}

// TestSourceLocations checks that every step's op carries the TOML range of
// its step, so a failing step shows its lines.
func TestSourceLocations(t *testing.T) {
	src := "[stages.a]\nfrom = \"busybox:1.36\"\n\n[[stages.a.steps]]\nrun = \"\"\"\nfalse\n\"\"\"\nnetwork = \"none\"\n\n[[stages.a.steps]]\ncopy = [\"x\"]\n"
	_, g := convert(t, src, Options{})
	if len(g.def.Source.Infos) != 1 || g.def.Source.Infos[0].Filename != "build.toml" || string(g.def.Source.Infos[0].Data) != src {
		t.Fatalf("source infos: %v", g.def.Source.Infos)
	}
	for name, lines := range map[string][2]int32{"run false": {4, 8}, "copy x": {10, 11}} {
		_, d := g.op(name)
		locs := g.def.Source.Locations[string(d)]
		if locs == nil || len(locs.Locations) != 1 {
			t.Fatalf("%s: no location", name)
		}
		r := locs.Locations[0].Ranges[0]
		if r.Start.Line != lines[0] || r.End.Line != lines[1] {
			t.Errorf("%s: lines %d-%d, want %d-%d", name, r.Start.Line, r.End.Line, lines[0], lines[1])
		}
	}
}

func TestProgressNames(t *testing.T) {
	_, g := convert(t, "[stages.build]\nfrom = \"golang:1.26\"\nworkdir = \"/src\"\n[[stages.build.steps]]\ncopy = [\"go.mod\"]\n[[stages.build.steps]]\nrun = \"\"\"\ngo mod download\ngo build\n\"\"\"\n", Options{PlatformInNames: true})
	want := []string{"[linux/amd64 build 1/2] copy go.mod .", "[linux/amd64 build 2/2] run go mod download ...", "[linux/amd64 build] workdir /src"}
	if got := g.allNames(); !reflect.DeepEqual(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}
}

func TestNamedContextsAndScratch(t *testing.T) {
	_, g := convert(t, "[stages.a]\nfrom = \"context:base\"\n[[stages.a.steps]]\ncopy = [\"/x\"]\nfrom = \"context:assets\"\n[stages.b]\nfrom = \"scratch\"\n[[stages.b.steps]]\ncopy = [\"/\"]\nfrom = \"a\"\n", Options{Resolver: Offline{Contexts: []string{"base", "assets"}}})
	for _, id := range []string{"local://base", "local://assets"} {
		if _, ok := g.sources()[id]; !ok {
			t.Errorf("no source %s in %v", id, g.allNames())
		}
	}
}

// TestDeclaredContexts checks that [contexts] gives each kind of source as
// the default, that --build-context replaces it, and that an undeclared
// context not given is an error saying how to give it.
func TestDeclaredContexts(t *testing.T) {
	const commit = "0123456789abcdef0123456789abcdef01234567"
	src := `[contexts]
specs = { source = "https://github.com/org/specs.git#v1:go", checksum = "` + commit + `" }
assets = "docker-image://busybox:1.36"
tools = { source = "https://example.com/tools.tar.gz", checksum = "sha256:` + strings.Repeat("a", 64) + `" }
[stages.a]
from = "context:assets"
[[stages.a.steps]]
copy = ["/x"]
from = "context:specs"
[[stages.a.steps]]
copy = ["/bin/tool"]
from = "context:tools"
`
	_, g := convert(t, src, Options{})
	sources := g.sources()
	git := sources["git://github.com/org/specs.git#v1:go"]
	if git == nil || git.Attrs[pb.AttrGitChecksum] != commit {
		t.Errorf("git context: %v (sources %v)", git, sources)
	}
	for _, id := range []string{"docker-image://docker.io/library/busybox:1.36", "https://example.com/tools.tar.gz"} {
		if sources[id] == nil {
			t.Errorf("no source %s in %v", id, sources)
		}
	}
	_, g = convert(t, src, Options{Resolver: Offline{Contexts: []string{"specs"}}})
	if sources := g.sources(); sources["local://specs"] == nil || sources["git://github.com/org/specs.git#v1:go"] != nil {
		t.Errorf("--build-context specs does not replace the default: %v", sources)
	}

	s, err := spec.Load("build.toml", []byte("[stages.a]\nfrom = \"context:base\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Convert(context.Background(), s, Options{})
	if want := `build.toml:2:8: stage "a": the build has no context named "base": declare it in [contexts], or pass --build-context base=<dir|docker-image://ref|git URL>`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestMountTargetClash(t *testing.T) {
	s, err := spec.Load("build.toml", []byte("[caches.gomod]\ntarget = \"/var/cache/tomlfront/go/mod\"\n[stages.a]\nfrom = \"golang:1.26\"\ncaches = [\"go\"]\n[[stages.a.steps]]\nrun = \"go build\"\ncaches = [\"gomod\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Convert(context.Background(), s, Options{})
	if want := `build.toml:6:1: step 1 of stage "a" mounts two things at /var/cache/tomlfront/go/mod (check its caches, the stage's caches and its mounts)`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestTargetErrors(t *testing.T) {
	s, err := spec.Load("build.toml", []byte("[args]\nOTHER = \"\"\nV = \"${OTHER:?set OTHER}\"\n[stages.build]\nfrom = \"busybox:1.36\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Convert(context.Background(), s, Options{Target: "biuld"})
	if err == nil || err.Error() != `target stage "biuld" not found (did you mean "build"?); stages: build` {
		t.Errorf("unknown target: %v", err)
	}
	_, err = Convert(context.Background(), s, Options{})
	if err == nil || err.Error() != `build.toml:3:5: invalid variable in "${OTHER:?set OTHER}": OTHER: set OTHER` {
		t.Errorf("arg with ${X:?} and an empty value: %v", err)
	}
}

// TestDeterministic converts the same spec 20 times: the definitions must be
// identical, byte for byte, whatever map iteration order does.
func TestDeterministic(t *testing.T) {
	for _, src := range []string{cachesSpec, copySpec, readExample(t, "go-app"), readExample(t, "debian-apt")} {
		var first []byte
		for i := 0; i < 20; i++ {
			s, err := spec.Load("build.toml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Convert(context.Background(), s, Options{
				TargetPlatform: &amd64, BuildPlatform: &amd64, CacheNamespace: "ns",
				BuildArgs: map[string]string{"A": "1", "B": "2", "C": "3"}, Labels: map[string]string{"x": "1", "y": "2"},
			})
			if err != nil {
				t.Fatal(err)
			}
			def, err := res.State.Marshal(context.Background(), llb.Platform(res.Platform), llb.LocalUniqueID("test"))
			if err != nil {
				t.Fatal(err)
			}
			dt, err := MarshalDefinition(def)
			if err != nil {
				t.Fatal(err)
			}
			cfg, _ := json.Marshal(res.Image)
			dt = append(dt, cfg...)
			if first == nil {
				first = dt
			} else if !bytes.Equal(first, dt) {
				t.Fatalf("conversion %d differs from the first", i)
			}
		}
	}
}

func readExample(t testing.TB, name string) string {
	dt, err := os.ReadFile("../examples/" + name + "/build.toml")
	if err != nil {
		t.Fatal(err)
	}
	return string(dt)
}

// TestBuildOptions checks what buildx flags become: --no-cache-filter,
// --network, proxy build args; and that env wins over an arg of its name.
func TestBuildOptions(t *testing.T) {
	src := `
[args]
MODE = "arg"
[stages.deps]
from = "busybox:1.36"
[[stages.deps.steps]]
run = "fetch"
[stages.app]
from = "deps"
args = ["MODE"]
env = { MODE = "env" }
[[stages.app.steps]]
run = "build"
`
	_, g := convert(t, src, Options{
		NoCache:   func(stage string) bool { return stage == "app" },
		Network:   pb.NetMode_HOST,
		BuildArgs: map[string]string{"http_proxy": "http://proxy:3128", "MODE": "cli"},
	})
	fetch, fetchDigest := g.op("run fetch")
	build, buildDigest := g.op("run build")
	if g.def.Metadata[string(fetchDigest)].IgnoreCache || !g.def.Metadata[string(buildDigest)].IgnoreCache {
		t.Errorf("ignore cache: deps %v, app %v", g.def.Metadata[string(fetchDigest)].IgnoreCache, g.def.Metadata[string(buildDigest)].IgnoreCache)
	}
	for _, op := range []*pb.Op{fetch, build} {
		if e := op.GetExec(); e.Network != pb.NetMode_HOST || e.Meta.ProxyEnv == nil || e.Meta.ProxyEnv.HttpProxy != "http://proxy:3128" {
			t.Errorf("network %v proxy %v", e.Network, e.Meta.ProxyEnv)
		}
	}
	if env := build.GetExec().Meta.Env; !hasEnv(env, "MODE=env") || hasEnv(env, "MODE=cli") {
		t.Errorf("env %q: the env var must win over the arg", env)
	}
}

// TestEnvSelfReference: PATH = "/x:${PATH}" on a base whose config is
// unknown expands the missing name to empty, as a Dockerfile's ENV does.
// TestEnvSelfReference: an env entry that refers to its own name, not set
// yet, sees it empty, in a stage's env and in a step's alike.
func TestEnvSelfReference(t *testing.T) {
	res, g := convert(t, `[stages.a]
from = "golang:1.26"
env = { GOPATH = "/x:${GOPATH}" }
[[stages.a.steps]]
run = "go build"
env = { GOFLAGS = "${GOFLAGS} -x", GOPATH = "${GOPATH}:/y" }
`, Options{})
	if !hasEnv(res.Image.Config.Env, "GOPATH=/x:") {
		t.Errorf("stage env %q", res.Image.Config.Env)
	}
	op, _ := g.op("run go build")
	for _, kv := range []string{"GOFLAGS= -x", "GOPATH=/x::/y"} {
		if !hasEnv(op.GetExec().Meta.Env, kv) {
			t.Errorf("step env %q lacks %s", op.GetExec().Meta.Env, kv)
		}
	}
}

// TestPresetEnvFollowsTarget: a preset whose target is moved, with a
// variable or relative to the workdir, points its tool at the mount.
func TestPresetEnvFollowsTarget(t *testing.T) {
	src := `
[args]
V = "3"
[caches.pipv]
preset = "pip"
target = "cache/${V}"
[stages.a]
from = "busybox:1.36"
workdir = "/w"
[[stages.a.steps]]
run = "pip install x"
caches = ["pipv"]
`
	_, g := convert(t, src, Options{})
	op, _ := g.op("run pip install x")
	exec := op.GetExec()
	mount(t, exec, "/w/cache/3")
	if !hasEnv(exec.Meta.Env, "PIP_CACHE_DIR=/w/cache/3") {
		t.Errorf("env %q", exec.Meta.Env)
	}
}

func TestGitURLOptions(t *testing.T) {
	src := `
[stages.a]
from = "busybox:1.36"
[[stages.a.steps]]
add = "https://example.com/org/repo.git?ref=v2&submodules=false&checksum=0123456789abcdef0123456789abcdef01234567"
to = "/src/"
[[stages.a.steps]]
add = ["github.com/org/repo", "two"]
to = "."
`
	_, g := convert(t, src, Options{})
	var git *pb.SourceOp
	for id, s := range g.sources() {
		if strings.HasPrefix(id, "git://example.com/org/repo.git") {
			git = s
		}
	}
	if git == nil || git.Attrs["git.skipsubmodules"] != "true" || git.Attrs["git.checksum"] != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("git source: %s", mustJSON(t, g.sources()))
	}
	op, _ := g.op("add github.com/org/repo two")
	if c := op.GetFile().Actions[0].GetCopy(); c.Src != "/github.com/org/repo" || !c.AttemptUnpackDockerCompatibility {
		t.Errorf("github.com/org/repo is a local path, as in a Dockerfile: %s", mustJSON(t, c))
	}
	if git.Attrs[pb.AttrGitAdvice] != "" {
		t.Errorf("git advice without BUILDKIT_GIT_ADVICE: %v", git.Attrs)
	}
	_, g = convert(t, src, Options{GitAdvice: true}) // --build-arg BUILDKIT_GIT_ADVICE=true
	for id, s := range g.sources() {
		if strings.HasPrefix(id, "git://") && s.Attrs[pb.AttrGitAdvice] != "true" {
			t.Errorf("git source %s without advice: %v", id, s.Attrs)
		}
	}
}

// TestUses checks what the outline and `tomlfront caches` are made of.
func TestUses(t *testing.T) {
	src := `
[caches.gomod]
target = "/go/pkg/mod"
sharing = "locked"
[stages.unused]
from = "busybox:1.36"
[stages.deps]
from = "golang:1.26"
caches = ["gomod"]
[[stages.deps.steps]]
run = "go mod download"
mounts = [{ type = "secret", id = "netrc" }, { type = "ssh" }]
[stages.app]
from = "deps"
[[stages.app.steps]]
run = "go build"
caches = ["gomod"]
mounts = [{ type = "secret", id = "netrc", required = true }, { type = "cache", target = "/tmp/x" }]
`
	res, _ := convert(t, src, Options{CacheNamespace: "ns"})
	u := res.Uses
	if len(u.Secrets) != 1 || u.Secrets[0].ID != "netrc" || !u.Secrets[0].Required || u.Secrets[0].Range.Start.Line != 12 {
		t.Errorf("secrets %+v", u.Secrets)
	}
	if len(u.SSH) != 1 || u.SSH[0].ID != "default" || u.SSH[0].Required {
		t.Errorf("ssh %+v", u.SSH)
	}
	var got []string
	for _, c := range u.Caches {
		var steps []string
		for _, s := range c.Steps {
			steps = append(steps, s.Stage+"/"+strconv.Itoa(s.Step))
		}
		got = append(got, c.Cache+" "+c.ID+" "+c.Target+" "+c.Sharing+" "+strings.Join(steps, ","))
	}
	want := []string{" ns//tmp/x /tmp/x shared app/1", "gomod ns/gomod /go/pkg/mod locked deps/1,app/1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("caches %q, want %q", got, want)
	}
	if len(u.Stages) != 2 || u.Stages[0].Name != "deps" || u.Stages[1].Name != "app" {
		t.Errorf("stages %v", u.Stages)
	}
}

// TestCacheSnapshotLLB checks the steps that carry persisted caches: a
// guard in each step that mounts one, a seed and a probe apart (the
// frontend solves them), an export after the target, and none marked
// ignore-cache (BuildKit would prune the cache first).
func TestCacheSnapshotLLB(t *testing.T) {
	src := `
[caches.deps]
target = "/deps"
persist = true
sharing = "locked"
[caches.tools]
preset = "go"
persist = true
[caches.tmp]
target = "/tmp/c"
[stages.a]
from = "golang:1.26"
caches = ["deps", "tools", "tmp"]
[[stages.a.steps]]
run = "make"
`
	snapshot, helper := llb.Local("tomlfront-cache"), llb.Image("example.com/tomlfront:1")
	res, g := convert(t, src, Options{CacheExport: ExportAll, CacheSnapshot: &snapshot, Helper: &helper, RunID: "run1", CacheNamespace: "ns"})
	if res.Image.Config.Entrypoint != nil || len(res.Image.Config.Env) != 1 {
		t.Errorf("an export's config is the empty image's: %+v", res.Image.Config)
	}
	dirs := []string{"deps", "tools/mod", "tools/build"}
	if got := res.Snapshot.Dirs(); !slices.Equal(got, dirs) {
		t.Errorf("persisted caches %q, want %q", got, dirs)
	}
	probeOp, _ := graphOf(t, res.Snapshot.Probe(dirs)).op(ProbeName)
	if args := probeOp.GetExec().Meta.Args; !slices.Equal(args, append([]string{"/bin/tomlfront", "seed-probe"}, dirs...)) {
		t.Errorf("probe runs %q", args)
	}
	// The caches the snapshot does not hold are not probed.
	oneProbe, _ := graphOf(t, res.Snapshot.Probe([]string{"tools/build"})).op(ProbeName)
	if args := oneProbe.GetExec().Meta.Args; !slices.Equal(args, []string{"/bin/tomlfront", "seed-probe", "tools/build"}) {
		t.Errorf("probe of one cache runs %q", args)
	}
	watch, _ := graphOf(t, res.Snapshot.Watch(2)).op(WatcherName)
	if args := watch.GetExec().Meta.Args; !slices.Equal(args, append([]string{"/bin/tomlfront", "seed-probe", "-wait"}, dirs...)) || !hasEnv(watch.GetExec().Meta.Env, "TOMLFRONT_ATTEMPT=2") {
		t.Errorf("watcher %s", mustJSON(t, watch.GetExec()))
	}
	hold, _ := graphOf(t, res.Snapshot.Hold()).op(HolderName)
	if args := hold.GetExec().Meta.Args; !slices.Equal(args, append([]string{"/bin/tomlfront", "seed-probe", "-hold"}, dirs...)) || !hasEnv(hold.GetExec().Meta.Env, "TOMLFRONT_RUN=run1") {
		t.Errorf("holder %s", mustJSON(t, hold.GetExec()))
	}
	step, _ := g.op("run make")
	if args := step.GetExec().Meta.Args; !slices.Equal(args, []string{guardPath, "/bin/sh", "-c", "make"}) {
		t.Errorf("the guard does not run the step's command after it: %q", args)
	}
	if m := mount(t, step.GetExec(), guardPath); m.Selector != "/guard" || !m.Readonly {
		t.Errorf("the guard is mounted as %s", mustJSON(t, m))
	}
	guardOp, _ := g.op("[internal] tomlfront's guard of the persisted caches " + strings.Join(dirs, ", "))
	if mk := guardOp.GetFile().Actions[0].GetMkfile(); mk == nil || mk.Mode != 0o755 || string(mk.Data) != guardScript(dirs) {
		t.Errorf("the guard's script is made by %s", mustJSON(t, guardOp))
	}
	for i, dir := range dirs {
		pending := "tomlfront-seed-pending/ns/" + dir
		export, exportDigest := g.op("[tomlfront] export cache " + dir)
		seedState, ok := res.Snapshot.Seed(dir)
		if !ok {
			t.Fatalf("no seed of %s", dir)
		}
		seed, _ := graphOf(t, seedState).op("[tomlfront] seed cache " + dir + " from the snapshot")
		if g.def.Metadata[string(exportDigest)].IgnoreCache {
			t.Errorf("%s: ignore-cache would prune the cache", dir)
		}
		for _, op := range []*pb.Op{seed, export} {
			if m := mount(t, op.GetExec(), "/.tomlfront/cache"); m.CacheOpt.ID != "ns/"+dir || !hasEnv(op.GetExec().Meta.Env, "TOMLFRONT_RUN=run1") {
				t.Errorf("%s: %s", dir, mustJSON(t, op.GetExec()))
			}
		}
		// The seed mounts the cache as the step that waits for it does
		// (deps is locked, the go preset's shared); the export, locked,
		// waits while BuildKit sizes it.
		own := pb.CacheSharingOpt_SHARED
		if dir == "deps" {
			own = pb.CacheSharingOpt_LOCKED
		}
		if seeds, exports := mount(t, seed.GetExec(), "/.tomlfront/cache").CacheOpt.Sharing, mount(t, export.GetExec(), "/.tomlfront/cache").CacheOpt.Sharing; seeds != own || exports != pb.CacheSharingOpt_LOCKED {
			t.Errorf("%s: the seed mounts the cache %s, the export %s", dir, seeds, exports)
		}
		// BuildKit would hash every file of a read-only mount first.
		for _, m := range []*pb.Mount{mount(t, seed.GetExec(), "/.tomlfront/snapshot"), mount(t, export.GetExec(), "/.tomlfront/stage"),
			mount(t, export.GetExec(), "/.tomlfront/target"), mount(t, export.GetExec(), "/.tomlfront/bin/tomlfront")} {
			if !m.Readonly || m.ContentCache != pb.MountContentCache_OFF {
				t.Errorf("%s: the mount at %s: %s", dir, m.Dest, mustJSON(t, m))
			}
		}
		// BuildKit finds a cache mount by its id and its source's result:
		// with no source, by the id alone, in every solve.
		for _, m := range []*pb.Mount{mount(t, seed.GetExec(), "/.tomlfront/pending"), mount(t, step.GetExec(), "/.tomlfront/pending/"+dir),
			mount(t, probeOp.GetExec(), fmt.Sprintf("/.tomlfront/probe/%d/pending", i)), mount(t, watch.GetExec(), fmt.Sprintf("/.tomlfront/probe/%d/pending", i)),
			mount(t, hold.GetExec(), fmt.Sprintf("/.tomlfront/probe/%d/pending", i))} {
			if m.CacheOpt.ID != pending || pb.InputIndex(m.Input) != pb.Empty || m.CacheOpt.Sharing != pb.CacheSharingOpt_SHARED {
				t.Errorf("%s: the probe, the watcher, the holder, the step and the seed do not share the cache's mark: %s", dir, mustJSON(t, m))
			}
		}
		if mount(t, probeOp.GetExec(), fmt.Sprintf("/.tomlfront/probe/%d/cache", i)).CacheOpt.ID != "ns/"+dir {
			t.Errorf("%s: the probe does not look at the cache", dir)
		}
	}
	if merge, _ := g.op("[tomlfront] cache snapshot"); len(merge.Inputs) != 3 {
		t.Errorf("the snapshot merges %d caches, want 3", len(merge.Inputs))
	}
	// An auto export leaves out the caches no step used.
	some, err := res.Snapshot.Export(func(dir string) bool { return dir != "deps" })
	if err != nil {
		t.Fatal(err)
	}
	if names := graphOf(t, some).allNames(); slices.Contains(names, "[tomlfront] export cache tools/mod") || !slices.Contains(names, "[tomlfront] export cache deps") {
		t.Errorf("export without tools/*: %q", names)
	}

	s, err := spec.Load("build.toml", []byte("[stages.a]\nfrom = \"busybox:1.36\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Convert(context.Background(), s, Options{CacheExport: ExportAll, RunID: "x"}); err == nil || err.Error() != `TOMLFRONT_CACHE_EXPORT is set, but stage "a" mounts no cache with persist = true` {
		t.Errorf("export without persisted caches: %v", err)
	}
}

// TestCacheSnapshotSameKeys: builds given a snapshot or not, with different
// RunIDs, have the same definition, guards included: BuildKit gives each
// step the same cache key, so all share its layers.
func TestCacheSnapshotSameKeys(t *testing.T) {
	snapshot, helper := llb.Local("tomlfront-cache"), llb.Image("example.com/tomlfront:1")
	_, with := convert(t, snapshotSpec, Options{CacheSnapshot: &snapshot, Helper: &helper, RunID: "run1"})
	_, without := convert(t, snapshotSpec, Options{RunID: "run2"})
	a, _ := with.op("run make")
	b, _ := without.op("run make")
	if x, y := mustJSON(t, a.GetExec()), mustJSON(t, b.GetExec()); x != y {
		t.Errorf("the step differs with a snapshot:\n%s\nwithout:\n%s", x, y)
	}
	if !slices.EqualFunc(with.def.Def, without.def.Def, bytes.Equal) {
		t.Errorf("the definitions differ with a snapshot")
	}
}

func TestRunOptions(t *testing.T) {
	_, g := convert(t, "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\nrun = \"true\"\n", Options{Run: RunOptions{
		ExtraHosts:     []llb.HostIP{{Host: "db", IP: net.ParseIP("10.0.0.2")}},
		Ulimits:        []*pb.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}},
		ShmSize:        96 << 20,
		CgroupParent:   "builds",
		Hostname:       "box",
		LinuxResources: &pb.LinuxResources{Memory: 2 << 30, CpusetCpus: "0"},
	}})
	op, dgst := g.op("run true")
	exec := op.GetExec()
	if len(exec.Meta.ExtraHosts) != 1 || exec.Meta.ExtraHosts[0].Host != "db" || len(exec.Meta.Ulimit) != 1 || exec.Meta.CgroupParent != "builds" || exec.Meta.Hostname != "box" {
		t.Errorf("meta %s", mustJSON(t, exec.Meta))
	}
	// Resources are the op's metadata, as the Dockerfile frontend sets
	// them: not part of the cache key.
	if r := g.def.Metadata[string(dgst)].GetLinuxResources(); r.GetMemory() != 2<<30 || r.GetCpusetCpus() != "0" {
		t.Errorf("linux resources %s", mustJSON(t, g.def.Metadata[string(dgst)]))
	}
	if m := mount(t, exec, "/dev/shm"); m.TmpfsOpt.Size != 96<<20 {
		t.Errorf("shm %s", mustJSON(t, m))
	}
}

// TestEveryPreset checks the LLB of each preset: its mounts with their ids
// and sharing, and the environment that points its tool at them.
func TestEveryPreset(t *testing.T) {
	for _, name := range spec.PresetNames() {
		t.Run(name, func(t *testing.T) {
			_, g := convert(t, "[stages.a]\nfrom = \"busybox:1.36\"\nuser = \"1000\"\n[[stages.a.steps]]\nrun = \"true\"\ncaches = [\""+name+"\"]\n", Options{CacheNamespace: "ns"})
			op, _ := g.op("run true")
			exec := op.GetExec()
			p := spec.Presets[name]
			for _, d := range p.Dirs {
				m := mount(t, exec, d.Target)
				id := "ns/" + name
				if d.Part != "" {
					id += "/" + d.Part
				}
				if m.CacheOpt.ID != id || m.CacheOpt.Sharing != sharingPB[d.Sharing] {
					t.Errorf("%s: %s", d.Target, mustJSON(t, m))
				}
				if d.Mode != "" { // a root other users may write to
					if mkdir := g.input(op, m.Input).GetFile().Actions[0].GetMkdir(); mkdir.Mode != 0o777 {
						t.Errorf("%s: root mode %o", d.Target, mkdir.Mode)
					}
				}
			}
			for _, e := range p.Env {
				if !hasEnv(exec.Meta.Env, e.Name+"="+e.Value.Value) {
					t.Errorf("env %q lacks %s=%s", exec.Meta.Env, e.Name, e.Value.Value)
				}
			}
		})
	}
}

var sharingPB = map[string]pb.CacheSharingOpt{
	spec.SharingShared: pb.CacheSharingOpt_SHARED, spec.SharingPrivate: pb.CacheSharingOpt_PRIVATE, spec.SharingLocked: pb.CacheSharingOpt_LOCKED,
}

func TestCrossPlatformNames(t *testing.T) {
	arm64 := ocispecs.Platform{OS: "linux", Architecture: "arm64"}
	_, g := convert(t, "[stages.build]\nfrom = \"golang:1.26\"\nplatform = \"${BUILDPLATFORM}\"\n[[stages.build.steps]]\nrun = \"go build\"\n[stages.out]\nfrom = \"scratch\"\n[[stages.out.steps]]\ncopy = [\"/x\"]\nfrom = \"build\"\n",
		Options{TargetPlatform: &arm64, PlatformInNames: true})
	want := []string{"[linux/amd64->arm64 build 1/1] run go build", "[linux/arm64 out 1/1] copy --from=build /x ."}
	if got := g.allNames(); !reflect.DeepEqual(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}
}

// capsWithout is every LLB capability but the named ones: a daemon that
// lacks them, such as Docker Engine's graphdriver store (no MergeOp).
func capsWithout(ids ...apicaps.CapID) *apicaps.CapSet {
	var caps []*capspb.APICap
	for _, c := range pb.Caps.All() {
		if !slices.Contains(ids, apicaps.CapID(c.ID)) {
			caps = append(caps, c)
		}
	}
	set := pb.Caps.CapSet(caps)
	return &set
}

// TestCapsFallbacks: what the daemon has no capability for falls back as in
// the Dockerfile frontend.
func TestCapsFallbacks(t *testing.T) {
	t.Run("link without MergeOp is a plain copy", func(t *testing.T) {
		_, g := convert(t, copySpec, Options{LLBCaps: capsWithout(pb.CapMergeOp)})
		for _, name := range g.allNames() {
			if strings.Contains(name, "link ") {
				t.Errorf("an op named %q", name)
			}
		}
		for _, op := range g.ops {
			if op.GetMerge() != nil {
				t.Fatalf("a merge op: %s", mustJSON(t, op))
			}
		}
		op, _ := g.op("[runtime 3/5] copy")
		if c := op.GetFile().Actions[0].GetCopy(); c == nil || c.Dest != "/srv/static" {
			t.Errorf("the copy: %s", mustJSON(t, op))
		}
	})
	t.Run("run options without their caps are left out", func(t *testing.T) {
		_, g := convert(t, "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\nrun = \"true\"\n", Options{
			LLBCaps: capsWithout(pb.CapExecMetaUlimit, pb.CapExecMetaCgroupParent, pb.CapExecMountTmpfsSize, pb.CapExecMetaLinuxResources),
			Run: RunOptions{Ulimits: []*pb.Ulimit{{Name: "nofile", Soft: 1, Hard: 2}}, ShmSize: 1 << 20, CgroupParent: "builds",
				LinuxResources: &pb.LinuxResources{Memory: 1 << 30}},
		})
		op, dgst := g.op("run true")
		exec := op.GetExec()
		if len(exec.Meta.Ulimit) != 0 || exec.Meta.CgroupParent != "" || len(exec.Mounts) != 1 || g.def.Metadata[string(dgst)].GetLinuxResources() != nil {
			t.Errorf("exec %s", mustJSON(t, exec))
		}
	})
	t.Run("a writable bind mount keeps its output without the no-output cap", func(t *testing.T) {
		const spec = "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"bind\", source = \"conf\", target = \"/conf\", readonly = false }]\n"
		for _, tc := range []struct {
			caps       *apicaps.CapSet
			skipOutput bool
		}{{nil, true}, {capsWithout(pb.CapExecMountBindReadWriteNoOutput), false}} {
			_, g := convert(t, spec, Options{LLBCaps: tc.caps})
			op, _ := g.op("run true")
			m := mount(t, op.GetExec(), "/conf")
			if got := pb.OutputIndex(m.Output) == pb.SkipOutput; got != tc.skipOutput || m.Readonly {
				t.Errorf("caps %v: the mount %s", tc.caps != nil, mustJSON(t, m))
			}
		}
	})
}

const snapshotSpec = `
[caches.deps]
target = "/deps"
persist = true
[caches.tools]
preset = "go"
persist = true
[stages.a]
from = "golang:1.26"
caches = ["deps", "tools"]
[[stages.a.steps]]
run = "make"
`

// TestCapsSnapshotWithoutMergeOp: without MergeOp the exports of a cache
// snapshot add to one tree in turn instead of being merged.
func TestCapsSnapshotWithoutMergeOp(t *testing.T) {
	_, g := convert(t, snapshotSpec, Options{CacheExport: ExportAll, Helper: &testHelper, RunID: "r", LLBCaps: capsWithout(pb.CapMergeOp)})
	for _, op := range g.ops {
		if op.GetMerge() != nil {
			t.Fatalf("a merge op: %s", mustJSON(t, op))
		}
	}
	// The result is the last export's output; each export's output mount
	// starts from the one before.
	prev := ""
	for _, dir := range []string{"deps", "tools/mod", "tools/build"} {
		op, d := g.op("[tomlfront] export cache " + dir)
		out := mount(t, op.GetExec(), "/.tomlfront/out")
		switch {
		case prev == "" && out.Input != -1:
			t.Errorf("%s: the first export starts from %d, want scratch", dir, out.Input)
		case prev != "" && (out.Input < 0 || string(op.Inputs[out.Input].Digest) != prev):
			t.Errorf("%s: does not start from the export of the cache before", dir)
		}
		prev = string(d)
	}
}

func TestCapsRequired(t *testing.T) {
	src := "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\nadd = \"https://example.com/org/repo.git?ref=v2\"\nchecksum = \"0123456789abcdef0123456789abcdef01234567\"\nto = \"/src/\"\n"
	s, err := spec.Load("build.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Convert(context.Background(), s, Options{LLBCaps: capsWithout(pb.CapSourceGitChecksum)})
	want := "build.toml:4:7: the checksum of a git source needs BuildKit v0.22 or later (LLB capability source.git.checksum)"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %s...", err, want)
	}
	if _, err := Convert(context.Background(), s, Options{}); err != nil {
		t.Errorf("with every cap: %v", err)
	}
}

// TestSnapshotExportEnv: each export is told its cache's max_size in KiB,
// its preset's trim with when the build started (unless trim = false), and,
// for TOMLFRONT_CACHE_EXPORT=auto, to skip an unchanged cache.
func TestSnapshotExportEnv(t *testing.T) {
	src := strings.Replace(snapshotSpec, "[caches.deps]\ntarget = \"/deps\"\npersist = true\n", "[caches.deps]\ntarget = \"/deps\"\npersist = true\nmax_size = \"2m\"\n", 1)
	started := time.Unix(1700000000, 0)
	for _, c := range []struct {
		name, src string
		mode      CacheExport
		env       map[string][]string // by cache directory: present
		absent    map[string][]string
	}{
		{"all", src, ExportAll,
			map[string][]string{"deps": {"TF_MAX_KIB=2048", "TF_MAX_SIZE=2m"}, "tools/build": {"TF_TRIM=" + spec.Presets["go"].Dirs[1].Trim, "TF_STARTED=1700000000"}},
			map[string][]string{"deps": {"TF_TRIM", "TF_AUTO"}, "tools/mod": {"TF_TRIM", "TF_MAX_KIB"}}},
		{"auto", src, ExportChanged, map[string][]string{"deps": {"TF_AUTO=1"}, "tools/mod": {"TF_AUTO=1"}}, nil},
		{"trim = false", strings.Replace(src, "preset = \"go\"\npersist = true\n", "preset = \"go\"\npersist = true\ntrim = false\n", 1), ExportAll,
			nil, map[string][]string{"tools/build": {"TF_TRIM", "TF_STARTED"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, g := convert(t, c.src, Options{CacheExport: c.mode, Helper: &testHelper, RunID: "r", Started: started})
			envOf := func(dir string) []string {
				op, _ := g.op("[tomlfront] export cache " + dir)
				return op.GetExec().Meta.Env
			}
			for dir, want := range c.env {
				for _, kv := range want {
					if !hasEnv(envOf(dir), kv) {
						t.Errorf("export of %s: no %s in %q", dir, kv, envOf(dir))
					}
				}
			}
			for dir, names := range c.absent {
				for _, name := range names {
					if slices.ContainsFunc(envOf(dir), func(e string) bool { return strings.HasPrefix(e, name+"=") }) {
						t.Errorf("export of %s: %s is set", dir, name)
					}
				}
			}
		})
	}
}

// testHelper stands for the frontend's image (Options.Helper).
var testHelper = llb.Image("example.com/tomlfront:1")
