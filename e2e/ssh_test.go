//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// TestBuildxSSH checks --ssh default with a real ssh-agent: a run step with
// `{ type = "ssh" }` finds the forwarded agent at $SSH_AUTH_SOCK and lists
// the key that the test added; a custom target moves the socket; a required
// ssh mount without --ssh fails the build.
func TestBuildxSSH(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	sock, comment := startAgent(t)
	dir := writeTree(t, map[string]string{
		"build.toml": syntaxLine + `
[args]
NONCE = ""
[stages.s]
from = "debian:bookworm"
args = ["NONCE"]
[[stages.s.steps]]
copy = ["agent.pl"]
to = "/usr/local/lib/"
[[stages.s.steps]]
run = "mkdir -p /out && perl /usr/local/lib/agent.pl > /out/default"
mounts = [{ type = "ssh", required = true }]
[[stages.s.steps]]
run = "perl /usr/local/lib/agent.pl > /out/custom"
mounts = [{ type = "ssh", id = "default", target = "/tmp/agent.sock", required = true }]
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/out/"]
from = "s"
`,
		"agent.pl": agentScript,
	})
	out := t.TempDir()
	mustBuildxWith(t, cmdOpt{env: []string{"SSH_AUTH_SOCK=" + sock}}, dir, "build", "-f", "build.toml", "--build-arg", "NONCE="+nonce(t),
		"--ssh", "default", "--output", "type=local,dest="+out, ".")
	want := "keys 1\nkey ssh-ed25519 " + comment + "\n"
	def := fileIn(out, "default")
	if !strings.HasPrefix(def, "sock /run/buildkit/ssh_agent.") || !strings.HasSuffix(def, want) {
		t.Errorf("the ssh mount at the default target: %q, want a socket in /run/buildkit and %q", def, want)
	}
	if got := fileIn(out, "custom"); got != "sock /tmp/agent.sock\n"+want {
		t.Errorf("the ssh mount at /tmp/agent.sock: %q", got)
	}

	o, err := buildxWith(cmdOpt{env: []string{"SSH_AUTH_SOCK="}}, dir, "build", "-f", "build.toml",
		"--build-arg", "NONCE="+nonce(t), ".")
	if err == nil || !strings.Contains(o, "unset ssh forward key default") {
		t.Errorf("a required ssh mount without --ssh: %v\n%s", err, o)
	}
}
