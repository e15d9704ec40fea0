//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The S3 and Azure Blob Storage cache backends, against the bench's
// versitygw and azurite (see scripts/bench/up.sh): as TestCacheBackends, a
// build exports its cache, and a second buildkitd with an empty root imports
// it: nothing runs again and the outputs are byte-identical.

// backendsSpec writes random bytes in every run step, so a step that ran
// again changes the output.
const backendsSpec = `# syntax=ghcr.io/tomlfront/tomlfront:1
[args]
NONCE = ""
[stages.base]
from = "busybox:1.36"
args = ["NONCE"]
[[stages.base.steps]]
run = "echo ran step 1 && head -c 32 /dev/urandom > /r1"
[stages.final]
from = "base"
[[stages.final.steps]]
copy = ["input.txt"]
to = "/in/"
[[stages.final.steps]]
run = "echo ran step 2 && head -c 32 /dev/urandom > /r2 && cat /in/input.txt > /r3"
`

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
	testRemoteCacheBackend(t, "s3", cache+",mode=max", cache)
}

// BuildKit's azblob cache takes the account key only as the
// secret_access_key attribute (without it, it tries Azure AD credentials),
// and needs account_name since a path-style URL's host is no account name.
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
	testRemoteCacheBackend(t, "azblob", cache+",mode=max", cache)
}

// testRemoteCacheBackend builds backendsSpec with --cache-to to, then on a
// new empty buildkitd with --cache-from from, and checks that no step ran
// the second time.
func testRemoteCacheBackend(t *testing.T, backend, to, from string) {
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{"build.toml": backendsSpec, "input.txt": "input\n"})
	n := nonce(t)

	first := t.TempDir()
	out := mustBuildx(t, dir, "build", "-f", "build.toml", "--build-arg", "NONCE="+n, "--provenance=false",
		"--cache-to", to, "--output", "type=local,dest="+first, ".")
	if !ranOutput.MatchString(out) {
		t.Fatalf("the first build shows no step output, so the check below would be blind:\n%s", out)
	}
	// buildx silently drops a cache backend the builder lacks (as s3 without
	// the cache.s3 capability): the export must show in the progress.
	if !strings.Contains(out, "exporting cache") && !strings.Contains(out, "exporting to "+backend) {
		t.Errorf("the first build shows no cache export:\n%s", out)
	}

	builder := "tf-" + backend
	addr := extraBuilder(t, "cache-"+backend)
	mustDocker(t, "buildx", "create", "--name", builder, "--driver", "remote", addr)
	t.Cleanup(func() { _ = exec.Command("docker", "buildx", "rm", builder).Run() })
	second := t.TempDir()
	out = mustBuildx(t, dir, "build", "--builder", builder, "-f", "build.toml", "--build-arg", "NONCE="+n,
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
