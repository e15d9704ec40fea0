package lint

import (
	"os"
	"runtime"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/tomlfront/tomlfront/spec"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		args  map[string]string
		multi bool
		want  []string
	}{
		{"clean spec", `
[args]
VERSION = "1"
[stages.a]
from = "busybox:1.36"
args = ["VERSION"]
`, nil, false, nil},
		{"sensitive arg and env", `
[args]
GITHUB_TOKEN = ""
PUBLIC_KEY = ""
[stages.a]
from = "busybox:1.36"
args = ["GITHUB_TOKEN", "PUBLIC_KEY"]
env = { DB_PASSWORD = "x" }
[[stages.a.steps]]
run = "true"
env = { api_key = "y" }
`, nil, false, []string{
			`build.toml:3:1: warning: arg "GITHUB_TOKEN" looks sensitive: pass it as a secret (--secret id=..., a ` + "`" + `type = "secret"` + "`" + ` mount) (SecretsUsedInArgOrEnv)`,
			`build.toml:8:9: warning: env "DB_PASSWORD" looks sensitive: mount it as a secret (` + "`" + `{ type = "secret", id = "...", env = "DB_PASSWORD" }` + "`" + `) (SecretsUsedInArgOrEnv)`,
			`build.toml:11:9: warning: env "api_key" looks sensitive: mount it as a secret (` + "`" + `{ type = "secret", id = "...", env = "api_key" }` + "`" + `) (SecretsUsedInArgOrEnv)`,
		}},
		{"undeclared build arg", `
[args]
VERSION = "1"
[stages.a]
from = "busybox:1.36"
args = ["VERSION"]
`, map[string]string{"VERSON": "2", "BUILDKIT_SYNTAX": "x", "http_proxy": "p"}, false, []string{
			`build.toml:1:1: warning: build arg "VERSON" is not declared in [args], so nothing uses it (did you mean "VERSION"?) (UndeclaredBuildArg)`,
		}},
		{"unused arg, stage and cache", `
[args]
USED = "1"
ALSO_USED = "2"
UNUSED = "3"
[caches.idle]
target = "/idle"
[caches.busy]
target = "/busy/${ALSO_USED}"
[stages.helper]
from = "busybox:1.36"
[stages.a]
from = "busybox:1.36"
workdir = "/src/${USED}"
caches = ["busy"]
`, nil, false, []string{
			`build.toml:5:1: warning: arg "UNUSED" is declared but no stage lists it in ` + "`args`" + ` and no field uses ${UNUSED} (UnusedArg)`,
			`build.toml:6:9: warning: cache "idle" is declared but no stage or step lists it in ` + "`caches`" + ` (UnusedCache)`,
			`build.toml:10:1: warning: stage "helper" is not the default and no stage uses it: it is built only with --target helper (UnusedStage)`,
		}},
		{"download without checksum", `
[stages.a]
from = "busybox:1.36"
[[stages.a.steps]]
add = ["https://example.com/tool.tgz", "local.tgz"]
to = "/opt/"
`, nil, false, []string{
			`build.toml:5:8: warning: "https://example.com/tool.tgz" is downloaded without a checksum: add ` + "`" + `checksum = "sha256:..."` + "`" + ` (AddWithoutChecksum)`,
		}},
		{"unpinned base images", `
[stages.a]
from = "busybox"
[stages.b]
from = "debian:latest"
[stages.c]
from = "alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000"
[stages.d]
from = "scratch"
[[stages.d.steps]]
copy = ["/x"]
from = "a"
[[stages.d.steps]]
copy = ["/y"]
from = "b"
[[stages.d.steps]]
copy = ["/z"]
from = "c"
`, nil, false, []string{
			`build.toml:3:8: warning: image "busybox" has no tag: pin a version, e.g. "busybox:1.2" (UnpinnedBaseImage)`,
			`build.toml:5:8: warning: image "debian:latest" is tagged latest: pin a version (UnpinnedBaseImage)`,
		}},
		{"copy from a misspelt stage", `
[stages.build]
from = "busybox:1.36"
[stages.a]
from = "busybox:1.36"
[[stages.a.steps]]
copy = ["/out"]
from = "biuld"
[[stages.a.steps]]
copy = ["/etc/os-release"]
from = "debian:bookworm"
[[stages.a.steps]]
run = "true"
mounts = [{ type = "bind", from = "bulid", target = "/b" }]
`, nil, false, []string{
			`build.toml:2:1: warning: stage "build" is not the default and no stage uses it: it is built only with --target build (UnusedStage)`,
			`build.toml:8:8: warning: from "biuld" is no stage, so it is read as the image docker.io/library/biuld:latest (did you mean "build"?) (UnknownCopyFrom)`,
			`build.toml:14:35: warning: from "bulid" is no stage, so it is read as the image docker.io/library/bulid:latest (did you mean "build"?) (UnknownCopyFrom)`,
		}},
		{"cache ids in conflict", `
[caches.deps]
target = "/deps"
[caches.deps2]
id = "deps"
target = "/deps"
sharing = "locked"
[caches.other]
id = "deps"
target = "/elsewhere"
[stages.a]
from = "busybox:1.36"
caches = ["deps"]
[[stages.a.steps]]
run = "true"
caches = ["deps2", "other"]
`, nil, false, []string{
			`build.toml:16:11: warning: cache id "deps" is mounted locked here and shared at line 13: give one of them its own ` + "`id`" + `, or the same sharing (CacheIDConflict)`,
			`build.toml:16:20: warning: cache id "deps" is mounted at /elsewhere here and at /deps at line 13: one id holds one tool's files; give one of them its own ` + "`id`" + ` (CacheIDConflict)`,
		}},
		{"cache ids in conflict once expanded", `
[args]
TOOL = "deps"
[caches.deps]
id = "${TOOL}-${TARGETARCH}"
target = "/deps"
[stages.a]
from = "busybox:1.36"
args = ["TOOL"]
caches = ["deps"]
[[stages.a.steps]]
run = "true"
mounts = [{ type = "cache", id = "deps-${TARGETARCH}", target = "/other" }]
`, map[string]string{"TOOL": "deps"}, false, []string{
			`build.toml:13:11: warning: cache id "deps-` + runtime.GOARCH + `" is mounted at /other here and at /deps at line 10: one id holds one tool's files; give one of them its own ` + "`id`" + ` (CacheIDConflict)`,
		}},
		{"package manager on an unlocked cache", `
[caches.aptcache]
target = "/var/cache/apt"
[stages.a]
from = "debian:bookworm"
caches = ["aptcache"]
[[stages.a.steps]]
run = "apt-get update && apt-get install -y curl"
[[stages.a.steps]]
run = "apt-get install -y jq"
[[stages.a.steps]]
run = "true"
mounts = [{ type = "cache", target = "/var/lib/apt/lists", sharing = "shared" }, { type = "cache", target = "/var/cache/apt", id = "apt/cache", sharing = "locked" }]
caches = ["apt"]
`, nil, false, []string{
			`build.toml:6:11: warning: apt-get locks /var/cache/apt, but cache "aptcache" is shared: concurrent builds on one builder break it; set sharing = "locked" (CacheNeedsLock)`,
		}},
		{"caches written by every platform", `
[caches.target]
target = "/src/target"
[caches.perplatform]
id = "target-${TARGETPLATFORM}"
target = "/src/t2"
[stages.build]
from = "rust:1.80"
caches = ["target", "perplatform", "cargo"]
[[stages.build.steps]]
run = "cargo build"
mounts = [{ type = "cache", target = "/src/node_modules" }]
[stages.cross]
from = "rust:1.80"
platform = "${BUILDPLATFORM}"
caches = ["target"]
[[stages.cross.steps]]
run = "cargo build"
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/x"]
from = "build"
[[stages.final.steps]]
copy = ["/y"]
from = "cross"
`, nil, true, []string{
			`build.toml:9:11: warning: stage "build" runs once per platform, and every platform writes cache "target" at once: put ${TARGETPLATFORM} in its ` + "`id`" + `, or set sharing = "locked" (CacheSharedAcrossPlatforms)`,
			`build.toml:12:11: warning: stage "build" runs once per platform, and every platform writes cache "/src/node_modules" at once: put ${TARGETPLATFORM} in its ` + "`id`" + `, or set sharing = "locked" (CacheSharedAcrossPlatforms)`,
		}},
		{"[lint] skips a rule and makes another an error", policySpec + `[lint]
skip = ["UnusedArg"]
error = ["UnpinnedBaseImage"]
`, nil, false, []string{
			`build.toml:4:8: image "busybox" has no tag: pin a version, e.g. "busybox:1.2" (UnpinnedBaseImage, an error by the spec's [lint], TOMLFRONT_CHECK or BUILDKIT_DOCKERFILE_CHECK)`,
		}},
		{"[lint] error = true", policySpec + "[lint]\nerror = true\n", nil, false, []string{
			`build.toml:2:1: arg "UNUSED" is declared but no stage lists it in ` + "`args`" + ` and no field uses ${UNUSED} (UnusedArg, an error by the spec's [lint], TOMLFRONT_CHECK or BUILDKIT_DOCKERFILE_CHECK)`,
			`build.toml:4:8: image "busybox" has no tag: pin a version, e.g. "busybox:1.2" (UnpinnedBaseImage, an error by the spec's [lint], TOMLFRONT_CHECK or BUILDKIT_DOCKERFILE_CHECK)`,
		}},
		{"TOMLFRONT_CHECK replaces [lint]", policySpec + "[lint]\nerror = true\n", map[string]string{"TOMLFRONT_CHECK": "skip=UnpinnedBaseImage"}, false, []string{
			`build.toml:2:1: warning: arg "UNUSED" is declared but no stage lists it in ` + "`args`" + ` and no field uses ${UNUSED} (UnusedArg)`,
		}},
		{"BUILDKIT_DOCKERFILE_CHECK error=true fails only the rules a Dockerfile has", dockerfileCheckSpec, map[string]string{"BUILDKIT_DOCKERFILE_CHECK": "error=true"}, false, []string{
			`build.toml:2:1: warning: arg "UNUSED" is declared but no stage lists it in ` + "`args`" + ` and no field uses ${UNUSED} (UnusedArg)`,
			`build.toml:3:1: arg "API_TOKEN" looks sensitive: pass it as a secret (--secret id=..., a ` + "`" + `type = "secret"` + "`" + ` mount) (SecretsUsedInArgOrEnv, an error by the spec's [lint], TOMLFRONT_CHECK or BUILDKIT_DOCKERFILE_CHECK)`,
			`build.toml:3:1: warning: arg "API_TOKEN" is declared but no stage lists it in ` + "`args`" + ` and no field uses ${API_TOKEN} (UnusedArg)`,
			`build.toml:5:8: warning: image "busybox" has no tag: pin a version, e.g. "busybox:1.2" (UnpinnedBaseImage)`,
		}},
		{"BUILDKIT_DOCKERFILE_CHECK skips the rules a Dockerfile has", dockerfileCheckSpec, map[string]string{"BUILDKIT_DOCKERFILE_CHECK": "skip=SecretsUsedInArgOrEnv,StageNameCasing"}, false, []string{
			`build.toml:2:1: warning: arg "UNUSED" is declared but no stage lists it in ` + "`args`" + ` and no field uses ${UNUSED} (UnusedArg)`,
			`build.toml:3:1: warning: arg "API_TOKEN" is declared but no stage lists it in ` + "`args`" + ` and no field uses ${API_TOKEN} (UnusedArg)`,
			`build.toml:5:8: warning: image "busybox" has no tag: pin a version, e.g. "busybox:1.2" (UnpinnedBaseImage)`,
		}},
		{"TOMLFRONT_CHECK skip=all", policySpec, map[string]string{"TOMLFRONT_CHECK": "skip=all"}, false, nil},
		{"unknown rule in [lint]", policySpec + "[lint]\nskip = [\"UnusedArgs\"]\n", nil, false, []string{
			`build.toml:6:9: unknown lint rule "UnusedArgs" (did you mean "UnusedArg"?); rules: ` + strings.Join(ruleNames(), ", "),
		}},
		{"unknown rule in TOMLFRONT_CHECK", policySpec, map[string]string{"TOMLFRONT_CHECK": "skip=UnusedStages"}, false, []string{
			`--build-arg TOMLFRONT_CHECK="skip=UnusedStages": unknown rule "UnusedStages" (did you mean "UnusedStage"?); rules: ` + strings.Join(ruleNames(), ", "),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := spec.Load("build.toml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			findings, err := Check(s, Options{BuildArgs: tc.args, Platforms: platformsOf(tc.multi)})
			if err != nil {
				got = append(got, err.Error())
			}
			for _, f := range findings {
				got = append(got, f.Error(s.Files).Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// dockerfileCheckSpec breaks a rule a Dockerfile has too
// (SecretsUsedInArgOrEnv, line 3) and two it has not.
const dockerfileCheckSpec = `[args]
UNUSED = "x"
API_TOKEN = ""
[stages.a]
from = "busybox"
`

// policySpec breaks two rules: an unused arg (line 2) and an untagged
// base image (line 4).
const policySpec = `[args]
UNUSED = "x"
[stages.a]
from = "busybox"
`

// TestRulesDocumented checks that docs/lint.md has a section for each rule.
func TestRulesDocumented(t *testing.T) {
	doc := readDoc(t)
	for _, r := range Rules {
		if !strings.Contains(doc, "\n## "+r.Name+"\n") {
			t.Errorf("docs/lint.md has no section for %s", r.Name)
		}
	}
}

func readDoc(t *testing.T) string {
	dt, err := os.ReadFile("../docs/lint.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(dt)
}

func platformsOf(multi bool) []ocispecs.Platform {
	if multi {
		return []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}
	}
	return nil
}
