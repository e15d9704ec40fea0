package llbgen

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	digest "github.com/opencontainers/go-digest"
)

// largeDockerfile is largeSpec written as a Dockerfile, step for step, so
// that BenchmarkDockerfileConvert measures BuildKit's own frontend on the
// same graph.
func largeDockerfile(stages int) []byte {
	var b strings.Builder
	b.WriteString("ARG VERSION=1.0\n")
	for i := 0; i < stages; i++ {
		from := "golang:1.26"
		if i > 0 && i%4 != 0 {
			from = fmt.Sprintf("s%d", i-1)
		}
		fmt.Fprintf(&b, "\nFROM %s AS s%d\nARG VERSION\nARG TARGETARCH\nENV N=%d V=${VERSION}\nWORKDIR /src/%d\n", from, i, i, i)
		for j := 0; j < 10; j++ {
			cache := "--mount=type=cache,id=go/mod,target=/go/pkg/mod --mount=type=cache,id=go/build,target=/root/.cache/go-build"
			switch j % 5 {
			case 0:
				fmt.Fprintf(&b, "COPY pkg%d/*.go go.mod ./\n", i)
			case 1:
				fmt.Fprintf(&b, "RUN %s --mount=type=cache,id=deps,target=/deps,sharing=locked,mode=0775 STEP=%d go build ./pkg%d/... && echo $N\n", cache, j, i)
			case 2:
				fmt.Fprintf(&b, "RUN %s --mount=type=tmpfs,target=/tmp --mount=type=secret,id=tok [\"/bin/sh\", \"-c\", \"true %d\"]\n", cache, j)
			case 3:
				if i > 0 {
					fmt.Fprintf(&b, "COPY --link --from=s%d /src/%d /prev/\n", i-1, i-1)
				} else {
					fmt.Fprintf(&b, "RUN %s true\n", cache)
				}
			case 4:
				fmt.Fprintf(&b, "RUN %s --network=none cd sub%d && go test ./...\n", cache, j)
			}
		}
	}
	b.WriteString("\nFROM scratch AS final\n")
	for i := 0; i < stages; i += 4 {
		fmt.Fprintf(&b, "COPY --from=s%d /src/%d /out/%d/\n", i+3, i+3, i)
	}
	return []byte(b.String())
}

// emptyImageResolver answers every base image with an empty config, as
// Offline does for tomlfront: neither benchmark asks a registry.
type emptyImageResolver struct{}

func (emptyImageResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, "", []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}`), nil
}

// BenchmarkDockerfileConvert is BenchmarkConvert's counterpart for BuildKit's
// Dockerfile frontend: parse, convert and marshal the same graph.
func BenchmarkDockerfileConvert(b *testing.B) {
	src := largeDockerfile(200)
	ctx := context.Background()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := dockerfile2llb.Dockerfile2LLB(ctx, src, dockerfile2llb.ConvertOpt{TargetPlatform: &amd64, MetaResolver: emptyImageResolver{}})
		if err != nil {
			b.Fatal(err)
		}
		def, err := res.State.Marshal(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := MarshalDefinition(def); err != nil {
			b.Fatal(err)
		}
	}
}
