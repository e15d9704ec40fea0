//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// The S3 and Azure Blob Storage cache backends, against the bench's
// versitygw and azurite (see scripts/bench/up.sh): as TestCacheBackends, a
// build exports its cache, and a second buildkitd with an empty root imports
// it: nothing runs again and the outputs are byte-identical.

// Not parallel: it starts buildkitds of its own and adds and removes buildx
// builders in the bench's DOCKER_CONFIG.
func TestCacheBackendS3(t *testing.T) {
	needs(t, s3Azblob)
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
	testCacheBackend(t, cmdOpt{}, "s3", cache+",mode=max", cache, "")
}

// BuildKit's azblob cache takes the account key only as the
// secret_access_key attribute (without it, it tries Azure AD credentials),
// and needs account_name since a path-style URL's host is no account name.
//
// Not parallel: it starts buildkitds of its own and adds and removes buildx
// builders in the bench's DOCKER_CONFIG.
func TestCacheBackendAzblob(t *testing.T) {
	needs(t, s3Azblob)
	env := benchEnv(t, "TOMLFRONT_AZURE_ACCOUNT_URL", "TOMLFRONT_AZURE_ACCOUNT_NAME", "TOMLFRONT_AZURE_ACCOUNT_KEY")
	name := "e2e-" + nonce(t)
	cache := strings.Join([]string{
		"type=azblob",
		"account_url=" + env["TOMLFRONT_AZURE_ACCOUNT_URL"],
		"account_name=" + env["TOMLFRONT_AZURE_ACCOUNT_NAME"],
		"secret_access_key=" + env["TOMLFRONT_AZURE_ACCOUNT_KEY"],
		"name=" + name,
	}, ",")
	testCacheBackend(t, cmdOpt{}, "azblob", cache+",mode=max", cache, "")
}

// TestCacheBackendGHA: the GitHub Actions cache (API v1), against the
// bench's nektos/act cache service, given as attributes, and as
// docker/build-push-action gives it: ACTIONS_CACHE_URL and
// ACTIONS_RUNTIME_TOKEN in buildx's environment, which buildx turns into
// the url and token attributes.
//
// Not parallel: it starts buildkitds of its own and adds and removes buildx
// builders in the bench's DOCKER_CONFIG.
func TestCacheBackendGHA(t *testing.T) {
	env := benchEnv(t, "TOMLFRONT_GHA_URL", "TOMLFRONT_GHA_TOKEN")
	needs(t, cacheExport)
	t.Run("attributes", func(t *testing.T) {
		// act keeps cache keys in lower case: a scope must be.
		cache := "type=gha,version=1,url=" + env["TOMLFRONT_GHA_URL"] + ",token=" + env["TOMLFRONT_GHA_TOKEN"] + ",scope=e2e-" + nonce(t)
		testCacheBackend(t, cmdOpt{}, "gha", cache+",mode=max", cache, "")
	})
	t.Run("runner environment", func(t *testing.T) {
		o := cmdOpt{env: []string{"ACTIONS_CACHE_URL=" + env["TOMLFRONT_GHA_URL"], "ACTIONS_RUNTIME_TOKEN=" + env["TOMLFRONT_GHA_TOKEN"]}}
		cache := "type=gha,scope=e2e-" + nonce(t)
		testCacheBackend(t, o, "gha", cache+",mode=max", cache, "")
	})
}

// TestCacheBackends builds with --cache-to, then builds again on a second
// buildkitd with an empty root and --cache-from: nothing may run again. Every
// run step writes random bytes, so a step that ran again changes the output.
//
// Not parallel: it starts buildkitds of its own and adds and removes buildx
// builders in the bench's DOCKER_CONFIG.
func TestCacheBackends(t *testing.T) {
	local := t.TempDir()
	registry := bench.registry + "/cache/registry:e2e-" + nonce(t)
	inline := bench.registry + "/cache/inline:e2e-" + nonce(t)
	tests := []struct{ name, to, from, push string }{
		{"local", "type=local,dest=" + local + ",mode=max", "type=local,src=" + local, ""},
		{"registry", "type=registry,ref=" + registry + ",mode=max", "type=registry,ref=" + registry, ""},
		{"inline", "type=inline", "type=registry,ref=" + inline, inline},
	}
	// Before v0.21 a registry cache is by default an index of non-manifest
	// blobs, which the bench's registry (distribution v3) refuses, for the
	// Dockerfile frontend too: those versions are given the image manifest
	// that v0.21 made the default.
	if buildkitMinor(t) < 21 {
		tests[1].to += ",image-manifest=true,oci-mediatypes=true"
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "inline" {
				needs(t, cacheExport)
			}
			testCacheBackend(t, cmdOpt{}, tc.name, tc.to, tc.from, tc.push)
		})
	}
}

// testCacheBackend builds backendSpec with --cache-to to (and, for inline
// caches, pushes the image push), then on a new empty buildkitd with
// --cache-from from, and checks that no step ran the second time. Both
// builds run buildx with o's environment.
func testCacheBackend(t *testing.T, o cmdOpt, backend, to, from, push string) {
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{"build.toml": backendSpec, "input.txt": "input\n"})
	n := nonce(t)

	first := t.TempDir()
	outputs := []string{"type=local,dest=" + first}
	if push != "" {
		outputs = append(outputs, "type=image,name="+push+",push=true")
	}
	out := buildxOutputs(t, o, dir, []string{"build", "-f", "build.toml", "--build-arg", "NONCE=" + n, "--provenance=false",
		"--cache-to", to}, outputs...)
	if !ranOutput.MatchString(out) {
		t.Fatalf("the first build shows no step output, so the check below would be blind:\n%s", out)
	}
	// buildx silently drops a cache backend the builder lacks (as s3 without
	// the cache.s3 capability): the export must show in the progress.
	// (The gha exporter's progress name is "exporting to GitHub Actions
	// Cache", the others' "exporting cache to ...".)
	if push == "" && !strings.Contains(out, "exporting cache") && !strings.Contains(out, "exporting to GitHub Actions Cache") {
		t.Errorf("the first build shows no cache export:\n%s", out)
	}

	builder := freshBuilder(t, "cache-"+backend)
	second := t.TempDir()
	out = mustBuildxWith(t, o, dir, "build", "--builder", builder, "-f", "build.toml", "--build-arg", "NONCE="+n,
		"--provenance=false", "--cache-from", from, "--output", "type=local,dest="+second, ".")
	for _, f := range []string{"r1", "r2", "r3"} {
		a, b := readFile(t, filepath.Join(first, f)), readFile(t, filepath.Join(second, f))
		if a != b {
			t.Errorf("%s differs: a step ran again on the empty builder", f)
		}
	}
	if ranOutput.MatchString(out) { // a step's own output, as "#9 0.104 ran step 1"
		t.Errorf("a step ran on the second builder:\n%s", out)
	}
	if !strings.Contains(out, "[base 1/1] run echo ran step 1") || !strings.Contains(out, "[final 2/2] run echo ran step 2") {
		t.Errorf("the second build has no steps:\n%s", out)
	}
}
