//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-dap"
)

// TestDAP drives `docker buildx dap build` as Docker's VS Code debugger
// does, with a DAP client: breakpoints on a stage's `from` line and on the
// TOML line of an indented inline step stop the build at each, the stack
// shows that line, and at the step `exec`
// opens a shell in the step's container, which holds what the steps before
// it wrote and the stage's env, and not what the step itself writes.
func TestDAP(t *testing.T) {
	t.Parallel()
	buildFrontendImage(t)
	n := nonce(t)
	dir := writeTree(t, map[string]string{"build.toml": syntaxLine + `[stages.app]
from = "busybox:1.36"
env = { GREETING = "hello, dap" }
steps = [
    { run = "mkdir /app && echo first ` + n + ` > /app/one" },
    { run = "echo second > /app/two" },
]
`})
	spec := filepath.Join(dir, "build.toml")
	const from, line = 3, 7 // the stage's from, its second step

	cmd := bounded(timeout(t, 5*time.Minute), "docker", "buildx", "--builder", os.Getenv("BUILDX_BUILDER"), "dap", "build")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BUILDX_EXPERIMENTAL=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := newDAPClient(t, in, out)
	t.Cleanup(func() {
		in.Close()
		if t.Failed() { // a paused build keeps buildx waiting
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		if err := cmd.Wait(); err != nil {
			t.Logf("docker buildx dap build: %v\n%s", err, stderr.String())
		}
	})

	c.call("initialize", &dap.InitializeRequest{Arguments: dap.InitializeRequestArguments{ClientID: "tomlfront-e2e", AdapterID: "buildx",
		LinesStartAt1: true, ColumnsStartAt1: true, PathFormat: "path", SupportsRunInTerminalRequest: true}})
	launch, _ := json.Marshal(map[string]string{"dockerfile": spec, "contextPath": dir})
	c.call("launch", &dap.LaunchRequest{Arguments: launch})
	c.event("initialized")
	bps := c.call("setBreakpoints", &dap.SetBreakpointsRequest{Arguments: dap.SetBreakpointsArguments{
		Source: dap.Source{Name: "build.toml", Path: spec}, Breakpoints: []dap.SourceBreakpoint{{Line: from}, {Line: line}}}}).(*dap.SetBreakpointsResponse)
	c.call("configurationDone", &dap.ConfigurationDoneRequest{})

	var stopped *dap.StoppedEvent
	for i, want := range []int{from, line} {
		if i > 0 {
			c.call("continue", &dap.ContinueRequest{Arguments: dap.ContinueArguments{ThreadId: stopped.Body.ThreadId}})
		}
		stopped = c.event("stopped").(*dap.StoppedEvent)
		if stopped.Body.Reason != "breakpoint" {
			t.Fatalf("stopped for %q, want the breakpoint on line %d (breakpoints %+v)\n%s", stopped.Body.Reason, want, bps.Body.Breakpoints, stderr.String())
		}
		frames := c.call("stackTrace", &dap.StackTraceRequest{Arguments: dap.StackTraceArguments{ThreadId: stopped.Body.ThreadId}}).(*dap.StackTraceResponse)
		if f := frames.Body.StackFrames; len(f) == 0 || f[0].Source == nil || f[0].Source.Path != spec || f[0].Line > want || f[0].EndLine < want {
			t.Fatalf("stopped at %+v, want %s line %d", f, spec, want)
		}
	}

	c.shell = make(chan string, 1)
	c.call("evaluate", &dap.EvaluateRequest{Arguments: dap.EvaluateArguments{Expression: "exec", Context: "repl"}})
	var transcript string
	select {
	case transcript = <-c.shell:
	case <-time.After(2 * time.Minute):
		t.Fatal("no shell in the step's container")
	}
	for _, want := range []string{"first " + n, "hello, dap", "no /app/two"} {
		if !strings.Contains(transcript, want) {
			t.Errorf("the step's container shows no %q:\n%s", want, transcript)
		}
	}
	// The rest of the build runs to its end, and the adapter with it.
	c.call("continue", &dap.ContinueRequest{Arguments: dap.ContinueArguments{ThreadId: stopped.Body.ThreadId}})
	if exited := c.event("exited").(*dap.ExitedEvent); exited.Body.ExitCode != 0 {
		t.Errorf("the build ended with %d after the breakpoint:\n%s", exited.Body.ExitCode, stderr.String())
	}
}

// dapClient speaks DAP to an adapter over its stdio: requests and their
// responses in order, events queued, and buildx's runInTerminal request
// answered by attaching to the shell's socket itself, as `docker buildx
// dap attach` would in a terminal.
type dapClient struct {
	t       *testing.T
	w       io.Writer
	seq     atomic.Int64 // the last message's: requests and the reverse request's response
	msgs    chan dap.Message
	pending []dap.Message // events that came while a call waited
	shell   chan string   // the transcript of the shell exec opened, once
}

func newDAPClient(t *testing.T, w io.Writer, r io.Reader) *dapClient {
	c := &dapClient{t: t, w: w, msgs: make(chan dap.Message, 100)}
	go func() {
		defer close(c.msgs)
		rd := bufio.NewReader(r)
		for {
			m, err := dap.ReadProtocolMessage(rd)
			if err != nil {
				return
			}
			if req, ok := m.(*dap.RunInTerminalRequest); ok {
				c.reply(req)
				continue
			}
			c.msgs <- m
		}
	}()
	return c
}

// call sends a request and returns its response, failing the test on an
// error response.
func (c *dapClient) call(command string, req dap.RequestMessage) dap.ResponseMessage {
	c.t.Helper()
	seq := int(c.seq.Add(1))
	r := req.GetRequest()
	r.Seq, r.Type, r.Command = seq, "request", command
	if err := dap.WriteProtocolMessage(c.w, req); err != nil {
		c.t.Fatalf("%s: %v", command, err)
	}
	for m := range c.next(command) {
		resp, ok := m.(dap.ResponseMessage)
		switch {
		case !ok:
			c.pending = append(c.pending, m)
		case resp.GetResponse().RequestSeq != seq:
		case !resp.GetResponse().Success:
			c.t.Fatalf("%s: %s", command, resp.GetResponse().Message)
		default:
			return resp
		}
	}
	return nil
}

// event waits for the event named name and returns it.
func (c *dapClient) event(name string) dap.Message {
	c.t.Helper()
	for i, m := range c.pending {
		if e, ok := m.(dap.EventMessage); ok && e.GetEvent().Event == name {
			c.pending = c.pending[i+1:]
			return m
		}
	}
	c.pending = nil
	for m := range c.next("the event " + name) {
		if e, ok := m.(dap.EventMessage); ok && e.GetEvent().Event == name {
			return m
		}
	}
	return nil
}

// dapSilence is how long the adapter may say nothing: a step runs, or the
// shell's container starts, in between.
const dapSilence = 3 * time.Minute

// next yields the messages that arrive, failing the test when the adapter
// stops or stays silent for dapSilence.
func (c *dapClient) next(what string) func(yield func(dap.Message) bool) {
	return func(yield func(dap.Message) bool) {
		for {
			select {
			case m, ok := <-c.msgs:
				if !ok {
					c.t.Fatalf("waiting for %s: the adapter ended", what)
				}
				if !yield(m) {
					return
				}
			case <-time.After(dapSilence):
				c.t.Fatalf("waiting for %s: nothing for %s", what, dapSilence)
			}
		}
	}
}

// reply accepts buildx's runInTerminal request and talks to the shell on
// the socket it names: a command, then exit.
func (c *dapClient) reply(req *dap.RunInTerminalRequest) {
	resp := &dap.RunInTerminalResponse{Response: dap.Response{ProtocolMessage: dap.ProtocolMessage{Seq: int(c.seq.Add(1)), Type: "response"},
		Command: "runInTerminal", RequestSeq: req.Seq, Success: true}}
	if err := dap.WriteProtocolMessage(c.w, resp); err != nil {
		c.shell <- "runInTerminal: " + err.Error()
		return
	}
	socket := req.Arguments.Args[len(req.Arguments.Args)-1]
	go func() {
		conn, err := net.Dial("unix", socket)
		if err != nil {
			c.shell <- "dial " + socket + ": " + err.Error()
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(2 * time.Minute))
		// Input sent before the container runs is lost: wait for buildx's
		// banner, then type as a terminal does, carriage returns.
		var transcript strings.Builder
		buf := make([]byte, 4096)
		for !strings.Contains(transcript.String(), "Changes to the container") {
			n, err := conn.Read(buf)
			transcript.Write(buf[:n])
			if err != nil {
				c.shell <- transcript.String()
				return
			}
		}
		io.WriteString(conn, "cat /app/one; echo \"$GREETING\"; test -e /app/two || echo no /app/two\rexit\r")
		rest, _ := io.ReadAll(conn)
		transcript.Write(rest)
		c.shell <- transcript.String()
	}()
}
