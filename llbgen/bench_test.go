package llbgen

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/tomlfront/tomlfront/spec"
)

// largeSpec generates a spec of n stages of 10 steps each: runs with caches
// and mounts, copies from the context and from the previous stage.
func largeSpec(stages int) []byte {
	var b strings.Builder
	b.WriteString("version = 1\n[args]\nVERSION = \"1.0\"\n[caches.deps]\ntarget = \"/deps\"\nsharing = \"locked\"\nmode = \"0775\"\n")
	for i := 0; i < stages; i++ {
		from := "golang:1.26"
		if i > 0 && i%4 != 0 {
			from = fmt.Sprintf("s%d", i-1)
		}
		fmt.Fprintf(&b, "\n# Stage %d.\n[stages.s%d]\nfrom = %q\nargs = [\"VERSION\", \"TARGETARCH\"]\nenv = { N = \"%d\", V = \"${VERSION}\" }\nworkdir = \"/src/%d\"\ncaches = [\"go\"]\n", i, i, from, i, i)
		for j := 0; j < 10; j++ {
			fmt.Fprintf(&b, "\n[[stages.s%d.steps]]\n", i)
			switch j % 5 {
			case 0:
				fmt.Fprintf(&b, "copy = [\"pkg%d/*.go\", \"go.mod\"]\nto = \"./\"\n", i)
			case 1:
				fmt.Fprintf(&b, "run = \"go build ./pkg%d/... && echo $N\"\ncaches = [\"deps\"]\nenv = { STEP = \"%d\" }\n", i, j)
			case 2:
				fmt.Fprintf(&b, "run = [\"/bin/sh\", \"-c\", \"true %d\"]\nmounts = [{ type = \"tmpfs\", target = \"/tmp\" }, { type = \"secret\", id = \"tok\" }]\n", j)
			case 3:
				if i > 0 {
					fmt.Fprintf(&b, "copy = [\"/src/%d\"]\nfrom = \"s%d\"\nto = \"/prev/\"\nlink = true\n", i-1, i-1)
				} else {
					b.WriteString("run = \"true\"\n")
				}
			case 4:
				fmt.Fprintf(&b, "run = \"go test ./...\"\nnetwork = \"none\"\nworkdir = \"sub%d\"\n", j)
			}
		}
	}
	fmt.Fprintf(&b, "\n[stages.final]\nfrom = \"scratch\"\n")
	for i := 0; i < stages; i += 4 {
		fmt.Fprintf(&b, "[[stages.final.steps]]\ncopy = [\"/src/%d\"]\nfrom = \"s%d\"\nto = \"/out/%d/\"\n", i+3, i+3, i)
	}
	return []byte(b.String())
}

// BenchmarkConvert measures a whole conversion of a 200-stage, 2,000-step
// spec: load, validate, convert and marshal.
func BenchmarkConvert(b *testing.B) {
	src := largeSpec(200)
	ctx := context.Background()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := spec.Load("build.toml", src)
		if err != nil {
			b.Fatal(err)
		}
		res, err := Convert(ctx, s, Options{TargetPlatform: &amd64, BuildPlatform: &amd64})
		if err != nil {
			b.Fatal(err)
		}
		def, err := res.State.Marshal(ctx, llb.LocalUniqueID("bench"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := MarshalDefinition(def); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad measures loading and validation alone.
func BenchmarkLoad(b *testing.B) {
	src := largeSpec(200)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := spec.Load("build.toml", src); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLargeSpecConverts(t *testing.T) {
	s, err := spec.Load("build.toml", largeSpec(200))
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	for _, st := range s.Stages {
		steps += len(st.Steps)
	}
	if len(s.Stages) != 201 || steps < 2000 {
		t.Fatalf("generated %d stages, %d steps", len(s.Stages), steps)
	}
	if _, err := Convert(context.Background(), s, Options{TargetPlatform: &amd64, BuildPlatform: &amd64}); err != nil {
		t.Fatal(err)
	}
}
