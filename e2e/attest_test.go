//go:build e2e

package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// attestations are the in-toto statements an OCI layout holds for its
// images, by predicate type.
func (l ociLayout) attestations(t *testing.T) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	descs := l.index.Manifests
	if len(descs) == 1 && descs[0].MediaType == ocispecs.MediaTypeImageIndex {
		var idx ocispecs.Index
		if err := json.Unmarshal(l.blobs[descs[0].Digest.String()], &idx); err != nil {
			t.Fatal(err)
		}
		descs = idx.Manifests
	}
	for _, d := range descs {
		if d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
			continue
		}
		var m ocispecs.Manifest
		if err := json.Unmarshal(l.blobs[d.Digest.String()], &m); err != nil {
			t.Fatal(err)
		}
		for _, layer := range m.Layers {
			var st map[string]any
			if err := json.Unmarshal(l.blobs[layer.Digest.String()], &st); err != nil {
				t.Fatalf("attestation %s: %v", layer.Digest, err)
			}
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
	skipOn(t, func(k builderKind) bool { return k.graphdriver() }, "the graphdriver store has no attestations")
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
