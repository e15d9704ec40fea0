package spec

import (
	"bytes"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// The decoder works on a small positioned tree built from go-toml's
// unstable parser, which checks TOML's syntax and keeps positions; the
// builder adds TOML's table rules (no key or table defined twice, inline
// tables and arrays are closed), so every error has an exact position.

type nodeKind int

const (
	kindTable nodeKind = iota
	kindArray
	kindString
	kindInteger
	kindFloat
	kindBool
	kindDateTime
)

func (k nodeKind) String() string {
	return [...]string{"a table", "an array", "a string", "an integer", "a float", "a boolean", "a date-time"}[k]
}

// origin says how a table or array came to be, for TOML's rules on
// defining it again.
type origin int

const (
	implicit origin = iota // a parent named by a header, e.g. a in [a.b]
	header                 // [a.b] or [[a.b]]
	dotted                 // a parent named by a dotted key, e.g. a in a.b = 1
	literal                // a value written after =: closed to later keys
)

type node struct {
	kind   nodeKind
	origin origin
	key    Range // the key that names this node; zero for array items and the root
	rng    Range // the value; for a table, from its header or brace to its last key

	str  string // strings and the raw text of scalars
	num  int64
	flag bool

	keys   []string // table keys in document order
	fields map[string]*node
	items  []*node
}

// lineIndex turns byte offsets into 1-based lines and columns.
type lineIndex []int // offsets at which lines start

func newLineIndex(src []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range src {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (l lineIndex) pos(offset int) Pos {
	line := sort.Search(len(l), func(i int) bool { return l[i] > offset }) - 1
	return Pos{Line: line + 1, Column: offset - l[line] + 1}
}

// rng is the range of r in the file being built.
func (b *treeBuilder) rng(r unstable.Range) Range {
	return Range{File: b.file, Start: b.lines.pos(int(r.Offset)), End: b.lines.pos(int(r.Offset + r.Length))}
}

// parseTree parses src, the file of index file, into a positioned tree and
// the comment lines of the file (line → text), used for descriptions of
// stages and args. An error is not yet placed in its file (Files.place).
func parseTree(file int, src []byte) (*node, map[int]string, *Error) {
	b := treeBuilder{src: src, file: file, lines: newLineIndex(src), comments: map[int]string{}}
	b.root = &node{kind: kindTable, origin: header, fields: map[string]*node{}}
	b.current = b.root
	p := unstable.Parser{KeepComments: true}
	p.Reset(src)
	for b.err == nil && p.NextExpression() {
		b.expression(p.Expression())
	}
	if err := p.Error(); err != nil {
		return nil, nil, b.parseError(err)
	}
	if b.err != nil {
		return nil, nil, b.err
	}
	return b.root, b.comments, nil
}

func (b *treeBuilder) parseError(err error) *Error {
	e := &Error{Pos: Pos{1, 1}, Msg: "invalid TOML: " + err.Error(), Err: err}
	var pe *unstable.ParserError
	if errors.As(err, &pe) {
		e.Msg = "invalid TOML: " + pe.Message
		// The highlight is a slice of src: its capacity tells its offset.
		if off := cap(b.src) - cap(pe.Highlight); pe.Highlight != nil && off >= 0 && off <= len(b.src) {
			e.Pos = b.lines.pos(off)
		}
	}
	return e
}

type treeBuilder struct {
	src      []byte
	file     int
	lines    lineIndex
	root     *node
	current  *node // the table the latest header opened
	comments map[int]string
	err      *Error // the first violation of TOML's table rules

	keyBuf   []string
	rangeBuf []Range
}

func (b *treeBuilder) fail(r Range, format string, args ...any) {
	if b.err == nil {
		b.err = Files(nil).ErrorAt(r, "invalid TOML: "+format, args...)
	}
}

func (b *treeBuilder) expression(e *unstable.Node) {
	switch e.Kind {
	case unstable.Comment:
		r := b.rng(e.Raw)
		b.comments[r.Start.Line] = strings.TrimSpace(strings.TrimPrefix(string(e.Data), "#"))
	case unstable.KeyValue:
		b.keyValue(b.current, e)
	case unstable.Table, unstable.ArrayTable:
		b.table(e)
	}
}

// table opens the table of a [header] or a new item of an [[array]].
func (b *treeBuilder) table(e *unstable.Node) {
	keys, ranges := b.keyParts(e.Key())
	t := b.root
	for i := range keys[:len(keys)-1] {
		if t = b.descend(t, keys[:i+1], ranges[i], false); t == nil {
			return
		}
	}
	last, lastRange := keys[len(keys)-1], ranges[len(keys)-1]
	name := strings.Join(keys, ".")
	hdr := Range{File: b.file, Start: ranges[0].Start, End: lastRange.End}
	hdr.Start.Column-- // the opening bracket
	existing := t.fields[last]
	if e.Kind == unstable.ArrayTable {
		hdr.Start.Column--
		switch {
		case existing == nil:
			existing = &node{kind: kindArray, origin: header, key: lastRange, rng: hdr}
			t.set(last, existing)
		case existing.kind != kindArray || existing.origin != header:
			b.fail(lastRange, "cannot append to [[%s]]: %s is already defined as %s", name, name, existing.kind)
			return
		}
		item := &node{kind: kindTable, origin: header, key: lastRange, rng: hdr, fields: map[string]*node{}}
		existing.items = append(existing.items, item)
		b.current = item
		return
	}
	switch {
	case existing == nil:
		existing = &node{kind: kindTable, fields: map[string]*node{}}
		t.set(last, existing)
	case existing.kind != kindTable || existing.origin != implicit:
		b.fail(lastRange, "table [%s] is already defined", name)
		return
	}
	existing.origin, existing.key, existing.rng = header, lastRange, hdr
	b.current = existing
}

// descend returns the table named by the last key of path inside t,
// creating it when missing. A header key naming an array of tables descends
// into its last table, as TOML specifies. inKeyValue tells a dotted key of a
// key/value from a header.
func (b *treeBuilder) descend(t *node, path []string, r Range, inKeyValue bool) *node {
	k := path[len(path)-1]
	child := t.fields[k]
	if child == nil {
		child = &node{kind: kindTable, origin: implicit, key: r, rng: r, fields: map[string]*node{}}
		if inKeyValue {
			child.origin = dotted
		}
		t.set(k, child)
		return child
	}
	switch {
	case child.kind == kindArray && child.origin == header && !inKeyValue:
		return child.items[len(child.items)-1]
	case child.kind == kindTable && (child.origin == dotted || !inKeyValue && child.origin != literal):
		return child
	}
	what := child.kind.String()
	if child.kind == kindTable && child.origin == literal {
		what = "an inline table, which cannot be extended"
	}
	b.fail(r, "key %s is already defined as %s", strings.Join(path, "."), what)
	return nil
}

func (t *node) set(k string, v *node) {
	t.keys = append(t.keys, k)
	t.fields[k] = v
}

// keyParts returns the parts of a key and their ranges, in buffers reused
// by the next call.
func (b *treeBuilder) keyParts(it unstable.Iterator) ([]string, []Range) {
	b.keyBuf, b.rangeBuf = b.keyBuf[:0], b.rangeBuf[:0]
	for it.Next() {
		k := it.Node()
		b.keyBuf = append(b.keyBuf, string(k.Data))
		b.rangeBuf = append(b.rangeBuf, b.rng(k.Raw))
	}
	return b.keyBuf, b.rangeBuf
}

func (b *treeBuilder) keyValue(t *node, kv *unstable.Node) {
	keys, ranges := b.keyParts(kv.Key())
	for i := range keys[:len(keys)-1] {
		if t = b.descend(t, keys[:i+1], ranges[i], true); t == nil {
			return
		}
	}
	last, lastRange := keys[len(keys)-1], ranges[len(ranges)-1]
	if t.fields[last] != nil {
		b.fail(lastRange, "key %s is defined twice", strings.Join(keys, "."))
		return
	}
	whole := b.rng(kv.Raw)
	v := b.value(kv.Value(), Range{File: b.file, Start: b.valueStart(kv), End: whole.End}) // reuses the key buffers
	v.key = lastRange
	t.set(last, v)
	b.extend(whole.End)
}

// valueStart finds where the value of a key/value begins: the parser gives
// ranges for scalars only, so for arrays and inline tables skip past the '='.
func (b *treeBuilder) valueStart(kv *unstable.Node) Pos {
	start := int(kv.Raw.Offset)
	if eq := bytes.IndexByte(b.src[start:start+int(kv.Raw.Length)], '='); eq >= 0 {
		start += eq + 1
	}
	for start < len(b.src) && (b.src[start] == ' ' || b.src[start] == '\t') {
		start++
	}
	return b.lines.pos(start)
}

// extend grows the range of the table being filled so that it covers its
// last key: source maps show a whole step, from header to last line.
func (b *treeBuilder) extend(end Pos) {
	if b.current != b.root && b.current.rng.End.Before(end) {
		b.current.rng.End = end
	}
}

func (b *treeBuilder) value(v *unstable.Node, outer Range) *node {
	n := &node{rng: outer, origin: literal}
	if v.Raw.Length > 0 && v.Kind != unstable.InlineTable {
		n.rng = b.rng(v.Raw)
	}
	switch v.Kind {
	case unstable.String:
		n.kind, n.str = kindString, string(v.Data)
	case unstable.Integer:
		n.kind, n.str = kindInteger, string(v.Data)
		var err error
		if n.num, err = strconv.ParseInt(n.str, 0, 64); err != nil { // the syntax is checked by the parser
			b.fail(n.rng, "integer %s is out of range", n.str)
		}
	case unstable.Float:
		n.kind, n.str = kindFloat, string(v.Data)
		b.checkScalar(n)
	case unstable.Bool:
		n.kind, n.str = kindBool, string(v.Data)
		n.flag = n.str == "true"
	case unstable.Array:
		n.kind = kindArray
		for it := v.Children(); it.Next(); {
			if c := it.Node(); c.Kind != unstable.Comment { // kept comments are children too
				n.items = append(n.items, b.value(c, b.approxRange(c, outer)))
			}
		}
	case unstable.InlineTable:
		n.kind, n.fields = kindTable, map[string]*node{}
		if v.Raw.Length > 0 { // the parser's range is just the opening brace
			n.rng = b.rng(v.Raw)
		}
		for it := v.Children(); it.Next(); {
			kv := it.Node()
			if kv.Kind == unstable.Comment { // a comment inside a multi-line inline table
				continue
			}
			b.keyValue(n, kv)
			if end := b.lines.pos(int(kv.Raw.Offset + kv.Raw.Length)); n.rng.End.Before(end) {
				n.rng.End = end
			}
		}
	default:
		n.kind, n.str = kindDateTime, string(v.Data)
		b.checkScalar(n)
	}
	return n
}

// trimmed is a go-toml error without its "toml: " prefix, which a
// position already says.
type trimmed struct{ error }

func (t trimmed) Error() string { return strings.TrimPrefix(t.error.Error(), "toml: ") }
func (t trimmed) Unwrap() error { return t.error }

// checkScalar holds a float or a date-time to the rules of go-toml's
// decoder, which the parser leaves out (a day past the end of its month, an
// hour of 24, ...): tomlfront accepts exactly the documents the decoder does.
// Specs rarely hold either kind, so decoding the one value is cheap enough.
func (b *treeBuilder) checkScalar(n *node) {
	var v struct{ V any }
	if err := toml.Unmarshal([]byte("V = "+n.str), &v); err != nil {
		b.fail(n.rng, "%s is not %s: %w", n.str, n.kind, trimmed{err})
	}
}

// approxRange gives nested arrays and inline tables, which carry no range of
// their own, the range of their first scalar (or the enclosing value).
func (b *treeBuilder) approxRange(v *unstable.Node, outer Range) Range {
	for c := v; c != nil; c = c.Child() {
		if c.Raw.Length > 0 {
			return b.rng(c.Raw)
		}
	}
	return outer
}
