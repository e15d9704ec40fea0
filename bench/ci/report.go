package main

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/go-analyze/charts"
)

// stats are the median, min and max of a run's times over its sequences.
type stats struct {
	median, min, max float64
	n                int
}

func statsOf(v []float64) stats {
	if len(v) == 0 {
		return stats{}
	}
	s := slices.Sorted(slices.Values(v))
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stats{m, s[0], s[len(s)-1], len(s)}
}

// The lines of PREFIX.md that the report is written between.
const (
	reportBegin = "<!-- begin: written by go run ./bench/ci -report; edit above or below -->"
	reportEnd   = "<!-- end: written by go run ./bench/ci -report -->"
)

// writeReport writes into PREFIX.md, between its lines reportBegin and
// reportEnd, a table per project (scenarios by contenders: median, min and
// max), the ratios the README quotes and the snapshot's bound, and a chart
// per project, PREFIX-ci-PROJECT.svg. A project the results do not hold
// keeps its section and chart from the last report, so that projects can
// be measured apart.
func writeReport(resultsPath, prefix string) error {
	rs, err := loadResults(resultsPath)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return fmt.Errorf("%s holds no results", resultsPath)
	}
	doc := prefix + ".md"
	dt, err := os.ReadFile(doc)
	if err != nil {
		return err
	}
	before, rest, begun := strings.Cut(string(dt), reportBegin+"\n")
	last, after, ended := strings.Cut(rest, reportEnd)
	if !begun || !ended {
		return fmt.Errorf("%s has no lines %q and %q to write the report between", doc, reportBegin, reportEnd)
	}
	kept := sectionsOf(last)
	var md strings.Builder
	md.WriteString("Written by `go run ./bench/ci -report` from its results, a project at a time: each says at which commit, on which date and on which machine it was measured. Seconds per CI run, each on a fresh builder (the warm builder keeps one), `sync` included, the base image's pull left out: median (min–max) of the sequences run, and the steps that ran of those the build has (for the snapshot, its export build's too, and how many caches were seeded from the snapshot).\n\n")
	for _, p := range projects {
		section, err := projectSection(p, rs, prefix)
		if err != nil {
			return err
		}
		md.WriteString(cmp.Or(section, kept[p.name]))
	}
	return os.WriteFile(doc, []byte(before+reportBegin+"\n"+md.String()+reportEnd+after), 0o644)
}

// sectionsOf reads a report's sections by project name.
func sectionsOf(report string) map[string]string {
	sections := map[string]string{}
	for _, s := range strings.Split(report, "\n### ")[1:] {
		name, _, _ := strings.Cut(s, "\n")
		sections[name] = "### " + strings.TrimRight(s, "\n") + "\n\n"
	}
	return sections
}

// projectSection is a project's section of the report, and writes its
// chart; empty when the results hold none of the project's.
func projectSection(p project, rs []result, prefix string) (string, error) {
	var md strings.Builder
	times := map[[2]string][]float64{}
	// What a run takes besides its steps' running, where the results
	// measured it (older ones did not).
	rest := map[[2]string][]float64{}
	unmeasured := map[[2]string]bool{}
	steps := map[[2]string][]string{}
	// Projects may be measured apart: each says at which commit.
	commits, dates, machines := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range rs {
		if r.Project != p.name {
			continue
		}
		commits[r.Commit], dates[r.Date.Format("2006-01-02")], machines[r.Machine] = true, true, true
		k := [2]string{r.Scenario, r.Contender}
		times[k] = append(times[k], r.Seconds)
		rest[k] = append(rest[k], r.Seconds-r.Stepping)
		unmeasured[k] = unmeasured[k] || r.Ran > 0 && r.Stepping == 0
		ran := fmt.Sprintf("%d/%d", r.Ran, r.Ran+r.Cached)
		if r.Contender == "tomlfront+gha+snapshot" {
			ran += fmt.Sprintf(" (%d seeded)", r.Seeds)
		}
		steps[k] = append(steps[k], ran)
	}
	if len(times) == 0 {
		return "", nil
	}
	fmt.Fprintf(&md, "### %s\n\nMeasured at %s on %s (%s).\n\n| run |", p.name,
		strings.Join(slices.Sorted(maps.Keys(commits)), ", "), strings.Join(slices.Sorted(maps.Keys(dates)), ", "),
		strings.Join(slices.Sorted(maps.Keys(machines)), "; "))
	for _, c := range contenders {
		fmt.Fprintf(&md, " %s |", c.name)
	}
	md.WriteString("\n|---|" + strings.Repeat("---|", len(contenders)) + "\n")
	series := make([][]float64, len(contenders))
	var labels []string
	for _, sc := range scenarios {
		if sc == "dependency change" && p.depChange == nil {
			continue
		}
		labels = append(labels, sc)
		fmt.Fprintf(&md, "| %s |", sc)
		for i, c := range contenders {
			st := statsOf(times[[2]string{sc, c.name}])
			series[i] = append(series[i], st.median)
			if st.n == 0 {
				md.WriteString(" – |")
				continue
			}
			fmt.Fprintf(&md, " %.1f (%.1f–%.1f), steps run %s |", st.median, st.min, st.max, strings.Join(slices.Compact(slices.Sorted(slices.Values(steps[[2]string{sc, c.name}]))), ", "))
		}
		md.WriteString("\n")
	}
	md.WriteString("\n")
	for _, sc := range labels {
		tf := statsOf(times[[2]string{sc, "tomlfront+gha"}]).median
		snap := statsOf(times[[2]string{sc, "tomlfront+gha+snapshot"}]).median
		df := statsOf(times[[2]string{sc, "dockerfile+gha"}]).median
		dance := statsOf(times[[2]string{sc, "dockerfile+gha+dance"}]).median
		bound := math.Max(1, 0.1*tf)
		verdict := "within"
		if snap-tf > bound {
			verdict = "**over**"
		}
		cost := fmt.Sprintf("costs %.1fs more than", snap-tf)
		if snap < tf {
			cost = fmt.Sprintf("saves %.1fs against", tf-snap)
		}
		fmt.Fprintf(&md, "- %s: tomlfront with its snapshot is %s the Dockerfile with the gha cache, %s the Dockerfile with the cache dance; the snapshot %s tomlfront without it (%s the bound of %.1fs)",
			sc, ratio(df, snap), ratio(dance, snap), cost, verdict, bound)
		tfKey, snapKey := [2]string{sc, "tomlfront+gha"}, [2]string{sc, "tomlfront+gha+snapshot"}
		if len(rest[tfKey]) > 0 && len(rest[snapKey]) > 0 && !unmeasured[tfKey] && !unmeasured[snapKey] {
			fmt.Fprintf(&md, "; besides the time its steps ran, a run took %.1fs with the snapshot and %.1fs without it",
				statsOf(rest[snapKey]).median, statsOf(rest[tfKey]).median)
		}
		md.WriteString(".\n")
	}
	md.WriteString("\n")
	chart := fmt.Sprintf("%s-ci-%s.svg", prefix, p.name)
	if err := writeChart(chart, p.name, labels, series); err != nil {
		return "", err
	}
	fmt.Fprintf(&md, "![%s: seconds per CI run](%s)\n\n", p.name, strings.TrimPrefix(chart, "docs/"))
	return md.String(), nil
}

// ratio says how much faster (or slower) b is than a.
func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "(not measured) against"
	}
	if a >= b {
		return fmt.Sprintf("%.2fx faster than", a/b)
	}
	return fmt.Sprintf("%.2fx slower than", b/a)
}

func writeChart(path, title string, scenarios []string, series [][]float64) error {
	var names []string
	for _, c := range contenders {
		names = append(names, c.name)
	}
	p, err := charts.BarRender(series,
		charts.SVGOutputOptionFunc(),
		charts.TitleTextOptionFunc(title+": seconds per CI run (median)"),
		charts.XAxisLabelsOptionFunc(scenarios),
		charts.LegendLabelsOptionFunc(names),
		charts.DimensionsOptionFunc(960, 420),
	)
	if err != nil {
		return err
	}
	svg, err := p.Bytes()
	if err != nil {
		return err
	}
	return os.WriteFile(path, svg, 0o644)
}
