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

// Error is a problem found in a spec, at a position of its file.
type Error struct {
	File     string
	Pos      Pos
	Range    Range // what the problem is about, when known; for snippets
	Msg      string
	Severity Severity
	Err      error // the cause, when another error led to this one
}

// newError makes an error of file at r; format is fmt.Errorf's, and an
// error passed with %w becomes the cause.
func newError(file string, r Range, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{File: file, Pos: r.Start, Range: r, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Error renders the problem in the compiler convention, FILE:LINE:COL: message.
func (e *Error) Error() string {
	prefix := ""
	if e.Severity == SeverityWarning {
		prefix = "warning: "
	}
	return fmt.Sprintf("%s:%d:%d: %s%s", e.File, e.Pos.Line, e.Pos.Column, prefix, e.Msg)
}

// Errors are all the problems of one file, sorted by position.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the problems by position.
func (es Errors) Sort() {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Pos.Before(es[j].Pos) })
}

// problems collects the errors of one file.
type problems struct {
	file string
	list Errors
}

func (p *problems) at(r Range, format string, args ...any) {
	p.list = append(p.list, newError(p.file, r, format, args...))
}
