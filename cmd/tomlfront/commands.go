package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/lint"
	"github.com/tomlfront/tomlfront/llbgen"
	"github.com/tomlfront/tomlfront/spec"
)

// buildArgs collects repeated --build-arg K=V flags.
type buildArgs map[string]string

func (b buildArgs) String() string { return "" }

func (b buildArgs) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	b[k] = val
	return nil
}

// newFlags returns a flag set that reports errors to stderr and the
// -f flag every command has.
func newFlags(name, synopsis string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("tomlfront "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "build.toml", "the spec `file`")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: tomlfront %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs, file
}

// parseFlags parses args; it returns the exit code to use when parsing ends
// the command (help or a bad flag).
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q: this command takes only flags (see --help)\n", fs.Name(), fs.Arg(0))
		return 2, false
	}
	return 0, true
}

// load reads and loads a spec, printing its problems.
func load(file string, stderr io.Writer) (*spec.Spec, int) {
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "tomlfront: %v\n", err)
		return nil, 2
	}
	s, err := spec.Load(file, src)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, 1
	}
	return s, 0
}

const llbSynopsis = `Writes the LLB definition of the spec's target to stdout, for example:

  tomlfront llb -f build.toml | buildctl build --local context=. --output type=local,dest=out

The build context is the local source named "context"; a "context:NAME" is the
local source NAME. Base images are used by name, without asking a registry, so
their config (env, workdir, user) does not apply in this mode; build through
the frontend image (# syntax=) to get it.`

func runLLB(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, file := newFlags("llb", llbSynopsis, stderr)
	target := fs.String("target", "", "the `stage` to build (default: the spec's default stage)")
	platform := fs.String("platform", "", "the target `platform`, e.g. linux/arm64 (default: this machine's)")
	bargs := buildArgs{}
	fs.Var(bargs, "build-arg", "set an arg, `KEY=VALUE`; repeatable")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	s, code := load(*file, stderr)
	if s == nil {
		return code
	}
	opt := llbgen.Options{Target: *target, BuildArgs: bargs, CacheNamespace: bargs["BUILDKIT_CACHE_MOUNT_NS"]}
	if *platform != "" {
		p, err := platforms.Parse(*platform)
		if err != nil {
			fmt.Fprintf(stderr, "tomlfront llb: invalid --platform %q: %v\n", *platform, err)
			return 2
		}
		opt.TargetPlatform = &p
	}
	res, err := llbgen.Convert(ctx, s, opt)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, f := range lint.Check(s, bargs) {
		if f.Rule == lint.UndeclaredBuildArg {
			fmt.Fprintln(stderr, f.Error(s.File))
		}
	}
	// A unique id from the spec's path, not a random one, keeps the output
	// deterministic while local sources of other projects stay apart.
	abs, err := filepath.Abs(*file)
	if err != nil {
		abs = *file
	}
	def, err := res.State.Marshal(ctx, llb.Platform(res.Platform), llb.LocalUniqueID(digest.FromString(abs).Encoded()[:25]))
	if err != nil {
		fmt.Fprintf(stderr, "tomlfront llb: %v\n", err)
		return 1
	}
	dt, err := llbgen.MarshalDefinition(def)
	if err == nil {
		_, err = stdout.Write(dt)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tomlfront llb: %v\n", err)
		return 1
	}
	return 0
}

const lintSynopsis = `Checks a spec and prints every problem as FILE:LINE:COL: message, one a line.
Exits 1 when there is an error, 0 when the spec is valid.`

func runLint(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, file := newFlags("lint", lintSynopsis, stderr)
	bargs := buildArgs{}
	fs.Var(bargs, "build-arg", "check with an arg set, `KEY=VALUE`; repeatable")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	src, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintf(stderr, "tomlfront: %v\n", err)
		return 2
	}
	problems := check(ctx, *file, src, bargs)
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	for _, p := range problems {
		if p.Severity == spec.SeverityError {
			return 1
		}
	}
	return 0
}

// check loads a spec, runs the lint rules, and converts each stage offline,
// so that problems only conversion finds, such as a ${VAR:?message}, show
// too.
func check(ctx context.Context, file string, src []byte, args map[string]string) spec.Errors {
	s, err := spec.Load(file, src)
	if err != nil {
		var errs spec.Errors
		if errors.As(err, &errs) {
			return errs
		}
		return spec.Errors{{File: file, Pos: spec.Pos{Line: 1, Column: 1}, Msg: err.Error()}}
	}
	var out spec.Errors
	for _, f := range lint.Check(s, args) {
		out = append(out, f.Error(file))
	}
	seen := map[string]bool{}
	amd64 := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	for _, st := range s.Stages {
		_, err := llbgen.Convert(ctx, s, llbgen.Options{Target: st.Name, BuildArgs: args, TargetPlatform: &amd64, BuildPlatform: &amd64})
		var e *spec.Error
		if errors.As(err, &e) && !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Pos, out[j].Pos
		return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
	})
	return out
}
