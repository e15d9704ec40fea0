package llbgen

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/tomlfront/tomlfront/spec"
)

// FuzzLoadConvert feeds arbitrary documents to the loader and, when they
// load, to the converter: neither may panic, a conversion fails only with an
// error at a position of the spec, and two conversions of the same spec give
// the same bytes. `go test` runs the seeds; `make test` fuzzes for a while.
func FuzzLoadConvert(f *testing.F) {
	examples, _ := filepath.Glob("../examples/*/build.toml")
	for _, e := range examples {
		dt, err := os.ReadFile(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(dt)
	}
	for _, s := range []string{cachesSpec, copySpec, "[stages.a]\nfrom = \"a\"\n", "x = [[1], {a = 1}]\n[a.b]\n[[a.c]]\n",
		"version = 1\n[stages.a]\nfrom = \"busybox\"\nenv = { # c\n  A = \"1\" }\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := spec.Load("fuzz.toml", src)
		if err != nil {
			return
		}
		for _, st := range s.Stages {
			first, err := convertBytes(s, st.Name)
			var specErr *spec.Error
			switch {
			case errors.As(err, &specErr):
				continue // a problem of the spec, found when converting
			case err != nil:
				t.Fatalf("stage %s: an error without a position in the spec: %v", st.Name, err)
			}
			second, err := convertBytes(s, st.Name)
			if err != nil {
				t.Fatalf("stage %s: the second conversion failed: %v", st.Name, err)
			}
			if !bytes.Equal(first, second) {
				t.Fatalf("stage %s: two conversions of the same spec differ", st.Name)
			}
		}
	})
}

func convertBytes(s *spec.Spec, target string) ([]byte, error) {
	ctx := context.Background()
	res, err := Convert(ctx, s, Options{Target: target, TargetPlatform: &amd64, BuildPlatform: &amd64, CacheNamespace: "ns"})
	if err != nil {
		return nil, err
	}
	def, err := res.State.Marshal(ctx, llb.LocalUniqueID("fuzz"))
	if err != nil {
		return nil, err
	}
	return MarshalDefinition(def)
}
