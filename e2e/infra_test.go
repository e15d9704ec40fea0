//go:build e2e

// The e2e tests' infrastructure, in one place: a git daemon and a file
// server on loopback, an ssh agent, the Engine's network, fresh builders and
// the bench's environment.

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// startAgent starts an ssh-agent holding a new ed25519 key whose comment is
// returned, and stops it when the test ends.
func startAgent(t *testing.T) (sock, comment string) {
	t.Helper()
	tmp := t.TempDir()
	sock = filepath.Join(tmp, "agent.sock")
	comment = "tomlfront-e2e-" + nonce(t)
	key := filepath.Join(tmp, "id_ed25519")
	if o, err := command(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, o)
	}
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatalf("ssh-agent: %v", err)
	}
	t.Cleanup(func() {
		_ = agent.Process.Kill()
		_ = agent.Wait()
	})
	for i := 0; ; i++ {
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			break
		}
		if i == 100 {
			t.Fatal("ssh-agent did not create its socket")
		}
		time.Sleep(50 * time.Millisecond)
	}
	add := command(t, "ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if o, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, o)
	}
	return sock, comment
}

// engineNetwork adds --network=host to the args of a buildx build on a
// Docker Engine (buildxWith does, for every build): the bench's engines run
// with --iptables=false, so the default bridge network has no NAT and a
// step that downloads (apt, go, npm) reaches nothing.
func engineNetwork(args []string) []string {
	if !bench.kind.engine() || len(args) == 0 || args[0] != "build" || slices.Contains(args, "--network=host") {
		return args
	}
	return append([]string{"build", "--network=host"}, args[1:]...)
}

// gitIn returns a runner of git commands in the work tree dir, as a fixed
// author, with no system or user configuration; it fails the test on error
// and returns the trimmed output.
func gitIn(t *testing.T, dir string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		cmd := command(t, "git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@example.com",
			"GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
}

func newGitFixture(t *testing.T) gitFixture {
	t.Helper()
	f := gitFixture{dir: t.TempDir(), token: nonce(t)}
	work := t.TempDir()
	git := gitIn(t, work)
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q", "-b", "main")
	write("version.txt", "one "+f.token+"\n")
	write("nested/deep.txt", "deep\n")
	git("add", ".")
	git("commit", "-q", "-m", "one")
	git("tag", "-a", "v1.0.0", "-m", "release 1.0.0")
	f.tagged = git("rev-parse", "HEAD")
	write("version.txt", "two "+f.token+"\n")
	git("commit", "-q", "-am", "two")
	f.main = git("rev-parse", "HEAD")
	git("checkout", "-q", "-b", "feature")
	write("version.txt", "three "+f.token+"\n")
	write("feature.txt", "feature\n")
	git("add", ".")
	git("commit", "-q", "-m", "three")
	git("checkout", "-q", "main")
	git("clone", "-q", "--bare", work, filepath.Join(f.dir, "repo.git"))
	return f
}

// gitDaemon serves the repositories under dir with `git daemon` on a free
// loopback port, until the test ends, and returns git://127.0.0.1:PORT.
// git daemon (part of Debian's git package here) is the simplest server of
// the git:// protocol, which BuildKit's git source fetches with the git CLI
// like any other remote.
func gitDaemon(t *testing.T, dir string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(gitExecPath(t), "git-daemon")); err != nil {
		t.Fatalf("git daemon is not installed (Debian: git-daemon-sysvinit): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// git-daemon itself, not `git daemon`, which would be its parent: the
	// pid killed at the end is the daemon's, and, in its own process group,
	// so are the children it forks per connection.
	logPath := filepath.Join(t.TempDir(), "git-daemon.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	readLog := func() string { dt, _ := os.ReadFile(logPath); return string(dt) }
	cmd := exec.Command(filepath.Join(gitExecPath(t), "git-daemon"), "--reuseaddr", "--base-path="+dir, "--export-all",
		fmt.Sprintf("--port=%d", port), "--listen=127.0.0.1", "--informative-errors", "--verbose", dir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if log := readLog(); t.Failed() && log != "" {
			t.Logf("git-daemon log:\n%s", log)
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("git daemon exited: %s", readLog())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("git daemon does not listen on %s: %v\n%s", addr, err, readLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The repository must be fetchable as BuildKit will fetch it.
	if out, err := command(t, "git", "ls-remote", "git://"+addr+"/repo.git").CombinedOutput(); err != nil {
		t.Fatalf("git ls-remote of the served repository: %v\n%s\n%s", err, out, readLog())
	}
	return "git://" + addr
}

func gitExecPath(t *testing.T) string {
	out, err := command(t, "git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// fileServer serves files (path → content) on a loopback port until the
// test ends, and counts the requests of each path.
func fileServer(t *testing.T, files map[string][]byte) (*httptest.Server, func() map[string]int) {
	t.Helper()
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		content, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, filepath.Base(r.URL.Path), time.Time{}, bytes.NewReader(content))
	}))
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("the test server is not on 127.0.0.1: %s", srv.URL)
	}
	return srv, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		c := map[string]int{}
		for k, v := range hits {
			c[k] = v
		}
		return c
	}
}

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

// extraBuilder starts one more buildkitd, with an empty root and the
// bench's config (so the same registry and mirrors), and returns its
// address. It is stopped, and its root removed, when the test ends; its pid
// is also in the bench's pids file, for down.sh to stop it should the test
// binary die first.
func extraBuilder(t *testing.T, name string) string {
	t.Helper()
	return startBuildkitd(t, name).addr
}

// process is a daemon a test starts, and may stop and start again: its
// output goes to a log file, its pid to the bench's pids file (down.sh
// stops it should the test binary die first).
type process struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	exited  chan error
	stopped bool
}

// startProcess starts cmd in a session of its own, its output appended to
// logPath.
func startProcess(t *testing.T, name, logPath string, cmd *exec.Cmd) *process {
	t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &process{t: t, name: name, cmd: cmd, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	recordPid(t, cmd.Process.Pid, name)
	return p
}

// stop sends the process sig (SIGKILL, after 30 s, if it is still
// running) and waits for it to exit. Stopping it again does nothing.
func (p *process) stop(sig syscall.Signal) {
	if p == nil || p.stopped {
		return
	}
	p.stopped = true
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.t.Logf("%s did not stop in 30s: KILL", p.name)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// buildkitd is a buildkitd a test started: it can kill it and start it
// again on the same root and address.
type buildkitd struct {
	t    *testing.T
	dir  string // its state: root/, buildkitd.sock, buildkitd.log
	addr string
	*process
}

// startBuildkitd is extraBuilder, returning the daemon.
func startBuildkitd(t *testing.T, name string) *buildkitd {
	t.Helper()
	dir, err := os.MkdirTemp(bench.state, name+"-")
	if err != nil {
		t.Fatal(err)
	}
	d := &buildkitd{t: t, dir: dir, addr: "unix://" + filepath.Join(dir, "buildkitd.sock")}
	t.Cleanup(func() {
		if d.process != nil && t.Failed() && !d.stopped {
			showBuilder(t, d.addr, d.logFile())
		}
		d.stop(syscall.SIGTERM)
		unmountUnder(t, dir)
		if err := os.RemoveAll(filepath.Join(dir, "root")); err != nil {
			t.Logf("removing the extra buildkitd's root: %v", err)
		}
	})
	d.start()
	return d
}

func (d *buildkitd) logFile() string { return filepath.Join(d.dir, "buildkitd.log") }

// start starts the daemon and waits until it answers.
func (d *buildkitd) start() {
	t := d.t
	t.Helper()
	d.process = startProcess(t, "buildkitd-"+filepath.Base(d.dir), d.logFile(),
		exec.Command(os.Getenv("TOMLFRONT_BUILDKITD"), "--debug", "--config", os.Getenv("TOMLFRONT_BUILDKITD_CONFIG"),
			"--root", filepath.Join(d.dir, "root"), "--addr", d.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		c, err := client.New(ctx, d.addr)
		if err == nil {
			_, err = c.ListWorkers(ctx)
			c.Close()
		}
		if err == nil {
			return
		}
		select {
		case err := <-d.exited:
			t.Fatalf("the extra buildkitd exited (%v); its log:\n%s", err, readFile(t, d.logFile()))
		case <-ctx.Done():
			t.Fatalf("the extra buildkitd did not answer in 2 minutes: %v; its log:\n%s", err, readFile(t, d.logFile()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// showBuilder logs what a failed test needs to know of a builder it
// started: its cache mounts and its daemon's log.
func showBuilder(t *testing.T, addr, logFile string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c, err := client.New(ctx, addr); err == nil {
		du, err := c.DiskUsage(ctx, client.WithFilter([]string{"type==exec.cachemount"}))
		c.Close()
		for _, u := range du {
			desc := u.Description
			if len(desc) > 120 { // a snapshot step's description holds its whole script
				desc = desc[:60] + "..." + desc[len(desc)-60:]
			}
			t.Logf("builder %s: cache mount %s %q, %d bytes, in use %v, last used %v", addr, u.ID, desc, u.Size, u.InUse, u.LastUsedAt)
		}
		if err != nil {
			t.Logf("builder %s: disk usage: %v", addr, err)
		}
	}
	t.Logf("builder %s: its log, of its debug lines those on cache mounts:\n%s", addr, notableLog(readFile(t, logFile)))
}

// notableLog keeps of a buildkitd --debug log what a failed test may need:
// every line but the debug ones, which are many, and of those the lines on
// cache mounts (which one a step was given, found or made).
func notableLog(log string) string {
	var b strings.Builder
	for line := range strings.Lines(log) {
		if !strings.Contains(line, "level=debug") || strings.Contains(line, "cache dir") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// recordPid adds a daemon to the bench's pids file, which down.sh stops.
func recordPid(t *testing.T, pid int, name string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(bench.state, "pids"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%d %s\n", pid, name); err != nil {
		t.Fatal(err)
	}
}

// unmountUnder unmounts what a stopped daemon left mounted below dir, the
// deepest first (overlay snapshots of one that had to be killed).
func unmountUnder(t *testing.T, dir string) {
	t.Helper()
	dt, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Logf("reading the mounts: %v", err)
		return
	}
	var under []string
	for _, line := range strings.Split(string(dt), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
			under = append(under, f[1])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(under)))
	for _, m := range under {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			t.Logf("unmounting %s: %v", m, err)
		}
	}
}

// freshBuilder returns a buildx builder with nothing in its cache. On
// buildkitd it is a new buildkitd with an empty root (stopped when the
// test ends); a Docker Engine cannot have a second one beside it here (they
// would share docker0), so its whole build cache, cache mounts too, is
// pruned and its own builder returned. Only for tests that do not run in
// parallel.
func freshBuilder(t *testing.T, name string) string {
	t.Helper()
	if bench.kind.engine() {
		mustDocker(t, "builder", "prune", "--all", "--force")
		return os.Getenv("BUILDX_BUILDER")
	}
	addr := extraBuilder(t, name)
	builder := "tf-" + name
	mustDocker(t, "buildx", "create", "--name", builder, "--driver", "remote", addr)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = exec.CommandContext(ctx, "docker", "buildx", "rm", builder).Run()
	})
	return builder
}

// gitFixture is a repository with three commits: "one" (tag v1.0.0, an
// annotated tag), "two" (the default branch), and "three" on the branch
// feature.
type gitFixture struct {
	dir    string // the directory git daemon serves, holding repo.git
	token  string
	tagged string // commit of v1.0.0
	main   string // commit of the default branch
}
