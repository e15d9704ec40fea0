package llbgen

import (
	"context"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/tomlfront/tomlfront/spec"
)

// copy converts a copy or add step into a file op, or with `link` into a
// merge of the stage and an independent layer, as COPY --link does.
func (c *converter) copy(ctx context.Context, s *stageState, step *spec.Step) error {
	expand := func(f spec.String) (string, error) { return c.spec.Expand(f, s.vars) }
	verb := step.Kind.String()

	to := "."
	if step.To.Loc.Present() {
		var err error
		if to, err = expand(step.To); err != nil {
			return err
		}
	}
	if err := spec.CheckDest(verb, to, len(step.Sources.Values)); err != nil {
		return c.spec.ErrorAt(step.To.Loc.Value, "%w", err)
	}
	dest := destPath(s.image.Config.WorkingDir, to)

	common, chmod, display, err := c.ownership(s, step)
	if err != nil {
		return err
	}
	display = append([]string{verb}, display...)
	if len(step.Exclude.Values) > 0 {
		var excludes []string
		for _, e := range step.Exclude.Values {
			v, err := expand(e)
			if err != nil {
				return err
			}
			excludes = append(excludes, v)
		}
		common = append(common, llb.WithExcludePatterns(excludes))
	}

	var src llb.State
	from := ""
	if step.From.Loc.Present() {
		var err error
		if from, err = expand(step.From); err != nil {
			return err
		}
		if src, err = c.ref(ctx, s, from, step.From); err != nil {
			return err
		}
		display = append(display, "--from="+from)
	}
	if step.Parents.Value {
		display = append(display, "--parents")
	}

	var action *llb.FileAction
	add := func(st llb.State, p string, info *llb.CopyInfo) {
		opts := append([]llb.CopyOption{info}, common...)
		if action == nil {
			action = llb.Copy(st, p, dest, opts...)
		} else {
			action = action.Copy(st, p, dest, opts...)
		}
	}
	for _, source := range step.Sources.Values {
		v, err := expand(source)
		if err != nil {
			return err
		}
		display = append(display, v)
		if step.Kind == spec.StepAdd {
			if st, file, ok, err := c.remote(s, step, source, v); err != nil {
				return err
			} else if ok {
				add(st, file, &llb.CopyInfo{Mode: chmod, CreateDestPath: true, AttemptUnpack: file != "/" && step.Unpack.Value})
				continue
			}
		}
		st := src
		if from == "" {
			st = c.useContext(v)
		}
		info := &llb.CopyInfo{
			Mode:                chmod,
			FollowSymlinks:      true,
			CopyDirContentsOnly: true,
			AttemptUnpack:       step.Kind == spec.StepAdd && (!step.Unpack.Loc.Present() || step.Unpack.Value),
			CreateDestPath:      true,
			AllowWildcard:       true,
			AllowEmptyWildcard:  true,
		}
		srcPath := path.Join("/", v)
		if step.Parents.Value {
			srcPath, info.IncludePatterns, info.RequiredPaths = parentsSource(v)
		}
		add(st, srcPath, info)
	}
	display = append(display, to)
	constraints := c.constraints(s, s.step, strings.Join(display, " "), step.Range)
	// Without MergeOp (Docker Engine's graphdriver store) a linked copy is a
	// plain one, as the Dockerfile frontend builds COPY --link. So is one
	// with chmod, as there too: in a layer of its own, the directories the
	// copy creates would take the mode and replace the image's.
	if step.Link.Value && c.opt.supports(pb.CapMergeOp) && !step.Chmod.Loc.Present() {
		layer := llb.Scratch().File(action, constraints...)
		s.state = s.state.WithOutput(llb.Merge([]llb.State{s.state, layer}, c.constraints(s, s.step, "link "+strings.Join(display[1:], " "), step.Range)...).Output())
	} else {
		s.state = s.state.File(action, constraints...)
	}
	addHistory(s.image, strings.ToUpper(verb)+" "+strings.Join(display[1:], " "), false)
	return nil
}

// parentsSource splits a source of a copy with parents as COPY --parents
// does: the directory copied from (the part before a /./, else the root)
// and the pattern of what it keeps, which must exist when it has no
// wildcard.
func parentsSource(src string) (dir string, include, required []string) {
	dir, pattern, pivot := strings.Cut(src, "/./")
	if !pivot {
		dir, pattern = "/", src
	}
	dir, pattern = path.Join("/", dir), path.Join("/", pattern)
	if !hasWildcard(dir) && !hasWildcard(pattern) {
		required = []string{path.Join(dir, pattern)}
	}
	return dir, []string{strings.TrimPrefix(pattern, "/")}, required
}

// hasWildcard tells a path with a glob character not escaped.
func hasWildcard(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*', '?', '[':
			return true
		case '\\':
			i++
		}
	}
	return false
}

// ownership returns the options of a copy, add or file step's chown and
// chmod, and their flags as the Dockerfile would show them.
func (c *converter) ownership(s *stageState, step *spec.Step) (opts []llb.CopyOption, chmod *llb.ChmodOpt, display []string, err error) {
	if step.Chown.Loc.Present() {
		chown, err := c.spec.Expand(step.Chown, s.vars)
		if err != nil {
			return nil, nil, nil, err
		}
		if step.Link.Value && !spec.NumericOwner(chown) {
			return nil, nil, nil, c.spec.ErrorAt(step.Chown.Loc.Value, "chown %q with link = true: names cannot be looked up in an independent layer; use numeric uid[:gid]", chown)
		}
		opts = append(opts, llb.WithUser(chown))
		display = append(display, "--chown="+chown)
	}
	if step.Chmod.Loc.Present() {
		v, err := c.spec.Expand(step.Chmod, s.vars)
		if err != nil {
			return nil, nil, nil, err
		}
		mode, err := spec.ParseMode("chmod", v)
		if err != nil {
			return nil, nil, nil, c.spec.ErrorAt(step.Chmod.Loc.Value, "%w", err)
		}
		chmod = &llb.ChmodOpt{Mode: os.FileMode(mode)}
		display = append(display, "--chmod="+v)
	}
	return opts, chmod, display, nil
}

// file converts a file step as the Dockerfile builds COPY <<EOF: the
// content written 0644 into an empty state, then copied to its path with
// the step's chown and chmod, creating the directories above it.
func (c *converter) file(s *stageState, step *spec.Step) error {
	target, err := c.spec.Expand(step.Path, s.vars)
	if err != nil {
		return err
	}
	if spec.IsDirDest(target) { // validation checks the paths written out
		return c.spec.ErrorAt(step.Path.Loc.Value, "file %q names a directory: give the path of the file itself", target)
	}
	content := step.Content.Value
	if step.Expand.Value {
		if content, err = c.spec.Expand(step.Content, s.vars); err != nil {
			return err
		}
	}
	opts, chmod, flags, err := c.ownership(s, step)
	if err != nil {
		return err
	}
	dest := destPath(s.image.Config.WorkingDir, target)
	name := path.Base(dest)
	inline := llb.Scratch().File(llb.Mkfile(name, 0o644, []byte(content)),
		llb.WithCustomName("[internal] preparing inline document"), llb.Platform(s.platform))
	action := llb.Copy(inline, name, dest, append([]llb.CopyOption{&llb.CopyInfo{Mode: chmod, CreateDestPath: true}}, opts...)...)
	s.state = s.state.File(action, c.constraints(s, s.step, strings.Join(slices.Concat([]string{"file"}, flags, []string{target}), " "), step.Range)...)
	addHistory(s.image, strings.Join(slices.Concat([]string{"COPY"}, flags, []string{"<<EOF", target}), " "), false)
	return nil
}

// remote returns the state of an add source that is a URL: an http(s)
// download or a git repository. ok is false for local sources.
func (c *converter) remote(s *stageState, step *spec.Step, at spec.String, src string) (st llb.State, file string, ok bool, err error) {
	name := c.name(s, s.step, "add "+src)
	checksum := ""
	if step.Checksum.Loc.Present() {
		if checksum, err = c.spec.Expand(step.Checksum, s.vars); err != nil {
			return llb.State{}, "", false, err
		}
	}
	kind := spec.SourceKindOf(src)
	if kind == spec.SourceGit {
		st, err := gitState(src, checksum, step.KeepGitDir.Value, &c.opt, llb.WithCustomName(name), c.location(step.Range))
		if err != nil {
			return llb.State{}, "", false, c.spec.ErrorAt(at.Loc.Value, "%w", err)
		}
		return st, "/", true, nil
	}
	if kind != spec.SourceHTTP {
		return llb.State{}, "", false, nil
	}
	file = "__unnamed__"
	if u, err := url.Parse(src); err == nil {
		if base := path.Base(u.Path); base != "." && base != "/" {
			file = base
		}
	}
	// The download carries the step's lines too: a wrong checksum or an
	// unreachable URL fails there.
	opts := []llb.HTTPOption{llb.Filename(file), llb.WithCustomName(name), c.location(step.Range)}
	if checksum != "" {
		d, err := spec.ParseDigest(checksum)
		if err != nil {
			return llb.State{}, "", false, c.spec.ErrorAt(step.Checksum.Loc.Value, "%w", err)
		}
		opts = append(opts, llb.Checksum(d))
	}
	return llb.HTTP(src, opts...), file, true, nil
}

// destPath resolves a copy destination against the working directory,
// keeping a trailing slash, which means "into this directory".
func destPath(workdir, to string) string {
	dir := spec.IsDirDest(to)
	p := to
	if !path.IsAbs(p) {
		p = path.Join("/", workdir, p)
	}
	p = path.Clean(p)
	if dir && p != "/" {
		p += "/"
	}
	return p
}
