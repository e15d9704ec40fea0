//go:build e2e

package e2e

import (
	"debug/elf"
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

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
	pushed := registryImage(t, repo, tag)
	var got []string
	for _, d := range pushed.manifests(t) {
		got = append(got, d.Platform.OS+"/"+d.Platform.Architecture)
		var m ocispecs.Manifest
		pushed.decode(t, d, &m)
		var img ocispecs.Image
		pushed.decode(t, m.Config, &img)
		if img.Architecture != d.Platform.Architecture || img.Config.Labels["arch"] != d.Platform.Architecture {
			t.Errorf("%s: config architecture %q, label arch %q", d.Platform.Architecture, img.Architecture, img.Config.Labels["arch"])
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("pushed platforms %v", got)
	}
}

// TestMultiPlatform builds examples/go-app for two platforms through buildx:
// the build stage runs on the builder's platform and cross-compiles, so no
// emulation is needed, and each platform gets its own binary.
func TestMultiPlatform(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	out := t.TempDir()
	mustBuildx(t, root, "build", "-f", "examples/go-app/build.toml", "--platform", "linux/amd64,linux/arm64",
		"--output", "type=local,dest="+out, "examples/go-app")
	for dir, machine := range map[string]elf.Machine{"linux_amd64": elf.EM_X86_64, "linux_arm64": elf.EM_AARCH64} {
		f, err := elf.Open(filepath.Join(out, dir, "usr/local/bin/app"))
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if f.Machine != machine {
			t.Errorf("%s: binary for %v, want %v", dir, f.Machine, machine)
		}
		f.Close()
	}
}

// TestMultiPlatformIndex: --build-arg BUILDKIT_MULTI_PLATFORM=1 makes the
// image of one platform an index, as for a Dockerfile on the same builder;
// without it, one manifest.
func TestMultiPlatformIndex(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{
		"Dockerfile": "FROM busybox:1.36\nRUN echo one > /one\n",
		"build.toml": syntaxLine + "[stages.one]\nfrom = \"busybox:1.36\"\n[[stages.one.steps]]\nrun = \"echo one > /one\"\n",
	})
	for _, file := range []string{"Dockerfile", "build.toml"} {
		for _, multi := range []bool{false, true} {
			args := []string{"build", "-f", file, "--provenance=false"}
			if multi {
				args = append(args, "--build-arg", "BUILDKIT_MULTI_PLATFORM=1")
			}
			oci := filepath.Join(t.TempDir(), "image.tar")
			buildxOutputs(t, cmdOpt{}, dir, args, "type=oci,dest="+oci)
			top := readOCITar(t, oci).index.Manifests
			index := len(top) == 1 && top[0].MediaType == ocispecs.MediaTypeImageIndex
			if index != multi {
				t.Errorf("%s, BUILDKIT_MULTI_PLATFORM set: %v: the layout holds %s, want an index: %v", file, multi, top[0].MediaType, multi)
			}
		}
	}
}
