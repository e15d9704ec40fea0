package llbgen

import (
	"github.com/moby/buildkit/client/llb"
	"google.golang.org/protobuf/proto"
)

// MarshalDefinition encodes def as `buildctl build` reads it from stdin
// (llb.ReadFrom). Unlike llb.WriteTo it orders the definition's maps, so the
// same graph always gives the same bytes.
func MarshalDefinition(def *llb.Definition) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(def.ToPB())
}
