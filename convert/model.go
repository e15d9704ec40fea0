package convert

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tomlfront/tomlfront/internal/tomlw"
	"github.com/tomlfront/tomlfront/spec"
)

// model is the spec being written, in the order it is written.
type model struct {
	lint   *lintTable
	args   []*arg
	caches []*cacheTable
	stages []*stage
}

type lintTable struct {
	skip     []string
	errorAll bool
	comments []string
}

type arg struct {
	name, value string
	comments    []string
	fromStage   bool // a stage's ARG declared it or gave its default
}

type kvPair struct{ key, value string }

// cacheTable is a [caches.NAME] table: its keys and their TOML values, in
// the order they are written.
type cacheTable struct {
	name string
	keys []kvPair
}

// set writes key = value (a TOML value) unless value is empty.
func (c *cacheTable) set(key, value string) {
	if value != "" {
		c.keys = append(c.keys, kvPair{key, value})
	}
}

// key tells two mounts of the same cache from two caches.
func (c *cacheTable) key() string {
	parts := make([]string, len(c.keys))
	for i, kv := range c.keys {
		parts[i] = kv.key + "=" + kv.value
	}
	return strings.Join(parts, "\x00")
}

type stage struct {
	name, from, platform string
	comments, todo       []string
	args                 []string
	env                  []kvPair
	workdir, user        string
	shell                []string
	steps                []*step
	image                image
}

type image struct {
	cmd, entrypoint       []string
	cmdSet, entrypointSet bool
	expose, volumes       []string
	labels                []kvPair
	stopSignal            string
	health                *health
}

type health struct {
	test                                          []string
	interval, timeout, startPeriod, startInterval string
	retries                                       int
}

// step is a step's keys, each with its value written as TOML.
type step struct {
	comments, todo []string
	keys, values   []string
}

func (s *step) add(key, value string) {
	s.keys, s.values = append(s.keys, key), append(s.values, value)
}

func (m *model) arg(name string) *arg {
	for _, a := range m.args {
		if a.name == name {
			return a
		}
	}
	return nil
}

func (m *model) cache(name string) *cacheTable {
	for _, c := range m.caches {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (m *model) stage(name string) *stage {
	for _, s := range m.stages {
		if s.name == name {
			return s
		}
	}
	return nil
}

func tomlString(s string) string    { return tomlw.String(s) }
func tomlStrings(l []string) string { return tomlw.Strings(l) }

// writer writes TOML: tables in order, a blank line before each.
type writer struct{ strings.Builder }

func (w *writer) comments(lines []string) {
	for _, l := range lines {
		w.WriteString("# " + strings.TrimSpace(strings.TrimPrefix(l, "#")) + "\n")
	}
}

func (w *writer) header(h string, comments []string) {
	w.WriteString("\n")
	w.comments(comments)
	w.WriteString(h + "\n")
}

func (w *writer) kv(k, v string) { fmt.Fprintf(w, "%s = %s\n", tomlw.Key(k), v) }

func (w *writer) str(k, v string) {
	if v != "" {
		w.kv(k, tomlString(v))
	}
}

func (w *writer) list(k string, v []string) {
	if len(v) > 0 {
		w.kv(k, tomlStrings(v))
	}
}

func (w *writer) table(k string, pairs []kvPair) {
	if len(pairs) == 0 {
		return
	}
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = tomlw.Key(p.key) + " = " + tomlString(p.value)
	}
	w.kv(k, "{ "+strings.Join(parts, ", ")+" }")
}

// render writes the spec: syntax and schema lines, [lint], [args], caches, then each
// stage with its steps and image.
func (m *model) render(syntax string) []byte {
	var w writer
	if syntax != "" {
		w.WriteString("# syntax=" + syntax + "\n")
	}
	w.WriteString("#:schema " + spec.SchemaURL + "\n") // for editors: docs/editors.md
	w.WriteString("version = 1\n")
	if l := m.lint; l != nil {
		w.header("[lint]", l.comments)
		w.list("skip", l.skip)
		if l.errorAll {
			w.kv("error", "true")
		}
	}
	if len(m.args) > 0 {
		w.header("[args]", nil)
		for _, a := range m.args {
			w.comments(a.comments)
			w.kv(a.name, tomlString(a.value))
		}
	}
	for _, c := range m.caches {
		w.header("[caches."+tomlw.Key(c.name)+"]", nil)
		for _, kv := range c.keys {
			w.kv(kv.key, kv.value)
		}
	}
	for _, s := range m.stages {
		s.render(&w)
	}
	return []byte(w.String())
}

func (s *stage) render(w *writer) {
	name := tomlw.Key(s.name)
	w.header("[stages."+name+"]", append(s.comments, s.todo...))
	w.str("from", s.from)
	w.str("platform", s.platform)
	w.list("args", s.args)
	w.table("env", s.env)
	w.str("workdir", s.workdir)
	w.str("user", s.user)
	w.list("shell", s.shell)
	for _, st := range s.steps {
		w.header("[[stages."+name+".steps]]", append(st.comments, st.todo...))
		for i, k := range st.keys {
			w.kv(k, st.values[i])
		}
	}
	img := s.image
	if img.empty() {
		return
	}
	w.header("[stages."+name+".image]", nil)
	if img.entrypointSet {
		w.kv("entrypoint", tomlStrings(img.entrypoint))
	}
	if img.cmdSet {
		w.kv("cmd", tomlStrings(img.cmd))
	}
	w.list("expose", img.expose)
	w.list("volumes", img.volumes)
	w.table("labels", img.labels)
	w.str("stop_signal", img.stopSignal)
	if h := img.health; h != nil {
		w.header("[stages."+name+".image.healthcheck]", nil)
		w.list("test", h.test)
		w.str("interval", h.interval)
		w.str("timeout", h.timeout)
		w.str("start_period", h.startPeriod)
		w.str("start_interval", h.startInterval)
		if h.retries != 0 {
			w.kv("retries", strconv.Itoa(h.retries))
		}
	}
}

func (img image) empty() bool {
	return !img.cmdSet && !img.entrypointSet && len(img.expose) == 0 && len(img.volumes) == 0 &&
		len(img.labels) == 0 && img.stopSignal == "" && img.health == nil
}
