package spec

import (
	"encoding/json"
	"testing"
)

// TestSchemaDescribesEveryKey: every key of the decoder's tables has a
// description, and the schema is a draft-04 document.
func TestSchemaDescribesEveryKey(t *testing.T) {
	for name, table := range schemaTables() {
		if len(table.keys) == 0 {
			t.Errorf("%s has no keys", name)
		}
		for k, p := range table.keys {
			if p["description"] == nil || p["description"] == "" {
				t.Errorf("%s.%s has no description", name, k)
			}
		}
	}
	dt, err := JSONSchema([]string{"B", "A"})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(dt, &doc); err != nil || doc["$schema"] != "http://json-schema.org/draft-04/schema#" {
		t.Fatalf("%v: %s", err, dt)
	}
}
