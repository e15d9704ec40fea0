package spec

import (
	"fmt"
	"strings"
)

// The key index of docs/spec.md, rendered from the decoder's tables (each
// key's schema), so that the reference cannot name a key the decoder does
// not take, or give it another type or default.

// keyIndexTables are the tables of the key index, in the order of the
// reference, with the TOML header each stands for.
var keyIndexTables = []struct{ name, header string }{
	{"spec", "top level"},
	{"arg", "[args.NAME]"},
	{"lint", "[lint]"},
	{"stage", "[stages.NAME]"},
	{"step", "[[stages.NAME.steps]]"},
	{"mount", "mounts = [{ ... }]"},
	{"image", "[stages.NAME.image]"},
	{"healthcheck", "[stages.NAME.image.healthcheck]"},
	{"cache", "[caches.NAME]"},
	{"context", "[contexts.NAME]"},
}

// keyIndex is the generated section of docs/spec.md: for each table, every
// key with its type, the default the schema states and its allowed values.
func keyIndex() string {
	tables := schemaTables()
	var b strings.Builder
	for _, t := range keyIndexTables {
		table, ok := tables[t.name]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "`%s`: %s\n\n| key | type | default | values | meaning |\n|---|---|---|---|---|\n", t.header, table.desc)
		for _, key := range table.order {
			p := table.keys[key]
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", key, typeName(p), defaultOf(p), valuesOf(p), strings.ReplaceAll(p["description"].(string), "|", `\|`))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// typeName names a value's type as the reference's tables do.
func typeName(p prop) string {
	if one, ok := p["oneOf"].([]any); ok {
		names := make([]string, len(one))
		for i, alt := range one {
			names[i] = typeName(alt.(prop))
		}
		return strings.Join(names, " or ")
	}
	if all, ok := p["allOf"].([]any); ok && len(all) == 1 {
		return typeName(all[0].(prop))
	}
	if ref, ok := p["$ref"]; ok {
		if ref == "#/definitions/rule" {
			return "string"
		}
		return "table"
	}
	switch p["type"] {
	case "array":
		return "array of " + plural(typeName(p["items"].(prop)))
	case "object":
		if v, ok := p["additionalProperties"].(prop); ok {
			return "table of " + plural(typeName(v))
		}
		for _, item := range p["patternProperties"].(map[string]any) {
			return "table of " + plural(typeName(item.(prop)))
		}
	case nil:
		return "any"
	}
	return p["type"].(string)
}

func plural(typ string) string {
	if strings.HasSuffix(typ, " or table") { // [args] entries: a string or a table
		return strings.TrimSuffix(typ, " or table") + "s or tables"
	}
	return typ + "s"
}

func defaultOf(p prop) string {
	switch d := p["default"].(type) {
	case nil:
		return "—"
	case string:
		return fmt.Sprintf("`%q`", d)
	default:
		return fmt.Sprintf("`%v`", d)
	}
}

func valuesOf(p prop) string {
	switch {
	case p["enum"] != nil:
		var vals []string
		switch e := p["enum"].(type) {
		case []string:
			vals = e
		case []any:
			for _, v := range e {
				vals = append(vals, fmt.Sprint(v))
			}
		}
		return "`" + strings.Join(vals, "`, `") + "`"
	case p["type"] == "integer":
		return fmt.Sprintf("%v to %v", p["minimum"], p["maximum"])
	}
	return ""
}
