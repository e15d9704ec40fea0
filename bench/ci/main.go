// Command ci measures what a CI run costs with tomlfront against the
// Dockerfile its team has today, on the bench (scripts/bench/up.sh): for
// each project, each contender runs the CI runs a repository sees, in
// order, each on a fresh builder as a hosted runner has (the warm builder
// keeps one): the first run (empty caches), a run with no change, a
// one-line source change, a dependency bump. The gha cache is the bench's
// GitHub Actions cache service; what actions/cache keeps between runs is a
// directory. Each build is timed with a sync after it, and read through
// BuildKit's status (buildx --progress=rawjson): the steps that ran and
// came from a cache, the time during which steps ran, the time of
// tomlfront's snapshot steps and of the snapshot export's build. The base
// image is pulled before each run, apart.
//
// Results are appended to a JSON-lines file, a sequence (one contender's
// runs of one project) at a time; a second invocation skips the sequences
// the file holds, so it can run a project or a contender at a time and
// resume. -report writes the markdown tables into docs/performance.md and
// the SVG charts beside it.
//
//	go run ./bench/ci -projects go-app -runs 3 -results /tmp/ci.jsonl
//	go run ./bench/ci -results /tmp/ci.jsonl -report docs/performance
//
// A benchmark, not a test: it asserts nothing, and of tomlfront's packages
// imports only internal/progress, which reads BuildKit's status.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// The runs of a sequence, in order.
var scenarios = []string{"first", "no change", "source change", "dependency change"}

// result is one CI run's measure.
type result struct {
	Project   string  `json:"project"`
	Contender string  `json:"contender"`
	Sequence  int     `json:"sequence"`
	Scenario  string  `json:"scenario"`
	Pull      float64 `json:"pull"` // the base image's pull, before the run
	build
	Commit  string    `json:"commit"`
	Date    time.Time `json:"date"`
	Machine string    `json:"machine"`
}

func main() {
	projectsFlag := flag.String("projects", "go-app,go-service", "the projects, comma-separated")
	contendersFlag := flag.String("contenders", "", "the contenders, comma-separated (default: all)")
	runs := flag.Int("runs", 3, "sequences of each contender of each project")
	results := flag.String("results", "", "the JSON-lines file the results are appended to (required)")
	report := flag.String("report", "", "write the report into PREFIX.md (between its report lines) and PREFIX-ci-PROJECT.svg from the results, and run nothing")
	flag.DurationVar(&buildTimeout, "build-timeout", buildTimeout, "the longest a build may take before it counts as stuck")
	flag.Parse()
	if *results == "" {
		log.Fatal("-results is required")
	}
	if *report != "" {
		if err := writeReport(*results, *report); err != nil {
			log.Fatal(err)
		}
		return
	}
	repo, err := os.Getwd()
	if err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(repo, "scripts", "bench", "up.sh")); err != nil {
		log.Fatal("run it from the repository's root, with the bench up (source its env.sh)")
	}
	for _, v := range []string{"TOMLFRONT_GHA_URL", "TOMLFRONT_GHACACHE", "TOMLFRONT_REGISTRY", "BUILDX_BUILDER"} {
		if os.Getenv(v) == "" {
			log.Fatalf("%s is not set: start the bench (scripts/bench/up.sh) and source its env.sh", v)
		}
	}
	done, err := readResults(*results)
	if err != nil {
		log.Fatal(err)
	}
	var cs []contender
	for _, name := range split(*contendersFlag) {
		c, err := contenderNamed(name)
		if err != nil {
			log.Fatal(err)
		}
		cs = append(cs, c)
	}
	if len(cs) == 0 {
		cs = contenders
	}
	ctx := context.Background()
	if err := pushFrontendImage(ctx); err != nil {
		log.Fatal(err)
	}
	commit, _ := exec.Command("git", "describe", "--always", "--dirty").Output()
	machine := describeMachine()
	for _, name := range split(*projectsFlag) {
		p, err := projectNamed(name)
		if err != nil {
			log.Fatal(err)
		}
		// The contenders alternate within each round, so that the machine's
		// drift over a long run falls on all of them alike.
		for seq := 1; seq <= *runs; seq++ {
			for _, c := range cs {
				if done[key(p.name, c.name, seq)] {
					continue
				}
				log.Printf("%s, %s, sequence %d", p.name, c.name, seq)
				rs, err := runSequence(ctx, repo, p, c, seq)
				if err != nil {
					log.Fatalf("%s, %s, sequence %d: %v", p.name, c.name, seq, err)
				}
				for i := range rs {
					r := &rs[i]
					r.Commit, r.Date, r.Machine = strings.TrimSpace(string(commit)), time.Now().UTC(), machine
					log.Printf("  %-18s %6.1fs (pull %.1fs, steps running %.1fs, export build %.1fs), %d steps ran, %d cached, snapshot steps %.1fs, %d seeded",
						r.Scenario, r.Seconds, r.Pull, r.Stepping, r.Export, r.Ran, r.Cached, r.Snapshot, r.Seeds)
				}
				if err := appendResults(*results, rs); err != nil {
					log.Fatal(err)
				}
			}
		}
	}
}

// runSequence runs a contender's CI runs of a project, in order.
func runSequence(ctx context.Context, repo string, p project, c contender, seq int) ([]result, error) {
	work, err := os.MkdirTemp("", "tomlfront-cibench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	s := &sequence{p: p, repo: repo, src: filepath.Join(work, "src"), work: work,
		snapshot: filepath.Join(work, "snapshot"), dance: filepath.Join(work, "dance")}
	if err := copyDir(filepath.Join(repo, p.dir), s.src); err != nil {
		return nil, err
	}
	// The Dockerfile lives in the work copy, as in a repository: a
	// dependency change edits it too.
	dockerfile, err := os.ReadFile(filepath.Join(repo, "bench", "ci", "dockerfiles", p.dockerfile))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(s.src, dockerfileName), dockerfile, 0o644); err != nil {
		return nil, err
	}
	// A scope and a token of the sequence's own: nothing of another run's
	// gha cache is in reach.
	id := nonce()
	s.scope = fmt.Sprintf("cibench-%s-%s", p.name, id)
	token, err := exec.Command(os.Getenv("TOMLFRONT_GHACACHE"), "token", "-scope", "refs/heads/"+s.scope).Output()
	if err != nil {
		return nil, fmt.Errorf("ghacache token: %v", err)
	}
	s.gha = []string{"ACTIONS_CACHE_URL=" + os.Getenv("TOMLFRONT_GHA_URL"), "ACTIONS_RUNTIME_TOKEN=" + strings.TrimSpace(string(token))}

	var rs []result
	for i, scenario := range scenarios {
		s.runNumber = i
		switch scenario {
		case "source change":
			err = p.sourceChange(s.src)
		case "dependency change":
			if p.depChange == nil {
				continue // the project has no dependency
			}
			err = p.depChange(s.src)
		}
		if err != nil {
			return nil, err
		}
		b := s.warm
		if b == nil {
			if b, err = newBuilder(ctx, "cibench"); err != nil {
				return nil, err
			}
		}
		if c.name == "warm builder" {
			s.warm = b
		}
		pull, err := pullBase(ctx, b, work, p.base)
		if err != nil {
			return nil, err
		}
		m, err := c.run(ctx, s, b)
		if s.warm == nil {
			b.remove()
		}
		if err != nil {
			return nil, err
		}
		rs = append(rs, result{Project: p.name, Contender: c.name, Sequence: seq, Scenario: scenario, Pull: pull.Seconds, build: m})
	}
	if s.warm != nil {
		s.warm.remove()
	}
	return rs, nil
}

// pushFrontendImage builds the frontend image of this checkout into the
// bench's registry, where the specs' syntax line finds it (as ghcr.io).
func pushFrontendImage(ctx context.Context) error {
	gomodcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "docker", "buildx", "build", "--provenance=false",
		"--build-context", "gomodcache="+filepath.Join(strings.TrimSpace(string(gomodcache)), "cache", "download"),
		"--tag", os.Getenv("TOMLFRONT_REGISTRY")+"/tomlfront/tomlfront:1", "--push", ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the frontend image: %v\n%s", err, tail(string(out), 30))
	}
	return nil
}

// pullBase pulls the project's base image into the builder, so that the
// run's time leaves it out (every contender pulls the same image).
func pullBase(ctx context.Context, b *builder, work, base string) (build, error) {
	dir := filepath.Join(work, "pull")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return build{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nRUN true\n"), 0o644); err != nil {
		return build{}, err
	}
	return b.buildx(ctx, dir, nil, "--output", "type=cacheonly", ".")
}

func key(project, contender string, seq int) string {
	return fmt.Sprintf("%s\x00%s\x00%d", project, contender, seq)
}

// readResults returns the sequences the file holds whole.
func readResults(path string) (map[string]bool, error) {
	rs, err := loadResults(path)
	if err != nil {
		return nil, err
	}
	runs := map[string]int{}
	for _, r := range rs {
		runs[key(r.Project, r.Contender, r.Sequence)]++
	}
	done := map[string]bool{}
	for _, p := range projects {
		want := len(scenarios)
		if p.depChange == nil {
			want--
		}
		for k, n := range runs {
			if strings.HasPrefix(k, p.name+"\x00") && n >= want {
				done[k] = true
			}
		}
	}
	return done, nil
}

func loadResults(path string) ([]result, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	var rs []result
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		rs = append(rs, r)
	}
	return rs, sc.Err()
}

func appendResults(path string, rs []result) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for _, r := range rs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func nonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// describeMachine says what the numbers were measured on: cores, CPU and
// memory.
func describeMachine() string {
	cpu, mem := "unknown CPU", ""
	if dt, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(dt), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if dt, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(dt), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
		}
	}
	return fmt.Sprintf("%d cores, %s%s", runtime.NumCPU(), cpu, mem)
}
