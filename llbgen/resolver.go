package llbgen

import (
	"context"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Resolver provides what a spec refers to outside itself. The frontend
// implements it with the gateway client; Offline needs nothing.
type Resolver interface {
	// Image returns the state of an image for a platform and its config;
	// a nil config means the config is unknown.
	Image(ctx context.Context, ref string, platform ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, error)
	// NamedContext returns the build context called name (`context:NAME`),
	// with its config when it is an image.
	NamedContext(ctx context.Context, name string, platform ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, error)
	// MainContext returns the build context, restricted by opts.
	MainContext(ctx context.Context, opts ...llb.LocalOption) (llb.State, error)
}

// MainContextName is the name of the local source that holds the build
// context, as `buildctl --local context=DIR` and buildx name it.
const MainContextName = "context"

// Offline resolves without a registry or a session: images by name only, so
// their config does not apply, and contexts as local sources of the same
// name. It is what `tomlfront llb` uses.
type Offline struct{}

// Image implements Resolver.
func (Offline) Image(_ context.Context, ref string, platform ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, error) {
	return llb.Image(ref, llb.Platform(platform)), nil, nil
}

// NamedContext implements Resolver.
func (Offline) NamedContext(_ context.Context, name string, _ ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, error) {
	return llb.Local(name, llb.SharedKeyHint(name)), nil, nil
}

// MainContext implements Resolver.
func (Offline) MainContext(_ context.Context, opts ...llb.LocalOption) (llb.State, error) {
	opts = append([]llb.LocalOption{llb.SharedKeyHint(MainContextName)}, opts...)
	return llb.Local(MainContextName, opts...), nil
}
