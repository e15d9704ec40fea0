//go:build e2e

package e2e

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// corpusEntry is a line of e2e/testdata/corpus/SOURCES.tsv: a Dockerfile
// of a public project, where it comes from, and how it is checked.
type corpusEntry struct {
	name, repository, path, commit, language string
	blob                                     string   // its git blob id: the file unchanged
	buildArgs                                []string // NAME=VALUE its build needs (FROM ${FROM})
	build                                    bool     // its base images and downloads are reachable from the bench
}

// TestConvertPublicCorpus converts the Dockerfiles of public projects that
// e2e/testdata/corpus/SOURCES.tsv lists: each must convert (but those with
// ONBUILD, which a spec has no equivalent for) and pass tomlfront lint, and
// those the bench can build must build the same image both ways.
//
// The Dockerfiles themselves are not in this repository: third-party files
// stay out of its commits. Put each at e2e/testdata/corpus/NAME/Dockerfile,
// taken from the repository, path and commit the manifest gives; the test
// checks each is unchanged by its git blob id, and is skipped when none is
// there (docs/convert.md).
func TestConvertPublicCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(root, "e2e", "testdata", "corpus")
	entries := readCorpus(t, filepath.Join(dir, "SOURCES.tsv"))
	var missing []string
	for _, e := range entries {
		if !exists(t, filepath.Join(dir, e.name, "Dockerfile")) {
			missing = append(missing, e.name)
		}
	}
	switch {
	case len(missing) == len(entries):
		t.Skipf("none of the %d public Dockerfiles of e2e/testdata/corpus/SOURCES.tsv is on this machine (they are not redistributed here): put each at e2e/testdata/corpus/NAME/Dockerfile", len(entries))
	case len(missing) > 0:
		t.Fatalf("the corpus lacks %d of its Dockerfiles: %s", len(missing), strings.Join(missing, ", "))
	}
	bin := goBuildTomlfront(t)
	for _, e := range entries {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(dir, e.name, "Dockerfile")
			if got := gitBlobID([]byte(readFile(t, file))); got != e.blob {
				t.Fatalf("%s is not the file of %s@%s:%s (blob %s, want %s)", file, e.repository, e.commit, e.path, got, e.blob)
			}
			checkPublicDockerfile(t, bin, e.name, file, e.buildArgs, e.build)
		})
	}
}

// TestConvertModuleCorpus is TestConvertPublicCorpus on the Dockerfiles
// that e2e/testdata/corpus/MODULES.tsv lists in Go modules: Docker's own
// projects (BuildKit, buildx, moby, the CLI, containerd, distribution) and
// others the project builds its tools from (syft's image fixtures, of many
// languages and distributions). Each comes, unchanged, from the module
// version the manifest names, through the Go module proxy, whose checksum
// database vouches for the content: the machines that run the tests reach
// it, and nothing third-party is kept in this repository.
func TestConvertModuleCorpus(t *testing.T) {
	t.Parallel()
	entries := readModuleCorpus(t, filepath.Join(root, "e2e", "testdata", "corpus", "MODULES.tsv"))
	if len(entries) < 60 {
		t.Fatalf("%d Dockerfiles in MODULES.tsv, want at least 60", len(entries))
	}
	dirs := map[string]string{} // module@version: its directory in the module cache
	for _, e := range entries {
		mv := e.module + "@" + e.version
		if _, ok := dirs[mv]; !ok {
			dirs[mv] = moduleDir(t, mv)
		}
	}
	bin := goBuildTomlfront(t)
	for _, e := range entries {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(dirs[e.module+"@"+e.version], filepath.FromSlash(e.path))
			if e.refused {
				checkRefused(t, bin, file)
				return
			}
			checkPublicDockerfile(t, bin, e.name, file, e.buildArgs, e.build)
		})
	}
}

// checkPublicDockerfile converts file, a Dockerfile of a public project:
// it must convert (but with ONBUILD, which a spec has no equivalent for,
// it must be refused at that line) and pass tomlfront lint with buildArgs;
// when build is set, the Dockerfile and its spec must build the same image
// (its directory is the context).
func checkPublicDockerfile(t *testing.T, bin, name, file string, buildArgs []string, build bool) {
	t.Helper()
	src := readFile(t, file)
	spec := filepath.Join(t.TempDir(), "build.toml")
	out, err := command(t, bin, "convert", "-f", file, "-o", spec).CombinedOutput()
	if onbuild.MatchString(src) {
		if err == nil || !strings.Contains(string(out), "ONBUILD has no equivalent") {
			t.Errorf("a Dockerfile with ONBUILD converted (%v):\n%s", err, out)
		}
		return
	}
	if err != nil {
		t.Fatalf("tomlfront convert: %v\n%s", err, out)
	}
	lint := []string{"lint", "-f", spec}
	for _, a := range buildArgs {
		lint = append(lint, "--build-arg", a)
	}
	if out, err := command(t, bin, lint...).CombinedOutput(); err != nil {
		t.Fatalf("tomlfront lint on the converted spec: %v\n%s", err, out)
	}
	if !build {
		return
	}
	buildFrontendImage(t)
	c := convertCase{name: name, dir: filepath.Dir(file), file: file}
	for _, a := range buildArgs {
		c.flags = append(c.flags, "--build-arg", a)
	}
	compareImages(t, c, buildBoth(t, c, file), buildBoth(t, c, spec))
}

// checkRefused converts file, a Dockerfile that BuildKit refuses too (a
// malformed test fixture): convert must refuse it, naming the line.
func checkRefused(t *testing.T, bin, file string) {
	t.Helper()
	out, err := command(t, bin, "convert", "-f", file, "-o", filepath.Join(t.TempDir(), "build.toml")).CombinedOutput()
	if err == nil || !regexp.MustCompile(regexp.QuoteMeta(file)+`:\d+|line \d+`).Match(out) {
		t.Errorf("tomlfront convert of a Dockerfile BuildKit refuses: %v, want an error at its line\n%s", err, out)
	}
}

// moduleEntry is a line of e2e/testdata/corpus/MODULES.tsv: a Dockerfile
// at path in a Go module's version (the version's tag, or a pseudo-version's
// hash, names its commit). Its build column says yes (the bench builds it
// both ways), refused (BuildKit refuses it, and convert must too), or
// nothing.
type moduleEntry struct {
	name, module, version, path, language string
	buildArgs                             []string
	build, refused                        bool
}

func readModuleCorpus(t *testing.T, path string) []moduleEntry {
	t.Helper()
	var entries []moduleEntry
	for _, row := range readTSV(t, path, "name, module, version, path, language, build_args, build") {
		cols := row.cols
		if cols[0] == "" || cols[1] == "" || cols[2] == "" || cols[3] == "" {
			t.Fatalf("%s:%d: name, module, version and path are required", path, row.line)
		}
		if !slices.Contains([]string{"", "yes", "refused"}, cols[6]) {
			t.Fatalf("%s:%d: build is %q: yes, refused or nothing", path, row.line, cols[6])
		}
		entries = append(entries, moduleEntry{name: cols[0], module: cols[1], version: cols[2], path: cols[3], language: cols[4],
			buildArgs: strings.Fields(cols[5]), build: cols[6] == "yes", refused: cols[6] == "refused"})
	}
	return entries
}

// moduleDir downloads a module version (module@version) through the Go
// module proxy, unless the module cache has it, and returns its directory.
func moduleDir(t *testing.T, moduleVersion string) string {
	t.Helper()
	cmd := command(t, "go", "mod", "download", "-json", moduleVersion)
	cmd.Dir = t.TempDir() // outside any module: nothing's go.sum changes
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var m struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &m); err != nil || jerr != nil || m.Error != "" || m.Dir == "" {
		t.Fatalf("go mod download %s: %v %v %s\n%s", moduleVersion, err, jerr, m.Error, out)
	}
	return m.Dir
}

var onbuild = regexp.MustCompile(`(?im)^\s*ONBUILD\s`)

// readCorpus reads SOURCES.tsv.
func readCorpus(t *testing.T, path string) []corpusEntry {
	t.Helper()
	var entries []corpusEntry
	for _, row := range readTSV(t, path, "name, repository, path, commit, language, blob, build_args, build") {
		cols := row.cols
		entries = append(entries, corpusEntry{name: cols[0], repository: cols[1], path: cols[2], commit: cols[3], language: cols[4], blob: cols[5],
			buildArgs: strings.Fields(cols[6]), build: cols[7] == "yes"})
	}
	return entries
}

// tsvRow is a line of a manifest: its number, and its columns.
type tsvRow struct {
	line int
	cols []string
}

// readTSV reads a manifest: a header line, then one tab-separated line per
// entry, each with the columns header names.
func readTSV(t *testing.T, path, header string) []tsvRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := len(strings.Split(header, ", "))
	var rows []tsvRow
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != want {
			t.Fatalf("%s:%d: %d columns, want %d (%s)", path, line, len(cols), want, header)
		}
		rows = append(rows, tsvRow{line, cols})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// gitBlobID is the id git gives a file's content, as git hash-object does.
func gitBlobID(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}
