package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// resolver implements llbgen.Resolver with the gateway: images through the
// registry (their config applies), named contexts and the main context
// through dockerui, which handles --build-context and .dockerignore.
type resolver struct {
	bc            *dockerui.Client
	client        client.Client
	multiPlatform bool
}

// Image returns a base image, or the named context of the same name: like
// the Dockerfile frontend, --build-context golang:1.26=... replaces it.
func (r *resolver) Image(ctx context.Context, ref string, platform ocispecs.Platform, opts ...llb.ConstraintsOpt) (llb.State, *dockerspec.DockerOCIImage, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return llb.State{}, nil, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	named = reference.TagNameOnly(named)
	if st, img, ok, err := r.NamedContext(ctx, ref, platform); err != nil || ok {
		return st, img, err
	}

	prefix := "[internal]"
	if r.multiPlatform {
		prefix = "[" + platforms.Format(platform) + " internal]"
	}
	mode := r.bc.ImageResolveMode.String()
	resolved, dgst, dt, err := r.client.ResolveImageConfig(ctx, named.String(), sourceresolver.Opt{
		LogName:  prefix + " load metadata for " + named.String(),
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &platform, ResolveMode: mode},
	})
	if err != nil {
		return llb.State{}, nil, err
	}
	var img dockerspec.DockerOCIImage
	if err := json.Unmarshal(dt, &img); err != nil {
		return llb.State{}, nil, fmt.Errorf("image %s: invalid config: %w", ref, err)
	}
	img.Created = nil
	if len(img.RootFS.DiffIDs) == 0 { // an image without layers, such as scratch
		return llb.Scratch().Platform(platform), &img, nil
	}
	// Pin the digest that was resolved, so every platform's build and the
	// config all describe the same image.
	pinned := resolved
	if dgst != "" {
		if n, err := reference.ParseNormalizedNamed(resolved); err == nil {
			if d, err := reference.WithDigest(n, dgst); err == nil {
				pinned = d.String()
			}
		}
	}
	imageOpts := []llb.ImageOption{llb.Platform(platform), r.bc.ImageResolveMode, llb.WithCustomName(prefix + " load " + named.String())}
	for _, o := range opts {
		imageOpts = append(imageOpts, o)
	}
	return llb.Image(pinned, imageOpts...), &img, nil
}

// NamedContext returns --build-context name; ok is false when the build
// has none of that name.
func (r *resolver) NamedContext(ctx context.Context, name string, platform ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, bool, error) {
	nc, err := r.bc.NamedContext(name, dockerui.ContextOpt{Platform: &platform, ResolveMode: r.bc.ImageResolveMode.String()})
	if err != nil || nc == nil {
		return llb.State{}, nil, false, err
	}
	st, img, err := nc.Load(ctx)
	if err != nil {
		return llb.State{}, nil, false, err
	}
	if st == nil {
		return llb.State{}, nil, false, nil
	}
	if img != nil {
		img.Created = nil
	}
	return st.Platform(platform), img, true, nil
}

// MainContext returns the build context, with .dockerignore applied.
func (r *resolver) MainContext(ctx context.Context, opts ...llb.LocalOption) (llb.State, error) {
	st, err := r.bc.MainContext(ctx, opts...)
	if err != nil {
		return llb.State{}, err
	}
	return *st, nil
}

// resolveCache remembers image configs by ref and options: a build of
// several platforms, or several stages from one image, asks once.
type resolveCache struct {
	client.Client
	mu    sync.Mutex
	cache map[string]*resolved
}

type resolved struct {
	once sync.Once
	ref  string
	dgst digest.Digest
	dt   []byte
	err  error
}

func (c *resolveCache) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	key := ref
	if o := opt.ImageOpt; o != nil {
		key += "|" + o.ResolveMode
		if o.Platform != nil {
			key += "|" + platforms.Format(*o.Platform)
		}
	}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[string]*resolved{}
	}
	r, ok := c.cache[key]
	if !ok {
		r = &resolved{}
		c.cache[key] = r
	}
	c.mu.Unlock()
	r.once.Do(func() {
		r.ref, r.dgst, r.dt, r.err = resolveImageConfig(ctx, c.Client, ref, opt)
	})
	return r.ref, r.dgst, r.dt, r.err
}

// resolveImageConfig is c's ResolveImageConfig, but that an image's
// resolve mode reaches the daemon. Where the daemon resolves through source
// metadata, BuildKit v0.34's gateway client sends ResolveImageConfig's
// request without it (grpcclient's resolveImageConfigViaSourceMetadata),
// so the daemon resolves in its default mode: on a Docker Engine, for which
// buildx asks to prefer the Engine's own images, a base image the Engine
// has was taken from the registry, where the Dockerfile frontend built into
// the Engine takes the Engine's (TestBuildxPull). ResolveSourceMetadata
// sends the mode, and falls back to ResolveImageConfig where the daemon
// lacks source metadata.
func resolveImageConfig(ctx context.Context, c client.Client, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	if opt.ImageOpt == nil || opt.OCILayoutOpt != nil {
		return c.ResolveImageConfig(ctx, ref, opt)
	}
	res, err := c.ResolveSourceMetadata(ctx, &pb.SourceOp{Identifier: imageScheme + ref}, opt)
	if err != nil {
		return "", "", nil, err
	}
	if res.Image == nil || res.Op == nil {
		return "", "", nil, fmt.Errorf("image %s: the builder resolved it to no image", ref)
	}
	return strings.TrimPrefix(res.Op.Identifier, imageScheme), res.Image.Digest, res.Image.Config, nil
}

// imageScheme prefixes an image in a source op's identifier.
const imageScheme = "docker-image://"
