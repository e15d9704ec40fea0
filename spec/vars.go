package spec

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// PlatformArgs are the args every spec may use without declaring them; their
// values come from the build's target and build platforms.
var PlatformArgs = []string{
	"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
	"BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
}

// IsPlatformArg tells the args BuildKit sets from the platforms; a spec
// declares none of them.
func IsPlatformArg(name string) bool { return slices.Contains(PlatformArgs, name) }

// Vars is an ordered set of variables and their values, the environment that
// ${NAME} in string fields is expanded against. It implements BuildKit's
// shell.EnvGetter.
type Vars struct {
	keys   []string
	values map[string]string
}

// NewVars returns an empty set.
func NewVars() *Vars { return &Vars{values: map[string]string{}} }

// Set adds or replaces a variable, keeping its first position.
func (v *Vars) Set(name, value string) {
	if _, ok := v.values[name]; !ok {
		v.keys = append(v.keys, name)
	}
	v.values[name] = value
}

// Get implements shell.EnvGetter.
func (v *Vars) Get(name string) (string, bool) {
	val, ok := v.values[name]
	return val, ok
}

// Keys implements shell.EnvGetter.
func (v *Vars) Keys() []string { return v.keys }

// Clone returns an independent copy.
func (v *Vars) Clone() *Vars {
	c := &Vars{keys: append([]string(nil), v.keys...), values: make(map[string]string, len(v.values))}
	for k, val := range v.values {
		c.values[k] = val
	}
	return c
}

// lexer expands like the Dockerfile frontend, except that quotes are kept:
// a TOML string is already unquoted, so `it's` must stay `it's`.
func lexer() *shell.Lex {
	l := shell.NewLex('\\')
	l.SkipProcessQuotes = true
	return l
}

// Expand returns s with its variables replaced by their values in vars. A
// variable that vars lacks is an error at the position of s.
func (sp *Spec) Expand(s String, vars *Vars) (string, error) {
	if !strings.ContainsRune(s.Value, '$') {
		return s.Value, nil
	}
	res, err := lexer().ProcessWordWithMatches(s.Value, vars)
	if err != nil {
		return "", sp.ErrorAt(s.Loc.Value, "%s", lexError(s.Value, err))
	}
	if len(res.Unmatched) > 0 {
		return "", sp.ErrorAt(s.Loc.Value, "%s", undeclared(res.Unmatched, vars.Keys()))
	}
	return res.Result, nil
}

// ErrorAt returns an error of the spec at r. format is fmt.Errorf's: an
// error passed with %w is kept as the cause (Unwrap), so cancellation and
// BuildKit's error details survive.
func (sp *Spec) ErrorAt(r Range, format string, args ...any) *Error {
	return sp.Files.ErrorAt(r, format, args...)
}

func undeclared(names map[string]struct{}, known []string) string {
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	name := sorted[0]
	return fmt.Sprintf("undeclared variable %q%s: declare it in [args], or use a platform arg such as TARGETARCH or a name of the stage's env (write \\$ for a literal $)",
		name, DidYouMean(name, known))
}

// checkVars reports an error when s uses a variable that is not in names or
// is not well formed, and records the names it uses in v.refs. Values are
// not known yet; only names are checked.
func (v *validator) checkVars(s String, names *Vars) {
	if !strings.ContainsRune(s.Value, '$') {
		return
	}
	res, err := lexer().ProcessWordWithMatches(s.Value, names)
	if err != nil {
		v.at(s.Loc.Value, "%s", lexError(s.Value, err))
		return
	}
	if len(res.Unmatched) > 0 {
		v.at(s.Loc.Value, "%s", undeclared(res.Unmatched, names.Keys()))
	}
	for name := range res.Matched {
		v.refs[name] = true
	}
}

func hasVars(s string) bool { return strings.ContainsRune(s, '$') }

// lexError rewords the shell lexer's errors; an unclosed ${ shows there as
// an unsupported modifier made of the end-of-input rune.
func lexError(word string, err error) string {
	msg := err.Error()
	if strings.Contains(msg, "\uFFFD") || strings.Contains(msg, "missing '}'") {
		return fmt.Sprintf("unclosed variable in %q: write ${NAME}, or \\$ for a literal $", word)
	}
	return fmt.Sprintf("invalid variable in %q: %s", word, strings.TrimPrefix(msg, fmt.Sprintf("failed to process %q: ", word)))
}
