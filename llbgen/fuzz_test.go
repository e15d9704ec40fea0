package llbgen

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/tomlfront/tomlfront/spec"
)

// FuzzLoadConvert feeds arbitrary documents to the loader and, when they
// load, to the converter: neither may panic. `go test` runs the seeds; CI
// fuzzes for a while with -fuzz.
func FuzzLoadConvert(f *testing.F) {
	examples, _ := filepath.Glob("../examples/*/build.toml")
	for _, e := range examples {
		dt, err := os.ReadFile(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(dt)
	}
	for _, s := range []string{cachesSpec, copySpec, "[stages.a]\nfrom = \"a\"\n", "x = [[1], {a = 1}]\n[a.b]\n[[a.c]]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := spec.Load("fuzz.toml", src)
		if err != nil {
			return
		}
		for _, st := range s.Stages {
			res, err := Convert(context.Background(), s, Options{Target: st.Name, TargetPlatform: &amd64, BuildPlatform: &amd64, CacheNamespace: "ns"})
			if err != nil {
				continue
			}
			if _, err := res.State.Marshal(context.Background(), llb.LocalUniqueID("fuzz")); err != nil {
				continue
			}
		}
	})
}
