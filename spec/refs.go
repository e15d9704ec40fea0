package spec

import "strings"

// RefKind is what a `from` names. Every reader of a `from` (the validator,
// the graph of stages, llbgen, lint) classifies it with Spec.Ref, so they
// agree on what a name means.
type RefKind int

const (
	// RefImage is an image reference.
	RefImage RefKind = iota
	// RefStage is a stage of the spec.
	RefStage
	// RefScratch is "scratch", the empty filesystem.
	RefScratch
	// RefContext is "context:NAME", a named build context.
	RefContext
	// RefVariable is a value with ${...}: what it names is known once it
	// is expanded, and Ref of the expanded value tells.
	RefVariable
)

// ScratchRef is the `from` of an empty filesystem.
const ScratchRef = "scratch"

// ContextPrefix starts a `from` that names a build context: "context:NAME".
const ContextPrefix = "context:"

// Ref tells what a `from` value names, and the name of the stage or context
// it names. A stage's name wins over every other reading.
func (sp *Spec) Ref(from string) (RefKind, string) {
	switch {
	case hasVars(from):
		return RefVariable, ""
	case sp.stages[from] != nil:
		return RefStage, from
	case from == ScratchRef:
		return RefScratch, ""
	}
	if name, ok := strings.CutPrefix(from, ContextPrefix); ok {
		return RefContext, name
	}
	return RefImage, from
}

// Refs lists the `from` values stage st reads, in the order the spec names
// them: its own, those of the caches it and its steps list, of its copy
// steps and of its mounts. Absent ones are left out.
func (sp *Spec) Refs(st *Stage) []String {
	var out []String
	add := func(ref String) {
		if ref.Loc.Present() {
			out = append(out, ref)
		}
	}
	caches := func(list Strings) {
		for _, c := range list.Values {
			if decl := sp.caches[c.Value]; decl != nil {
				add(decl.From)
			}
		}
	}
	add(st.From)
	caches(st.Caches)
	for _, s := range st.Steps {
		add(s.From)
		caches(s.Caches)
		for _, m := range s.Mounts {
			add(m.From)
		}
	}
	return out
}

// ContextRef is a `from` that names a build context.
type ContextRef struct {
	Name string
	At   String
}

// ContextRefs lists every `context:NAME` a `from` of the spec names (stages,
// caches, copy steps, mounts), in the order of the files.
func (sp *Spec) ContextRefs() []ContextRef {
	var out []ContextRef
	add := func(ref String) {
		if kind, name := sp.Ref(ref.Value); ref.Loc.Present() && kind == RefContext {
			out = append(out, ContextRef{Name: name, At: ref})
		}
	}
	for _, st := range sp.Stages {
		add(st.From)
		for _, s := range st.Steps {
			add(s.From)
			for _, m := range s.Mounts {
				add(m.From)
			}
		}
	}
	for _, c := range sp.Caches {
		add(c.From)
	}
	return out
}
