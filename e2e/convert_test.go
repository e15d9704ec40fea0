//go:build e2e

package e2e

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// convertCase is a Dockerfile of the corpus: a directory holding it and
// its build context, and the flags both builds take.
type convertCase struct {
	name  string
	dir   string   // the build context
	file  string   // the Dockerfile
	flags []string // buildx flags, {{SECRET}} {{GIT}} replaced
	env   []string
}

// timeDependent are files whose content is the time they were written: a
// step that writes one gives two builds two contents, whatever the
// frontend. The test compares their type, owner and mode only.
var timeDependent = map[string]string{
	"/var/log/dpkg.log":        "dpkg logs the time of each install",
	"/var/log/apt/history.log": "apt logs the start and end time of each run",
	"/var/log/apt/term.log":    "apt logs the time of each run",
}

// TestConvertCorpus converts every Dockerfile of the corpus with `tomlfront
// convert`, builds the Dockerfile and the spec on the same builder, and
// requires the same image: the same files with the same content, owner and
// mode, and the same config.
func TestConvertCorpus(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	bin := goBuildTomlfront(t)
	cases := convertCorpus(t)
	if len(cases) < 30 {
		t.Fatalf("%d Dockerfiles in the corpus, want at least 30", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			specDir := t.TempDir()
			spec := filepath.Join(specDir, "build.toml")
			cmd := command(t, bin, "convert", "-f", c.file, "-o", spec)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("tomlfront convert: %v\n%s", err, out)
			}
			converted := readFile(t, spec)
			if first := strings.SplitN(converted, "\n", 2)[0]; first != strings.TrimSuffix(syntaxLine, "\n") {
				t.Errorf("the spec starts with %q, not the syntax line", first)
			}
			if out, err := command(t, bin, "lint", "-f", spec).CombinedOutput(); err != nil {
				t.Errorf("tomlfront lint on the converted spec: %v\n%s", err, out)
			}
			again := filepath.Join(specDir, "again.toml")
			if out, err := command(t, bin, "convert", "-f", c.file, "-o", again).CombinedOutput(); err != nil || readFile(t, again) != converted {
				t.Errorf("a second conversion differs (%v)\n%s", err, out)
			}
			want := buildBoth(t, c, c.file)
			got := buildBoth(t, c, spec)
			compareImages(t, c, want, got)
			if t.Failed() {
				t.Logf("the converted spec:\n%s", converted)
			}
			// A spec written by hand beside the Dockerfile: the language's
			// own way of saying the same (a file step for a heredoc, ...).
			if written := filepath.Join(c.dir, "build.toml"); exists(t, written) {
				t.Run("written", func(t *testing.T) {
					compareImages(t, c, want, buildBoth(t, c, written))
				})
			}
		})
	}
}

// convertCorpus lists e2e/testdata/convert/*, the Dockerfiles the other
// end-to-end tests use (e2e/testdata/dockerfiles/*), and the project's own.
func convertCorpus(t *testing.T) []convertCase {
	t.Helper()
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("s3cr3t"), 0o600); err != nil {
		t.Fatal(err)
	}
	var git, served string
	var cases []convertCase
	for _, pattern := range []string{"testdata/convert/*/Dockerfile", "testdata/dockerfiles/*/Dockerfile"} {
		files, err := filepath.Glob(filepath.Join(root, "e2e", pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			dir := filepath.Dir(f)
			c := convertCase{name: filepath.Base(dir), dir: dir, file: f}
			if dt, err := os.ReadFile(filepath.Join(dir, "flags")); err == nil {
				for _, flag := range strings.Split(strings.TrimSpace(string(dt)), "\n") {
					if strings.Contains(flag, "{{GIT}}") && git == "" {
						repo := newGitFixture(t)
						git = gitDaemon(t, repo.dir) + "/repo.git#v1.0.0"
					}
					if strings.Contains(flag, "{{HTTP}}") && served == "" {
						srv, _ := fileServer(t, map[string][]byte{"/file.txt": []byte("served\n")})
						served = srv.URL
					}
					flag = strings.NewReplacer("{{SECRET}}", secret, "{{GIT}}", git, "{{HTTP}}", served).Replace(flag)
					c.flags = append(c.flags, flag)
				}
			} else if !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			if c.name == "ssh" {
				sock, _ := startAgent(t)
				c.env = []string{"SSH_AUTH_SOCK=" + sock}
			}
			cases = append(cases, c)
		}
	}
	// The frontend image itself: its go.mod's modules come from the proxy.
	cases = append(cases, convertCase{name: "tomlfront", dir: root, file: filepath.Join(root, "Dockerfile")})
	return cases
}

// exists tells whether path exists.
func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// builtFiles is a flattened image filesystem: each path's type, owner,
// mode, link target and content digest.
type builtFiles map[string]string

type built struct {
	files  builtFiles
	config dockerspec.DockerOCIImageConfig
	author string
}

// The placeholders of a case's flags file: {{SECRET}} a file holding a
// secret, {{GIT}} a repository served by git daemon at a tag, {{HTTP}} a
// loopback server of /file.txt ("served\n").

// buildBoth builds file (a Dockerfile or a spec) in c's context to a tar of
// its filesystem and an OCI layout of its image, in one build.
func buildBoth(t *testing.T, c convertCase, file string) built {
	t.Helper()
	out := t.TempDir()
	fsTar, ociTar := filepath.Join(out, "fs.tar"), filepath.Join(out, "image.tar")
	args := append([]string{"build", "-f", file, "--provenance=false"}, c.flags...)
	buildxOutputs(t, cmdOpt{env: c.env, timeout: defaultTimeout}, c.dir, args, "type=tar,dest="+fsTar, "type=oci,dest="+ociTar)
	layout := readOCITar(t, ociTar)
	m, _ := layout.image(t)
	var img dockerspec.DockerOCIImage
	layout.decode(t, m.Config, &img)
	return built{files: tarIndex(t, fsTar), config: img.Config, author: img.Author}
}

// tarIndex describes every entry of a tar export.
func tarIndex(t *testing.T, path string) builtFiles {
	t.Helper()
	out := builtFiles{}
	walkTarFile(t, path, func(h *tar.Header, content io.Reader) {
		sum := sha256.New()
		if _, err := io.Copy(sum, content); err != nil {
			t.Fatal(err)
		}
		name := "/" + strings.Trim(filepath.Clean(h.Name), "/")
		out[name] = fmt.Sprintf("type %c owner %d:%d mode %o link %q sha256 %s", h.Typeflag, h.Uid, h.Gid, h.Mode&0o7777, h.Linkname, hex.EncodeToString(sum.Sum(nil))[:16])
	})
	return out
}

func compareImages(t *testing.T, c convertCase, want, got built) {
	t.Helper()
	for name, w := range want.files {
		g, ok := got.files[name]
		if _, timed := timeDependent[name]; timed { // compare all but the content
			w, _, _ = strings.Cut(w, " sha256 ")
			g, _, _ = strings.Cut(g, " sha256 ")
		}
		if !ok {
			t.Errorf("%s: in the Dockerfile's image only (%s)", name, w)
		} else if g != w {
			t.Errorf("%s: Dockerfile %s, spec %s", name, w, g)
		}
	}
	for name, g := range got.files {
		if _, ok := want.files[name]; !ok {
			t.Errorf("%s: in the spec's image only (%s)", name, g)
		}
	}
	w, g := want.config, got.config
	for _, f := range []struct {
		field     string
		want, got any
	}{
		{"env", w.Env, g.Env}, {"entrypoint", w.Entrypoint, g.Entrypoint}, {"cmd", w.Cmd, g.Cmd},
		{"workdir", w.WorkingDir, g.WorkingDir}, {"user", w.User, g.User}, {"exposed ports", w.ExposedPorts, g.ExposedPorts},
		{"volumes", w.Volumes, g.Volumes}, {"labels", w.Labels, g.Labels}, {"healthcheck", w.Healthcheck, g.Healthcheck},
		{"stop signal", w.StopSignal, g.StopSignal}, {"shell", w.Shell, g.Shell}, {"onbuild", w.OnBuild, g.OnBuild},
		{"author", want.author, got.author},
	} {
		if !reflect.DeepEqual(f.want, f.got) {
			t.Errorf("config %s: Dockerfile %v, spec %v", f.field, f.want, f.got)
		}
	}
}
