package spec

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// The JSON Schema of the spec, for editors (Taplo, Tombi): every key of every
// table the decoder knows, with its type, description, default and allowed
// values. The tables below name the same keys as the decoder's; a test
// fails when they do not, so the schema cannot drift from the language.

// prop is the schema of one value.
type prop map[string]any

func str(desc string) prop { return prop{"type": "string", "description": desc} }

func strEnum(desc string, values ...string) prop {
	return prop{"type": "string", "description": desc, "enum": values}
}

func withDefault(p prop, def any) prop {
	p["default"] = def
	return p
}

func boolean(desc string, def bool) prop {
	return prop{"type": "boolean", "description": desc, "default": def}
}

func integer(desc string, minimum, maximum int64) prop {
	return prop{"type": "integer", "description": desc, "minimum": minimum, "maximum": maximum}
}

func strList(desc string) prop {
	return prop{"type": "array", "description": desc, "items": prop{"type": "string"}}
}

func strOrList(desc string) prop {
	return prop{"description": desc, "oneOf": []any{prop{"type": "string"}, prop{"type": "array", "items": prop{"type": "string"}}}}
}

func strTable(desc string) prop {
	return prop{"type": "object", "description": desc, "additionalProperties": prop{"type": "string"}}
}

func ref(desc, def string) prop {
	return prop{"description": desc, "allOf": []any{prop{"$ref": "#/definitions/" + def}}}
}

// named is a table of tables whose keys are names matching pattern.
func named(desc, pattern string, item prop) prop {
	return prop{"type": "object", "description": desc, "patternProperties": map[string]any{pattern: item}, "additionalProperties": false}
}

// schemaTable is the schema of a table: its keys, which must be the
// decoder's.
type schemaTable struct {
	desc string
	keys map[string]prop
}

func (t schemaTable) object() prop {
	return prop{"type": "object", "description": t.desc, "properties": t.keys, "additionalProperties": false}
}

const (
	namePatternJSON = `^[a-z][a-z0-9_.-]*$`
	argPatternJSON  = `^[A-Za-z_][A-Za-z0-9_]*$`
	contextPattern  = `^[A-Za-z0-9][A-Za-z0-9_.-]*$`
	modeDesc        = `octal, e.g. "0755"`
)

// schemaTables are the spec's tables, by definition name.
func schemaTables(ruleNames []string) map[string]schemaTable {
	ruleList := prop{"type": "array", "items": prop{"type": "string", "enum": ruleNames}}
	return map[string]schemaTable{
		"spec": {"A tomlfront build spec (version 1).", map[string]prop{
			"version": prop{"type": "integer", "description": "The spec version; 1 is the only one.", "enum": []any{1}},
			"default": str("The stage built when no --target is given. Default: the stage declared last."),
			"include": prop{"type": "array", "description": `Specs merged into this one, in order, before it: paths relative to this file, or "context:NAME/PATH".`, "items": prop{"type": "string"}},
			"contexts": named("Named contexts the spec declares, with their default source; --build-context NAME=... replaces it.", contextPattern,
				prop{"oneOf": []any{prop{"type": "string"}, prop{"$ref": "#/definitions/context"}}}),
			"args": named(`Build arguments and their defaults: NAME = "default", or a table of default, required and description.`, argPatternJSON,
				prop{"oneOf": []any{prop{"type": "string"}, prop{"$ref": "#/definitions/arg"}}}),
			"lint":   ref("A team's lint rules: which are not reported and which fail the build.", "lint"),
			"caches": named("Named cache mounts.", namePatternJSON, prop{"$ref": "#/definitions/cache"}),
			"stages": named("The build stages; at least one.", namePatternJSON, prop{"$ref": "#/definitions/stage"}),
		}},
		"lint": {"A team's lint rules (tomlfront lint, --call=check and builds).", map[string]prop{
			"skip":  prop{"description": "Rules not reported.", "allOf": []any{ruleList}},
			"error": prop{"description": "Rules whose findings fail the build, or true for all.", "oneOf": []any{prop{"type": "boolean"}, ruleList}},
		}},
		"arg": {"An arg declared by a table.", map[string]prop{
			"default":     str("The value when nothing sets it."),
			"required":    boolean("The build fails unless a later file or --build-arg sets the arg; not with a default.", false),
			"description": str("Shown by --call=outline."),
		}},
		"context": {"A named context's default source, pinned by a checksum.", map[string]prop{
			"source":   str(`A git URL (with #ref:subdir), "docker-image://REF" or an http(s) URL of a tarball.`),
			"checksum": str(`The git commit (40 or 64 hex digits), or the tarball's digest ("sha256:...").`),
		}},
		"cache": {"A named cache mount.", map[string]prop{
			"target":   str("Where it is mounted; required unless it is a preset."),
			"sharing":  strEnum("How concurrent builds share it. Default: shared, or the preset's own (apt, apk, dnf: locked).", SharingModes...),
			"id":       str("The cache id on the builder. Default: the cache's name (a preset's parts: NAME/PART)."),
			"mode":     str("Mode of a new cache root, " + modeDesc + "."),
			"uid":      integer("Owner of a new cache root.", 0, 4294967295),
			"gid":      integer("Group of a new cache root.", 0, 4294967295),
			"from":     str(`Initial content: a stage, an image ref or "context:NAME".`),
			"source":   str("The path inside from that seeds the cache."),
			"readonly": boolean("Mount it read-only.", false),
			"preset":   strEnum("A built-in cache for a tool (apt, go, npm, ...), under another name.", PresetNames()...),
			"persist":  boolean("Carry the cache to new builders in cache snapshots.", false),
			"max_size": str(`With persist: the largest snapshot of the cache an export writes, e.g. "2g"; a bigger one fails the export.`),
			"trim":     boolean("With persist and a preset that trims ("+strings.Join(TrimmedPresets(), ", ")+"): leave out of snapshots what the next build does not need.", true),
		}},
		"stage": {"A build stage.", map[string]prop{
			"from":      str(`An image ref, the name of another stage, "scratch" or "context:NAME". Required.`),
			"platform":  str(`The platform, os/arch[/variant], e.g. "${BUILDPLATFORM}".`),
			"args":      strList("Declared args and platform args that run steps get as environment variables."),
			"env":       strTable("Environment of every run step, kept in the image config."),
			"workdir":   str("Working directory of every step, created if missing, kept in the image config."),
			"user":      str("User of every run step, kept in the image config."),
			"shell":     strList(`The command that runs shell-form run strings. Default: inherited, else ["/bin/sh", "-c"].`),
			"caches":    strList("Caches (named or presets) mounted on every run step."),
			"steps":     prop{"type": "array", "description": "What the stage does, in order: [[stages.NAME.steps]].", "items": prop{"$ref": "#/definitions/step"}},
			"image":     ref("The image config of the stage.", "image"),
			"sbom_scan": boolean("With --sbom or --attest type=sbom, scan this stage too: its SBOM is attached as sbom-NAME beside the image's.", false),
		}},
		"step": {stepDescription, map[string]prop{
			"run":          prop{"description": "A shell-form command (string) or an exec-form one (array).", "oneOf": []any{prop{"type": "string"}, prop{"type": "array", "items": prop{"type": "string"}}}},
			"copy":         strOrList("Sources to copy: paths (globs allowed) in the build context, or in from."),
			"add":          strOrList("Sources to add: local paths (archives unpacked), http(s) URLs or git URLs."),
			"caches":       strList("run: caches mounted on this step."),
			"mounts":       prop{"type": "array", "description": "run: mounts, as RUN --mount.", "items": prop{"$ref": "#/definitions/mount"}},
			"network":      strEnum("run: the network of the step.", networkModes...),
			"security":     strEnum("run: insecure needs --allow security.insecure.", securityModes...),
			"env":          strTable("run: environment of this step."),
			"workdir":      str("run: working directory of this step."),
			"user":         str("run: user of this step."),
			"from":         str(`copy: a stage, an image ref or "context:NAME" to copy from.`),
			"to":           str("copy, add: the destination; a trailing / means into that directory."),
			"chown":        str("copy, add: owner of the copied files, user[:group]."),
			"chmod":        str("copy, add: mode of the copied files, " + modeDesc + "."),
			"link":         boolean("copy, add: copy into an independent layer (COPY --link).", false),
			"exclude":      strList("copy, add: patterns of sources not copied."),
			"checksum":     str("add: digest of an http(s) download, or the commit of a git source."),
			"keep_git_dir": boolean("add: keep the .git directory of a git source.", false),
			"unpack":       prop{"type": "boolean", "description": "add: unpack archives. Default: true for local archives, false for downloads."},
		}},
		"mount": {"A mount of a run step, as RUN --mount.", map[string]prop{
			"type":     strEnum("The mount type.", mountTypes...),
			"target":   str("Where it is mounted."),
			"source":   str("bind, cache: the path inside from."),
			"from":     str(`bind, cache: a stage, an image ref or "context:NAME". Default: the build context.`),
			"id":       str("cache: the cache id (default: the target); secret: --secret id= (default: the target's base name); ssh: the --ssh id (default: default)."),
			"sharing":  withDefault(strEnum("cache: how concurrent builds share it.", SharingModes...), SharingShared),
			"mode":     str("cache, secret, ssh: " + modeDesc + "."),
			"uid":      integer("cache, secret, ssh: the owner.", 0, 4294967295),
			"gid":      integer("cache, secret, ssh: the group.", 0, 4294967295),
			"size":     str(`tmpfs: the size, bytes or e.g. "64m".`),
			"env":      str("secret: also expose the secret as this environment variable."),
			"readonly": prop{"type": "boolean", "description": "bind, cache: read-only; bind mounts are read-only unless false, caches writable unless true."},
			"required": boolean("secret, ssh: fail the step when it is not given.", false),
		}},
		"image": {"The image config of a stage.", map[string]prop{
			"entrypoint":  strList("ENTRYPOINT, exec form."),
			"cmd":         strList("CMD, exec form."),
			"user":        str("The user the container runs as."),
			"expose":      strList(`Ports: "PORT", "PORT/PROTOCOL" or "FROM-TO[/PROTOCOL]".`),
			"volumes":     strList("Volume paths."),
			"labels":      strTable("Labels of the image."),
			"stop_signal": str(`The signal that stops the container, e.g. "SIGTERM".`),
			"healthcheck": ref("HEALTHCHECK.", "healthcheck"),
		}},
		"healthcheck": {"The image's health check.", map[string]prop{
			"test":           prop{"type": "array", "description": `["CMD", exe, args...], ["CMD-SHELL", "command"] or ["NONE"].`, "items": prop{"type": "string"}, "minItems": 1},
			"interval":       str(`Time between checks, e.g. "30s".`),
			"timeout":        str(`Time a check may take, e.g. "5s".`),
			"start_period":   str("Time to start before failures count."),
			"start_interval": str("Time between checks during the start period."),
			"retries":        integer("Consecutive failures that make the container unhealthy.", 0, 1<<31-1),
		}},
	}
}

// decoderKeys are the keys the decoder takes in each table, by the same
// names as schemaTables: what the schema must describe, no more, no less.
func decoderKeys() map[string][]string {
	return map[string][]string{
		"spec": keysOf(specFields), "lint": keysOf(lintFields), "arg": keysOf(argFields),
		"context": keysOf(contextFields), "cache": keysOf(cacheFields), "stage": keysOf(stageFields),
		"step": keysOf(stepFields), "mount": keysOf(mountFields), "image": keysOf(imageFields),
		"healthcheck": keysOf(healthcheckFields),
	}
}

// SchemaURL is where the schema is published, as its $id.
const SchemaURL = "https://raw.githubusercontent.com/tomlfront/tomlfront/main/schema/tomlfront.schema.json"

// JSONSchema is the spec's JSON Schema (draft 4, which Taplo reads), the
// lint rule names given as the values [lint] allows.
func JSONSchema(ruleNames []string) ([]byte, error) {
	tables := schemaTables(slices.Sorted(slices.Values(ruleNames)))
	defs := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		if name != "spec" {
			defs[name] = tables[name].object()
		}
	}
	// What JSON Schema can say of the decoder's rule that a step has
	// exactly one verb.
	verbs := make([]any, len(stepVerbs))
	for i, v := range stepVerbs {
		verbs[i] = prop{"required": []string{v}}
	}
	defs["step"].(prop)["oneOf"] = verbs
	root := tables["spec"].object()
	root["$schema"] = "http://json-schema.org/draft-04/schema#"
	root["id"] = SchemaURL
	root["title"] = "tomlfront build spec"
	root["definitions"] = defs
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
