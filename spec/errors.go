package spec

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Severity tells errors from warnings.
type Severity int

// Severities.
const (
	SeverityError Severity = iota
	SeverityWarning
)

// Error is a problem found in a spec, at a position of one of its files.
type Error struct {
	File     string
	Pos      Pos
	Range    Range // what the problem is about, when known; for snippets
	Msg      string
	Severity Severity
	Err      error // the cause, when another error led to this one
	// Source is the text of File, for showing the lines around Pos.
	Source []byte
	// IncludedFrom is the include chain that brought File in, innermost
	// first: "build.toml:3:12". Empty for the main file.
	IncludedFrom []string
}

// File is one file of a spec: the main file or one that it includes.
type File struct {
	Name   string // as messages name it: a path, or "context:NAME/PATH"
	Source []byte
	// Context and Path are where the file was read: the named context
	// ("" for the one holding the main file) and the clean path inside it.
	Context, Path string
	// IncludedFrom is the include entry that read this file; Included is
	// false for the main file.
	IncludedFrom Range
	Included     bool
}

// Files are the files of a spec, indexed by Range.File.
type Files []*File

// ErrorAt makes an error at r, naming r's file and how it was included;
// format is fmt.Errorf's, and an error passed with %w becomes the cause.
func (fs Files) ErrorAt(r Range, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	e := &Error{Pos: r.Start, Range: r, Msg: err.Error(), Err: errors.Unwrap(err)}
	fs.place(e, r.File)
	return e
}

// place names the file of e and its include chain.
func (fs Files) place(e *Error, file int) {
	e.Range.File = file
	if file < 0 || file >= len(fs) {
		return
	}
	f := fs[file]
	e.File, e.Source, e.IncludedFrom = f.Name, f.Source, fs.Chain(file)
}

// Chain is how file came to be read, innermost include first, each as
// "FILE:LINE:COL" of its include entry.
func (fs Files) Chain(file int) []string {
	var chain []string
	for seen := 0; fs[file].Included && seen < len(fs); seen++ {
		at := fs[file].IncludedFrom
		chain = append(chain, fmt.Sprintf("%s:%d:%d", fs[at.File].Name, at.Start.Line, at.Start.Column))
		file = at.File
	}
	return chain
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Error renders the problem in the compiler convention, FILE:LINE:COL: message.
func (e *Error) Error() string {
	prefix := ""
	if e.Severity == SeverityWarning {
		prefix = "warning: "
	}
	msg := fmt.Sprintf("%s:%d:%d: %s%s", e.File, e.Pos.Line, e.Pos.Column, prefix, e.Msg)
	for _, at := range e.IncludedFrom {
		msg += "\n\tincluded from " + at
	}
	return msg
}

// Errors are all the problems of a spec, sorted by file and position.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the problems by file, then position.
func (es Errors) Sort() {
	sort.SliceStable(es, func(i, j int) bool {
		if a, b := es[i].Range.File, es[j].Range.File; a != b {
			return a < b
		}
		return es[i].Pos.Before(es[j].Pos)
	})
}

// problems collects the errors of a spec's files.
type problems struct {
	files Files
	list  Errors
}

func (p *problems) at(r Range, format string, args ...any) {
	p.list = append(p.list, p.files.ErrorAt(r, format, args...))
}
