package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tomlfront/tomlfront/internal/progress"
	"github.com/tomlfront/tomlfront/llbgen"
)

// builder is a buildx builder of a new buildkitd with an empty root, as a
// hosted runner has: the bench's buildkitd-extra.sh starts it, in place of
// the one of the same name (stopped, its root removed); down.sh stops the
// last.
type builder struct {
	name string
}

func newBuilder(ctx context.Context, name string) (*builder, error) {
	out, err := exec.CommandContext(ctx, "bash", "scripts/bench/buildkitd-extra.sh", name).Output()
	if err != nil {
		return nil, fmt.Errorf("starting a buildkitd: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 {
		return nil, fmt.Errorf("buildkitd-extra.sh printed no address")
	}
	b := &builder{name: name}
	_ = exec.Command("docker", "buildx", "rm", b.name).Run()
	if out, err := exec.CommandContext(ctx, "docker", "buildx", "create", "--name", b.name, "--driver", "remote", lines[len(lines)-1]).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("docker buildx create: %v\n%s", err, out)
	}
	return b, nil
}

// remove removes the builder; the buildkitd it ran on is replaced by the
// next of its name, and stopped by the bench's down.sh.
func (b *builder) remove() { _ = exec.Command("docker", "buildx", "rm", b.name).Run() }

// build is one buildx build's measure.
type build struct {
	Seconds float64 `json:"seconds"` // the command and a sync after it
	Ran     int     `json:"ran"`     // steps (exec ops) that ran
	Cached  int     `json:"cached"`  // steps that came from a cache
	// Snapshot is the time of tomlfront's seed and export steps.
	Snapshot float64 `json:"snapshot"`
	// Seeds counts the caches seeded from the snapshot.
	Seeds int `json:"seeds"`
	// Stepping is the time during which at least one step ran: what is
	// left of Seconds is the frontend's, the exporters', the snapshot's and
	// the sync's, apart from how fast a mirror or the disk served a step.
	Stepping float64 `json:"stepping"`
	// Export is the snapshot export's own build, part of Seconds (of
	// which it may overlap the rest, when it ran beside the build).
	Export float64 `json:"export,omitempty"`
	// RanSteps names the steps that ran.
	RanSteps []string `json:"ran_steps,omitempty"`

	ran []interval // when the steps that ran ran
}

// add is the measure of b and then o.
func (b build) add(o build) build {
	return build{b.Seconds + o.Seconds, b.Ran + o.Ran, b.Cached + o.Cached, b.Snapshot + o.Snapshot, b.Seeds + o.Seeds,
		b.Stepping + o.Stepping, b.Export + o.Export, append(b.RanSteps, o.RanSteps...), append(b.ran, o.ran...)}
}

// beside is the measure of b and o run side by side on one builder, which
// took seconds in all: a step both ran, BuildKit ran once, for both, and
// it counts once, as steps side by side count once in Stepping.
func (b build) beside(o build, seconds float64) build {
	for _, step := range b.RanSteps {
		if i := slices.Index(o.RanSteps, step); i >= 0 {
			o.RanSteps = slices.Delete(o.RanSteps, i, i+1)
			o.Ran--
		}
	}
	both := b.add(o)
	both.Seconds = seconds
	both.Stepping = covered(both.ran).Seconds()
	return both
}

// buildx runs `docker buildx build` on the builder, with BuildKit's status
// as JSON, which it reads: the steps that ran and came from the cache.
// A build that takes longer is stuck: it fails the sequence, which a later
// invocation runs again.
var buildTimeout = 20 * time.Minute

func (b *builder) buildx(ctx context.Context, dir string, env []string, args ...string) (build, error) {
	args = append([]string{"buildx", "build", "--builder", b.name, "--progress", "rawjson", "--provenance=false"}, args...)
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	syncDisks()
	start := time.Now()
	err := cmd.Run()
	syncDisks()
	m := build{Seconds: time.Since(start).Seconds()}
	status, perr := progress.ReadRawJSON(out.String())
	if err := errors.Join(err, perr); err != nil {
		return m, fmt.Errorf("docker %s: %v\n%s", strings.Join(args, " "), err, tail(status.Output.String(), 40))
	}
	for _, v := range status.Vertexes {
		switch {
		case v.Name == llbgen.WatcherName || v.Name == llbgen.HolderName:
			// They wait beside the whole build.
		case strings.HasPrefix(v.Name, "[tomlfront]"):
			if v.Started != nil && v.Completed != nil {
				m.Snapshot += v.Completed.Sub(*v.Started).Seconds()
				if strings.HasPrefix(v.Name, "[tomlfront] seed cache") && !v.Cached {
					m.Seeds++
				}
			}
		case !isStep(v.Name):
		case v.Cached:
			m.Cached++
		case v.Completed != nil:
			m.Ran++
			m.RanSteps = append(m.RanSteps, v.Name)
			if v.Started != nil {
				m.ran = append(m.ran, interval{*v.Started, *v.Completed})
			}
		}
	}
	m.Stepping = covered(m.ran).Seconds()
	return m, nil
}

type interval struct{ start, end time.Time }

// covered is the time the intervals cover: steps that run side by side
// count once. It sorts is, whose order means nothing.
func covered(is []interval) time.Duration {
	slices.SortFunc(is, func(a, b interval) int { return a.start.Compare(b.start) })
	var total time.Duration
	var end time.Time
	for _, i := range is {
		if i.start.Before(end) {
			i.start = end
		}
		if i.end.After(i.start) {
			total += i.end.Sub(i.start)
			end = i.end
		}
	}
	return total
}

// isStep tells a build step's vertex ("[stage 2/4] run ...", "[build 2/3]
// RUN ...") from the others (loading, exporting, internal).
func isStep(name string) bool {
	stage, rest, ok := strings.Cut(strings.TrimPrefix(name, "["), "] ")
	if !ok || !strings.Contains(stage, "/") || strings.HasPrefix(stage, "internal") {
		return false
	}
	verb, _, _ := strings.Cut(rest, " ")
	return strings.EqualFold(verb, "run")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// syncDisks flushes pending writes, so that a build pays for its own.
func syncDisks() { _ = exec.Command("sync").Run() }

// copyDir copies a directory's content into another (made if missing).
func copyDir(from, to string) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("cp", "-a", filepath.Clean(from)+"/.", to+"/").CombinedOutput(); err != nil {
		return fmt.Errorf("cp -a %s %s: %v\n%s", from, to, err, out)
	}
	return nil
}
