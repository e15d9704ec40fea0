package spec

import (
	"encoding/json"
	"maps"
	"slices"
)

// The JSON Schema of the spec, for editors (Taplo, Tombi): every key of every
// table the decoder knows, with its type, description, default and allowed
// values, as the decoder's own tables (decode.go, mountkeys.go) state them
// beside how each key is decoded: the schema cannot drift from the
// language. The helpers below build those statements.

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
	desc  string
	keys  map[string]prop
	order []string // the keys, in the decoder's order
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

// ruleList is a list of lint rule names; the schema defines "rule" as the
// names JSONSchema is given.
var ruleList = prop{"type": "array", "items": prop{"$ref": "#/definitions/rule"}}

// schemaTables are the spec's tables, by definition name: each key's schema
// as the decoder's tables state it.
func schemaTables() map[string]schemaTable {
	return map[string]schemaTable{
		"spec":        tableOf("A tomlfront build spec (version 1).", specFields),
		"lint":        tableOf("A team's lint rules (tomlfront lint, --call=check and builds).", lintFields),
		"arg":         tableOf("An arg declared by a table.", argFields),
		"context":     tableOf("A named context's default source, pinned by a checksum.", contextFields),
		"cache":       tableOf("A named cache mount.", cacheFields),
		"stage":       tableOf("A build stage.", stageFields),
		"step":        tableOf(stepDescription, stepFields),
		"mount":       tableOf("A mount of a run step, as RUN --mount.", mountFields),
		"device":      tableOf("A CDI device of a run step, as RUN --device.", deviceFields),
		"image":       tableOf("The image config of a stage.", imageFields),
		"healthcheck": tableOf("The image's health check.", healthcheckFields),
	}
}

// tableOf is the schema of a decoder's table.
func tableOf[V tableKey](desc string, keys []V) schemaTable {
	t := schemaTable{desc: desc, keys: make(map[string]prop, len(keys))}
	for _, k := range keys {
		t.keys[k.keyName()] = k.schemaProp()
		t.order = append(t.order, k.keyName())
	}
	return t
}

// KeyOrder lists the keys of a table ("stage", "step", "cache", "image",
// ...: the schema's definition names) in the order the decoder declares
// them, which is the order tomlfront convert writes them in and the key
// index of docs/spec.md lists them in.
var KeyOrder = func() func(table string) []string {
	order := map[string][]string{}
	for name, t := range schemaTables() {
		order[name] = t.order
	}
	return func(table string) []string { return order[table] }
}()

func (f field[T]) schemaProp() prop { return f.schema }
func (k stepKey) schemaProp() prop  { return k.schema }

// SchemaURL is where the schema is published, as its $id.
const SchemaURL = "https://raw.githubusercontent.com/tomlfront/tomlfront/main/schema/tomlfront.schema.json"

// JSONSchema is the spec's JSON Schema (draft 4, which Taplo reads), the
// lint rule names given as the values [lint] allows.
func JSONSchema(ruleNames []string) ([]byte, error) {
	tables := schemaTables()
	defs := map[string]any{"rule": prop{"type": "string", "description": "A lint rule (docs/lint.md).", "enum": slices.Sorted(slices.Values(ruleNames))}}
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
