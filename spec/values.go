package spec

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/docker/go-units"
	"github.com/moby/buildkit/frontend/dockerfile/dfgitutil"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// The one check of each kind of value that can be written out or built
// from variables: the validator runs it on the values written out, llbgen
// on the others once it has expanded them. Each says, in one message, what
// was wrong and what to write instead; the caller adds the position.

// ParsePlatform reads a platform, os/arch[/variant].
func ParsePlatform(v string) (ocispecs.Platform, error) {
	p, err := platforms.Parse(v)
	if err != nil {
		return ocispecs.Platform{}, fmt.Errorf("invalid platform %q: write os/arch[/variant], e.g. linux/arm64, or ${BUILDPLATFORM}", v)
	}
	return platforms.Normalize(p), nil
}

// ParseSize reads the size key, in bytes or with a unit ("64m", "2g").
func ParseSize(key, v string) (int64, error) {
	n, err := units.RAMInBytes(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid %s %q: write bytes or a size such as \"64m\" or \"2g\"", key, v)
	}
	return n, nil
}

// ParseDuration reads the duration key, not negative.
func ParseDuration(key, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid %s %q: write a duration such as \"30s\" or \"1m30s\"", key, v)
	}
	return d, nil
}

// ParseDigest reads the checksum of a download.
func ParseDigest(v string) (digest.Digest, error) {
	d, err := digest.Parse(v)
	if err != nil {
		return "", fmt.Errorf("invalid checksum %q: write a digest such as \"sha256:\" followed by 64 hex digits", v)
	}
	return d, nil
}

// CheckImageRef checks an image reference.
func CheckImageRef(v string) error {
	if _, err := reference.ParseNormalizedNamed(v); err != nil {
		return fmt.Errorf("%q is not a valid image reference (%v)", v, err)
	}
	return nil
}

// ParseGitURL reads a git URL with the Dockerfile's rules for its ref,
// subdir and options.
func ParseGitURL(v string) (*dfgitutil.GitRef, error) {
	ref, _, err := dfgitutil.ParseGitRef(v)
	if err != nil {
		return nil, fmt.Errorf("invalid git URL %q: %v", v, err)
	}
	return ref, nil
}

// CheckDest checks the destination of a copy or add of n sources: several
// need a directory.
func CheckDest(verb, to string, n int) error {
	if n > 1 && !IsDirDest(to) {
		return fmt.Errorf("%s of several sources needs a directory: end `to` with a slash, e.g. %q", verb, to+"/")
	}
	return nil
}

// NumericOwner tells a chown of numbers only (uid[:gid]): a copy with
// link = true, made in an empty layer, has no /etc/passwd or /etc/group
// to look names up in, and BuildKit refuses names there.
func NumericOwner(chown string) bool {
	for _, part := range strings.SplitN(chown, ":", 2) {
		if _, err := strconv.ParseUint(part, 10, 32); err != nil {
			return false
		}
	}
	return true
}
