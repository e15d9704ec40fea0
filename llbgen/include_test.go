package llbgen

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/tomlfront/tomlfront/spec"
)

// exampleIncludes reads includes as `tomlfront resolve -f FILE --build-context
// templates=examples/templates` does.
func exampleIncludes(file string) spec.ReadFunc {
	return func(_ context.Context, inc spec.Include) ([]byte, error) {
		root := filepath.Dir(file)
		if inc.Context == "templates" {
			root = "../examples/templates"
		}
		return os.ReadFile(filepath.Join(root, inc.Path))
	}
}

// TestResolvedSpecConvertsTheSame converts each example service, which
// includes the template, and the one file `tomlfront resolve` writes for
// it: the LLB must be the same op for op (only the source maps differ).
func TestResolvedSpecConvertsTheSame(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"service-a", "service-b"} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join("..", "examples", name, "build.toml")
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			included, err := spec.LoadWith(ctx, file, src, exampleIncludes(file))
			if err != nil {
				t.Fatal(err)
			}
			resolved := included.Resolved()
			flat, err := spec.Load("resolved.toml", resolved)
			if err != nil {
				t.Fatalf("the resolved spec does not load: %v\n%s", err, resolved)
			}
			defs := make([]*pb.Definition, 2)
			for i, s := range []*spec.Spec{included, flat} {
				res, err := Convert(ctx, s, Options{TargetPlatform: &amd64, BuildPlatform: &amd64})
				if err != nil {
					t.Fatal(err)
				}
				def, err := res.State.Marshal(ctx, llb.Platform(res.Platform), llb.LocalUniqueID("test"))
				if err != nil {
					t.Fatal(err)
				}
				defs[i] = def.ToPB()
			}
			if !reflect.DeepEqual(defs[0].Def, defs[1].Def) {
				t.Errorf("the resolved spec converts to other ops:\n%s", resolved)
			}
			// The included spec's steps point into the template's lines.
			var files []string
			for _, info := range defs[0].Source.Infos {
				files = append(files, info.Filename)
			}
			if !slices.Contains(files, "context:templates/go-service.toml") {
				t.Errorf("source maps of %v, none of the template", files)
			}
		})
	}
}
