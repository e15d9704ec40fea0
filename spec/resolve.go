package spec

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tomlfront/tomlfront/internal/tomlw"
)

// Resolved writes the spec out merged: one TOML document that means what
// the spec and its includes mean together, each table headed by a comment
// naming the file (and line) it came from, and each key that another file
// set marked with its own. It keeps the main file's `# syntax=` line, so
// the output builds as it is.
func (s *Spec) Resolved() []byte {
	main := s.Main()
	w := &resolveWriter{files: s.Files, comments: s.comments}
	if first, _, _ := strings.Cut(string(main.Source), "\n"); strings.HasPrefix(first, "# syntax=") {
		w.printf("%s\n", strings.TrimRight(first, "\r"))
	}
	w.printf("# %s resolved by tomlfront resolve: its includes merged in, and no include left.\n", main.Name)
	w.table(s.merged, nil, false)
	return w.buf.Bytes()
}

type resolveWriter struct {
	files    Files
	comments []map[int]string
	buf      bytes.Buffer
}

// description writes the comment directly above r in its file, which is a
// stage's or an arg's description: it stays directly above.
func (w *resolveWriter) description(r Range) {
	if c, ok := w.comments[r.File][r.Start.Line-1]; ok {
		w.printf("# %s\n", c)
	}
}

func (w *resolveWriter) printf(format string, args ...any) { fmt.Fprintf(&w.buf, format, args...) }

// where is "FILE:LINE" of r.
func (w *resolveWriter) where(r Range) string {
	return fmt.Sprintf("%s:%d", w.files[r.File].Name, r.Start.Line)
}

// section reports whether n is written as a [header] or [[header]] of its own
// rather than inline after its key.
func section(n *node) bool {
	switch n.kind {
	case kindTable:
		return n.origin == header || n.origin == implicit
	case kindArray:
		return n.origin == header
	}
	return false
}

// table writes the keys of t under the header path: its plain keys, then
// its sections. item is set for a table of an array of tables.
func (w *resolveWriter) table(t *node, path []string, item bool) {
	file := t.rng.File
	if len(path) > 0 {
		brackets := "[%s]"
		if item {
			brackets = "[[%s]]"
		}
		w.printf("\n# from %s\n", w.where(t.rng))
		w.description(t.key)
		w.printf(brackets+"\n", tomlw.DottedKey(path...))
	}
	for _, k := range t.keys {
		v := t.fields[k]
		if section(v) {
			continue
		}
		if len(path) == 1 && path[0] == "args" {
			w.description(v.key)
		}
		w.printf("%s = %s", tomlw.Key(k), w.value(v))
		if v.rng.File != file {
			w.printf(" # from %s", w.where(v.rng))
		}
		w.printf("\n")
	}
	for _, k := range t.keys {
		v := t.fields[k]
		if !section(v) {
			continue
		}
		sub := append(path[:len(path):len(path)], k)
		if v.kind == kindArray {
			for _, it := range v.items {
				w.table(it, sub, true)
			}
			continue
		}
		// A table that only holds tables ([stages] above [stages.build])
		// needs no header of its own.
		if hasPlainKeys(v) {
			w.table(v, sub, false)
		} else {
			w.tablesOnly(v, sub)
		}
	}
}

func (w *resolveWriter) tablesOnly(t *node, path []string) {
	for _, k := range t.keys {
		v := t.fields[k]
		sub := append(path[:len(path):len(path)], k)
		switch {
		case v.kind == kindArray && section(v):
			for _, it := range v.items {
				w.table(it, sub, true)
			}
		case v.kind == kindTable && section(v) && !hasPlainKeys(v):
			w.tablesOnly(v, sub)
		default:
			w.table(v, sub, false)
		}
	}
}

func hasPlainKeys(t *node) bool {
	if len(t.keys) == 0 {
		return true // an empty table is written as its header
	}
	for _, k := range t.keys {
		if !section(t.fields[k]) {
			return true
		}
	}
	return false
}

// value writes a value inline.
func (w *resolveWriter) value(n *node) string {
	switch n.kind {
	case kindString:
		return tomlw.String(n.str)
	case kindArray:
		parts := make([]string, len(n.items))
		for i, it := range n.items {
			parts[i] = w.value(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case kindTable:
		parts := make([]string, len(n.keys))
		for i, k := range n.keys {
			parts[i] = tomlw.Key(k) + " = " + w.value(n.fields[k])
		}
		if len(parts) == 0 {
			return "{}"
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	return n.str // integers, floats, booleans and date-times as written
}
