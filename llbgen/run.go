package llbgen

import (
	"context"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/tomlfront/tomlfront/spec"
)

var defaultShell = []string{"/bin/sh", "-c"}

func (c *converter) convertStep(ctx context.Context, s *stageState, step *spec.Step) error {
	switch step.Kind {
	case spec.StepRun:
		return c.run(ctx, s, step)
	case spec.StepFile:
		return c.file(s, step)
	default:
		return c.copy(ctx, s, step)
	}
}

// run converts a run step into an exec op on the stage's root.
func (c *converter) run(ctx context.Context, s *stageState, step *spec.Step) error {
	vars := s.vars
	if len(step.Env) > 0 {
		vars = vars.Clone()
	}
	var opts []llb.RunOption
	env := append([]spec.KeyValue(nil), s.runEnv...)

	var args []string
	var display string
	if step.IsExec {
		args = step.Exec.Plain()
		display = strings.Join(args, " ")
	} else {
		sh := s.shell
		if len(sh) == 0 {
			sh = defaultShell
		}
		args = append(append([]string(nil), sh...), step.Command.Value)
		display = step.Command.Value
	}

	caches, err := c.caches(ctx, s, append(append([]spec.String(nil), s.spec.Caches.Values...), step.Caches.Values...))
	if err != nil {
		return err
	}
	opts = append(opts, caches.mounts...)
	env = append(env, caches.env...)
	mounts := caches.mounted

	if err := c.expandEnv(step.Env, vars, func(name, v string) {
		env = append(env, spec.KeyValue{Name: name, Value: spec.String{Value: v}})
	}); err != nil {
		return err
	}
	for _, e := range env {
		opts = append(opts, llb.AddEnv(e.Name, e.Value.Value))
	}
	if step.Workdir.Loc.Present() {
		wd, err := c.spec.Expand(step.Workdir, vars)
		if err != nil {
			return err
		}
		opts = append(opts, llb.Dir(path.Join(s.image.Config.WorkingDir, wd)))
		if path.IsAbs(wd) {
			opts[len(opts)-1] = llb.Dir(path.Clean(wd))
		}
	}
	if step.User.Loc.Present() {
		u, err := c.spec.Expand(step.User, vars)
		if err != nil {
			return err
		}
		opts = append(opts, llb.User(u))
	}
	switch step.Network.Value {
	case "none":
		opts = append(opts, llb.Network(pb.NetMode_NONE))
	case "host":
		opts = append(opts, llb.Network(pb.NetMode_HOST))
	}
	if step.Security.Value == "insecure" {
		opts = append(opts, llb.Security(pb.SecurityMode_INSECURE))
	}
	devices, err := c.devices(step.Devices, vars)
	if err != nil {
		return err
	}
	opts = append(opts, devices...)
	for _, m := range step.Mounts {
		o, at, err := c.mount(ctx, s, m, vars)
		if err != nil {
			return err
		}
		opts = append(opts, o)
		mounts = append(mounts, at)
	}
	if err := c.checkMountTargets(s, step, mounts); err != nil {
		return err
	}
	c.uses.addCaches(s, step, mounts)
	if c.proxy != nil {
		opts = append(opts, llb.WithProxy(*c.proxy))
	}
	opts = append(opts, c.opt.Run.options(&c.opt)...)
	if len(caches.guarded) > 0 {
		var script llb.RunOption
		args, script = guard(caches.guarded, args)
		opts = append(opts, script)
	}
	opts = append(opts, llb.Args(args))
	for _, o := range c.constraints(s, s.step, "run "+oneLine(display), step.Range) {
		opts = append(opts, o)
	}
	s.state = s.state.Run(opts...).Root()
	addHistory(s.image, "RUN "+display, false)
	return nil
}

// oneLine shortens a multi-line command for progress names.
// devices are a run step's CDI devices. A builder without CDI fails a
// step that requires one, and runs it without the optional ones.
func (c *converter) devices(devices []*spec.Device, vars *spec.Vars) ([]llb.RunOption, error) {
	var opts []llb.RunOption
	for _, d := range devices {
		name, err := c.spec.Expand(d.Name, vars)
		if err != nil {
			return nil, err
		}
		if !c.opt.supports(pb.CapExecMetaCDI) {
			if !d.Required.Value {
				continue
			}
			if err := c.opt.require(pb.CapExecMetaCDI, "device "+strconv.Quote(name)); err != nil {
				return nil, c.spec.ErrorAt(d.Name.Loc.Value, "%w (or make it optional: { name = %q, required = false })", err, name)
			}
		}
		deviceOpts := []llb.CDIDeviceOption{llb.CDIDeviceName(name)}
		if !d.Required.Value {
			deviceOpts = append(deviceOpts, llb.CDIDeviceOptional)
		}
		opts = append(opts, llb.AddCDIDevice(deviceOpts...))
	}
	return opts, nil
}

func oneLine(cmd string) string {
	cmd = strings.TrimSpace(cmd)
	if first, _, multi := strings.Cut(cmd, "\n"); multi {
		return strings.TrimSpace(first) + " ..."
	}
	return cmd
}

// cacheOpts are what a step's caches add to it.
type cacheOpts struct {
	mounts  []llb.RunOption
	mounted []mounted // where the mounts go, and the caches they are
	env     []spec.KeyValue
	guarded []string // the persisted caches whose marks the step's guard reads
}

// mounted is where a run step mounts something, and which cache it is.
type mounted struct {
	target string
	cache  *cacheInfo // nil unless a cache mount
}

// cacheInfo is a cache mount as BuildKit sees it.
type cacheInfo struct {
	name    string // the cache listed in `caches`; empty for a mount
	id      string // with the namespace
	sharing string
	// source and opts mount it again elsewhere: BuildKit tells caches
	// apart by id and by the state that seeds them (owner and mode).
	source llb.State
	opts   []llb.MountOption
}

// caches resolves the caches a run step lists (stage's first), each once.
func (c *converter) caches(ctx context.Context, s *stageState, names []spec.String) (cacheOpts, error) {
	var out cacheOpts
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n.Value] {
			continue
		}
		seen[n.Value] = true
		nc, err := c.namedCache(ctx, s, n)
		if err != nil {
			return out, err
		}
		out.mounts = append(out.mounts, nc.mounts...)
		out.mounted = append(out.mounted, nc.mounted...)
		out.env = append(out.env, nc.env...)
		out.guarded = append(out.guarded, nc.guarded...)
	}
	return out, nil
}

// namedCache converts a listed cache once per stage: every run step of a
// stage mounts the same caches.
func (c *converter) namedCache(ctx context.Context, s *stageState, n spec.String) (cacheOpts, error) {
	key := s.spec.Name + "\x00" + n.Value
	if nc, ok := c.namedCaches[key]; ok {
		return nc, nil
	}
	rc := c.spec.ResolveCache(n.Value)
	nc := cacheOpts{}
	resolved := map[string]string{} // a target as written → where it is mounted
	for _, m := range rc.Mounts {
		o, at, err := c.cacheMount(ctx, s, m, n)
		if err != nil {
			return nc, err
		}
		at.cache.name = n.Value
		nc.mounts = append(nc.mounts, o)
		nc.mounted = append(nc.mounted, at)
		resolved[m.Target.Value] = at.target
		if m.Persist.Value {
			dir, mark := c.persist(s, m, at)
			if mark != nil {
				nc.mounts = append(nc.mounts, mark...)
				nc.guarded = append(nc.guarded, dir)
			}
		}
	}
	for _, e := range rc.Env { // a preset's env names its directories as mounted
		if target, ok := resolved[e.Value.Value]; ok {
			e.Value.Value = target
		}
		nc.env = append(nc.env, e)
	}
	for _, f := range rc.Files {
		st := llb.Scratch().File(llb.Mkfile("/file", 0o644, []byte(f.Content)), llb.WithCustomName("[internal] cache preset "+n.Value+": "+f.Path))
		nc.mounts = append(nc.mounts, llb.AddMount(f.Path, st, llb.SourcePath("/file"), llb.Readonly))
		nc.mounted = append(nc.mounted, mounted{target: f.Path})
	}
	c.namedCaches[key] = nc
	return nc, nil
}

// cacheID applies the BUILDKIT_CACHE_MOUNT_NS namespace to an id.
func (c *converter) cacheID(id string) string {
	if c.opt.CacheNamespace == "" {
		return id
	}
	return c.opt.CacheNamespace + "/" + id
}

var sharingModes = map[string]llb.CacheMountSharingMode{
	spec.SharingShared:  llb.CacheMountShared,
	spec.SharingPrivate: llb.CacheMountPrivate,
	spec.SharingLocked:  llb.CacheMountLocked,
}

// cacheMount converts one directory of a named cache; the cache's fields
// know only args and platform args.
func (c *converter) cacheMount(ctx context.Context, s *stageState, m spec.CacheMount, listed spec.String) (llb.RunOption, mounted, error) {
	f, err := c.expandCache(m.CacheFields)
	if err != nil {
		return nil, mounted{}, err
	}
	return c.cacheOption(ctx, s, f, listed)
}

// expandCache expands a cache's fields with the args and platform args,
// all that a named cache's fields know.
func (c *converter) expandCache(f spec.CacheFields) (spec.CacheFields, error) {
	for _, v := range []*spec.String{&f.ID, &f.Target, &f.Sharing, &f.Mode, &f.From, &f.Source} {
		var err error
		if v.Value, err = c.spec.Expand(*v, c.args); err != nil {
			return f, err
		}
	}
	return f, nil
}

// cacheOption returns the mount of a cache, its fields expanded (a named
// cache's directory or a `type = "cache"` mount), and where it goes; at is
// where errors point.
func (c *converter) cacheOption(ctx context.Context, s *stageState, f spec.CacheFields, at spec.String) (llb.RunOption, mounted, error) {
	target := f.Target.Value
	if !path.IsAbs(target) {
		target = path.Join("/", s.image.Config.WorkingDir, target)
	}
	id, sharingName := spec.CacheMountDefaults(f.ID.Value, target, f.Sharing.Value)
	sharing, ok := sharingModes[sharingName]
	if !ok {
		return nil, mounted{}, c.spec.ErrorAt(at.Loc.Value, "invalid sharing %q; allowed: %s", sharingName, strings.Join(spec.SharingModes, ", "))
	}
	opts := []llb.MountOption{llb.AsPersistentCacheDir(c.cacheID(id), sharing)}
	st := llb.Scratch()
	if f.From.Value != "" {
		var err error
		if st, err = c.ref(ctx, s, f.From.Value, f.From); err != nil {
			return nil, mounted{}, err
		}
	}
	switch src := path.Join("/", f.Source.Value); {
	case src != "/":
		opts = append(opts, llb.SourcePath(src))
	case f.Mode.Value != "" || f.UID.Loc.Present() || f.GID.Loc.Present():
		// The owner and mode of the cache root: a directory made with them
		// seeds the cache, as the Dockerfile frontend does.
		mode := uint32(0o755)
		if f.Mode.Value != "" {
			var err error
			if mode, err = spec.ParseMode("mode", f.Mode.Value); err != nil {
				return nil, mounted{}, c.spec.ErrorAt(at.Loc.Value, "%w", err)
			}
		}
		st = st.File(llb.Mkdir("/cache", os.FileMode(mode), llb.WithUIDGID(int(f.UID.Value), int(f.GID.Value))),
			llb.WithCustomName("[internal] setting cache mount permissions"))
		opts = append(opts, llb.SourcePath("/cache"))
	}
	info := &cacheInfo{id: c.cacheID(id), sharing: sharingName, source: st, opts: opts}
	if f.Readonly.Value {
		opts = append(opts[:len(opts):len(opts)], llb.Readonly)
	}
	return llb.AddMount(target, st, opts...), mounted{target: target, cache: info}, nil
}

// mount converts one entry of a run step's mounts.
func (c *converter) mount(ctx context.Context, s *stageState, m *spec.Mount, vars *spec.Vars) (llb.RunOption, mounted, error) {
	expanded := *m // a copy: the spec is shared by every conversion
	for _, f := range expanded.Expandable() {
		var err error
		if f.Value, err = c.spec.Expand(*f, vars); err != nil {
			return nil, mounted{}, err
		}
	}
	m = &expanded
	target := m.Target.Value
	if target != "" && !path.IsAbs(target) {
		target = path.Join("/", s.image.Config.WorkingDir, target)
	}
	fileOpt := func() (uid, gid, mode int, set bool, err error) {
		mode = 0o400
		if m.Mode.Loc.Present() {
			mode32, err := spec.ParseMode("mode", m.Mode.Value)
			if err != nil {
				return 0, 0, 0, false, c.spec.ErrorAt(m.Mode.Loc.Value, "%w", err)
			}
			mode = int(mode32)
		}
		return int(m.UID.Value), int(m.GID.Value), mode, m.Mode.Loc.Present() || m.UID.Loc.Present() || m.GID.Loc.Present(), nil
	}

	switch m.Type.Value {
	case spec.MountCache:
		f := m.CacheFields
		f.Target.Value = target
		return c.cacheOption(ctx, s, f, m.Type)
	case spec.MountBind:
		var st llb.State
		var err error
		if m.From.Value == "" {
			st = c.useContext(m.Source.Value)
		} else if st, err = c.ref(ctx, s, m.From.Value, m.From); err != nil {
			return nil, mounted{}, err
		}
		opts := []llb.MountOption{llb.SourcePath(path.Join("/", m.Source.Value))}
		if !m.Readonly.Loc.Present() || m.Readonly.Value {
			opts = append(opts, llb.Readonly)
		} else if c.opt.supports(pb.CapExecMountBindReadWriteNoOutput) {
			opts = append(opts, llb.ForceNoOutput) // writes are thrown away, as in a Dockerfile
		}
		return llb.AddMount(target, st, opts...), mounted{target: target}, nil
	case spec.MountTmpfs:
		var size int64
		if m.Size.Value != "" {
			var err error
			if size, err = spec.ParseSize("size", m.Size.Value); err != nil {
				return nil, mounted{}, c.spec.ErrorAt(m.Size.Loc.Value, "%w", err)
			}
		}
		return llb.AddMount(target, llb.Scratch(), llb.Tmpfs(llb.TmpfsSize(size))), mounted{target: target}, nil
	case spec.MountSecret:
		id := m.ID.Value
		if id == "" {
			id = path.Base(target)
		}
		opts := []llb.SecretOption{llb.SecretID(id)}
		if !m.Required.Value {
			opts = append(opts, llb.SecretOptional)
		}
		uid, gid, mode, set, err := fileOpt()
		if err != nil {
			return nil, mounted{}, err
		}
		if set {
			opts = append(opts, llb.SecretFileOpt(uid, gid, mode))
		}
		var dest *string
		if m.Env.Loc.Present() {
			opts = append(opts, llb.SecretAsEnvName(m.Env.Value))
			if target != "" {
				dest = &target
			}
		} else {
			if target == "" {
				target = "/run/secrets/" + path.Base(id)
			}
			dest = &target
		}
		c.uses.secret(id, m.Required.Value, m.Range)
		at := mounted{}
		if dest != nil {
			at.target = *dest
		}
		return llb.AddSecretWithDest(id, dest, opts...), at, nil
	case spec.MountSSH:
		id := m.ID.Value
		if id == "" {
			id = "default"
		}
		opts := []llb.SSHOption{llb.SSHID(id)}
		if target != "" {
			opts = append(opts, llb.SSHSocketTarget(target))
		}
		if !m.Required.Value {
			opts = append(opts, llb.SSHOptional)
		}
		uid, gid, mode, set, err := fileOpt()
		if err != nil {
			return nil, mounted{}, err
		}
		if set {
			if !m.Mode.Loc.Present() {
				mode = 0o600
			}
			opts = append(opts, llb.SSHSocketOpt(target, uid, gid, mode))
		}
		c.uses.ssh(id, m.Required.Value, m.Range)
		return llb.AddSSHSocket(opts...), mounted{target: target}, nil
	}
	return nil, mounted{}, c.spec.ErrorAt(m.Type.Loc.Value, "unknown mount type %q", m.Type.Value)
}

// ref returns the state a `from` names: a stage, a named context or an image.
func (c *converter) ref(ctx context.Context, s *stageState, from string, at spec.String) (llb.State, error) {
	switch kind, name := c.spec.Ref(from); kind {
	case spec.RefStage:
		d, err := c.stage(ctx, c.spec.Stage(name))
		if err != nil {
			return llb.State{}, err
		}
		return d.state, nil
	case spec.RefContext:
		st, _, err := c.namedContext(ctx, name, s.platform)
		if err != nil {
			return llb.State{}, c.spec.ErrorAt(at.Loc.Value, "context %q: %w", name, err)
		}
		return st, nil
	}
	r, err := c.image(ctx, from, s.platform)
	if err != nil {
		return llb.State{}, c.spec.ErrorAt(at.Loc.Value, "image %q: %w", from, err)
	}
	return r.state, nil
}

// checkMountTargets reports two mounts at one target, such as a declared
// cache and a preset that both mount /go/pkg/mod: BuildKit would fail the
// step without saying which keys clash.
func (c *converter) checkMountTargets(s *stageState, step *spec.Step, mounts []mounted) error {
	seen := make(map[string]bool, len(mounts))
	for _, m := range mounts {
		t := m.target
		if t == "" {
			continue
		}
		if seen[t] {
			return c.spec.ErrorAt(step.Range, "step %d of stage %q mounts two things at %s (check its caches, the stage's caches and its mounts)", s.step, s.spec.Name, t)
		}
		seen[t] = true
	}
	return nil
}

// proxyEnv passes the proxy build args to run steps without keeping them
// in the image or the cache key, as the Dockerfile frontend does.
func proxyEnv(args map[string]string) *llb.ProxyEnv {
	get := func(name string) string {
		if v, ok := args[name]; ok {
			return v
		}
		for k, v := range args { // any case, as the Dockerfile frontend
			if strings.EqualFold(k, name) {
				return v
			}
		}
		return ""
	}
	pe := llb.ProxyEnv{
		HTTPProxy: get(spec.ArgHTTPProxy), HTTPSProxy: get(spec.ArgHTTPSProxy), FTPProxy: get(spec.ArgFTPProxy),
		NoProxy: get(spec.ArgNoProxy), AllProxy: get(spec.ArgAllProxy),
	}
	if pe == (llb.ProxyEnv{}) {
		return nil
	}
	return &pe
}
