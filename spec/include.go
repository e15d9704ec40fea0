package spec

import (
	"context"
	"path"
	"strings"
)

// Include is a file that a spec includes, as a ReadFunc is asked for it.
type Include struct {
	// Context is the named context that holds the file; "" is the context
	// holding the main file, whose root is the main file's directory.
	Context string
	// Declared is Context's entry in [contexts], as the including files
	// declare it (the outermost file wins); nil when none declares it.
	Declared *Context
	// Path is clean, slash-separated and relative to the context's root.
	Path string
}

// ReadFunc reads an included file. The frontend reads from the build's
// contexts; the CLI from disk.
type ReadFunc func(ctx context.Context, inc Include) ([]byte, error)

// maxFiles bounds the files one build reads: includes that fan out
// exponentially (each file including the next twice) end with an error
// rather than a hung build.
const maxFiles = 256

// loader reads a spec's files and merges their trees.
type loader struct {
	ctx      context.Context
	read     ReadFunc
	files    Files
	comments []map[int]string
	root     *node // the merged tree
	problems
}

// Load parses and validates a spec that includes nothing; a spec with
// `include` needs LoadWith. file names it in messages.
func Load(file string, src []byte) (*Spec, error) {
	return LoadWith(context.Background(), file, src, nil)
}

// LoadWith parses a spec, reads and merges what it includes with read, and
// validates the result. file names the main file in messages; it is a path
// whose directory is the root of the main file's context. On failure the
// error is an Errors holding every problem found, sorted by file and
// position, each naming its file and include chain.
func LoadWith(ctx context.Context, file string, src []byte, read ReadFunc) (*Spec, error) {
	return load(ctx, file, src, read)
}

func load(ctx context.Context, file string, src []byte, read ReadFunc) (*Spec, error) {
	l := &loader{ctx: ctx, read: read}
	main := &File{Name: file, Source: src, Path: path.Base(path.Clean(file))}
	l.root = l.file(main, nil)
	if len(l.list) > 0 {
		l.list.Sort()
		return nil, l.list
	}
	s := &Spec{Files: l.files, merged: l.root, comments: l.comments}
	d := decoder{problems: problems{files: l.files}, comments: l.comments}
	d.decode(l.root, s)
	s.index()
	v := validator{problems: d.problems, spec: s}
	v.validate()
	if len(v.list) > 0 {
		v.list.Sort()
		return nil, v.list
	}
	return s, nil
}

// file parses f, reads its includes and returns the merged tree: the
// includes in order, then f on top. visible are the contexts the including
// files declare. It returns nil when f cannot be parsed.
func (l *loader) file(f *File, visible map[string]*Context) *node {
	idx := len(l.files)
	l.files = append(l.files, f)
	l.problems.files = l.files
	root, comments, err := parseTree(idx, f.Source)
	l.comments = append(l.comments, comments)
	if err != nil {
		l.files.place(err, idx)
		l.list = append(l.list, err)
		return nil
	}
	entries := root.fields["include"]
	if entries == nil {
		return root
	}
	root.remove("include")
	visible = l.declared(root, visible)
	var merged *node
	for _, entry := range l.entries(entries) {
		inc, ok := l.resolve(f, entry, visible)
		if !ok {
			continue
		}
		if t := l.include(idx, entry, inc, visible); t != nil {
			merged = l.merge(merged, t)
		}
	}
	return l.merge(merged, root)
}

// entries are the strings of an `include` array.
func (l *loader) entries(n *node) []*node {
	if n.kind != kindArray {
		l.at(n.rng, "include must be an array of paths, e.g. [\"ci/common.toml\", \"context:specs/go/service.toml\"], found %s", n.kind)
		return nil
	}
	var out []*node
	for _, it := range n.items {
		if it.kind != kindString {
			l.at(it.rng, "items of include must be strings, found %s", it.kind)
			continue
		}
		out = append(out, it)
	}
	return out
}

// declared adds the [contexts] of a file to those its including files
// declare; an outer file's declaration wins, as it does in the merge.
func (l *loader) declared(root *node, visible map[string]*Context) map[string]*Context {
	n := root.fields["contexts"]
	if n == nil {
		return visible
	}
	scratch := decoder{problems: problems{files: l.files}} // the merged spec reports these problems
	own := scratch.contexts(n)
	out := make(map[string]*Context, len(visible)+len(own))
	for _, c := range own {
		out[c.Name] = c
	}
	for name, c := range visible {
		out[name] = c
	}
	return out
}

// resolve turns an include entry of file f into the file it names.
func (l *loader) resolve(f *File, entry *node, visible map[string]*Context) (Include, bool) {
	val := entry.str
	if rest, ok := strings.CutPrefix(val, ContextPrefix); ok {
		name, p, _ := strings.Cut(rest, "/")
		if name == "" || strings.Trim(p, "/") == "" {
			l.at(entry.rng, "include %q names no file: write \"context:NAME/PATH\", a path inside the context NAME", val)
			return Include{}, false
		}
		clean := path.Clean(p)
		if path.IsAbs(p) || clean == ".." || strings.HasPrefix(clean, "../") {
			l.at(entry.rng, "include %q leaves the context %q: write a path inside it", val, name)
			return Include{}, false
		}
		return Include{Context: name, Declared: visible[name], Path: clean}, true
	}
	if strings.TrimSpace(val) == "" || path.IsAbs(val) {
		l.at(entry.rng, "include %q: write a path relative to %s, or \"context:NAME/PATH\"", val, f.Name)
		return Include{}, false
	}
	clean := path.Join(path.Dir(f.Path), val)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		root := "the directory of the main spec"
		if f.Context != "" {
			root = "the context " + f.Context
		}
		l.at(entry.rng, "include %q leaves %s, which is all the build sends: put the file there, or in a named context and include \"context:NAME/PATH\"", val, root)
		return Include{}, false
	}
	return Include{Context: f.Context, Declared: visible[f.Context], Path: clean}, true
}

// include reads inc, named by entry of the file parent, and returns its
// merged tree; nil on a problem, reported at entry.
func (l *loader) include(parent int, entry *node, inc Include, visible map[string]*Context) *node {
	name := inc.Path
	if inc.Context != "" {
		name = ContextPrefix + inc.Context + "/" + inc.Path
	} else if dir := path.Dir(l.files[0].Name); dir != "." {
		name = path.Join(dir, inc.Path)
	}
	// A cycle runs through the chain of files that led here.
	cycle := []string{name}
	for i := parent; ; i = l.files[i].IncludedFrom.File {
		f := l.files[i]
		cycle = append(cycle, f.Name)
		if f.Context == inc.Context && f.Path == inc.Path {
			for a, b := 0, len(cycle)-1; a < b; a, b = a+1, b-1 {
				cycle[a], cycle[b] = cycle[b], cycle[a]
			}
			l.at(entry.rng, "include cycle: %s", strings.Join(cycle, " includes "))
			return nil
		}
		if !f.Included {
			break
		}
	}
	if len(l.files) >= maxFiles {
		l.at(entry.rng, "include %q: a spec may read at most %d files", entry.str, maxFiles)
		return nil
	}
	if l.read == nil {
		l.at(entry.rng, "include %q: this spec was loaded without a way to read included files", entry.str)
		return nil
	}
	src, err := l.read(l.ctx, inc)
	if err != nil {
		l.at(entry.rng, "include %q: %w", entry.str, err)
		return nil
	}
	f := &File{Name: name, Source: src, Context: inc.Context, Path: inc.Path, IncludedFrom: entry.rng, Included: true}
	return l.file(f, visible)
}

// merge lays top over base as the contract says: tables merge key by key,
// recursively, keeping the order in which keys first appear; anything else
// in top replaces base's value whole. base may be nil.
func (l *loader) merge(base, top *node) *node {
	if base == nil {
		return top
	}
	if top == nil {
		return base
	}
	if b, t := base.fields["version"], top.fields["version"]; b != nil && t != nil && b.str != t.str {
		l.at(t.rng, "version %s differs from version %s of %s: every file of a spec has the same version", t.str, b.str, l.files[b.rng.File].Name)
	}
	return mergeTable(base, top, nil)
}

func mergeTable(base, top *node, path []string) *node {
	out := &node{kind: kindTable, origin: base.origin, key: base.key, rng: base.rng,
		keys: append([]string(nil), base.keys...), fields: make(map[string]*node, len(base.fields)+len(top.fields))}
	for k, v := range base.fields {
		out.fields[k] = v
	}
	for _, k := range top.keys {
		t, b := top.fields[k], out.fields[k]
		switch {
		case b == nil:
			out.keys = append(out.keys, k)
			out.fields[k] = t
		case b.kind == kindTable && t.kind == kindTable:
			m := mergeTable(b, t, append(path[:len(path):len(path)], k))
			if len(path) == 1 && path[0] == "args" && t.fields["default"] != nil && t.fields["required"] == nil {
				// A later file giving a required arg its default satisfies it.
				m.remove("required")
			}
			out.fields[k] = m
		default:
			out.fields[k] = t
		}
	}
	return out
}

// remove deletes key k of a table.
func (t *node) remove(k string) {
	delete(t.fields, k)
	for i, key := range t.keys {
		if key == k {
			t.keys = append(t.keys[:i:i], t.keys[i+1:]...)
			return
		}
	}
}
