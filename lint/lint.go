// Package lint finds what is likely wrong in a valid spec without stopping
// its build: each finding names a rule documented in docs/lint.md. The same
// findings show in `tomlfront lint`, `docker buildx build --call=check` and
// as warnings of ordinary builds.
//
// It is rules over a loaded spec, and does not orchestrate: the pipeline
// runs it. Its cache rules read the cache mounts as llbgen resolves them
// (llbgen.CacheMounts, which resolves no image). It must not import a
// gateway client or reach the network.
package lint

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/distribution/reference"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/spec"
)

// Rule is a check, with a name and the reason it matters.
type Rule struct {
	Name        string
	Description string
}

// DocsURL is where the rule is explained.
func (r Rule) DocsURL() string {
	return "https://github.com/tomlfront/tomlfront/blob/main/docs/lint.md#" + strings.ToLower(r.Name)
}

// The rules.
var (
	SecretsUsedInArgOrEnv = Rule{"SecretsUsedInArgOrEnv",
		"Sensitive data should not be passed through args or env: they stay in the image config and history. Use a secret mount."}
	UndeclaredBuildArg = Rule{"UndeclaredBuildArg",
		"A --build-arg that the spec does not declare in [args] changes nothing."}
	UnusedArg = Rule{"UnusedArg",
		"An arg that no stage lists and no field uses changes nothing."}
	UnusedStage = Rule{"UnusedStage",
		"A stage that is not the default and that no other stage uses is built only with --target."}
	UnusedCache = Rule{"UnusedCache",
		"A cache that no stage or step lists is never mounted."}
	AddWithoutChecksum = Rule{"AddWithoutChecksum",
		"A download without a checksum is not verified: the build trusts whatever the server sends."}
	UnpinnedBaseImage = Rule{"UnpinnedBaseImage",
		"A base image without a tag, or tagged latest, changes under the build without notice."}
	UnknownCopyFrom = Rule{"UnknownCopyFrom",
		"A `from` that is no stage and looks like no image is often a misspelt stage name."}
	CacheIDConflict = Rule{"CacheIDConflict",
		"One cache id mounted with different sharing modes or at different targets: the builds disagree on how to use one directory."}
	CacheNeedsLock = Rule{"CacheNeedsLock",
		"A package manager that locks its cache directory, run on a cache that concurrent builds share without a lock, corrupts it."}
	CacheSharedAcrossPlatforms = Rule{"CacheSharedAcrossPlatforms",
		"In a multi-platform build, the steps of every platform write one shared cache at the same time."}
	UndeclaredContext = Rule{"UndeclaredContext",
		"A context that [contexts] does not declare has no default: every build must give it with --build-context."}
	UndeclaredVariable = Rule{"UndeclaredVariable",
		"A variable the spec declares nowhere must come from the env a stage inherits from its base image, which only a build reads."}
)

// Rules lists every rule, in the order docs/lint.md explains them.
var Rules = []Rule{SecretsUsedInArgOrEnv, UndeclaredBuildArg, UnusedArg, UnusedStage, UnusedCache,
	AddWithoutChecksum, UnpinnedBaseImage, UnknownCopyFrom, CacheIDConflict, CacheNeedsLock, CacheSharedAcrossPlatforms,
	UndeclaredContext, UndeclaredVariable}

// Options are what a build adds to the spec.
type Options struct {
	// BuildArgs are the build's --build-arg values.
	BuildArgs map[string]string
	// Platforms are the build's target platforms (--platform a,b); several
	// enable the multi-platform rules. Run converts for each.
	Platforms []ocispecs.Platform
	// BuildPlatform is the builder's platform; nil for this machine's.
	BuildPlatform *ocispecs.Platform
	// Contexts are the names of the build's --build-context values.
	Contexts []string
	// Offline is set where the contexts a build will be given and the
	// configs of base images are not known (the tomlfront CLI): a context
	// neither declared nor in Contexts is then a finding of
	// UndeclaredContext, and a variable declared nowhere, which a base's
	// env may set, one of UndeclaredVariable; a build fails on either
	// when it lacks the context or the variable.
	Offline bool
}

// Finding is one warning: a rule broken at a range of the spec.
type Finding struct {
	Rule  Rule
	Msg   string
	Range spec.Range
	// Fails is set when the spec's [lint] (or TOMLFRONT_CHECK) makes the
	// rule an error: the finding fails the build.
	Fails bool
}

// Error renders the finding as a problem of the spec file it is in: a
// warning, or an error when it fails the build.
func (f Finding) Error(files spec.Files) *spec.Error {
	e := files.ErrorAt(f.Range, "%s (%s)", f.Msg, f.Rule.Name)
	e.Severity = spec.SeverityWarning
	if f.Fails {
		e.Severity = spec.SeverityError
		e.Msg = fmt.Sprintf("%s (%s, an error by the spec's [lint], %s or %s)", f.Msg, f.Rule.Name, spec.ArgCheck, spec.ArgDockerfileCheck)
	}
	return e
}

// Failing returns the findings that fail the build, as errors of the
// spec's files; none when no finding fails.
func Failing(files spec.Files, findings []Finding) spec.Errors {
	var errs spec.Errors
	for _, f := range findings {
		if f.Fails {
			errs = append(errs, f.Error(files))
		}
	}
	return errs
}

// Check runs every rule on s for a build with opt, less those the spec's
// [lint] (or the build's TOMLFRONT_CHECK) skips; a finding of a rule they
// make an error Fails. Findings are sorted by position. The error is an
// unknown rule name in [lint] or an invalid TOMLFRONT_CHECK.
func Check(s *spec.Spec, opt Options) ([]Finding, error) {
	p, err := policyOf(s, opt.BuildArgs)
	if err != nil {
		return nil, err
	}
	c := checker{spec: s}
	c.secrets()
	c.buildArgs(opt.BuildArgs)
	c.unused()
	c.caches(opt)
	for _, st := range s.Stages {
		c.baseImage(st)
		for _, step := range st.Steps {
			c.step(step)
		}
	}
	for _, cache := range s.Caches {
		c.from(cache.From)
	}
	if opt.Offline {
		c.undeclaredContexts(opt.Contexts)
		for _, v := range s.InheritedVars() {
			c.add(UndeclaredVariable, v.At, "variable %q is declared nowhere in the spec, so stage %q must inherit it from the env of %s, which tomlfront reads only when it builds (a build without it fails here): declare it, or write ${%s:-} for empty when unset", v.Name, v.Stage, v.Base, v.Name)
		}
	}
	sort.SliceStable(c.findings, func(i, j int) bool {
		a, b := c.findings[i].Range, c.findings[j].Range
		return a.File < b.File || a.File == b.File && a.Start.Before(b.Start)
	})
	// A stage's caches apply to each of its steps: say each finding once.
	found := slices.CompactFunc(c.findings, func(a, b Finding) bool { return a == b })
	kept := found[:0]
	for _, f := range found {
		if !p.skips(f.Rule) {
			f.Fails = p.fails(f.Rule)
			kept = append(kept, f)
		}
	}
	return kept, nil
}

type checker struct {
	spec     *spec.Spec
	findings []Finding
}

func (c *checker) add(rule Rule, r spec.Range, format string, args ...any) {
	c.findings = append(c.findings, Finding{Rule: rule, Range: r, Msg: fmt.Sprintf(format, args...)})
}

// secretWords and publicWords are the Dockerfile frontend's: a name holding
// one of the first as a word is sensitive unless it holds one of the second.
var (
	secretWords = regexp.MustCompile(`(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)`)
	publicWords = regexp.MustCompile(`(?i)(?:_|^)(?:public|file|version)(?:_|$)`)
)

func sensitive(name string) bool {
	return secretWords.MatchString(name) && !publicWords.MatchString(name)
}

func (c *checker) secrets() {
	for _, a := range c.spec.Args {
		if sensitive(a.Name) {
			c.add(SecretsUsedInArgOrEnv, a.Key, "arg %q looks sensitive: pass it as a secret (--secret id=..., a `type = \"secret\"` mount)", a.Name)
		}
	}
	for _, st := range c.spec.Stages {
		envs := [][]spec.KeyValue{st.Env}
		for _, step := range st.Steps {
			envs = append(envs, step.Env)
		}
		for _, env := range envs {
			for _, e := range env {
				if sensitive(e.Name) {
					c.add(SecretsUsedInArgOrEnv, e.Value.Loc.Key, "env %q looks sensitive: mount it as a secret (`{ type = \"secret\", id = \"...\", env = %q }`)", e.Name, e.Name)
				}
			}
		}
	}
}

// buildArgs warns about --build-arg values the spec does not declare.
func (c *checker) buildArgs(values map[string]string) {
	at := spec.Range{Start: spec.Pos{Line: 1, Column: 1}, End: spec.Pos{Line: 1, Column: 1}}
	declared := make([]string, len(c.spec.Args))
	for i, a := range c.spec.Args {
		declared[i] = a.Name
	}
	names := make([]string, 0, len(values))
	for name := range values {
		if c.spec.Arg(name) == nil && !spec.BuiltinArg(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		c.add(UndeclaredBuildArg, at, "build arg %q is not declared in [args], so nothing uses it%s", name, spec.DidYouMean(name, declared))
	}
}

func (c *checker) unused() {
	for _, a := range c.spec.Args {
		if !c.spec.ArgUsed(a.Name) {
			c.add(UnusedArg, a.Key, "arg %q is declared but no stage lists it in `args` and no field uses ${%s}", a.Name, a.Name)
		}
	}
	used := map[string]bool{c.spec.DefaultStage().Name: true}
	listed := map[string]bool{}
	for _, st := range c.spec.Stages {
		for _, dep := range c.spec.Deps(st) {
			used[dep.Name] = true
		}
		for _, n := range st.Caches.Values {
			listed[n.Value] = true
		}
		for _, step := range st.Steps {
			for _, n := range step.Caches.Values {
				listed[n.Value] = true
			}
		}
	}
	for _, st := range c.spec.Stages {
		if !used[st.Name] {
			c.add(UnusedStage, st.Header, "stage %q is not the default and no stage uses it: it is built only with --target %s", st.Name, st.Name)
		}
	}
	for _, cache := range c.spec.Caches {
		if !listed[cache.Name] {
			c.add(UnusedCache, cache.Header, "cache %q is declared but no stage or step lists it in `caches`", cache.Name)
		}
	}
}

func (c *checker) step(step *spec.Step) {
	if step.Kind == spec.StepAdd && !step.Checksum.Loc.Present() {
		for _, src := range step.Sources.Values {
			if spec.SourceKindOf(src.Value) == spec.SourceHTTP {
				c.add(AddWithoutChecksum, src.Loc.Value, "%q is downloaded without a checksum: add `checksum = \"sha256:...\"`", src.Value)
			}
		}
	}
	c.from(step.From)
	for _, m := range step.Mounts {
		c.from(m.From)
	}
}

// undeclaredContexts warns about each `context:NAME` that [contexts] does
// not declare and the check was not given.
func (c *checker) undeclaredContexts(given []string) {
	for _, ref := range c.spec.ContextRefs() {
		if c.spec.Context(ref.Name) == nil && !slices.Contains(given, ref.Name) {
			c.add(UndeclaredContext, ref.At.Loc.Value, "context %q is not declared in [contexts], so every build must pass --build-context %s=...: declare it with a default source, or pass --build-context %s=DIR to check with its files", ref.Name, ref.Name, ref.Name)
		}
	}
}

// baseImage warns about a stage's image without a tag or digest, or :latest.
func (c *checker) baseImage(st *spec.Stage) {
	from := st.From.Value
	if !isImage(c.spec, from) {
		return
	}
	named, err := reference.ParseNormalizedNamed(from)
	if err != nil {
		return
	}
	if _, digested := named.(reference.Digested); digested {
		return
	}
	tagged, ok := named.(reference.Tagged)
	switch {
	case !ok:
		c.add(UnpinnedBaseImage, st.From.Loc.Value, "image %q has no tag: pin a version, e.g. %q", from, from+":1.2")
	case tagged.Tag() == "latest":
		c.add(UnpinnedBaseImage, st.From.Loc.Value, "image %q is tagged latest: pin a version", from)
	}
}

// from warns about a copy, mount or cache `from` that names no stage and
// no plausible image: a bare name, without registry, path, tag or digest.
func (c *checker) from(ref spec.String) {
	v := ref.Value
	if !ref.Loc.Present() || !isImage(c.spec, v) || strings.ContainsAny(v, "/:@") {
		return
	}
	c.add(UnknownCopyFrom, ref.Loc.Value, "from %q is no stage, so it is read as the image docker.io/library/%s:latest%s", v, v, spec.DidYouMean(v, c.spec.StageNames()))
}

// isImage tells a `from` that names an image.
func isImage(s *spec.Spec, from string) bool {
	kind, _ := s.Ref(from)
	return from != "" && kind == spec.RefImage
}
