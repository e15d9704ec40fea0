package spec

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/moby/buildkit/util/suggest"
)

// decoder turns the positioned tree into typed values, reporting unknown keys
// and wrong types; the rules between values are validate's job.
type decoder struct {
	problems
	comments map[int]string
}

// fields maps the keys a table allows to the functions that decode them.
type fields map[string]func(*node)

// table decodes t with f, in document order; `what` names the table in
// messages, e.g. `stage "build"`.
func (d *decoder) table(t *node, what string, f fields) {
	for _, k := range t.keys {
		v := t.fields[k]
		if decode, ok := f[k]; ok {
			decode(v)
			continue
		}
		d.unknownKey(v.key, k, what, f)
	}
}

func (d *decoder) unknownKey(at Range, key, what string, f fields) {
	allowed := make([]string, 0, len(f))
	for k := range f {
		allowed = append(allowed, k)
	}
	sort.Strings(allowed)
	d.at(at, "unknown key %q in %s%s; allowed: %s", key, what, DidYouMean(key, allowed), strings.Join(allowed, ", "))
}

// DidYouMean returns ` (did you mean "x"?)` when a candidate is close to val.
func DidYouMean(val string, candidates []string) string {
	if s, ok := suggest.Search(val, candidates, true); ok {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func (d *decoder) wrongType(n *node, key, want string) {
	d.at(n.rng, "%s must be %s, found %s", key, want, n.kind)
}

func loc(n *node) Loc { return Loc{Key: n.key, Value: n.rng} }

func (d *decoder) str(dst *String, key string) func(*node) {
	return func(n *node) {
		if n.kind != kindString {
			d.wrongType(n, quote(key), "a string")
			return
		}
		*dst = String{Value: n.str, Loc: loc(n)}
	}
}

func (d *decoder) integer(dst *Int, key string) func(*node) {
	return func(n *node) {
		if n.kind != kindInteger {
			d.wrongType(n, quote(key), "an integer")
			return
		}
		*dst = Int{Value: n.num, Loc: loc(n)}
	}
}

func (d *decoder) boolean(dst *Bool, key string) func(*node) {
	return func(n *node) {
		if n.kind != kindBool {
			d.wrongType(n, quote(key), "true or false")
			return
		}
		*dst = Bool{Value: n.flag, Loc: loc(n)}
	}
}

// strs decodes an array of strings; with one set, a single string is taken
// as a list of one (`copy = "go.mod"`).
func (d *decoder) strs(dst *Strings, key string, one bool) func(*node) {
	return func(n *node) {
		if one && n.kind == kindString {
			*dst = Strings{Values: []String{{Value: n.str, Loc: loc(n)}}, Loc: loc(n)}
			return
		}
		want := "an array of strings"
		if one {
			want = "a string or an array of strings"
		}
		if n.kind != kindArray {
			d.wrongType(n, quote(key), want)
			return
		}
		out := Strings{Loc: loc(n), Values: make([]String, 0, len(n.items))}
		for _, it := range n.items {
			if it.kind != kindString {
				d.at(it.rng, "items of %q must be strings, found %s", key, it.kind)
				continue
			}
			out.Values = append(out.Values, String{Value: it.str, Loc: Loc{Value: it.rng}})
		}
		*dst = out
	}
}

// keyValues decodes a table of strings such as env or labels.
func (d *decoder) keyValues(dst *[]KeyValue, key string) func(*node) {
	return func(n *node) {
		if n.kind != kindTable {
			d.wrongType(n, quote(key), "a table of strings")
			return
		}
		for _, k := range n.keys {
			v := n.fields[k]
			if v.kind != kindString {
				d.at(v.rng, "%s.%s must be a string, found %s", key, k, v.kind)
				continue
			}
			*dst = append(*dst, KeyValue{Name: k, Value: String{Value: v.str, Loc: loc(v)}})
		}
	}
}

// namedTables decodes a table of tables such as `stages` or `caches`.
func (d *decoder) namedTables(n *node, key string, each func(name string, t *node)) {
	if n.kind != kindTable {
		d.wrongType(n, quote(key), "a table")
		return
	}
	for _, name := range n.keys {
		t := n.fields[name]
		if t.kind != kindTable {
			d.at(t.rng, "%s.%s must be a table, found %s", key, name, t.kind)
			continue
		}
		each(name, t)
	}
}

// description is the comment on the line directly above a key or header.
func (d *decoder) description(at Range) string {
	return d.comments[at.Start.Line-1]
}

func quote(key string) string { return fmt.Sprintf("%q", key) }

func (d *decoder) decode(root *node, s *Spec) {
	d.table(root, "the top level", fields{
		"version": d.integer(&s.Version, "version"),
		"default": d.str(&s.Default, "default"),
		"args": func(n *node) {
			if n.kind != kindTable {
				d.wrongType(n, `"args"`, "a table of strings")
				return
			}
			for _, k := range n.keys {
				v := n.fields[k]
				if v.kind != kindString {
					d.at(v.rng, "arg %q must be a string, found %s (quote it: %s = \"%s\")", k, v.kind, k, v.str)
					continue
				}
				s.Args = append(s.Args, &Arg{Name: k, Value: String{Value: v.str, Loc: loc(v)}, Description: d.description(v.key)})
			}
		},
		"caches": func(n *node) {
			d.namedTables(n, "caches", func(name string, t *node) {
				s.Caches = append(s.Caches, d.cache(name, t))
			})
		},
		"stages": func(n *node) {
			d.namedTables(n, "stages", func(name string, t *node) {
				s.Stages = append(s.Stages, d.stage(name, t))
			})
		},
	})
}

func (d *decoder) cache(name string, t *node) *Cache {
	c := &Cache{Name: name, Header: t.key}
	d.table(t, fmt.Sprintf("cache %q", name), fields{
		"target":   d.str(&c.Target, "target"),
		"sharing":  d.str(&c.Sharing, "sharing"),
		"id":       d.str(&c.ID, "id"),
		"mode":     d.str(&c.Mode, "mode"),
		"uid":      d.integer(&c.UID, "uid"),
		"gid":      d.integer(&c.GID, "gid"),
		"from":     d.str(&c.From, "from"),
		"source":   d.str(&c.Source, "source"),
		"readonly": d.boolean(&c.Readonly, "readonly"),
		"preset":   d.str(&c.Preset, "preset"),
		"persist":  d.boolean(&c.Persist, "persist"),
	})
	return c
}

func (d *decoder) stage(name string, t *node) *Stage {
	st := &Stage{Name: name, Header: t.rng, Range: t.rng, Description: d.description(t.rng)}
	st.Header.End = t.key.End
	d.table(t, fmt.Sprintf("stage %q", name), fields{
		"from":     d.str(&st.From, "from"),
		"platform": d.str(&st.Platform, "platform"),
		"args":     d.strs(&st.Args, "args", false),
		"env":      d.keyValues(&st.Env, "env"),
		"workdir":  d.str(&st.Workdir, "workdir"),
		"user":     d.str(&st.User, "user"),
		"shell":    d.strs(&st.Shell, "shell", false),
		"caches":   d.strs(&st.Caches, "caches", false),
		"steps": func(n *node) {
			if n.kind != kindArray {
				d.wrongType(n, `"steps"`, "an array of tables ([[stages."+name+".steps]])")
				return
			}
			for i, it := range n.items {
				if it.kind != kindTable {
					d.at(it.rng, "step %d of stage %q must be a table, found %s", i+1, name, it.kind)
					continue
				}
				st.Steps = append(st.Steps, d.step(name, i+1, it))
				if it.rng.End.after(st.Range.End) {
					st.Range.End = it.rng.End
				}
			}
		},
		"image": func(n *node) {
			if n.kind != kindTable {
				d.wrongType(n, `"image"`, "a table")
				return
			}
			st.Image = d.image(name, n)
		},
	})
	return st
}

// stepKeys says which verbs each step key applies to.
var stepKeys = map[string][]StepKind{
	"run": {StepRun}, "copy": {StepCopy}, "add": {StepAdd},
	"caches": {StepRun}, "mounts": {StepRun}, "network": {StepRun}, "security": {StepRun},
	"env": {StepRun}, "workdir": {StepRun}, "user": {StepRun},
	"from": {StepCopy}, "to": {StepCopy, StepAdd}, "chown": {StepCopy, StepAdd},
	"chmod": {StepCopy, StepAdd}, "link": {StepCopy, StepAdd}, "exclude": {StepCopy, StepAdd},
	"checksum": {StepAdd}, "keep_git_dir": {StepAdd}, "unpack": {StepAdd},
}

func (d *decoder) step(stage string, index int, t *node) *Step {
	s := &Step{Range: t.rng}
	what := fmt.Sprintf("step %d of stage %q", index, stage)

	var verbs []string
	for _, k := range t.keys {
		if k == "run" || k == "copy" || k == "add" {
			verbs = append(verbs, k)
		}
	}
	switch len(verbs) {
	case 0:
		d.at(t.rng, "%s has no verb: a step needs exactly one of run, copy, add", what)
	case 1:
		s.Kind = map[string]StepKind{"run": StepRun, "copy": StepCopy, "add": StepAdd}[verbs[0]]
	default:
		d.at(t.fields[verbs[1]].key, "%s has both %q and %q: a step needs exactly one of run, copy, add; split it into two steps", what, verbs[0], verbs[1])
	}

	all := fields{
		"run": func(n *node) {
			switch n.kind {
			case kindString:
				s.Command = String{Value: n.str, Loc: loc(n)}
			case kindArray:
				s.IsExec = true
				d.strs(&s.Exec, "run", false)(n)
			default:
				d.wrongType(n, `"run"`, "a string (shell form) or an array of strings (exec form)")
			}
		},
		"copy":         d.strs(&s.Sources, "copy", true),
		"add":          d.strs(&s.Sources, "add", true),
		"caches":       d.strs(&s.Caches, "caches", false),
		"mounts":       func(n *node) { s.Mounts = d.mounts(what, n) },
		"network":      d.str(&s.Network, "network"),
		"security":     d.str(&s.Security, "security"),
		"env":          d.keyValues(&s.Env, "env"),
		"workdir":      d.str(&s.Workdir, "workdir"),
		"user":         d.str(&s.User, "user"),
		"from":         d.str(&s.From, "from"),
		"to":           d.str(&s.To, "to"),
		"chown":        d.str(&s.Chown, "chown"),
		"chmod":        d.str(&s.Chmod, "chmod"),
		"link":         d.boolean(&s.Link, "link"),
		"exclude":      d.strs(&s.Exclude, "exclude", false),
		"checksum":     d.str(&s.Checksum, "checksum"),
		"keep_git_dir": d.boolean(&s.KeepGitDir, "keep_git_dir"),
		"unpack":       d.boolean(&s.Unpack, "unpack"),
	}
	for k, kinds := range stepKeys { // keys of another verb say which verb has them
		if s.Kind != 0 && !slices.Contains(kinds, s.Kind) {
			all[k] = func(n *node) {
				names := make([]string, len(kinds))
				for i, kind := range kinds {
					names[i] = kind.String()
				}
				d.at(n.key, "%q applies to %s steps only, not to %s steps", k, strings.Join(names, " and "), s.Kind)
			}
		}
	}
	d.table(t, what, all)
	return s
}

func (d *decoder) mounts(what string, n *node) []*Mount {
	if n.kind != kindArray {
		d.wrongType(n, `"mounts"`, "an array of tables")
		return nil
	}
	var out []*Mount
	for i, it := range n.items {
		if it.kind != kindTable {
			d.at(it.rng, "mount %d of %s must be a table, found %s", i+1, what, it.kind)
			continue
		}
		m := &Mount{Range: it.rng}
		d.table(it, fmt.Sprintf("mount %d of %s", i+1, what), fields{
			"type":     d.str(&m.Type, "type"),
			"target":   d.str(&m.Target, "target"),
			"source":   d.str(&m.Source, "source"),
			"from":     d.str(&m.From, "from"),
			"id":       d.str(&m.ID, "id"),
			"sharing":  d.str(&m.Sharing, "sharing"),
			"mode":     d.str(&m.Mode, "mode"),
			"uid":      d.integer(&m.UID, "uid"),
			"gid":      d.integer(&m.GID, "gid"),
			"size":     d.str(&m.Size, "size"),
			"env":      d.str(&m.Env, "env"),
			"readonly": d.boolean(&m.Readonly, "readonly"),
			"required": d.boolean(&m.Required, "required"),
		})
		out = append(out, m)
	}
	return out
}

func (d *decoder) image(stage string, t *node) *Image {
	img := &Image{Header: t.key}
	d.table(t, fmt.Sprintf("the image of stage %q", stage), fields{
		"entrypoint":  d.strs(&img.Entrypoint, "entrypoint", false),
		"cmd":         d.strs(&img.Cmd, "cmd", false),
		"user":        d.str(&img.User, "user"),
		"expose":      d.strs(&img.Expose, "expose", false),
		"volumes":     d.strs(&img.Volumes, "volumes", false),
		"labels":      d.keyValues(&img.Labels, "labels"),
		"stop_signal": d.str(&img.StopSignal, "stop_signal"),
		"healthcheck": func(n *node) {
			if n.kind != kindTable {
				d.wrongType(n, `"healthcheck"`, "a table")
				return
			}
			h := &Healthcheck{Range: n.rng}
			d.table(n, "healthcheck", fields{
				"test":           d.strs(&h.Test, "test", false),
				"interval":       d.str(&h.Interval, "interval"),
				"timeout":        d.str(&h.Timeout, "timeout"),
				"start_period":   d.str(&h.StartPeriod, "start_period"),
				"start_interval": d.str(&h.StartInterval, "start_interval"),
				"retries":        d.integer(&h.Retries, "retries"),
			})
			img.Healthcheck = h
		},
	})
	return img
}
