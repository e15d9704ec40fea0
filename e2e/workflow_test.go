//go:build e2e

package e2e

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"github.com/tomlfront/tomlfront/frontend"
	"github.com/tomlfront/tomlfront/internal/progress"
	"github.com/tomlfront/tomlfront/internal/snapstep"
)

// TestCIWorkflow runs the build job of examples/ci/github-actions.yml, the
// workflow docs/ci.md shows, as a hosted runner runs it: a first run with
// nothing cached, then a second on another fresh builder, and a third that
// restores no snapshot while the layer cache stays, with the bench's
// GitHub Actions cache service as the gha cache and a directory standing
// for actions/cache's store. The job's steps are read from the file, their
// expressions evaluated, their `run` scripts run with bash as on a runner,
// and the actions it uses translated into what they do (build-push-action
// into the buildx command it runs): a step this test does not know fails it,
// so the docs cannot show what was not run.
//
// The runs are of a pull request (no login, no push: there is no ghcr.io
// here); each has its own runtime token, whose scope keeps its layer-cache
// index apart from any other run's on the same service.
//
// Not parallel: it starts buildkitds of its own and adds and removes buildx
// builders in the bench's DOCKER_CONFIG.
func TestCIWorkflow(t *testing.T) {
	env := benchEnv(t, "TOMLFRONT_GHA_URL", "TOMLFRONT_GHACACHE")
	buildFrontendImage(t)
	src, err := os.ReadFile(filepath.Join(root, "examples", "ci", "github-actions.yml"))
	if err != nil {
		t.Fatal(err)
	}
	wf, errs := actionlint.Parse(src)
	if len(errs) > 0 {
		t.Fatalf("examples/ci/github-actions.yml: %v", errs[0])
	}
	job := wf.Jobs["build"]
	if job == nil {
		t.Fatal("examples/ci/github-actions.yml has no job build")
	}
	scope := "refs/heads/e2e-" + nonce(t)
	out, err := command(t, env["TOMLFRONT_GHACACHE"], "token", "-scope", scope).Output()
	if err != nil {
		t.Fatalf("ghacache token: %v", err)
	}
	store := &cacheStore{dir: t.TempDir()}
	newRun := func(t *testing.T, id int) *jobRun {
		return &jobRun{
			t: t, job: job, store: store, id: id,
			gha: []string{"ACTIONS_CACHE_URL=" + env["TOMLFRONT_GHA_URL"], "ACTIONS_RUNTIME_TOKEN=" + strings.TrimSpace(string(out))},
		}
	}

	t.Run("first run", func(t *testing.T) {
		r := newRun(t, 1)
		r.run()
		build := r.builds["Build and push"]
		if build.cached(t, "[build 4/4] run") {
			t.Errorf("the first run's compile came from a cache")
		}
		if !strings.Contains(build.text, "exporting to GitHub Actions Cache") {
			t.Errorf("the first run exported no layer cache:\n%s", build.text)
		}
		var metadata map[string]any
		if err := json.Unmarshal([]byte(r.steps["build"]["metadata"]), &metadata); err != nil || metadata[frontend.SnapshotMetadata] != frontend.SnapshotStale {
			t.Errorf("the first run's build does not say its snapshot is stale: its metadata is %s (%v)", r.steps["build"]["metadata"], err)
		}
		// Nothing was restored: the export ran beside the build, not after
		// it, and shared the compile, which BuildKit ran once, for both.
		if r.steps["beside"]["started"] != "true" {
			t.Errorf("the first run, which restored no snapshot, did not start the export beside its build")
		}
		if export, ran := r.builds["Export the cache-mount snapshot"]; ran {
			t.Errorf("the first run exported its snapshot again after the build:\n%s", export.text)
		}
		beside := r.scripts["Wait for the export beside the build"]
		if plainCached(t, beside, "[build 4/4] run") {
			t.Errorf("the export beside the build took the compile from the cache: it did not run beside the build\n%s", beside)
		}
		if got := r.steps["changed"]["changed"]; got != "true" {
			t.Errorf("the first run's export changed nothing (changed=%q):\n%s", got, beside)
		}
		if keys := store.keys(t); len(keys) != 1 {
			t.Fatalf("the first run saved %v, want one snapshot", keys)
		}
	})

	t.Run("second run", func(t *testing.T) {
		r := newRun(t, 2)
		r.run()
		if got := r.steps["snapshot"]["cache-matched-key"]; got != store.keys(t)[0] {
			t.Errorf("the second run restored %q, want the first run's snapshot %q", got, store.keys(t)[0])
		}
		build := r.builds["Build and push"]
		for _, step := range []string{"[build 2/4] run go mod download", "[build 4/4] run"} {
			if !build.cached(t, step) {
				t.Errorf("%s ran again on the second run: the gha layer cache was not used\n%s", step, build.text)
			}
		}
		// Every step came from the layer cache: the snapshot was neither
		// read nor seeded, the build said it is current, and the export
		// step did not run.
		for _, v := range build.vertexes {
			seeded := strings.HasPrefix(v.Name, "[tomlfront] seed cache") || strings.HasPrefix(v.Name, "[context tomlfront-cache] load from client")
			if v.Completed != nil && !v.Cached && seeded {
				t.Errorf("the second run's build ran %q:\n%s", v.Name, build.text)
			}
		}
		if r.steps["beside"]["started"] != "" {
			t.Errorf("the second run, which restored a snapshot, started an export beside its build")
		}
		if export, ran := r.builds["Export the cache-mount snapshot"]; ran {
			t.Errorf("the second run, which changed no cache, exported the snapshot (the build's metadata: %s):\n%s", r.steps["build"]["metadata"], export.text)
		}
		if r.steps["changed"]["changed"] != "" {
			t.Errorf("the second run, which changed nothing, saved a snapshot of changed caches")
		}
		if keys := store.keys(t); len(keys) != 1 {
			t.Errorf("the second run saved a snapshot: %v", keys)
		}
	})

	// A run that restores no snapshot while the layer cache has every step:
	// a snapshot evicted, or snapshots added to a workflow whose layer cache
	// is warm. The export beside the build has no cache-from: it runs the
	// steps that it reaches before the build finds them in the gha cache,
	// and a snapshot of the caches they fill is saved; it shares those the
	// build found first, which fill no cache, and when every cache stays
	// empty it exports nothing, rather than a snapshot that would seed
	// nothing and still hold a later run for a seed. Which comes first is
	// the builder's timing: either is right, a snapshot of nothing is not.
	t.Run("run without a snapshot but with the layer cache", func(t *testing.T) {
		r := newRun(t, 3)
		r.store = &cacheStore{dir: t.TempDir()}
		r.run()
		if r.steps["beside"]["started"] != "true" {
			t.Errorf("the run, which restored no snapshot, did not start the export beside its build")
		}
		beside, keys := r.scripts["Wait for the export beside the build"], r.store.keys(t)
		switch {
		case strings.Contains(beside, "every persisted cache is empty on this builder (the steps that fill them came from the layer cache): nothing is exported"):
			t.Logf("the export shared the steps the build found in the gha cache, and exported nothing")
			if r.steps["changed"]["changed"] != "" || len(keys) != 0 {
				t.Errorf("the export said it exported nothing, and the run saved %v", keys)
			}
		case len(keys) != 1:
			t.Errorf("the export neither said its caches were empty nor saved one snapshot (saved %v):\n%s", keys, beside)
		default:
			t.Logf("the export ran steps before the build found them in the gha cache, and saved what they filled")
			infos, _ := filepath.Glob(filepath.Join(r.store.entryDir(keys[0]), "*", "*.tar.info"))
			if len(infos) == 0 || !slices.ContainsFunc(infos, func(f string) bool { return !snapstep.HoldsNothing([]byte(readFile(t, f))) }) {
				t.Errorf("the run saved a snapshot of caches no step filled (%v):\n%s", infos, beside)
			}
		}
	})

	// Every archive the runs saved verifies against its digest.
	entry := store.entryDir(store.keys(t)[0])
	archives, _ := filepath.Glob(filepath.Join(entry, "*", "*.tar"))
	more, _ := filepath.Glob(filepath.Join(entry, "*", "*", "*.tar"))
	archives = append(archives, more...)
	if len(archives) == 0 {
		t.Fatalf("the saved snapshot holds no archive")
	}
	for _, a := range archives {
		sum := sha256.Sum256([]byte(readFile(t, a)))
		if want := strings.Fields(readFile(t, a+".sha256"))[0]; hex.EncodeToString(sum[:]) != want {
			t.Errorf("%s: digest %x, its .sha256 says %s", a, sum, want)
		}
	}
}

// jobRun is one run of a workflow's job on a fresh runner.
type jobRun struct {
	t     *testing.T
	job   *actionlint.Job
	store *cacheStore
	id    int
	gha   []string // the gha cache's environment, as the runner gives actions

	workspace, temp string
	builder         string
	env             map[string]string            // the job's env, and what steps add through GITHUB_ENV
	steps           map[string]map[string]string // outputs by step id
	builds          map[string]*buildLog         // build-push-action's progress by step name
	scripts         map[string]string            // the output of run scripts by step name
}

func (r *jobRun) run() {
	t := r.t
	r.workspace, r.temp = t.TempDir(), t.TempDir()
	r.env, r.steps, r.builds, r.scripts = map[string]string{}, map[string]map[string]string{}, map[string]*buildLog{}, map[string]string{}
	if r.job.Env != nil {
		for _, v := range r.job.Env.Vars {
			r.env[v.Name.Value] = r.interpolate(v.Value.Value)
		}
	}
	for i, step := range r.job.Steps {
		name := fmt.Sprintf("step %d", i+1)
		if step.Name != nil {
			name = step.Name.Value
		}
		if step.If != nil && !truthy(r.eval(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(step.If.Value), "${{"), "}}"))) {
			t.Logf("%s: skipped (if: %s)", name, step.If.Value)
			continue
		}
		outputs := map[string]string{}
		switch exec := step.Exec.(type) {
		case *actionlint.ExecRun:
			r.runScript(name, r.interpolate(exec.Run.Value), outputs)
		case *actionlint.ExecAction:
			inputs := map[string]string{}
			for k, in := range exec.Inputs {
				inputs[k] = r.interpolate(in.Value.Value)
			}
			uses := exec.Uses.Value
			action, _, _ := strings.Cut(uses, "@")
			r.action(name, action, inputs, outputs)
		}
		if step.ID != nil {
			r.steps[step.ID.Value] = outputs
		}
	}
}

// action does what the action does on a runner, for the actions the
// workflow uses.
func (r *jobRun) action(name, action string, in, out map[string]string) {
	t := r.t
	switch action {
	case "actions/checkout": // the repository: examples/go-app
		copyTree(t, filepath.Join(root, "examples", "go-app"), r.workspace)
	case "docker/setup-buildx-action": // a new builder, as on every hosted runner
		r.builder = freshBuilder(t, fmt.Sprintf("workflow-%d", r.id))
	case "actions/cache/restore":
		key := in["key"]
		matched := r.store.restore(t, key, lines(in["restore-keys"]), in["path"])
		out["cache-primary-key"], out["cache-matched-key"] = key, matched
		out["cache-hit"] = strconv.FormatBool(matched == key)
	case "actions/cache/save":
		r.store.save(t, in["key"], in["path"])
	case "docker/build-push-action":
		r.builds[name], out["metadata"] = r.buildPush(in)
	default:
		t.Fatalf("step %q uses %s, which this test does not know how to run: teach jobRun.action", name, action)
	}
}

// buildPush runs the buildx command docker/build-push-action runs for in,
// with the progress as JSON, which it reads, and returns the build's
// metadata, the action's output.
func (r *jobRun) buildPush(in map[string]string) (*buildLog, string) {
	t := r.t
	metadata := filepath.Join(t.TempDir(), "metadata.json")
	args := []string{"build", "--builder", r.builder, "--progress", "rawjson", "--metadata-file", metadata}
	flags := []struct{ input, flag string }{
		{"file", "--file"}, {"target", "--target"}, {"build-args", "--build-arg"}, {"build-contexts", "--build-context"},
		{"cache-from", "--cache-from"}, {"cache-to", "--cache-to"}, {"tags", "--tag"}, {"outputs", "--output"},
	}
	known := map[string]bool{"context": true, "push": true, "provenance": true, "sbom": true}
	for _, f := range flags {
		known[f.input] = true
		for _, v := range lines(in[f.input]) {
			args = append(args, f.flag, v)
		}
	}
	for k := range in {
		if !known[k] {
			t.Fatalf("build-push-action input %q: not known to this test", k)
		}
	}
	if in["push"] == "true" {
		t.Fatal("the workflow pushes in a pull request")
	}
	for _, k := range []string{"provenance", "sbom"} {
		if in[k] != "" {
			args = append(args, "--"+k+"="+in[k])
		}
	}
	args = append(args, cmp.Or(in["context"], "."))
	text, err := buildxWith(cmdOpt{env: r.gha}, r.workspace, args...)
	log := progressOf(t, text)
	if err != nil {
		t.Fatalf("docker buildx %s: %v\n%s", strings.Join(args, " "), err, log.text)
	}
	return log, readFile(t, metadata)
}

// runScript runs a step's script as a runner does: bash with -e and
// pipefail, in the workspace, with the job's env, reading what it adds to
// GITHUB_ENV and GITHUB_OUTPUT. What a script starts in the background
// runs on after it, as on a runner, and must not hold its output.
func (r *jobRun) runScript(name, script string, outputs map[string]string) {
	t := r.t
	files := t.TempDir()
	envFile, outFile := filepath.Join(files, "env"), filepath.Join(files, "output")
	cmd := command(t, "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir = r.workspace
	cmd.Env = append(os.Environ(), "GITHUB_ENV="+envFile, "GITHUB_OUTPUT="+outFile, "RUNNER_TEMP="+r.temp, "RUNNER_OS=Linux")
	if r.builder != "" { // setup-buildx-action makes its builder the one docker buildx uses
		cmd.Env = append(cmd.Env, "BUILDX_BUILDER="+r.builder)
	}
	for k, v := range r.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	t.Logf("%s:\n%s", name, out)
	r.scripts[name] = string(out)
	if err != nil {
		t.Fatalf("step %q failed: %v", name, err)
	}
	maps.Copy(r.env, keyValues(t, envFile))
	maps.Copy(outputs, keyValues(t, outFile))
}

// keyValues reads a GITHUB_ENV or GITHUB_OUTPUT file: NAME=value lines (the
// NAME<<DELIMITER form is not used by the workflow, and refused).
func keyValues(t *testing.T, path string) map[string]string {
	kv := map[string]string{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return kv
	} else if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), "=")
		if !ok || strings.Contains(k, "<<") {
			t.Fatalf("%s: %q: want NAME=value", filepath.Base(path), s.Text())
		}
		kv[k] = v
	}
	return kv
}

// interpolate replaces each ${{ expression }} of s with its value.
func (r *jobRun) interpolate(s string) string {
	var b strings.Builder
	for {
		start := strings.Index(s, "${{")
		if start < 0 {
			return b.String() + s
		}
		end := strings.Index(s[start:], "}}")
		if end < 0 {
			r.t.Fatalf("unterminated expression in %q", s)
		}
		b.WriteString(s[:start])
		b.WriteString(format(r.eval(s[start+3 : start+end])))
		s = s[start+end+2:]
	}
}

// eval evaluates an expression with actionlint's parser, for the contexts
// and operators the workflow uses.
func (r *jobRun) eval(src string) any {
	t := r.t
	node, err := actionlint.NewExprParser().Parse(actionlint.NewExprLexer(strings.TrimSpace(src) + "}}"))
	if err != nil {
		t.Fatalf("expression %q: %v", src, err)
	}
	contexts := map[string]any{
		"env":    r.env,
		"runner": map[string]string{"os": "Linux", "temp": r.temp},
		"github": map[string]string{
			"event_name": "pull_request", "ref_name": "1/merge", "run_id": strconv.Itoa(r.id),
			"repository": "example/go-app", "sha": "0123456789abcdef0123456789abcdef01234567", "actor": "e2e",
		},
		"secrets": map[string]string{"GITHUB_TOKEN": "unused"},
		"steps":   r.steps,
	}
	var walk func(n actionlint.ExprNode) any
	walk = func(n actionlint.ExprNode) any {
		switch n := n.(type) {
		case *actionlint.VariableNode:
			if c, ok := lookup(contexts, n.Name); ok {
				return c
			}
		case *actionlint.ObjectDerefNode:
			switch recv := walk(n.Receiver).(type) {
			case map[string]string:
				v, _ := lookup(recv, n.Property)
				return v
			case map[string]map[string]string:
				outputs, _ := lookup(recv, n.Property)
				return map[string]any{"outputs": outputs}
			case map[string]any:
				v, _ := lookup(recv, n.Property)
				return v
			}
		case *actionlint.IndexAccessNode:
			if recv, ok := walk(n.Operand).(map[string]any); ok {
				v, _ := lookup(recv, format(walk(n.Index)))
				return v
			}
		case *actionlint.FuncCallNode:
			if strings.EqualFold(n.Callee, "fromJSON") && len(n.Args) == 1 {
				var v any
				if err := json.Unmarshal([]byte(format(walk(n.Args[0]))), &v); err != nil {
					t.Fatalf("expression %q: fromJSON: %v", src, err)
				}
				return v
			}
		case *actionlint.StringNode:
			return n.Value
		case *actionlint.BoolNode:
			return n.Value
		case *actionlint.LogicalOpNode: // the value of the operand that decides, as on a runner
			if l := walk(n.Left); (n.Kind == actionlint.LogicalOpNodeKindAnd) != truthy(l) {
				return l
			}
			return walk(n.Right)
		case *actionlint.CompareOpNode:
			l, rgt := format(walk(n.Left)), format(walk(n.Right))
			switch n.Kind {
			case actionlint.CompareOpNodeKindEq:
				return strings.EqualFold(l, rgt)
			case actionlint.CompareOpNodeKindNotEq:
				return !strings.EqualFold(l, rgt)
			}
		}
		t.Fatalf("expression %q: %T is not known to this test", src, n)
		return nil
	}
	return walk(node)
}

// plainCached tells whether a build's plain progress shows the step whose
// name starts with prefix as CACHED.
func plainCached(t *testing.T, progress, prefix string) bool {
	t.Helper()
	var id string
	for _, line := range lines(progress) {
		n, rest, _ := strings.Cut(line, " ")
		switch {
		case id == "" && strings.HasPrefix(n, "#") && strings.HasPrefix(rest, prefix):
			id = n
		case id != "" && n == id && rest == "CACHED":
			return true
		}
	}
	if id == "" {
		t.Fatalf("no step named %q in the progress:\n%s", prefix, progress)
	}
	return false
}

// lookup finds a context's property: their names ignore case.
func lookup[V any](m map[string]V, name string) (V, bool) {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	var zero V
	return zero, false
}

func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v != ""
	}
	return v != nil
}

func format(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case map[string]string:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprint(v)
}

// lines splits a multi-line input, as the actions do: one value per
// non-empty line.
func lines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// progressOf reads buildx's --progress=rawjson output into a buildLog: the
// last status of each vertex, and as text each vertex's name and whether it
// ran or came from the cache, then the steps' output.
func progressOf(t *testing.T, out string) *buildLog {
	t.Helper()
	status, err := progress.ReadRawJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, v := range status.Vertexes {
		state := "ran"
		if v.Cached {
			state = "cached"
		}
		names = append(names, v.Name+": "+state)
	}
	slices.Sort(names)
	return &buildLog{vertexes: status.Vertexes, text: strings.Join(names, "\n") + "\n" + status.Output.String()}
}

// cacheStore stands for the repository's actions/cache entries: each a
// directory saved under a key, immutable once saved.
type cacheStore struct{ dir string }

// keys are the saved keys, oldest first.
func (s *cacheStore) keys(t *testing.T) []string {
	t.Helper()
	index := fileIn(s.dir, "index")
	if index == "<missing>" { // before the first save
		return nil
	}
	return lines(index)
}

func (s *cacheStore) entryDir(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(s.dir, hex.EncodeToString(sum[:8]))
}

// restore restores the entry of key, else the newest whose key starts with
// the first of prefixes that has one, into path, and returns its key ("" for
// none), as actions/cache/restore does.
func (s *cacheStore) restore(t *testing.T, key string, prefixes []string, path string) string {
	keys := s.keys(t)
	matched := ""
	if slices.Contains(keys, key) {
		matched = key
	}
	for _, p := range prefixes {
		for i := len(keys) - 1; i >= 0 && matched == ""; i-- {
			if strings.HasPrefix(keys[i], p) {
				matched = keys[i]
			}
		}
	}
	if matched != "" {
		copyTree(t, s.entryDir(matched), path)
	}
	return matched
}

// save saves path under key, unless an entry has that key (actions/cache
// then warns and saves nothing).
func (s *cacheStore) save(t *testing.T, key, path string) {
	if slices.Contains(s.keys(t), key) {
		t.Logf("actions/cache/save: an entry has the key %s already: not saved", key)
		return
	}
	copyTree(t, path, s.entryDir(key))
	f, err := os.OpenFile(filepath.Join(s.dir, "index"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.WriteString(f, key+"\n"); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies the directory from into to (made if missing), keeping
// modes and times.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := command(t, "cp", "-a", from+"/.", to+"/").CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", from, to, err, out)
	}
}
