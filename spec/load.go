package spec

// index makes the look-ups by name of the spec's args, contexts, caches
// and stages.
func (s *Spec) index() {
	s.args = byName(s.Args, func(a *Arg) string { return a.Name })
	s.contexts = byName(s.Contexts, func(c *Context) string { return c.Name })
	s.caches = byName(s.Caches, func(c *Cache) string { return c.Name })
	s.stages = byName(s.Stages, func(st *Stage) string { return st.Name })
}

func byName[T any](list []T, name func(T) string) map[string]T {
	m := make(map[string]T, len(list))
	for _, v := range list {
		m[name(v)] = v
	}
	return m
}
