package authorization

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/authz"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/fleet"
	"github.com/armlet/armlet/internal/kv"
	"github.com/google/uuid"
)

// RBAC modes.
const (
	// ModeEnforce refuses requests no role assignment allows (Azure's
	// behaviour, the default).
	ModeEnforce = "enforce"
	// ModeAudit logs and records the denials but lets the requests through,
	// for migrating test suites written before armlet enforced RBAC.
	ModeAudit = "audit"
)

// RBAC decides requests with Azure RBAC over the stored role assignments
// and role definitions.
//
// Evaluation is cheap: the assignments at each scope are read from the
// store once and kept, indexed by principal, until Invalidate (called
// after every ARM write and every completed delete); a request then costs
// one map lookup per level of its scope (root, subscription, resource
// group, resource, ...) and the role matching.
type RBAC struct {
	e    *engine.Engine
	kv   kv.View // kv.SpaceRBAC: the peers key
	mode string
	log  *slog.Logger

	// builtIns are the built-in roles by lower-cased GUID.
	builtIns map[string]authz.Role

	mu sync.RWMutex
	// gen counts invalidations: a load that raced with one is not kept.
	gen uint64
	// byScope maps a scope key to its assignments by lower-cased principal.
	byScope map[string]map[string][]authz.Assignment
	// customs are the custom roles by lower-cased GUID (nil: not loaded).
	customs map[string]*engine.Resource
}

func newRBAC(e *engine.Engine, opts Options) *RBAC {
	mode := opts.RBACMode
	if mode == "" {
		mode = ModeEnforce
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &RBAC{e: e, kv: e.Space(kv.SpaceRBAC), mode: mode, log: log, builtIns: map[string]authz.Role{}}
	for _, b := range authz.BuiltIns() {
		r.builtIns[b.ID] = b.Role
	}
	r.drop()
	e.OnDelete(func(context.Context, *engine.Resource) { r.Invalidate() })
	return r
}

// peersKey, in kv.SpaceRBAC, is rewritten whenever a replica drops its
// RBAC cache because of a write, so that the other replicas sharing the
// store (etcd) drop theirs too (FollowPeers).
var peersKey = []byte("changed")

// Invalidate drops the cached assignments and custom roles, here and, on a
// shared store, on every other replica.
func (r *RBAC) Invalidate() {
	r.drop()
	if !r.kv.Shared() {
		return
	}
	// Not the request's context: the write it follows has succeeded, and
	// the peers must hear of it even if the client has gone.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.kv.Txn(ctx, kv.Put(peersKey, nil)); err != nil {
		r.log.Warn("telling the other replicas to drop their RBAC caches failed; they catch up on their next change", "err", err)
	}
}

// FollowPeers drops the cache each time another replica sharing the store
// drops its own for a write, until ctx ends. On a store of this process's
// own it returns at once.
func (r *RBAC) FollowPeers(ctx context.Context) {
	fleet.Follow(ctx, r.kv, peersKey, func(kv.Entry) { r.drop() })
}

// drop drops this replica's cached assignments and custom roles.
func (r *RBAC) drop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byScope = map[string]map[string][]authz.Assignment{}
	r.customs = nil
	r.gen++
}

// Written tells the RBAC cache that an ARM write succeeded: a write to a
// role assignment or definition, or any DELETE (which takes the
// assignments below the deleted resource with it), drops the cache.
// Completed asynchronous deletes drop it too (engine.OnDelete).
//
// It reads the parsed path, so every spelling of a role path (any casing,
// percent-encoded letters) drops the cache.
func (r *RBAC) Written(method string, p resourceid.Path) {
	if method == http.MethodDelete || isRBACType(p.Tail) {
		r.Invalidate()
		return
	}
	for _, s := range p.ID.Segments() {
		if isRBACType(s.Type) {
			r.Invalidate()
			return
		}
	}
}

// isRBACType reports whether typ is a role assignment or definition type.
func isRBACType(typ string) bool {
	return strings.EqualFold(typ, TypeRoleAssignments) || strings.EqualFold(typ, TypeRoleDefinitions)
}

// atScope returns principal's (lower-cased) assignments at exactly the
// ancestor of scope made of its first n segments, whose Key is key.
func (r *RBAC) atScope(ctx context.Context, scope resourceid.ID, n int, key, principal string) ([]authz.Assignment, error) {
	r.mu.RLock()
	m, ok := r.byScope[key]
	gen := r.gen
	r.mu.RUnlock()
	if !ok {
		rs, err := r.e.List(ctx, scope.Prefix(n), TypeRoleAssignments)
		if err != nil {
			return nil, err
		}
		m = map[string][]authz.Assignment{}
		for _, res := range rs {
			a := toAssignment(res)
			p := strings.ToLower(a.PrincipalID)
			m[p] = append(m[p], a)
		}
		r.mu.Lock()
		if r.gen == gen {
			r.byScope[key] = m
		}
		r.mu.Unlock()
	}
	return m[principal], nil
}

// customRecords returns the stored custom roles (at the root and in every
// subscription).
func (r *RBAC) customRecords(ctx context.Context) ([]*engine.Resource, error) {
	r.mu.RLock()
	c, gen := r.customs, r.gen
	r.mu.RUnlock()
	if c == nil {
		c = map[string]*engine.Resource{}
		scopes := []resourceid.ID{resourceid.Root}
		subs, err := r.e.List(ctx, resourceid.Root, resourceid.TypeSubscriptions)
		if err != nil {
			return nil, err
		}
		for _, s := range subs {
			scopes = append(scopes, s.ID)
		}
		for _, sc := range scopes {
			rs, err := r.e.List(ctx, sc, TypeRoleDefinitions)
			if err != nil {
				return nil, err
			}
			for _, res := range rs {
				c[strings.ToLower(res.ID.Name())] = res
			}
		}
		r.mu.Lock()
		if r.gen == gen {
			r.customs = c
		}
		r.mu.Unlock()
	}
	out := make([]*engine.Resource, 0, len(c))
	for _, res := range c {
		out = append(out, res)
	}
	return out, nil
}

func (r *RBAC) customRoles(ctx context.Context) ([]authz.Role, error) {
	rs, err := r.customRecords(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]authz.Role, len(rs))
	for i, res := range rs {
		out[i] = toRole(res)
	}
	return out, nil
}

// findCustom returns the custom role with the GUID, or nil.
func (r *RBAC) findCustom(ctx context.Context, guid string) (*engine.Resource, error) {
	rs, err := r.customRecords(ctx)
	if err != nil {
		return nil, err
	}
	for _, res := range rs {
		if strings.EqualFold(res.ID.Name(), guid) {
			return res, nil
		}
	}
	return nil, nil
}

// role returns the role with the GUID, built-in or custom.
func (r *RBAC) role(ctx context.Context, guid string) (authz.Role, bool, error) {
	if b, ok := r.builtIns[guid]; ok {
		return b, true, nil
	}
	if b, ok := r.builtIns[strings.ToLower(guid)]; ok {
		return b, true, nil
	}
	res, err := r.findCustom(ctx, guid)
	if err != nil || res == nil {
		return authz.Role{}, false, err
	}
	return toRole(res), true, nil
}

// resolveRole finds the role a roleDefinitionId names (a 400 if none).
func (r *RBAC) resolveRole(ctx context.Context, roleDefinitionID string) (authz.Role, error) {
	id, err := resourceid.Parse(roleDefinitionID)
	if err != nil || id.IsRoot() || !strings.EqualFold(id.ResourceType(), TypeRoleDefinitions) {
		return authz.Role{}, arm.BadRequest("InvalidRoleDefinitionId",
			"The role definition ID '%s' is not valid: expected '/subscriptions/{subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/{guid}' or '/providers/Microsoft.Authorization/roleDefinitions/{guid}'.", roleDefinitionID)
	}
	role, ok, err := r.role(ctx, id.Name())
	if err != nil {
		return authz.Role{}, err
	}
	if !ok {
		return authz.Role{}, arm.BadRequest("RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist.", id.Name())
	}
	return role, nil
}

// Authorize decides whether principal may perform action (a data action
// when data) at scope.
func (r *RBAC) Authorize(ctx context.Context, principal, action string, scope resourceid.ID, data bool) (authz.Decision, error) {
	var mine []authz.Assignment
	principal = strings.ToLower(principal)
	// The key of each ancestor is a prefix of the scope's key: one string
	// for all levels; the ancestor's ID is only built on a cache miss.
	str := scope.String()
	full := strings.ToLower(str)
	end := 0
	for i := 0; i <= scope.Len(); i++ {
		key := "/"
		if i > 0 && len(full) != len(str) {
			// Lower-casing changed byte lengths (non-ASCII names): no
			// prefix arithmetic.
			key = scope.Prefix(i).Key()
		} else if i > 0 {
			sg := scope.Segment(i - 1)
			if sg.Namespaced() {
				end += len("/providers")
			}
			end += 2 + len(sg.Type) + len(sg.Name)
			key = full[:end]
		}
		as, err := r.atScope(ctx, scope, i, key, principal)
		if err != nil {
			return authz.Decision{}, err
		}
		mine = append(mine, as...)
	}
	var lookupErr error
	d := authz.Evaluate(mine, func(id string) (authz.Role, bool) {
		role, ok, err := r.role(ctx, id)
		if err != nil {
			lookupErr = err
		}
		return role, ok
	}, principal, action, scope, data)
	return d, lookupErr
}

// Check authorizes caller's request for action at scope, records the
// decision on ctx (netmodel.RecordDecision) and, when it is a denial in
// enforce mode, returns Azure's 403 AuthorizationFailed.
//
// data marks a workspace endpoint (data plane) operation: it is allowed
// by a role's actions or by its dataActions.
//
// Choice: Azure ML's built-in roles list the workspace data plane's
// operations under actions (AzureML Data Scientist's
// "Microsoft.MachineLearningServices/workspaces/*/read" is what lets it
// read runs), not dataActions, so both are consulted for data plane
// requests; a custom role may grant them either way.
func (r *RBAC) Check(ctx context.Context, caller engine.Caller, action string, scope resourceid.ID, data bool) error {
	d, err := r.Authorize(ctx, caller.ObjectID, action, scope, false)
	if err == nil && !d.Allowed && data {
		d, err = r.Authorize(ctx, caller.ObjectID, action, scope, true)
	}
	return r.decided(ctx, caller, action, scope, data, d, err)
}

// CheckDataAction is Check for a data plane whose operations only a
// role's dataActions grant, as Key Vault's with Azure RBAC: Owner's "*"
// actions do not read a secret. It records the decision as Check does
// and returns the same 403 AuthorizationFailed, which the data plane
// replaces with its own words.
func (r *RBAC) CheckDataAction(ctx context.Context, caller engine.Caller, action string, scope resourceid.ID) error {
	d, err := r.Authorize(ctx, caller.ObjectID, action, scope, true)
	return r.decided(ctx, caller, action, scope, true, d, err)
}

// decided records decision d (or its lookup error) and returns the
// refusal to send, if any.
func (r *RBAC) decided(ctx context.Context, caller engine.Caller, action string, scope resourceid.ID, data bool, d authz.Decision, err error) error {
	if err != nil {
		return err
	}
	kind := "action"
	if data {
		kind = "data action"
	}
	if d.Allowed {
		decision.Record(ctx, decision.Decision{
			Kind: "rbac", Outcome: "allowed", Action: action, Scope: scope.String(),
			// Concatenated, not formatted: this runs on every request.
			Reason: "Role assignment '" + d.Assignment.ID + "' gives role '" + d.Role.Name + "' to principal '" + caller.ObjectID +
				"' at scope '" + d.Assignment.Scope.String() + "', which grants " + kind + " '" + action + "'.",
			Refs: []string{d.Assignment.ID, roleDefinitionsPath + d.Role.ID},
		})
		return nil
	}
	reason := fmt.Sprintf("No role assignment of principal '%s' at scope '%s' or above grants %s '%s': the permission '%s' is missing.",
		caller.ObjectID, scope, kind, action, action)
	outcome := "denied"
	if r.mode == ModeAudit {
		outcome = "audited"
		r.log.Warn("rbac: request would be denied (audit mode)", "principal", caller.ObjectID, "action", action, "scope", scope.String())
	}
	decision.Record(ctx, decision.Decision{Kind: "rbac", Outcome: outcome, Action: action, Scope: scope.String(), Reason: reason})
	if r.mode == ModeAudit {
		return nil
	}
	client := caller.AppID
	if client == "" {
		client = caller.Name
	}
	if client == "" {
		client = caller.ObjectID
	}
	return arm.Errorf(http.StatusForbidden, "AuthorizationFailed",
		"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
		client, caller.ObjectID, action, scope)
}

// roleDefinitionsPath is the tenant-level collection of role definitions,
// the prefix of a role's id in a decision's references.
const roleDefinitionsPath = "/providers/" + TypeRoleDefinitions + "/"

// OwnerAssignmentID is the id of the Owner assignment at the tenant root
// that EnsureOwner creates for principal: derived from the principal, so
// that it is the same on every start.
func OwnerAssignmentID(principal string) resourceid.ID {
	name := uuid.NewSHA1(uuid.NameSpaceOID, []byte("armlet/root-owner/"+strings.ToLower(principal))).String()
	return resourceid.Root.Child(TypeRoleAssignments, name)
}

// EnsureOwner gives principal the Owner role at the tenant root "/", once:
// an existing assignment is left as it is.
func (r *RBAC) EnsureOwner(ctx context.Context, principal string, caller engine.Caller) error {
	body := map[string]any{"properties": map[string]any{
		propRoleDefinitionID: resourceid.Root.Child(TypeRoleDefinitions, authz.RoleOwner).String(),
		propPrincipalID:      principal, propPrincipalType: "ServicePrincipal",
		propDescription: "armlet bootstrap principal: Owner at the tenant root",
	}}
	_, err := r.e.Import(ctx, OwnerAssignmentID(principal), body, RoleAssignmentAPIVersions[0], caller)
	r.Invalidate()
	return err
}
