// Package convert turns a Dockerfile into a tomlfront spec meant to build the
// same image. It reads the Dockerfile with BuildKit's own parser and
// instructions packages and writes TOML text, checked by loading it through
// package pipeline, as every door loads a spec. It describes a build and
// never runs one: it must not import frontend, nor anything that talks to a
// daemon.
package convert

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/tomlfront/tomlfront/lint"
	"github.com/tomlfront/tomlfront/pipeline"
	"github.com/tomlfront/tomlfront/spec"
)

// DefaultSyntax is the frontend image a converted spec's `# syntax=` line
// names, as the examples do.
const DefaultSyntax = "ghcr.io/tomlfront/tomlfront:1"

// Options tune a conversion.
type Options struct {
	// Syntax is the frontend image the spec's `# syntax=` line names.
	Syntax string
	// BuildArgs replace the defaults of the Dockerfile's ARGs (and declare
	// those it lacks), as --build-arg would in a build.
	BuildArgs map[string]string
	// KeepGoing writes what has no equivalent as a `# TODO` comment at its
	// place instead of failing.
	KeepGoing bool
}

// Problems are the Dockerfile constructs a conversion could not express,
// each a spec.Error at its place in the Dockerfile.
type Problems struct{ spec.Errors }

// Convert converts the Dockerfile src, named file in messages. Without
// KeepGoing, any construct that has no equivalent fails the conversion with
// Problems; with it, the spec is written with a TODO at each.
func Convert(file string, src []byte, opt Options) ([]byte, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, linter.New(&linter.Config{}))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	c := &converter{file: file, out: &model{}, names: map[string]string{}, cacheFor: map[string]string{}}
	c.lint(src)
	c.globalArgs(metaArgs)
	c.ownDefaults = argsWithOwnDefaults(stages, c.out)
	for i, st := range stages {
		c.stage(i, st)
	}
	for _, name := range slices.Sorted(maps.Keys(opt.BuildArgs)) {
		if a := c.out.arg(name); a != nil {
			a.value = opt.BuildArgs[name]
		} else if !spec.IsPlatformArg(name) {
			c.out.args = append(c.out.args, &arg{name: name, value: opt.BuildArgs[name]})
		}
	}
	if len(c.problems) > 0 && !opt.KeepGoing {
		c.problems.Sort()
		return nil, Problems{c.problems}
	}
	dt := c.out.render(opt.Syntax)
	// The pipeline every door takes: the spec must load. Its lint policy
	// and the Dockerfile's required values are for its builds to judge.
	// Nothing here blocks (no file to read, nothing to resolve), so no ctx.
	load := func(dt []byte) (*pipeline.Result, error) {
		p, err := pipeline.Run(context.Background(), pipeline.Request{File: "build.toml", Source: dt, Offline: true})
		if err == nil && p.Spec == nil {
			err = p.Err()
		}
		return p, err
	}
	p, err := load(dt)
	if err == nil && len(p.Spec.InheritedVars()) > 0 {
		// The names the Dockerfile reads from its base image's env, where
		// a Dockerfile gives an empty string when it lacks them.
		dt = emptyIfUnset(dt, p.Spec.InheritedVars())
		_, err = load(dt)
	}
	if err != nil && !opt.KeepGoing {
		return nil, fmt.Errorf("%s: the converted spec does not load, which is a bug of tomlfront convert; please report it with the Dockerfile:\n%w", file, err)
	}
	return dt, nil
}

type converter struct {
	file     string
	out      *model
	names    map[string]string // Dockerfile stage names and indexes → spec stage names
	problems spec.Errors
	todo     []string          // TODOs for the next step or table written
	cacheFor map[string]string // cache mount keys → the cache declared for them
	// ownDefaults are the args whose stages give them different defaults
	// (argsWithOwnDefaults); defaults, for those the stage being converted
	// gives a default, how its values read them: ${NAME:-DEFAULT}.
	ownDefaults map[string]bool
	defaults    map[string]string
}

// problem records what cannot be expressed at loc.
func (c *converter) problem(loc []parser.Range, format string, args ...any) {
	at := spec.Pos{Line: 1, Column: 1}
	if len(loc) > 0 {
		at = spec.Pos{Line: loc[0].Start.Line, Column: loc[0].Start.Character + 1}
	}
	p := &spec.Error{File: c.file, Pos: at, Range: spec.Range{Start: at, End: at}, Msg: fmt.Sprintf(format, args...)}
	c.problems = append(c.problems, p)
	c.todo = append(c.todo, fmt.Sprintf("TODO(tomlfront convert): %s:%d: %s", c.file, at.Line, p.Msg))
}

// lint maps the `# check=` directive to [lint].
func (c *converter) lint(src []byte) {
	val, _, rng, ok := parser.ParseDirective("check", src)
	if !ok {
		return
	}
	check, err := lint.ParseDockerfileCheck(val)
	if err != nil {
		c.problem(rng, "invalid check directive: %v", err)
		return
	}
	// Only the rules that correspond to the Dockerfile's: error=true must
	// not make tomlfront's own rules fatal for a spec whose Dockerfile
	// passed every check it had.
	l := &lintTable{skip: check.Skip, errors: check.Error}
	for _, name := range check.Unmatched {
		l.comments = append(l.comments, fmt.Sprintf("the Dockerfile skipped its rule %s, which tomlfront lint does not have", name))
	}
	c.out.lint = l
}

// globalArgs declares the ARGs before the first FROM. One declared again
// with another default (ARG V=${V:+x}) gives the earlier value another
// name, which the new default and the args in between read: a spec's arg
// has one default, and the stages read the last.
func (c *converter) globalArgs(args []instructions.ArgCommand) {
	for _, cmd := range args {
		for _, a := range cmd.Args {
			if spec.IsPlatformArg(a.Key) || unreadable(a) {
				continue
			}
			value := vars(a.ValueString())
			existing := c.out.arg(a.Key)
			switch {
			case existing == nil:
			case a.Value == nil || value == existing.value:
				continue
			default:
				earlier := c.unusedArgName(a.Key)
				from := slices.Index(c.out.args, existing)
				existing.name = earlier
				for _, later := range c.out.args[from+1:] {
					later.value = renameVar(later.value, a.Key, earlier)
				}
				value = renameVar(value, a.Key, earlier)
			}
			c.out.args = append(c.out.args, &arg{name: a.Key, value: value, comments: cmd.Comments()})
		}
	}
}

// unusedArgName is NAME_1, NAME_2, ...: the first no arg has.
func (c *converter) unusedArgName(name string) string {
	for i := 1; ; i++ {
		if n := name + "_" + strconv.Itoa(i); c.out.arg(n) == nil {
			return n
		}
	}
}

// renameVar makes a spec value read the variable to where it read from
// (vars has written every use as ${from...}).
func renameVar(value, from, to string) string {
	return regexp.MustCompile(`\$\{`+regexp.QuoteMeta(from)+`([}:#%/+?-])`).ReplaceAllString(value, "$${"+to+"$1")
}

// stage converts one FROM and its instructions into one spec stage, or
// several when ENV, ARG, WORKDIR, USER or SHELL come after a step: the
// spec's stage-wide keys apply to every step, so each such change starts a
// stage `from` the one before.
func (c *converter) stage(index int, st instructions.Stage) {
	name := st.Name
	switch {
	case name == "":
		name = fmt.Sprintf("stage-%d", index)
	case strings.EqualFold(name, "scratch"):
		// A spec's "scratch" is the empty image; the Dockerfile's stage of
		// that name is the one its later FROM and --from name.
		name = "scratch-stage"
	}
	c.defaults = map[string]string{}
	s := &stage{name: name, comments: st.Comments, from: vars(st.BaseName)}
	for _, a := range c.out.args {
		if a.value == "" && !a.fromStage && readsAny(s.from, map[string]bool{a.name: true}) != "" {
			a.required = true // FROM ${BASE} without a default: the build must give it
		}
	}
	if base := c.names[strings.ToLower(st.BaseName)]; base != "" {
		s.from = base
	} else if !strings.Contains(st.BaseName, "$") && !strings.EqualFold(st.BaseName, "scratch") {
		if err := spec.CheckImageRef(st.BaseName); err != nil {
			c.problem(st.Location, "FROM %v: BuildKit refuses it too; name an image or a stage", err)
			s.todo, c.todo = c.todo, nil
		}
	}
	s.platform = vars(st.Platform)
	c.out.stages = append(c.out.stages, s)
	segments := 1
	cur := s
	// A new stage segment starts where a stage-wide setting changes after a
	// step, and (always) where an ENV sets a key the segment's env already
	// has: its value reads the earlier one from the segment it builds on,
	// as the Dockerfile's ENV reads the env before it.
	splitAt := func(always bool) {
		if len(cur.steps) == 0 && !always {
			return
		}
		cur.name = fmt.Sprintf("%s.%d", name, segments)
		next := &stage{name: name, from: cur.name, args: slices.Clone(cur.args)}
		c.out.stages = append(c.out.stages, next)
		segments++
		cur = next
	}
	split := func() { splitAt(false) }
	for _, cmd := range st.Commands {
		switch cmd := cmd.(type) {
		case *instructions.EnvCommand:
			splitAt(slices.ContainsFunc(cmd.Env, func(kv instructions.KeyValuePair) bool { return cur.envIndex(kv.Key) >= 0 }))
			set := map[string]bool{}
			for _, kv := range cmd.Env {
				if name := readsAny(kv.Value, set); name != "" {
					// The Dockerfile reads the value before this ENV; the spec,
					// the entry written above.
					c.problem(cmd.Location(), "ENV %s reads $%s, which the same ENV sets: the Dockerfile reads its value from before this ENV, a spec the new one; set %s in an ENV of its own", kv.Key, name, kv.Key)
				}
				set[kv.Key] = true
				if i := cur.envIndex(kv.Key); i >= 0 { // set twice by this ENV: the last wins
					cur.env[i].value = c.word(kv.Value)
				} else {
					cur.env = append(cur.env, kvPair{kv.Key, c.word(kv.Value)})
				}
			}
		case *instructions.ArgCommand:
			split()
			c.stageArgs(cur, cmd)
		case *instructions.WorkdirCommand:
			split()
			if cur.workdir != "" && !path.IsAbs(cmd.Path) {
				cur.workdir = path.Join(cur.workdir, c.word(cmd.Path))
			} else {
				cur.workdir = c.word(cmd.Path)
			}
		case *instructions.UserCommand:
			split()
			cur.user = c.word(cmd.User)
		case *instructions.ShellCommand:
			split()
			cur.shell = cmd.Shell
		case *instructions.RunCommand:
			c.run(cur, cmd)
		case *instructions.CopyCommand:
			c.copy(cur, cmd)
		case *instructions.AddCommand:
			c.add(cur, cmd)
		case *instructions.CmdCommand:
			cur.image.fields().set("cmd", tomlStrings(c.shellForm(cur, cmd.ShellDependantCmdLine)))
		case *instructions.EntrypointCommand:
			cur.image.fields().set("entrypoint", tomlStrings(c.shellForm(cur, cmd.ShellDependantCmdLine)))
		case *instructions.ExposeCommand:
			for _, p := range cmd.Ports {
				cur.image.expose = append(cur.image.expose, c.word(p))
			}
		case *instructions.VolumeCommand:
			for _, v := range cmd.Volumes {
				cur.image.volumes = append(cur.image.volumes, c.word(v))
			}
		case *instructions.LabelCommand:
			for _, kv := range cmd.Labels {
				cur.image.labels = append(cur.image.labels, kvPair{kv.Key, c.word(kv.Value)})
			}
		case *instructions.MaintainerCommand:
			cur.image.fields().str("author", literal(cmd.Maintainer)) // MAINTAINER expands nothing
		case *instructions.StopSignalCommand:
			cur.image.fields().str("stop_signal", c.word(cmd.Signal))
		case *instructions.HealthCheckCommand:
			cur.image.health = healthcheck(cmd)
		case *instructions.OnbuildCommand:
			c.problem(cmd.Location(), "ONBUILD has no equivalent in a spec: a spec builds its own image, nothing runs when another build uses it; do what ONBUILD does in the stages that build from this image")
		default:
			c.problem(cmd.Location(), "%s has no equivalent in a spec", strings.ToUpper(cmd.Name()))
		}
		if len(c.todo) > 0 && len(cur.steps) > 0 {
			last := cur.steps[len(cur.steps)-1]
			last.todo = append(last.todo, c.todo...)
		} else if len(c.todo) > 0 {
			cur.todo = append(cur.todo, c.todo...)
		}
		c.todo = nil
	}
	c.names[strings.ToLower(st.Name)] = name
	c.names[strconv.Itoa(index)] = name
}

// stageArgs declares a stage's ARGs: its run steps see them, and a default
// becomes the arg's default in [args].
// unreadable tells an ARG that nothing can read: a name ${...} cannot
// spell, without a default, so a build sets it nowhere unless a
// --build-arg does (ARG X=1 # a comment declares "#", "a" and "comment").
func unreadable(a instructions.KeyValuePairOptional) bool {
	return a.Value == nil && !spec.IsArgName(a.Key)
}

func (c *converter) stageArgs(s *stage, cmd *instructions.ArgCommand) {
	for _, a := range cmd.Args {
		if unreadable(a) {
			continue
		}
		if c.ownDefaults[a.Key] {
			c.ownDefault(s, a)
			continue
		}
		if !slices.Contains(s.args, a.Key) {
			s.args = append(s.args, a.Key)
		}
		if spec.IsPlatformArg(a.Key) {
			continue
		}
		existing := c.out.arg(a.Key)
		switch {
		case existing == nil:
			c.out.args = append(c.out.args, &arg{name: a.Key, value: vars(a.ValueString()), comments: cmd.Comments()})
		case a.Value != nil && vars(*a.Value) != existing.value:
			if existing.value == "" && !existing.fromStage {
				existing.value = vars(*a.Value)
			} else {
				c.problem(cmd.Location(), "ARG %s has the default %q here and %q elsewhere: a spec's arg has one default; pick one, or rename one of them", a.Key, *a.Value, existing.value)
			}
		}
		if existing := c.out.arg(a.Key); existing != nil {
			existing.fromStage = true
		}
	}
}

// argsWithOwnDefaults finds the args that stages declare with different
// defaults (ARG UID=1000 in one, ARG UID=0 in another) and no global ARG
// gives a default: a spec's arg has one default, so each is declared
// empty, with a comment, and each stage that gives it a default reads it
// as ${NAME:-DEFAULT}. That is the Dockerfile's value but for a build that
// sets it empty (--build-arg UID=), where the stage's default wins.
func argsWithOwnDefaults(stages []instructions.Stage, out *model) map[string]bool {
	var names []string // in the order the Dockerfile first gives them a default
	defaults := map[string][]string{}
	for _, st := range stages {
		for _, cmd := range st.Commands {
			if cmd, ok := cmd.(*instructions.ArgCommand); ok {
				for _, a := range cmd.Args {
					if a.Value == nil || slices.Contains(defaults[a.Key], *a.Value) {
						continue
					}
					if defaults[a.Key] == nil {
						names = append(names, a.Key)
					}
					defaults[a.Key] = append(defaults[a.Key], *a.Value)
				}
			}
		}
	}
	own := map[string]bool{}
	for _, name := range names {
		values, a := defaults[name], out.arg(name)
		if len(values) > 1 && !spec.IsPlatformArg(name) && (a == nil || a.value == "") {
			own[name] = true
			if a == nil {
				a = &arg{name: name}
				out.args = append(out.args, a)
			}
			a.comments = append(a.comments,
				fmt.Sprintf("%s has a default of its own in each stage that declares it (%s); a spec's arg has one, so those stages read ${%s:-DEFAULT}", name, strings.Join(values, ", "), name))
		}
	}
	return own
}

// ownDefault declares, in stage s, an arg of argsWithOwnDefaults: with a
// default, the stage's values read it as ${NAME:-DEFAULT} and its run steps
// get it in their env; without, the run steps see the arg itself.
func (c *converter) ownDefault(s *stage, a instructions.KeyValuePairOptional) {
	if a.Value != nil {
		c.defaults[a.Key] = "${" + a.Key + ":-" + c.word(*a.Value) + "}" // the default may read another such arg
		s.args = slices.DeleteFunc(s.args, func(n string) bool { return n == a.Key })
	} else if _, ok := c.defaults[a.Key]; !ok && !slices.Contains(s.args, a.Key) {
		s.args = append(s.args, a.Key)
	}
}

// word is vars for a value of the stage being converted: the args it gives
// a default of its own read it (argsWithOwnDefaults).
func (c *converter) word(s string) string {
	s = vars(s)
	for _, name := range slices.Sorted(maps.Keys(c.defaults)) {
		s = strings.ReplaceAll(s, "${"+name+"}", c.defaults[name])
	}
	return s
}

// ownDefaultsEnv is the env a run step gets for the args its stage gives a
// default of its own: the Dockerfile's RUN sees the stage's value.
func (c *converter) ownDefaultsEnv() []kvPair {
	var env []kvPair
	for _, name := range slices.Sorted(maps.Keys(c.defaults)) {
		env = append(env, kvPair{name, c.defaults[name]})
	}
	return env
}

// varPattern finds $NAME, which the spec writes ${NAME}.
var varPattern = regexp.MustCompile(`(^|[^\\$])\$([A-Za-z_][A-Za-z0-9_]*)`)

// readsAny returns a name of names that the word reads ($NAME or ${NAME...}).
func readsAny(word string, names map[string]bool) string {
	for _, m := range readPattern.FindAllStringSubmatch(word, -1) {
		if name := m[1] + m[2]; names[name] {
			return name
		}
	}
	return ""
}

var readPattern = regexp.MustCompile(`\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*))`)

// vars rewrites a Dockerfile word into a spec value: its quotes removed as
// the Dockerfile's shell-like word rules remove them, and $NAME written
// ${NAME}. A single-quoted $ stays literal, escaped.
func vars(s string) string {
	s = unquote(s)
	for {
		out := varPattern.ReplaceAllString(s, "${1}$${${2}}")
		if out == s {
			return out
		}
		s = out // overlapping matches: $A$B
	}
}

// emptyIfUnset rewrites, in the spec text dt, each plain use of a variable
// that the spec declares nowhere (${NAME} or $NAME, not escaped) as
// ${NAME:-}: what a Dockerfile gives for a name its base image's env may
// lack, without the error a spec's plain ${NAME} is when a build finds it
// nowhere.
func emptyIfUnset(dt []byte, uses []spec.InheritedVar) []byte {
	lines := []int{0}
	for i, b := range dt {
		if b == '\n' {
			lines = append(lines, i+1)
		}
	}
	offset := func(p spec.Pos) int { return lines[p.Line-1] + p.Column - 1 }
	names := map[spec.Range][]string{}
	for _, u := range uses {
		names[u.At] = append(names[u.At], u.Name)
	}
	ranges := slices.SortedFunc(maps.Keys(names), func(a, b spec.Range) int { return offset(b.Start) - offset(a.Start) })
	for _, r := range ranges {
		start, end := offset(r.Start), offset(r.End)
		value := string(dt[start:end])
		for _, name := range names[r] {
			value = emptyIfUnsetIn(value, name)
		}
		dt = slices.Concat(dt[:start], []byte(value), dt[end:])
	}
	return dt
}

// emptyIfUnsetIn rewrites the plain uses of name in the TOML text of one
// value: ${name}, or $name not followed by a name character, where the $
// is not escaped (a TOML basic string writes the escaping backslash \\).
func emptyIfUnsetIn(value, name string) string {
	var b strings.Builder
	for i := 0; i < len(value); i++ {
		rest := value[i:]
		escaped := strings.HasSuffix(value[:i], `\\`)
		braced := "${" + name + "}"
		switch {
		case rest[0] != '$' || escaped:
		case strings.HasPrefix(rest, braced):
			b.WriteString("${" + name + ":-}")
			i += len(braced) - 1
			continue
		case strings.HasPrefix(rest[1:], name) && (len(rest) == 1+len(name) || !spec.IsNameChar(rest[1+len(name)])):
			b.WriteString("${" + name + ":-}")
			i += len(name)
			continue
		}
		b.WriteByte(value[i])
	}
	return b.String()
}

// literal writes s as a spec value that expands to s itself: in a value
// with a $, a backslash escapes the next character.
func literal(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `$`, `\$`).Replace(s)
}

// unquote removes the quotes of a word: "..." (where \ escapes " \ and $)
// and '...' (literal). Other backslashes stay, as escapes the spec reads too.
func unquote(word string) string {
	if !strings.ContainsAny(word, `"'`) {
		return word
	}
	var b strings.Builder
	var quote rune
	escaped := false
	for _, r := range word {
		switch {
		case escaped:
			if quote == '"' && !strings.ContainsRune(`"\$`, r) {
				b.WriteRune('\\')
			}
			if r == '$' {
				b.WriteRune('\\')
			}
			b.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped = true
		case quote == 0 && (r == '"' || r == '\''):
			quote = r
		case r == quote:
			quote = 0
		case quote == '\'' && r == '$':
			b.WriteString(`\$`)
		default:
			b.WriteRune(r)
		}
	}
	if escaped {
		b.WriteRune('\\')
	}
	return b.String()
}

// shellForm is CMD or ENTRYPOINT as the Dockerfile stores it in the image
// config: exec form as written, shell form run by the stage's shell.
func (c *converter) shellForm(s *stage, cmd instructions.ShellDependantCmdLine) []string {
	if !cmd.PrependShell {
		return cmd.CmdLine
	}
	shell := c.shellOf(s)
	return append(slices.Clone(shell), strings.Join(cmd.CmdLine, " "))
}

// shellOf is the shell a stage's shell-form commands use: its SHELL, one
// inherited from a stage of this Dockerfile, else /bin/sh -c.
func (c *converter) shellOf(s *stage) []string {
	for cur, depth := s, 0; cur != nil && depth < len(c.out.stages); cur, depth = c.out.stage(cur.from), depth+1 {
		if len(cur.shell) > 0 {
			return cur.shell
		}
	}
	return []string{"/bin/sh", "-c"}
}

func healthcheck(cmd *instructions.HealthCheckCommand) values {
	h := cmd.Health
	v := values{}
	v.list("test", h.Test)
	for _, d := range []struct {
		key string
		d   time.Duration
	}{{"interval", h.Interval}, {"timeout", h.Timeout}, {"start_period", h.StartPeriod}, {"start_interval", h.StartInterval}} {
		if d.d != 0 {
			v.str(d.key, d.d.String())
		}
	}
	if h.Retries != 0 {
		v.set("retries", strconv.Itoa(h.Retries))
	}
	return v
}
