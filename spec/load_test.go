package spec

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

const validSpec = `# syntax=ghcr.io/tomlfront/tomlfront:1
version = 1

[args]
# The Go toolchain.
GO_VERSION = "1.26"
OUT = "/out/${GO_VERSION}"

[caches.gomod]
target = "/go/pkg/mod"
sharing = "locked"

# Builds the app.
[stages.build]
from = "golang:${GO_VERSION}"
env = { CGO_ENABLED = "0" }
steps = [ # comments may stand in arrays
  { copy = "go.mod" },
  { run = "go mod download", caches = ["gomod"] },
]

[stages.runtime]
from = "scratch"

[[stages.runtime.steps]]
copy = ["/out/app"]
from = "build"
`

func TestLoadValid(t *testing.T) {
	s, err := Load("build.toml", []byte(validSpec))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range s.Stages {
		names = append(names, st.Name)
	}
	if !reflect.DeepEqual(names, []string{"build", "runtime"}) {
		t.Errorf("stages %v: document order lost", names)
	}
	if s.DefaultStage().Name != "runtime" {
		t.Errorf("default stage %q, want the last one", s.DefaultStage().Name)
	}
	build := s.Stage("build")
	if build.Description != "Builds the app." || s.Arg("GO_VERSION").Description != "The Go toolchain." || s.Arg("OUT").Description != "" {
		t.Errorf("descriptions %q %q", build.Description, s.Arg("GO_VERSION").Description)
	}
	if len(build.Steps) != 2 || build.Steps[0].Kind != StepCopy || build.Steps[1].Kind != StepRun {
		t.Fatalf("inline steps: %+v", build.Steps)
	}
	if got := build.Steps[0].Sources.Plain(); !reflect.DeepEqual(got, []string{"go.mod"}) {
		t.Errorf("copy of a single string: %q", got)
	}
}

// TestPositions checks the positions kept for tables, keys and values.
func TestPositions(t *testing.T) {
	s, err := Load("build.toml", []byte(validSpec))
	if err != nil {
		t.Fatal(err)
	}
	build, runtime := s.Stage("build"), s.Stage("runtime")
	tests := []struct {
		name string
		got  Range
		want Range
	}{
		{"stage header", build.Header, Range{Start: Pos{14, 1}, End: Pos{14, 14}}},
		{"from key", build.From.Loc.Key, Range{Start: Pos{15, 1}, End: Pos{15, 5}}},
		{"from value", build.From.Loc.Value, Range{Start: Pos{15, 8}, End: Pos{15, 30}}},
		{"env value", build.Env[0].Value.Loc.Value, Range{Start: Pos{16, 23}, End: Pos{16, 26}}},
		{"env key", build.Env[0].Value.Loc.Key, Range{Start: Pos{16, 9}, End: Pos{16, 20}}},
		{"inline step", build.Steps[1].Range, Range{Start: Pos{19, 3}, End: Pos{19, 48}}},
		{"list item", build.Steps[1].Caches.Values[0].Loc.Value, Range{Start: Pos{19, 40}, End: Pos{19, 47}}},
		{"array-of-tables step", runtime.Steps[0].Range, Range{Start: Pos{25, 1}, End: Pos{27, 15}}},
		{"stage range covers its steps", runtime.Range, Range{Start: Pos{22, 1}, End: Pos{27, 15}}},
		{"cache header", s.Cache("gomod").Header, Range{Start: Pos{9, 9}, End: Pos{9, 14}}},
		{"arg value", s.Arg("OUT").Value.Loc.Value, Range{Start: Pos{7, 7}, End: Pos{7, 27}}},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestExpand(t *testing.T) {
	s, err := Load("build.toml", []byte(validSpec))
	if err != nil {
		t.Fatal(err)
	}
	vars := NewVars()
	vars.Set("GO_VERSION", "1.26")
	vars.Set("EMPTY", "")
	tests := []struct{ in, want, err string }{
		{"golang:${GO_VERSION}", "golang:1.26", ""},
		{"${EMPTY:-fallback}", "fallback", ""},
		{"${GO_VERSION:+set}", "set", ""},
		{"it's \"quoted\" $GO_VERSION", "it's \"quoted\" 1.26", ""},
		{"\\$GO_VERSION", "$GO_VERSION", ""},
		{"${MISSING}", "", `build.toml:15:8: undeclared variable "MISSING": neither [args], the platform args (TARGETARCH, ...) nor the stage's env, its own or inherited, sets it; declare it, or write ${MISSING:-} for empty when unset, \$ for a literal $`},
		{"$MISSING/bin", "", `build.toml:15:8: undeclared variable "MISSING": neither [args], the platform args (TARGETARCH, ...) nor the stage's env, its own or inherited, sets it; declare it, or write ${MISSING:-} for empty when unset, \$ for a literal $`},
		{"${MISSING:-none}/$GO_VERSIONS", "", `build.toml:15:8: undeclared variable "GO_VERSIONS" (did you mean "GO_VERSION"?): neither [args], the platform args (TARGETARCH, ...) nor the stage's env, its own or inherited, sets it; declare it, or write ${GO_VERSIONS:-} for empty when unset, \$ for a literal $`},
		// A name declared nowhere gives, with a modifier, what a Dockerfile gives.
		{"${MISSING:-none}/${MISSING:+set}${MISSING-}${MISSING%x}", "none/", ""},
		{"${MISSING:-$GO_VERSION}", "1.26", ""},
		{"${EMPTY:?is required}", "", `build.toml:15:8: invalid variable in "${EMPTY:?is required}": EMPTY: is required`},
	}
	for _, tc := range tests {
		v := s.Stage("build").From
		v.Value = tc.in
		got, err := s.Expand(v, vars)
		if errStr(err) != tc.err || got != tc.want {
			t.Errorf("Expand(%q) = %q, %v; want %q, %s", tc.in, got, err, tc.want, tc.err)
		}
	}
	// Offline, where the base image's env is not known, a name declared
	// nowhere may be in it: it is empty, as in a Dockerfile.
	inherited := vars.Clone()
	inherited.Inherit("debian:bookworm")
	v := s.Stage("build").From
	v.Value = "${HOME}/bin:$GO_VERSION"
	if got, err := s.Expand(v, inherited); err != nil || got != "/bin:1.26" {
		t.Errorf("Expand(%q) with an inherited env = %q, %v; want %q", v.Value, got, err, "/bin:1.26")
	}
}

func TestInheritedVars(t *testing.T) {
	s, err := Load("build.toml", []byte(`[stages.base]
from = "debian:bookworm"
env = { APP = "${HOME}/app" }
[stages.app]
from = "base"
workdir = "${APP}"
[[stages.app.steps]]
file = "/etc/motd"
content = "$USER ${LANG:-C}"
expand = true
[stages.empty]
from = "scratch"
env = { X = "${NONE:-x}" }
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range s.InheritedVars() {
		got = append(got, fmt.Sprintf("%s %s %s %v", v.Name, v.Stage, v.Base, v.At.Start))
	}
	want := []string{"HOME base debian:bookworm {3 15}", "USER app debian:bookworm {9 11}"}
	if !slices.Equal(got, want) {
		t.Errorf("InheritedVars = %q, want %q", got, want)
	}
}

func errStr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestResolveCache(t *testing.T) {
	s, err := Load("build.toml", []byte(`
[caches.gomod]
target = "/go/pkg/mod"
[caches.pipcache]
preset = "pip"
target = "/cache/pip"
[caches.tools]
preset = "go"
id = "shared-go"
sharing = "private"
[stages.a]
from = "busybox:1.36"
`))
	if err != nil {
		t.Fatal(err)
	}
	ids := func(rc ResolvedCache) (out []string) {
		for _, m := range rc.Mounts {
			out = append(out, m.ID.Value+" "+m.Target.Value+" "+m.Sharing.Value)
		}
		return out
	}
	tests := []struct {
		name string
		want []string
	}{
		{"gomod", []string{"gomod /go/pkg/mod shared"}},
		{"tools", []string{"shared-go/mod /var/cache/tomlfront/go/mod private", "shared-go/build /var/cache/tomlfront/go/build private"}},
		{"apt", []string{"apt/cache /var/cache/apt locked", "apt/lists /var/lib/apt locked"}},
		{"npm", []string{"npm /var/cache/tomlfront/npm shared"}},
	}
	for _, tc := range tests {
		if got := ids(s.ResolveCache(tc.name)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	pip := s.ResolveCache("pipcache")
	if len(pip.Env) != 1 || pip.Env[0].Value.Value != "/cache/pip" || Presets["pip"].Env[0].Value.Value != "/var/cache/tomlfront/pip" {
		t.Errorf("a preset's env must follow its new target: %v", pip.Env)
	}
}

func TestErrorKeepsCause(t *testing.T) {
	sp := &Spec{Files: Files{{Name: "b.toml"}}}
	err := sp.ErrorAt(Range{Start: Pos{2, 3}}, "image %q: %w", "x", context.Canceled)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v does not unwrap to context.Canceled", err)
	}
	if got, want := err.Error(), `b.toml:2:3: image "x": context canceled`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, lerr := Load("b.toml", []byte("a = 1979-02-30\n"))
	var es Errors
	if !errors.As(lerr, &es) || errors.Unwrap(es[0]) == nil {
		t.Errorf("an invalid date keeps no cause: %v", lerr)
	}
}

// TestArgTables: an arg written as a table has its default, required flag
// and description; a required arg without a --build-arg fails at its key.
func TestArgTables(t *testing.T) {
	const src = `[args]
# the comment
APP = { required = true, description = "the command under ./cmd to build" }
PORT = { default = "8080" }
# the log level
LEVEL = "info"
[stages.a]
from = "busybox"
args = ["APP", "PORT", "LEVEL"]
`
	s, err := Load("build.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	type arg struct {
		Name, Default, Description string
		Required                   bool
		Key                        Pos
	}
	var got []arg
	for _, a := range s.Args {
		got = append(got, arg{a.Name, a.Value.Value, a.Description, a.Required.Value, a.Key.Start})
	}
	want := []arg{
		{"APP", "", "the command under ./cmd to build", true, Pos{3, 1}},
		{"PORT", "8080", "", false, Pos{4, 1}},
		{"LEVEL", "info", "the log level", false, Pos{6, 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("args\n got %+v\nwant %+v", got, want)
	}
	for _, tc := range []struct {
		buildArgs map[string]string
		want      string
	}{
		{nil, `build.toml:3:1: arg "APP" (the command under ./cmd to build) is required and not set: pass --build-arg APP=VALUE, or set it in the [args] of a spec that includes this one`},
		{map[string]string{"PORT": "1"}, `build.toml:3:1: arg "APP" (the command under ./cmd to build) is required and not set: pass --build-arg APP=VALUE, or set it in the [args] of a spec that includes this one`},
		{map[string]string{"APP": "api"}, ""},
		{map[string]string{"APP": ""}, ""}, // set, if empty: as a Dockerfile ARG
	} {
		if got := errStr(s.CheckRequiredArgs(tc.buildArgs)); got != tc.want {
			t.Errorf("CheckRequiredArgs(%v) = %q, want %q", tc.buildArgs, got, tc.want)
		}
	}
}
