package spec

import (
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
	"apt": {
		Dirs: []PresetDir{
			{Part: "cache", Target: "/var/cache/apt", Sharing: SharingLocked},
			{Part: "lists", Target: "/var/lib/apt", Sharing: SharingLocked},
		},
		Files: []PresetFile{{Path: "/etc/apt/apt.conf.d/docker-clean", Content: aptKeepPackages}},
	},
	"apk": {Dirs: []PresetDir{{Target: "/etc/apk/cache", Sharing: SharingLocked}}},
	"dnf": {Dirs: []PresetDir{{Target: "/var/cache/dnf", Sharing: SharingLocked}}},
	"go": {
		Dirs: []PresetDir{
			{Part: "mod", Target: "/go/pkg/mod", Sharing: SharingShared},
			{Part: "build", Target: "/root/.cache/go-build", Sharing: SharingShared},
		},
		Env: env("GOMODCACHE", "/go/pkg/mod", "GOCACHE", "/root/.cache/go-build"),
	},
	"npm":    {Dirs: []PresetDir{{Target: "/root/.npm", Sharing: SharingShared}}, Env: env("npm_config_cache", "/root/.npm")},
	"yarn":   {Dirs: []PresetDir{{Target: "/usr/local/share/.cache/yarn", Sharing: SharingLocked}}, Env: env("YARN_CACHE_FOLDER", "/usr/local/share/.cache/yarn")},
	"pnpm":   {Dirs: []PresetDir{{Target: "/root/.local/share/pnpm/store", Sharing: SharingShared}}, Env: env("npm_config_store_dir", "/root/.local/share/pnpm/store")},
	"pip":    {Dirs: []PresetDir{{Target: "/root/.cache/pip", Sharing: SharingShared}}, Env: env("PIP_CACHE_DIR", "/root/.cache/pip")},
	"uv":     {Dirs: []PresetDir{{Target: "/root/.cache/uv", Sharing: SharingShared}}, Env: env("UV_CACHE_DIR", "/root/.cache/uv")},
	"maven":  {Dirs: []PresetDir{{Target: "/root/.m2/repository", Sharing: SharingLocked}}},
	"gradle": {Dirs: []PresetDir{{Target: "/root/.gradle/caches", Sharing: SharingShared}}},
	"ccache": {Dirs: []PresetDir{{Target: "/root/.cache/ccache", Sharing: SharingShared}}, Env: env("CCACHE_DIR", "/root/.cache/ccache")},
	"cargo": {
		Dirs: []PresetDir{
			{Part: "registry", Target: "/usr/local/cargo/registry", Sharing: SharingShared},
			{Part: "git", Target: "/usr/local/cargo/git", Sharing: SharingShared},
		},
	},
}

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
	Cache    string // the name listed in `caches`
	Part     string // the preset directory's part, for presets of several
	ID       String // without the BUILDKIT_CACHE_MOUNT_NS namespace
	Target   String
	Sharing  String
	Mode     String
	UID      Int
	GID      Int
	From     String
	Source   String
	Readonly Bool
	Persist  Bool
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
			m := CacheMount{Cache: name, Part: d.Part, ID: String{Value: name}, Target: String{Value: d.Target}, Sharing: String{Value: d.Sharing}}
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
	m := CacheMount{Cache: name, ID: String{Value: name}, Sharing: String{Value: SharingShared}}
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
}
