package lint

import (
	"slices"
	"strings"

	"github.com/tomlfront/tomlfront/llbgen"
	"github.com/tomlfront/tomlfront/spec"
)

// cacheMounts are the cache mounts of every run step for each target
// platform (one list for the default platform without any), as llbgen
// resolves them. A platform whose args do not resolve has none here: the
// conversion check reports why.
func cacheMounts(s *spec.Spec, opt Options) [][]llbgen.CacheMount {
	var out [][]llbgen.CacheMount
	for _, p := range llbgen.TargetPlatforms(opt.Platforms) {
		mounts, err := llbgen.CacheMounts(s, llbgen.Options{BuildArgs: opt.BuildArgs, BuildPlatform: opt.BuildPlatform, TargetPlatform: p})
		if err == nil {
			out = append(out, mounts)
		}
	}
	return out
}

func (c *checker) caches(opt Options) {
	perPlatform := cacheMounts(c.spec, opt)
	for _, mounts := range perPlatform {
		c.idConflicts(mounts)
		for _, m := range mounts {
			c.needsLock(m)
		}
	}
	if len(opt.Platforms) > 1 {
		c.acrossPlatforms(perPlatform)
	}
}

// idConflicts warns where an id is mounted with another sharing mode or at
// another target than where it was first seen.
func (c *checker) idConflicts(mounts []llbgen.CacheMount) {
	first := map[string]llbgen.CacheMount{}
	warned := map[spec.Range]bool{}
	for _, m := range mounts {
		f, seen := first[m.ID]
		if !seen {
			first[m.ID] = m
			continue
		}
		if warned[m.At] {
			continue
		}
		switch {
		case f.Sharing != m.Sharing:
			warned[m.At] = true
			c.add(CacheIDConflict, m.At, "cache id %q is mounted %s here and %s at line %d: give one of them its own `id`, or the same sharing", m.ID, m.Sharing, f.Sharing, f.At.Start.Line)
		case f.Target != m.Target:
			warned[m.At] = true
			c.add(CacheIDConflict, m.At, "cache id %q is mounted at %s here and at %s at line %d: one id holds one tool's files; give one of them its own `id`", m.ID, m.Target, f.Target, f.At.Start.Line)
		}
	}
}

// needsLock warns about a cache under a directory a package manager of the
// step locks, unless the cache is locked too.
func (c *checker) needsLock(m llbgen.CacheMount) {
	if m.Sharing == spec.SharingLocked || m.Readonly {
		return
	}
	words := commandWords(m.Step)
	for _, tool := range spec.Tools {
		i := slices.IndexFunc(tool.Commands, func(w string) bool { return slices.Contains(words, w) })
		if !tool.Locks || i < 0 {
			continue
		}
		for _, dir := range tool.Dirs {
			if m.Target == dir.Path || strings.HasPrefix(m.Target, dir.Path+"/") || strings.HasPrefix(dir.Path, m.Target+"/") {
				c.add(CacheNeedsLock, m.At, "%s locks %s, but cache %q is %s: concurrent builds on one builder break it; set sharing = \"locked\"", tool.Commands[i], dir.Path, m.ID, m.Sharing)
				return
			}
		}
	}
}

// acrossPlatforms warns about a shared, writable cache of a stage that runs
// on each target platform, where its id is the same on every platform. The
// presets are left out: their tools key their caches by platform and lock
// what they share.
func (c *checker) acrossPlatforms(perPlatform [][]llbgen.CacheMount) {
	if len(perPlatform) < 2 {
		return
	}
	// The mounts of one step are in the same order on every platform.
	for i, m := range perPlatform[0] {
		if m.Preset || m.Readonly || m.Sharing != spec.SharingShared || m.Stage.Platform.Loc.Present() {
			continue
		}
		same := true
		for _, other := range perPlatform[1:] {
			same = same && i < len(other) && other[i].At == m.At && other[i].ID == m.ID
		}
		if same {
			c.add(CacheSharedAcrossPlatforms, m.At, "stage %q runs once per platform, and every platform writes cache %q at once: put ${TARGETPLATFORM} in its `id`, or set sharing = \"locked\"", m.Stage.Name, m.ID)
		}
	}
}

// commandWords are the words of a run step's command, for telling which
// tools it runs.
func commandWords(step *spec.Step) []string {
	if step.IsExec {
		return step.Exec.Plain()
	}
	return strings.FieldsFunc(step.Command.Value, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == ';' || r == '&' || r == '|' || r == '(' || r == ')'
	})
}
