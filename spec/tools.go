package spec

import (
	"path"
	"slices"
)

// Tool is a build tool whose cache directories tomlfront knows: the command
// words that run it, where it keeps its cache in official images when
// nothing points it elsewhere, and whether it locks those directories.
// The lint rules read which tools lock what; the converter names a
// Dockerfile's cache mounts after the directories; the presets of the
// package managers mount the same directories.
type Tool struct {
	Commands []string
	Dirs     []ToolDir
	Locks    bool
}

// ToolDir is a tool's cache directory and the name the converter gives a
// cache mounted there.
type ToolDir struct {
	Path, Cache string
}

// The package managers' own directories, which their presets mount too.
const (
	aptCacheDir = "/var/cache/apt"
	aptListsDir = "/var/lib/apt"
	apkCacheDir = "/etc/apk/cache"
	dnfCacheDir = "/var/cache/dnf"
	mavenDir    = "/root/.m2"
)

// Tools are the tools tomlfront knows, in no particular order.
var Tools = []Tool{
	{Commands: []string{"apt-get", "apt", "aptitude"}, Locks: true, Dirs: []ToolDir{
		{aptCacheDir, "apt"}, {aptListsDir, "apt-lists"}, {aptListsDir + "/lists", "apt-lists"}}},
	{Commands: []string{"apk"}, Locks: true, Dirs: []ToolDir{{apkCacheDir, "apk"}, {"/var/cache/apk", "apk"}}},
	{Commands: []string{"dnf", "yum", "microdnf", "tdnf"}, Locks: true, Dirs: []ToolDir{{dnfCacheDir, "dnf"}, {"/var/cache/yum", "yum"}}},
	{Commands: []string{"yarn"}, Locks: true, Dirs: []ToolDir{{"/usr/local/share/.cache/yarn", "yarn"}, {"/root/.cache/yarn", "yarn"}}},
	{Commands: []string{"mvn", "mvnw", "./mvnw"}, Locks: true, Dirs: []ToolDir{{mavenDir, "maven"}}},
	{Commands: []string{"go"}, Dirs: []ToolDir{{"/root/.cache/go-build", "go-build"}, {"/go/pkg/mod", "go-mod"}, {"/root/go/pkg/mod", "go-mod"}}},
	{Commands: []string{"npm"}, Dirs: []ToolDir{{"/root/.npm", "npm"}}},
	{Commands: []string{"pip", "pip3"}, Dirs: []ToolDir{{"/root/.cache/pip", "pip"}}},
	{Commands: []string{"uv"}, Dirs: []ToolDir{{"/root/.cache/uv", "uv"}}},
	{Commands: []string{"cargo"}, Dirs: []ToolDir{{"/usr/local/cargo/registry", "cargo-registry"}, {"/usr/local/cargo/git", "cargo-git"}}},
	{Commands: []string{"gradle", "gradlew", "./gradlew"}, Dirs: []ToolDir{{"/root/.gradle", "gradle"}}},
}

// ToolCacheName is the name of the cache for a tool's directory, or "" when
// no known tool keeps its cache at dir.
func ToolCacheName(dir string) string {
	dir = path.Clean(dir)
	for _, t := range Tools {
		if i := slices.IndexFunc(t.Dirs, func(d ToolDir) bool { return d.Path == dir }); i >= 0 {
			return t.Dirs[i].Cache
		}
	}
	return ""
}
