package spec

import "strings"

// edge is a dependency of a stage on another: its from, a copy's from, a
// mount's or a cache's from.
type edge struct {
	to *Stage
	at String // the reference, for positions
}

// Deps returns the stages st uses, each once: its `from`, and the `from` of
// its copy steps, mounts and caches. References with variables are left out.
func (sp *Spec) Deps(st *Stage) []*Stage {
	edges := sp.deps(st)
	out := make([]*Stage, len(edges))
	for i, e := range edges {
		out[i] = e.to
	}
	return out
}

// deps returns the stages st needs, in the order the spec names them, each
// once. References with variables are resolved later, by llbgen.
func (sp *Spec) deps(st *Stage) []edge {
	var out []edge
	seen := map[*Stage]bool{}
	for _, ref := range sp.Refs(st) {
		if kind, name := sp.Ref(ref.Value); kind == RefStage && !seen[sp.stages[name]] {
			seen[sp.stages[name]] = true
			out = append(out, edge{sp.stages[name], ref})
		}
	}
	return out
}

// cycles reports every cycle of stage dependencies once, naming its stages.
func (v *validator) cycles() {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[*Stage]int{}
	var stack []*Stage // the stages being visited, outermost first
	var visit func(st *Stage)
	visit = func(st *Stage) {
		state[st] = visiting
		stack = append(stack, st)
		for _, e := range v.spec.deps(st) {
			switch state[e.to] {
			case visiting:
				var names []string
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i] == e.to {
						for _, s := range stack[i:] {
							names = append(names, s.Name)
						}
						break
					}
				}
				names = append(names, e.to.Name)
				v.at(e.at.Loc.Value, "stages form a cycle: %s; a stage cannot depend on itself", strings.Join(names, " → "))
			case unvisited:
				visit(e.to)
			}
		}
		stack = stack[:len(stack)-1]
		state[st] = done
	}
	for _, st := range v.spec.Stages {
		if state[st] == unvisited {
			visit(st)
		}
	}
}
