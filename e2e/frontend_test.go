//go:build e2e

package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestFrontendImage builds the project's Dockerfile on the bench, for two
// platforms from the build platform, and checks what BuildKit needs of a
// frontend image.
func TestFrontendImage(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	var got []string
	for _, m := range registryImage(t, "tomlfront/tomlfront", "1").manifests(t) {
		got = append(got, m.Platform.OS+"/"+m.Platform.Architecture)
	}
	if !reflect.DeepEqual(got, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("platforms %v", got)
	}
	cfg := imageConfig(t, "tomlfront/tomlfront", "1").Config
	if !reflect.DeepEqual(cfg.Entrypoint, []string{"/bin/tomlfront"}) {
		t.Errorf("entrypoint %q", cfg.Entrypoint)
	}
	want := map[string]string{
		"moby.buildkit.frontend.network.none": "true",
		"moby.buildkit.frontend.caps":         "moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts",
	}
	for k, v := range want {
		if cfg.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cfg.Labels[k], v)
		}
	}
}

// exampleChecks says what each example must produce: files in its output
// and its image config. Every directory of examples/ must have an entry.
var exampleChecks = map[string]func(t *testing.T, out string, cfg ocispecs.ImageConfig){
	"hello": func(t *testing.T, out string, cfg ocispecs.ImageConfig) {
		if got := readFile(t, filepath.Join(out, "app/greeting.txt")); got != "hello, e2e\nbuilt by tomlfront\n" {
			t.Errorf("greeting.txt = %q", got)
		}
		if !reflect.DeepEqual(cfg.Cmd, []string{"cat", "/app/greeting.txt"}) || cfg.WorkingDir != "/app" || cfg.Labels["org.opencontainers.image.title"] != "hello" {
			t.Errorf("config %+v", cfg)
		}
		if !slices.Contains(cfg.Env, "GREETING=hello, e2e") {
			t.Errorf("env %q", cfg.Env)
		}
	},
	"go-app": func(t *testing.T, out string, cfg ocispecs.ImageConfig) {
		got, err := command(t, filepath.Join(out, "usr/local/bin/app")).Output()
		if err != nil || string(got) != "hello from go-app (linux/amd64)\n" {
			t.Errorf("app printed %q, %v", got, err)
		}
		entries, _ := os.ReadDir(out)
		if len(entries) != 1 || entries[0].Name() != "usr" {
			t.Errorf("the image holds more than the binary: %v", entries)
		}
		if !reflect.DeepEqual(cfg.Entrypoint, []string{"/usr/local/bin/app"}) || cfg.User != "65532:65532" {
			t.Errorf("config %+v", cfg)
		}
		if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok {
			t.Errorf("ports %v", cfg.ExposedPorts)
		}
	},
	"service-a": func(t *testing.T, out string, cfg ocispecs.ImageConfig) {
		got, err := command(t, filepath.Join(out, "app")).Output()
		if err != nil || string(got) != "hello from service-a (linux/amd64)\n" {
			t.Errorf("app printed %q, %v", got, err)
		}
		if _, err := os.Stat(filepath.Join(out, "etc/ssl/certs/ca-certificates.crt")); err != nil {
			t.Errorf("the template's image lacks the CA certificates: %v", err)
		}
		if !reflect.DeepEqual(cfg.Entrypoint, []string{"/app"}) || cfg.User != "65532:65532" {
			t.Errorf("config %+v", cfg)
		}
	},
	"service-b": func(t *testing.T, out string, cfg ocispecs.ImageConfig) {
		got, err := command(t, filepath.Join(out, "app"), filepath.Join(out, "static")).Output()
		if err != nil || string(got) != "index.html\n" {
			t.Errorf("app printed %q, %v", got, err)
		}
		if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok || !reflect.DeepEqual(cfg.Entrypoint, []string{"/app"}) || cfg.User != "65532:65532" {
			t.Errorf("config %+v: want the template's entrypoint and user, and the service's port", cfg)
		}
	},
	"debian-apt": func(t *testing.T, out string, cfg ocispecs.ImageConfig) {
		if _, err := os.Stat(filepath.Join(out, "usr/bin/hello")); err != nil {
			t.Error(err)
		}
		if !strings.Contains(readFile(t, filepath.Join(out, "etc/apt/apt.conf.d/docker-clean")), "DPkg::Post-Invoke") {
			t.Error("the image lost its docker-clean")
		}
		debs, _ := filepath.Glob(filepath.Join(out, "var/cache/apt/archives/*.deb"))
		if len(debs) > 0 {
			t.Errorf("the image holds packages: %v", debs)
		}
		if !reflect.DeepEqual(cfg.Cmd, []string{"hello"}) {
			t.Errorf("cmd %q", cfg.Cmd)
		}
	},
}

// TestExamples builds every example with docker buildx through its
// `# syntax=` line, as a user would, and checks files and image config.
func TestExamples(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	dirs, err := filepath.Glob(filepath.Join(root, "examples", "*", "build.toml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range dirs {
		name := filepath.Base(filepath.Dir(file))
		t.Run(name, func(t *testing.T) {
			check, ok := exampleChecks[name]
			if !ok {
				t.Fatalf("examples/%s has no checks in exampleChecks", name)
			}
			if src := readFile(t, file); !strings.HasPrefix(src, syntaxLine) {
				t.Fatalf("examples/%s does not start with the syntax line", name)
			}
			out := t.TempDir()
			image := bench.registry + "/examples/" + name + ":e2e"
			args := []string{"build", "-f", file, "--build-arg", "NAME=e2e", "--label", "built-by=e2e", "--provenance=false"}
			if strings.HasPrefix(name, "service-") { // the services of the template in examples/templates
				args = append(args, "--build-context", "templates="+templatesDir)
			}
			buildxOutputs(t, cmdOpt{}, filepath.Dir(file), args,
				"type=local,dest="+out, "type=image,name="+image+",push=true")
			cfg := imageConfig(t, "examples/"+name, "e2e").Config
			if cfg.Labels["built-by"] != "e2e" {
				t.Errorf("--label missing from the config: %v", cfg.Labels)
			}
			check(t, out, cfg)
		})
	}
}

// TestLoadAndRun builds examples with --load into the Docker Engine's image
// store and runs the images with docker run, as a user of the docker driver
// does.
func TestLoadAndRun(t *testing.T) {
	needs(t, dockerLoad)
	t.Parallel()
	buildFrontendImage(t)
	for name, want := range map[string]string{
		"hello":  "hello, world\nbuilt by tomlfront\n",
		"go-app": "hello from go-app (linux/amd64)\n",
	} {
		t.Run(name, func(t *testing.T) {
			image := "tomlfront-e2e/" + name + ":" + nonce(t)
			dir := filepath.Join(root, "examples", name)
			mustBuildx(t, dir, "build", "-f", "build.toml", "--load", "--tag", image, ".")
			t.Cleanup(func() { _, _ = docker(cmdOpt{timeout: time.Minute}, "", "rmi", image) })
			if got := mustDocker(t, "run", "--rm", "--network=none", image); got != want {
				t.Errorf("docker run %s printed %q, want %q", image, got, want)
			}
		})
	}
}

// TestLLBCommand pipes `tomlfront llb` of a multi-stage spec into buildctl.
func TestLLBCommand(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"build.toml": `
[stages.words]
from = "busybox:1.36"
[[stages.words.steps]]
run = "mkdir /out && echo one > /out/a && echo two > /out/b"

[stages.count]
from = "busybox:1.36"
[[stages.count.steps]]
copy = ["/out/"]
from = "words"
to = "/in/"
[[stages.count.steps]]
copy = ["extra.txt"]
to = "/in/"
[[stages.count.steps]]
run = "cat /in/a /in/b /in/extra.txt | wc -l > /lines"

[stages.result]
from = "scratch"
[[stages.result.steps]]
copy = ["/lines"]
from = "count"
`,
		"extra.txt": "three\n",
	})
	bin := goBuildTomlfront(t)
	def, err := command(t, bin, "llb", "-f", filepath.Join(dir, "build.toml")).Output()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := command(t, "buildctl", "build", "--local", "context="+dir, "--output", "type=local,dest="+out)
	cmd.Stdin = bytes.NewReader(def)
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("buildctl: %v\n%s", err, log)
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(out, "lines"))); got != "3" {
		t.Errorf("lines = %q", got)
	}
}

// TestErrorsShowTOML checks what buildx prints when a spec is invalid and
// when a step fails: the file, the line, and the TOML itself.
func TestErrorsShowTOML(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	tests := []struct {
		name string
		spec string
		want []string
	}{
		{"failing run step", `# syntax=ghcr.io/tomlfront/tomlfront:1
[stages.a]
from = "busybox:1.36"

[[stages.a.steps]]
run = "echo about to fail && exit 3"
env = { WHY = "test" }
`, []string{"build.toml:5", "5 | >>> [[stages.a.steps]]", `6 | >>> run = "echo about to fail && exit 3"`, "exit code: 3"}},
		{"invalid spec", `# syntax=ghcr.io/tomlfront/tomlfront:1
[stages.a]
from = "busybox:1.36"
workdir = "/src/${NOPE}"
`, []string{"build.toml:4", `4 | >>> workdir = "/src/${NOPE}"`, `build.toml:4:11: undeclared variable "NOPE"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"build.toml": tc.spec})
			out, err := buildx(dir, "build", "-f", "build.toml", "--no-cache", ".")
			if err == nil {
				t.Fatalf("the build succeeded:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
