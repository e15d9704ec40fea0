package frontend

import (
	"context"
	"fmt"
	"sync"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/attestations/sbom"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/result"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/llbgen"
)

// sbomScans attaches SBOMs as the Dockerfile frontend does: with --sbom or
// --attest type=sbom, the generator scans each platform's image and the
// stages and context llbgen names (sbom-NAME). Without them BuildKit scans
// the image itself, as it does for any frontend that makes no SBOM.
type sbomScans struct {
	scanner sbom.Scanner
	targets sync.Map // platform id → *llbgen.Result
}

func newSBOMScans(ctx context.Context, bc *dockerui.Client, c client.Client) (*sbomScans, error) {
	if bc.SBOM == nil {
		return nil, nil
	}
	platform := bc.BuildPlatforms[0]
	scanner, err := sbom.CreateSBOMScanner(ctx, c, bc.SBOM.Generator, platform, sourceresolver.Opt{
		ImageOpt: &sourceresolver.ResolveImageOpt{ResolveMode: bc.ImageResolveMode.String(), Platform: &platform},
	}, bc.SBOM.Parameters)
	if err != nil || scanner == nil {
		return nil, err
	}
	return &sbomScans{scanner: scanner}, nil
}

// platformID keys a platform as dockerui's results do: normalised, so
// linux/arm64 and linux/arm64/v8 are one.
func platformID(p *ocispecs.Platform) string {
	if p == nil {
		d := platforms.DefaultSpec()
		p = &d
	}
	return platforms.FormatAll(platforms.Normalize(*p))
}

// record keeps a platform's conversion to scan once every platform built.
func (s *sbomScans) record(p *ocispecs.Platform, res *llbgen.Result) {
	if s != nil {
		s.targets.Store(platformID(p), res)
	}
}

// attach scans each platform's result and adds the attestations.
func (s *sbomScans) attach(ctx context.Context, c client.Client, rb *dockerui.ResultBuilder) error {
	if s == nil {
		return nil
	}
	return rb.EachPlatform(ctx, func(ctx context.Context, id string, _ ocispecs.Platform) error {
		v, ok := s.targets.Load(id)
		if !ok {
			return fmt.Errorf("no SBOM scan target for %s", id)
		}
		res := v.(*llbgen.Result)
		att, err := s.scanner(ctx, id, res.State, res.SBOMExtras)
		if err != nil {
			return err
		}
		solved, err := result.ConvertAttestation(&att, func(st *llb.State) (client.Reference, error) {
			def, err := st.Marshal(ctx)
			if err != nil {
				return nil, err
			}
			r, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
			if err != nil {
				return nil, err
			}
			return r.SingleRef()
		})
		if err != nil {
			return err
		}
		rb.AddAttestation(id, *solved)
		return nil
	})
}
