//go:build e2e

package e2e

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestSourceDateEpoch: --build-arg SOURCE_DATE_EPOCH as the Dockerfile
// frontend resolves it (seconds; a named context; a stage from scratch that
// adds one git source), compared with a Dockerfile on the same builder: the
// image's created time is the epoch, both ways.
func TestSourceDateEpoch(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	repo := newGitFixture(t)
	url := gitDaemon(t, repo.dir) + "/repo.git#v1.0.0"
	committed := gitIn(t, filepath.Join(repo.dir, "repo.git"))("show", "-s", "--format=%ct", repo.tagged)
	dir := writeTree(t, map[string]string{
		"Dockerfile": "FROM scratch AS src\nADD " + url + " /\nFROM busybox:1.36\nRUN echo built > /built\n",
		"build.toml": syntaxLine + `
default = "app"
[stages.src]
from = "scratch"
[[stages.src.steps]]
add = "` + url + `"
to = "/"
[stages.app]
from = "busybox:1.36"
[[stages.app.steps]]
run = "echo built > /built"
`,
	})
	for _, tc := range []struct {
		name  string
		flags []string
		want  string // seconds
	}{
		{"seconds", []string{"--build-arg", "SOURCE_DATE_EPOCH=1700000000"}, "1700000000"},
		{"a stage adding a git source", []string{"--build-arg", "SOURCE_DATE_EPOCH=src"}, committed},
		{"a named context", []string{"--build-arg", "SOURCE_DATE_EPOCH=repo", "--build-context", "repo=" + url}, committed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec, err := strconv.ParseInt(tc.want, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			want := time.Unix(sec, 0).UTC()
			for _, file := range []string{"Dockerfile", "build.toml"} {
				oci := filepath.Join(t.TempDir(), "image.tar")
				args := append([]string{"build", "-f", file, "--provenance=false"}, tc.flags...)
				buildxOutputs(t, cmdOpt{}, dir, args, "type=oci,dest="+oci)
				if _, img := readOCITar(t, oci).image(t); img.Created == nil || !img.Created.Equal(want) {
					t.Errorf("%s: the image was created at %v, want %v (SOURCE_DATE_EPOCH %s)", file, img.Created, want, tc.flags)
				}
			}
		})
	}
}
