package spec

func (s *Spec) index() {
	s.args = make(map[string]*Arg, len(s.Args))
	for _, a := range s.Args {
		s.args[a.Name] = a
	}
	s.contexts = make(map[string]*Context, len(s.Contexts))
	for _, c := range s.Contexts {
		s.contexts[c.Name] = c
	}
	s.caches = make(map[string]*Cache, len(s.Caches))
	for _, c := range s.Caches {
		s.caches[c.Name] = c
	}
	s.stages = make(map[string]*Stage, len(s.Stages))
	for _, st := range s.Stages {
		s.stages[st.Name] = st
	}
}
