package convert

import (
	"fmt"
	"maps"
	"slices"
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
	skip, errors []string
	comments     []string
}

type arg struct {
	name, value string
	comments    []string
	fromStage   bool // a stage's ARG declared it or gave its default
	// required: a FROM reads it and nothing gives it a default, so a
	// build of the Dockerfile fails without --build-arg
	required bool
}

type kvPair struct{ key, value string }

// cacheTable is a [caches.NAME] table.
type cacheTable struct {
	name string
	keys values
}

// key tells two mounts of the same cache from two caches.
func (c *cacheTable) key() string {
	parts := make([]string, 0, len(c.keys))
	for _, k := range slices.Sorted(maps.Keys(c.keys)) {
		parts = append(parts, k+"="+c.keys[k])
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

// envIndex is where the stage's env sets key, or -1.
func (s *stage) envIndex(key string) int {
	return slices.IndexFunc(s.env, func(p kvPair) bool { return p.key == key })
}

// image is a stage's [stages.NAME.image] table: the keys an instruction
// sets whole (cmd, entrypoint, author, stop_signal), the lists that
// instructions add to, and the healthcheck table.
type image struct {
	keys            values
	expose, volumes []string
	labels          []kvPair
	health          values
}

// fields are the keys an instruction sets whole.
func (img *image) fields() values {
	if img.keys == nil {
		img.keys = values{}
	}
	return img.keys
}

// step is a [[stages.NAME.steps]] table.
type step struct {
	comments, todo []string
	keys           values
}

// values are a table's keys, each with its value written as TOML; the
// writer writes them in the decoder's order of the table's keys.
type values map[string]string

// set sets key to a TOML value.
func (v values) set(key, value string) { v[key] = value }

// str sets key to a string, unless it is empty.
func (v values) str(key, s string) {
	if s != "" {
		v[key] = tomlString(s)
	}
}

// list sets key to an array of strings, unless it is empty.
func (v values) list(key string, l []string) {
	if len(l) > 0 {
		v[key] = tomlStrings(l)
	}
}

// table sets key to an inline table of strings, unless it is empty.
func (v values) table(key string, pairs []kvPair) {
	if len(pairs) == 0 {
		return
	}
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = tomlw.Key(p.key) + " = " + tomlString(p.value)
	}
	v[key] = "{ " + strings.Join(parts, ", ") + " }"
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

// keys writes the values of a table ("stage", "step", ...: spec.KeyOrder's
// names) in the order the decoder declares its keys. A key the table does
// not have is a bug of the converter, which every conversion's load would
// also report.
func (w *writer) keys(table string, v values) {
	order := spec.KeyOrder(table)
	for _, k := range order {
		if value, ok := v[k]; ok {
			w.kv(k, value)
		}
	}
	for k := range v {
		if !slices.Contains(order, k) {
			panic(fmt.Sprintf("tomlfront convert: %s has no key %q", table, k))
		}
	}
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
		v := values{}
		v.list("skip", l.skip)
		v.list("error", l.errors)
		w.keys("lint", v)
	}
	if len(m.args) > 0 {
		w.header("[args]", nil)
		for _, a := range m.args {
			w.comments(a.comments)
			if a.required {
				w.kv(a.name, "{ required = true }")
			} else {
				w.kv(a.name, tomlString(a.value))
			}
		}
	}
	for _, c := range m.caches {
		w.header("[caches."+tomlw.Key(c.name)+"]", nil)
		w.keys("cache", c.keys)
	}
	for _, s := range m.stages {
		s.render(&w)
	}
	return []byte(w.String())
}

func (s *stage) render(w *writer) {
	name := tomlw.Key(s.name)
	w.header("[stages."+name+"]", append(s.comments, s.todo...))
	v := values{}
	v.str("from", s.from)
	v.str("platform", s.platform)
	v.list("args", s.args)
	v.table("env", s.env)
	v.str("workdir", s.workdir)
	v.str("user", s.user)
	v.list("shell", s.shell)
	w.keys("stage", v)
	for _, st := range s.steps {
		w.header("[[stages."+name+".steps]]", append(st.comments, st.todo...))
		w.keys("step", st.keys)
	}
	img := s.image
	v = values{}
	maps.Copy(v, img.keys)
	v.list("expose", img.expose)
	v.list("volumes", img.volumes)
	v.table("labels", img.labels)
	if len(v) == 0 && img.health == nil {
		return
	}
	w.header("[stages."+name+".image]", nil)
	w.keys("image", v)
	if img.health != nil {
		w.header("[stages."+name+".image.healthcheck]", nil)
		w.keys("healthcheck", img.health)
	}
}
