// Package spec loads a tomlfront build spec (TOML, version 1) into a typed,
// validated Spec that remembers where every table, key and value was written.
package spec

import (
	"fmt"
	"path"
	"slices"
	"strconv"
)

// Pos is a 1-based line and column (in bytes) in the spec file.
type Pos struct{ Line, Column int }

// Before tells whether p comes before q in the file: the one order of
// positions, for sorting problems and growing ranges.
func (p Pos) Before(q Pos) bool {
	return p.Line < q.Line || p.Line == q.Line && p.Column < q.Column
}

// Range is a span of one file of the spec; End is exclusive. File indexes
// Spec.Files: 0, the zero value, is the main file.
type Range struct {
	File       int
	Start, End Pos
}

// Loc places a value: the key that names it and the value itself. List items
// have no key of their own.
type Loc struct {
	Key   Range
	Value Range
}

// Present reports whether the value was written in the file.
func (l Loc) Present() bool { return l.Value.Start.Line > 0 }

// String is a string value and where it was written.
type String struct {
	Value string
	Loc   Loc
}

// Int is an integer value and where it was written.
type Int struct {
	Value int64
	Loc   Loc
}

// Bool is a boolean value and where it was written.
type Bool struct {
	Value bool
	Loc   Loc
}

// Strings is a list of strings; Loc is the whole list.
type Strings struct {
	Values []String
	Loc    Loc
}

// Plain returns the values without their positions.
func (s Strings) Plain() []string {
	out := make([]string, len(s.Values))
	for i, v := range s.Values {
		out[i] = v.Value
	}
	return out
}

// KeyValue is one entry of a string table such as env or labels; Value.Loc.Key
// is the position of Name.
type KeyValue struct {
	Name  string
	Value String
}

// Spec is a loaded, validated build spec.
type Spec struct {
	// Files are the main file and, after it, every file it includes, in the
	// order they were read; Range.File indexes them.
	Files Files

	Version  Int
	Default  String
	Lint     Lint
	Contexts []*Context // in order of first appearance
	Args     []*Arg     // in document order
	Caches   []*Cache   // in document order
	Stages   []*Stage   // in document order

	args     map[string]*Arg
	caches   map[string]*Cache
	stages   map[string]*Stage
	contexts map[string]*Context
	argRefs  map[string]bool // names that arg defaults use
	// inherited are the variables stages use that are declared nowhere
	inherited []InheritedVar

	merged   *node            // the merged tree of every file, for Resolved
	comments []map[int]string // the comments of each file, by line
}

// Main is the file the build was asked for.
func (s *Spec) Main() *File { return s.Files[0] }

// StageNames lists the stages' names in the order of the file, for
// messages and suggestions.
func (s *Spec) StageNames() []string {
	names := make([]string, len(s.Stages))
	for i, st := range s.Stages {
		names[i] = st.Name
	}
	return names
}

// ArgUsed tells whether a declared arg matters: a stage lists it in `args`
// or any field, cache or arg default uses it with ${...}.
func (s *Spec) ArgUsed(name string) bool {
	if s.argRefs[name] {
		return true
	}
	for _, st := range s.Stages {
		if slices.Contains(st.Refs, name) {
			return true
		}
	}
	for _, c := range s.Caches {
		if slices.Contains(c.Refs, name) {
			return true
		}
	}
	return false
}

// CheckRequiredArgs fails, at each declaration, for the required args that
// buildArgs (--build-arg) leave without a value.
func (s *Spec) CheckRequiredArgs(buildArgs map[string]string) error {
	var errs Errors
	for _, a := range s.Args {
		if _, set := buildArgs[a.Name]; !a.Required.Value || set {
			continue
		}
		what := ""
		if a.Description != "" {
			what = " (" + a.Description + ")"
		}
		errs = append(errs, s.ErrorAt(a.Key, "arg %q%s is required and not set: pass --build-arg %s=VALUE, or set it in the [args] of a spec that includes this one", a.Name, what, a.Name))
	}
	if errs == nil {
		return nil
	}
	return errs
}

// Arg returns the declared arg name, or nil.
func (s *Spec) Arg(name string) *Arg { return s.args[name] }

// Context returns the declared context name, or nil.
func (s *Spec) Context(name string) *Context { return s.contexts[name] }

// Cache returns the declared cache name, or nil.
func (s *Spec) Cache(name string) *Cache { return s.caches[name] }

// Stage returns the stage name, or nil.
func (s *Spec) Stage(name string) *Stage { return s.stages[name] }

// DefaultStage is the stage built when no target is given: `default`, or the
// stage declared last.
func (s *Spec) DefaultStage() *Stage {
	if s.Default.Value != "" {
		return s.stages[s.Default.Value]
	}
	return s.Stages[len(s.Stages)-1]
}

// Lint is the `[lint]` table: a team's choice of rules. The rule names
// are checked by package lint, which knows them.
type Lint struct {
	Skip     Strings // rules not reported
	Error    Strings // rules whose findings fail the build
	ErrorAll Bool    // `error = true`: every finding fails the build
}

// Arg is a declared build argument with its default value: `NAME =
// "default"`, or `NAME = { default = "...", required = true, description =
// "..." }`.
type Arg struct {
	Name string
	Key  Range // the key that declares it
	// Value is the default; unset (no Loc) for an arg declared by a table
	// without a default.
	Value       String
	Required    Bool
	Description string // `description`, else the comment line directly above the key
}

// Range is the arg's declaration, from its key to its value.
func (a *Arg) Range() Range {
	if a.Value.Loc.Present() {
		return a.Key.Join(a.Value.Loc.Value)
	}
	return a.Key
}

// Stage is one `[stages.NAME]` table.
type Stage struct {
	Name        string
	Header      Range // the table header, or the key of an inline table
	Range       Range // header to last key
	Description string

	From     String
	Platform String
	Args     Strings
	Env      []KeyValue
	Workdir  String
	User     String
	Shell    Strings
	Caches   Strings
	Steps    []*Step
	Image    *Image
	// SBOMScan: with --sbom or --attest type=sbom, scan this stage too.
	SBOMScan Bool

	// Refs are the variables the stage uses: its `args` and every ${NAME}
	// in its fields, steps and image, sorted.
	Refs []string
}

// StepKind is the verb of a step.
type StepKind int

// The verbs a step can have.
const (
	StepRun StepKind = iota + 1
	StepCopy
	StepAdd
	StepFile
)

func (k StepKind) String() string {
	switch k {
	case StepRun:
		return "run"
	case StepCopy:
		return "copy"
	case StepAdd:
		return "add"
	case StepFile:
		return "file"
	}
	return "?"
}

// Step is one entry of a stage's steps.
type Step struct {
	Kind  StepKind
	Range Range // the whole step, for source maps

	// run
	Command  String  // shell form
	Exec     Strings // exec form
	IsExec   bool
	Caches   Strings
	Mounts   []*Mount
	Network  String
	Security String
	Devices  []*Device

	// run, shared
	Env     []KeyValue
	Workdir String
	User    String

	// file: the path written, its content, and whether ${} is expanded in it
	Path    String
	Content String
	Expand  Bool

	// copy and add (chown and chmod serve file steps too)
	Sources    Strings
	From       String
	To         String
	Chown      String
	Chmod      String
	Link       Bool
	Parents    Bool
	Exclude    Strings
	Checksum   String
	KeepGitDir Bool
	Unpack     Bool
}

// Device is a CDI device a run step gets (RUN --device).
type Device struct {
	Range    Range
	Name     String // vendor.com/class=name
	Required Bool   // true unless set false
}

// Mount types.
const (
	MountBind   = "bind"
	MountCache  = "cache"
	MountTmpfs  = "tmpfs"
	MountSecret = "secret"
	MountSSH    = "ssh"
)

// Mount is one entry of a run step's mounts, with the options of the
// Dockerfile's RUN --mount.
type Mount struct {
	Range Range
	Type  String
	// CacheFields are the keys a cache mount has; target, source, from,
	// mode, uid, gid and readonly serve the other types too.
	CacheFields
	Size     String
	Env      String
	Required Bool
}

// CacheFields are what a cache mount is made of: the keys that a
// [caches.NAME] table, a `type = "cache"` mount and a preset's directory
// share. Cache, Mount and CacheMount embed them, so the model is one from
// the decoder to llbgen.
type CacheFields struct {
	ID       String
	Target   String
	Sharing  String
	Mode     String
	UID      Int
	GID      Int
	From     String
	Source   String
	Readonly Bool
}

// Sharing modes of cache mounts.
const (
	SharingShared  = "shared"
	SharingPrivate = "private"
	SharingLocked  = "locked"
)

// SharingModes are the sharing modes a cache mount may have, in the order
// messages list them.
var SharingModes = []string{SharingShared, SharingPrivate, SharingLocked}

// CacheMountDefaults fills what a cache mount leaves out, as the Dockerfile
// does: the id is its (absolute) target, the sharing is shared. Conversion
// mounts caches with these values and lint reasons about them.
func CacheMountDefaults(id, target, sharing string) (string, string) {
	if id == "" {
		id = path.Clean(target)
	}
	if sharing == "" {
		sharing = SharingShared
	}
	return id, sharing
}

// Cache is a `[caches.NAME]` table.
type Cache struct {
	Name   string
	Header Range
	CacheFields
	Preset  String
	Persist Bool
	// MaxSize caps a persisted cache's snapshot, e.g. "2g"; MaxBytes is it
	// in bytes, 0 without a cap.
	MaxSize  String
	MaxBytes int64
	// Trim = false keeps the whole cache in snapshots; a preset's caches
	// are trimmed by default (PresetDir.Trim).
	Trim Bool

	// Refs are the variables the cache's fields use, sorted.
	Refs []string
}

// Image is a stage's `image` table: the config of the image it produces.
type Image struct {
	Header      Range
	Entrypoint  Strings
	Cmd         Strings
	User        String
	Expose      Strings
	Volumes     Strings
	Labels      []KeyValue
	StopSignal  String
	Author      String
	Healthcheck *Healthcheck
}

// Healthcheck is the image's health check, as the Dockerfile's HEALTHCHECK.
type Healthcheck struct {
	Range         Range
	Test          Strings
	Interval      String
	Timeout       String
	StartPeriod   String
	StartInterval String
	Retries       Int
}

// Join returns the smallest range that covers r and o.
func (r Range) Join(o Range) Range {
	if o.Start.Line == 0 {
		return r
	}
	if r.Start.Line == 0 {
		return o
	}
	if o.File != r.File { // no range spans two files: keep r
		return r
	}
	out := r
	if o.Start.Before(r.Start) {
		out.Start = o.Start
	}
	if r.End.Before(o.End) {
		out.End = o.End
	}
	return out
}

// ParseMode reads a permission mode as every mode and chmod of a spec is
// written: octal digits, at most 07777. key names the field in the error.
func ParseMode(key, val string) (uint32, error) {
	m, err := strconv.ParseUint(val, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("invalid %s %q: write the permission bits in octal, from 0 to 07777, e.g. \"0755\"", key, val)
	}
	return uint32(m), nil
}
