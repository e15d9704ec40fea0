package spec

// Load parses and validates a spec. file names it in messages. On failure
// the error is an Errors holding every problem found, sorted by position.
func Load(file string, src []byte) (*Spec, error) {
	root, comments, perr := parseTree(file, src)
	if perr != nil {
		return nil, Errors{perr}
	}
	s := &Spec{File: file, Source: src}
	d := decoder{problems: problems{file: file}, comments: comments}
	d.decode(root, s)
	s.index()
	v := validator{problems: d.problems, spec: s}
	v.validate()
	if len(v.list) > 0 {
		v.list.Sort()
		return nil, v.list
	}
	return s, nil
}

func (s *Spec) index() {
	s.args = make(map[string]*Arg, len(s.Args))
	for _, a := range s.Args {
		s.args[a.Name] = a
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
