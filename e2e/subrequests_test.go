//go:build e2e

package e2e

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
)

const subrequestSpec = `# syntax=ghcr.io/tomlfront/tomlfront:1
version = 1

[args]
# Go toolchain version.
GO_VERSION = "1.26"
API_TOKEN = ""

[caches.gomod]
target = "/go/pkg/mod"

# Compiles the app.
[stages.build]
from = "golang:${GO_VERSION}"
caches = ["gomod"]

[[stages.build.steps]]
run = "go version"
mounts = [{ type = "secret", id = "netrc", required = true }, { type = "ssh" }]

# The runtime image.
[stages.runtime]
from = "busybox"

[[stages.runtime.steps]]
copy = ["/usr/local/go/VERSION"]
from = "build"
`

// TestSubrequests asks buildx's --call views, in text and JSON, and checks
// they answer from the spec: targets, outline, check and convertllb.
func TestSubrequests(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	dir := writeTree(t, map[string]string{"build.toml": subrequestSpec})
	call := func(view string, extra ...string) (string, error) {
		args := append([]string{"build", "-f", "build.toml", "--call=" + view}, extra...)
		return buildx(dir, append(args, ".")...)
	}
	// mustCall and jsonOf take the subtest's t: a closure that failed the
	// parent test from a subtest would stop the wrong goroutine.
	mustCall := func(t *testing.T, view string, extra ...string) string {
		t.Helper()
		out, err := call(view, extra...)
		if err != nil {
			t.Fatalf("--call=%s: %v\n%s", view, err, out)
		}
		return out
	}
	jsonOf := func(t *testing.T, out string, v any) {
		t.Helper()
		// The first JSON value: buildx prints a view it does not know
		// (convertllb) as its metadata map, the JSON inside it.
		if err := json.NewDecoder(strings.NewReader(out[strings.Index(out, "{"):])).Decode(v); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}

	t.Run("targets", func(t *testing.T) {
		text := mustCall(t, "targets")
		for _, want := range []string{"build             Compiles the app.", "runtime (default) The runtime image."} {
			if !strings.Contains(text, want) {
				t.Errorf("lacks %q:\n%s", want, text)
			}
		}
		var list targets.List
		jsonOf(t, mustCall(t, "targets,format=json"), &list)
		var got []string
		for _, tg := range list.Targets {
			got = append(got, tg.Name+"|"+tg.Description+"|"+tg.Base+"|"+strings.Repeat("default", map[bool]int{true: 1}[tg.Default]))
			if tg.Location == nil || len(tg.Location.Ranges) == 0 {
				t.Errorf("target %s has no location", tg.Name)
			}
		}
		if want := []string{"build|Compiles the app.|golang:${GO_VERSION}|", "runtime|The runtime image.|busybox|default"}; !reflect.DeepEqual(got, want) {
			t.Errorf("targets %q, want %q", got, want)
		}
		if list.Targets[0].Location.Ranges[0].Start.Line != 13 {
			t.Errorf("build is at line %d, want 13", list.Targets[0].Location.Ranges[0].Start.Line)
		}
	})

	t.Run("outline", func(t *testing.T) {
		text := mustCall(t, "outline", "--build-arg", "GO_VERSION=1.26")
		for _, want := range []string{"TARGET:      runtime", "GO_VERSION   1.26    Go toolchain version.", "netrc    true", "default"} {
			if !strings.Contains(text, want) {
				t.Errorf("lacks %q:\n%s", want, text)
			}
		}
		var o outline.Outline
		jsonOf(t, mustCall(t, "outline,format=json", "--build-arg", "BUILDKIT_CACHE_MOUNT_NS=team"), &o)
		if len(o.Args) != 1 || o.Args[0].Name != "GO_VERSION" || o.Args[0].Value != "1.26" || o.Args[0].Description != "Go toolchain version." {
			t.Errorf("args %+v", o.Args)
		}
		if len(o.Secrets) != 1 || o.Secrets[0].Name != "netrc" || !o.Secrets[0].Required || len(o.SSH) != 1 || o.SSH[0].Name != "default" {
			t.Errorf("secrets %+v ssh %+v", o.Secrets, o.SSH)
		}
		if len(o.Cache) != 1 || o.Cache[0].ID != "team/gomod" || o.Cache[0].Location.Ranges[0].Start.Line != 17 {
			t.Errorf("caches %+v", o.Cache)
		}
	})

	t.Run("check", func(t *testing.T) {
		text, err := call("check")
		if err == nil {
			t.Errorf("--call=check passed with warnings:\n%s", text)
		}
		for _, want := range []string{"WARNING: UnusedArg", `image "busybox" has no tag`, "build.toml:23", `23 | >>> from = "busybox"`} {
			if !strings.Contains(text, want) {
				t.Errorf("lacks %q:\n%s", want, text)
			}
		}
		out, _ := call("check,format=json")
		var res lint.LintResults
		jsonOf(t, out, &res)
		var rules []string
		for _, w := range res.Warnings {
			rules = append(rules, w.RuleName)
		}
		if want := []string{"SecretsUsedInArgOrEnv", "UnusedArg", "UnpinnedBaseImage"}; !reflect.DeepEqual(rules, want) {
			t.Errorf("rules %q, want %q", rules, want)
		}
		clean := writeTree(t, map[string]string{"build.toml": "# syntax=ghcr.io/tomlfront/tomlfront:1\n[stages.a]\nfrom = \"busybox:1.36\"\n"})
		if out, err := buildx(clean, "build", "-f", "build.toml", "--call=check", "."); err != nil {
			t.Errorf("--call=check failed on a clean spec: %v\n%s", err, out)
		}
	})

	t.Run("convertllb", func(t *testing.T) {
		var res struct {
			Def map[string]struct {
				Exec *struct {
					Meta struct{ Args []string } `json:"meta"`
				} `json:"exec"`
				Source *struct{ Identifier string } `json:"source"`
			} `json:"def"`
			Source *struct {
				Infos []struct{ Filename string } `json:"infos"`
			} `json:"source"`
		}
		jsonOf(t, mustCall(t, "convertllb", "--target", "build", "--build-arg", "GO_VERSION=1.26"), &res)
		var runs, images []string
		for _, op := range res.Def {
			if op.Exec != nil {
				runs = append(runs, strings.Join(op.Exec.Meta.Args, " "))
			}
			if op.Source != nil && strings.HasPrefix(op.Source.Identifier, "docker-image://") {
				images = append(images, op.Source.Identifier)
			}
		}
		if !slices.ContainsFunc(runs, func(r string) bool { return strings.HasSuffix(r, "go version") }) || !slices.ContainsFunc(images, func(i string) bool { return strings.Contains(i, "golang:1.26") }) {
			t.Errorf("the LLB has runs %q and images %q, want the step's go version from golang:1.26", runs, images)
		}
		if res.Source == nil || len(res.Source.Infos) == 0 || res.Source.Infos[0].Filename != "build.toml" {
			t.Errorf("the LLB's source map %+v, want build.toml", res.Source)
		}
	})

	t.Run("warnings in a build", func(t *testing.T) {
		out := mustBuildx(t, dir, "build", "-f", "build.toml", "--target", "runtime", "--secret", "id=netrc,env=HOME", "--build-arg", "GO_VERSON=1.26", ".")
		for _, want := range []string{"UnpinnedBaseImage", `build arg "GO_VERSON" is not declared in [args], so nothing uses it (did you mean "GO_VERSION"?)`} {
			if !strings.Contains(out, want) {
				t.Errorf("build output lacks %q:\n%s", want, out)
			}
		}
	})
}
