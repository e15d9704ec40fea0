//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/subrequests/targets"
)

// The platform team's template of the examples, and the line of the
// services' [contexts] that names where it comes from.
var (
	templatesDir  = filepath.Join(root, "examples", "templates")
	templatesLine = regexp.MustCompile(`(?m)^templates = .*$`)
)

// TestSharedTemplate builds each example service with the template served
// three ways — from a git repository pinned by commit, from an image in the
// registry pinned by digest, and from a local directory given with
// --build-context — and requires the image of each to equal the one built
// from the service's `tomlfront resolve` output, which includes nothing.
func TestSharedTemplate(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	bin := goBuildTomlfront(t)
	gitURL, commit, otherCommit := templateRepo(t)
	image := templateImage(t)

	for _, name := range []string{"service-a", "service-b"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			svc := filepath.Join(root, "examples", name)
			cmd := command(t, bin, "resolve", "-f", filepath.Join(svc, "build.toml"), "--build-context", "templates="+templatesDir)
			resolved, err := cmd.Output()
			if err != nil {
				t.Fatalf("tomlfront resolve: %v", err)
			}
			if regexp.MustCompile(`(?m)^include`).Match(resolved) {
				t.Errorf("the resolved spec still includes:\n%s", resolved)
			}
			want := buildImage(t, withSpec(t, svc, string(resolved)))

			for _, way := range []struct {
				name, source string
				args         []string
			}{
				{"git", fmt.Sprintf("{ source = %q, checksum = %q }", gitURL+"#main", commit), nil},
				{"image", fmt.Sprintf("%q", "docker-image://"+image), nil},
				{"local override", "", []string{"--build-context", "templates=" + templatesDir}},
			} {
				dir := svc
				if way.source != "" {
					dir = withSpec(t, svc, templatesLine.ReplaceAllString(readFile(t, filepath.Join(svc, "build.toml")), "templates = "+way.source))
				}
				got := buildImage(t, dir, way.args...)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: the image differs from the resolved spec's:\n got %+v\nwant %+v", way.name, got, want)
				}
			}
		})
	}

	t.Run("wrong checksum", func(t *testing.T) {
		t.Parallel()
		svc := filepath.Join(root, "examples", "service-a")
		source := fmt.Sprintf("templates = { source = %q, checksum = %q }", gitURL+"#main", otherCommit)
		dir := withSpec(t, svc, templatesLine.ReplaceAllString(readFile(t, filepath.Join(svc, "build.toml")), source))
		out, err := buildx(dir, "build", "-f", "build.toml", "--provenance=false", ".")
		if err == nil || !strings.Contains(out, otherCommit) || !strings.Contains(out, `build.toml:4:12`) {
			t.Errorf("a template at the wrong commit: %v, want a failure at the include naming the expected commit:\n%s", err, out)
		}
	})
}

// builtImage is what two builds of the same image share: the layers and
// the config, less the history, whose times differ.
type builtImage struct {
	Layers []string
	Config any
}

// buildImage builds dir's build.toml as an OCI layout and returns its image.
func buildImage(t *testing.T, dir string, args ...string) builtImage {
	t.Helper()
	tar := filepath.Join(t.TempDir(), "image.tar")
	mustBuildx(t, dir, append(append([]string{"build", "-f", "build.toml", "--provenance=false", "--output", "type=oci,dest=" + tar}, args...), ".")...)
	m, img := readOCITar(t, tar).image(t)
	var b builtImage
	for _, l := range m.Layers {
		b.Layers = append(b.Layers, l.Digest.String())
	}
	b.Config = img.Config
	return b
}

// withSpec copies the service directory svc with build.toml replaced by spec.
func withSpec(t *testing.T, svc, spec string) string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(svc, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(svc, p)
		files[rel] = readFile(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files["build.toml"] = spec
	return writeTree(t, files)
}

// templateRepo commits the template to a repository served by git daemon
// and returns its URL, the commit of main and the commit before it.
func templateRepo(t *testing.T) (url, commit, before string) {
	t.Helper()
	work, served := t.TempDir(), t.TempDir()
	git := gitIn(t, work)
	git("init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(work, "README.md"), []byte("the platform team's templates\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "-q", "-m", "start")
	before = git("rev-parse", "HEAD")
	if err := os.WriteFile(filepath.Join(work, "go-service.toml"), []byte(readFile(t, filepath.Join(templatesDir, "go-service.toml"))), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "-q", "-m", "the Go service template")
	commit = git("rev-parse", "HEAD")
	git("clone", "-q", "--bare", work, filepath.Join(served, "repo.git"))
	return gitDaemon(t, served) + "/repo.git", commit, before
}

// templateImage pushes an image holding the template to the bench registry
// and returns its reference by digest.
func templateImage(t *testing.T) string {
	t.Helper()
	dir := writeTree(t, map[string]string{
		"Dockerfile":      readFile(t, filepath.Join(root, "e2e", "testdata", "dockerfiles", "template-image", "Dockerfile")),
		"go-service.toml": readFile(t, filepath.Join(templatesDir, "go-service.toml")),
	})
	meta := filepath.Join(t.TempDir(), "metadata.json")
	name := bench.registry + "/e2e/templates"
	mustBuildx(t, dir, "build", "--provenance=false", "--metadata-file", meta, "--output", "type=image,name="+name+":"+nonce(t)+",push=true", ".")
	var m struct {
		Digest string `json:"containerimage.digest"`
	}
	if err := json.Unmarshal([]byte(readFile(t, meta)), &m); err != nil || m.Digest == "" {
		t.Fatalf("no digest in the build's metadata: %v", err)
	}
	return name + "@" + m.Digest
}

// TestSharedTemplateErrors checks what a service's developer sees when the
// template or an include is wrong, through buildx: the template's file, line
// and include chain, and for a failing step the template's lines.
func TestSharedTemplateErrors(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	template := readFile(t, filepath.Join(templatesDir, "go-service.toml"))
	service := readFile(t, filepath.Join(root, "examples", "service-a", "build.toml"))
	lineOf := func(src, text string) int {
		for i, l := range strings.Split(src, "\n") {
			if strings.Contains(l, text) {
				return i + 1
			}
		}
		t.Fatalf("%q not found", text)
		return 0
	}
	const chain = "included from build.toml:4:12"
	for _, c := range []struct {
		name     string
		template string // the template as the service sees it; "" for the example's
		service  string
		files    map[string]string
		declared bool // the build uses the declared templates, not --build-context
		want     []string
	}{
		{
			name:     "bad key in the template",
			template: strings.Replace(template, `workdir = "/src"`, `wokdir = "/src"`, 1),
			want: []string{fmt.Sprintf(`context:templates/go-service.toml:%d:1: unknown key "wokdir" in stage "build" (did you mean "workdir"?)`, lineOf(template, `workdir = "/src"`)),
				chain, `wokdir = "/src"`},
		},
		{
			name:     "unknown stage in the template",
			template: strings.Replace(template, "version = 1\n", "version = 1\ndefault = \"runtim\"\n", 1),
			want: []string{fmt.Sprintf(`context:templates/go-service.toml:%d:11: default names unknown stage "runtim" (did you mean "runtime"?)`, lineOf(template, "version = 1")+1),
				chain},
		},
		{
			name:     "failing step of the template",
			template: strings.Replace(template, `run = "go mod download"`, `run = "echo the template fails here; exit 3"`, 1),
			// The step's lines, from its [[header]] on.
			want: []string{"context:templates/go-service.toml:" + fmt.Sprint(lineOf(template, `run = "go mod download"`)-1), `>>> run = "echo the template fails here; exit 3"`, "exit code: 3"},
		},
		{
			name:    "missing required arg",
			service: strings.Replace(service, `APP = "service-a"`, `OTHER = "x"`, 1),
			want: []string{fmt.Sprintf(`context:templates/go-service.toml:%d:1: arg "APP" (the command under ./cmd to build and run) is required and not set: pass --build-arg APP=VALUE`, lineOf(template, "APP = {")),
				chain},
		},
		{
			name:    "include cycle",
			service: strings.Replace(service, `include = ["context:templates/go-service.toml"]`, `include = ["ci/a.toml"]`, 1),
			files:   map[string]string{"ci/a.toml": "include = [\"b.toml\"]\n", "ci/b.toml": "\ninclude = [\"a.toml\"]\n"},
			want:    []string{"ci/b.toml:2:12: include cycle: ci/a.toml includes ci/b.toml includes ci/a.toml", "included from ci/a.toml:1:12"},
		},
		{
			name:    "missing include file",
			service: strings.Replace(service, `include = ["context:templates/go-service.toml"]`, `include = ["context:templates/go-servce.toml"]`, 1),
			want:    []string{`build.toml:4:12: include "context:templates/go-servce.toml": context "templates":`, "go-servce.toml"},
		},
		{
			name:     "unreachable context",
			service:  templatesLine.ReplaceAllString(service, `templates = "git://127.0.0.1:1/templates.git#main"`),
			declared: true,
			want:     []string{`build.toml:4:12: include "context:templates/go-service.toml": context "templates":`, "127.0.0.1:1"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"go.mod": "module example.com/service-a\n", "cmd/service-a/main.go": "package main\nfunc main() {}\n", "build.toml": service}
			if c.service != "" {
				files["build.toml"] = c.service
			}
			for k, v := range c.files {
				files[k] = v
			}
			dir := writeTree(t, files)
			tmpl := c.template
			if tmpl == "" {
				tmpl = template
			}
			args := []string{"build", "-f", "build.toml", "--provenance=false"}
			if !c.declared {
				args = append(args, "--build-context", "templates="+writeTree(t, map[string]string{"go-service.toml": tmpl}))
			}
			out, err := buildx(dir, append(args, ".")...)
			if err == nil {
				t.Fatalf("the build passed:\n%s", out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("the output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestSharedTemplateTargets checks that --call=targets names the file each
// stage came from: the template's stages point into the template's source.
func TestSharedTemplateTargets(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	svc := filepath.Join(root, "examples", "service-b")
	out := mustBuildx(t, svc, "build", "-f", "build.toml", "--build-context", "templates="+templatesDir, "--call=targets,format=json", ".")
	var list targets.List
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &list); err != nil {
		t.Fatalf("no JSON: %v\n%s", err, out)
	}
	template := readFile(t, filepath.Join(templatesDir, "go-service.toml"))
	for _, tg := range list.Targets {
		idx := tg.Location.SourceIndex
		if int(idx) >= len(list.Sources) {
			t.Fatalf("%s: source %d of %d", tg.Name, idx, len(list.Sources))
		}
		fromTemplate := string(list.Sources[idx]) == template
		if want := tg.Name != "image"; fromTemplate != want {
			t.Errorf("stage %s: from the template %v, want %v", tg.Name, fromTemplate, want)
		}
		line := strings.Split(string(list.Sources[idx]), "\n")[tg.Location.Ranges[0].Start.Line-1]
		if line != "[stages."+tg.Name+"]" {
			t.Errorf("stage %s points at %q", tg.Name, line)
		}
	}
	if len(list.Targets) != 3 || !list.Targets[2].Default {
		t.Errorf("targets %+v: want build, runtime and the default image", list.Targets)
	}
}

// TestContextTarball declares a context that is a tarball served over http,
// pinned by digest: a spec includes a file from it and a stage copies from
// it; another digest is refused at the include.
func TestContextTarball(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	archive := tarGz(t, map[string]string{
		"bin/tool.sh": "#!/bin/sh\necho tool\n",
		"extra.toml":  "[stages.tool]\nfrom = \"scratch\"\n[[stages.tool.steps]]\ncopy = [\"/bin/tool.sh\"]\nfrom = \"context:tools\"\nto = \"/tool.sh\"\n",
	})
	srv, _ := fileServer(t, map[string][]byte{"/tools.tar.gz": archive})
	spec := func(sum string) string {
		return fmt.Sprintf("%sinclude = [\"context:tools/extra.toml\"]\n[contexts]\ntools = { source = %q, checksum = %q }\n", syntaxLine, srv.URL+"/tools.tar.gz", sum)
	}
	out := buildLocal(t, writeTree(t, map[string]string{"build.toml": spec(sha256Digest(archive))}), "--provenance=false")
	if got := readFile(t, filepath.Join(out, "tool.sh")); got != "#!/bin/sh\necho tool\n" {
		t.Errorf("tool.sh = %q", got)
	}
	text, err := buildx(writeTree(t, map[string]string{"build.toml": spec(sha256Digest([]byte("other")))}), "build", "-f", "build.toml", "--provenance=false", ".")
	if err == nil || !strings.Contains(text, `build.toml:2:12: include "context:tools/extra.toml": context "tools":`) || !strings.Contains(text, "digest") {
		t.Errorf("a tarball of another digest: %v, want a failure at the include:\n%s", err, text)
	}
}
