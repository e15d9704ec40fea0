package spec

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"
)

// TestSchemaMatchesDecoder: the schema describes exactly the keys the
// decoder takes, table by table.
func TestSchemaMatchesDecoder(t *testing.T) {
	tables := schemaTables(nil)
	keys := decoderKeys()
	if got, want := slices.Sorted(maps.Keys(tables)), slices.Sorted(maps.Keys(keys)); !reflect.DeepEqual(got, want) {
		t.Fatalf("schema tables %v, decoder tables %v", got, want)
	}
	for name, table := range tables {
		if got := slices.Sorted(maps.Keys(table.keys)); !reflect.DeepEqual(got, keys[name]) {
			t.Errorf("%s: the schema has %v, the decoder %v", name, got, keys[name])
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
