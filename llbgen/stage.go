package llbgen

import (
	"context"
	"path"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/spec"
)

// stageState is a stage being converted.
type stageState struct {
	spec     *spec.Stage
	state    llb.State
	base     llb.State // the state the stage starts from, for tools such as sh and cp
	image    *dockerspec.DockerOCIImage
	platform ocispecs.Platform
	vars     *spec.Vars // args, platform args and the env so far
	shell    []string
	runEnv   []spec.KeyValue // the stage's args, as env of its run steps
	step     int             // the step being converted, 1-based
	noCache  bool            // run every step again
	done     bool
}

// stage converts st once, with the stages it depends on.
func (c *converter) stage(ctx context.Context, st *spec.Stage) (*stageState, error) {
	if s, ok := c.stages[st]; ok {
		if !s.done { // only reachable through a `from` with variables
			return nil, c.spec.ErrorAt(st.From.Loc.Value, "stages form a cycle through stage %q", st.Name)
		}
		return s, nil
	}
	s := &stageState{spec: st}
	c.stages[st] = s

	platform := c.target
	if st.Platform.Loc.Present() {
		p, err := c.platform(st.Platform)
		if err != nil {
			return nil, err
		}
		platform = p
	}
	if err := c.base(ctx, s, platform); err != nil {
		return nil, err
	}
	s.base = s.state
	s.noCache = c.opt.NoCache != nil && c.opt.NoCache(st.Name)
	if c.opt.Network != pb.NetMode_UNSET {
		s.state = s.state.Network(c.opt.Network)
	}
	if err := c.expandEnv(st.Env, s.vars, func(name, v string) {
		s.state = s.state.AddEnv(name, v)
		s.image.Config.Env = setEnv(s.image.Config.Env, name, v)
	}); err != nil {
		return nil, err
	}
	for _, a := range st.Args.Values {
		if envHas(s.image.Config.Env, a.Value) {
			continue // as in a Dockerfile, an env var wins over an arg of the same name
		}
		v, _ := c.args.Get(a.Value)
		s.runEnv = append(s.runEnv, spec.KeyValue{Name: a.Value, Value: spec.String{Value: v}})
	}
	if st.User.Loc.Present() {
		u, err := c.spec.Expand(st.User, s.vars)
		if err != nil {
			return nil, err
		}
		s.state = s.state.User(u)
		s.image.Config.User = u
	}
	if st.Workdir.Loc.Present() {
		if err := c.workdir(s); err != nil {
			return nil, err
		}
	}
	if st.Shell.Loc.Present() {
		s.shell = st.Shell.Plain()
		s.image.Config.Shell = s.shell
	}
	for i, step := range st.Steps {
		s.step = i + 1
		if err := c.convertStep(ctx, s, step); err != nil {
			return nil, err
		}
	}
	if st.Image != nil {
		if err := c.applyImage(s, st.Image); err != nil {
			return nil, err
		}
	}
	s.done = true
	c.uses.Stages = append(c.uses.Stages, st)
	return s, nil
}

func (c *converter) platform(v spec.String) (ocispecs.Platform, error) {
	val, err := c.spec.Expand(v, c.args)
	if err != nil {
		return ocispecs.Platform{}, err
	}
	p, err := spec.ParsePlatform(val)
	if err != nil {
		return ocispecs.Platform{}, c.spec.ErrorAt(v.Loc.Value, "%w", err)
	}
	return p, nil
}

// base starts s from its `from`: scratch, another stage, a named context or
// an image, whose env, workdir, user and shell the stage inherits.
func (c *converter) base(ctx context.Context, s *stageState, platform ocispecs.Platform) error {
	st := s.spec
	from, err := c.spec.Expand(st.From, c.args)
	if err != nil {
		return err
	}
	s.platform = platform
	kind, name := c.spec.Ref(from)
	if kind == spec.RefStage {
		d, err := c.stage(ctx, c.spec.Stage(name))
		if err != nil {
			return err
		}
		s.state, s.image, s.shell = d.state, cloneImage(d.image), d.shell
		if !st.Platform.Loc.Present() {
			s.platform = d.platform
		}
		s.vars = d.vars.Clone()
		s.state = s.state.Platform(s.platform)
		return nil
	}

	var cfg *dockerspec.DockerOCIImage
	switch kind {
	case spec.RefScratch:
		s.state = llb.Scratch()
	case spec.RefContext:
		s.state, cfg, err = c.namedContext(ctx, name, platform)
	default:
		var r imageResult
		r, err = c.image(ctx, from, platform, c.location(st.From.Loc.Value))
		s.state, cfg = r.state, r.image
	}
	if err != nil {
		return c.spec.ErrorAt(st.From.Loc.Value, "stage %q: %w", st.Name, err)
	}
	s.image = newImage(cfg, platform)
	s.vars = c.args.Clone()
	if _, offline := c.resolver.(Offline); offline && kind != spec.RefScratch {
		// Offline, no base's config is known: a variable the spec declares
		// nowhere may be in its env (lint says so: UndeclaredVariable).
		s.vars.Inherit(from)
	}
	s.state = s.state.Platform(platform)
	cc := s.image.Config
	for _, kv := range cc.Env {
		k, v, _ := strings.Cut(kv, "=")
		s.state = s.state.AddEnv(k, v)
		s.vars.Set(k, v)
	}
	if cc.WorkingDir != "" {
		s.state = s.state.Dir(cc.WorkingDir)
	}
	if cc.User != "" {
		s.state = s.state.User(cc.User)
	}
	s.shell = cc.Shell
	return nil
}

// image resolves an image once per ref and platform. opts place its source
// op in the spec (a stage's `from`): each use that places it gets a state
// of its own, the same op with one more place (the resolver answers the
// second time from its cache).
func (c *converter) image(ctx context.Context, ref string, platform ocispecs.Platform, opts ...llb.ConstraintsOpt) (imageResult, error) {
	key := ref + "\x00" + platforms.Format(platform)
	if r, ok := c.images[key]; ok && len(opts) == 0 {
		return r, nil
	}
	// Validation checks the refs written out; one built from variables is
	// known only now ("${REGISTRY}/app" with REGISTRY empty).
	if err := spec.CheckImageRef(ref); err != nil {
		return imageResult{}, err
	}
	st, img, err := c.resolver.Image(ctx, ref, platform, opts...)
	if err != nil {
		return imageResult{}, err
	}
	r := imageResult{state: st, image: img}
	if _, ok := c.images[key]; !ok {
		c.images[key] = r
	}
	return r, nil
}

// workdir sets the stage's working directory and creates it, as the
// Dockerfile's WORKDIR does; with a `user`, the directory is theirs.
func (c *converter) workdir(s *stageState) error {
	wd, err := c.spec.Expand(s.spec.Workdir, s.vars)
	if err != nil {
		return err
	}
	if !path.IsAbs(wd) {
		wd = path.Join(s.image.Config.WorkingDir, wd)
	}
	wd = path.Join("/", wd)
	s.state = s.state.Dir(wd)
	s.image.Config.WorkingDir = wd
	if wd == "/" {
		return nil
	}
	opts := []llb.MkdirOption{llb.WithParents(true)}
	if u := s.image.Config.User; u != "" {
		opts = append(opts, llb.WithUser(u))
	}
	s.state = s.state.File(llb.Mkdir(wd, 0o755, opts...), c.constraints(s, 0, "workdir "+wd, s.spec.Workdir.Loc.Key.Join(s.spec.Workdir.Loc.Value))...)
	return nil
}

// constraints are what every op of a step carries: its progress name, its
// TOML range, its platform, and whether its cache may be used.
func (c *converter) constraints(s *stageState, step int, what string, r spec.Range) []llb.ConstraintsOpt {
	opts := []llb.ConstraintsOpt{llb.WithCustomName(c.name(s, step, what)), c.location(r), llb.Platform(s.platform)}
	if s.noCache {
		opts = append(opts, llb.IgnoreCache)
	}
	return opts
}

// name is the progress name of a step: "[build 2/4] run go mod download".
// Step 0 is the stage's own setup.
func (c *converter) name(s *stageState, step int, what string) string {
	prefix := s.spec.Name
	if c.opt.PlatformInNames {
		p := platforms.Format(s.platform)
		if !platforms.Only(s.platform).Match(c.target) {
			// A stage on another platform, say the build's, tells which
			// target it works for, as the Dockerfile frontend does.
			p += "->" + strings.TrimPrefix(platforms.Format(c.target), c.target.OS+"/")
		}
		prefix = p + " " + prefix
	}
	if step > 0 {
		prefix += " " + strconv.Itoa(step) + "/" + strconv.Itoa(len(s.spec.Steps))
	}
	return "[" + prefix + "] " + what
}

func envHas(env []string, k string) bool {
	for _, kv := range env {
		if name, _, _ := strings.Cut(kv, "="); name == k {
			return true
		}
	}
	return false
}

// expandEnv expands env entries in order into vars, and passes each to set.
// It is the one rule of env, for stages and steps alike: an entry sees the
// entries above it and itself, and a name it refers to that is not set yet
// (GOFLAGS = "${GOFLAGS} -x" on an image without GOFLAGS, or PATH with a base
// whose config is unknown to tomlfront llb) is empty, as in a Dockerfile.
func (c *converter) expandEnv(env []spec.KeyValue, vars *spec.Vars, set func(name, value string)) error {
	for _, e := range env {
		if _, ok := vars.Get(e.Name); !ok {
			vars.Set(e.Name, "")
		}
		v, err := c.spec.Expand(e.Value, vars)
		if err != nil {
			return err
		}
		vars.Set(e.Name, v)
		set(e.Name, v)
	}
	return nil
}

// setEnv sets k in a KEY=VALUE list, in place when present.
func setEnv(env []string, k, v string) []string {
	for i, kv := range env {
		if name, _, _ := strings.Cut(kv, "="); name == k {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}
