package convert

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tomlfront/tomlfront/spec"
)

// TestConvert converts Dockerfiles that exercise each mapping and checks
// the spec loads and holds what the Dockerfile says.
func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		name, dockerfile string
		want             []string // lines the spec holds
	}{
		{"global and stage args", "ARG V=1\nARG EMPTY\nFROM busybox:${V}\nARG V\nARG LOCAL=x\nRUN echo $V $LOCAL\n",
			[]string{`V = "1"`, `EMPTY = ""`, `LOCAL = "x"`, `from = "busybox:${V}"`, `args = ["V", "LOCAL"]`, `run = "echo $V $LOCAL"`}},
		{"env both forms and quotes", "FROM busybox\nENV A=1 B=\"two words\"\nENV C three words\n",
			[]string{`env = { A = "1", B = "two words", C = "three words" }`}},
		{"ENV sets a key again", "FROM busybox\nENV A=1 B=2\nENV A=${A}x C=3 C=4\n",
			[]string{"[stages.\"stage-0.1\"]\nfrom = \"busybox\"\nenv = { A = \"1\", B = \"2\" }", "[stages.stage-0]\nfrom = \"stage-0.1\"\nenv = { A = \"${A}x\", C = \"4\" }"}},
		{"a change after a step starts a stage", "FROM busybox AS app\nRUN one\nENV X=1\nWORKDIR /w\nRUN two\n",
			[]string{`[stages."app.1"]`, `[stages.app]`, `from = "app.1"`, `env = { X = "1" }`, `workdir = "/w"`}},
		{"exec and shell form, heredocs", "FROM busybox\nRUN [\"echo\", \"hi\"]\nRUN <<EOF\necho a\necho b\nEOF\nRUN <<EOF\n#!/bin/sh -e\necho c\nEOF\n",
			[]string{`run = ["echo", "hi"]`, "echo a\necho b\"\"\"", "/bin/sh -e <<'EOF'\necho c\nEOF\"\"\""}},
		{"mounts", "FROM busybox\nRUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=secret,id=tok,env=TOKEN --mount=type=ssh,required --mount=type=bind,source=x,target=/x --mount=type=tmpfs,target=/t,size=1024 --network=none --security=insecure run\n",
			[]string{`[caches.apt]`, `target = "/var/cache/apt"`, `sharing = "locked"`, `caches = ["apt"]`,
				`mounts = [{ type = "secret", id = "tok", env = "TOKEN" }, { type = "ssh", required = true }, { type = "bind", target = "/x", source = "x" }, { type = "tmpfs", target = "/t", size = "1024" }]`,
				`network = "none"`, `security = "insecure"`}},
		{"cache mounts that are a preset", "FROM debian\nRUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt,sharing=locked --mount=type=cache,target=/root/.m2/repository,sharing=locked,id=m2 apt-get update\n",
			[]string{`caches = ["apt", "repository"]`, "[caches.repository]\ntarget = \"/root/.m2/repository\"\nsharing = \"locked\"\nid = \"m2\""}},
		{"copy and add", "FROM busybox AS a\nFROM scratch\nCOPY --from=a --chown=1:2 --chmod=0644 --link --exclude=*.md /x /y/\nADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 --unpack=false https://example.com/a.tgz /z\nADD --keep-git-dir=true https://github.com/o/r.git#v1 /r\n",
			[]string{`copy = ["/x"]`, `from = "a"`, `to = "/y/"`, `chown = "1:2"`, `chmod = "0644"`, `link = true`, `exclude = ["*.md"]`,
				`add = ["https://example.com/a.tgz"]`, `unpack = false`, `keep_git_dir = true`}},
		{"image config", "FROM busybox\nSHELL [\"/bin/bash\", \"-c\"]\nUSER 1000\nEXPOSE 80/udp 443\nVOLUME /data\nLABEL a=b\nSTOPSIGNAL SIGINT\nHEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost\nENTRYPOINT run it\nCMD [\"x\"]\n",
			[]string{`shell = ["/bin/bash", "-c"]`, `user = "1000"`, `entrypoint = ["/bin/bash", "-c", "run it"]`, `cmd = ["x"]`, `expose = ["443", "80/udp"]`,
				`volumes = ["/data"]`, `labels = { a = "b" }`, `stop_signal = "SIGINT"`, `test = ["CMD-SHELL", "wget -q localhost"]`, `interval = "5s"`, `retries = 2`}},
		{"copy --parents", "FROM scratch\nCOPY --parents a/b/c.txt ./src/./**/*.go /x/\n",
			[]string{"copy = [\"a/b/c.txt\", \"./src/./**/*.go\"]\nto = \"/x/\"\nparents = true"}},
		{"heredoc files", "FROM busybox\nWORKDIR /w\nCOPY --chmod=755 <<EOF /bin/run.sh\n#!/bin/sh\necho $HOME \"q\" \\\\\nEOF\nCOPY <<-\"A\" <<B etc/\n\tliteral $X\n\tA\nno vars\nB\nADD x.tgz <<EOF /opt/\nadded\nEOF\n",
			[]string{"file = \"/bin/run.sh\"\ncontent = \"\"\"\n#!/bin/sh\necho ${HOME:-} \\\"q\\\" \\\\\\\\\n\"\"\"\nexpand = true\nchmod = \"755\"",
				"file = \"etc/A\"\ncontent = \"\"\"\nliteral $X\n\"\"\"\n", "file = \"etc/B\"\ncontent = \"\"\"\nno vars\n\"\"\"\n",
				"add = [\"x.tgz\"]\nto = \"/opt/\"\n\n[[stages.stage-0.steps]]\nfile = \"/opt/EOF\""}},
		{"maintainer", "FROM busybox\nMAINTAINER Jo <jo@example.com> $5\n", []string{`author = "Jo <jo@example.com> \\$5"`}},
		{"devices", "FROM busybox\nRUN --device=vendor.com/gpu=all,required --device=name=vendor.com/fpga=0 run\n",
			[]string{`devices = ["vendor.com/gpu=all", { name = "vendor.com/fpga=0", required = false }]`}},
		{"variables of the base image's env", "FROM busybox\nARG V=1\nENV PATH=$PATH:/x A=${HOME}/bin B=${HOME:-/root} C=$V D='$HOME' E=$HOMEDIR$HOME\nWORKDIR $HOME/$A\n",
			[]string{`env = { PATH = "${PATH}:/x", A = "${HOME:-}/bin", B = "${HOME:-/root}", C = "${V}", D = "\\$HOME", E = "${HOMEDIR:-}${HOME:-}" }`, `workdir = "${HOME:-}/${A}"`}},
		{"a global arg declared again reads its earlier value", "ARG V=${TARGETARCH}\nARG W=$V\nARG V=${V:+\"set\"}\nARG V=${V:-unset}\nFROM busybox:$V\n",
			[]string{"V_1 = \"${TARGETARCH}\"\nW = \"${V_1}\"\nV_2 = \"${V_1:+set}\"\nV = \"${V_2:-unset}\"", `from = "busybox:${V}"`}},
		{"a FROM arg without a default is required", "ARG BASE\nFROM ${BASE}\n", []string{`BASE = { required = true }`}},
		{"a bind mount without a target is at the working directory", "FROM busybox\nWORKDIR /src\nRUN --mount=from=busybox ls\n",
			[]string{`mounts = [{ type = "bind", target = ".", from = "busybox" }]`}},
		{"a stage named scratch", "FROM scratch AS scratch\nCOPY f /f\nFROM scratch\nCOPY --from=scratch /f /g\n",
			[]string{"[stages.scratch-stage]\nfrom = \"scratch\"", "[stages.stage-1]\nfrom = \"scratch-stage\"", `from = "scratch-stage"`}},
		{"ARG with a comment after it", "FROM busybox\nARG UID=33 # often 'www-data'\nRUN echo $UID\n", []string{`UID = "33"`, `args = ["UID", "often"]`}},
		{"healthcheck none", "FROM busybox\nHEALTHCHECK NONE\n", []string{`test = ["NONE"]`}},
		{"root as the owner of a linked copy", "FROM busybox\nCOPY --link --chown=root:root a /b\nCOPY --link --chown=root:5 c /d\n",
			[]string{"# --link --chown=root:root: root is 0, and a linked copy has no /etc/passwd to look names up in", `chown = "0:0"`, `chown = "0:5"`}},
		{"stages that give an arg their own defaults", "FROM busybox AS a\nARG U=1000\nUSER $U\nRUN id\nFROM busybox\nARG U=0\nARG U\nCOPY --chown=${U} f /f\nFROM busybox\nARG U\nRUN echo $U\n",
			[]string{"U = \"\"", `user = "${U:-1000}"`, `env = { U = "${U:-1000}" }`, `chown = "${U:-0}"`, "[stages.stage-2]\nfrom = \"busybox\"\nargs = [\"U\"]"}},
		{"comments and check directive", "# check=skip=SecretsUsedInArgOrEnv,StageNameCasing;error=true\n# The base.\nFROM busybox\n# Say hi.\nRUN echo hi\n",
			[]string{"# the Dockerfile skipped its rule StageNameCasing, which tomlfront lint does not have\n[lint]", `skip = ["SecretsUsedInArgOrEnv"]`, `error = ["SecretsUsedInArgOrEnv"]`, "# The base.\n[stages.stage-0]", "# Say hi.\n[[stages.stage-0.steps]]"}},
		{"check error=true fails only the rules a Dockerfile has", "# check=error=true\nFROM busybox\n",
			[]string{`error = ["SecretsUsedInArgOrEnv"]`}},
		{"stages by index and platform", "FROM --platform=$BUILDPLATFORM busybox\nRUN x\nFROM scratch\nCOPY --from=0 /a /a\n",
			[]string{`platform = "${BUILDPLATFORM}"`, `from = "stage-0"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Convert("Dockerfile", []byte(tc.dockerfile), Options{Syntax: DefaultSyntax})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := spec.Load("build.toml", out); err != nil {
				t.Fatalf("the spec does not load: %v\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("the spec lacks %q:\n%s", w, out)
				}
			}
			again, _ := Convert("Dockerfile", []byte(tc.dockerfile), Options{Syntax: DefaultSyntax})
			if !bytes.Equal(out, again) {
				t.Errorf("two conversions differ")
			}
			if !strings.HasPrefix(string(out), "# syntax="+DefaultSyntax+"\n") {
				t.Errorf("no syntax line first")
			}
		})
	}
}

// TestConvertProblems: what a spec cannot express is an error at its
// Dockerfile line, or with KeepGoing a TODO where it was.
func TestConvertProblems(t *testing.T) {
	for _, tc := range []struct{ name, dockerfile, want string }{
		{"onbuild", "FROM busybox\nONBUILD RUN x\n", "Dockerfile:2:1: ONBUILD has no equivalent"},
		{"an image ID as FROM", "FROM 82ad5fa11820c2889c60f7f748d67aab04400700c581843db0d1e68735327443\n", "Dockerfile:1:1: FROM \"82ad5fa11820c2889c60f7f748d67aab04400700c581843db0d1e68735327443\" is not a valid image reference (invalid repository name (82ad5fa11820c2889c60f7f748d67aab04400700c581843db0d1e68735327443), cannot specify 64-byte hexadecimal strings): BuildKit refuses it too"},
		{"a named owner of a linked copy", "FROM busybox\nCOPY --link --chown=app:root a /b\n", "Dockerfile:2:1: --link --chown=app:root: user and group names cannot be looked up in an independent layer, and BuildKit refuses them too"},
		{"conflicting defaults", "ARG V=1\nFROM busybox\nARG V=2\n", "Dockerfile:3:1: ARG V has the default \"2\" here and \"1\" elsewhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Convert("Dockerfile", []byte(tc.dockerfile), Options{})
			var ps Problems
			if !errors.As(err, &ps) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
			out, err := Convert("Dockerfile", []byte(tc.dockerfile), Options{KeepGoing: true})
			if err != nil || !strings.Contains(string(out), "# TODO(tomlfront convert): Dockerfile:") {
				t.Errorf("keep going: %v\n%s", err, out)
			}
		})
	}
}
