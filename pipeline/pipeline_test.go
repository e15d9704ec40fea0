package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/llbgen"
	"github.com/tomlfront/tomlfront/spec"
)

func TestRun(t *testing.T) {
	arm := []ocispecs.Platform{{OS: "linux", Architecture: "arm64"}}
	files := map[string]string{
		"ci/common.toml": "[stages.base]\nfrom = \"busybox:1.36\"\nusr = \"nobody\"\n",
	}
	read := func(_ context.Context, inc spec.Include) ([]byte, error) {
		if src, ok := files[inc.Path]; ok {
			return []byte(src), nil
		}
		return nil, fmt.Errorf("no file %s", inc.Path)
	}
	tests := []struct {
		name      string
		src       string
		req       Request
		errors    []string // each FILE:LINE:COL: message, in order
		findings  []string // rule names, in order
		specKnown bool
	}{
		{name: "valid", src: "[stages.a]\nfrom = \"busybox:1.36\"\n", specKnown: true},
		{name: "invalid TOML", src: "[stages.a]\nfrom = 1979-02-30\n",
			errors: []string{"b.toml:2:8: invalid TOML: 1979-02-30 is not a date-time: impossible date"}},
		{name: "invalid spec", src: "[stages.a]\nform = \"busybox\"\n",
			errors: []string{"b.toml:1:1: stage \"a\" has no `from`", "b.toml:2:1: unknown key \"form\" in stage \"a\" (did you mean \"from\"?)"}},
		{name: "error inside an include", src: "include = [\"ci/common.toml\"]\n[stages.a]\nfrom = \"busybox:1.36\"\n",
			errors: []string{"ci/common.toml:3:1: unknown key \"usr\""}},
		{name: "found by conversion", specKnown: true,
			src:    "[args]\nV = \"\"\n[stages.a]\nfrom = \"busybox:1.36\"\nargs = [\"V\"]\nworkdir = \"${V:?set V}\"\n",
			errors: []string{"b.toml:6:11: "}},
		{name: "for each platform", specKnown: true, req: Request{Platforms: arm},
			src: "[stages.a]\nfrom = \"busybox:1.36\"\nworkdir = \"/${TARGETARCH}\"\n[[stages.a.steps]]\nrun = \"true\"\nuser = \"${TARGETARCH:+x}${TARGETARCH:?}\"\n"},
		{name: "findings and errors", specKnown: true,
			src:      "[args]\nTOKEN = \"\"\n[stages.a]\nfrom = \"busybox:1.36\"\nargs = [\"TOKEN\"]\nworkdir = \"${TOKEN:?no}\"\n",
			errors:   []string{"b.toml:6:11: "},
			findings: []string{"SecretsUsedInArgOrEnv"}},
		{name: "required arg unset", specKnown: true,
			src:    "[args]\nAPP = { required = true }\n[stages.a]\nfrom = \"busybox:1.36\"\nargs = [\"APP\"]\n",
			errors: []string{"b.toml:2:1: arg \"APP\" is required and not set"}},
		{name: "required arg set", specKnown: true, req: Request{Options: llbgen.Options{BuildArgs: map[string]string{"APP": "x"}}},
			src: "[args]\nAPP = { required = true }\n[stages.a]\nfrom = \"busybox:1.36\"\nargs = [\"APP\"]\n"},
		{name: "a [lint] error rule", specKnown: true,
			src:      "[lint]\nerror = [\"UnpinnedBaseImage\"]\n[stages.a]\nfrom = \"busybox\"\n",
			errors:   []string{"b.toml:4:8: image \"busybox\" has no tag"},
			findings: []string{"UnpinnedBaseImage"}},
		{name: "unknown rule in [lint]", specKnown: true,
			src:    "[lint]\nskip = [\"UnusedStge\"]\n[stages.a]\nfrom = \"busybox:1.36\"\n",
			errors: []string{"b.toml:2:9: unknown lint rule \"UnusedStge\" (did you mean \"UnusedStage\"?)"}},
		{name: "context not declared, offline", specKnown: true, req: Request{Offline: true},
			src:      "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\ncopy = \"f\"\nfrom = \"context:extra\"\n",
			findings: []string{"UndeclaredContext"}},
		{name: "context given, offline", specKnown: true, req: Request{Offline: true, Contexts: []string{"extra"}},
			src: "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\ncopy = \"f\"\nfrom = \"context:extra\"\n"},
		{name: "context neither declared nor given, at build time", specKnown: true,
			src:    "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\ncopy = \"f\"\nfrom = \"context:extra\"\n",
			errors: []string{"b.toml:5:8: context \"extra\": the build has no context named \"extra\""}},
		{name: "variable of the base image's env, offline", specKnown: true, req: Request{Offline: true},
			src:      inheritsHome,
			findings: []string{"UndeclaredVariable"}},
		{name: "variable of the base image's env, at build time", specKnown: true, req: Request{Options: llbgen.Options{Resolver: imageEnv{"HOME=/root"}}},
			src: inheritsHome},
		{name: "variable the base image's env lacks, at build time", specKnown: true, req: Request{Options: llbgen.Options{Resolver: imageEnv{"PATH=/bin"}}},
			src:    inheritsHome,
			errors: []string{"b.toml:3:15: undeclared variable \"HOME\""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.File, req.Source, req.Read = "b.toml", []byte(tc.src), read
			r, err := Run(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
			if (r.Spec != nil) != tc.specKnown {
				t.Errorf("spec loaded: %v, want %v", r.Spec != nil, tc.specKnown)
			}
			if len(r.Errors) != len(tc.errors) {
				t.Fatalf("errors %v, want %d", r.Errors, len(tc.errors))
			}
			for i, want := range tc.errors {
				if !strings.HasPrefix(r.Errors[i].Error(), want) {
					t.Errorf("error %d: %q, want prefix %q", i, r.Errors[i], want)
				}
			}
			if (r.Err() == nil) != (len(tc.errors) == 0) {
				t.Errorf("Err() = %v with errors %v", r.Err(), r.Errors)
			}
			var rules []string
			for _, f := range r.Findings {
				rules = append(rules, f.Rule.Name)
			}
			if strings.Join(rules, ",") != strings.Join(tc.findings, ",") {
				t.Errorf("findings %v, want %v", rules, tc.findings)
			}
			failing := 0
			for _, f := range r.Findings {
				if f.Fails {
					failing++
				}
			}
			if got, want := len(r.Problems()), len(r.Errors)+len(r.Findings)-failing; got != want {
				t.Errorf("%d problems, want %d", got, want)
			}
			if r.Spec != nil && r.Err() == nil { // what passes converts
				if _, err := r.Convert(context.Background(), r.Options(nil)); err != nil {
					t.Errorf("passes the checks, and does not convert: %v", err)
				}
			}
		})
	}
}

// inheritsHome uses a variable of its base image's env, and a name of no
// env with a modifier.
const inheritsHome = "[stages.a]\nfrom = \"busybox:1.36\"\nenv = { BIN = \"${HOME}/bin${NONE:+x}${NONE:-}\" }\n"

// imageEnv resolves every image to an empty state whose config has env,
// as a builder resolves a base image.
type imageEnv []string

func (e imageEnv) Image(_ context.Context, ref string, p ocispecs.Platform, _ ...llb.ConstraintsOpt) (llb.State, *dockerspec.DockerOCIImage, error) {
	img := &dockerspec.DockerOCIImage{}
	img.Config.Env = e
	return llb.Image(ref, llb.Platform(p)), img, nil
}

func (imageEnv) NamedContext(context.Context, string, ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, bool, error) {
	return llb.State{}, nil, false, nil
}

func (imageEnv) MainContext(ctx context.Context, opts ...llb.LocalOption) (llb.State, error) {
	return llbgen.Offline{}.MainContext(ctx, opts...)
}

// TestCheckReusesTheLoad: the conversion check reads no include again.
func TestCheckReusesTheLoad(t *testing.T) {
	reads := 0
	read := func(context.Context, spec.Include) ([]byte, error) {
		reads++
		return []byte("[stages.base]\nfrom = \"busybox:1.36\"\n"), nil
	}
	r, err := Run(context.Background(), Request{File: "b.toml", Read: read,
		Source: []byte("include = [\"common.toml\"]\n[stages.a]\nfrom = \"base\"\n")})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Convert(context.Background(), r.Options(nil)); err != nil {
		t.Fatal(err)
	}
	if reads != 1 {
		t.Errorf("the include was read %d times, want once", reads)
	}
}

// TestOneMessagePerValue: a value written out, which the loader checks, and
// the same value built from an arg, which only conversion knows, fail with
// the same message.
func TestOneMessagePerValue(t *testing.T) {
	for _, tc := range []struct {
		kind, bad, spec string // spec has %s where the value goes
	}{
		{"platform", "linux/arm64/v8/extra", "[stages.a]\nfrom = \"busybox:1.36\"\nplatform = \"%s\"\n"},
		{"tmpfs size", "lots", "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"tmpfs\", target = \"/t\", size = \"%s\" }]\n"},
		{"duration", "soon", "[stages.a]\nfrom = \"busybox:1.36\"\n[stages.a.image.healthcheck]\ntest = [\"NONE\"]\ninterval = \"%s\"\n"},
		{"checksum", "sha256:nope", "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\nadd = \"https://example.com/f\"\nchecksum = \"%s\"\n"},
		{"several sources", "/dir", "[stages.a]\nfrom = \"busybox:1.36\"\n[[stages.a.steps]]\ncopy = [\"a\", \"b\"]\nto = \"%s\"\n"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			message := func(src string) string {
				t.Helper()
				r, err := Run(context.Background(), Request{File: "b.toml", Source: []byte(src)})
				if err != nil {
					t.Fatal(err)
				}
				if err := r.Check(context.Background()); err != nil {
					t.Fatal(err)
				}
				if len(r.Errors) != 1 {
					t.Fatalf("errors %v, want one", r.Errors)
				}
				return r.Errors[0].Msg
			}
			literal := message(fmt.Sprintf(tc.spec, tc.bad))
			fromArg := message("[args]\nV = \"" + tc.bad + "\"\n" + strings.Replace(fmt.Sprintf(tc.spec, "${V}"), "from = \"busybox:1.36\"\n", "from = \"busybox:1.36\"\nargs = [\"V\"]\n", 1))
			if literal != fromArg {
				t.Errorf("written out: %q\nfrom an arg: %q", literal, fromArg)
			}
		})
	}
}
