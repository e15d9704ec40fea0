//go:build e2e

package e2e

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
			src := readFile(t, file)
			if got := gitBlobID([]byte(src)); got != e.blob {
				t.Fatalf("%s is not the file of %s@%s:%s (blob %s, want %s)", file, e.repository, e.commit, e.path, got, e.blob)
			}
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
			for _, a := range e.buildArgs {
				lint = append(lint, "--build-arg", a)
			}
			if out, err := command(t, bin, lint...).CombinedOutput(); err != nil {
				t.Fatalf("tomlfront lint on the converted spec: %v\n%s", err, out)
			}
			if !e.build {
				return
			}
			buildFrontendImage(t)
			c := convertCase{name: e.name, dir: filepath.Dir(file), file: file}
			for _, a := range e.buildArgs {
				c.flags = append(c.flags, "--build-arg", a)
			}
			compareImages(t, c, buildBoth(t, c, file), buildBoth(t, c, spec))
		})
	}
}

var onbuild = regexp.MustCompile(`(?im)^\s*ONBUILD\s`)

// readCorpus reads the manifest: a header line, then one tab-separated
// line per Dockerfile.
func readCorpus(t *testing.T, path string) []corpusEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entries []corpusEntry
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 8 {
			t.Fatalf("%s:%d: %d columns, want 8 (name, repository, path, commit, language, blob, build_args, build)", path, line, len(cols))
		}
		e := corpusEntry{name: cols[0], repository: cols[1], path: cols[2], commit: cols[3], language: cols[4], blob: cols[5], build: cols[7] == "yes"}
		if cols[6] != "" {
			e.buildArgs = strings.Fields(cols[6])
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return entries
}

// gitBlobID is the id git gives a file's content, as git hash-object does.
func gitBlobID(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}
