//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

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
	withProvenance := bench.kind.has(attestations) && bench.kind.has(ociExporter)
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
	pushed := registryImage(t, repo, tag)
	if descs := pushed.manifests(t); withProvenance && len(descs) != 2 { // the image and its provenance
		t.Fatalf("pushed index %+v", descs)
	}
	for _, d := range pushed.manifests(t) { // the provenance's manifest is searched too
		var sub ocispecs.Manifest
		pushed.decode(t, d, &sub)
		for _, l := range sub.Layers {
			if l.MediaType == "application/vnd.in-toto+json" {
				prov := pushed.blob(t, l)
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
	m, _ := pushed.image(t)
	cfg := pushed.blob(t, m.Config)
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
		for name, dt := range layerFiles(t, pushed.blob(t, l)) {
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
