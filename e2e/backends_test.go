//go:build e2e

package e2e

import (
	"os"
	"strings"
	"testing"
)

// The S3 and Azure Blob Storage cache backends, against the bench's
// versitygw and azurite (see scripts/bench/up.sh): as TestCacheBackends, a
// build exports its cache, and a second buildkitd with an empty root imports
// it: nothing runs again and the outputs are byte-identical.

// benchEnv returns the bench's environment variables names, failing the test
// when one is missing (a bench started by an older up.sh).
func benchEnv(t *testing.T, names ...string) map[string]string {
	t.Helper()
	vals := map[string]string{}
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			t.Fatalf("%s is not set: restart the bench (bash scripts/bench/up.sh) and source its env.sh", n)
		}
		vals[n] = v
	}
	return vals
}

// Not parallel: it starts buildkitds of its own and adds and removes buildx
// builders in the bench's DOCKER_CONFIG.
func TestCacheBackendS3(t *testing.T) {
	env := benchEnv(t, "TOMLFRONT_S3_ENDPOINT", "TOMLFRONT_S3_BUCKET", "TOMLFRONT_S3_REGION",
		"TOMLFRONT_S3_ACCESS_KEY", "TOMLFRONT_S3_SECRET_KEY")
	name := "e2e-" + nonce(t)
	cache := strings.Join([]string{
		"type=s3",
		"endpoint_url=" + env["TOMLFRONT_S3_ENDPOINT"],
		"bucket=" + env["TOMLFRONT_S3_BUCKET"],
		"region=" + env["TOMLFRONT_S3_REGION"],
		"access_key_id=" + env["TOMLFRONT_S3_ACCESS_KEY"],
		"secret_access_key=" + env["TOMLFRONT_S3_SECRET_KEY"],
		"use_path_style=true",
		"name=" + name,
	}, ",")
	testCacheBackend(t, "s3", cache+",mode=max", cache, "")
}

// BuildKit's azblob cache takes the account key only as the
// secret_access_key attribute (without it, it tries Azure AD credentials),
// and needs account_name since a path-style URL's host is no account name.
//
// Not parallel: it starts buildkitds of its own and adds and removes buildx
// builders in the bench's DOCKER_CONFIG.
func TestCacheBackendAzblob(t *testing.T) {
	env := benchEnv(t, "TOMLFRONT_AZURE_ACCOUNT_URL", "TOMLFRONT_AZURE_ACCOUNT_NAME", "TOMLFRONT_AZURE_ACCOUNT_KEY")
	name := "e2e-" + nonce(t)
	cache := strings.Join([]string{
		"type=azblob",
		"account_url=" + env["TOMLFRONT_AZURE_ACCOUNT_URL"],
		"account_name=" + env["TOMLFRONT_AZURE_ACCOUNT_NAME"],
		"secret_access_key=" + env["TOMLFRONT_AZURE_ACCOUNT_KEY"],
		"name=" + name,
	}, ",")
	testCacheBackend(t, "azblob", cache+",mode=max", cache, "")
}
