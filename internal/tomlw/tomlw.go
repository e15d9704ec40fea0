// Package tomlw writes TOML values as text: the quoting rules that
// `tomlfront resolve` and `tomlfront convert` both need, in one place. It
// knows nothing of specs.
package tomlw

import (
	"fmt"
	"strings"
)

// Key writes k bare when TOML allows it, quoted otherwise.
func Key(k string) string {
	if k == "" {
		return `""`
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return quote(k, false)
		}
	}
	return k
}

// DottedKey writes the keys of a table header.
func DottedKey(path ...string) string {
	parts := make([]string, len(path))
	for i, k := range path {
		parts[i] = Key(k)
	}
	return strings.Join(parts, ".")
}

// String writes s as a TOML basic string; one of several lines as a
// multi-line basic string, so a script reads as written.
func String(s string) string { return quote(s, strings.Contains(s, "\n")) }

// quote writes s as a basic string, multi-line or not (as a key must be).
func quote(s string, multi bool) string {
	var b strings.Builder
	if multi {
		b.WriteString("\"\"\"\n")
	} else {
		b.WriteByte('"')
	}
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n' && multi:
			b.WriteByte('\n')
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteByte('\t')
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	if multi {
		b.WriteString(`"""`)
	} else {
		b.WriteByte('"')
	}
	return b.String()
}

// Strings writes an array of strings on one line.
func Strings(list []string) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = String(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
