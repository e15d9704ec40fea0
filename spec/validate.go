package spec

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/dfgitutil"
)

var (
	namePattern    = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)
	argPattern     = regexp.MustCompile(argPatternJSON)
	commitPattern  = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)
	exposePattern  = regexp.MustCompile(`^[0-9]+(-[0-9]+)?(/(tcp|udp|sctp))?$`)
	networkModes   = []string{"default", "none", "host"}
	securityModes  = []string{"sandbox", "insecure"}
	healthcheckCmd = []string{"NONE", "CMD", "CMD-SHELL"}
)

// validator checks the rules between values of a decoded spec.
type validator struct {
	problems
	spec *Spec
	args *Vars           // declared and platform args, for variable checks
	refs map[string]bool // names used by ${...} in the table being checked
	// stageName is the stage being checked, for its inherited variables
	stageName string
}

func (v *validator) validate() {
	s := v.spec
	if s.Version.Loc.Present() && s.Version.Value != 1 {
		v.at(s.Version.Loc.Value, "unsupported version %d: the only version is 1", s.Version.Value)
	}
	v.args = NewVars()
	for _, a := range PlatformArgs {
		v.args.Set(a, "x")
	}
	v.refs = map[string]bool{}
	for _, a := range s.Args {
		if !argPattern.MatchString(a.Name) {
			v.at(a.Key, "invalid arg name %q: use letters, digits and _, not starting with a digit", a.Name)
		}
		if IsPlatformArg(a.Name) {
			v.at(a.Key, "arg %q is a platform arg, set from --platform; it cannot be declared", a.Name)
		}
		if a.Required.Value && a.Value.Loc.Present() {
			v.at(a.Required.Loc.Value, "arg %q is required and has a default: a required arg has no default (drop one of them)", a.Name)
		}
		v.checkVars(a.Value, v.args) // a default sees the args above it
		v.args.Set(a.Name, "x")
	}
	s.argRefs = v.refs
	for _, c := range s.Contexts {
		v.context(c)
	}
	for _, c := range s.Caches {
		v.refs = map[string]bool{}
		v.cache(c)
		c.Refs = sortedKeys(v.refs)
	}
	if len(s.Stages) == 0 {
		v.at(Range{Start: Pos{1, 1}, End: Pos{1, 1}}, "no stages: a spec needs at least one [stages.NAME] table with a `from`")
	}
	for _, st := range s.Stages {
		v.refs = map[string]bool{}
		v.stageName = st.Name
		v.stage(st)
		for _, a := range st.Args.Values {
			v.refs[a.Value] = true
		}
		st.Refs = sortedKeys(v.refs)
	}
	if s.Default.Loc.Present() && s.stages[s.Default.Value] == nil {
		v.at(s.Default.Loc.Value, "default names unknown stage %q%s; stages: %s", s.Default.Value, DidYouMean(s.Default.Value, v.spec.StageNames()), strings.Join(v.spec.StageNames(), ", "))
	}
	v.cycles()
}

func (v *validator) cacheNames() []string {
	names := PresetNames()
	for _, c := range v.spec.Caches {
		names = append(names, c.Name)
	}
	return names
}

func (v *validator) cache(c *Cache) {
	what := fmt.Sprintf("cache %q", c.Name)
	if !namePattern.MatchString(c.Name) {
		v.at(c.Header, "invalid cache name %q: names are lowercase letters, digits, '_', '.' and '-', starting with a letter", c.Name)
	}
	for _, s := range []String{c.Target, c.Sharing, c.ID, c.Mode, c.From, c.Source, c.Preset} {
		v.checkVars(s, v.args)
	}
	if c.Preset.Loc.Present() {
		p, ok := Presets[c.Preset.Value]
		if !ok {
			v.at(c.Preset.Loc.Value, "unknown preset %q%s; presets: %s", c.Preset.Value, DidYouMean(c.Preset.Value, PresetNames()), strings.Join(PresetNames(), ", "))
		} else if c.Target.Loc.Present() && len(p.Dirs) > 1 {
			v.at(c.Target.Loc.Key, "preset %q mounts %d directories, so `target` cannot replace them; declare a cache without a preset instead", p.Name, len(p.Dirs))
		}
	} else if !c.Target.Loc.Present() {
		v.at(c.Header, "%s has no target: set `target` to the directory to mount, or `preset` to one of %s", what, strings.Join(PresetNames(), ", "))
	}
	if c.ID.Loc.Present() && strings.TrimSpace(c.ID.Value) == "" {
		v.at(c.ID.Loc.Value, "id of %s is empty; leave it out to use the cache name", what)
	}
	if c.Source.Loc.Present() && !c.From.Loc.Present() {
		v.at(c.Source.Loc.Key, "`source` of %s needs `from`: it is a path inside the stage, image or context that seeds the cache", what)
	}
	v.target(c.Target)
	v.oneOf(c.Sharing, "sharing", SharingModes)
	v.fileInfo(c.Mode, c.UID, c.GID)
	v.ref(c.From, "from", false)
	if m := c.MaxSize; m.Loc.Present() {
		n, err := ParseSize("max_size", m.Value)
		switch {
		case !c.Persist.Value:
			v.at(m.Loc.Key, "`max_size` caps the snapshot of a persisted cache, but %s has no persist = true", what)
		case err != nil:
			v.at(m.Loc.Value, "%w", err)
		case n == 0:
			v.at(m.Loc.Value, "max_size = %q caps every snapshot at nothing: write a size such as \"500m\" or \"2g\"", m.Value)
		default:
			c.MaxBytes = n
		}
	}
	if t := c.Trim; t.Loc.Present() {
		switch {
		case !c.Persist.Value:
			v.at(t.Loc.Key, "`trim` trims the snapshot of a persisted cache, but %s has no persist = true", what)
		case t.Value && !Presets[c.Preset.Value].Trims():
			v.at(t.Loc.Value, "%s has no preset that knows how to trim it; the caches of %s are trimmed by default", what, strings.Join(TrimmedPresets(), ", "))
		}
	}
}

// target checks a mount target: it must not be the root directory.
func (v *validator) target(t String) {
	if t.Loc.Present() && !hasVars(t.Value) && (strings.Trim(t.Value, "/") == "" && t.Value != "") {
		v.at(t.Loc.Value, "mount target %q is the root directory: mount at a directory inside the image", t.Value)
	}
	if t.Loc.Present() && t.Value == "" {
		v.at(t.Loc.Value, "mount target is empty")
	}
}

func (v *validator) oneOf(s String, key string, allowed []string) {
	if !s.Loc.Present() || hasVars(s.Value) {
		return
	}
	for _, a := range allowed {
		if s.Value == a {
			return
		}
	}
	v.at(s.Loc.Value, "invalid %s %q%s; allowed: %s", key, s.Value, DidYouMean(s.Value, allowed), strings.Join(allowed, ", "))
}

// mode checks a field that takes a fixed word and no variables.
func (v *validator) mode(s String, key string, allowed []string) {
	if s.Loc.Present() && hasVars(s.Value) {
		v.at(s.Loc.Value, "%s takes no variables: write one of %s", key, strings.Join(allowed, ", "))
		return
	}
	v.oneOf(s, key, allowed)
}

func (v *validator) fileInfo(mode String, uid, gid Int) {
	if mode.Loc.Present() && !hasVars(mode.Value) {
		if _, err := ParseMode("mode", mode.Value); err != nil {
			v.at(mode.Loc.Value, "%w", err)
		}
	}
	for _, id := range []struct {
		name string
		val  Int
	}{{"uid", uid}, {"gid", gid}} {
		if id.val.Loc.Present() && (id.val.Value < 0 || id.val.Value > 1<<32-1) {
			v.at(id.val.Loc.Value, "invalid %s %d: must be between 0 and 4294967295", id.name, id.val.Value)
		}
	}
}

// ref checks a reference to a stage, an image or a named context, as found
// in `from` fields. Stages themselves may also name "scratch".
func (v *validator) ref(s String, key string, allowScratch bool) {
	if !s.Loc.Present() {
		return
	}
	val := s.Value
	if strings.TrimSpace(val) == "" {
		v.at(s.Loc.Value, "%s is empty: name a stage, an image or \"context:NAME\"", key)
		return
	}
	switch kind, name := v.spec.Ref(val); kind {
	case RefScratch:
		if !allowScratch {
			v.at(s.Loc.Value, "%s = \"scratch\" names the empty image, which has nothing to use here", key)
		}
	case RefContext:
		if strings.TrimSpace(name) == "" {
			v.at(s.Loc.Value, "%s %q names no context: write \"context:NAME\" for --build-context NAME=...", key, val)
		}
	case RefImage:
		if err := CheckImageRef(val); err != nil {
			v.at(s.Loc.Value, "%s: %w, nor a stage%s; stages: %s", key, err, DidYouMean(val, v.spec.StageNames()), strings.Join(v.spec.StageNames(), ", "))
		}
	}
}

// baseVars are the variables a stage inherits: args, platform args, the
// env of the stages it is built from, and the env of the image or context
// those start from, whose names are known only when a build resolves it.
func (v *validator) baseVars(st *Stage) *Vars {
	vars := v.args.Clone()
	seen := map[*Stage]bool{st: true}
	root := st
	for cur := v.spec.stages[st.From.Value]; cur != nil && !seen[cur]; cur = v.spec.stages[cur.From.Value] {
		seen[cur] = true
		root = cur
		for _, e := range cur.Env {
			vars.Set(e.Name, "x")
		}
	}
	if from := root.From; from.Loc.Present() && from.Value != "scratch" && v.spec.stages[from.Value] == nil {
		vars.Inherit(from.Value)
	}
	return vars
}

func (v *validator) stage(st *Stage) {
	if !namePattern.MatchString(st.Name) {
		v.at(st.Header, "invalid stage name %q: names are lowercase letters, digits, '_', '.' and '-', starting with a letter", st.Name)
	}
	vars := v.env(st.Env, v.baseVars(st))
	if !st.From.Loc.Present() {
		v.at(st.Header, "stage %q has no `from`: set it to an image, another stage, \"scratch\" or \"context:NAME\"", st.Name)
	}
	v.ref(st.From, "from", true)
	v.checkVars(st.From, v.args) // from and platform are known before the stage's env
	v.checkVars(st.Platform, v.args)
	v.checkVars(st.Workdir, vars)
	v.checkVars(st.User, vars)
	if st.Platform.Loc.Present() && !hasVars(st.Platform.Value) {
		if _, err := ParsePlatform(st.Platform.Value); err != nil {
			v.at(st.Platform.Loc.Value, "%w", err)
		}
	}
	declared := append(PlatformArgs[:len(PlatformArgs):len(PlatformArgs)], v.argNames()...)
	for _, a := range st.Args.Values {
		if v.spec.args[a.Value] == nil && !IsPlatformArg(a.Value) {
			v.at(a.Loc.Value, "stage %q uses undeclared arg %q%s: declare it in [args] or use a platform arg", st.Name, a.Value, DidYouMean(a.Value, declared))
		}
	}
	if st.Shell.Loc.Present() && len(st.Shell.Values) == 0 {
		v.at(st.Shell.Loc.Value, "shell is empty: give the shell and its flag, e.g. [\"/bin/sh\", \"-c\"]")
	}
	v.cacheList(st.Caches)
	for i, step := range st.Steps {
		v.step(st, i+1, step, vars)
	}
	if st.Image != nil {
		v.image(st.Image, vars)
	}
}

// IsArgName tells a name an arg may have: letters, digits and _, not
// starting with a digit, the names ${...} can read.
func IsArgName(name string) bool { return argPattern.MatchString(name) }

func (v *validator) argNames() []string {
	names := make([]string, len(v.spec.Args))
	for i, a := range v.spec.Args {
		names[i] = a.Name
	}
	return names
}

// env checks env entries in order and returns vars with their names: an
// entry sees the entries above it and itself (PATH = "/opt/bin:${PATH}").
func (v *validator) env(env []KeyValue, vars *Vars) *Vars {
	if len(env) == 0 {
		return vars
	}
	vars = vars.Clone()
	for _, e := range env {
		if e.Name == "" || strings.ContainsAny(e.Name, "= \t\n") {
			v.at(e.Value.Loc.Key, "invalid env name %q: names cannot be empty or contain '=' or spaces", e.Name)
		}
		vars.Set(e.Name, "x")
		v.checkVars(e.Value, vars)
	}
	return vars
}

func (v *validator) cacheList(caches Strings) {
	for _, c := range caches.Values {
		if v.spec.caches[c.Value] == nil {
			if _, ok := Presets[c.Value]; !ok {
				v.at(c.Loc.Value, "unknown cache %q%s: declare it as [caches.%s] or use a preset (%s)", c.Value, DidYouMean(c.Value, v.cacheNames()), c.Value, strings.Join(PresetNames(), ", "))
			}
		}
	}
}

func (v *validator) step(st *Stage, index int, s *Step, stageVars *Vars) {
	what := fmt.Sprintf("step %d of stage %q", index, st.Name)
	vars := v.env(s.Env, stageVars)
	for _, f := range []String{s.Workdir, s.User, s.From, s.To, s.Chown, s.Chmod, s.Checksum, s.Path} {
		v.checkVars(f, vars)
	}
	if s.Expand.Value {
		v.checkVars(s.Content, vars)
	}
	for _, list := range []Strings{s.Sources, s.Exclude} {
		for _, f := range list.Values {
			v.checkVars(f, vars)
		}
	}
	switch s.Kind {
	case StepRun:
		v.run(what, s, vars)
	case StepCopy, StepAdd:
		v.copyAdd(what, s)
	case StepFile:
		v.file(what, s)
	}
}

// file checks a file step: a path that names a file, and its content.
func (v *validator) file(what string, s *Step) {
	switch p := s.Path.Value; {
	case !s.Path.Loc.Present() || hasVars(p):
	case strings.TrimSpace(p) == "":
		v.at(s.Path.Loc.Value, "file of %s is empty: give the path of the file to write", what)
	case strings.HasSuffix(p, "/") || path.Base(p) == "." || path.Base(p) == "..":
		v.at(s.Path.Loc.Value, "file %q of %s names a directory: give the path of the file itself, e.g. %q", p, what, path.Join(p, "config.txt"))
	}
	if !s.Content.Loc.Present() {
		v.at(s.Range, "%s has no content: set `content` to what the file holds (\"\" for an empty file)", what)
	}
	v.chmod(s.Chmod)
}

// chmod checks a step's chmod unless variables make it known only at build time.
func (v *validator) chmod(chmod String) {
	if chmod.Loc.Present() && !hasVars(chmod.Value) {
		if _, err := ParseMode("chmod", chmod.Value); err != nil {
			v.at(chmod.Loc.Value, "%w", err)
		}
	}
}

func (v *validator) run(what string, s *Step, vars *Vars) {
	switch {
	case !s.Exec.Loc.Present() && !s.Command.Loc.Present(): // run had the wrong type
	case s.IsExec && len(s.Exec.Values) == 0:
		v.at(s.Exec.Loc.Value, "run of %s is empty: give a command", what)
	case !s.IsExec && strings.TrimSpace(s.Command.Value) == "":
		v.at(s.Command.Loc.Value, "run of %s is empty: give a command", what)
	}
	v.mode(s.Network, "network", networkModes)
	v.mode(s.Security, "security", securityModes)
	v.cacheList(s.Caches)
	for i, d := range s.Devices {
		v.checkVars(d.Name, vars)
		if d.Name.Loc.Present() && strings.TrimSpace(d.Name.Value) == "" {
			v.at(d.Name.Loc.Value, "device %d of %s has an empty name: write the CDI device, e.g. \"vendor.com/gpu=all\"", i+1, what)
		}
	}
	for i, m := range s.Mounts {
		v.mount(fmt.Sprintf("mount %d of %s", i+1, what), m, vars)
	}
}

func (v *validator) mount(what string, m *Mount, vars *Vars) {
	for _, f := range m.Expandable() {
		v.checkVars(*f, vars)
	}
	if !m.Type.Loc.Present() {
		v.at(m.Range, "%s has no type: set type to one of %s", what, strings.Join(mountTypes, ", "))
		return
	}
	typ := m.Type.Value
	if !slices.Contains(mountTypes, typ) {
		v.oneOf(m.Type, "mount type", mountTypes)
		return
	}
	for _, k := range mountKeys {
		if k.loc(m).Present() && !slices.Contains(k.types, typ) {
			v.at(k.loc(m).Key, "%q is not an option of %s mounts; %s mounts take: %s", k.name, typ, typ, strings.Join(mountOptions[typ], ", "))
		}
	}
	switch typ {
	case MountBind, MountCache, MountTmpfs:
		if !m.Target.Loc.Present() {
			v.at(m.Range, "%s (%s) has no target: set `target` to where it is mounted", what, typ)
		}
	case MountSecret:
		if !m.ID.Loc.Present() && !m.Target.Loc.Present() {
			v.at(m.Range, "%s (secret) needs `id`, the id of --secret id=..., or a `target` whose file name is the id", what)
		}
	}
	v.target(m.Target)
	options := mountOptions[typ]
	if slices.Contains(options, "sharing") {
		v.oneOf(m.Sharing, "sharing", SharingModes)
	}
	if slices.Contains(options, "mode") {
		v.fileInfo(m.Mode, m.UID, m.GID)
	}
	if slices.Contains(options, "from") {
		v.ref(m.From, "from", false)
	}
	if m.Size.Loc.Present() && typ == MountTmpfs && !hasVars(m.Size.Value) {
		if _, err := ParseSize("size", m.Size.Value); err != nil {
			v.at(m.Size.Loc.Value, "%w", err)
		}
	}
}

func (v *validator) copyAdd(what string, s *Step) {
	verb := s.Kind.String()
	if len(s.Sources.Values) == 0 {
		v.at(s.Sources.Loc.Value, "%s of %s has no source: list what to %s", verb, what, verb)
	}
	for _, src := range s.Sources.Values {
		if strings.TrimSpace(src.Value) == "" {
			v.at(src.Loc.Value, "empty source in %s of %s", verb, what)
		}
	}
	if s.Kind == StepCopy {
		v.ref(s.From, "from", false)
	}
	v.chmod(s.Chmod)
	switch to := s.To.Value; {
	case !s.To.Loc.Present() || hasVars(to):
	case to == "":
		v.at(s.To.Loc.Value, "`to` is empty: give a destination path, or leave it out for the working directory")
	default:
		if err := CheckDest(verb, to, len(s.Sources.Values)); err != nil {
			v.at(s.To.Loc.Value, "%w", err)
		}
	}
	for _, e := range s.Exclude.Values {
		if e.Value == "" {
			v.at(e.Loc.Value, "empty exclude pattern")
		}
	}
	if s.Kind != StepAdd {
		return
	}
	if s.Checksum.Loc.Present() {
		v.checksum(s)
	}
	if s.KeepGitDir.Loc.Present() {
		for _, src := range s.Sources.Values {
			if SourceKindOf(src.Value) != SourceGit && !hasVars(src.Value) {
				v.at(s.KeepGitDir.Loc.Key, "`keep_git_dir` applies to git sources, but %q is not a git URL", src.Value)
				break
			}
		}
	}
}

// checksum checks an add's checksum: a digest of an http(s) download, or
// the commit of a git source, as the Dockerfile's ADD --checksum.
func (v *validator) checksum(s *Step) {
	sum := s.Checksum
	if len(s.Sources.Values) != 1 {
		v.at(sum.Loc.Key, "`checksum` verifies one source, but the step has %d", len(s.Sources.Values))
		return
	}
	src := s.Sources.Values[0].Value
	if hasVars(src) || hasVars(sum.Value) {
		return
	}
	switch SourceKindOf(src) {
	case SourceHTTP:
		if _, err := ParseDigest(sum.Value); err != nil {
			v.at(sum.Loc.Value, "%w", err)
		}
	case SourceGit:
		if !commitPattern.MatchString(sum.Value) {
			v.at(sum.Loc.Value, "invalid checksum %q of a git source: write the commit, 40 (or 64) hex digits", sum.Value)
		}
	default:
		v.at(sum.Loc.Key, "`checksum` verifies http(s) downloads and git commits, but %q is a local path", src)
	}
}

func (v *validator) image(img *Image, vars *Vars) {
	v.checkVars(img.User, vars)
	v.checkVars(img.StopSignal, vars)
	v.checkVars(img.Author, vars)
	for _, list := range []Strings{img.Entrypoint, img.Cmd, img.Expose, img.Volumes} {
		for _, s := range list.Values {
			v.checkVars(s, vars)
		}
	}
	for _, l := range img.Labels {
		if strings.TrimSpace(l.Name) == "" {
			v.at(l.Value.Loc.Key, "empty label name")
		}
		v.checkVars(l.Value, vars)
	}
	for _, e := range img.Expose.Values {
		if !hasVars(e.Value) && !exposePattern.MatchString(strings.ToLower(e.Value)) {
			v.at(e.Loc.Value, "invalid port %q: write PORT or PORT/PROTOCOL with tcp, udp or sctp, e.g. \"8080/tcp\"", e.Value)
		}
	}
	h := img.Healthcheck
	if h == nil {
		return
	}
	if len(h.Test.Values) == 0 {
		v.at(h.Range, "healthcheck needs `test`, e.g. [\"CMD\", \"/app\", \"health\"] or [\"NONE\"]")
	} else if first := h.Test.Values[0]; !slices.Contains(healthcheckCmd, first.Value) {
		v.at(first.Loc.Value, "healthcheck test must start with %s, found %q", strings.Join(healthcheckCmd, ", "), first.Value)
	}
	for _, d := range []struct {
		key string
		val String
	}{{"interval", h.Interval}, {"timeout", h.Timeout}, {"start_period", h.StartPeriod}, {"start_interval", h.StartInterval}} {
		if d.val.Loc.Present() && !hasVars(d.val.Value) {
			if _, err := ParseDuration(d.key, d.val.Value); err != nil {
				v.at(d.val.Loc.Value, "%w", err)
			}
		}
	}
	if h.Retries.Loc.Present() && h.Retries.Value < 0 {
		v.at(h.Retries.Loc.Value, "retries must not be negative, found %d", h.Retries.Value)
	}
}

// IsDirDest tells a copy or add destination that names a directory, as the
// Dockerfile does: empty (the working directory), a trailing slash, or one
// ending in "." or "..".
func IsDirDest(to string) bool {
	return to == "" || strings.HasSuffix(to, "/") || to == "." || strings.HasSuffix(to, "/.") || to == ".." || strings.HasSuffix(to, "/..")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SourceKind classifies an add source the way the Dockerfile's ADD does.
type SourceKind string

// Source kinds.
const (
	SourceLocal SourceKind = "local"
	SourceHTTP  SourceKind = "http"
	SourceGit   SourceKind = "git"
)

// SourceKindOf tells git URLs, http(s) URLs and local paths apart, with the
// Dockerfile frontend's own rules for git URLs.
func SourceKindOf(src string) SourceKind {
	// "github.com/org/repo" parses as git but, as in a Dockerfile's ADD, is
	// a local path; a git URL with a bad query is git, and fails later.
	ref, isGit, err := dfgitutil.ParseGitRef(src)
	if err == nil && !ref.IndistinguishableFromLocal || isGit && err != nil {
		return SourceGit
	}
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		return SourceHTTP
	}
	return SourceLocal
}
