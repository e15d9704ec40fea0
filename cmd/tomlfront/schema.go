package main

import (
	"fmt"
	"io"

	"github.com/tomlfront/tomlfront/lint"
	"github.com/tomlfront/tomlfront/spec"
)

const schemaSynopsis = `Writes the JSON Schema of the spec (draft 4) to stdout: what editors with Taplo
or Tombi read for completion, hover docs and errors. The same file is committed
at schema/tomlfront.schema.json; see docs/editors.md.`

func runSchema(args []string, stdout, stderr io.Writer) int {
	fs, _ := newFlags("schema", schemaSynopsis, stderr)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	dt, err := schemaJSON()
	if err == nil {
		_, err = stdout.Write(dt)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tomlfront schema: %v\n", err)
		return 1
	}
	return 0
}

// schemaJSON is the schema with the lint rules tomlfront has.
func schemaJSON() ([]byte, error) {
	names := make([]string, len(lint.Rules))
	for i, r := range lint.Rules {
		names[i] = r.Name
	}
	return spec.JSONSchema(names)
}
