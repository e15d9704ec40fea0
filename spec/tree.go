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
// unstable parser: go-toml's Unmarshal validates the document (duplicate
// keys, redefined tables, ...) but forgets where values were, and the parser
// keeps positions but not TOML's table semantics. Using both gives exact
// positions without reimplementing TOML's rules.

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

type node struct {
	kind nodeKind
	key  Range // the key that names this node; zero for array items and the root
	rng  Range // the value; for a table, from its header or brace to its last key

	str  string // strings and the raw text of scalars
	num  int64
	flag bool

	keys   []string // table keys in document order
	fields map[string]*node
	items  []*node
}

func (n *node) field(key string) *node { return n.fields[key] }

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

func (l lineIndex) rng(r unstable.Range) Range {
	return Range{Start: l.pos(int(r.Offset)), End: l.pos(int(r.Offset + r.Length))}
}

// parseTree parses src into a positioned tree and the comment lines of the
// file (line → text), used for descriptions of stages and args.
func parseTree(file string, src []byte) (*node, map[int]string, *Error) {
	var probe map[string]any
	if err := toml.Unmarshal(src, &probe); err != nil {
		return nil, nil, tomlError(file, src, err)
	}
	b := treeBuilder{src: src, lines: newLineIndex(src), comments: map[int]string{}}
	b.root = &node{kind: kindTable, fields: map[string]*node{}}
	b.current = b.root
	p := unstable.Parser{KeepComments: true}
	p.Reset(src)
	for p.NextExpression() {
		b.expression(p.Expression())
	}
	if err := p.Error(); err != nil { // unreachable after Unmarshal, kept for safety
		return nil, nil, tomlError(file, src, err)
	}
	return b.root, b.comments, nil
}

func tomlError(file string, src []byte, err error) *Error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		msg := strings.TrimPrefix(err.Error(), "toml: ")
		return &Error{File: file, Pos: Pos{line, col}, Msg: "invalid TOML: " + msg}
	}
	var pe *unstable.ParserError
	if errors.As(err, &pe) && len(pe.Highlight) > 0 {
		off := bytes.Index(src, pe.Highlight)
		if off >= 0 {
			return &Error{File: file, Pos: newLineIndex(src).pos(off), Msg: "invalid TOML: " + pe.Message}
		}
	}
	return &Error{File: file, Pos: Pos{1, 1}, Msg: "invalid TOML: " + err.Error()}
}

type treeBuilder struct {
	src      []byte
	lines    lineIndex
	root     *node
	current  *node // the table the latest header opened
	comments map[int]string
}

func (b *treeBuilder) expression(e *unstable.Node) {
	switch e.Kind {
	case unstable.Comment:
		r := b.lines.rng(e.Raw)
		b.comments[r.Start.Line] = strings.TrimSpace(strings.TrimPrefix(string(e.Data), "#"))
	case unstable.KeyValue:
		b.keyValue(b.current, e)
	case unstable.Table, unstable.ArrayTable:
		keys, ranges := b.keyParts(e.Key())
		t := b.root
		for i, k := range keys[:len(keys)-1] {
			t = b.descend(t, k, ranges[i])
		}
		last, lastRange := keys[len(keys)-1], ranges[len(keys)-1]
		header := Range{Start: ranges[0].Start, End: lastRange.End}
		header.Start.Column-- // the opening bracket
		if e.Kind == unstable.ArrayTable {
			header.Start.Column--
			arr := t.fields[last]
			if arr == nil {
				arr = &node{kind: kindArray, key: lastRange, rng: header}
				t.set(last, arr)
			}
			item := &node{kind: kindTable, key: lastRange, rng: header, fields: map[string]*node{}}
			arr.items = append(arr.items, item)
			b.current = item
			return
		}
		tbl := t.fields[last]
		if tbl == nil {
			tbl = &node{kind: kindTable, fields: map[string]*node{}}
			t.set(last, tbl)
		}
		tbl.key, tbl.rng = lastRange, header
		b.current = tbl
	}
}

// descend returns the table named k inside t, creating it when missing. A key
// naming an array of tables descends into its last table, as TOML specifies.
func (b *treeBuilder) descend(t *node, k string, r Range) *node {
	child := t.fields[k]
	if child == nil {
		child = &node{kind: kindTable, key: r, rng: r, fields: map[string]*node{}}
		t.set(k, child)
	}
	if child.kind == kindArray && len(child.items) > 0 {
		return child.items[len(child.items)-1]
	}
	return child
}

func (t *node) set(k string, v *node) {
	t.keys = append(t.keys, k)
	t.fields[k] = v
}

func (b *treeBuilder) keyParts(it unstable.Iterator) ([]string, []Range) {
	var keys []string
	var ranges []Range
	for it.Next() {
		k := it.Node()
		keys = append(keys, string(k.Data))
		ranges = append(ranges, b.lines.rng(k.Raw))
	}
	return keys, ranges
}

func (b *treeBuilder) keyValue(t *node, kv *unstable.Node) {
	keys, ranges := b.keyParts(kv.Key())
	for i, k := range keys[:len(keys)-1] {
		t = b.descend(t, k, ranges[i])
	}
	whole := b.lines.rng(kv.Raw)
	v := b.value(kv.Value(), Range{Start: b.valueStart(kv), End: whole.End})
	v.key = ranges[len(ranges)-1]
	t.set(keys[len(keys)-1], v)
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
	if b.current != b.root && end.after(b.current.rng.End) {
		b.current.rng.End = end
	}
}

func (b *treeBuilder) value(v *unstable.Node, outer Range) *node {
	n := &node{rng: outer}
	if v.Raw.Length > 0 && v.Kind != unstable.InlineTable {
		n.rng = b.lines.rng(v.Raw)
	}
	switch v.Kind {
	case unstable.String:
		n.kind, n.str = kindString, string(v.Data)
	case unstable.Integer:
		n.kind, n.str = kindInteger, string(v.Data)
		n.num, _ = strconv.ParseInt(n.str, 0, 64) // syntax already checked by go-toml
	case unstable.Float:
		n.kind, n.str = kindFloat, string(v.Data)
	case unstable.Bool:
		n.kind, n.str = kindBool, string(v.Data)
		n.flag = n.str == "true"
	case unstable.Array:
		n.kind = kindArray
		for it := v.Children(); it.Next(); {
			c := it.Node()
			n.items = append(n.items, b.value(c, b.approxRange(c, outer)))
		}
	case unstable.InlineTable:
		n.kind, n.fields = kindTable, map[string]*node{}
		if v.Raw.Length > 0 { // the parser's range is just the opening brace
			n.rng = b.lines.rng(v.Raw)
		}
		for it := v.Children(); it.Next(); {
			kv := it.Node()
			b.keyValue(n, kv)
			if end := b.lines.pos(int(kv.Raw.Offset + kv.Raw.Length)); end.after(n.rng.End) {
				n.rng.End = end
			}
		}
	default:
		n.kind, n.str = kindDateTime, string(v.Data)
	}
	return n
}

// approxRange gives nested arrays and inline tables, which carry no range of
// their own, the range of their first scalar (or the enclosing value).
func (b *treeBuilder) approxRange(v *unstable.Node, outer Range) Range {
	for c := v; c != nil; c = c.Child() {
		if c.Raw.Length > 0 {
			return b.lines.rng(c.Raw)
		}
	}
	return outer
}

func (p Pos) after(q Pos) bool {
	return p.Line > q.Line || (p.Line == q.Line && p.Column > q.Column)
}
