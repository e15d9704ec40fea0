package convert

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/tomlfront/tomlfront/spec"
)

// identity expands nothing: the mount flags are read as written, and their
// variables are rewritten for the spec.
func identity(word string) (string, error) { return word, nil }

func (c *converter) run(s *stage, cmd *instructions.RunCommand) {
	st := &step{comments: cmd.Comments(), keys: values{}}
	if cmd.PrependShell {
		st.keys.set("run", tomlString(runScript(cmd)))
	} else {
		st.keys.set("run", tomlStrings(cmd.CmdLine))
	}
	if err := cmd.Expand(identity); err != nil {
		c.problem(cmd.Location(), "RUN flags: %v", err)
	}
	var cacheMounts []*instructions.Mount
	var mounts []string
	for _, m := range instructions.GetMounts(cmd) {
		if m.Type == instructions.MountTypeCache {
			cacheMounts = append(cacheMounts, m)
			continue
		}
		mounts = append(mounts, c.mount(cmd, m))
	}
	caches, rest := presetsOf(cacheMounts)
	for _, m := range rest {
		caches = append(caches, c.cache(m))
	}
	if len(caches) > 0 {
		st.keys.set("caches", tomlStrings(caches))
	}
	if len(mounts) > 0 {
		st.keys.set("mounts", "["+strings.Join(mounts, ", ")+"]")
	}
	if n := instructions.GetNetwork(cmd); n != instructions.NetworkDefault {
		st.keys.set("network", tomlString(n))
	}
	if sec := instructions.GetSecurity(cmd); sec != "" && sec != instructions.SecuritySandbox {
		st.keys.set("security", tomlString(sec))
	}
	st.keys.table("env", c.ownDefaultsEnv())
	if devices := instructions.GetDevices(cmd); len(devices) > 0 {
		st.keys.set("devices", c.tomlDevices(devices))
	}
	s.steps = append(s.steps, st)
}

// tomlDevices writes RUN --device values. A Dockerfile's device is
// optional unless it says required; a spec's is required unless it says
// required = false.
func (c *converter) tomlDevices(devices []*instructions.Device) string {
	parts := make([]string, len(devices))
	for i, d := range devices {
		parts[i] = tomlString(c.word(d.Name))
		if !d.Required {
			parts[i] = "{ name = " + parts[i] + ", required = false }"
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// runScript is a shell-form RUN as the spec's run string: the command line,
// and each heredoc written back after it, for the shell to read as the
// Dockerfile's shell does. A RUN that is only a heredoc runs its body.
func runScript(cmd *instructions.RunCommand) string {
	line := strings.Join(cmd.CmdLine, " ")
	if len(cmd.Files) == 0 {
		return line
	}
	if len(cmd.Files) == 1 && heredocOnly.MatchString(line) {
		body := cmd.Files[0].Data
		if strings.HasPrefix(line, "<<-") { // the Dockerfile strips the leading tabs
			body = parser.ChompHeredocContent(body)
		}
		if interp, rest, ok := strings.Cut(body, "\n"); ok && strings.HasPrefix(interp, "#!") {
			// The Dockerfile runs a script with a shebang by its interpreter.
			return strings.TrimSpace(strings.TrimPrefix(interp, "#!")) + " <<'" + cmd.Files[0].Name + "'\n" + rest + cmd.Files[0].Name
		}
		return strings.TrimSuffix(body, "\n")
	}
	var b strings.Builder
	b.WriteString(line)
	for _, f := range cmd.Files {
		b.WriteString("\n" + f.Data + f.Name)
	}
	return b.String()
}

var heredocOnly = regexp.MustCompile(`^<<-?['"]?[A-Za-z_][A-Za-z0-9_]*['"]?$`)

// presetsOf picks out the cache mounts that are exactly a preset: every
// directory of it, at its target with its sharing and nothing else set, and
// a preset that sets no environment (which would change what the step
// does). It returns the presets' names and the other mounts.
func presetsOf(mounts []*instructions.Mount) (names []string, rest []*instructions.Mount) {
	used := map[*instructions.Mount]bool{}
	for _, name := range spec.PresetNames() {
		p := spec.Presets[name]
		if len(p.Env) > 0 {
			continue
		}
		var matched []*instructions.Mount
		for _, d := range p.Dirs {
			for _, m := range mounts {
				if !used[m] && plainCache(m) && path.Clean(m.Target) == d.Target && string(m.CacheSharing) == d.Sharing {
					matched = append(matched, m)
					break
				}
			}
		}
		if len(matched) == len(p.Dirs) {
			names = append(names, name)
			for _, m := range matched {
				used[m] = true
			}
		}
	}
	for _, m := range mounts {
		if !used[m] {
			rest = append(rest, m)
		}
	}
	return names, rest
}

// plainCache tells a cache mount that sets only its target and sharing.
func plainCache(m *instructions.Mount) bool {
	return m.CacheID == "" && m.From == "" && m.Source == "" && !m.ReadOnly && m.Mode == nil && m.UID == nil && m.GID == nil
}

// cache declares the named cache a cache mount becomes, one per distinct
// mount, keeping the Dockerfile's id (its target when it sets none) so a
// builder's existing caches are reused.
func (c *converter) cache(m *instructions.Mount) string {
	cache := &cacheTable{keys: values{}}
	str := func(key, value string) {
		if value != "" {
			cache.keys.set(key, tomlString(value))
		}
	}
	str("target", c.word(m.Target))
	str("id", c.word(m.CacheID))
	if m.CacheSharing != instructions.MountSharingShared {
		str("sharing", string(m.CacheSharing))
	}
	str("from", c.ref(m.From))
	str("source", c.word(m.Source))
	if m.Mode != nil {
		str("mode", fmt.Sprintf("%04o", *m.Mode))
	}
	if m.UID != nil {
		cache.keys.set("uid", strconv.FormatUint(*m.UID, 10))
	}
	if m.GID != nil {
		cache.keys.set("gid", strconv.FormatUint(*m.GID, 10))
	}
	if m.ReadOnly {
		cache.keys.set("readonly", "true")
	}
	key := cache.key()
	if name, ok := c.cacheFor[key]; ok {
		return name
	}
	name := spec.ToolCacheName(m.Target)
	if name == "" {
		name = strings.Trim(nonName.ReplaceAllString(strings.ToLower(path.Base(m.Target)), "-"), "-.")
		if name == "" || name[0] < 'a' || name[0] > 'z' {
			name = "cache-" + name
		}
	}
	for base, i := name, 2; c.out.cache(name) != nil; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	cache.name = name
	c.cacheFor[key] = name
	c.out.caches = append(c.out.caches, cache)
	return name
}

var nonName = regexp.MustCompile(`[^a-z0-9_.-]+`)

// ref is a `from` of COPY or a mount: a stage of the Dockerfile by its spec
// name, else an image.
func (c *converter) ref(from string) string {
	if from == "" {
		return ""
	}
	if name, ok := c.names[strings.ToLower(from)]; ok {
		return name
	}
	return c.word(from)
}

// mount writes a bind, tmpfs, secret or ssh mount as an inline table.
func (c *converter) mount(cmd *instructions.RunCommand, m *instructions.Mount) string {
	kv := []string{"type = " + tomlString(string(m.Type))}
	add := func(k, v string) { kv = append(kv, k+" = "+v) }
	str := func(k, v string) {
		if v != "" {
			add(k, tomlString(c.word(v)))
		}
	}
	target := m.Target
	if target == "" { // the Dockerfile mounts it at the working directory
		target = "."
	}
	switch m.Type {
	case instructions.MountTypeBind:
		str("target", target)
		str("source", m.Source)
		if f := c.ref(m.From); f != "" {
			add("from", tomlString(f))
		}
		if !m.ReadOnly {
			add("readonly", "false")
		}
	case instructions.MountTypeTmpfs:
		str("target", target)
		if m.SizeLimit > 0 {
			add("size", tomlString(strconv.FormatInt(m.SizeLimit, 10)))
		}
	case instructions.MountTypeSecret, instructions.MountTypeSSH:
		str("id", m.CacheID)
		str("target", m.Target)
		if m.Env != nil {
			str("env", *m.Env)
		}
		if m.Required {
			add("required", "true")
		}
		if m.Mode != nil {
			add("mode", tomlString(fmt.Sprintf("%04o", *m.Mode)))
		}
		if m.UID != nil {
			add("uid", strconv.FormatUint(*m.UID, 10))
		}
		if m.GID != nil {
			add("gid", strconv.FormatUint(*m.GID, 10))
		}
	default:
		c.problem(cmd.Location(), "RUN --mount=type=%s has no equivalent in a spec", m.Type)
	}
	return "{ " + strings.Join(kv, ", ") + " }"
}

func (c *converter) copy(s *stage, cmd *instructions.CopyCommand) {
	comments := cmd.Comments()
	if len(cmd.SourcePaths) > 0 {
		st := &step{comments: comments, keys: values{}}
		comments = nil
		st.keys.set("copy", tomlStrings(c.words(cmd.SourcePaths)))
		if from := c.ref(cmd.From); from != "" {
			st.keys.set("from", tomlString(from))
		}
		if cmd.Parents {
			st.keys.set("parents", "true")
		}
		c.copyCommon(st, cmd.Location(), cmd.DestPath, cmd.Chown, cmd.Chmod, cmd.Link, cmd.ExcludePatterns)
		s.steps = append(s.steps, st)
	}
	c.files(s, comments, cmd.SourceContents, cmd.DestPath, cmd.Chown, cmd.Chmod)
}

// files writes the heredocs of a COPY or ADD (COPY <<EOF dest) as file
// steps: each to dest, or into it when dest is a directory, under the
// heredoc's name, as the Dockerfile copies them.
func (c *converter) files(s *stage, comments []string, heredocs []instructions.SourceContent, dest, chown, chmod string) {
	for _, h := range heredocs {
		st := &step{comments: comments, keys: values{}}
		comments = nil
		to := dest
		if spec.IsDirDest(dest) {
			to = path.Join(dest, h.Path)
		}
		st.keys.set("file", tomlString(c.word(to)))
		st.keys.set("content", tomlString(h.Data))
		if h.Expand && strings.Contains(h.Data, "$") {
			st.keys.set("expand", "true")
		}
		if chown != "" {
			st.keys.set("chown", tomlString(c.word(chown)))
		}
		if chmod != "" {
			st.keys.set("chmod", tomlString(c.word(chmod)))
		}
		s.steps = append(s.steps, st)
	}
}

func (c *converter) add(s *stage, cmd *instructions.AddCommand) {
	comments := cmd.Comments()
	if len(cmd.SourcePaths) > 0 {
		c.addPaths(s, comments, cmd)
		comments = nil
	}
	c.files(s, comments, cmd.SourceContents, cmd.DestPath, cmd.Chown, cmd.Chmod)
}

func (c *converter) addPaths(s *stage, comments []string, cmd *instructions.AddCommand) {
	st := &step{comments: comments, keys: values{}}
	st.keys.set("add", tomlStrings(c.words(cmd.SourcePaths)))
	c.copyCommon(st, cmd.Location(), cmd.DestPath, cmd.Chown, cmd.Chmod, cmd.Link, cmd.ExcludePatterns)
	if cmd.Checksum != "" {
		st.keys.set("checksum", tomlString(c.word(cmd.Checksum)))
	}
	if cmd.KeepGitDir != nil {
		st.keys.set("keep_git_dir", strconv.FormatBool(*cmd.KeepGitDir))
	}
	if cmd.Unpack != nil {
		st.keys.set("unpack", strconv.FormatBool(*cmd.Unpack))
	}
	s.steps = append(s.steps, st)
}

func (c *converter) copyCommon(st *step, loc []parser.Range, dest, chown, chmod string, link bool, exclude []string) {
	st.keys.set("to", tomlString(c.word(dest)))
	if link && chown != "" && !strings.Contains(chown, "$") && !spec.NumericOwner(chown) {
		if numeric, ok := rootAsNumbers(chown); ok {
			st.comments = append(st.comments, fmt.Sprintf("--link --chown=%s: root is 0, and a linked copy has no /etc/passwd to look names up in", chown))
			chown = numeric
		} else {
			c.problem(loc, "--link --chown=%s: user and group names cannot be looked up in an independent layer, and BuildKit refuses them too; use numeric uid[:gid]", chown)
		}
	}
	if chown != "" {
		st.keys.set("chown", tomlString(c.word(chown)))
	}
	if chmod != "" {
		st.keys.set("chmod", tomlString(c.word(chmod)))
	}
	if link {
		st.keys.set("link", "true")
	}
	if len(exclude) > 0 {
		st.keys.set("exclude", tomlStrings(c.words(exclude)))
	}
}

// rootAsNumbers writes a chown whose names are all root (root, root:root,
// root:0) in numbers: root is 0 in every image. BuildKit before v0.34 gave
// any name of a linked copy 0, finding no /etc/passwd in its empty layer;
// v0.34 refuses names there.
func rootAsNumbers(chown string) (string, bool) {
	parts := strings.SplitN(chown, ":", 2)
	for i, p := range parts {
		if p == "root" {
			parts[i] = "0"
		}
	}
	numeric := strings.Join(parts, ":")
	return numeric, spec.NumericOwner(numeric)
}

func (c *converter) words(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = c.word(s)
	}
	return out
}
