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
	// inherits is the base (an image ref, "context:NAME") whose env the
	// variables may lack names of, when that env is not known: offline,
	// or before the build resolves the base.
	inherits string
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

// Inherit says that v stands for an env inherited from base, whose names
// are not known: Expand then takes a name v lacks as empty, as a
// Dockerfile does, instead of failing (the offline conversions, where no
// base image's config is read).
func (v *Vars) Inherit(base string) { v.inherits = base }

// Clone returns an independent copy.
func (v *Vars) Clone() *Vars {
	c := &Vars{keys: append([]string(nil), v.keys...), values: make(map[string]string, len(v.values)), inherits: v.inherits}
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
// variable that vars lacks is an error at the position of s when s uses it
// plainly ($NAME, ${NAME}); with a modifier (${NAME:-word}) it gives what
// the modifier gives, as in a Dockerfile.
func (sp *Spec) Expand(s String, vars *Vars) (string, error) {
	if !strings.ContainsRune(s.Value, '$') {
		return s.Value, nil
	}
	res, err := lexer().ProcessWordWithMatches(s.Value, vars)
	if err != nil {
		return "", sp.ErrorAt(s.Loc.Value, "%s", lexError(s.Value, err))
	}
	if unset := plainUnset(s.Value, vars, res.Unmatched); len(unset) > 0 && vars.inherits == "" {
		return "", sp.ErrorAt(s.Loc.Value, "%s", undeclared(unset[0], vars))
	}
	return res.Result, nil
}

// plainUnset lists, sorted, the names of unset that word uses plainly
// ($NAME or ${NAME}) rather than only with a modifier. The lexer, told to
// keep unset variables as written, says which: ${NAME:-word} stays
// ${NAME:-word}, and only plain uses leave $NAME or ${NAME}.
func plainUnset(word string, vars *Vars, unset map[string]struct{}) []string {
	if len(unset) == 0 {
		return nil
	}
	l := lexer()
	l.SkipUnsetEnv = true
	kept, _, err := l.ProcessWord(word, vars)
	var plain []string
	for name := range unset {
		if err != nil || strings.Contains(kept, "${"+name+"}") || plainDollar(kept, name) {
			plain = append(plain, name)
		}
	}
	sort.Strings(plain)
	return plain
}

// plainDollar tells whether s has $name not followed by a name character.
func plainDollar(s, name string) bool {
	for i := strings.Index(s, "$"+name); i >= 0; {
		end := i + 1 + len(name)
		if end == len(s) || !IsNameChar(s[end]) {
			return true
		}
		next := strings.Index(s[end:], "$"+name)
		if next < 0 {
			return false
		}
		i = end + next
	}
	return false
}

// IsNameChar tells a byte that may follow the first of a variable's name:
// $NAME ends before the first byte that is not one.
func IsNameChar(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// ErrorAt returns an error of the spec at r. format is fmt.Errorf's: an
// error passed with %w is kept as the cause (Unwrap), so cancellation and
// BuildKit's error details survive.
func (sp *Spec) ErrorAt(r Range, format string, args ...any) *Error {
	return sp.Files.ErrorAt(r, format, args...)
}

func undeclared(name string, vars *Vars) string {
	return fmt.Sprintf("undeclared variable %q%s: neither [args], the platform args (TARGETARCH, ...) nor the stage's env, its own or inherited, sets it; declare it, or write ${%s:-} for empty when unset, \\$ for a literal $",
		name, DidYouMean(name, vars.Keys()), name)
}

// InheritedVar is a variable a stage uses that the spec declares nowhere:
// it must come from the env the stage inherits from Base (an image ref or
// "context:NAME"), which only a build knows.
type InheritedVar struct {
	Name  string
	Stage string
	Base  string
	At    Range
}

// InheritedVars lists the variables that stages use plainly and the spec
// declares nowhere, in document order: a build fails on those its base's
// env lacks.
func (s *Spec) InheritedVars() []InheritedVar { return s.inherited }

// checkVars reports an error when s uses a variable that is not in names or
// is not well formed, and records the names it uses in v.refs. Values are
// not known yet; only names are checked. A name used plainly that names
// lacks is an error, unless names inherit an env not known yet: then it is
// recorded as an inherited variable of stage.
func (v *validator) checkVars(s String, names *Vars) {
	if !strings.ContainsRune(s.Value, '$') {
		return
	}
	res, err := lexer().ProcessWordWithMatches(s.Value, names)
	if err != nil {
		v.at(s.Loc.Value, "%s", lexError(s.Value, err))
		return
	}
	for _, name := range plainUnset(s.Value, names, res.Unmatched) {
		if names.inherits == "" {
			v.at(s.Loc.Value, "%s", undeclared(name, names))
			break
		}
		v.spec.inherited = append(v.spec.inherited, InheritedVar{Name: name, Stage: v.stageName, Base: names.inherits, At: s.Loc.Value})
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
