package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

func writeSpec(t *testing.T, src string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "build.toml")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestCommands(t *testing.T) {
	valid := writeSpec(t, "[args]\nV = \"1\"\n[stages.a]\nfrom = \"busybox:1.36\"\nargs = [\"V\"]\n[[stages.a.steps]]\nrun = \"echo $V\"\n")
	invalid := writeSpec(t, "[stages.a]\nfrom = \"scratch\"\nworkdir = \"${NOPE}\"\n[stages.b]\nform = \"a\"\n")
	tests := []struct {
		name         string
		args         []string
		code         int
		stdout       string // prefix
		stderrSubstr string
	}{
		{"lint valid", []string{"lint", "-f", valid}, 0, "", ""},
		{"lint invalid", []string{"lint", "-f", invalid}, 1, invalid + ":3:11: undeclared variable \"NOPE\"", ""},
		{"lint missing file", []string{"lint", "-f", "/nonexistent/build.toml"}, 2, "", "no such file"},
		{"lint default file", []string{"lint"}, 2, "", "build.toml"},
		{"unknown command", []string{"buidl"}, 2, "", `unknown command "buidl"`},
		{"bad build arg", []string{"llb", "-f", valid, "--build-arg", "NOVALUE"}, 2, "", `"NOVALUE" is not KEY=VALUE`},
		{"bad platform", []string{"llb", "-f", valid, "--platform", "linux/"}, 2, "", `invalid --platform "linux/"`},
		{"unknown target", []string{"llb", "-f", valid, "--target", "b"}, 1, "", `target stage "b" not found`},
		{"extra argument", []string{"lint", "-f", valid, "extra"}, 2, "", `unexpected argument "extra"`},
		{"undeclared build arg warns", []string{"llb", "-f", valid, "--build-arg", "W=1"}, 0, "", `warning: build arg "W" is not declared`},
		{"help", []string{"help", "llb"}, 0, "", "buildctl build --local context=."},
		{"lint platform list", []string{"lint", "-f", valid, "--platform", "linux/amd64, linux/arm64/v8"}, 0, "", ""},
		{"lint malformed platform", []string{"lint", "-f", valid, "--platform", "linux/amd64,,"}, 2, "", `invalid --platform ""`},
		{"lint unknown platform", []string{"lint", "-f", valid, "--platform", "linux/amd64,plan9/"}, 2, "", `invalid --platform "plan9/"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if tc.stdout != "" && !strings.HasPrefix(stdout.String(), tc.stdout) {
				t.Errorf("stdout %q, want prefix %q", stdout.String(), tc.stdout)
			}
			if tc.stdout == "" && tc.args[0] == "lint" && stdout.Len() > 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
			if !strings.Contains(stderr.String(), tc.stderrSubstr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderrSubstr)
			}
		})
	}
}

// TestLintListsEveryProblem checks the compiler convention: every problem
// on a line of its own, sorted by position.
func TestLintListsEveryProblem(t *testing.T) {
	file := writeSpec(t, "[stages.b]\nfrom = \"busybox:1.36\"\nusr = \"x\"\n[stages.a]\nform = \"busybox\"\n")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"lint", "-f", file}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	want := []string{file + ":3:1: ", file + ":4:1: ", file + ":5:1: "}
	if len(lines) != len(want) {
		t.Fatalf("lines %q", lines)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d %q, want prefix %q", i, lines[i], w)
		}
	}
}

// TestLLBOutput checks that the definition on stdout is what buildctl reads.
func TestLLBOutput(t *testing.T) {
	file := writeSpec(t, "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\ncopy = [\"x\"]\n[[stages.a.steps]]\nrun = \"cat x\"\n")
	var first []byte
	for i := 0; i < 3; i++ {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"llb", "-f", file, "--platform", "linux/arm64"}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if i == 0 {
			first = stdout.Bytes()
		} else if !bytes.Equal(first, stdout.Bytes()) {
			t.Fatal("llb output differs between runs")
		}
	}
	def, err := llb.ReadFrom(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	var sawImage, sawContext bool
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if src := op.GetSource(); src != nil {
			sawImage = sawImage || src.Identifier == "docker-image://docker.io/library/busybox:1.36"
			sawContext = sawContext || src.Identifier == "local://context"
			if strings.HasPrefix(src.Identifier, "docker-image://") && op.Platform.Architecture != "arm64" {
				t.Errorf("image platform %v", op.Platform)
			}
		}
	}
	if !sawImage || !sawContext {
		t.Errorf("sources: image %v, context %v", sawImage, sawContext)
	}
}

func TestCachesCommand(t *testing.T) {
	file := writeSpec(t, `
[caches.gomod]
target = "/go/pkg/mod"
sharing = "locked"
[stages.a]
from = "golang:1.26"
caches = ["gomod"]
[[stages.a.steps]]
run = "go mod download"
[[stages.a.steps]]
run = "go build"
mounts = [{ type = "cache", target = "/tmp/x" }]
`)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"caches", "-f", file, "--build-arg", "BUILDKIT_CACHE_MOUNT_NS=ns"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := `(mount)
  id:      ns//tmp/x
  target:  /tmp/x
  sharing: shared
  steps:   a 2 (FILE:10)
  drop:    buildctl prune --filter 'type==exec.cachemount,description~="with id \"ns//tmp/x\""'
           docker buildx prune --filter type=exec.cachemount --filter 'description~="with id \"ns//tmp/x\""'

gomod
  id:      ns/gomod
  target:  /go/pkg/mod
  sharing: locked
  steps:   a 1 (FILE:8), a 2 (FILE:10)
  drop:    buildctl prune --filter 'type==exec.cachemount,description~="with id \"ns/gomod\""'
           docker buildx prune --filter type=exec.cachemount --filter 'description~="with id \"ns/gomod\""'
`
	if got := strings.ReplaceAll(stdout.String(), file, "FILE"); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

func TestPanicIsReported(t *testing.T) {
	valid := writeSpec(t, "[stages.a]\nfrom = \"busybox\"\nenv = { # a comment inside an inline table\n  A = \"1\" }\n")
	testHook = func(args []string) { panic("injected") }
	defer func() { testHook = nil }()
	for _, cmd := range []string{"llb", "lint", "caches"} {
		t.Run(cmd, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run([]string{cmd, "-f", valid}, &stdout, &stderr); code != exitInternal {
				t.Errorf("exit %d, want %d", code, exitInternal)
			}
			for _, want := range []string{"internal error in tomlfront", "injected", "please report it", "with the spec"} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q: %s", want, stderr.String())
				}
			}
		})
	}
	testHook = nil
	for _, cmd := range []string{"llb", "lint", "caches"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{cmd, "-f", valid}, &stdout, &stderr); code != 0 {
			t.Errorf("%s of a spec with a comment in an inline table: exit %d: %s", cmd, code, stderr.String())
		}
	}
}

// TestSharingCommands runs the commands on the example services, which
// include the template through the named context "templates".
func TestSharingCommands(t *testing.T) {
	svc := filepath.Join("..", "..", "examples", "service-a", "build.toml")
	templates := "templates=" + filepath.Join("..", "..", "examples", "templates")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"resolve", []string{"resolve", "-f", svc, "--build-context", templates}, 0, "\n# from context:templates/go-service.toml:", ""},
		{"resolve without the context's directory", []string{"resolve", "-f", svc}, 1, "",
			`build.toml:4:12: include "context:templates/go-service.toml": the context "templates" is https://github.com/tomlfront/tomlfront.git#v1.0.0:examples/templates, which the tomlfront CLI does not fetch: pass --build-context templates=DIR`},
		{"lint", []string{"lint", "-f", svc, "--build-context", templates}, 0, "", ""},
		{"caches name the template's lines", []string{"caches", "-f", svc, "--build-context", templates}, 0, "(context:templates/go-service.toml:", ""},
		{"llb", []string{"llb", "-f", svc, "--build-context", templates}, 0, "", ""},
		{"a remote --build-context", []string{"lint", "-f", svc, "--build-context", "templates=docker-image://x"}, 2, "", "reads contexts from disk"},
		{"a missing template", []string{"lint", "-f", svc, "--build-context", "templates=" + t.TempDir()}, 1, "go-service.toml: no such file", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stdout %q\nstderr %q\nwant %q and %q", stdout.String(), stderr.String(), tc.stdout, tc.stderr)
			}
		})
	}
}

// TestConvertCommand: -o writes the spec and carries the Dockerfile's own
// ignore file; a construct without equivalent fails at its line, and
// --keep-going writes the rest.
func TestConvertCommand(t *testing.T) {
	dir := t.TempDir()
	df := filepath.Join(dir, "Dockerfile")
	for name, content := range map[string]string{
		"Dockerfile":              "FROM busybox:1.36\nRUN echo hi\n",
		"Dockerfile.dockerignore": "secrets/\n",
		"onbuild.Dockerfile":      "FROM busybox:1.36\nONBUILD RUN x\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "build.toml")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"convert", "-f", df, "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if dt, err := os.ReadFile(out); err != nil || !strings.HasPrefix(string(dt), "# syntax=ghcr.io/tomlfront/tomlfront:1\n") {
		t.Errorf("spec %q, %v", dt, err)
	}
	if dt, err := os.ReadFile(out + ".dockerignore"); err != nil || string(dt) != "secrets/\n" {
		t.Errorf("build.toml.dockerignore %q, %v", dt, err)
	}
	if code := run([]string{"lint", "-f", out}, &stdout, &stderr); code != 0 {
		t.Errorf("the converted spec does not lint: %s", stdout.String())
	}

	onbuild := filepath.Join(dir, "onbuild.Dockerfile")
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"convert", "-f", onbuild}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), onbuild+":2:1: ONBUILD has no equivalent") || stdout.Len() > 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if code := run([]string{"convert", "-f", onbuild, "--keep-going"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "# TODO(tomlfront convert): "+onbuild+":2:") {
		t.Errorf("--keep-going: exit %d, stdout %q", code, stdout.String())
	}
}

// TestSchemaFileUpToDate: the committed schema is what `tomlfront schema`
// writes.
func TestSchemaFileUpToDate(t *testing.T) {
	want, err := schemaJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "schema", "tomlfront.schema.json"))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("schema/tomlfront.schema.json is not what tomlfront schema writes (%v): run go run ./cmd/tomlfront schema > schema/tomlfront.schema.json", err)
	}
}
