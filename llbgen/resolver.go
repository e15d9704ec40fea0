package llbgen

import (
	"context"
	"slices"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Resolver provides what a spec refers to outside itself. The frontend
// implements it with the gateway client; Offline needs nothing.
type Resolver interface {
	// Image returns the state of an image for a platform and its config;
	// a nil config means the config is unknown. opts apply to the image's
	// source op (its place in the spec).
	Image(ctx context.Context, ref string, platform ocispecs.Platform, opts ...llb.ConstraintsOpt) (llb.State, *dockerspec.DockerOCIImage, error)
	// NamedContext returns the build context called name (`context:NAME`)
	// as the build was given it (--build-context), with its config when it
	// is an image; ok is false when the build was not given it, and the
	// spec's [contexts] default applies.
	NamedContext(ctx context.Context, name string, platform ocispecs.Platform) (st llb.State, img *dockerspec.DockerOCIImage, ok bool, err error)
	// MainContext returns the build context, restricted by opts.
	MainContext(ctx context.Context, opts ...llb.LocalOption) (llb.State, error)
}

// MainContextName is the name of the local source that holds the build
// context, as `buildctl --local context=DIR` and buildx name it.
const MainContextName = "context"

// Offline resolves without a registry or a session: images by name only, so
// their config does not apply, and the named contexts it lists as local
// sources of the same name. It is what `tomlfront llb` uses.
type Offline struct {
	// Contexts are the names given with --build-context.
	Contexts []string
}

// Image implements Resolver.
func (Offline) Image(_ context.Context, ref string, platform ocispecs.Platform, opts ...llb.ConstraintsOpt) (llb.State, *dockerspec.DockerOCIImage, error) {
	imageOpts := []llb.ImageOption{llb.Platform(platform)}
	for _, o := range opts {
		imageOpts = append(imageOpts, o)
	}
	return llb.Image(ref, imageOpts...), nil, nil
}

// NamedContext implements Resolver.
func (o Offline) NamedContext(_ context.Context, name string, _ ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, bool, error) {
	if !slices.Contains(o.Contexts, name) {
		return llb.State{}, nil, false, nil
	}
	return llb.Local(name, llb.SharedKeyHint(name)), nil, true, nil
}

// MainContext implements Resolver.
func (Offline) MainContext(_ context.Context, opts ...llb.LocalOption) (llb.State, error) {
	opts = append([]llb.LocalOption{llb.SharedKeyHint(MainContextName)}, opts...)
	return llb.Local(MainContextName, opts...), nil
}
