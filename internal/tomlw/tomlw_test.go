package tomlw

import (
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// TestRoundTrip: what String and Key write reads back, with go-toml, as
// the value and key they were given.
func TestRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tand\x01control\x7f", "two\nlines\n", "ends with quote\"", "\"\"\"triple\"\"\"", "unicode é ✓", "line\r\nbreak"} {
		doc := Key(s) + " = " + String(s) + "\nlist = " + Strings([]string{s, s}) + "\n"
		var got map[string]any
		if err := toml.Unmarshal([]byte(doc), &got); err != nil {
			t.Fatalf("%q: %v\n%s", s, err, doc)
		}
		if got[s] != s {
			t.Errorf("%q read back as %q\n%s", s, got[s], doc)
		}
		if l, ok := got["list"].([]any); !ok || len(l) != 2 || l[0] != s {
			t.Errorf("%q: list %v", s, got["list"])
		}
	}
}
