package spec

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// tomlSeeds hold every kind of TOML construct, valid and invalid, for the
// differential fuzz target and its seed run in `go test`.
var tomlSeeds = []string{
	"",
	"# only a comment\n",
	"a = 1\nb = -0x1\nc = 0o17\nd = 0b101\ne = 1_000\nf = +3\n",
	"a = 01\n",
	"a = 9223372036854775808\n",
	"a = 1.5\nb = -1e10\nc = 6.626e-34\nd = inf\ne = -nan\nf = 1_0.0_1\n",
	"a = 1.5e999\n",
	"a = .5\n",
	"a = true\nb = false\n",
	"s = 'lit'\nt = \"esc \\t \\u00e9 \\U0001F600\"\nu = '''\nmulti\n'''\nv = \"\"\"\nmulti \\\n  line\"\"\"\n",
	"s = \"\\x41\"\n",
	"s = \"\\ud800\"\n",
	"d = 1979-05-27T07:32:00Z\ne = 1979-05-27T00:32:00.999999-07:00\nf = 1979-05-27 07:32:00\ng = 1979-05-27\nh = 07:32:00\ni = 00:32:00.999999\n",
	"d = 1979-02-30\n",
	"d = 2023-02-29\n",
	"d = 2024-02-29\n",
	"t = 24:00:00\n",
	"t = 23:60:00\n",
	"d = 1979-05-2707:32:00\n",
	"d = 07:32:00Z\n",
	"d = 1979-05-27T07:32\n",
	"d = 1979-13-01\n",
	"a = [1, 'two', [3], {x = 4}]\nb = [\n  1, # comment\n  2,\n]\n",
	"a = [,]\n",
	"t = {a = 1, b.c = 2}\n",
	"env = { # c\n  A = \"1\" }\n",
	"env = {\n  A = \"1\", # c\n  B = \"2\",\n}\n",
	"t = {a = 1, a = 2}\n",
	"t = {a = 1}\nt.b = 2\n",
	"[a]\nb = 1\n[a]\nc = 2\n",
	"[a.b]\n[a]\nc = 1\n",
	"[a]\nb.c = 1\n[a.b]\n",
	"a.b = 1\n[a]\n",
	"[[a]]\nb = 1\n[[a]]\nb = 2\n[a.c]\nd = 1\n",
	"a = []\n[[a]]\n",
	"[[a]]\n[a]\n",
	"'quoted key' = 1\n\"dq.key\" = 2\na.'b.c'.d = 3\n",
	"= 1\n",
	"a = 1 b = 2\n",
	"[a\nb = 1\n",
	"a = \"unterminated\n",
	"\xff = 1\n",
	"a = 1\r\nb = 2\r\n",
	"[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\n",
}

// FuzzTOML checks that the positioned tree accepts exactly the documents
// go-toml's decoder accepts, with the same values.
func FuzzTOML(f *testing.F) {
	for _, s := range tomlSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var want map[string]any
		decodeErr := toml.Unmarshal(src, &want)
		root, _, treeErr := parseTree(0, src)
		switch {
		case decodeErr != nil && treeErr == nil:
			t.Fatalf("the tree accepts what the decoder rejects (%v):\n%q", decodeErr, src)
		case decodeErr == nil && treeErr != nil:
			t.Fatalf("the tree rejects what the decoder accepts (%v):\n%q", treeErr, src)
		case treeErr != nil:
			if treeErr.Pos.Line < 1 || treeErr.Pos.Column < 1 {
				t.Fatalf("error without a position: %v", treeErr)
			}
			return
		}
		got := treeValue(t, root)
		if want == nil {
			want = map[string]any{}
		}
		if !reflect.DeepEqual(got, normalize(want)) {
			t.Fatalf("the tree and the decoder disagree on\n%q\ntree:    %#v\ndecoder: %#v", src, got, normalize(want))
		}
	})
}

// treeValue turns a tree into the values the decoder makes, in the forms
// normalize gives them.
func treeValue(t *testing.T, n *node) any {
	switch n.kind {
	case kindTable:
		m := make(map[string]any, len(n.fields))
		for k, v := range n.fields {
			m[k] = treeValue(t, v)
		}
		return m
	case kindArray:
		a := make([]any, len(n.items))
		for i, v := range n.items {
			a[i] = treeValue(t, v)
		}
		return a
	case kindString:
		return normalize(n.str)
	case kindInteger:
		return normalize(n.num)
	case kindBool:
		return normalize(n.flag)
	}
	// Floats and date-times: the decoder's own reading of the raw text,
	// which checkScalar has already accepted.
	var v struct{ V any }
	if err := toml.Unmarshal([]byte("V = "+n.str), &v); err != nil {
		t.Fatalf("scalar %q: %v", n.str, err)
	}
	return normalize(v.V)
}

// normalize makes values comparable with DeepEqual: NaN is not equal to
// itself, so floats become their bits' text.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = normalize(x)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, x := range v {
			a[i] = normalize(x)
		}
		return a
	case float64:
		if math.IsNaN(v) {
			return "NaN"
		}
		return strconv.FormatUint(math.Float64bits(v), 16)
	default:
		return fmt.Sprint(v)
	}
}

// FuzzInclude loads a spec that includes another (every include reads the
// second file, so includes nest until a cycle or the file limit ends them):
// nothing may panic, every position must name a file of the spec, and what
// loads must resolve into one file that loads to the same stages and args.
func FuzzInclude(f *testing.F) {
	f.Add([]byte("include = [\"a.toml\"]\n[stages.b]\nfrom = \"a\"\n"), []byte("[stages.a]\nfrom = \"scratch\"\n"))
	f.Add([]byte("include = [\"context:c/x.toml\"]\n[args]\nA = \"1\"\n"), []byte("include = [\"y/z.toml\"]\n[args]\nA = { required = true }\n[stages.a]\nfrom = \"busybox\"\nenv = { X = \"${A}\" }\n"))
	f.Add([]byte("include = [\"a.toml\", \"b.toml\"]\nversion = 1\n"), []byte("version = 1\n[stages.s]\nfrom = \"scratch\"\n[[stages.s.steps]]\ncopy = \"x\"\nto = \"/y\"\n"))
	f.Fuzz(func(t *testing.T, main, included []byte) {
		read := func(context.Context, Include) ([]byte, error) { return included, nil }
		ctx := context.Background()
		s, err := LoadWith(ctx, "build.toml", main, read)
		var es Errors
		if err != nil {
			if !errors.As(err, &es) {
				t.Fatalf("not Errors: %v", err)
			}
			for _, e := range es {
				if e.File == "" {
					t.Fatalf("an error names no file: %v", e)
				}
			}
			return
		}
		for _, st := range s.Stages {
			if st.Header.File >= len(s.Files) || st.From.Loc.Value.File >= len(s.Files) {
				t.Fatalf("stage %s at a file the spec has not", st.Name)
			}
		}
		out := s.Resolved()
		flat, err := Load("resolved.toml", out)
		if err != nil {
			t.Fatalf("the resolved spec does not load: %v\n%s", err, out)
		}
		argNames := func(s *Spec) []string {
			var names []string
			for _, a := range s.Args {
				names = append(names, a.Name+"="+a.Value.Value)
			}
			return names
		}
		if !reflect.DeepEqual(s.StageNames(), flat.StageNames()) || !reflect.DeepEqual(argNames(s), argNames(flat)) {
			t.Fatalf("resolved to other stages or args:\n%s", out)
		}
	})
}
