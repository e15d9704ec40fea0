package spec

import (
	"errors"
	"strings"
	"testing"
)

// invalidSpecs are specs with mistakes, each with every error it must give,
// exactly, in FILE:LINE:COL: message form.
var invalidSpecs = []struct {
	name string
	src  string
	want []string
}{
	{"trim", "[caches.a]\npreset = \"go\"\ntrim = false\n[caches.b]\ntarget = \"/b\"\npersist = true\ntrim = true\n[caches.c]\npreset = \"pip\"\npersist = true\ntrim = false\n[stages.s]\nfrom = \"busybox\"\n", []string{
		"build.toml:3:1: `trim` trims the snapshot of a persisted cache, but cache \"a\" has no persist = true",
		"build.toml:7:8: cache \"b\" has no preset that knows how to trim it; the caches of apt, cargo, ccache, go, uv are trimmed by default",
	}},
	{"max_size", "[caches.a]\ntarget = \"/a\"\nmax_size = \"1g\"\n[caches.b]\ntarget = \"/b\"\npersist = true\nmax_size = \"lots\"\n[stages.s]\nfrom = \"busybox\"\n", []string{
		"build.toml:3:1: `max_size` caps the snapshot of a persisted cache, but cache \"a\" has no persist = true",
		"build.toml:7:12: invalid max_size \"lots\": write bytes or a size such as \"64m\" or \"2g\"",
	}},
	{"toml syntax", "[stages.a]\nfrom = \"busybox\n", []string{
		"build.toml:2:16: invalid TOML: basic strings cannot have new lines",
	}},
	{"duplicate key", "[stages.a]\nfrom = \"busybox\"\nfrom = \"debian\"\n", []string{
		"build.toml:3:1: invalid TOML: key from is defined twice",
	}},
	{"table defined twice", "[stages.a]\nfrom = \"busybox\"\n[stages.a]\n", []string{
		"build.toml:3:9: invalid TOML: table [stages.a] is already defined",
	}},
	{"header into inline table", "[stages]\na = { from = \"busybox\" }\n[stages.a.image]\n", []string{
		"build.toml:3:9: invalid TOML: key stages.a is already defined as an inline table, which cannot be extended",
	}},
	{"array of tables after static array", "[stages.a]\nfrom = \"busybox\"\nsteps = []\n[[stages.a.steps]]\nrun = \"true\"\n", []string{
		"build.toml:4:12: invalid TOML: cannot append to [[stages.a.steps]]: stages.a.steps is already defined as an array",
	}},
	{"integer out of range", "version = 99999999999999999999\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:1:11: invalid TOML: integer 99999999999999999999 is out of range",
	}},
	{"unknown top-level key", "verison = 1\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:1:1: unknown key \"verison\" in the top level (did you mean \"version\"?); allowed: args, caches, contexts, default, include, lint, stages, version",
	}},
	{"version other than 1", "version = 2\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:1:11: unsupported version 2: the only version is 1",
	}},
	{"version wrong type", "version = \"1\"\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:1:11: \"version\" must be an integer, found a string",
	}},
	{"no stages", "version = 1\n", []string{
		"build.toml:1:1: no stages: a spec needs at least one [stages.NAME] table with a `from`",
	}},
	{"default unknown stage", "default = \"bulid\"\n[stages.build]\nfrom = \"busybox\"\n", []string{
		"build.toml:1:11: default names unknown stage \"bulid\" (did you mean \"build\"?); stages: build",
	}},
	{"invalid stage name", "[stages.Build]\nfrom = \"busybox\"\n", []string{
		"build.toml:1:1: invalid stage name \"Build\": names are lowercase letters, digits, '_', '.' and '-', starting with a letter",
	}},
	{"invalid cache name", "[caches.1go]\ntarget = \"/x\"\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:1:9: invalid cache name \"1go\": names are lowercase letters, digits, '_', '.' and '-', starting with a letter",
	}},
	{"stage without from", "[stages.a]\nworkdir = \"/src\"\n", []string{
		"build.toml:1:1: stage \"a\" has no `from`: set it to an image, another stage, \"scratch\" or \"context:NAME\"",
	}},
	{"unknown stage key", "[stages.a]\nfrom = \"busybox\"\nform = \"x\"\n", []string{
		"build.toml:3:1: unknown key \"form\" in stage \"a\" (did you mean \"from\"?); allowed: args, caches, env, from, image, platform, sbom_scan, shell, steps, user, workdir",
	}},
	{"stage not a table", "[stages]\na = \"busybox\"\n", []string{
		"build.toml:1:1: no stages: a spec needs at least one [stages.NAME] table with a `from`",
		"build.toml:2:5: stages.a must be a table, found a string",
	}},
	{"step without verb", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nworkdir = \"/x\"\n", []string{
		"build.toml:3:1: step 1 of stage \"a\" has no verb: a step needs exactly one of run, copy, add, file",
	}},
	{"step with two verbs", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\ncopy = [\"x\"]\n", []string{
		"build.toml:5:1: step 1 of stage \"a\" has both \"run\" and \"copy\": a step needs exactly one of run, copy, add, file; split it into two steps",
	}},
	{"copy key on run step", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nchmod = \"0755\"\n", []string{
		"build.toml:5:1: \"chmod\" applies to copy, add and file steps only, not to run steps",
	}},
	{"file without content", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nfile = \"/etc/motd\"\n", []string{
		"build.toml:3:1: step 1 of stage \"a\" has no content: set `content` to what the file holds (\"\" for an empty file)",
	}},
	{"file naming a directory", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nfile = \"/etc/app/\"\ncontent = \"x\"\nchmod = \"9\"\n", []string{
		"build.toml:4:8: file \"/etc/app/\" of step 1 of stage \"a\" names a directory: give the path of the file itself, e.g. \"/etc/app/config.txt\"",
		"build.toml:6:9: invalid chmod \"9\": write the permission bits in octal, from 0 to 07777, e.g. \"0755\"",
	}},
	{"file content with an undeclared variable", "[stages.a]\nfrom = \"scratch\"\n[[stages.a.steps]]\nfile = \"/x\"\ncontent = \"${NOPE}\"\nexpand = true\n[[stages.a.steps]]\nfile = \"/y\"\ncontent = \"${NOPE} stays\"\n", []string{
		"build.toml:5:11: undeclared variable \"NOPE\": neither [args], the platform args (TARGETARCH, ...) nor the stage's env, its own or inherited, sets it; declare it, or write ${NOPE:-} for empty when unset, \\$ for a literal $",
	}},
	{"devices", "[stages.a]\nfrom = \"scratch\"\n[[stages.a.steps]]\nrun = \"true\"\ndevices = [\"\", { required = false }, 3, { name = \"${GPU}\" }]\n", []string{
		"build.toml:5:12: device 1 of step 1 of stage \"a\" has an empty name: write the CDI device, e.g. \"vendor.com/gpu=all\"",
		"build.toml:5:16: device 2 has no name: set name, e.g. name = \"vendor.com/gpu=all\"",
		"build.toml:5:38: device 3 must be a name or a table, found an integer",
		"build.toml:5:50: undeclared variable \"GPU\": neither [args], the platform args (TARGETARCH, ...) nor the stage's env, its own or inherited, sets it; declare it, or write ${GPU:-} for empty when unset, \\$ for a literal $",
	}},
	{"content on a copy step", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\ncopy = [\"x\"]\ncontent = \"y\"\n", []string{
		"build.toml:5:1: \"content\" applies to file steps only, not to copy steps",
	}},
	{"run key on copy step", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\ncopy = [\"x\"]\nnetwork = \"none\"\n", []string{
		"build.toml:5:1: \"network\" applies to run steps only, not to copy steps",
	}},
	{"add key on copy step", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\ncopy = [\"x\"]\nchecksum = \"sha256:00\"\n", []string{
		"build.toml:5:1: \"checksum\" applies to add steps only, not to copy steps",
	}},
	{"unknown step key", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nnetwrok = \"none\"\n", []string{
		"build.toml:5:1: unknown key \"netwrok\" in step 1 of stage \"a\" (did you mean \"network\"?); allowed: add, caches, checksum, chmod, chown, content, copy, devices, env, exclude, expand, file, from, keep_git_dir, link, mounts, network, parents, run, security, to, unpack, user, workdir",
	}},
	{"empty run", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"  \"\n", []string{
		"build.toml:4:7: run of step 1 of stage \"a\" is empty: give a command",
	}},
	{"empty exec run", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = []\n", []string{
		"build.toml:4:7: run of step 1 of stage \"a\" is empty: give a command",
	}},
	{"run wrong type", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = 42\n", []string{
		"build.toml:4:7: \"run\" must be a string (shell form) or an array of strings (exec form), found an integer",
	}},
	{"self cycle", "[stages.a]\nfrom = \"a\"\n", []string{
		"build.toml:2:8: stages form a cycle: a → a; a stage cannot depend on itself",
	}},
	{"cycle of three", "[stages.a]\nfrom = \"b\"\n[stages.b]\nfrom = \"c\"\n[stages.c]\nfrom = \"a\"\n", []string{
		"build.toml:6:8: stages form a cycle: a → b → c → a; a stage cannot depend on itself",
	}},
	{"cycle through copy", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\ncopy = [\"/x\"]\nfrom = \"b\"\n[stages.b]\nfrom = \"a\"\n", []string{
		"build.toml:7:8: stages form a cycle: a → b → a; a stage cannot depend on itself",
	}},
	{"bad image reference", "[stages.a]\nfrom = \"Busy Box\"\n", []string{
		"build.toml:2:8: from: \"Busy Box\" is not a valid image reference (invalid reference format: repository name (library/Busy Box) must be lowercase), nor a stage; stages: a",
	}},
	{"empty context name", "[stages.a]\nfrom = \"context:\"\n", []string{
		"build.toml:2:8: from \"context:\" names no context: write \"context:NAME\" for --build-context NAME=...",
	}},
	{"invalid sharing", "[caches.c]\ntarget = \"/c\"\nsharing = \"lockd\"\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:3:11: invalid sharing \"lockd\" (did you mean \"locked\"?); allowed: shared, private, locked",
	}},
	{"cache without target", "[caches.c]\nsharing = \"locked\"\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:1:9: cache \"c\" has no target: set `target` to the directory to mount, or `preset` to one of apk, apt, cargo, ccache, dnf, go, gradle, maven, npm, pip, pnpm, uv, yarn",
	}},
	{"unknown preset", "[caches.c]\npreset = \"gp\"\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:2:10: unknown preset \"gp\" (did you mean \"go\"?); presets: apk, apt, cargo, ccache, dnf, go, gradle, maven, npm, pip, pnpm, uv, yarn",
	}},
	{"target on multi-dir preset", "[caches.c]\npreset = \"go\"\ntarget = \"/x\"\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:3:1: preset \"go\" mounts 2 directories, so `target` cannot replace them; declare a cache without a preset instead",
	}},
	{"unknown cache in stage", "[caches.gomod]\ntarget = \"/go/pkg/mod\"\n[stages.a]\nfrom = \"busybox\"\ncaches = [\"gomd\"]\n", []string{
		"build.toml:5:11: unknown cache \"gomd\" (did you mean \"gomod\"?): declare it as [caches.gomd] or use a preset (apk, apt, cargo, ccache, dnf, go, gradle, maven, npm, pip, pnpm, uv, yarn)",
	}},
	{"unknown cache in step", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\ncaches = [\"napm\"]\n", []string{
		"build.toml:5:11: unknown cache \"napm\" (did you mean \"npm\"?): declare it as [caches.napm] or use a preset (apk, apt, cargo, ccache, dnf, go, gradle, maven, npm, pip, pnpm, uv, yarn)",
	}},
	{"invalid cache mode", "[caches.c]\ntarget = \"/c\"\nmode = \"0999\"\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:3:8: invalid mode \"0999\": write the permission bits in octal, from 0 to 07777, e.g. \"0755\"",
	}},
	{"negative uid", "[caches.c]\ntarget = \"/c\"\nuid = -1\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:3:7: invalid uid -1: must be between 0 and 4294967295",
	}},
	{"cache source without from", "[caches.c]\ntarget = \"/c\"\nsource = \"/seed\"\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:3:1: `source` of cache \"c\" needs `from`: it is a path inside the stage, image or context that seeds the cache",
	}},
	{"mount without type", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ target = \"/x\" }]\n", []string{
		"build.toml:5:11: mount 1 of step 1 of stage \"a\" has no type: set type to one of bind, cache, tmpfs, secret, ssh",
	}},
	{"unknown mount type", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"cahce\", target = \"/x\" }]\n", []string{
		"build.toml:5:20: invalid mount type \"cahce\" (did you mean \"cache\"?); allowed: bind, cache, tmpfs, secret, ssh",
	}},
	{"sharing on bind mount", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"bind\", target = \"/x\", sharing = \"locked\" }]\n", []string{
		"build.toml:5:43: \"sharing\" is not an option of bind mounts; bind mounts take: target, source, from, readonly",
	}},
	{"mode on tmpfs mount", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"tmpfs\", target = \"/x\", mode = \"0700\" }]\n", []string{
		"build.toml:5:44: \"mode\" is not an option of tmpfs mounts; tmpfs mounts take: target, size",
	}},
	{"size on cache mount", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"cache\", target = \"/x\", size = \"1g\" }]\n", []string{
		"build.toml:5:44: \"size\" is not an option of cache mounts; cache mounts take: target, source, from, id, sharing, mode, uid, gid, readonly",
	}},
	{"env on ssh mount", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"ssh\", env = \"SOCK\" }]\n", []string{
		"build.toml:5:27: \"env\" is not an option of ssh mounts; ssh mounts take: target, id, mode, uid, gid, required",
	}},
	{"required on bind mount", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"bind\", target = \"/x\", required = true }]\n", []string{
		"build.toml:5:43: \"required\" is not an option of bind mounts; bind mounts take: target, source, from, readonly",
	}},
	{"from on secret mount", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"secret\", id = \"s\", from = \"a\" }]\n", []string{
		"build.toml:5:40: \"from\" is not an option of secret mounts; secret mounts take: target, id, mode, uid, gid, env, required",
		"build.toml:5:47: stages form a cycle: a → a; a stage cannot depend on itself",
	}},
	{"cache mount without target", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"cache\", id = \"x\" }]\n", []string{
		"build.toml:5:11: mount 1 of step 1 of stage \"a\" (cache) has no target: set `target` to where it is mounted",
	}},
	{"secret mount without id", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"secret\", required = true }]\n", []string{
		"build.toml:5:11: mount 1 of step 1 of stage \"a\" (secret) needs `id`, the id of --secret id=..., or a `target` whose file name is the id",
	}},
	{"invalid tmpfs size", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"tmpfs\", target = \"/t\", size = \"lots\" }]\n", []string{
		"build.toml:5:51: invalid size \"lots\": write bytes or a size such as \"64m\" or \"2g\"",
	}},
	{"mount at root", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"tmpfs\", target = \"/\" }]\n", []string{
		"build.toml:5:38: mount target \"/\" is the root directory: mount at a directory inside the image",
	}},
	{"invalid network", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nnetwork = \"hots\"\n", []string{
		"build.toml:5:11: invalid network \"hots\" (did you mean \"host\"?); allowed: default, none, host",
	}},
	{"invalid security", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nsecurity = \"privileged\"\n", []string{
		"build.toml:5:12: invalid security \"privileged\"; allowed: sandbox, insecure",
	}},
	{"undeclared variable in from", "[args]\nGO_VERSION = \"1.26\"\n[stages.a]\nfrom = \"golang:${GO_VERSON}\"\n", []string{
		"build.toml:4:8: undeclared variable \"GO_VERSON\" (did you mean \"GO_VERSION\"?): neither [args], the platform args (TARGETARCH, ...) nor the stage's env, its own or inherited, sets it; declare it, or write ${GO_VERSON:-} for empty when unset, \\$ for a literal $",
	}},
	{"env variable in from", "[stages.a]\nfrom = \"golang:${V}\"\nenv = { V = \"1\" }\n", []string{
		"build.toml:2:8: undeclared variable \"V\": neither [args], the platform args (TARGETARCH, ...) nor the stage's env, its own or inherited, sets it; declare it, or write ${V:-} for empty when unset, \\$ for a literal $",
	}},
	{"undeclared variable in copy source", "[stages.a]\nfrom = \"scratch\"\n[[stages.a.steps]]\ncopy = [\"src/${DIR}\"]\n", []string{
		"build.toml:4:9: undeclared variable \"DIR\": neither [args], the platform args (TARGETARCH, ...) nor the stage's env, its own or inherited, sets it; declare it, or write ${DIR:-} for empty when unset, \\$ for a literal $",
	}},
	{"unterminated variable", "[stages.a]\nfrom = \"busybox\"\nworkdir = \"/src/${X\"\n", []string{
		"build.toml:3:11: unclosed variable in \"/src/${X\": write ${NAME}, or \\$ for a literal $",
	}},
	{"arg not a string", "[args]\nJOBS = 4\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:2:8: arg \"JOBS\" must be a string or a table of default, required and description, found an integer (quote it: JOBS = \"4\")",
	}},
	{"required arg with a default", "[args]\nAPP = { required = true, default = \"api\" }\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:2:20: arg \"APP\" is required and has a default: a required arg has no default (drop one of them)",
	}},
	{"unknown key in an arg table", "[args]\nAPP = { requried = true }\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:2:9: unknown key \"requried\" in arg \"APP\" (did you mean \"required\"?); allowed: default, description, required",
	}},
	{"arg table of wrong types", "[args]\nAPP = { required = \"yes\", description = 1 }\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:2:20: \"required\" must be true or false, found a string",
		"build.toml:2:41: \"description\" must be a string, found an integer",
	}},
	{"invalid arg name", "[args]\n\"MY-ARG\" = \"x\"\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:2:1: invalid arg name \"MY-ARG\": use letters, digits and _, not starting with a digit",
	}},
	{"platform arg declared", "[args]\nTARGETARCH = \"amd64\"\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:2:1: arg \"TARGETARCH\" is a platform arg, set from --platform; it cannot be declared",
	}},
	{"stage uses undeclared arg", "[args]\nGO_VERSION = \"1.26\"\n[stages.a]\nfrom = \"busybox\"\nargs = [\"GO_VERSON\"]\n", []string{
		"build.toml:5:9: stage \"a\" uses undeclared arg \"GO_VERSON\" (did you mean \"GO_VERSION\"?): declare it in [args] or use a platform arg",
	}},
	{"env value not a string", "[stages.a]\nfrom = \"busybox\"\nenv = { DEBUG = true }\n", []string{
		"build.toml:3:17: env.DEBUG must be a string, found a boolean",
	}},
	{"invalid platform", "[stages.a]\nfrom = \"busybox\"\nplatform = \"linux/\"\n", []string{
		"build.toml:3:12: invalid platform \"linux/\": write os/arch[/variant], e.g. linux/arm64, or ${BUILDPLATFORM}",
	}},
	{"invalid chmod", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\ncopy = [\"x\"]\nchmod = \"rwx\"\n", []string{
		"build.toml:5:9: invalid chmod \"rwx\": write the permission bits in octal, from 0 to 07777, e.g. \"0755\"",
	}},
	{"copy without sources", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\ncopy = []\n", []string{
		"build.toml:4:8: copy of step 1 of stage \"a\" has no source: list what to copy",
	}},
	{"checksum on local add", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nadd = [\"x.tar.gz\"]\nchecksum = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"\n", []string{
		"build.toml:5:1: `checksum` verifies http(s) downloads and git commits, but \"x.tar.gz\" is a local path",
	}},
	{"invalid checksum", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nadd = [\"https://example.com/x.tgz\"]\nchecksum = \"md5:abc\"\n", []string{
		"build.toml:5:12: invalid checksum \"md5:abc\": write a digest such as \"sha256:\" followed by 64 hex digits",
	}},
	{"keep_git_dir on http add", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nadd = [\"https://example.com/x.tgz\"]\nkeep_git_dir = true\n", []string{
		"build.toml:5:1: `keep_git_dir` applies to git sources, but \"https://example.com/x.tgz\" is not a git URL",
	}},
	{"copy from unknown stage", "[stages.build]\nfrom = \"busybox\"\n[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\ncopy = [\"/x\"]\nfrom = \"Build\"\n", []string{
		"build.toml:7:8: from: \"Build\" is not a valid image reference (invalid reference format: repository name (library/Build) must be lowercase), nor a stage (did you mean \"build\"?); stages: build, a",
	}},
	{"invalid expose", "[stages.a]\nfrom = \"busybox\"\n[stages.a.image]\nexpose = [\"http\"]\n", []string{
		"build.toml:4:11: invalid port \"http\": write PORT or PORT/PROTOCOL with tcp, udp or sctp, e.g. \"8080/tcp\"",
	}},
	{"unknown image key", "[stages.a]\nfrom = \"busybox\"\n[stages.a.image]\nentrypiont = [\"/app\"]\n", []string{
		"build.toml:4:1: unknown key \"entrypiont\" in the image of stage \"a\" (did you mean \"entrypoint\"?); allowed: author, cmd, entrypoint, expose, healthcheck, labels, stop_signal, user, volumes",
	}},
	{"healthcheck bad test", "[stages.a]\nfrom = \"busybox\"\n[stages.a.image]\nhealthcheck = { test = [\"curl\", \"x\"], interval = \"soon\" }\n", []string{
		"build.toml:4:25: healthcheck test must start with NONE, CMD, CMD-SHELL, found \"curl\"",
		"build.toml:4:50: invalid interval \"soon\": write a duration such as \"30s\" or \"1m30s\"",
	}},
	{"wrong type for link", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\ncopy = [\"x\"]\nlink = \"yes\"\n", []string{
		"build.toml:5:8: \"link\" must be true or false, found a string",
	}},
	{"persist not a bool", "[caches.c]\ntarget = \"/c\"\npersist = 1\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:3:11: \"persist\" must be true or false, found an integer",
	}},
	{"secret mount with only env", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nmounts = [{ type = \"secret\", env = \"TOKEN\" }]\n", []string{
		"build.toml:5:11: mount 1 of step 1 of stage \"a\" (secret) needs `id`, the id of --secret id=..., or a `target` whose file name is the id",
	}},
	{"variable in network", "[args]\nNET = \"none\"\n[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nrun = \"true\"\nnetwork = \"${NET}\"\n", []string{
		"build.toml:7:11: network takes no variables: write one of default, none, host",
	}},
	{"several sources into a file", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\ncopy = [\"a\", \"b\"]\nto = \"/dst\"\n", []string{
		"build.toml:5:6: copy of several sources needs a directory: end `to` with a slash, e.g. \"/dst/\"",
	}},
	{"chmod out of range", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\ncopy = [\"a\"]\nchmod = \"17777\"\n", []string{
		"build.toml:5:9: invalid chmod \"17777\": write the permission bits in octal, from 0 to 07777, e.g. \"0755\"",
	}},
	{"arg uses a later arg", "[args]\nA = \"${B}\"\nB = \"x\"\n[stages.a]\nfrom = \"busybox\"\n", []string{
		"build.toml:2:5: undeclared variable \"B\": neither [args], the platform args (TARGETARCH, ...) nor the stage's env, its own or inherited, sets it; declare it, or write ${B:-} for empty when unset, \\$ for a literal $",
	}},
	{"env uses a later env", "[stages.a]\nfrom = \"scratch\"\nenv = { A = \"${B}\", B = \"x\" }\n", []string{
		"build.toml:3:13: undeclared variable \"B\" (did you mean \"A\"?): neither [args], the platform args (TARGETARCH, ...) nor the stage's env, its own or inherited, sets it; declare it, or write ${B:-} for empty when unset, \\$ for a literal $",
	}},
	{"checksum on a git URL with a query", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nadd = [\"https://example.com/repo.git?ref=v2\"]\nchecksum = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"\n", []string{
		"build.toml:5:12: invalid checksum \"sha256:0000000000000000000000000000000000000000000000000000000000000000\" of a git source: write the commit, 40 (or 64) hex digits",
	}},
	{"checksum of several sources", "[stages.a]\nfrom = \"busybox\"\n[[stages.a.steps]]\nadd = [\"https://example.com/a\", \"https://example.com/b\"]\nto = \"/x/\"\nchecksum = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"\n", []string{
		"build.toml:6:1: `checksum` verifies one source, but the step has 2",
	}},
	{"several errors sorted", "[stages.b]\nfrom = \"busybox\"\nusr = \"x\"\n[stages.a]\nform = \"busybox\"\n", []string{
		"build.toml:3:1: unknown key \"usr\" in stage \"b\" (did you mean \"user\"?); allowed: args, caches, env, from, image, platform, sbom_scan, shell, steps, user, workdir",
		"build.toml:4:1: stage \"a\" has no `from`: set it to an image, another stage, \"scratch\" or \"context:NAME\"",
		"build.toml:5:1: unknown key \"form\" in stage \"a\" (did you mean \"from\"?); allowed: args, caches, env, from, image, platform, sbom_scan, shell, steps, user, workdir",
	}},
}

func TestInvalidSpecs(t *testing.T) {
	for _, tc := range invalidSpecs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("build.toml", []byte(tc.src))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load returned %v, want Errors", err)
			}
			got := make([]string, len(errs))
			for i, e := range errs {
				got[i] = e.Error()
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
