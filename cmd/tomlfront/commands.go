package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/identity"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/frontend"
	"github.com/tomlfront/tomlfront/llbgen"
	"github.com/tomlfront/tomlfront/pipeline"
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

// contextDirs collects repeated --build-context NAME=DIR flags.
type contextDirs map[string]string

func (c contextDirs) String() string { return "" }

func (c contextDirs) Set(v string) error {
	name, dir, ok := strings.Cut(v, "=")
	if !ok || name == "" || dir == "" {
		return fmt.Errorf("%q is not NAME=DIR", v)
	}
	if strings.Contains(dir, "://") {
		return fmt.Errorf("%q: the tomlfront CLI reads contexts from disk; give a directory (a checkout of the repository, or the image's files)", v)
	}
	c[name] = dir
	return nil
}

// names are the contexts given, sorted.
func (c contextDirs) names() []string { return slices.Sorted(maps.Keys(c)) }

// specFlags are the flags every command has: the spec file and the
// directories of its named contexts.
type specFlags struct {
	file     *string
	contexts contextDirs
}

// newFlags returns a flag set that reports errors to stderr, with the
// flags every command has.
func newFlags(name, synopsis string, stderr io.Writer) (*flag.FlagSet, specFlags) {
	fs := flag.NewFlagSet("tomlfront "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := specFlags{file: fs.String("f", "build.toml", "the spec `file`"), contexts: contextDirs{}}
	fs.Var(sf.contexts, "build-context", "read the named context NAME from a directory, `NAME=DIR`, as buildx's --build-context; repeatable")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: tomlfront %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs, sf
}

// read reads the files a spec includes from disk: its own context is the
// main file's directory; a named context is the directory --build-context
// gives it.
func (sf specFlags) read(_ context.Context, inc spec.Include) ([]byte, error) {
	root := filepath.Dir(*sf.file)
	if inc.Context != "" {
		dir, ok := sf.contexts[inc.Context]
		switch {
		case !ok && inc.Declared != nil:
			return nil, fmt.Errorf("the context %q is %s, which the tomlfront CLI does not fetch: pass --build-context %s=DIR with a local copy of it", inc.Context, inc.Declared.Source.Value, inc.Context)
		case !ok:
			return nil, fmt.Errorf("no context named %q: declare it in [contexts], or pass --build-context %s=DIR", inc.Context, inc.Context)
		}
		root = dir
	}
	return os.ReadFile(filepath.Join(root, filepath.FromSlash(inc.Path)))
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

// source reads the main spec file, printing what goes wrong.
func (sf specFlags) source(stderr io.Writer) ([]byte, bool) {
	src, err := os.ReadFile(*sf.file)
	if err != nil {
		fmt.Fprintf(stderr, "tomlfront: %v\n", err)
	}
	return src, err == nil
}

// run reads the main spec file and runs the pipeline on it, offline, for
// a build with opt on targets (none: this machine's platform). It prints
// what is not the spec's problem and returns nil with the exit code then.
func (sf specFlags) run(ctx context.Context, opt llbgen.Options, targets []ocispecs.Platform, stderr io.Writer) (*pipeline.Result, int) {
	src, ok := sf.source(stderr)
	if !ok {
		return nil, 2
	}
	p, err := pipeline.Run(ctx, pipeline.Request{File: *sf.file, Source: src, Read: sf.read,
		Options: opt, Platforms: targets, Contexts: sf.contexts.names(), Offline: true})
	if err != nil {
		fmt.Fprintf(stderr, "tomlfront: %v\n", err)
		return nil, 1
	}
	return p, 0
}

const llbSynopsis = `Writes the LLB definition of the spec's target to stdout, for example:

  tomlfront llb -f build.toml | buildctl build --local context=. --output type=local,dest=out

The build context is the local source named "context"; a "context:NAME" given
with --build-context is the local source NAME, else the source [contexts]
declares. Base images are used by name, without asking a registry, so
their config (env, workdir, user) does not apply in this mode; build through
the frontend image (# syntax=) to get it.`

// convertFlags are the flags of the commands that convert a spec.
type convertFlags struct {
	specFlags
	target, platform *string
	args             buildArgs
}

func addConvertFlags(fs *flag.FlagSet, sf specFlags) convertFlags {
	f := convertFlags{specFlags: sf, args: buildArgs{}}
	f.target = fs.String("target", "", "the `stage` to build (default: the spec's default stage)")
	f.platform = fs.String("platform", "", "the target `platform`, e.g. linux/arm64 (default: this machine's)")
	fs.Var(f.args, "build-arg", "set an arg, `KEY=VALUE`; repeatable")
	return f
}

// convert runs the pipeline on the spec and converts its target, offline,
// as a build would: the problems of the spec go to stderr (the warnings
// too), and an error ends it. It returns the exit code when it ends.
func (f convertFlags) convert(ctx context.Context, cmd string, stderr io.Writer) (*spec.Spec, *llbgen.Result, int) {
	opt := llbgen.Options{Target: *f.target, BuildArgs: f.args, CacheNamespace: f.args[spec.ArgCacheMountNS]}
	var err error
	if opt.CacheExport, err = frontend.CacheExportRequested(f.args); err != nil {
		fmt.Fprintf(stderr, "tomlfront %s: %v\n", cmd, err)
		return nil, nil, 2
	}
	if opt.CacheExport != llbgen.NoCacheExport { // an export must run every time: its output changes
		opt.RunID, opt.Started = identity.NewID(), time.Now()
		// The export's steps run the binary of the frontend image the spec
		// names, as a build through its # syntax= line does.
		if dt, err := os.ReadFile(*f.file); err == nil {
			if ref, _, _, ok := parser.DetectSyntax(dt); ok {
				helper := llb.Image(ref)
				opt.Helper = &helper
			}
		}
	}
	var targets []ocispecs.Platform
	if *f.platform != "" {
		p, err := platforms.Parse(*f.platform)
		if err != nil {
			fmt.Fprintf(stderr, "tomlfront %s: invalid --platform %q: %v\n", cmd, *f.platform, err)
			return nil, nil, 2
		}
		targets = []ocispecs.Platform{platforms.Normalize(p)}
	}
	p, code := f.run(ctx, opt, targets, stderr)
	if p == nil {
		return nil, nil, code
	}
	for _, problem := range p.Problems() {
		fmt.Fprintln(stderr, problem)
	}
	if p.Err() != nil {
		return nil, nil, 1
	}
	var target *ocispecs.Platform
	if len(targets) > 0 {
		target = &targets[0]
	}
	res, err := p.Convert(ctx, p.Options(target))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, 1
	}
	return p.Spec, res, 0
}

// convertCommand parses the flags of a command that converts a spec (llb,
// caches) and converts it; res is nil when the command ends with code.
func convertCommand(ctx context.Context, name, synopsis string, args []string, stderr io.Writer) (sf specFlags, s *spec.Spec, res *llbgen.Result, code int) {
	fs, sf := newFlags(name, synopsis, stderr)
	flags := addConvertFlags(fs, sf)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return sf, nil, nil, code
	}
	s, res, code = flags.convert(ctx, name, stderr)
	return sf, s, res, code
}

func runLLB(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	sf, _, res, code := convertCommand(ctx, "llb", llbSynopsis, args, stderr)
	if res == nil {
		return code
	}
	// A unique id from the spec's path, not a random one, keeps the output
	// deterministic while local sources of other projects stay apart.
	abs, err := filepath.Abs(*sf.file)
	if err != nil {
		abs = *sf.file
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

const cachesSynopsis = `Lists the cache mounts the target uses: the cache, its id on the builder
(BUILDKIT_CACHE_MOUNT_NS applied, from --build-arg), where it is mounted, its
sharing mode, the steps that mount it, and the command that drops it from a
builder.`

func runCaches(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_, s, res, code := convertCommand(ctx, "caches", cachesSynopsis, args, stderr)
	if res == nil {
		return code
	}
	if len(res.Uses.Caches) == 0 {
		fmt.Fprintf(stdout, "stage %q mounts no cache\n", res.Stage.Name)
		return 0
	}
	for i, c := range res.Uses.Caches {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		name := c.Cache
		if name == "" {
			name = "(mount)"
		}
		steps := make([]string, len(c.Steps))
		for j, st := range c.Steps {
			steps[j] = fmt.Sprintf("%s %d (%s:%d)", st.Stage, st.Step, s.Files[st.Range.File].Name, st.Range.Start.Line)
		}
		desc := descriptionFilter(c)
		fmt.Fprintf(stdout, "%s\n  id:      %s\n  target:  %s\n  sharing: %s\n  steps:   %s\n  drop:    buildctl prune --filter 'type==exec.cachemount,%s'\n           docker buildx prune --filter type=exec.cachemount --filter '%s'\n",
			name, c.ID, c.Target, c.Sharing, strings.Join(steps, ", "), desc, desc)
	}
	return 0
}

// descriptionFilter is the prune filter on descriptions that selects a
// cache mount: BuildKit describes it as `cached mount TARGET from exec CMD
// with id "ID"`, without the id when it equals the target. buildctl takes
// it after `type==exec.cachemount,` in one --filter; buildx takes each
// filter in a --filter of its own, as Docker's KEY=VALUE or KEY~=VALUE,
// and joins them.
func descriptionFilter(c llbgen.CacheUse) string {
	desc := `with id \"` + c.ID + `\"`
	if c.ID == c.Target {
		desc = `^cached mount ` + c.Target + ` from `
	}
	return `description~="` + desc + `"`
}

const lintSynopsis = `Checks a spec and prints every problem as FILE:LINE:COL: message, one a line.
Exits 1 when there is an error, 0 when the spec is valid.`

func runLint(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, sf := newFlags("lint", lintSynopsis, stderr)
	bargs := buildArgs{}
	fs.Var(bargs, "build-arg", "check with an arg set, `KEY=VALUE`; repeatable")
	platformList := fs.String("platform", "", "check for a build of these `platforms`, comma-separated (several enable the multi-platform rules)")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	targets, err := parsePlatforms(*platformList)
	if err != nil {
		fmt.Fprintf(stderr, "tomlfront lint: %v\n", err)
		return 2
	}
	p, code := sf.run(ctx, llbgen.Options{BuildArgs: bargs}, targets, stderr)
	if p == nil {
		return code
	}
	if err := p.Check(ctx); err != nil {
		fmt.Fprintf(stderr, "tomlfront lint: %v\n", err)
		return 1
	}
	for _, problem := range p.Problems() {
		fmt.Fprintln(stdout, problem)
	}
	if p.Err() != nil {
		return 1
	}
	return 0
}

const resolveSynopsis = `Writes the spec with everything it includes merged in, as one TOML document:
each table is headed by a comment naming the file and line it came from, and a
key that another file set is marked with its own. This is what a template
change does to a service, for review; the output builds as it is.`

func runResolve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, sf := newFlags("resolve", resolveSynopsis, stderr)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	p, code := sf.run(ctx, llbgen.Options{}, nil, stderr)
	if p == nil {
		return code
	}
	if p.Spec == nil { // a template's required args or its lint policy do not stop a review
		fmt.Fprintln(stderr, p.Err())
		return 1
	}
	if _, err := stdout.Write(p.Spec.Resolved()); err != nil {
		fmt.Fprintf(stderr, "tomlfront resolve: %v\n", err)
		return 1
	}
	return 0
}

// parsePlatforms reads a --platform list, as buildx does: comma-separated,
// each an OS/ARCH[/VARIANT]. Empty means this machine's.
func parsePlatforms(list string) ([]ocispecs.Platform, error) {
	if list == "" {
		return nil, nil
	}
	var out []ocispecs.Platform
	for _, item := range strings.Split(list, ",") {
		p, err := platforms.Parse(strings.TrimSpace(item))
		if err != nil {
			return nil, fmt.Errorf("invalid --platform %q: %w", item, err)
		}
		out = append(out, platforms.Normalize(p))
	}
	return out, nil
}
