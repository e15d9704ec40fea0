package llbgen

import (
	"sort"

	"github.com/tomlfront/tomlfront/spec"
)

// Uses is what a target needs from the build besides the spec: the secrets
// and ssh agents its steps mount, and its cache mounts. The outline
// subrequest and `tomlfront caches` show it.
type Uses struct {
	Secrets []Use
	SSH     []Use
	Caches  []CacheUse // sorted by id, then target
	// Stages are the stages the target is built from, the target last.
	Stages []*spec.Stage
}

// Use is a secret or ssh id and where it is first mounted.
type Use struct {
	ID       string
	Required bool // required by any step
	Range    spec.Range
}

// CacheUse is one cache mount: an id at a target with a sharing mode, and the
// steps that mount it.
type CacheUse struct {
	Cache   string // the name listed in `caches`; empty for a `type = "cache"` mount
	ID      string // as BuildKit knows it, namespace included
	Target  string
	Sharing string
	Steps   []StepRef
}

// StepRef names a step of a stage.
type StepRef struct {
	Stage string
	Step  int // 1-based
	Range spec.Range
}

// uses collects Uses during a conversion.
type uses struct {
	Uses
	caches map[[3]string]*CacheUse
}

func (u *uses) secret(id string, required bool, r spec.Range) {
	u.Secrets = addUse(u.Secrets, id, required, r)
}

func (u *uses) ssh(id string, required bool, r spec.Range) {
	u.SSH = addUse(u.SSH, id, required, r)
}

func addUse(list []Use, id string, required bool, r spec.Range) []Use {
	for i := range list {
		if list[i].ID == id {
			list[i].Required = list[i].Required || required
			return list
		}
	}
	return append(list, Use{ID: id, Required: required, Range: r})
}

// addCaches records the cache mounts of a run step.
func (u *uses) addCaches(s *stageState, step *spec.Step, mounts []mounted) {
	for _, m := range mounts {
		if m.cache == nil {
			continue
		}
		key := [3]string{m.cache.id, m.target, m.cache.sharing}
		cu := u.caches[key]
		if cu == nil {
			if u.caches == nil {
				u.caches = map[[3]string]*CacheUse{}
			}
			cu = &CacheUse{Cache: m.cache.name, ID: m.cache.id, Target: m.target, Sharing: m.cache.sharing}
			u.caches[key] = cu
		}
		cu.Steps = append(cu.Steps, StepRef{Stage: s.spec.Name, Step: s.step, Range: step.Range})
	}
}

// result returns the collected uses, in a stable order.
func (u *uses) result() Uses {
	out := u.Uses
	for _, cu := range u.caches {
		out.Caches = append(out.Caches, *cu)
	}
	sort.Slice(out.Caches, func(i, j int) bool {
		a, b := out.Caches[i], out.Caches[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		return a.Sharing < b.Sharing
	})
	return out
}
