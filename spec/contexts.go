package spec

import (
	"regexp"
	"strings"
)

// Context is an entry of `[contexts]`: a named context the spec declares,
// with the source it has when --build-context does not replace it.
type Context struct {
	Name     string
	Key      Range  // the key that declares it
	Source   String // a git URL, docker-image://REF or an http(s):// tarball
	Checksum String // the git commit, or the tarball's digest
}

// ImagePrefix marks a context source that is an image's filesystem, as in
// --build-context NAME=docker-image://REF.
const ImagePrefix = "docker-image://"

// ContextKind is what a context's source is.
type ContextKind string

// Kinds of context sources.
const (
	ContextGit     ContextKind = "git"
	ContextImage   ContextKind = "image"
	ContextTarball ContextKind = "tarball"
	ContextOther   ContextKind = "other" // not a source [contexts] allows
)

// Kind classifies the context's source.
func (c *Context) Kind() ContextKind {
	src := c.Source.Value
	switch {
	case strings.HasPrefix(src, ImagePrefix):
		return ContextImage
	case SourceKindOf(src) == SourceGit:
		return ContextGit
	case SourceKindOf(src) == SourceHTTP: // the checksum it needs makes http as safe as https
		return ContextTarball
	}
	return ContextOther
}

// contextNamePattern allows what --build-context NAME=... can name and an
// include's "context:NAME/PATH" can tell from its path: no '/' or ':'.
var contextNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// contexts decodes a `[contexts]` table.
func (d *decoder) contexts(n *node) []*Context {
	return shortOrTables(d, n, "contexts", "context", "source and checksum", contextFields, func(name string, v *node) (*Context, *String) {
		c := &Context{Name: name, Key: v.key}
		return c, &c.Source
	})
}

var contextFields = fields[Context]{
	{"source", str(`A git URL (with #ref:subdir), "docker-image://REF" or an http(s) URL of a tarball.`), func(d *decoder, c *Context, n *node) { d.str(&c.Source, "source", n) }},
	{"checksum", str(`The git commit (40 or 64 hex digits), or the tarball's digest ("sha256:...").`), func(d *decoder, c *Context, n *node) { d.str(&c.Checksum, "checksum", n) }},
}

// context checks a declared context: its name, and a source [contexts]
// allows with the checksum it needs.
func (v *validator) context(c *Context) {
	if !contextNamePattern.MatchString(c.Name) {
		v.at(c.Key, "invalid context name %q: use letters, digits, '_', '.' and '-', starting with a letter or digit", c.Name)
	}
	if !c.Source.Loc.Present() {
		v.at(c.Key, "context %q has no `source`: write a git URL, \"docker-image://REF\" or an http(s):// tarball", c.Name)
		return
	}
	src, sum := c.Source, c.Checksum
	switch c.Kind() {
	case ContextImage:
		if err := CheckImageRef(strings.TrimPrefix(src.Value, ImagePrefix)); err != nil {
			v.at(src.Loc.Value, "context %q: %w", c.Name, err)
		}
		if sum.Loc.Present() {
			v.at(sum.Loc.Key, "context %q: pin an image by digest in its reference (REF@sha256:...), not with `checksum`", c.Name)
		}
	case ContextGit:
		if _, err := ParseGitURL(src.Value); err != nil {
			v.at(src.Loc.Value, "context %q: %w", c.Name, err)
		}
		if sum.Loc.Present() && !commitPattern.MatchString(sum.Value) {
			v.at(sum.Loc.Value, "invalid checksum %q of a git context: write the commit, 40 (or 64) hex digits", sum.Value)
		}
	case ContextTarball:
		if !sum.Loc.Present() {
			v.at(src.Loc.Value, "context %q: a tarball source needs its digest: write { source = %q, checksum = \"sha256:...\" }", c.Name, src.Value)
		} else if _, err := ParseDigest(sum.Value); err != nil {
			v.at(sum.Loc.Value, "%w", err)
		}
	default:
		v.at(src.Loc.Value, "context %q: %q is not a source [contexts] can declare: write a git URL, \"docker-image://REF\" or an http(s):// tarball with a checksum; a local directory is passed with --build-context %s=DIR", c.Name, src.Value, c.Name)
	}
}
