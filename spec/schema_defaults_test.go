package spec

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
)

// TestSchemaDefaultsAreTheLoaders loads, for every key whose schema states a
// default, a spec without that key, and requires the value the loader
// produces (as the rest of tomlfront reads it) to be that default. A
// default added to the schema without a row here fails the test.
func TestSchemaDefaultsAreTheLoaders(t *testing.T) {
	const base = "[stages.a]\nfrom = \"busybox:1.36\"\n"
	load := func(t *testing.T, src string) *Spec {
		t.Helper()
		s, err := Load("build.toml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	step := func(t *testing.T, src string) *Step { return load(t, base+src).Stages[0].Steps[0] }
	mount := func(t *testing.T, m string) *Mount {
		return step(t, "[[stages.a.steps]]\nrun = \"true\"\nmounts = ["+m+"]\n").Mounts[0]
	}
	cacheMount := func(t *testing.T, table string) CacheMount {
		return load(t, base+"[caches.c]\n"+table).ResolveCache("c").Mounts[0]
	}
	loaded := map[string]func(t *testing.T) any{
		"arg.required": func(t *testing.T) any {
			return load(t, "[args.A]\ndefault = \"x\"\n"+base+"args = [\"A\"]\n").Arg("A").Required.Value
		},
		"cache.persist":  func(t *testing.T) any { return cacheMount(t, "target = \"/c\"\n").Persist.Value },
		"cache.readonly": func(t *testing.T) any { return cacheMount(t, "target = \"/c\"\n").Readonly.Value },
		"cache.trim": func(t *testing.T) any { // the go preset trims its build cache
			mounts := load(t, base+"[caches.c]\npreset = \"go\"\npersist = true\n").ResolveCache("c").Mounts
			return slices.ContainsFunc(mounts, func(m CacheMount) bool { return m.Trim != "" })
		},
		"mount.required": func(t *testing.T) any { return mount(t, `{ type = "secret", id = "s" }`).Required.Value },
		"mount.sharing": func(t *testing.T) any {
			m := mount(t, `{ type = "cache", target = "/c" }`)
			_, sharing := CacheMountDefaults(m.ID.Value, m.Target.Value, m.Sharing.Value)
			return sharing
		},
		"device.required": func(t *testing.T) any {
			return step(t, "[[stages.a.steps]]\nrun = \"x\"\ndevices = [\"v.com/c=d\"]\n").Devices[0].Required.Value
		},
		"stage.sbom_scan": func(t *testing.T) any { return load(t, base).Stages[0].SBOMScan.Value },
		"step.expand": func(t *testing.T) any {
			return step(t, "[[stages.a.steps]]\nfile = \"x\"\ncontent = \"\"\n").Expand.Value
		},
		"step.keep_git_dir": func(t *testing.T) any { return step(t, "[[stages.a.steps]]\nadd = \"x\"\n").KeepGitDir.Value },
		"step.parents":      func(t *testing.T) any { return step(t, "[[stages.a.steps]]\ncopy = \"x\"\n").Parents.Value },
		"step.link":         func(t *testing.T) any { return step(t, "[[stages.a.steps]]\ncopy = \"x\"\n").Link.Value },
	}
	var schema struct {
		Definitions map[string]struct {
			Properties map[string]map[string]any
		}
	}
	dt, err := JSONSchema(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(dt, &schema); err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	for _, table := range slices.Sorted(maps.Keys(schema.Definitions)) {
		for key, p := range schema.Definitions[table].Properties {
			def, ok := p["default"]
			if !ok {
				continue
			}
			name := table + "." + key
			checked[name] = true
			get := loaded[name]
			if get == nil {
				t.Errorf("the schema gives %s the default %v, and this test does not check it: add a row", name, def)
				continue
			}
			t.Run(name, func(t *testing.T) {
				if got := get(t); got != def {
					t.Errorf("without the key, the loader gives %v (%T); the schema says the default is %v (%T)", got, got, def, def)
				}
			})
		}
	}
	for name := range loaded {
		if !checked[name] {
			t.Errorf("%s: the schema states no default", name)
		}
	}
}
