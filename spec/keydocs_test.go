package spec

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated key index of docs/spec.md")

const (
	referencePath  = "../docs/spec.md"
	keyIndexBegin  = "<!-- key index: generated from spec/schema.go by `go test ./spec -run TestKeyIndex -update`; do not edit -->\n"
	keyIndexFinish = "<!-- end of the key index -->\n"
)

// TestKeyIndex: the key index of docs/spec.md is the one the schema's
// tables render.
func TestKeyIndex(t *testing.T) {
	doc, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := bytes.Cut(doc, []byte(keyIndexBegin))
	_, after, ok2 := bytes.Cut(rest, []byte(keyIndexFinish))
	if !ok1 || !ok2 {
		t.Fatalf("%s has no key index between %q and %q", referencePath, keyIndexBegin, keyIndexFinish)
	}
	want := keyIndexBegin + "\n" + keyIndex() + keyIndexFinish
	got := string(doc[len(before) : len(doc)-len(after)])
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(referencePath, []byte(string(before)+want+string(after)), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the key index of %s is not the schema's: run go test ./spec -run TestKeyIndex -update", referencePath)
}

// TestReferenceTables: the hand-written tables of docs/spec.md, which add
// the Dockerfile's equivalent and the details, name only keys the decoder
// takes, with the type and the default the schema gives them.
func TestReferenceTables(t *testing.T) {
	// The tables of each section, in order, by the schema table they show.
	sections := map[string][]string{
		"## Top level": {"spec"}, "## `[stages.NAME]`": {"stage"}, "### `run`": {"step"}, "### `copy`": {"step"},
		"### `add`": {"step"}, "### `file`": {"step"}, "## Mounts": {"", "mount"}, "## `[stages.NAME.image]`": {"image", "healthcheck"},
		"### `[caches.NAME]`": {"cache"},
	}
	tables := schemaTables()
	f, err := os.Open(referencePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		heading string
		nth     int
		table   string
		columns []string
		seen    = map[string]bool{}
		code    = regexp.MustCompile("`([^`]*)`")
		inIndex bool
	)
	sc := bufio.NewScanner(f)
	for line := 0; sc.Scan(); line++ {
		text := sc.Text()
		switch {
		case text+"\n" == keyIndexBegin:
			inIndex = true
		case text+"\n" == keyIndexFinish:
			inIndex = false
		case inIndex:
		case strings.HasPrefix(text, "#"):
			heading, nth, table = text, 0, ""
		case strings.HasPrefix(text, "| key |") || strings.HasPrefix(text, "| option |") || strings.HasPrefix(text, "| type |"):
			table, columns = "", cells(text)
			if names := sections[heading]; nth < len(names) {
				table = names[nth]
			}
			nth++
			if table != "" {
				seen[table] = true
			}
		case !strings.HasPrefix(text, "|"):
			table = ""
		case table != "" && !strings.HasPrefix(text, "|---"):
			row := cells(text)
			var keys []string
			for _, m := range code.FindAllStringSubmatch(row[0], -1) {
				key := strings.Trim(m[1], "[]")
				key, _, _ = strings.Cut(key, ".")
				keys = append(keys, key)
			}
			types := strings.Split(column(columns, row, "type"), ", ")
			for i, key := range keys {
				p, ok := tables[table].keys[key]
				if !ok {
					t.Errorf("%s:%d: %q is not a key of %s", referencePath, line+1, key, table)
					continue
				}
				if table == "spec" || len(types) != len(keys) {
					continue
				}
				if typ, _, _ := strings.Cut(types[i], " ("); typ != typeName(p) {
					t.Errorf("%s:%d: %s.%s is a %s, not a %s", referencePath, line+1, table, key, typeName(p), typ)
				}
				if def, col := defaultOf(p), column(columns, row, "default"); def != "—" && col != "" && len(keys) == 1 && !strings.Contains(col, def) {
					t.Errorf("%s:%d: %s.%s defaults to %s, which the default column does not say", referencePath, line+1, table, key, def)
				}
			}
		}
	}
	for _, names := range sections {
		for _, name := range names {
			if name != "" && !seen[name] {
				t.Errorf("%s has no table of %s", referencePath, name)
			}
		}
	}
}

func cells(row string) []string {
	parts := strings.Split(strings.Trim(row, "|"), " | ")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// column is the cell of row under the header name, "" without one.
func column(header, row []string, name string) string {
	for i, h := range header {
		if h == name && i < len(row) {
			return row[i]
		}
	}
	return ""
}
