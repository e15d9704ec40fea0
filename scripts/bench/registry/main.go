// Command registry is the bench's OCI registry: distribution's own registry
// command with only the filesystem storage driver linked in. The bench serves
// fixture images from a directory; distribution's cmd/registry also links the
// Azure, GCS and S3 drivers and CloudFront, whose SDKs more than double what a
// fresh machine downloads and compiles before the demo can start.
package main

import (
	"os"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

func main() {
	if err := registry.RootCmd.Execute(); err != nil {
		os.Exit(1)
	}
}
