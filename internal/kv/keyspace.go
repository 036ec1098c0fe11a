package kv

import "strconv"

// The key space. Every key armlet stores lies in exactly one Space below,
// the table of which is this file: what each prefix holds, who owns it and
// the shape of its keys and values. A package reaches its space through a
// View (Space.Of), whose keys are relative to the prefix, so it can neither
// see nor write another package's keys. The engine hands the providers and
// the workspace data plane the views of their spaces (Engine.Space) and
// keeps its own tables to itself; internal/app, which opens the store,
// hands the views of the rest.
//
// The prefixes are stored data: bbolt files and etcd prefixes in use hold
// keys that begin with them, so none of them ever changes. A new package
// that keeps records adds a Space here, with a prefix that is no prefix of
// another and begins with none (TestSpacesDisjoint).
//
// Outside this key space, and outside Store: on etcd the store itself
// lives under --etcd-prefix (whose bare prefix key etcdkv keeps for
// itself) and the leader election beside it under etcdkv.ElectionPrefix.

// Space is one declared region of the key space: the keys that start with
// its prefix. The zero Space is no space.
type Space uint8

// The declared spaces. Their order is that of the table in spaces; the
// values are not stored anywhere, so new spaces may go anywhere.
const (
	// SpaceResources, SpaceTypeIndex, SpaceGroupIndex, SpaceOperations,
	// SpaceDue and SpaceRegistrations are the engine's tables: only the
	// engine writes them, keeping records and indexes in step.
	SpaceResources Space = iota + 1
	SpaceTypeIndex
	SpaceGroupIndex
	SpaceOperations
	SpaceDue
	SpaceRegistrations
	SpaceArmlet
	SpaceIdentity
	SpaceSharedCA
	SpaceWorkspaceData
	SpaceNetwork
	SpaceNetModel
	SpacePolicy
	SpaceRBAC
	SpaceMLQuotas
	SpaceWrites
	SpaceBlob
	SpaceKeyVault
	spaceEnd // one past the last; not a space
)

// OwnerEngine is the Owner of the engine's tables.
const OwnerEngine = "internal/engine"

// layout is what the table says of one space.
type layout struct {
	name   string // short, for messages
	prefix string // the bytes every key of the space starts with
	owner  string // the package that reads and writes the space
	keys   string // the shape of a key after the prefix
	values string // what a value is
	// viaEngine: the engine hands the owner its view (Engine.Space), as
	// it does for providers; otherwise internal/app, which opens the
	// store, does (or, for the engine's tables, the engine keeps it).
	viaEngine bool
}

// spaces is the table of the key space, indexed by Space. It is never
// written: the Space methods read it.
var spaces = [spaceEnd]layout{
	SpaceResources: {
		name: "resources", prefix: "r\x00", owner: OwnerEngine,
		keys: `{parent id}\0{type segment}\0{name}, all lower case (the root's id, a subscription's parent, is /), ` +
			`so one type's children of X share {X}\0{type}\0 and X's subtree is {X}\0 plus {X}/`,
		values: "a resource record: the envelope, properties and internal state (engine encoding)",
	},
	SpaceTypeIndex: {
		name: "type index", prefix: "t\x00", owner: OwnerEngine,
		keys:   `{subscription}\0{full type}\0{resource group}\0{name}, lower case: top-level resources by type`,
		values: `the resource record's full key (r\0…), written in the record's transaction`,
	},
	SpaceGroupIndex: {
		name: "group index", prefix: "g\x00", owner: OwnerEngine,
		keys:   `{subscription}\0{resource group}\0{full type}\0{name}, lower case: top-level resources by group`,
		values: `the resource record's full key (r\0…), written in the record's transaction`,
	},
	SpaceOperations: {
		name: "operations", prefix: "o\x00", owner: OwnerEngine,
		keys:   "{operation id}, lower case: a long-running operation",
		values: "the operation (JSON): kind, resource, start and end on the armlet clock, result or error",
	},
	SpaceDue: {
		name: "due operations", prefix: "d\x00", owner: OwnerEngine,
		keys:   `{end, Unix nanoseconds in 20 digits}\0{operation id}: asynchronous deletes by completion time`,
		values: "the operation id",
	},
	SpaceRegistrations: {
		name: "provider registrations", prefix: "p\x00", owner: OwnerEngine,
		keys:   `{subscription}\0{namespace}, lower case; absent means Registered`,
		values: "the registration state (JSON) and until when a transitional state lasts",
	},
	SpaceArmlet: {
		name: "armlet", prefix: "m\x00", owner: "internal/app",
		keys:   "bootstrap; clock-offset",
		values: "bootstrap: the tenant and default subscription ids (JSON); clock-offset: the armlet clock's offset from the wall clock (a Go duration)",
	},
	SpaceIdentity: {
		name: "identity", prefix: "identity/", owner: "internal/identity",
		keys: "signing-key; bootstrap; principals/{client id, lower case}",
		values: "signing-key: the token signing key (PEM); bootstrap: the bootstrap principal's credentials (JSON); " +
			"principals/…: a service principal (JSON, the secret as its SHA-256)",
	},
	SpaceSharedCA: {
		name: "shared CA", prefix: "certs\x00", owner: "internal/certs",
		keys:   "ca: written on a shared store (etcd) only",
		values: "the fleet's CA, certificate and key in PEM (JSON)",
	},
	SpaceWorkspaceData: {
		name: "workspace data plane", prefix: "w\x00", owner: "internal/workspaceapi", viaEngine: true,
		keys: `{workspaceId}\0{kind}\0…: e\0{experiment}, r\0{run id}, m\0{run id}\0{metric}, ` +
			`a\0{origin}\0{container}\0{path} (artifact metadata), c\0… (artifact content), d\0{datastore}, D (the default datastore), ` +
			`M\0{model}\0{version, 10 digits}; names lower case, artifact paths as sent`,
		values: "the record (JSON), or an artifact's content as uploaded",
	},
	SpaceNetwork: {
		name: "network", prefix: "n\x00", owner: "internal/providers/network", viaEngine: true,
		keys:   `ip\0{subnet id, lower case}\0{address}: a private IP claimed for a private endpoint`,
		values: "the claim (JSON): the private endpoint holding it and when it was made",
	},
	SpaceNetModel: {
		name: "network model", prefix: "nm\x00", owner: "internal/netmodel",
		keys: `flow\0{Unix nanoseconds, 16 hex digits}{sequence, 16 hex digits} (of a segment's first record); flowmeta; loopback\0{private endpoint id, lower case}; loopback-next; ` +
			`vnet-loopback\0{virtual network id, lower case}; vnet-loopback-next`,
		values: "flow\\0…: a segment of flow records (byte 1, then their JSON joined by newlines, DEFLATE-compressed; one record's JSON as written before segments); flowmeta: the flow count and last sequence (JSON); " +
			"loopback\\0…: a private endpoint's loopback address and port (JSON); loopback-next: the next loopback address's number; " +
			"vnet-loopback\\0…: a virtual network proxy's loopback address and port (JSON); vnet-loopback-next: the next one's number",
	},
	SpacePolicy: {
		name: "policy", prefix: "policy", owner: "internal/providers/authorization", viaEngine: true,
		keys: "generation; state/{subscription, lower case}/{resource id, lower case}|{assignment}|{reference id}|{definition}",
		values: "generation: rewritten on every change to a policy object, its revision tells replicas their caches are stale; " +
			"state/…: a compliance state row (JSON)",
	},
	SpaceRBAC: {
		name: "rbac", prefix: "rbac\x00", owner: "internal/providers/authorization", viaEngine: true,
		keys:   "changed: written on a shared store (etcd) only",
		values: "empty; rewritten whenever a replica drops its RBAC caches, so that the others drop theirs",
	},
	SpaceWrites: {
		name: "engine writes", prefix: "x\x00", owner: OwnerEngine,
		keys:   "written: on a shared store (etcd) only",
		values: "which replica's engine wrote last and the resource records it wrote (JSON: by, records, all); rewritten by every transaction made through the engine, so that a replica learns from its revision whether it has heard of every write and ends only the kept bodies that read those records (the engine's kept bodies, rendered.go)",
	},
	SpaceBlob: {
		name: "blob data plane", prefix: "blob\x00", owner: "internal/blobapi",
		keys: `b\0{container id, lower case}\0{blob name}: a committed block blob; ` +
			`u\0{container id, lower case}\0{blob name}\0{block id}: an uncommitted block`,
		values: "b\\0…: the blob's properties, metadata and block list with each block's content file (JSON); " +
			"u\\0…: the block's content file and size (JSON). Content is in files of the data dir's blobs directory, not here",
	},
	SpaceKeyVault: {
		name: "key vault data plane", prefix: "kv\x00", owner: "internal/providers/keyvault", viaEngine: true,
		keys: `{vault name}\0s\0{secret name}: a secret; {vault name}\0v\0{secret name}\0{version}: one of its versions; ` +
			`names lower case (vault names are global, so a vault's secrets follow its name through soft delete and recover)`,
		values: "s\\0…: the secret (JSON): its name as set, its latest version, when it was deleted if it is; " +
			"v\\0…: a version (JSON): the value, content type, tags and attributes",
	},
	SpaceMLQuotas: {
		name: "ml quotas", prefix: "mlq\x00", owner: "internal/providers/machinelearning", viaEngine: true,
		keys:   `{subscription}\0{location}, lower case: Azure ML workspace quotas set through updateQuotas`,
		values: "the limits (JSON): by workspace id (lower case), by VM family, in vCPUs",
	},
}

// Spaces returns every declared space.
func Spaces() []Space {
	out := make([]Space, 0, spaceEnd-1)
	for s := Space(1); s < spaceEnd; s++ {
		out = append(out, s)
	}
	return out
}

// Valid reports whether s is a declared space.
func (s Space) Valid() bool { return s > 0 && s < spaceEnd }

// Prefix is the bytes every key of s starts with ("" for an undeclared s).
func (s Space) Prefix() string { return s.layout().prefix }

// Owner is the package that reads and writes s, as a path below the
// module ("internal/engine").
func (s Space) Owner() string { return s.layout().owner }

// ViaEngine reports whether the engine hands s's owner its view
// (Engine.Space): true for the spaces of providers and of the workspace
// data plane, which the engine serves; internal/app hands out the views
// of the others but the engine's own tables.
func (s Space) ViaEngine() bool { return s.layout().viaEngine }

// Keys describes the shape of s's keys after the prefix.
func (s Space) Keys() string { return s.layout().keys }

// Values describes what s's values are.
func (s Space) Values() string { return s.layout().values }

// String is s's short name.
func (s Space) String() string {
	if !s.Valid() {
		return "kv.Space(" + strconv.Itoa(int(s)) + ")"
	}
	return s.layout().name
}

// Holding returns the space key lies in, or false when it lies in none.
func Holding(key []byte) (Space, bool) {
	for s := Space(1); s < spaceEnd; s++ {
		p := spaces[s].prefix
		if len(key) >= len(p) && string(key[:len(p)]) == p {
			return s, true
		}
	}
	return 0, false
}

func (s Space) layout() layout {
	if !s.Valid() {
		return layout{}
	}
	return spaces[s]
}
