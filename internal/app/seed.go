package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/identity"
	"github.com/google/uuid"
)

// Seed is the seed file (--seed), the file `armlet export` writes and the
// file `armlet import` reads: one format. It describes resources that
// exist, as if created before. Applied at start, resources that exist
// already are left alone, so restarting with the same file is harmless.
//
//	{
//	  "tenantId": "...",
//	  "subscriptions": [{"subscriptionId": "...", "displayName": "..."}],
//	  "principals": [{"name": "ci", "clientId": "...", "objectId": "...", "secretSha256": "..."}],
//	  "resources": [
//	    {"id": "/subscriptions/.../resourceGroups/rg", "location": "eastus"},
//	    {"id": ".../workspaces/ws", "apiVersion": "2021-07-01", "location": "eastus", "properties": {...}}
//	  ]
//	}
//
// A resource is written the way a GET shows it: the members besides "id",
// "apiVersion" and "internal" form the body ("name", "type" and "etag" are
// read-only and ignored; "systemData", when given, is kept). apiVersion
// defaults to the type's newest. "internal" is what an export adds: the
// state armlet keeps of the resource that a GET does not show (keys,
// secrets, the workspace's pending v1LegacyMode change, a job's progress),
// in armlet's own shape, so that an imported resource reads as it did.
// Parents are imported before their children whatever the order in the
// file; a resource refused because it refers to another of the file not
// yet imported is tried again after the others.
//
// tenantId (optional, written by export) is the tenant the file comes
// from: imported into an armlet of another tenant, every occurrence of it
// in the file is replaced by this armlet's tenant id, so resources at the
// tenant's root management group land at this one's. principals
// (optional) are service principals with either their clientSecret in
// clear or, as export writes them, its secretSha256; objectId is made when
// absent.
type Seed struct {
	TenantID      string              `json:"tenantId,omitempty"`
	Subscriptions []SeedSubscription  `json:"subscriptions,omitempty"`
	Principals    []identity.Exported `json:"principals,omitempty"`
	Resources     []map[string]any    `json:"resources"`
}

// SeedSubscription is a subscription of a seed file.
type SeedSubscription struct {
	SubscriptionID string `json:"subscriptionId"`
	DisplayName    string `json:"displayName,omitempty"`
}

// ImportResult is what an import did: per kind, the ids it created and
// those it left alone because they existed.
type ImportResult struct {
	Subscriptions ImportCount `json:"subscriptions"`
	Principals    ImportCount `json:"principals"`
	Resources     ImportCount `json:"resources"`
}

// ImportCount lists what an import created and what it skipped.
type ImportCount struct {
	Created []string `json:"created"`
	Skipped []string `json:"skipped"`
}

func (c *ImportCount) add(id string, created bool) {
	if created {
		c.Created = append(c.Created, id)
	} else {
		c.Skipped = append(c.Skipped, id)
	}
}

// seedPlan is a checked seed file, ready to apply.
type seedPlan struct {
	subs       []plannedSub
	principals []identity.Exported
	items      []plannedResource // parents first
}

type plannedSub struct {
	id, name string
	exists   bool
}

type plannedResource struct {
	index   int // in the file's resources, for messages
	id      resourceid.ID
	version string
	body    map[string]any
	state   *engine.State
	existed bool
}

// loadSeed applies the seed file at path, as the caller.
func (s *Server) loadSeed(ctx context.Context, path string, caller engine.Caller) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("seed file: %w", err)
	}
	if _, err := s.importSeed(ctx, raw, caller); err != nil {
		if ae, ok := arm.AsError(err); ok {
			return fmt.Errorf("seed file %s: %s: %s", path, ae.Code, ae.Message)
		}
		return fmt.Errorf("seed file %s: %w", path, err)
	}
	return nil
}

// importSeed reads, checks and applies a seed or export file, as the
// caller. A file that does not check writes nothing; one that fails while
// it is applied is undone. Errors a client caused are *arm.Error naming
// the member at fault ("resources[3].id").
func (s *Server) importSeed(ctx context.Context, raw []byte, caller engine.Caller) (ImportResult, error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	seed, err := parseSeed(raw, s.boot.TenantID)
	if err != nil {
		return ImportResult{}, err
	}
	plan, err := s.planSeed(ctx, seed)
	if err != nil {
		return ImportResult{}, err
	}
	return s.applySeed(ctx, plan, caller)
}

// parseSeed decodes a seed file, refusing members it does not know, and
// moves what it holds from the tenant it names to tenantID.
func parseSeed(raw []byte, tenantID string) (*Seed, error) {
	seed, err := decodeSeed(raw)
	if err != nil || seed.TenantID == "" || strings.EqualFold(seed.TenantID, tenantID) {
		return seed, err
	}
	if _, err := uuid.Parse(seed.TenantID); err != nil {
		return nil, arm.InvalidContent("tenantId", "tenantId: '%s' is not a tenant id (a GUID).", seed.TenantID)
	}
	from := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(seed.TenantID))
	seed, err = decodeSeed(from.ReplaceAll(raw, []byte(tenantID)))
	if err != nil {
		return nil, err
	}
	seed.TenantID = tenantID
	return seed, nil
}

func decodeSeed(raw []byte) (*Seed, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var seed Seed
	if err := dec.Decode(&seed); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			want := map[reflect.Kind]string{reflect.Struct: "an object", reflect.Map: "an object", reflect.Slice: "an array", reflect.String: "a string"}[te.Type.Kind()]
			if te.Field == "" {
				return nil, arm.InvalidContent("", "The file must be a JSON object with subscriptions, principals and resources, not a JSON %s.", te.Value)
			}
			return nil, arm.InvalidContent(te.Field, "%s: a JSON %s where the file needs %s.", te.Field, te.Value, want)
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			return nil, arm.InvalidContent(name, "The file has a member '%s' that a seed or export file does not have (tenantId, subscriptions, principals, resources; a subscription has subscriptionId and displayName; a principal name, clientId, objectId, clientSecret or secretSha256, created).", name)
		}
		return nil, arm.InvalidContent("", "The file is not a seed or export file (JSON with subscriptions, principals and resources): %v.", err)
	}
	if dec.More() {
		return nil, arm.InvalidContent("", "The file holds more than one JSON value.")
	}
	return &seed, nil
}

// planSeed checks the whole file before anything is written: every id,
// type, api-version and internal state, that no id is given twice, and
// that every resource's parent is in the file or in armlet. It notes
// what exists already (it will be skipped).
func (s *Server) planSeed(ctx context.Context, seed *Seed) (*seedPlan, error) {
	plan := &seedPlan{}
	inFile := map[string]bool{} // keys of the subscriptions and resources the file gives
	for i, sub := range seed.Subscriptions {
		field := fmt.Sprintf("subscriptions[%d].subscriptionId", i)
		id, err := resourceid.Parse("/subscriptions/" + sub.SubscriptionID)
		if sub.SubscriptionID == "" || err != nil || id.Len() != 1 {
			return nil, arm.InvalidContent(field, "%s: '%s' is not a subscription id.", field, sub.SubscriptionID)
		}
		if inFile[id.Key()] {
			return nil, arm.InvalidContent(field, "%s: the subscription %s is given twice.", field, sub.SubscriptionID)
		}
		inFile[id.Key()] = true
		exists, err := s.exists(ctx, id)
		if err != nil {
			return nil, err
		}
		name := sub.DisplayName
		if name == "" {
			name = sub.SubscriptionID
		}
		plan.subs = append(plan.subs, plannedSub{id: sub.SubscriptionID, name: name, exists: exists})
	}
	if err := s.planPrincipals(ctx, seed.Principals); err != nil {
		return nil, err
	}
	plan.principals = seed.Principals
	for i, res := range seed.Resources {
		it, err := s.planResource(i, res)
		if err != nil {
			return nil, err
		}
		if inFile[it.id.Key()] {
			return nil, arm.InvalidContent(fmt.Sprintf("resources[%d].id", i), "resources[%d].id: %s is given twice.", i, it.id)
		}
		inFile[it.id.Key()] = true
		plan.items = append(plan.items, it)
	}
	for i := range plan.items {
		it := &plan.items[i]
		if err := s.checkParents(ctx, *it, inFile); err != nil {
			return nil, err
		}
		exists, err := s.exists(ctx, it.id)
		if err != nil {
			return nil, err
		}
		it.existed = exists
	}
	slices.SortStableFunc(plan.items, func(a, b plannedResource) int { return a.id.Len() - b.id.Len() })
	return plan, nil
}

// planPrincipals checks the principals of a file: each one's members,
// and that no client or object id is given twice or taken by another.
func (s *Server) planPrincipals(ctx context.Context, ps []identity.Exported) error {
	clients, objects := map[string]bool{}, map[string]bool{}
	for i, p := range ps {
		prefix := fmt.Sprintf("principals[%d]", i)
		var pe *identity.PrincipalError
		if err := identity.CheckExported(p); errors.As(err, &pe) {
			return arm.InvalidContent(prefix+"."+pe.Field, "%s.%s: %s.", prefix, pe.Field, pe.Reason)
		} else if err != nil {
			return err
		}
		if clients[strings.ToLower(p.ClientID)] {
			return arm.InvalidContent(prefix+".clientId", "%s.clientId: the principal %s is given twice.", prefix, p.ClientID)
		}
		clients[strings.ToLower(p.ClientID)] = true
		if p.ObjectID == "" {
			continue
		}
		if objects[strings.ToLower(p.ObjectID)] {
			return arm.InvalidContent(prefix+".objectId", "%s.objectId: the object id %s is given twice.", prefix, p.ObjectID)
		}
		objects[strings.ToLower(p.ObjectID)] = true
		other, err := s.identity.PrincipalByObjectID(ctx, p.ObjectID)
		switch {
		case errors.Is(err, identity.ErrPrincipalNotFound):
		case err != nil:
			return err
		case !strings.EqualFold(other.ClientID, p.ClientID):
			return arm.Conflict(arm.CodeConflict, "%s.objectId: the object id %s is already the principal %s's.", prefix, p.ObjectID, other.ClientID).WithTarget(prefix + ".objectId")
		}
	}
	return nil
}

// planResource checks resources[i] of a file on its own.
func (s *Server) planResource(i int, res map[string]any) (plannedResource, error) {
	field := fmt.Sprintf("resources[%d]", i)
	raw, _ := res["id"].(string)
	id, err := resourceid.Parse(raw)
	if err != nil || id.IsRoot() {
		return plannedResource{}, arm.InvalidContent(field+".id", "%s.id: '%s' is not a resource id.", field, raw)
	}
	if id.Len() == 1 && strings.EqualFold(id.Last().Type, resourceid.TypeSubscriptions) {
		return plannedResource{}, arm.InvalidContent(field+".id", "%s.id: %s is a subscription; list subscriptions under \"subscriptions\".", field, id)
	}
	t, ok := s.engine.Registry().Lookup(id.ResourceType())
	if !ok {
		return plannedResource{}, arm.InvalidContent(field+".id", "%s.id: armlet does not serve the type '%s' of %s.", field, id.ResourceType(), id)
	}
	if _, virtual := t.Strategy.(engine.VirtualStrategy); virtual {
		return plannedResource{}, arm.InvalidContent(field+".id", "%s.id: a %s is part of its parent's body (%s), not a resource of its own in a file.", field, t.Name, id.Parent())
	}
	it := plannedResource{index: i, id: id, version: t.APIVersions[0], body: map[string]any{}}
	if v, given := res["apiVersion"]; given {
		ver, _ := v.(string)
		if !s.cfg.LenientAPIVersions && !slices.ContainsFunc(t.APIVersions, func(a string) bool { return strings.EqualFold(a, ver) }) {
			return plannedResource{}, arm.InvalidContent(field+".apiVersion", "%s.apiVersion: '%v' is not an api-version of %s; it has %s.", field, v, t.Name, strings.Join(t.APIVersions, ", "))
		}
		it.version = ver
	}
	if v, given := res["internal"]; given {
		st, err := decodeState(v)
		if err != nil {
			return plannedResource{}, arm.InvalidContent(field+".internal", "%s.internal: %v (it is armlet's own state, as armlet export writes it).", field, err)
		}
		it.state = st
	}
	for k, v := range res {
		switch k {
		case "id", "apiVersion", "internal":
		default:
			it.body[k] = v
		}
	}
	return it, nil
}

// decodeState reads the internal member of an exported resource strictly.
func decodeState(v any) (*engine.State, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var st engine.State
	if err := dec.Decode(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

// checkParents checks that every stored ancestor of it (its subscription,
// resource group and parent resources) is in the file or in armlet.
func (s *Server) checkParents(ctx context.Context, it plannedResource, inFile map[string]bool) error {
	segs := it.id.Segments()
	for n := 1; n < len(segs); n++ {
		anc := resourceid.New(segs[:n]...)
		stored := n == 1 && strings.EqualFold(anc.Last().Type, resourceid.TypeSubscriptions)
		if t, ok := s.engine.Registry().Lookup(anc.ResourceType()); ok {
			_, virtual := t.Strategy.(engine.VirtualStrategy)
			stored = !virtual
		}
		if !stored || inFile[anc.Key()] {
			continue
		}
		exists, err := s.exists(ctx, anc)
		if err != nil {
			return err
		}
		if !exists {
			field := fmt.Sprintf("resources[%d].id", it.index)
			return arm.InvalidContent(field, "%s: the parent %s of %s is neither in the file nor in armlet.", field, anc, it.id)
		}
	}
	return nil
}

// exists reports whether the resource at id is stored and live.
func (s *Server) exists(ctx context.Context, id resourceid.ID) (bool, error) {
	_, err := s.engine.Get(ctx, id)
	if errors.Is(err, engine.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// applySeed writes a checked plan: principals, subscriptions, then the
// resources, parents first. What existed is skipped; a resource that an
// earlier one of the file made meanwhile (a private endpoint's
// connection on its workspace) is replaced by the file's. When a write
// fails for good, what the import wrote is removed again and the error
// names the resource.
func (s *Server) applySeed(ctx context.Context, plan *seedPlan, caller engine.Caller) (res ImportResult, err error) {
	for _, c := range []*ImportCount{&res.Subscriptions, &res.Principals, &res.Resources} {
		c.Created, c.Skipped = []string{}, []string{} // [] rather than null in JSON
	}
	var undo []func(context.Context) error
	defer func() {
		if err == nil {
			return
		}
		// Undo with a context of its own: the request's may be what ended.
		uctx := context.WithoutCancel(ctx)
		for i := len(undo) - 1; i >= 0; i-- {
			if uerr := undo[i](uctx); uerr != nil {
				s.log.Error("undoing a failed import", "err", uerr)
			}
		}
		s.settle()
	}()
	for _, p := range plan.principals {
		created, err := s.identity.ImportPrincipal(ctx, p)
		if err != nil {
			return ImportResult{}, err
		}
		res.Principals.add(p.ClientID, created)
		if created {
			undo = append(undo, func(ctx context.Context) error { return s.identity.DeletePrincipal(ctx, p.ClientID) })
		}
	}
	for _, sub := range plan.subs {
		res.Subscriptions.add(sub.id, !sub.exists)
		if sub.exists {
			continue
		}
		if err := s.engine.EnsureSubscription(ctx, sub.id, s.boot.TenantID, sub.name); err != nil {
			return ImportResult{}, err
		}
		id := resourceid.Subscription(sub.id)
		undo = append(undo, func(ctx context.Context) error { return s.engine.Remove(ctx, id) })
	}
	// Parents come first; a resource that refers to another of the file
	// (a private endpoint to its subnet, a role assignment to its role
	// definition, a job to its environment version) may come before it,
	// so what is refused is tried again after the others, as long as each
	// round stores something.
	var pending []plannedResource
	for _, it := range plan.items {
		if it.existed {
			res.Resources.add(it.id.String(), false)
		} else {
			pending = append(pending, it)
		}
	}
	for len(pending) > 0 {
		var refused []plannedResource
		var first error
		for _, it := range pending {
			created, err := s.engine.Restore(ctx, it.id, it.body, it.version, caller, engine.RestoreOptions{State: it.state, Replace: true})
			if created {
				// Written, even when what follows the write failed.
				undo = append(undo, func(ctx context.Context) error { return s.engine.Remove(ctx, it.id) })
			}
			if ae, ok := arm.AsError(err); ok && ae.Status < http.StatusInternalServerError {
				refused = append(refused, it)
				if first == nil {
					first = resourceError(it, err)
				}
				continue
			}
			if err != nil {
				return ImportResult{}, resourceError(it, err)
			}
			res.Resources.add(it.id.String(), created)
			if created {
				// A role definition must be seen by the assignments after it.
				s.rbac.Written(http.MethodPut, resourceid.Path{ID: it.id})
			}
		}
		if len(refused) == len(pending) {
			return ImportResult{}, first
		}
		pending = refused
	}
	s.settle()
	return res, nil
}

// resourceError names the resource of a file whose import failed.
func resourceError(it plannedResource, err error) error {
	ae, ok := arm.AsError(err)
	if !ok {
		return err
	}
	field := fmt.Sprintf("resources[%d]", it.index)
	out := *ae
	out.Message = fmt.Sprintf("%s (%s): %s", field, it.id, ae.Message)
	out.Target = field
	if ae.Target != "" {
		out.Target += "." + ae.Target
	}
	return &out
}
