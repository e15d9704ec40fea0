package lint

import (
	"path"
	"slices"
	"strings"

	"github.com/tomlfront/tomlfront/spec"
)

// cacheMount is one cache a run step mounts, with the values written in the
// spec; mounts whose id, target or sharing use variables are left out.
type cacheMount struct {
	id, target, sharing string
	preset              bool
	readonly            bool
	at                  spec.Range // the name in `caches`, or the mount
	stage               *spec.Stage
	step                *spec.Step
}

// stepCaches lists the cache mounts of each run step.
func stepCaches(s *spec.Spec) []cacheMount {
	var out []cacheMount
	for _, st := range s.Stages {
		for _, step := range st.Steps {
			if step.Kind != spec.StepRun {
				continue
			}
			for _, list := range []spec.Strings{st.Caches, step.Caches} {
				for _, name := range list.Values {
					c := s.Cache(name.Value)
					preset := c == nil || c.Preset.Loc.Present()
					for _, m := range s.ResolveCache(name.Value).Mounts {
						out = append(out, cacheMount{id: m.ID.Value, target: m.Target.Value, sharing: m.Sharing.Value,
							preset: preset, readonly: m.Readonly.Value, at: name.Loc.Value, stage: st, step: step})
					}
				}
			}
			for _, m := range step.Mounts {
				if m.Type.Value != spec.MountCache || !path.IsAbs(m.Target.Value) {
					continue
				}
				id, sharing := spec.CacheMountDefaults(m.ID.Value, m.Target.Value, m.Sharing.Value)
				out = append(out, cacheMount{id: id, target: m.Target.Value, sharing: sharing, readonly: m.Readonly.Value,
					at: m.Range, stage: st, step: step})
			}
		}
	}
	return slices.DeleteFunc(out, func(m cacheMount) bool {
		return strings.ContainsRune(m.id+m.target+m.sharing, '$')
	})
}

func (c *checker) caches(multiPlatform bool) {
	mounts := stepCaches(c.spec)
	c.idConflicts(mounts)
	for _, m := range mounts {
		c.needsLock(m)
		if multiPlatform {
			c.acrossPlatforms(m)
		}
	}
}

// idConflicts warns where an id is mounted with another sharing mode or at
// another target than where it was first seen.
func (c *checker) idConflicts(mounts []cacheMount) {
	first := map[string]cacheMount{}
	warned := map[spec.Range]bool{}
	for _, m := range mounts {
		f, seen := first[m.id]
		if !seen {
			first[m.id] = m
			continue
		}
		if warned[m.at] {
			continue
		}
		switch {
		case f.sharing != m.sharing:
			warned[m.at] = true
			c.add(CacheIDConflict, m.at, "cache id %q is mounted %s here and %s at line %d: give one of them its own `id`, or the same sharing", m.id, m.sharing, f.sharing, f.at.Start.Line)
		case f.target != m.target:
			warned[m.at] = true
			c.add(CacheIDConflict, m.at, "cache id %q is mounted at %s here and at %s at line %d: one id holds one tool's files; give one of them its own `id`", m.id, m.target, f.target, f.at.Start.Line)
		}
	}
}

// needsLock warns about a cache under a directory a package manager of the
// step locks, unless the cache is locked too.
func (c *checker) needsLock(m cacheMount) {
	if m.sharing == spec.SharingLocked || m.readonly {
		return
	}
	words := commandWords(m.step)
	for _, tool := range spec.Tools {
		i := slices.IndexFunc(tool.Commands, func(w string) bool { return slices.Contains(words, w) })
		if !tool.Locks || i < 0 {
			continue
		}
		for _, dir := range tool.Dirs {
			if m.target == dir.Path || strings.HasPrefix(m.target, dir.Path+"/") || strings.HasPrefix(dir.Path, m.target+"/") {
				c.add(CacheNeedsLock, m.at, "%s locks %s, but cache %q is %s: concurrent builds on one builder break it; set sharing = \"locked\"", tool.Commands[i], dir.Path, m.id, m.sharing)
				return
			}
		}
	}
}

// acrossPlatforms warns about a shared, writable cache of a stage that runs
// on each target platform, unless its id tells the platforms apart. The
// presets are left out: their tools key their caches by platform and lock
// what they share.
func (c *checker) acrossPlatforms(m cacheMount) {
	if m.preset || m.readonly || m.sharing != spec.SharingShared || m.stage.Platform.Loc.Present() {
		return
	}
	c.add(CacheSharedAcrossPlatforms, m.at, "stage %q runs once per platform, and every platform writes cache %q at once: put ${TARGETPLATFORM} in its `id`, or set sharing = \"locked\"", m.stage.Name, m.id)
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
