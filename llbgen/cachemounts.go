package llbgen

import (
	"path"
	"slices"

	"github.com/tomlfront/tomlfront/spec"
)

// CacheMount is a cache a run step mounts, as a conversion for one target
// platform resolves it: a directory of a listed cache, or a
// `type = "cache"` mount, with its id, target and sharing expanded and
// defaulted. The lint rules that judge caches read them.
type CacheMount struct {
	Stage *spec.Stage
	Step  *spec.Step
	// ID is without the BUILDKIT_CACHE_MOUNT_NS namespace.
	ID, Target, Sharing string
	Readonly            bool
	// Preset: the cache comes from a preset, whose tool keys by platform
	// and locks what it shares.
	Preset bool
	At     spec.Range // the name in `caches`, or the mount
}

// CacheMounts resolves the cache mounts of every run step of s, in every
// stage, for opt's target platform, as Convert resolves them, but without
// resolving an image. What only a base image's config would tell is left
// out: a mount whose fields use a stage's env, or whose target is relative
// to the image's working directory.
func CacheMounts(s *spec.Spec, opt Options) ([]CacheMount, error) {
	c, err := newConverter(s, opt)
	if err != nil {
		return nil, err
	}
	var out []CacheMount
	add := func(st *spec.Stage, step *spec.Step, f spec.CacheFields, preset bool, at spec.Range) {
		f, err := c.expandCache(f)
		if err != nil || !path.IsAbs(f.Target.Value) {
			return
		}
		id, sharing := spec.CacheMountDefaults(f.ID.Value, f.Target.Value, f.Sharing.Value)
		out = append(out, CacheMount{Stage: st, Step: step, ID: id, Target: path.Clean(f.Target.Value), Sharing: sharing,
			Readonly: f.Readonly.Value, Preset: preset, At: at})
	}
	for _, st := range s.Stages {
		for _, step := range st.Steps {
			if step.Kind != spec.StepRun {
				continue
			}
			for _, name := range slices.Concat(st.Caches.Values, step.Caches.Values) {
				decl := s.Cache(name.Value)
				preset := decl == nil || decl.Preset.Loc.Present()
				for _, m := range s.ResolveCache(name.Value).Mounts {
					add(st, step, m.CacheFields, preset, name.Loc.Value)
				}
			}
			for _, m := range step.Mounts {
				if m.Type.Value == spec.MountCache {
					add(st, step, m.CacheFields, false, m.Range)
				}
			}
		}
	}
	return out, nil
}
