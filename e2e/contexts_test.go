//go:build e2e

package e2e

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

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
	if !bench.kind.has(ociExporter) {
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

// TestFrontendOptions runs the frontend in-process and checks the options a
// Dockerfile user relies on: named contexts, a context that replaces a base
// image, and the warning for an undeclared --build-arg (.dockerignore is
// TestBuildxDockerignore's).
func TestFrontendOptions(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 5*time.Minute)
	dir := writeTree(t, map[string]string{
		"build.toml": `
[args]
MESSAGE = "hi"
[stages.base]
from = "busybox:1.36"
[[stages.base.steps]]
copy = ["."]
to = "/ctx/"
[[stages.base.steps]]
copy = ["/asset.txt"]
from = "context:assets"
to = "/ctx/"
[[stages.base.steps]]
run = "ls /ctx > /listing && cat /etc/replaced >> /listing 2>/dev/null || true"
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/listing"]
from = "base"
`,
		"kept.txt": "kept\n",
	})
	assets := writeTree(t, map[string]string{"asset.txt": "asset\n"})
	replacement := writeTree(t, map[string]string{"etc/replaced": "busybox was replaced\n", "bin/sh": ""})

	exp, out := localExport(t)
	progress := mustSolve(ctx, t, solveOpt{dir: dir, exports: []client.ExportEntry{exp},
		contexts: map[string]string{"assets": assets},
		attrs:    map[string]string{"build-arg:MESAGE": "typo"}})
	listing := readFile(t, filepath.Join(out, "listing"))
	for _, want := range []string{"kept.txt", "asset.txt", "build.toml"} {
		if !strings.Contains(listing, want) {
			t.Errorf("listing lacks %s:\n%s", want, listing)
		}
	}
	if !strings.Contains(progress, `build arg "MESAGE" is not declared in [args], so nothing uses it (did you mean "MESSAGE"?)`) {
		t.Errorf("no warning for the undeclared build arg:\n%s", progress)
	}

	// A context named like the base image replaces it; the replacement has
	// no shell, so the run step fails: proof that busybox was not used.
	_, err := solve(ctx, solveOpt{dir: dir, contexts: map[string]string{"assets": assets, "busybox:1.36": replacement}})
	if err == nil || !strings.Contains(err.Error(), "/bin/sh") {
		t.Errorf("the base image was not replaced by the named context: %v", err)
	}
}

// TestGitContext: a git repository as the build context (docker buildx
// build git://...), holding the spec, as a Dockerfile's; with
// BUILDKIT_CONTEXT_KEEP_GIT_DIR=1 its .git is in the context, and
// SOURCE_DATE_EPOCH=context is its commit's time, both ways on the same
// builder.
func TestGitContext(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	work := writeTree(t, map[string]string{
		"Dockerfile": "FROM scratch\nCOPY . /src/\n",
		"build.toml": syntaxLine + "[stages.src]\nfrom = \"scratch\"\n[[stages.src.steps]]\ncopy = \".\"\nto = \"/src/\"\n",
		"app.txt":    "from git " + nonce(t) + "\n",
	})
	git := gitIn(t, work)
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "one")
	committed := git("show", "-s", "--format=%ct", "HEAD")
	served := t.TempDir()
	git("clone", "-q", "--bare", work, filepath.Join(served, "repo.git"))
	url := gitDaemon(t, served) + "/repo.git"
	sec, err := strconv.ParseInt(committed, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"Dockerfile", "build.toml"} {
		for _, keep := range []bool{false, true} {
			args := []string{"build", "-f", file, "--provenance=false", "--build-arg", "SOURCE_DATE_EPOCH=context"}
			if keep {
				args = append(args, "--build-arg", "BUILDKIT_CONTEXT_KEEP_GIT_DIR=1")
			}
			out := t.TempDir()
			fsTar, ociTar := filepath.Join(out, "fs.tar"), filepath.Join(out, "image.tar")
			buildxOutputs(t, cmdOpt{context: url}, t.TempDir(), args, "type=tar,dest="+fsTar, "type=oci,dest="+ociTar)
			files := tarIndex(t, fsTar)
			if _, ok := files["/src/app.txt"]; !ok {
				t.Errorf("%s: the image lacks the repository's app.txt: %v", file, slices.Sorted(maps.Keys(files)))
			}
			if _, ok := files["/src/.git/HEAD"]; ok != keep {
				t.Errorf("%s, BUILDKIT_CONTEXT_KEEP_GIT_DIR set: %v: .git in the context: %v", file, keep, ok)
			}
			_, img := readOCITar(t, ociTar).image(t)
			if want := time.Unix(sec, 0).UTC(); img.Created == nil || !img.Created.Equal(want) {
				t.Errorf("%s: created %v, want the commit's time %v", file, img.Created, want)
			}
		}
	}
}
