package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestIsStep(t *testing.T) {
	for _, c := range []struct {
		name string
		want bool
	}{
		{"[build 4/4] run GOOS=$TARGETOS go build .", true},
		{"[build 3/4] RUN --mount=type=cache,target=/go/pkg/mod go mod download", true},
		{"[linux/arm64 build 2/4] run go mod download", true},
		{"[build 1/4] copy go.mod /src/", false},
		{"[runtime 1/1] COPY --from=build /out/app /usr/local/bin/app", false},
		{"[internal] load build definition from build.toml", false},
		{"[tomlfront] seed cache go/mod from the snapshot", false},
		{"exporting to client directory", false},
		{"importing cache manifest from gha:123", false},
	} {
		if got := isStep(c.name); got != c.want {
			t.Errorf("isStep(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestStatsOf(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want stats
	}{
		{nil, stats{}},
		{[]float64{3}, stats{3, 3, 3, 1}},
		{[]float64{5, 1, 3}, stats{3, 1, 5, 3}},
		{[]float64{4, 1, 2, 8}, stats{3, 1, 8, 4}},
	} {
		if got := statsOf(c.in); got != c.want {
			t.Errorf("statsOf(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestCovered(t *testing.T) {
	at := func(s float64) time.Time { return time.Unix(0, 0).Add(time.Duration(s * float64(time.Second))) }
	for _, c := range []struct {
		name string
		in   [][2]float64
		want float64
	}{
		{"none", nil, 0},
		{"one", [][2]float64{{1, 3}}, 2},
		{"apart", [][2]float64{{5, 6}, {1, 3}}, 3},
		{"overlapping", [][2]float64{{1, 4}, {2, 6}}, 5},
		{"inside", [][2]float64{{1, 10}, {2, 3}, {4, 5}}, 9},
		{"touching", [][2]float64{{1, 2}, {2, 3}}, 2},
	} {
		var is []interval
		for _, i := range c.in {
			is = append(is, interval{at(i[0]), at(i[1])})
		}
		if got := covered(is).Seconds(); got != c.want {
			t.Errorf("%s: covered = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestBeside: a step two builds side by side both ran counts once, and so
// does the time their steps ran side by side.
func TestBeside(t *testing.T) {
	at := func(s float64) time.Time { return time.Unix(0, 0).Add(time.Duration(s * float64(time.Second))) }
	main := build{Seconds: 30, Ran: 2, RanSteps: []string{"[a 1/2] run x", "[a 2/2] run y"}, Stepping: 25,
		ran: []interval{{at(1), at(21)}, {at(21), at(26)}}}
	export := build{Seconds: 28, Ran: 2, Cached: 1, Snapshot: 1.5, RanSteps: []string{"[a 1/2] run x", "[b 1/1] run z"}, Stepping: 22,
		ran: []interval{{at(1), at(21)}, {at(24), at(27)}}}
	got := main.beside(export, 31)
	want := build{Seconds: 31, Ran: 3, Cached: 1, Snapshot: 1.5, Stepping: 26,
		RanSteps: []string{"[a 1/2] run x", "[a 2/2] run y", "[b 1/1] run z"}}
	got.ran = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("beside = %+v, want %+v", got, want)
	}
}

// TestReportKeepsOtherProjects: a report from the results of one project
// rewrites that project's section and keeps the others' as they were.
func TestReportKeepsOtherProjects(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "performance")
	above, below := "# Performance\n\n## CI runs\n\n", "\n\n## What follows\n"
	old := above + reportBegin + "\nold header\n\n### go-app\n\nMeasured at aaaaaaa.\n\n![go-app](x.svg)\n\n### node-app\n\nMeasured at bbbbbbb.\n\n![node-app](y.svg)\n\n" + reportEnd + below
	if err := os.WriteFile(prefix+".md", []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	var rs []result
	for _, c := range contenders {
		rs = append(rs, result{Project: "node-app", Contender: c.name, Sequence: 1, Scenario: "first",
			build: build{Seconds: 20, Ran: 3}, Commit: "ccccccc", Machine: "m"})
	}
	results := filepath.Join(dir, "results.jsonl")
	if err := appendResults(results, rs); err != nil {
		t.Fatal(err)
	}
	if err := writeReport(results, prefix); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(prefix + ".md")
	if err != nil {
		t.Fatal(err)
	}
	report, prefixed := strings.CutPrefix(string(doc), above+reportBegin+"\n")
	report, suffixed := strings.CutSuffix(report, reportEnd+below)
	if !prefixed || !suffixed {
		t.Fatalf("the report did not keep what is above and below its lines:\n%s", doc)
	}
	got := sectionsOf(report)
	if want := "### go-app\n\nMeasured at aaaaaaa.\n\n![go-app](x.svg)\n\n"; got["go-app"] != want {
		t.Errorf("go-app's section = %q, want it kept: %q", got["go-app"], want)
	}
	if s := got["node-app"]; !strings.Contains(s, "Measured at ccccccc") || strings.Contains(s, "bbbbbbb") {
		t.Errorf("node-app's section was not rewritten from the results:\n%s", s)
	}
	if _, err := os.Stat(prefix + "-ci-node-app.svg"); err != nil {
		t.Errorf("no chart for node-app: %v", err)
	}
}
