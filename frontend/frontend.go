// Package frontend is the BuildKit gateway frontend: it reads the spec from
// the build's dockerfile context, converts it with llbgen and solves it.
package frontend

import (
	"context"
	"errors"

	"github.com/moby/buildkit/frontend/gateway/client"
)

// Build is the gateway build function.
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	return nil, errors.New("not implemented yet")
}
