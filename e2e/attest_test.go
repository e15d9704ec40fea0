//go:build e2e

package e2e

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// attestations are the in-toto statements of an image store's images, by
// predicate type.
func (s imageStore) attestations(t *testing.T) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, d := range s.manifests(t) {
		if d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
			continue
		}
		var m ocispecs.Manifest
		s.decode(t, d, &m)
		for _, layer := range m.Layers {
			var st map[string]any
			s.decode(t, layer, &st)
			kind := layer.Annotations["in-toto.io/predicate-type"]
			out[kind] = append(out[kind], st)
		}
	}
	return out
}

// TestProvenance builds with --provenance=mode=min and mode=max: the
// provenance names the spec file as the build's config source, as BuildKit
// records it for any frontend, and mode=max carries the frontend's LLB.
func TestProvenance(t *testing.T) {
	needs(t, attestations)
	t.Parallel()
	buildFrontendImage(t)
	dir := filepath.Join(root, "examples", "hello")
	for _, mode := range []string{"min", "max"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			tar := filepath.Join(t.TempDir(), "image.tar")
			mustBuildx(t, dir, "build", "-f", "build.toml", "--provenance=mode="+mode, "--output", "type=oci,dest="+tar, ".")
			var provenance []map[string]any
			for kind, sts := range readOCITar(t, tar).attestations(t) {
				if strings.HasPrefix(kind, "https://slsa.dev/provenance/") {
					provenance = append(provenance, sts...)
				}
			}
			if len(provenance) != 1 {
				t.Fatalf("%d provenance statements, want 1", len(provenance))
			}
			dt, _ := json.Marshal(provenance[0]["predicate"])
			text := string(dt)
			// SLSA v1: buildDefinition.externalParameters.configSource.path;
			// v0.2: invocation.configSource.entryPoint.
			if !strings.Contains(text, `"path":"build.toml"`) && !strings.Contains(text, `"entryPoint":"build.toml"`) {
				t.Errorf("the provenance does not name build.toml as the config source:\n%s", text)
			}
			if hasLLB := strings.Contains(text, `"llbDefinition"`) || strings.Contains(text, `"buildConfig"`); hasLLB != (mode == "max") {
				t.Errorf("mode=%s: the frontend's LLB in the provenance: %v", mode, hasLLB)
			}
		})
	}
}

// sboms are the SPDX documents of an image store's attestations: by document
// name ("sbom" for the image's, "sbom-NAME" for a stage's or the context's),
// the names of the packages in each.
func (s imageStore) sboms(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, st := range s.attestations(t)["https://spdx.dev/Document"] {
		pred, _ := st["predicate"].(map[string]any)
		name, _ := pred["name"].(string)
		pkgs, _ := pred["packages"].([]any)
		names := []string{}
		for _, p := range pkgs {
			if n, _ := p.(map[string]any)["name"].(string); n != "" {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		out[name] = names
	}
	return out
}

// TestSBOM builds with --sbom=true and --attest type=sbom (the bench's
// docker/buildkit-syft-scanner is scripts/bench/scanner): one SBOM per
// platform; a stage with sbom_scan, or named by BUILDKIT_SBOM_SCAN_STAGE,
// and the context with BUILDKIT_SBOM_SCAN_CONTEXT, scanned as sbom-NAME
// (a Dockerfile reads these args only where it declares them; a spec takes
// them from --build-arg),
// the apt-installed package of the Debian stage found in it; and the same
// SBOMs as the equivalent Dockerfile on the same builder.
func TestSBOM(t *testing.T) {
	needs(t, attestations)
	t.Parallel()
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{
		"build.toml": syntaxLine + `
[stages.build]
from = "debian:bookworm"
sbom_scan = true
[[stages.build.steps]]
run = "apt-get update && apt-get install -y --no-install-recommends hello && cp /usr/bin/hello /hello-bin"
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/hello-bin"]
from = "build"
to = "/hello"
[[stages.final.steps]]
copy = ["notes.txt"]
`,
		"Dockerfile": "FROM debian:bookworm AS build\nARG BUILDKIT_SBOM_SCAN_STAGE=true\nRUN apt-get update && apt-get install -y --no-install-recommends hello && cp /usr/bin/hello /hello-bin\nFROM scratch\nARG BUILDKIT_SBOM_SCAN_CONTEXT\nCOPY --from=build /hello-bin /hello\nCOPY notes.txt /\n",
		"notes.txt":  "notes\n",
	})
	build := func(t *testing.T, file string, args ...string) map[string][]string {
		t.Helper()
		tar := filepath.Join(t.TempDir(), "image.tar")
		mustBuildx(t, dir, append(append([]string{"build", "-f", file, "--provenance=false", "--output", "type=oci,dest=" + tar}, args...), ".")...)
		return readOCITar(t, tar).sboms(t)
	}

	t.Run("stages and context", func(t *testing.T) {
		t.Parallel()
		spec := build(t, "build.toml", "--attest", "type=sbom", "--build-arg", "BUILDKIT_SBOM_SCAN_CONTEXT=true")
		if got := slices.Sorted(maps.Keys(spec)); !reflect.DeepEqual(got, []string{"sbom", "sbom-build", "sbom-context"}) {
			t.Fatalf("SBOMs %v, want the image's, the build stage's and the context's", got)
		}
		if !slices.Contains(spec["sbom-build"], "hello") {
			t.Errorf("the build stage's SBOM lacks the package hello: %v", spec["sbom-build"])
		}
		dockerfile := build(t, "Dockerfile", "--attest", "type=sbom", "--build-arg", "BUILDKIT_SBOM_SCAN_CONTEXT=true")
		if !reflect.DeepEqual(spec, dockerfile) {
			t.Errorf("SBOMs differ from the Dockerfile's:\nspec       %v\nDockerfile %v", spec, dockerfile)
		}
	})
	t.Run("--sbom=true: the target is not an extra", func(t *testing.T) {
		t.Parallel()
		spec := build(t, "build.toml", "--sbom=true", "--target", "build", "--build-arg", "BUILDKIT_SBOM_SCAN_STAGE=build")
		if got := slices.Sorted(maps.Keys(spec)); !reflect.DeepEqual(got, []string{"sbom"}) || !slices.Contains(spec["sbom"], "hello") {
			t.Errorf("SBOMs of the build target: %v", spec)
		}
	})
	t.Run("a generator by name", func(t *testing.T) {
		t.Parallel()
		generator := bench.registry + "/docker/buildkit-syft-scanner:1" // the bench's scanner, by another tag
		spec := build(t, "build.toml", "--attest", "type=sbom,generator="+generator)
		if got := slices.Sorted(maps.Keys(spec)); !reflect.DeepEqual(got, []string{"sbom", "sbom-build"}) {
			t.Errorf("SBOMs with generator=%s: %v", generator, got)
		}
	})
	t.Run("one per platform", func(t *testing.T) {
		t.Parallel()
		mp := writeTree(t, map[string]string{"build.toml": syntaxLine + "[stages.a]\nfrom = \"scratch\"\n[[stages.a.steps]]\ncopy = [\"f.txt\"]\n", "f.txt": "f\n"})
		image := bench.registry + "/e2e/sbom:" + nonce(t)
		mustBuildx(t, mp, "build", "-f", "build.toml", "--provenance=false", "--sbom=true", "--platform", "linux/amd64,linux/arm64",
			"--output", "type=image,name="+image+",push=true", ".")
		pushed := registryImage(t, "e2e/sbom", image[strings.LastIndex(image, ":")+1:])
		var platformsSeen, attestations int
		for _, d := range pushed.manifests(t) {
			if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
				attestations++
				var m ocispecs.Manifest
				pushed.decode(t, d, &m)
				if len(m.Layers) != 1 || m.Layers[0].Annotations["in-toto.io/predicate-type"] != "https://spdx.dev/Document" {
					t.Errorf("attestation %s: layers %+v", d.Digest, m.Layers)
				}
			} else {
				platformsSeen++
			}
		}
		if platformsSeen != 2 || attestations != 2 {
			t.Errorf("%d images and %d attestation manifests, want 2 and 2: %+v", platformsSeen, attestations, pushed.index)
		}
	})
}
