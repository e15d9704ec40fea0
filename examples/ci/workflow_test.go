package ci

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

var update = flag.Bool("update", false, "rewrite the copies in docs/ci.md from the files")

const workflow = "github-actions.yml"

// TestActionlint: the workflow passes actionlint, with its shellcheck rule
// over the run scripts when shellcheck is installed (scripts/test.sh unit
// installs it).
func TestActionlint(t *testing.T) {
	content, err := os.ReadFile(workflow)
	if err != nil {
		t.Fatal(err)
	}
	var opts actionlint.LinterOptions
	if path, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = path
	} else {
		t.Log("no shellcheck: actionlint does not check the run scripts")
	}
	var out bytes.Buffer
	linter, err := actionlint.NewLinter(&out, &opts)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := linter.Lint(workflow, content, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("actionlint: %d problems in %s:\n%s", len(errs), workflow, out.String())
	}
}

// TestDocsShowTheFiles: docs/ci.md shows the workflow and the spec it
// builds as they are, each in the fenced block after its marker line.
func TestDocsShowTheFiles(t *testing.T) {
	docPath := filepath.Join("..", "..", "docs", "ci.md")
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, file := range []string{"examples/ci/" + workflow, "examples/go-app/build.toml"} {
		content, err := os.ReadFile(filepath.Join("..", "..", file))
		if err != nil {
			t.Fatal(err)
		}
		shown, err := replaceIncluded(text, file, string(content))
		if err != nil {
			t.Fatalf("%s: %v", docPath, err)
		}
		if shown != text && !*update {
			t.Errorf("%s does not show %s as it is: run go test ./examples/ci -update", docPath, file)
		}
		text = shown
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// replaceIncluded returns doc with the fenced block after file's marker
// line replaced by content.
func replaceIncluded(doc, file, content string) (string, error) {
	marker := "<!-- " + file + ": included by `go test ./examples/ci -update`; do not edit -->\n"
	start := strings.Index(doc, marker)
	if start < 0 {
		return "", fmt.Errorf("no line %q", strings.TrimSpace(marker))
	}
	start += len(marker)
	open := strings.IndexByte(doc[start:], '\n')
	if open < 0 || !strings.HasPrefix(doc[start:], "```") {
		return "", fmt.Errorf("no fenced block after the marker of %s", file)
	}
	body := start + open + 1
	end := strings.Index("\n"+doc[body:], "\n```\n") // the closing fence's offset from body
	if end < 0 {
		return "", fmt.Errorf("the block of %s does not end", file)
	}
	return doc[:body] + content + doc[body+end:], nil
}
