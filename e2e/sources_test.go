//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/errdefs"
)

// The tests of this file build `add` steps from http(s) URLs, git
// repositories and local archives, and a `copy` with `link = true`, and
// check what lands in the image. The servers they fetch from run in the test
// on 127.0.0.1: the bench's buildkitd uses the host's network, so it reaches
// them.

// TestSourcesAddHTTP serves a file and a tar.gz from a loopback HTTP server
// and adds them: a URL is downloaded as a file named after its path, not
// unpacked unless `unpack = true`, and the checksum is verified.
func TestSourcesAddHTTP(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 5*time.Minute)
	token := nonce(t)
	hello := []byte("hello over http " + token + "\n")
	bundle := tarGz(t, map[string]string{
		"a.txt":     "a " + token + "\n",
		"sub/b.txt": "b " + token + "\n",
	})
	srv, hits := fileServer(t, map[string][]byte{
		"/files/hello.txt":     hello,
		"/files/bundle.tar.gz": bundle,
	})

	dir := writeTree(t, map[string]string{
		"build.toml": fmt.Sprintf(`
[stages.dl]
from = "scratch"

[[stages.dl.steps]]
add = "%[1]s/files/hello.txt"
checksum = "%[2]s"
to = "/dl/hello.txt"

[[stages.dl.steps]]
add = "%[1]s/files/hello.txt"
to = "/into/"

[[stages.dl.steps]]
add = "%[1]s/files/bundle.tar.gz"
checksum = "%[3]s"
to = "/packed/"

[[stages.dl.steps]]
add = "%[1]s/files/bundle.tar.gz"
unpack = true
to = "/unpacked/"
`, srv.URL, sha256Digest(hello), sha256Digest(bundle)),
	})
	exp, out := localExport(t)
	mustSolve(ctx, t, solveOpt{dir: dir, exports: []client.ExportEntry{exp}})

	if got := readFile(t, filepath.Join(out, "dl/hello.txt")); got != string(hello) {
		t.Errorf("/dl/hello.txt = %q, want %q", got, hello)
	}
	if got := readFile(t, filepath.Join(out, "into/hello.txt")); got != string(hello) {
		t.Errorf("/into/hello.txt (to a directory: named after the URL) = %q, want %q", got, hello)
	}
	// A URL is not unpacked by default, as ADD does: the archive is a file.
	if got := readFile(t, filepath.Join(out, "packed/bundle.tar.gz")); got != string(bundle) {
		t.Errorf("/packed/bundle.tar.gz is not the served archive (%d bytes, want %d)", len(got), len(bundle))
	}
	if _, err := os.Stat(filepath.Join(out, "packed/a.txt")); err == nil {
		t.Errorf("the archive was unpacked into /packed/ without unpack = true")
	}
	// unpack = true: its content lands in /unpacked/, and the archive does not.
	for name, want := range map[string]string{"a.txt": "a " + token + "\n", "sub/b.txt": "b " + token + "\n"} {
		if got, err := os.ReadFile(filepath.Join(out, "unpacked", name)); err != nil || string(got) != want {
			t.Errorf("/unpacked/%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "unpacked/bundle.tar.gz")); err == nil {
		t.Errorf("unpack = true left the archive itself in /unpacked/")
	}
	if h := hits(); h["/files/hello.txt"] == 0 || h["/files/bundle.tar.gz"] == 0 {
		t.Errorf("buildkitd did not fetch from the test server: %v", h)
	}
}

// TestSourcesAddHTTPWrongChecksum adds a URL with a wrong checksum through
// buildx and the `# syntax=` line: the build fails, the error names the
// expected and the actual digests, and buildx shows the step's TOML.
func TestSourcesAddHTTPWrongChecksum(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	content := []byte("checksummed " + nonce(t) + "\n")
	srv, _ := fileServer(t, map[string][]byte{"/files/tool.bin": content})
	wrong := sha256Digest([]byte("something else"))
	url := srv.URL + "/files/tool.bin"
	dir := writeTree(t, map[string]string{
		"build.toml": fmt.Sprintf(`# syntax=ghcr.io/tomlfront/tomlfront:1
[stages.a]
from = "scratch"

[[stages.a.steps]]
add = "%s"
checksum = "%s"
to = "/dl/"
`, url, wrong),
	})
	out, err := buildx(dir, "build", "-f", "build.toml", "--no-cache", ".")
	if err == nil {
		t.Fatalf("the build succeeded with a wrong checksum:\n%s", out)
	}
	for _, w := range []string{
		wrong,                 // expected
		sha256Digest(content), // actual
		"digest mismatch",     // what happened
		"build.toml:5",        // where
		"5 | >>> [[stages.a.steps]]",
		fmt.Sprintf(`6 | >>> add = "%s"`, url),
		fmt.Sprintf(`7 | >>> checksum = "%s"`, wrong),
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("buildx output:\n%s", out)
	}
}

// TestSourcesAddGit serves a repository with `git daemon` on loopback and
// adds it at a tag, a branch, a commit and its default branch, with and
// without its .git directory, and with the right commit as checksum.
func TestSourcesAddGit(t *testing.T) {
	t.Parallel()
	needs(t, gitSources)
	ctx := timeout(t, 5*time.Minute)
	repo := newGitFixture(t)
	base := gitDaemon(t, repo.dir)
	url := base + "/repo.git"

	dir := writeTree(t, map[string]string{
		"build.toml": fmt.Sprintf(`
[stages.src]
from = "scratch"

[[stages.src.steps]]
add = "%[1]s#v1.0.0"
to = "/tag/"

[[stages.src.steps]]
add = "%[1]s#feature"
to = "/branch/"

[[stages.src.steps]]
add = "%[1]s#%[2]s"
to = "/commit/"

[[stages.src.steps]]
add = "%[1]s"
to = "/default/"

[[stages.src.steps]]
add = "%[1]s#v1.0.0"
keep_git_dir = true
to = "/withgit/"

[[stages.src.steps]]
add = "%[1]s#v1.0.0"
checksum = "%[3]s"
to = "/checked/"
`, url, repo.main, repo.tagged),
	})
	exp, out := localExport(t)
	mustSolve(ctx, t, solveOpt{dir: dir, exports: []client.ExportEntry{exp}})

	for _, c := range []struct {
		dir, version string
		feature      bool
	}{
		{"tag", "one " + repo.token, false},
		{"branch", "three " + repo.token, true},
		{"commit", "two " + repo.token, false},
		{"default", "two " + repo.token, false},
		{"withgit", "one " + repo.token, false},
		{"checked", "one " + repo.token, false},
	} {
		if got, err := os.ReadFile(filepath.Join(out, c.dir, "version.txt")); err != nil || strings.TrimSpace(string(got)) != c.version {
			t.Errorf("/%s/version.txt = %q, %v; want %q", c.dir, got, err, c.version)
		}
		if _, err := os.Stat(filepath.Join(out, c.dir, "feature.txt")); (err == nil) != c.feature {
			t.Errorf("/%s/feature.txt exists: %v, want %v", c.dir, err == nil, c.feature)
		}
		if _, err := os.Stat(filepath.Join(out, c.dir, "nested/deep.txt")); err != nil {
			t.Errorf("/%s: the repository's subdirectory is missing: %v", c.dir, err)
		}
		_, err := os.Stat(filepath.Join(out, c.dir, ".git"))
		if want := c.dir == "withgit"; (err == nil) != want {
			t.Errorf("/%s/.git exists: %v, want %v", c.dir, err == nil, want)
		}
	}
	// The kept .git is a real repository at the tag's commit.
	if head, err := command(t, "git", "-C", filepath.Join(out, "withgit"), "rev-parse", "HEAD").Output(); err != nil || strings.TrimSpace(string(head)) != repo.tagged {
		t.Errorf("git rev-parse HEAD in /withgit = %q, %v; want %s", head, err, repo.tagged)
	}
}

// TestSourcesAddGitWrongChecksum adds a tag with the checksum of another
// commit: the build fails, names the expected commit, and, as for any
// failing step, points at the step's TOML, which buildx prints.
func TestSourcesAddGitWrongChecksum(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 5*time.Minute)
	repo := newGitFixture(t)
	url := gitDaemon(t, repo.dir) + "/repo.git"
	bad := writeTree(t, map[string]string{
		"build.toml": fmt.Sprintf(`
[stages.src]
from = "scratch"

[[stages.src.steps]]
add = "%s#v1.0.0"
checksum = "%s"
to = "/checked/"
`, url, repo.main),
	})
	progress, err := solve(ctx, solveOpt{dir: bad})
	if err == nil {
		t.Fatalf("adding v1.0.0 with the checksum of another commit succeeded:\n%s", progress)
	}
	if !strings.Contains(err.Error(), repo.main) || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("the error does not name the expected commit %s: %v", repo.main, err)
	}
	// Line 5 is the step's [[stages.src.steps]].
	checkErrorSource(t, err, 5)
}

// checkErrorSource checks that a build error carries the location of the
// step in build.toml that starts at line, as BuildKit's source maps do.
func checkErrorSource(t *testing.T, err error, line int32) {
	t.Helper()
	var got []string
	for _, src := range errdefs.Sources(err) {
		for _, r := range src.Ranges {
			if src.Info.Filename == "build.toml" && r.Start.Line == line {
				return
			}
			got = append(got, fmt.Sprintf("%s:%d-%d", src.Info.Filename, r.Start.Line, r.End.Line))
		}
	}
	t.Errorf("the error carries no location of the step at build.toml:%d (locations: %v): %v", line, got, err)
}

// TestSourcesAddLocalArchive adds files of the build context: a tar.gz is
// unpacked at `to` by default, copied as a file with `unpack = false`, and
// a file that is not an archive (even named like one) is copied as is.
func TestSourcesAddLocalArchive(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 5*time.Minute)
	token := nonce(t)
	bundle := tarGz(t, map[string]string{
		"lib/x.txt": "x " + token + "\n",
		"y.txt":     "y " + token + "\n",
	})
	dir := writeTree(t, map[string]string{
		"build.toml": `
[stages.a]
from = "scratch"

[[stages.a.steps]]
add = "vendor.tar.gz"
to = "/opt/vendor/"

[[stages.a.steps]]
add = "vendor.tar.gz"
unpack = false
to = "/packed/"

[[stages.a.steps]]
add = ["plain.txt", "fake.tar.gz"]
to = "/plain/"
`,
		"vendor.tar.gz": string(bundle),
		"plain.txt":     "plain " + token + "\n",
		"fake.tar.gz":   "not an archive " + token + "\n",
	})
	exp, out := localExport(t)
	mustSolve(ctx, t, solveOpt{dir: dir, exports: []client.ExportEntry{exp}})

	for name, want := range map[string]string{"lib/x.txt": "x " + token + "\n", "y.txt": "y " + token + "\n"} {
		if got, err := os.ReadFile(filepath.Join(out, "opt/vendor", name)); err != nil || string(got) != want {
			t.Errorf("/opt/vendor/%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "opt/vendor/vendor.tar.gz")); err == nil {
		t.Errorf("the local archive was copied, not only unpacked, into /opt/vendor/")
	}
	if got := readFile(t, filepath.Join(out, "packed/vendor.tar.gz")); got != string(bundle) {
		t.Errorf("unpack = false: /packed/vendor.tar.gz is not the archive (%d bytes, want %d)", len(got), len(bundle))
	}
	if _, err := os.Stat(filepath.Join(out, "packed/y.txt")); err == nil {
		t.Errorf("unpack = false: the archive was unpacked into /packed/")
	}
	if got := readFile(t, filepath.Join(out, "plain/plain.txt")); got != "plain "+token+"\n" {
		t.Errorf("/plain/plain.txt = %q", got)
	}
	if got := readFile(t, filepath.Join(out, "plain/fake.tar.gz")); got != "not an archive "+token+"\n" {
		t.Errorf("/plain/fake.tar.gz = %q", got)
	}
}

// TestSourcesCopyLink checks what `link = true` is for: when the base image
// changes, the linked copy's layer is reused (CACHED) while a copy without
// link, in the same situation, runs again. The steps after both copies run
// again on the new base. A Docker Engine on the graphdriver store has no
// MergeOp: there the linked copy is a plain copy, which builds the same
// files and runs again like the other.
func TestSourcesCopyLink(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 8*time.Minute)
	token := nonce(t)
	baseRef := bench.registry + "/linktest/base:1"
	pushBase := func(content string) {
		t.Helper()
		dir := writeTree(t, map[string]string{
			"Dockerfile": readFile(t, filepath.Join(root, "e2e", "testdata", "dockerfiles", "link-base", "Dockerfile")),
			"base.txt":   content,
		})
		mustBuildx(t, dir, "build", "--provenance=false", "--output", "type=image,name="+baseRef+",push=true", ".")
	}
	// The spec has a stage with a linked copy and one with a plain copy, on
	// the same base; the final stage collects what their run steps saw.
	dir := writeTree(t, map[string]string{
		"build.toml": fmt.Sprintf(`
[stages.linked]
from = "%[1]s"

[[stages.linked.steps]]
copy = "linked.txt"
to = "/ctx/"
link = true

[[stages.linked.steps]]
run = "cat /base.txt /ctx/linked.txt > /seen"

[stages.plain]
from = "%[1]s"

[[stages.plain.steps]]
copy = "plain.txt"
to = "/ctx/"

[[stages.plain.steps]]
run = "cat /base.txt /ctx/plain.txt > /seen"

[stages.out]
from = "scratch"

[[stages.out.steps]]
copy = "/seen"
from = "linked"
to = "/linked"

[[stages.out.steps]]
copy = "/seen"
from = "plain"
to = "/plain"
`, baseRef),
		"linked.txt": "linked " + token + "\n",
		"plain.txt":  "plain " + token + "\n",
	})
	const (
		linkedCopy = "[linked 1/2] copy linked.txt /ctx/"
		plainCopy  = "[plain 1/2] copy plain.txt /ctx/"
		linkedRun  = "[linked 2/2] run"
		plainRun   = "[plain 2/2] run"
	)
	build := func(baseContent string) *buildLog {
		t.Helper()
		exp, out := localExport(t)
		progress := mustSolveLog(ctx, t, solveOpt{dir: dir, exports: []client.ExportEntry{exp}})
		for _, f := range []string{"linked", "plain"} {
			want := baseContent + f + " " + token + "\n"
			if got := readFile(t, filepath.Join(out, f)); got != want {
				t.Errorf("/%s = %q, want %q (the base image in use is not the one pushed last)", f, got, want)
			}
		}
		return progress
	}

	pushBase("base one " + token + "\n")
	first := build("base one " + token + "\n")
	for _, name := range []string{linkedCopy, plainCopy} {
		if first.cached(t, name) {
			t.Errorf("first build: %q is CACHED, but its content is new", name)
		}
	}

	pushBase("base two " + token + "\n") // a different base under the same tag
	second := build("base two " + token + "\n")
	switch linkReused := second.cached(t, linkedCopy); {
	case !bench.kind.has(mergeOp) && linkReused:
		t.Errorf("%q is CACHED after the base changed, on a builder without MergeOp: the copy was not the plain copy it falls back to", linkedCopy)
	case bench.kind.has(mergeOp) && !linkReused:
		t.Errorf("%q ran again after the base changed: link = true should reuse its layer", linkedCopy)
	}
	if second.cached(t, plainCopy) {
		t.Errorf("%q is CACHED after the base changed, so the base did not change (the test proves nothing)", plainCopy)
	}
	for _, name := range []string{linkedRun, plainRun} {
		if second.cached(t, name) {
			t.Errorf("%q is CACHED after the base changed", name)
		}
	}
	if t.Failed() {
		t.Logf("first build:\n%s\nsecond build:\n%s", first.text, second.text)
	}
}
