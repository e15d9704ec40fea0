package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	sublint "github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/tomlfront/tomlfront/llbgen"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// fakeClient is a gateway client that serves the dockerfile context from
// memory. It answers no solve but that of the context, so the tests cover
// what the frontend decides before BuildKit runs anything.
type fakeClient struct {
	opts   map[string]string
	files  map[string]string
	read   []string         // the files the frontend read
	solved []*pb.Definition // the definitions it solved
	// resolveModes are the modes images' metadata was resolved in
	resolveModes []string
}

func (c *fakeClient) BuildOpts() client.BuildOpts {
	// Every cap: a current BuildKit.
	return client.BuildOpts{Opts: c.opts, Product: "test",
		Caps: gwpb.Caps.CapSet(gwpb.Caps.All()), LLBCaps: pb.Caps.CapSet(pb.Caps.All())}
}

func (c *fakeClient) Solve(ctx context.Context, req client.SolveRequest) (*client.Result, error) {
	if req.Definition != nil {
		c.solved = append(c.solved, req.Definition)
	}
	res := client.NewResult()
	res.SetRef(&fakeRef{c: c})
	return res, nil
}

// ResolveImageConfig answers every ref with one image of one layer: the
// frontend's conversions (a build's, --call=check's) need a config, and the
// e2e tests cover real registries.
func (c *fakeClient) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	layer := digest.FromString("layer")
	config := `{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":["` + layer.String() + `"]},"config":{"Env":["PATH=/bin"]}}`
	return ref, digest.FromString(config), []byte(config), nil
}

// ResolveSourceMetadata answers images as ResolveImageConfig does, and
// records the resolve modes it was asked for.
func (c *fakeClient) ResolveSourceMetadata(ctx context.Context, op *pb.SourceOp, opt sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	ref, ok := strings.CutPrefix(op.Identifier, "docker-image://")
	if !ok || opt.ImageOpt == nil {
		return nil, errors.New("no registry in unit tests")
	}
	c.resolveModes = append(c.resolveModes, opt.ImageOpt.ResolveMode)
	ref, dgst, config, err := c.ResolveImageConfig(ctx, ref, opt)
	return &sourceresolver.MetaResponse{Op: &pb.SourceOp{Identifier: "docker-image://" + ref},
		Image: &sourceresolver.ResolveImageResponse{Digest: dgst, Config: config}}, err
}

func (c *fakeClient) Inputs(context.Context) (map[string]llb.State, error) { return nil, nil }

func (c *fakeClient) NewContainer(context.Context, client.NewContainerRequest) (client.Container, error) {
	return nil, errors.New("no containers in unit tests")
}

func (c *fakeClient) Warn(context.Context, digest.Digest, string, client.WarnOpts) error { return nil }

type fakeRef struct{ c *fakeClient }

func (r *fakeRef) ToState() (llb.State, error)    { return llb.Scratch(), nil }
func (r *fakeRef) Evaluate(context.Context) error { return nil }
func (r *fakeRef) ReadFile(_ context.Context, req client.ReadRequest) ([]byte, error) {
	r.c.read = append(r.c.read, req.Filename)
	dt, ok := r.c.files[req.Filename]
	if !ok {
		return nil, errors.New("not found: " + req.Filename)
	}
	return []byte(dt), nil
}
func (r *fakeRef) StatFile(context.Context, client.StatRequest) (*fstypes.Stat, error) {
	return nil, errors.New("not supported")
}
func (r *fakeRef) ReadDir(context.Context, client.ReadDirRequest) ([]*fstypes.Stat, error) {
	return nil, errors.New("not supported")
}

const validSpec = "[args]\nTOKEN = \"\"\n# The app.\n[stages.app]\nfrom = \"busybox:1.36\"\nargs = [\"TOKEN\"]\n"

func TestDefaultFilename(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts map[string]string
		want string
	}{
		{"none given", map[string]string{}, DefaultFilename},
		{"given", map[string]string{"filename": "ci.toml"}, "ci.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts["requestid"] = targets.SubrequestsTargetsDefinition.Name
			c := &fakeClient{opts: tc.opts, files: map[string]string{tc.want: validSpec}}
			if _, err := Build(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			if len(c.read) == 0 || c.read[0] != tc.want {
				t.Errorf("read %q, want %s first", c.read, tc.want)
			}
		})
	}
}

// TestSourceErrors: an invalid spec fails with every problem attached as a
// source error, with the spec's text and the problem's range.
func TestSourceErrors(t *testing.T) {
	src := "[stages.a]\nform = \"busybox\"\n"
	c := &fakeClient{opts: map[string]string{}, files: map[string]string{DefaultFilename: src}}
	_, err := Build(context.Background(), c)
	if err == nil {
		t.Fatal("an invalid spec built")
	}
	sources := errdefs.Sources(err)
	if len(sources) != 2 {
		t.Fatalf("%d sources, want 2: %v", len(sources), err)
	}
	for i, want := range []struct{ line, char int32 }{{1, 0}, {2, 0}} {
		s := sources[i]
		if s.Info.Filename != DefaultFilename || string(s.Info.Data) != src {
			t.Errorf("source %d: file %q, data %q", i, s.Info.Filename, s.Info.Data)
		}
		if r := s.Ranges[0].Start; r.Line != want.line || r.Character != want.char {
			t.Errorf("source %d starts at %d:%d, want %d:%d", i, r.Line, r.Character, want.line, want.char)
		}
	}
	if !strings.Contains(err.Error(), `unknown key "form"`) {
		t.Errorf("error %q", err)
	}
}

// answer runs the subrequest request on a spec and decodes its result
// into v.
func answer(t *testing.T, request, src string, v any) {
	t.Helper()
	c := &fakeClient{opts: map[string]string{"requestid": request}, files: map[string]string{DefaultFilename: src}}
	res, err := Build(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(res.Metadata["result.json"], v); err != nil {
		t.Fatalf("%v: %s", err, res.Metadata["result.json"])
	}
}

func TestSubrequests(t *testing.T) {
	t.Run("targets", func(t *testing.T) {
		var list targets.List
		answer(t, targets.SubrequestsTargetsDefinition.Name, validSpec, &list)
		if len(list.Targets) != 1 || list.Targets[0].Name != "app" || !list.Targets[0].Default || list.Targets[0].Description != "The app." {
			t.Errorf("targets %+v", list.Targets)
		}
		if loc := list.Targets[0].Location; loc == nil || loc.Ranges[0].Start.Line != 4 {
			t.Errorf("location %v, want line 4", loc)
		}
	})
	t.Run("check of a valid spec", func(t *testing.T) {
		var res sublint.LintResults
		answer(t, sublint.SubrequestLintDefinition.Name, validSpec, &res)
		if res.Error != nil || len(res.Warnings) != 1 || res.Warnings[0].RuleName != "SecretsUsedInArgOrEnv" {
			t.Errorf("error %v, warnings %+v", res.Error, res.Warnings)
		}
	})
	t.Run("check of an invalid spec", func(t *testing.T) {
		var res sublint.LintResults
		answer(t, sublint.SubrequestLintDefinition.Name, "[stages.a]\nfrom = \"busybox\"\nenv = { A = 1979-02-30 }\n", &res)
		if res.Error == nil {
			t.Fatal("no error")
		}
		if want := "build.toml:3:13: invalid TOML: 1979-02-30 is not a date-time: impossible date"; res.Error.Message != want {
			t.Errorf("message %q, want %q", res.Error.Message, want)
		}
		if r := res.Error.Location.Ranges; len(r) != 1 || r[0].Start.Line != 3 || r[0].Start.Character != 12 {
			t.Errorf("ranges %v", r)
		}
		if len(res.Sources) != 1 || res.Sources[0].Filename != DefaultFilename {
			t.Errorf("sources %v", res.Sources)
		}
	})
}

// TestRequiredArgs: a build without a required arg fails before anything
// runs, at the arg's declaration; the outline marks it required.
func TestRequiredArgs(t *testing.T) {
	const src = "[args]\nAPP = { required = true, description = \"the command to build\" }\n[stages.a]\nfrom = \"scratch\"\nargs = [\"APP\"]\n"
	c := &fakeClient{opts: map[string]string{}, files: map[string]string{DefaultFilename: src}}
	_, err := Build(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), `build.toml:2:1: arg "APP" (the command to build) is required and not set: pass --build-arg APP=VALUE`) {
		t.Fatalf("error %v", err)
	}
	if s := errdefs.Sources(err); len(s) != 1 || s[0].Ranges[0].Start.Line != 2 {
		t.Errorf("sources %v", s)
	}

	var o outline.Outline
	answer(t, outline.SubrequestsOutlineDefinition.Name, src, &o)
	if len(o.Args) != 1 || o.Args[0].Description != "(required) the command to build" || o.Args[0].Value != "" {
		t.Errorf("outline args %+v", o.Args)
	}
}

// TestLintPolicy: a finding of a rule the spec's [lint] makes an error
// fails the build at its range, and fails --call=check; TOMLFRONT_CHECK
// overrides [lint].
func TestLintPolicy(t *testing.T) {
	const src = "[stages.a]\nfrom = \"busybox\"\n[lint]\nerror = [\"UnpinnedBaseImage\"]\n"
	const want = `build.toml:2:8: image "busybox" has no tag: pin a version, e.g. "busybox:1.2" (UnpinnedBaseImage, an error by the spec's [lint], TOMLFRONT_CHECK or BUILDKIT_DOCKERFILE_CHECK)`
	c := &fakeClient{opts: map[string]string{}, files: map[string]string{DefaultFilename: src}}
	_, err := Build(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %s", err, want)
	}
	if s := errdefs.Sources(err); len(s) != 1 || s[0].Ranges[0].Start.Line != 2 {
		t.Errorf("sources %v", s)
	}

	var lr sublint.LintResults
	answer(t, sublint.SubrequestLintDefinition.Name, src, &lr)
	if lr.Error == nil || lr.Error.Message != want || len(lr.Warnings) != 1 {
		t.Errorf("check: error %+v, warnings %+v", lr.Error, lr.Warnings)
	}

	// TOMLFRONT_CHECK skips the rule: the build goes past the check (and
	// fails later, at the fake client's solve, which this test has not).
	c = &fakeClient{opts: map[string]string{"build-arg:TOMLFRONT_CHECK": "skip=UnpinnedBaseImage"}, files: map[string]string{DefaultFilename: src}}
	if _, err := Build(context.Background(), c); err != nil && strings.Contains(err.Error(), "UnpinnedBaseImage") {
		t.Errorf("TOMLFRONT_CHECK did not override [lint]: %v", err)
	}
}

// TestIncludes: an included file is read from the spec's own context by
// its path alone; an error in it carries its own text, and the targets'
// locations point into the file each stage came from.
func TestIncludes(t *testing.T) {
	const base = "# The base.\n[stages.base]\nfrom = \"busybox:1.36\"\n"
	const src = "include = [\"ci/base.toml\"]\n[stages.app]\nfrom = \"base\"\n"
	files := map[string]string{DefaultFilename: src, "ci/base.toml": base}
	c := &fakeClient{opts: map[string]string{"requestid": targets.SubrequestsTargetsDefinition.Name}, files: files}
	res, err := Build(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(c.read, "ci/base.toml") {
		t.Errorf("read %q, want ci/base.toml", c.read)
	}
	var list targets.List
	if err := json.Unmarshal(res.Metadata["result.json"], &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Sources) != 2 || string(list.Sources[0]) != src || string(list.Sources[1]) != base {
		t.Fatalf("sources %q", list.Sources)
	}
	for i, want := range []struct {
		name        string
		source      int32
		line        int32
		description string
	}{{"base", 1, 2, "The base."}, {"app", 0, 2, ""}} {
		tg := list.Targets[i]
		if tg.Name != want.name || tg.Location.SourceIndex != want.source || tg.Location.Ranges[0].Start.Line != want.line || tg.Description != want.description {
			t.Errorf("target %d: %+v, want %+v", i, tg, want)
		}
	}

	files["ci/base.toml"] = "[stages.base]\nfrom = \"busybox:1.36\"\nwokdir = \"/x\"\n"
	c = &fakeClient{opts: map[string]string{}, files: files}
	_, err = Build(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "ci/base.toml:3:1: unknown key \"wokdir\"") || !strings.Contains(err.Error(), "included from build.toml:1:12") {
		t.Fatalf("error %v", err)
	}
	if s := errdefs.Sources(err); len(s) != 1 || s[0].Info.Filename != "ci/base.toml" || string(s[0].Info.Data) != files["ci/base.toml"] {
		t.Errorf("sources %v", s)
	}
}

func TestCacheExportRequested(t *testing.T) {
	for _, c := range []struct {
		value string
		want  llbgen.CacheExport
		err   bool
	}{
		{"", llbgen.NoCacheExport, false},
		{"0", llbgen.NoCacheExport, false},
		{"1", llbgen.ExportAll, false},
		{"true", llbgen.ExportAll, false},
		{"auto", llbgen.ExportChanged, false},
		{"AUTO", llbgen.ExportChanged, false},
		{"yes please", llbgen.NoCacheExport, true},
	} {
		got, err := CacheExportRequested(map[string]string{"TOMLFRONT_CACHE_EXPORT": c.value})
		if got != c.want || (err != nil) != c.err {
			t.Errorf("TOMLFRONT_CACHE_EXPORT=%q: %v, %v; want %v (error: %v)", c.value, got, err, c.want, c.err)
		}
	}
}

func TestFetchTimeout(t *testing.T) {
	for _, c := range []struct {
		args map[string]string
		want time.Duration
		err  bool
	}{
		{nil, DefaultFetchTimeout, false},
		{map[string]string{"TOMLFRONT_FETCH_TIMEOUT": "90s"}, 90 * time.Second, false},
		{map[string]string{"TOMLFRONT_FETCH_TIMEOUT": "5m"}, 5 * time.Minute, false},
		{map[string]string{"TOMLFRONT_FETCH_TIMEOUT": "0s"}, 0, true},
		{map[string]string{"TOMLFRONT_FETCH_TIMEOUT": "-1m"}, 0, true},
		{map[string]string{"TOMLFRONT_FETCH_TIMEOUT": "soon"}, 0, true},
	} {
		got, err := fetchTimeout(c.args)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("%v: %v, %v; want %v (error: %v)", c.args, got, err, c.want, c.err)
		}
	}
}

// TestPull: --pull (the frontend option image-resolve-mode=pull) makes every
// base image of the build resolved from its registry again, as the
// Dockerfile frontend's do; without it, BuildKit's default, or what buildx
// asks for (local, on a Docker Engine). The metadata's resolve gets the
// mode too (resolveImageConfig).
func TestPull(t *testing.T) {
	for _, c := range []struct {
		opts map[string]string
		want string // the LLB's image sources' attribute
		meta string // the mode of the metadata's resolve
	}{
		{map[string]string{"image-resolve-mode": "pull"}, "pull", "pull"},
		{map[string]string{"image-resolve-mode": "local"}, "local", "local"}, // buildx's on a Docker Engine
		{map[string]string{}, "", "default"},                                 // BuildKit's default: no attribute
	} {
		fc := &fakeClient{opts: c.opts, files: map[string]string{DefaultFilename: validSpec}}
		if _, err := Build(context.Background(), fc); err != nil {
			t.Fatal(err)
		}
		var modes []string
		for _, def := range fc.solved {
			for _, dt := range def.Def {
				var op pb.Op
				if err := op.UnmarshalVT(dt); err != nil {
					t.Fatal(err)
				}
				if src := op.GetSource(); src != nil && strings.HasPrefix(src.Identifier, "docker-image://") {
					modes = append(modes, src.Attrs[pb.AttrImageResolveMode])
				}
			}
		}
		if len(modes) == 0 || slices.ContainsFunc(modes, func(m string) bool { return m != c.want }) {
			t.Errorf("opts %v: base images resolved with %q, want %q", c.opts, modes, c.want)
		}
		if len(fc.resolveModes) == 0 || slices.ContainsFunc(fc.resolveModes, func(m string) bool { return m != c.meta }) {
			t.Errorf("opts %v: base images' metadata resolved with %q, want %q", c.opts, fc.resolveModes, c.meta)
		}
	}
}
