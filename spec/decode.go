package spec

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/util/suggest"
)

// decoder turns the positioned tree into typed values, reporting unknown keys
// and wrong types; the rules between values are validate's job.
type decoder struct {
	problems
	comments []map[int]string // of each file: line → comment
}

// fields are the keys a table of type T allows, in the order the reference
// documents them and tomlfront convert writes them, each with the function
// that decodes it into a *T.
type fields[T any] []field[T]

// field is one key of a table: its name, what the schema says of it (its
// type, default, allowed values and description; see schema.go) and how it
// is decoded.
type field[T any] struct {
	name   string
	schema prop
	decode func(d *decoder, dst *T, n *node)
}

// decodeTable decodes t into dst with f, in document order; `what` names
// the table in messages, e.g. `stage "build"`.
func decodeTable[T any](d *decoder, t *node, what string, dst *T, f fields[T]) {
	for _, k := range t.keys {
		v := t.fields[k]
		if i := slices.IndexFunc(f, func(f field[T]) bool { return f.name == k }); i >= 0 {
			f[i].decode(d, dst, v)
			continue
		}
		d.unknownKey(v.key, k, what, namesOf(f))
	}
}

// namesOf are the names of a table's keys, sorted, for messages.
func namesOf[V tableKey](keys []V) []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.keyName()
	}
	sort.Strings(names)
	return names
}

// tableKey is a key of a table: a field or a stepKey.
type tableKey interface {
	keyName() string
	schemaProp() prop
}

func (f field[T]) keyName() string { return f.name }
func (k stepKey) keyName() string  { return k.name }

func (d *decoder) unknownKey(at Range, key, what string, allowed []string) {
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
	d.at(n.rng, "%q must be %s, found %s", key, want, n.kind)
}

func loc(n *node) Loc { return Loc{Key: n.key, Value: n.rng} }

func (d *decoder) str(dst *String, key string, n *node) {
	if n.kind != kindString {
		d.wrongType(n, key, "a string")
		return
	}
	*dst = String{Value: n.str, Loc: loc(n)}
}

func (d *decoder) integer(dst *Int, key string, n *node) {
	if n.kind != kindInteger {
		d.wrongType(n, key, "an integer")
		return
	}
	*dst = Int{Value: n.num, Loc: loc(n)}
}

func (d *decoder) boolean(dst *Bool, key string, n *node) {
	if n.kind != kindBool {
		d.wrongType(n, key, "true or false")
		return
	}
	*dst = Bool{Value: n.flag, Loc: loc(n)}
}

// strs decodes an array of strings; with one set, a single string is taken
// as a list of one (`copy = "go.mod"`).
func (d *decoder) strs(dst *Strings, key string, one bool, n *node) {
	if one && n.kind == kindString {
		*dst = Strings{Values: []String{{Value: n.str, Loc: loc(n)}}, Loc: loc(n)}
		return
	}
	if n.kind != kindArray {
		want := "an array of strings"
		if one {
			want = "a string or an array of strings"
		}
		d.wrongType(n, key, want)
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

// keyValues decodes a table of strings such as env or labels.
func (d *decoder) keyValues(dst *[]KeyValue, key string, n *node) {
	d.entries(n, key, kindString, "a table of strings", "a string", func(k string, v *node) {
		*dst = append(*dst, KeyValue{Name: k, Value: String{Value: v.str, Loc: loc(v)}})
	})
}

// namedTables decodes a table of tables such as `stages` or `caches`.
func (d *decoder) namedTables(n *node, key string, each func(name string, t *node)) {
	d.entries(n, key, kindTable, "a table", "a table", each)
}

// entries calls each, in order, with the entries of the table n (the value
// of key) that are of kind want; the others are errors saying what they
// must be.
func (d *decoder) entries(n *node, key string, want nodeKind, table, entry string, each func(name string, v *node)) {
	if n.kind != kindTable {
		d.wrongType(n, key, table)
		return
	}
	for _, name := range n.keys {
		v := n.fields[name]
		if v.kind != want {
			d.at(v.rng, "%s.%s must be %s, found %s", key, name, entry, v.kind)
			continue
		}
		each(name, v)
	}
}

// shortOrTables decodes a table whose entries are each a string, the short
// form of one key, or a table of keys: [args] and [contexts]. entry makes
// an entry's value and returns the key its short form sets; what names an
// entry in messages, and long the keys of its table form.
func shortOrTables[T any](d *decoder, n *node, key, what, long string, f fields[T], entry func(name string, v *node) (*T, *String)) []*T {
	if n.kind != kindTable {
		d.wrongType(n, key, "a table")
		return nil
	}
	var out []*T
	for _, name := range n.keys {
		v := n.fields[name]
		t, short := entry(name, v)
		switch v.kind {
		case kindString:
			*short = String{Value: v.str, Loc: loc(v)}
		case kindTable:
			decodeTable(d, v, fmt.Sprintf("%s %q", what, name), t, f)
		default:
			d.at(v.rng, "%s %q must be a string or a table of %s, found %s (quote it: %s = \"%s\")", what, name, long, v.kind, name, v.str)
			continue
		}
		out = append(out, t)
	}
	return out
}

// description is the comment on the line directly above a key or header.
func (d *decoder) description(at Range) string {
	if at.File >= len(d.comments) {
		return ""
	}
	return d.comments[at.File][at.Start.Line-1]
}

var specFields = fields[Spec]{
	{"version", prop{"type": "integer", "description": "The spec version; 1 is the only one.", "enum": []any{1}}, func(d *decoder, s *Spec, n *node) { d.integer(&s.Version, "version", n) }},
	{"default", str("The stage built when no --target is given. Default: the stage declared last."), func(d *decoder, s *Spec, n *node) { d.str(&s.Default, "default", n) }},
	{"args", named(`Build arguments and their defaults: NAME = "default", or a table of default, required and description.`, argPatternJSON,
		prop{"oneOf": []any{prop{"type": "string"}, prop{"$ref": "#/definitions/arg"}}}), func(d *decoder, s *Spec, n *node) {
		s.Args = append(s.Args, shortOrTables(d, n, "args", "arg", "default, required and description", argFields, func(name string, v *node) (*Arg, *String) {
			a := &Arg{Name: name, Key: v.key, Description: d.description(v.key)}
			return a, &a.Value
		})...)
	}},
	{"contexts", named("Named contexts the spec declares, with their default source; --build-context NAME=... replaces it.", contextPattern,
		prop{"oneOf": []any{prop{"type": "string"}, prop{"$ref": "#/definitions/context"}}}), func(d *decoder, s *Spec, n *node) { s.Contexts = append(s.Contexts, d.contexts(n)...) }},
	{"include", prop{"type": "array", "description": `Specs merged into this one, in order, before it: paths relative to this file, or "context:NAME/PATH".`, "items": prop{"type": "string"}}, func(*decoder, *Spec, *node) {}}, // read and merged by the loader, which removes it
	{"lint", ref("A team's lint rules: which are not reported and which fail the build.", "lint"), func(d *decoder, s *Spec, n *node) {
		if n.kind != kindTable {
			d.wrongType(n, "lint", "a table")
			return
		}
		decodeTable(d, n, "[lint]", &s.Lint, lintFields)
	}},
	{"caches", named("Named cache mounts.", namePatternJSON, prop{"$ref": "#/definitions/cache"}), func(d *decoder, s *Spec, n *node) {
		d.namedTables(n, "caches", func(name string, t *node) {
			c := &Cache{Name: name, Header: t.key}
			decodeTable(d, t, fmt.Sprintf("cache %q", name), c, cacheFields)
			s.Caches = append(s.Caches, c)
		})
	}},
	{"stages", named("The build stages; at least one.", namePatternJSON, prop{"$ref": "#/definitions/stage"}), func(d *decoder, s *Spec, n *node) {
		d.namedTables(n, "stages", func(name string, t *node) {
			s.Stages = append(s.Stages, d.stage(name, t))
		})
	}},
}

var lintFields = fields[Lint]{
	{"skip", prop{"description": "Rules not reported.", "allOf": []any{ruleList}}, func(d *decoder, l *Lint, n *node) { d.strs(&l.Skip, "skip", false, n) }},
	{"error", prop{"description": "Rules whose findings fail the build, or true for all.", "oneOf": []any{prop{"type": "boolean"}, ruleList}}, func(d *decoder, l *Lint, n *node) {
		if n.kind == kindBool {
			d.boolean(&l.ErrorAll, "error", n)
			return
		}
		if n.kind != kindArray {
			d.wrongType(n, "error", "true, false or an array of rule names")
			return
		}
		d.strs(&l.Error, "error", false, n)
	}},
}

var argFields = fields[Arg]{
	{"default", str("The value when nothing sets it."), func(d *decoder, a *Arg, n *node) { d.str(&a.Value, "default", n) }},
	{"required", boolean("The build fails unless a later file or --build-arg sets the arg; not with a default.", false), func(d *decoder, a *Arg, n *node) { d.boolean(&a.Required, "required", n) }},
	{"description", str("Shown by --call=outline."), func(d *decoder, a *Arg, n *node) {
		var desc String
		d.str(&desc, "description", n)
		if desc.Loc.Present() {
			a.Description = desc.Value
		}
	}},
}

var cacheFields = fields[Cache]{
	{"target", str("Where it is mounted; required unless it is a preset."), func(d *decoder, c *Cache, n *node) { d.str(&c.Target, "target", n) }},
	{"sharing", strEnum("How concurrent builds share it. Default: shared, or the preset's own (apt, apk, dnf: locked).", SharingModes...), func(d *decoder, c *Cache, n *node) { d.str(&c.Sharing, "sharing", n) }},
	{"id", str("The cache id on the builder. Default: the cache's name (a preset's parts: NAME/PART)."), func(d *decoder, c *Cache, n *node) { d.str(&c.ID, "id", n) }},
	{"mode", str("Mode of a new cache root, " + modeDesc + "."), func(d *decoder, c *Cache, n *node) { d.str(&c.Mode, "mode", n) }},
	{"uid", integer("Owner of a new cache root.", 0, 4294967295), func(d *decoder, c *Cache, n *node) { d.integer(&c.UID, "uid", n) }},
	{"gid", integer("Group of a new cache root.", 0, 4294967295), func(d *decoder, c *Cache, n *node) { d.integer(&c.GID, "gid", n) }},
	{"from", str(`Initial content: a stage, an image ref or "context:NAME".`), func(d *decoder, c *Cache, n *node) { d.str(&c.From, "from", n) }},
	{"source", str("The path inside from that seeds the cache."), func(d *decoder, c *Cache, n *node) { d.str(&c.Source, "source", n) }},
	{"readonly", boolean("Mount it read-only.", false), func(d *decoder, c *Cache, n *node) { d.boolean(&c.Readonly, "readonly", n) }},
	{"preset", strEnum("A built-in cache for a tool (apt, go, npm, ...), under another name.", PresetNames()...), func(d *decoder, c *Cache, n *node) { d.str(&c.Preset, "preset", n) }},
	{"persist", boolean("Carry the cache to new builders in cache snapshots.", false), func(d *decoder, c *Cache, n *node) { d.boolean(&c.Persist, "persist", n) }},
	{"max_size", str(`With persist: the largest snapshot of the cache an export writes, e.g. "2g"; a bigger one fails the export.`), func(d *decoder, c *Cache, n *node) { d.str(&c.MaxSize, "max_size", n) }},
	{"trim", boolean("With persist and a preset that trims ("+strings.Join(TrimmedPresets(), ", ")+"): leave out of snapshots what the next build does not need.", true), func(d *decoder, c *Cache, n *node) { d.boolean(&c.Trim, "trim", n) }},
}

var stageFields = fields[Stage]{
	{"from", str(`An image ref, the name of another stage, "scratch" or "context:NAME". Required.`), func(d *decoder, st *Stage, n *node) { d.str(&st.From, "from", n) }},
	{"platform", str(`The platform, os/arch[/variant], e.g. "${BUILDPLATFORM}".`), func(d *decoder, st *Stage, n *node) { d.str(&st.Platform, "platform", n) }},
	{"args", strList("Declared args and platform args that run steps get as environment variables."), func(d *decoder, st *Stage, n *node) { d.strs(&st.Args, "args", false, n) }},
	{"env", strTable("Environment of every run step, kept in the image config."), func(d *decoder, st *Stage, n *node) { d.keyValues(&st.Env, "env", n) }},
	{"workdir", str("Working directory of every step, created if missing, kept in the image config."), func(d *decoder, st *Stage, n *node) { d.str(&st.Workdir, "workdir", n) }},
	{"user", str("User of every run step, kept in the image config."), func(d *decoder, st *Stage, n *node) { d.str(&st.User, "user", n) }},
	{"shell", strList(`The command that runs shell-form run strings. Default: inherited, else ["/bin/sh", "-c"].`), func(d *decoder, st *Stage, n *node) { d.strs(&st.Shell, "shell", false, n) }},
	{"caches", strList("Caches (named or presets) mounted on every run step."), func(d *decoder, st *Stage, n *node) { d.strs(&st.Caches, "caches", false, n) }},
	{"sbom_scan", boolean("With --sbom or --attest type=sbom, scan this stage too: its SBOM is attached as sbom-NAME beside the image's.", false), func(d *decoder, st *Stage, n *node) { d.boolean(&st.SBOMScan, "sbom_scan", n) }},
	{"steps", prop{"type": "array", "description": "What the stage does, in order: [[stages.NAME.steps]].", "items": prop{"$ref": "#/definitions/step"}}, func(d *decoder, st *Stage, n *node) {
		if n.kind != kindArray {
			d.wrongType(n, "steps", "an array of tables ([[stages."+st.Name+".steps]])")
			return
		}
		for i, it := range n.items {
			if it.kind != kindTable {
				d.at(it.rng, "step %d of stage %q must be a table, found %s", i+1, st.Name, it.kind)
				continue
			}
			st.Steps = append(st.Steps, d.step(st.Name, i+1, it))
			if st.Range.End.Before(it.rng.End) {
				st.Range.End = it.rng.End
			}
		}
	}},
	{"image", ref("The image config of the stage.", "image"), func(d *decoder, st *Stage, n *node) {
		if n.kind != kindTable {
			d.wrongType(n, "image", "a table")
			return
		}
		st.Image = &Image{Header: n.key}
		decodeTable(d, n, fmt.Sprintf("the image of stage %q", st.Name), st.Image, imageFields)
	}},
}

func (d *decoder) decode(root *node, s *Spec) {
	decodeTable(d, root, "the top level", s, specFields)
}

func (d *decoder) stage(name string, t *node) *Stage {
	st := &Stage{Name: name, Header: t.rng, Range: t.rng, Description: d.description(t.rng)}
	st.Header.End = t.key.End
	decodeTable(d, t, fmt.Sprintf("stage %q", name), st, stageFields)
	return st
}

// stepVerbs are the keys that say what a step does, in the order messages
// list them; verbs maps each to its kind.
var (
	stepVerbs       = []string{"run", "copy", "add", "file"}
	verbs           = map[string]StepKind{"run": StepRun, "copy": StepCopy, "add": StepAdd, "file": StepFile}
	stepDescription = "A step: exactly one of " + strings.Join(stepVerbs, ", ") + "."
)

// stepKey is one key of a step table: the verbs it applies to and how it
// is decoded. stepFields is the one table of them.
type stepKey struct {
	name   string
	verbs  []StepKind
	schema prop
	decode func(d *decoder, s *Step, n *node)
}

var (
	onRun     = []StepKind{StepRun}
	onCopy    = []StepKind{StepCopy}
	onAdd     = []StepKind{StepAdd}
	onFile    = []StepKind{StepFile}
	onCopyAdd = []StepKind{StepCopy, StepAdd}
	onWriting = []StepKind{StepCopy, StepAdd, StepFile}
)

var stepFields = []stepKey{
	{"run", onRun, prop{"description": "A shell-form command (string) or an exec-form one (array).", "oneOf": []any{prop{"type": "string"}, prop{"type": "array", "items": prop{"type": "string"}}}}, func(d *decoder, s *Step, n *node) {
		switch n.kind {
		case kindString:
			s.Command = String{Value: n.str, Loc: loc(n)}
		case kindArray:
			s.IsExec = true
			d.strs(&s.Exec, "run", false, n)
		default:
			d.wrongType(n, "run", "a string (shell form) or an array of strings (exec form)")
		}
	}},
	{"copy", onCopy, strOrList("Sources to copy: paths (globs allowed) in the build context, or in from."), func(d *decoder, s *Step, n *node) { d.strs(&s.Sources, "copy", true, n) }},
	{"add", onAdd, strOrList("Sources to add: local paths (archives unpacked), http(s) URLs or git URLs."), func(d *decoder, s *Step, n *node) { d.strs(&s.Sources, "add", true, n) }},
	{"file", onFile, str("A file the build writes (COPY <<EOF): its path, relative to the stage's workdir."), func(d *decoder, s *Step, n *node) { d.str(&s.Path, "file", n) }},
	{"content", onFile, str("file: the file's content, byte for byte."), func(d *decoder, s *Step, n *node) { d.str(&s.Content, "content", n) }},
	{"expand", onFile, boolean("file: expand ${VAR} in content (an unquoted heredoc); false keeps $ literal.", false), func(d *decoder, s *Step, n *node) { d.boolean(&s.Expand, "expand", n) }},
	{"caches", onRun, strList("run: caches mounted on this step."), func(d *decoder, s *Step, n *node) { d.strs(&s.Caches, "caches", false, n) }},
	{"mounts", onRun, prop{"type": "array", "description": "run: mounts, as RUN --mount.", "items": prop{"$ref": "#/definitions/mount"}}, func(d *decoder, s *Step, n *node) { s.Mounts = d.mounts(n) }},
	{"devices", onRun, prop{"type": "array", "description": `run: CDI devices the step gets (RUN --device): "vendor.com/class=name", or a table to make one optional.`, "items": prop{"oneOf": []any{prop{"type": "string"}, prop{"$ref": "#/definitions/device"}}}}, func(d *decoder, s *Step, n *node) { s.Devices = d.devices(n) }},
	{"network", onRun, strEnum("run: the network of the step.", networkModes...), func(d *decoder, s *Step, n *node) { d.str(&s.Network, "network", n) }},
	{"security", onRun, strEnum("run: insecure needs --allow security.insecure.", securityModes...), func(d *decoder, s *Step, n *node) { d.str(&s.Security, "security", n) }},
	{"env", onRun, strTable("run: environment of this step."), func(d *decoder, s *Step, n *node) { d.keyValues(&s.Env, "env", n) }},
	{"workdir", onRun, str("run: working directory of this step."), func(d *decoder, s *Step, n *node) { d.str(&s.Workdir, "workdir", n) }},
	{"user", onRun, str("run: user of this step."), func(d *decoder, s *Step, n *node) { d.str(&s.User, "user", n) }},
	{"from", onCopy, str(`copy: a stage, an image ref or "context:NAME" to copy from.`), func(d *decoder, s *Step, n *node) { d.str(&s.From, "from", n) }},
	{"to", onCopyAdd, str("copy, add: the destination; a trailing / means into that directory."), func(d *decoder, s *Step, n *node) { d.str(&s.To, "to", n) }},
	{"chown", onWriting, str("copy, add, file: owner of the files written, user[:group]."), func(d *decoder, s *Step, n *node) { d.str(&s.Chown, "chown", n) }},
	{"chmod", onWriting, str("copy, add, file: mode of the files written, " + modeDesc + "; a file step's default is 0644."), func(d *decoder, s *Step, n *node) { d.str(&s.Chmod, "chmod", n) }},
	{"link", onCopyAdd, boolean("copy, add: copy into an independent layer (COPY --link).", false), func(d *decoder, s *Step, n *node) { d.boolean(&s.Link, "link", n) }},
	{"parents", onCopy, boolean("copy: keep each source's directories under to (COPY --parents); a /./ in a source marks where the kept part starts.", false), func(d *decoder, s *Step, n *node) { d.boolean(&s.Parents, "parents", n) }},
	{"exclude", onCopyAdd, strList("copy, add: patterns of sources not copied."), func(d *decoder, s *Step, n *node) { d.strs(&s.Exclude, "exclude", false, n) }},
	{"checksum", onAdd, str("add: digest of an http(s) download, or the commit of a git source."), func(d *decoder, s *Step, n *node) { d.str(&s.Checksum, "checksum", n) }},
	{"keep_git_dir", onAdd, boolean("add: keep the .git directory of a git source.", false), func(d *decoder, s *Step, n *node) { d.boolean(&s.KeepGitDir, "keep_git_dir", n) }},
	{"unpack", onAdd, prop{"type": "boolean", "description": "add: unpack archives. Default: true for local archives, false for downloads."}, func(d *decoder, s *Step, n *node) { d.boolean(&s.Unpack, "unpack", n) }},
}

func (d *decoder) step(stage string, index int, t *node) *Step {
	s := &Step{Range: t.rng}
	what := func() string { return fmt.Sprintf("step %d of stage %q", index, stage) }

	var found []string
	for _, k := range t.keys {
		if kind, ok := verbs[k]; ok {
			found = append(found, k)
			s.Kind = kind
		}
	}
	switch len(found) {
	case 0:
		d.at(t.rng, "%s has no verb: a step needs exactly one of %s", what(), strings.Join(stepVerbs, ", "))
	case 1:
	default:
		s.Kind = 0
		d.at(t.fields[found[1]].key, "%s has both %q and %q: a step needs exactly one of %s; split it into two steps", what(), found[0], found[1], strings.Join(stepVerbs, ", "))
	}

	for _, k := range t.keys {
		v := t.fields[k]
		i := slices.IndexFunc(stepFields, func(s stepKey) bool { return s.name == k })
		var key stepKey
		if i >= 0 {
			key = stepFields[i]
		}
		switch {
		case i < 0:
			d.unknownKey(v.key, k, what(), namesOf(stepFields))
		case s.Kind != 0 && !slices.Contains(key.verbs, s.Kind):
			names := make([]string, len(key.verbs))
			for i, kind := range key.verbs {
				names[i] = kind.String()
			}
			list := names[len(names)-1]
			if len(names) > 1 {
				list = strings.Join(names[:len(names)-1], ", ") + " and " + list
			}
			d.at(v.key, "%q applies to %s steps only, not to %s steps", k, list, s.Kind)
		default:
			key.decode(d, s, v)
		}
	}
	return s
}

func (d *decoder) mounts(n *node) []*Mount {
	if n.kind != kindArray {
		d.wrongType(n, "mounts", "an array of tables")
		return nil
	}
	out := make([]*Mount, 0, len(n.items))
	for i, it := range n.items {
		if it.kind != kindTable {
			d.at(it.rng, "mount %d must be a table, found %s", i+1, it.kind)
			continue
		}
		m := &Mount{Range: it.rng}
		decodeTable(d, it, "mount "+strconv.Itoa(i+1), m, mountFields)
		out = append(out, m)
	}
	return out
}

// devices decodes a run step's devices: each a name, or a table of one.
func (d *decoder) devices(n *node) []*Device {
	if n.kind != kindArray {
		d.wrongType(n, "devices", `an array of device names, e.g. ["vendor.com/gpu=all"]`)
		return nil
	}
	out := make([]*Device, 0, len(n.items))
	for i, it := range n.items {
		dev := &Device{Range: it.rng, Required: Bool{Value: true}}
		switch it.kind {
		case kindString:
			d.str(&dev.Name, "devices", it)
		case kindTable:
			decodeTable(d, it, "device "+strconv.Itoa(i+1), dev, deviceFields)
			if !dev.Name.Loc.Present() {
				d.at(it.rng, "device %d has no name: set name, e.g. name = \"vendor.com/gpu=all\"", i+1)
			}
		default:
			d.at(it.rng, "device %d must be a name or a table, found %s", i+1, it.kind)
			continue
		}
		out = append(out, dev)
	}
	return out
}

var deviceFields = fields[Device]{
	{"name", str(`The CDI device: "vendor.com/class=name", or "vendor.com/class" for all of its devices.`), func(d *decoder, dev *Device, n *node) { d.str(&dev.Name, "name", n) }},
	{"required", boolean("Fail the step when the builder lacks the device; false runs it without.", true), func(d *decoder, dev *Device, n *node) { d.boolean(&dev.Required, "required", n) }},
}

var imageFields = fields[Image]{
	{"entrypoint", strList("ENTRYPOINT, exec form."), func(d *decoder, img *Image, n *node) { d.strs(&img.Entrypoint, "entrypoint", false, n) }},
	{"cmd", strList("CMD, exec form."), func(d *decoder, img *Image, n *node) { d.strs(&img.Cmd, "cmd", false, n) }},
	{"user", str("The user the container runs as."), func(d *decoder, img *Image, n *node) { d.str(&img.User, "user", n) }},
	{"expose", strList(`Ports: "PORT", "PORT/PROTOCOL" or "FROM-TO[/PROTOCOL]".`), func(d *decoder, img *Image, n *node) { d.strs(&img.Expose, "expose", false, n) }},
	{"volumes", strList("Volume paths."), func(d *decoder, img *Image, n *node) { d.strs(&img.Volumes, "volumes", false, n) }},
	{"labels", strTable("Labels of the image."), func(d *decoder, img *Image, n *node) { d.keyValues(&img.Labels, "labels", n) }},
	{"stop_signal", str(`The signal that stops the container, e.g. "SIGTERM".`), func(d *decoder, img *Image, n *node) { d.str(&img.StopSignal, "stop_signal", n) }},
	{"author", str("The image's author field (the Dockerfile's MAINTAINER, deprecated there: prefer the label org.opencontainers.image.authors)."), func(d *decoder, img *Image, n *node) { d.str(&img.Author, "author", n) }},
	{"healthcheck", ref("HEALTHCHECK.", "healthcheck"), func(d *decoder, img *Image, n *node) {
		if n.kind != kindTable {
			d.wrongType(n, "healthcheck", "a table")
			return
		}
		img.Healthcheck = &Healthcheck{Range: n.rng}
		decodeTable(d, n, "healthcheck", img.Healthcheck, healthcheckFields)
	}},
}

var healthcheckFields = fields[Healthcheck]{
	{"test", prop{"type": "array", "description": `["CMD", exe, args...], ["CMD-SHELL", "command"] or ["NONE"].`, "items": prop{"type": "string"}, "minItems": 1}, func(d *decoder, h *Healthcheck, n *node) { d.strs(&h.Test, "test", false, n) }},
	{"interval", str(`Time between checks, e.g. "30s".`), func(d *decoder, h *Healthcheck, n *node) { d.str(&h.Interval, "interval", n) }},
	{"timeout", str(`Time a check may take, e.g. "5s".`), func(d *decoder, h *Healthcheck, n *node) { d.str(&h.Timeout, "timeout", n) }},
	{"start_period", str("Time to start before failures count."), func(d *decoder, h *Healthcheck, n *node) { d.str(&h.StartPeriod, "start_period", n) }},
	{"start_interval", str("Time between checks during the start period."), func(d *decoder, h *Healthcheck, n *node) { d.str(&h.StartInterval, "start_interval", n) }},
	{"retries", integer("Consecutive failures that make the container unhealthy.", 0, 1<<31-1), func(d *decoder, h *Healthcheck, n *node) { d.integer(&h.Retries, "retries", n) }},
}
