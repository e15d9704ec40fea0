package llbgen

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/spec"
)

// graph is a marshalled definition, unmarshalled for assertions on the LLB
// itself rather than on llbgen's internals.
type graph struct {
	t     *testing.T
	def   *pb.Definition
	ops   map[digest.Digest]*pb.Op
	names map[digest.Digest]string
}

var amd64 = ocispecs.Platform{OS: "linux", Architecture: "amd64"}

// convert loads src and converts it with opt (for linux/amd64 unless opt
// says otherwise).
func convert(t *testing.T, src string, opt Options) (*Result, *graph) {
	t.Helper()
	s, err := spec.Load("build.toml", []byte(src))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if opt.TargetPlatform == nil {
		opt.TargetPlatform = &amd64
	}
	if opt.BuildPlatform == nil {
		opt.BuildPlatform = &amd64
	}
	res, err := Convert(context.Background(), s, opt)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	def, err := res.State.Marshal(context.Background(), llb.Platform(res.Platform))
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	return res, newGraph(t, def.ToPB())
}

// graphOf is the graph of a state that is not a Result's.
func graphOf(t *testing.T, st llb.State) *graph {
	t.Helper()
	def, err := st.Marshal(context.Background(), llb.Platform(amd64))
	if err != nil {
		t.Fatal(err)
	}
	return newGraph(t, def.ToPB())
}

func newGraph(t *testing.T, def *pb.Definition) *graph {
	g := &graph{t: t, def: def, ops: map[digest.Digest]*pb.Op{}, names: map[digest.Digest]string{}}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		d := digest.FromBytes(dt)
		g.ops[d] = &op
		if md := def.Metadata[string(d)]; md != nil {
			g.names[d] = md.Description["llb.customname"]
		}
	}
	return g
}

// op returns the one op whose progress name contains name.
func (g *graph) op(name string) (*pb.Op, digest.Digest) {
	g.t.Helper()
	var found []digest.Digest
	for d, n := range g.names {
		if strings.Contains(n, name) {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		g.t.Fatalf("%d ops named like %q; names: %v", len(found), name, g.allNames())
	}
	return g.ops[found[0]], found[0]
}

func (g *graph) allNames() []string {
	var out []string
	for _, n := range g.names {
		if n != "" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// input returns the op an input of op comes from.
func (g *graph) input(op *pb.Op, i int64) *pb.Op {
	g.t.Helper()
	if i < 0 || int(i) >= len(op.Inputs) {
		g.t.Fatalf("op has no input %d", i)
	}
	return g.ops[digest.Digest(op.Inputs[i].Digest)]
}

// sources returns the identifiers of every source op.
func (g *graph) sources() map[string]*pb.SourceOp {
	out := map[string]*pb.SourceOp{}
	for _, op := range g.ops {
		if s := op.GetSource(); s != nil {
			out[s.Identifier] = s
		}
	}
	return out
}

// mount returns the exec mount at dest.
func mount(t *testing.T, exec *pb.ExecOp, dest string) *pb.Mount {
	t.Helper()
	for _, m := range exec.Mounts {
		if m.Dest == dest {
			return m
		}
	}
	t.Fatalf("no mount at %s", dest)
	return nil
}

func hasEnv(env []string, kv string) bool {
	for _, e := range env {
		if e == kv {
			return true
		}
	}
	return false
}

func mustJSON(t *testing.T, v any) string {
	dt, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(dt)
}
