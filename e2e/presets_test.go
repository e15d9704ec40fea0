//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// TestPresetApt installs a package twice on debian:bookworm with the apt
// preset: after a change that runs the step again, apt downloads nothing,
// and the image still has its docker-clean and holds no package file.
func TestPresetApt(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 10*time.Minute)
	ns := nonce(t)
	dir := writeTree(t, map[string]string{"build.toml": `
[args]
CHANGE = ""
[stages.tools]
from = "debian:bookworm"
args = ["CHANGE"]
caches = ["apt"]
[[stages.tools.steps]]
run = "echo change $CHANGE && apt-get update && apt-get install -y --no-install-recommends hello && hello"
[stages.out]
from = "scratch"
[[stages.out.steps]]
copy = ["/var/cache/apt/", "/etc/apt/apt.conf.d/"]
from = "tools"
to = "/files/"
`})
	build := func(change string) (string, string) {
		exp, out := localExport(t)
		log := mustSolve(ctx, t, solveOpt{dir: dir, exports: []client.ExportEntry{exp},
			attrs: map[string]string{"build-arg:CHANGE": change, "build-arg:BUILDKIT_CACHE_MOUNT_NS": ns}})
		return log, out
	}
	// A change that is new to the builder: a step's cache key leaves out
	// its cache mounts, so the namespace alone would not run it again.
	first, _ := build(ns + "-1")
	downloaded := regexp.MustCompile(`(?m)Get:\d+ \S+ \S+ amd64 hello `)
	if !downloaded.MatchString(first) {
		t.Fatalf("the first build downloaded no package, so the check below would be blind:\n%s", first)
	}
	second, out := build(ns + "-2")
	if downloaded.MatchString(second) || !strings.Contains(second, "Need to get 0 B/") {
		t.Errorf("the second build downloaded the package again:\n%s", second)
	}
	if !strings.Contains(readFile(t, filepath.Join(out, "files", "docker-clean")), "DPkg::Post-Invoke") {
		t.Error("the image lost its docker-clean")
	}
	debs, _ := filepath.Glob(filepath.Join(out, "files", "archives", "*.deb"))
	if len(debs) > 0 {
		t.Errorf("the image holds packages: %v", debs)
	}
}

// TestPresetGo builds a program with a module dependency twice on
// golang:1.26 with the go preset: after a source change, go downloads no
// module and compiles only the changed package.
func TestPresetGo(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 10*time.Minute)
	ns := nonce(t)
	main := func(msg string) string {
		return "package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/google/uuid\"\n)\n\nfunc main() { fmt.Println(" + msg + ", uuid.NewSHA1(uuid.NameSpaceDNS, []byte(\"x\"))) }\n"
	}
	dir := writeTree(t, map[string]string{
		"go.mod":  "module example.com/app\n\ngo 1.26\n\nrequire github.com/google/uuid v1.6.0\n",
		"main.go": main(`"one"`),
		"build.toml": `
[args]
NONCE = ""
[stages.build]
from = "golang:1.26"
args = ["NONCE"]
workdir = "/src"
caches = ["go"]
[[stages.build.steps]]
copy = ["go.mod", "go.sum", "main.go"]
[[stages.build.steps]]
run = "go build -v -o /out/app . 2>&1"
[stages.out]
from = "scratch"
[[stages.out.steps]]
copy = ["/out/app"]
from = "build"
`,
	})
	tidy := command(t, "go", "mod", "download", "github.com/google/uuid")
	tidy.Dir = dir
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod download: %v\n%s", err, out)
	}
	build := func() (string, string) {
		exp, out := localExport(t)
		log := mustSolve(ctx, t, solveOpt{dir: dir, exports: []client.ExportEntry{exp},
			attrs: map[string]string{"build-arg:NONCE": ns, "build-arg:BUILDKIT_CACHE_MOUNT_NS": ns}})
		return log, out
	}
	first, _ := build()
	if !strings.Contains(first, "go: downloading github.com/google/uuid v1.6.0") || !strings.Contains(first, " github.com/google/uuid\n") {
		t.Fatalf("the first build neither downloaded nor compiled the module, so the checks below would be blind:\n%s", first)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(main(`"two"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	second, out := build()
	if strings.Contains(second, "go: downloading") {
		t.Errorf("the second build downloaded modules:\n%s", second)
	}
	if strings.Contains(second, " github.com/google/uuid\n") || !strings.Contains(second, " example.com/app\n") {
		t.Errorf("the second build did not reuse the build cache (go build -v lists what it compiles):\n%s", second)
	}
	got, err := command(t, filepath.Join(out, "app")).Output()
	if err != nil || !strings.HasPrefix(string(got), "two ") {
		t.Errorf("app printed %q, %v", got, err)
	}
}

// TestPresetNpm runs npm ci twice on the node fixture with the npm preset:
// after a change that runs the step again, npm takes every package from the
// cache and asks the registry nothing.
func TestPresetNpm(t *testing.T) {
	t.Parallel()
	ctx := timeout(t, 10*time.Minute)
	ns := nonce(t)
	dir := writeTree(t, map[string]string{
		"package.json": `{"name": "app", "version": "1.0.0", "private": true, "dependencies": {"is-number": "7.0.0"}}` + "\n",
		"build.toml": `
[args]
CHANGE = ""
[stages.app]
from = "node:18"
args = ["CHANGE"]
workdir = "/app"
caches = ["npm"]
# Node may not read the system's certificates; the bench's https goes
# through the machine's own authorities.
env = { NODE_EXTRA_CA_CERTS = "/etc/ssl/certs/ca-certificates.crt" }
[[stages.app.steps]]
copy = ["package.json", "package-lock.json"]
[[stages.app.steps]]
run = "echo change $CHANGE && npm ci --loglevel=http --no-audit --no-fund 2>&1"
`,
	})
	lock := command(t, "npm", "install", "--package-lock-only", "--no-audit", "--no-fund")
	lock.Dir = dir
	if out, err := lock.CombinedOutput(); err != nil {
		t.Fatalf("npm install --package-lock-only: %v\n%s", err, out)
	}
	build := func(change string) string {
		return mustSolve(ctx, t, solveOpt{dir: dir, attrs: map[string]string{"build-arg:CHANGE": change, "build-arg:BUILDKIT_CACHE_MOUNT_NS": ns}})
	}
	fetches := regexp.MustCompile(`(?m)http fetch GET \d+ \S+.*$`)
	first := build(ns + "-1")
	// npm tells where each response came from: "cache hit", or "cache
	// stale" for a cached one it took without asking the registry
	// (prefer-offline); "cache miss", "revalidated" or "updated" asked it.
	fromRegistry := func(log string) []string {
		var out []string
		for _, line := range fetches.FindAllString(log, -1) {
			if !strings.Contains(line, "(cache hit)") && !strings.Contains(line, "(cache stale)") {
				out = append(out, line)
			}
		}
		return out
	}
	if len(fromRegistry(first)) == 0 {
		t.Fatalf("the first npm ci fetched nothing from the registry, so the check below would be blind:\n%s", first)
	}
	second := build(ns + "-2")
	if got := fromRegistry(second); len(got) > 0 || !strings.Contains(second, "added 1 package") {
		t.Errorf("the second npm ci asked the registry: %q\n%s", got, second)
	}
}
