package spec

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// files is a ReadFunc over a map of "CONTEXT:PATH" (":PATH" for the main
// file's context) to file contents; it records each Include it is asked.
type files struct {
	m     map[string]string
	asked []Include
}

func (f *files) read(_ context.Context, inc Include) ([]byte, error) {
	f.asked = append(f.asked, inc)
	src, ok := f.m[inc.Context+":"+inc.Path]
	if !ok {
		return nil, fmt.Errorf("open %s: %w", inc.Path, fs.ErrNotExist)
	}
	return []byte(src), nil
}

func loadFiles(t *testing.T, m map[string]string) (*Spec, *files, error) {
	t.Helper()
	f := &files{m: m}
	s, err := LoadWith(context.Background(), "build.toml", []byte(m[":build.toml"]), f.read)
	return s, f, err
}

const template = `[contexts]
specs = "https://github.com/org/specs.git#v1"

[args]
APP = { required = true, description = "the command to build" }
GO = "1.26"

[caches.gomod]
target = "/go/pkg/mod"

[stages.build]
from = "golang:${GO}"
env = { CGO_ENABLED = "0", GOFLAGS = "-trimpath" }
workdir = "/src"
[[stages.build.steps]]
run = "go build ./cmd/${APP}"

[stages.runtime]
from = "scratch"
[[stages.runtime.steps]]
copy = ["/out/app"]
from = "build"
`

func TestIncludeMerge(t *testing.T) {
	s, _, err := loadFiles(t, map[string]string{
		"specs:go/service.toml": template,
		":build.toml": `include = ["context:specs/go/service.toml", "ci/extra.toml"]

[args]
APP = "hello"

[stages.build]
env = { GOFLAGS = "-mod=mod" }
[[stages.build.steps]]
run = "make"

[stages.debug]
from = "build"
`,
		":ci/extra.toml": `[args]
GO = "1.25"
[stages.build]
workdir = "/work"
`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.StageNames(), []string{"build", "runtime", "debug"}; !reflect.DeepEqual(got, want) {
		t.Errorf("stages %v, want %v: includes first, in order, then the including file's new stages", got, want)
	}
	if d := s.DefaultStage().Name; d != "debug" {
		t.Errorf("default %q, want the last stage, debug", d)
	}
	build := s.Stage("build")
	var env []string
	for _, e := range build.Env {
		env = append(env, e.Name+"="+e.Value.Value)
	}
	if want := []string{"CGO_ENABLED=0", "GOFLAGS=-mod=mod"}; !reflect.DeepEqual(env, want) {
		t.Errorf("env %v, want %v: tables merge key by key", env, want)
	}
	if len(build.Steps) != 1 || build.Steps[0].Command.Value != "make" {
		t.Errorf("steps %v: an array is replaced whole", build.Steps)
	}
	if build.Workdir.Value != "/work" || s.Arg("GO").Value.Value != "1.25" {
		t.Errorf("workdir %q, GO %q: a later include replaces an earlier one's scalars", build.Workdir.Value, s.Arg("GO").Value.Value)
	}
	app := s.Arg("APP")
	if app.Required.Value || app.Value.Value != "hello" {
		t.Errorf("APP: %+v; the including file's value satisfies the template's required arg", app)
	}
	if err := s.CheckRequiredArgs(nil); err != nil {
		t.Errorf("required arg set by the including file: %v", err)
	}

	// Every value keeps the file and position it was written at.
	names := make([]string, len(s.Files))
	for i, f := range s.Files {
		names[i] = f.Name
	}
	if want := []string{"build.toml", "context:specs/go/service.toml", "ci/extra.toml"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	for _, c := range []struct {
		what string
		r    Range
		file int
		line int
	}{
		{"from, from the template", build.From.Loc.Value, 1, 12},
		{"the step, from the including file", build.Steps[0].Range, 0, 8},
		{"workdir, from the second include", build.Workdir.Loc.Value, 2, 4},
		{"runtime's header", s.Stage("runtime").Header, 1, 18},
		{"the declared context", s.Context("specs").Key, 1, 2},
	} {
		if c.r.File != c.file || c.r.Start.Line != c.line {
			t.Errorf("%s: file %d line %d, want file %d line %d", c.what, c.r.File, c.r.Start.Line, c.file, c.line)
		}
	}
}

func TestIncludeReadsRelativeToTheIncludingFile(t *testing.T) {
	_, f, err := loadFiles(t, map[string]string{
		":build.toml":           "include = [\"context:specs/go/service.toml\", \"ci/a.toml\"]\n[contexts]\nspecs = \"https://github.com/org/specs.git#v2\"\n",
		"specs:go/service.toml": "include = [\"common.toml\"]\n[contexts]\nspecs = \"https://github.com/org/specs.git#v1\"\n",
		"specs:go/common.toml":  "[stages.a]\nfrom = \"scratch\"\n",
		":ci/a.toml":            "include = [\"../b.toml\"]\n",
		":b.toml":               "",
	})
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	for _, inc := range f.asked {
		src := "-"
		if inc.Declared != nil {
			src = inc.Declared.Source.Value
		}
		asked = append(asked, inc.Context+":"+inc.Path+" "+src)
	}
	want := []string{
		"specs:go/service.toml https://github.com/org/specs.git#v2",
		// The outermost declaration wins, as it does in the merge.
		"specs:go/common.toml https://github.com/org/specs.git#v2",
		":ci/a.toml -",
		":b.toml -",
	}
	if !reflect.DeepEqual(asked, want) {
		t.Errorf("asked\n%s\nwant\n%s", strings.Join(asked, "\n"), strings.Join(want, "\n"))
	}
}

func TestIncludeErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"an error in a template names its file and the chain", map[string]string{
			":build.toml":           "# syntax=x\ninclude = [\"context:specs/go/service.toml\"]\n",
			"specs:go/service.toml": "include = [\"base.toml\"]\n",
			"specs:go/base.toml":    "[stages.a]\nfrom = \"scratch\"\nwokdir = \"/src\"\n",
		}, `context:specs/go/base.toml:3:1: unknown key "wokdir" in stage "a" (did you mean "workdir"?)`,
		},
		{"the chain, innermost first", map[string]string{
			":build.toml":           "# syntax=x\ninclude = [\"context:specs/go/service.toml\"]\n",
			"specs:go/service.toml": "\ninclude = [\"base.toml\"]\n",
			"specs:go/base.toml":    "[stages.a]\nfrom = \"context:\"\n",
		}, "\n\tincluded from context:specs/go/service.toml:2:12\n\tincluded from build.toml:2:12",
		},
		{"an unknown stage in an included file", map[string]string{
			":build.toml": "include = [\"t.toml\"]\n[stages.b]\nfrom = \"scratch\"\n",
			":t.toml":     "[stages.a]\nfrom = \"scratch\"\n[[stages.a.steps]]\ncopy = [\"/x\"]\nfrom = \"context:\"\n[stages.c]\nfrom = \"Bulid\"\n",
		}, "t.toml:5:8: from \"context:\" names no context",
		},
		{"a cycle", map[string]string{
			":build.toml": "include = [\"a.toml\"]\n",
			":a.toml":     "include = [\"sub/b.toml\"]\n",
			":sub/b.toml": "include = [\"../a.toml\"]\n",
		}, "sub/b.toml:1:12: include cycle: a.toml includes sub/b.toml includes a.toml\n\tincluded from a.toml:1:12\n\tincluded from build.toml:1:12",
		},
		{"a file including itself", map[string]string{
			":build.toml": "include = [\"./build.toml\"]\n",
		}, "build.toml:1:12: include cycle: build.toml includes build.toml",
		},
		{"a missing file", map[string]string{
			":build.toml": "\ninclude = [\"ci/nope.toml\"]\n[stages.a]\nfrom = \"scratch\"\n",
		}, `build.toml:2:12: include "ci/nope.toml": open ci/nope.toml: file does not exist`,
		},
		{"a path leaving the spec's directory", map[string]string{
			":build.toml": "include = [\"../templates/go.toml\"]\n",
		}, `build.toml:1:12: include "../templates/go.toml" leaves the directory of the main spec`,
		},
		{"a path leaving a named context", map[string]string{
			":build.toml": "include = [\"context:specs/../x.toml\"]\n",
		}, `build.toml:1:12: include "context:specs/../x.toml" leaves the context "specs"`,
		},
		{"no file in the context", map[string]string{
			":build.toml": "include = [\"context:specs\"]\n",
		}, `build.toml:1:12: include "context:specs" names no file`,
		},
		{"not an array", map[string]string{
			":build.toml": "include = \"a.toml\"\n",
		}, `build.toml:1:11: include must be an array of paths`,
		},
		{"versions disagree", map[string]string{
			":build.toml": "include = [\"a.toml\"]\nversion = 2\n",
			":a.toml":     "version = 1\n[stages.a]\nfrom = \"scratch\"\n",
		}, `build.toml:2:11: version 2 differs from version 1 of a.toml`,
		},
		{"a bad context declaration", map[string]string{
			":build.toml": "[contexts]\nspecs = \"../specs\"\ntools = \"https://example.com/t.tar.gz\"\n[stages.a]\nfrom = \"scratch\"\n",
		}, `build.toml:2:9: context "specs": "../specs" is not a source [contexts] can declare: write a git URL, "docker-image://REF" or an http(s):// tarball with a checksum; a local directory is passed with --build-context specs=DIR
build.toml:3:9: context "tools": a tarball source needs its digest`,
		},
		{"invalid TOML in an include", map[string]string{
			":build.toml": "include = [\"a.toml\"]\n",
			":a.toml":     "[stages.a\n",
		}, "a.toml:1:10: invalid TOML",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := loadFiles(t, c.files)
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("got %v, want Errors", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got\n%v\nwant it to contain\n%s", err, c.want)
			}
		})
	}
}

// TestLoadRefusesIncludes checks that Load, with no way to read files, says
// so at the include rather than dropping it.
func TestLoadRefusesIncludes(t *testing.T) {
	_, err := Load("build.toml", []byte("include = [\"a.toml\"]\n"))
	if want := `build.toml:1:12: include "a.toml": this spec was loaded without a way to read included files`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}
