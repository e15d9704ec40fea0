package llbgen

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/spec"
)

// namedContext returns the state of `context:NAME` in a stage.
func (c *converter) namedContext(ctx context.Context, name string, platform ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, error) {
	return NamedContext(ctx, name, c.spec.Context(name), platform, &c.opt)
}

// NamedContext returns the state of the context name: what --build-context
// gives (opt's resolver), else the default source decl declares, else an
// error saying how to give it. decl is nil for an undeclared context. Both
// the converter and the frontend's reading of includes resolve contexts so.
func NamedContext(ctx context.Context, name string, decl *spec.Context, platform ocispecs.Platform, opt *Options) (llb.State, *dockerspec.DockerOCIImage, error) {
	st, img, ok, err := opt.resolver().NamedContext(ctx, name, platform)
	switch {
	case err != nil || ok:
		return st, img, err
	case decl == nil:
		return llb.State{}, nil, fmt.Errorf("the build has no context named %q: declare it in [contexts], or pass --build-context %s=<dir|docker-image://ref|git URL>", name, name)
	}
	return contextSource(ctx, decl, platform, opt)
}

// contextSource is the state of a declared context's default source: a
// git repository (with the rules of add's git sources), an image's
// filesystem with its config, or an unpacked tarball.
func contextSource(ctx context.Context, decl *spec.Context, platform ocispecs.Platform, opt *Options) (llb.State, *dockerspec.DockerOCIImage, error) {
	name := llb.WithCustomName("[context " + decl.Name + "] " + decl.Source.Value)
	switch decl.Kind() {
	case spec.ContextGit:
		st, err := gitState(decl.Source.Value, decl.Checksum.Value, false, opt, name)
		return st, nil, err
	case spec.ContextImage:
		return opt.resolver().Image(ctx, strings.TrimPrefix(decl.Source.Value, spec.ImagePrefix), platform)
	case spec.ContextTarball:
		d, err := spec.ParseDigest(decl.Checksum.Value)
		if err != nil {
			return llb.State{}, nil, fmt.Errorf("context %q: %w", decl.Name, err)
		}
		archive := llb.HTTP(decl.Source.Value, llb.Filename("context.tar"), llb.Checksum(d), name)
		st := llb.Scratch().File(llb.Copy(archive, "/context.tar", "/", &llb.CopyInfo{AttemptUnpack: true}), name)
		return st, nil, nil
	}
	return llb.State{}, nil, fmt.Errorf("context %q: %q is not a source [contexts] can declare", decl.Name, decl.Source.Value)
}

// gitState is the state of a git URL, read with the Dockerfile's rules for
// its ref, subdir and options; checksum pins the commit (else the URL's own
// ?checksum=). What the daemon lacks a capability for is an error.
func gitState(src, checksum string, keepGitDir bool, o *Options, opts ...llb.GitOption) (llb.State, error) {
	ref, err := spec.ParseGitURL(src)
	if err != nil {
		return llb.State{}, err
	}
	if ref.Ref != "" {
		opts = append(opts, llb.GitRef(ref.Ref))
	}
	if ref.SubDir != "" {
		opts = append(opts, llb.GitSubDir(ref.SubDir))
	}
	if keepGitDir || (ref.KeepGitDir != nil && *ref.KeepGitDir) {
		opts = append(opts, llb.KeepGitDir())
	}
	if o.GitAdvice {
		opts = append(opts, llb.GitAdvice(true))
	}
	if checksum == "" {
		checksum = ref.Checksum // the URL's own ?checksum= or ?commit=
	}
	for _, f := range []struct {
		on      bool
		cap     apicaps.CapID
		feature string
		opt     llb.GitOption
	}{
		{checksum != "", pb.CapSourceGitChecksum, "the checksum of a git source", llb.GitChecksum(checksum)},
		{ref.Submodules != nil && !*ref.Submodules, pb.CapSourceGitSkipSubmodules, "submodules=false on a git source", llb.GitSkipSubmodules()},
		{ref.FetchByCommit, pb.CapSourceGitFetchByCommit, "fetching a git source by commit", llb.GitFetchByCommit()},
		{ref.MTime != "", pb.CapSourceGitMTime, "mtime on a git source", llb.GitMTime(ref.MTime)},
	} {
		if !f.on {
			continue
		}
		if err := o.require(f.cap, f.feature); err != nil {
			return llb.State{}, err
		}
		opts = append(opts, f.opt)
	}
	return llb.Git(ref.Remote, "", opts...), nil
}
