package spec

// mountKey is one key of a mount table: the one place that says which mount
// types take it and which field of a Mount holds it. Decoding, validation
// and conversion all read this table.
type mountKey struct {
	name   string
	schema prop     // see schema.go
	types  []string // the mount types that take the key, as the Dockerfile's RUN --mount
	// Exactly one of these is set: the field the key fills.
	str     func(*Mount) *String
	integer func(*Mount) *Int
	boolean func(*Mount) *Bool
}

var (
	mountTypes = []string{MountBind, MountCache, MountTmpfs, MountSecret, MountSSH}
	withOwner  = []string{MountCache, MountSecret, MountSSH}
)

var mountKeys = []mountKey{
	{name: "type", schema: strEnum("The mount type.", mountTypes...), types: mountTypes, str: func(m *Mount) *String { return &m.Type }},
	{name: "target", schema: str("Where it is mounted."), types: mountTypes, str: func(m *Mount) *String { return &m.Target }},
	{name: "source", schema: str("bind, cache: the path inside from."), types: []string{MountBind, MountCache}, str: func(m *Mount) *String { return &m.Source }},
	{name: "from", schema: str(`bind, cache: a stage, an image ref or "context:NAME". Default: the build context.`), types: []string{MountBind, MountCache}, str: func(m *Mount) *String { return &m.From }},
	{name: "id", schema: str("cache: the cache id (default: the target); secret: --secret id= (default: the target's base name); ssh: the --ssh id (default: default)."), types: []string{MountCache, MountSecret, MountSSH}, str: func(m *Mount) *String { return &m.ID }},
	{name: "sharing", schema: withDefault(strEnum("cache: how concurrent builds share it.", SharingModes...), SharingShared), types: []string{MountCache}, str: func(m *Mount) *String { return &m.Sharing }},
	{name: "mode", schema: str("cache, secret, ssh: " + modeDesc + "."), types: withOwner, str: func(m *Mount) *String { return &m.Mode }},
	{name: "uid", schema: integer("cache, secret, ssh: the owner.", 0, 4294967295), types: withOwner, integer: func(m *Mount) *Int { return &m.UID }},
	{name: "gid", schema: integer("cache, secret, ssh: the group.", 0, 4294967295), types: withOwner, integer: func(m *Mount) *Int { return &m.GID }},
	{name: "size", schema: str(`tmpfs: the size, bytes or e.g. "64m".`), types: []string{MountTmpfs}, str: func(m *Mount) *String { return &m.Size }},
	{name: "env", schema: str("secret: also expose the secret as this environment variable."), types: []string{MountSecret}, str: func(m *Mount) *String { return &m.Env }},
	{name: "readonly", schema: prop{"type": "boolean", "description": "bind, cache: read-only; bind mounts are read-only unless false, caches writable unless true."}, types: []string{MountBind, MountCache}, boolean: func(m *Mount) *Bool { return &m.Readonly }},
	{name: "required", schema: boolean("secret, ssh: fail the step when it is not given.", false), types: []string{MountSecret, MountSSH}, boolean: func(m *Mount) *Bool { return &m.Required }},
}

// loc is where the key was written in m; absent when it was not.
func (k mountKey) loc(m *Mount) Loc {
	switch {
	case k.str != nil:
		return k.str(m).Loc
	case k.integer != nil:
		return k.integer(m).Loc
	}
	return k.boolean(m).Loc
}

// mountFields decodes a mount table, from the table of keys.
var mountFields = func() fields[Mount] {
	var f fields[Mount]
	for _, k := range mountKeys {
		switch {
		case k.str != nil:
			f = append(f, field[Mount]{k.name, k.schema, func(d *decoder, m *Mount, n *node) { d.str(k.str(m), k.name, n) }})
		case k.integer != nil:
			f = append(f, field[Mount]{k.name, k.schema, func(d *decoder, m *Mount, n *node) { d.integer(k.integer(m), k.name, n) }})
		default:
			f = append(f, field[Mount]{k.name, k.schema, func(d *decoder, m *Mount, n *node) { d.boolean(k.boolean(m), k.name, n) }})
		}
	}
	return f
}()

// mountOptions lists the keys each mount type takes, in the table's order.
var mountOptions = func() map[string][]string {
	opts := map[string][]string{}
	for _, k := range mountKeys {
		if k.name == "type" {
			continue
		}
		for _, typ := range k.types {
			opts[typ] = append(opts[typ], k.name)
		}
	}
	return opts
}()

// Expandable returns the string values of m that may hold ${...} (every
// string key but type), in the table's order: validation checks their
// variables and conversion expands them in place on a copy of the mount.
func (m *Mount) Expandable() []*String {
	var out []*String
	for _, k := range mountKeys {
		if k.str != nil && k.name != "type" {
			out = append(out, k.str(m))
		}
	}
	return out
}
