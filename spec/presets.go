package spec

import (
	"slices"
	"sort"
)

// Preset is a built-in cache: where a tool keeps its cache, the sharing mode
// the tool needs, the environment that points the tool there, and files laid
// over the image while the cache is mounted.
type Preset struct {
	Name  string
	Dirs  []PresetDir
	Env   []KeyValue
	Files []PresetFile
}

// PresetDir is one cache directory of a preset. Part names the directory in
// the cache id when a preset has several: "<cache>/<part>".
type PresetDir struct {
	Part    string
	Target  string
	Sharing string
	Mode    string // of the cache root; empty for root's 0755
	// Trim is the shell that trims the directory before a snapshot export
	// (see llbgen/snapshot.sh): run in the cache, it prints the paths
	// (./...) the next build does not need, to leave out of the snapshot,
	// and may clean up with the tool's own command. $TF_STAGE is the root
	// of the stage that mounts the cache, $TF_WORK a directory for its own
	// files; a file not modified for $TF_UNUSED_MIN minutes was not used in
	// this build. Empty: the snapshot keeps the whole directory.
	Trim string
}

// PresetFile is a file bind-mounted read-only over the image while the
// preset's caches are mounted, so it changes the tool's behaviour without
// leaving anything in the image.
type PresetFile struct {
	Path    string
	Content string
}

// aptKeepPackages replaces the Debian and Ubuntu images' docker-clean, which
// deletes every downloaded package and so would empty the cache mount.
const aptKeepPackages = "// tomlfront: keep downloaded packages in the apt cache mount\nBinary::apt::APT::Keep-Downloaded-Packages \"true\";\n"

func env(pairs ...string) []KeyValue {
	var out []KeyValue
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, KeyValue{Name: pairs[i], Value: String{Value: pairs[i+1]}})
	}
	return out
}

// Presets are the built-in caches, by name.
var Presets = map[string]Preset{
	// Package managers run as root and lock their directories.
	"apt": {
		Dirs: []PresetDir{
			{Part: "cache", Target: aptCacheDir, Sharing: SharingLocked, Trim: trimApt},
			{Part: "lists", Target: aptListsDir, Sharing: SharingLocked},
		},
		Files: []PresetFile{{Path: "/etc/apt/apt.conf.d/docker-clean", Content: aptKeepPackages}},
	},
	"apk": {Dirs: []PresetDir{{Target: apkCacheDir, Sharing: SharingLocked}}},
	"dnf": {Dirs: []PresetDir{{Target: dnfCacheDir, Sharing: SharingLocked}}},
	// Language tools are pointed by their environment at a directory under
	// /var/cache/tomlfront, world-writable, so that a non-root `user` can use
	// it as well as root; a home directory such as /root would not do.
	"go": {
		Dirs: []PresetDir{
			{Part: "mod", Target: toolDir + "/go/mod", Sharing: SharingShared, Mode: anyUser},
			{Part: "build", Target: toolDir + "/go/build", Sharing: SharingShared, Mode: anyUser, Trim: trimGoBuild},
		},
		Env: env("GOMODCACHE", toolDir+"/go/mod", "GOCACHE", toolDir+"/go/build"),
	},
	"npm": {
		// No trim: `npm cache verify` took 8 s of node-app's 12 s export
		// (it hashes the whole cache) for garbage that is rarely there.
		Dirs: []PresetDir{{Target: toolDir + "/npm", Sharing: SharingShared, Mode: anyUser}},
		// prefer-offline: take what the cache has without asking the registry.
		Env: env("npm_config_cache", toolDir+"/npm", "npm_config_prefer_offline", "true"),
	},
	"yarn":   {Dirs: []PresetDir{{Target: toolDir + "/yarn", Sharing: SharingLocked, Mode: anyUser}}, Env: env("YARN_CACHE_FOLDER", toolDir+"/yarn")},
	"pnpm":   {Dirs: []PresetDir{{Target: toolDir + "/pnpm", Sharing: SharingShared, Mode: anyUser}}, Env: env("npm_config_store_dir", toolDir+"/pnpm")},
	"pip":    {Dirs: []PresetDir{{Target: toolDir + "/pip", Sharing: SharingShared, Mode: anyUser}}, Env: env("PIP_CACHE_DIR", toolDir+"/pip")},
	"uv":     {Dirs: []PresetDir{{Target: toolDir + "/uv", Sharing: SharingShared, Mode: anyUser, Trim: toolTrim("uv", "uv cache prune --cache-dir .")}}, Env: env("UV_CACHE_DIR", toolDir+"/uv")},
	"ccache": {Dirs: []PresetDir{{Target: toolDir + "/ccache", Sharing: SharingShared, Mode: anyUser, Trim: toolTrim("ccache", "CCACHE_DIR=. ccache --cleanup")}}, Env: env("CCACHE_DIR", toolDir+"/ccache")},
	"gradle": {Dirs: []PresetDir{{Target: toolDir + "/gradle", Sharing: SharingShared, Mode: anyUser}}, Env: env("GRADLE_USER_HOME", toolDir+"/gradle")},
	// Maven and Cargo keep their caches where their official images do.
	"maven": {Dirs: []PresetDir{{Target: mavenDir + "/repository", Sharing: SharingLocked}}},
	"cargo": {
		Dirs: []PresetDir{
			{Part: "registry", Target: "/usr/local/cargo/registry", Sharing: SharingShared, Trim: trimCargoRegistry},
			{Part: "git", Target: "/usr/local/cargo/git", Sharing: SharingShared},
		},
	},
}

// The trims of PresetDir.Trim: only what the next build of the same target
// gets back without a download.
const (
	// Go touches each build cache entry it uses (when it is more than an
	// hour old), so an entry older than the build by an hour was not used.
	trimGoBuild = `find . -path './[0-9a-f][0-9a-f]/*' -type f -mmin +"$TF_UNUSED_MIN"`
	// Packages of the versions the stage has installed stay; the package
	// caches (*.bin) are rebuilt from the lists.
	trimApt = `find . -maxdepth 1 -name '*.bin'
find ./archives/partial -mindepth 1 2>/dev/null || true
status="$TF_STAGE/var/lib/dpkg/status"
if [ -f "$status" ]; then
  awk '/^Package:/ { p = $2 } /^Version:/ { v = $2; gsub(":", "%3a", v) } /^Architecture:/ { a = $2 }
    /^$/ { if (p != "") print "./archives/" p "_" v "_" a ".deb"; p = "" }
    END { if (p != "") print "./archives/" p "_" v "_" a ".deb" }' "$status" >"$TF_WORK/installed"
  find ./archives -maxdepth 1 -name '*.deb' | grep -vxF -f "$TF_WORK/installed" || true
fi`
	// Cargo unpacks sources again from the .crate files it keeps.
	trimCargoRegistry = `[ ! -d ./src ] || echo ./src`
)

// toolTrim runs a tool's own clean-up, safe for what the next build needs,
// where the stage's base image has the tool.
func toolTrim(tool, clean string) string {
	return "if command -v " + tool + " >/dev/null 2>&1; then " + clean + " >&2; fi"
}

// toolDir holds the language tools' caches; anyUser is their mode.
const (
	toolDir = "/var/cache/tomlfront"
	anyUser = "0777"
)

func init() {
	for name, p := range Presets {
		p.Name = name
		Presets[name] = p
	}
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(Presets))
	for n := range Presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CacheMount is one directory a cache mounts, with the preset's values
// already overridden by the cache table's.
type CacheMount struct {
	Cache string // the name listed in `caches`
	Part  string // the preset directory's part, for presets of several
	// CacheFields.ID is without the BUILDKIT_CACHE_MOUNT_NS namespace.
	CacheFields
	Persist Bool
	Trim    string // the preset directory's trim, unless trim = false
}

// ResolvedCache is what listing a cache name in `caches` adds to a run step.
type ResolvedCache struct {
	Mounts []CacheMount
	Env    []KeyValue
	Files  []PresetFile
}

// ResolveCache returns the mounts of the cache name, a declared cache or a
// preset. It must only be called on validated specs.
func (sp *Spec) ResolveCache(name string) ResolvedCache {
	c := sp.caches[name]
	presetName := name
	if c != nil {
		presetName = c.Preset.Value
	}
	if c == nil || presetName != "" {
		p := Presets[presetName]
		out := ResolvedCache{Env: p.Env, Files: p.Files}
		for _, d := range p.Dirs {
			m := CacheMount{Cache: name, Part: d.Part, Trim: d.Trim, CacheFields: CacheFields{
				ID: String{Value: name}, Target: String{Value: d.Target}, Sharing: String{Value: d.Sharing}, Mode: String{Value: d.Mode}}}
			if d.Part != "" {
				m.ID.Value += "/" + d.Part
			}
			if c != nil {
				m.override(c, d.Part)
			}
			out.Mounts = append(out.Mounts, m)
			if m.Target.Value != d.Target { // the tool must look where the cache now is
				out.Env = retarget(out.Env, d.Target, m.Target.Value)
			}
		}
		return out
	}
	m := CacheMount{Cache: name, CacheFields: CacheFields{ID: String{Value: name}, Sharing: String{Value: SharingShared}}}
	m.override(c, "")
	return ResolvedCache{Mounts: []CacheMount{m}}
}

// retarget returns env with the values naming dir replaced by target.
func retarget(env []KeyValue, dir, target string) []KeyValue {
	out := make([]KeyValue, len(env))
	for i, e := range env {
		out[i] = e
		if e.Value.Value == dir {
			out[i].Value.Value = target
		}
	}
	return out
}

// override applies the fields written in c; part is the preset directory's
// part, appended to an explicit id when the preset has several directories.
func (m *CacheMount) override(c *Cache, part string) {
	if c.ID.Loc.Present() {
		m.ID = c.ID
		if part != "" {
			m.ID.Value += "/" + part
		}
	}
	for _, f := range []struct{ dst, src *String }{
		{&m.Target, &c.Target}, {&m.Sharing, &c.Sharing}, {&m.Mode, &c.Mode},
		{&m.From, &c.From}, {&m.Source, &c.Source},
	} {
		if f.src.Loc.Present() {
			*f.dst = *f.src
		}
	}
	m.UID, m.GID, m.Readonly, m.Persist = c.UID, c.GID, c.Readonly, c.Persist
	if c.Trim.Loc.Present() && !c.Trim.Value {
		m.Trim = ""
	}
}

// Trims says whether the preset trims a directory before an export.
func (p Preset) Trims() bool {
	return slices.ContainsFunc(p.Dirs, func(d PresetDir) bool { return d.Trim != "" })
}

// TrimmedPresets lists the presets that trim a directory before an export.
func TrimmedPresets() []string {
	var names []string
	for _, n := range PresetNames() {
		if Presets[n].Trims() {
			names = append(names, n)
		}
	}
	return names
}
