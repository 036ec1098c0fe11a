package keyvault

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// deletedVaultStrategy serves the deleted vaults stored at
// /subscriptions/{s}/providers/Microsoft.KeyVault/deletedVaults/{name}.
// Only the provider writes them (a vault's Removed, an import); clients
// read them (the list at the subscription, and each through
// deletedVaultRoute) and purge them, never PUT or DELETE them (405).
//
// A deleted vault whose scheduledPurgeDate has passed is gone, as Azure
// purges it then: it is left out of lists and reads, and no longer holds
// its name.
type deletedVaultStrategy struct{ *provider }

var (
	_ engine.Strategy        = (*deletedVaultStrategy)(nil)
	_ engine.Importer        = (*deletedVaultStrategy)(nil)
	_ engine.Renderer        = (*deletedVaultStrategy)(nil)
	_ engine.ListFilterer    = (*deletedVaultStrategy)(nil)
	_ engine.DeleteValidator = (*deletedVaultStrategy)(nil)
)

// vaultSnapshot is what a deleted vault keeps of the vault, for a recover.
type vaultSnapshot struct {
	Properties map[string]any    `json:"properties"`
	Tags       map[string]string `json:"tags,omitempty"`
}

const snapshotKey = "vault"

func deletedID(sub, name string) resourceid.ID {
	return resourceid.Subscription(sub).Child(TypeDeletedVaults, name)
}

// locationID is the ID Azure gives a deleted vault.
func locationID(r *engine.Resource) string {
	return "/subscriptions/" + r.ID.SubscriptionID() + "/providers/" + Namespace + "/locations/" +
		engine.NormalizeLocation(stringProp(r, "location")) + "/deletedVaults/" + r.ID.Name()
}

// deletedVault returns the deleted vault name of subscription sub, or nil.
func (p *provider) deletedVault(ctx context.Context, sub, name string) (*engine.Resource, error) {
	r, err := p.e.Get(ctx, deletedID(sub, name))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	return r, err
}

// expired reports whether Azure has purged the deleted vault r by now.
func expired(r *engine.Resource, now time.Time) bool {
	due, err := time.Parse(time.RFC3339, stringProp(r, "scheduledPurgeDate"))
	return err == nil && !now.Before(due)
}

func (s *deletedVaultStrategy) Validate(_ context.Context, req *engine.Request, desired, _ *engine.Resource) error {
	if !req.Importing() {
		return methodNotAllowed(req.Method, TypeDeletedVaults)
	}
	props, err := deletedVaultProperties.CheckObject("properties", desired.Properties)
	if err != nil {
		return err
	}
	desired.Properties = props
	return nil
}

// Import stores a deleted vault from a vault's Removed (with its
// snapshot as ImportArg) or from a seed or export file (whose internal
// state carries the snapshot).
func (s *deletedVaultStrategy) Import(ctx context.Context, req *engine.Request, r *engine.Resource) error {
	if err := s.Validate(ctx, req, r, nil); err != nil {
		return err
	}
	if snap, ok := req.ImportArg.(*vaultSnapshot); ok {
		r.SetData(snapshotKey, snap)
	}
	return nil
}

// Render gives Azure's shape: the location-scoped ID, type
// Microsoft.KeyVault/deletedVaults, properties only.
func (s *deletedVaultStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	body["id"] = locationID(r)
	delete(body, "systemData")
	delete(body["properties"].(map[string]any), "provisioningState")
	return nil
}

// ListFilter leaves out the deleted vaults Azure has purged.
func (s *deletedVaultStrategy) ListFilter(req *engine.Request) (func(*engine.Resource) bool, error) {
	return func(r *engine.Resource) bool { return !expired(r, req.Now) }, nil
}

// ValidateDelete refuses a DELETE: a deleted vault goes by purge.
func (s *deletedVaultStrategy) ValidateDelete(_ context.Context, req *engine.Request, _ *engine.Resource) error {
	return methodNotAllowed(req.Method, TypeDeletedVaults)
}

// deletedVaultRoute serves a deleted vault where Azure does:
// GET /subscriptions/{s}/providers/Microsoft.KeyVault/locations/{l}/deletedVaults/{name}
// and its purge, POST .../purge (202 with Location; the vault is gone at
// once and the operation completes after --operation-duration).
//
// A purge drops the vault's secrets with it.
//
// Purging a vault with purge protection is refused with 405
// MethodNotAllowed "Operation 'DeletedVaultPurge' is not allowed.", the
// code and text Azure's CLI shows (the status is armlet's choice).
type deletedVaultRoute struct{ *provider }

var _ engine.Route = (*deletedVaultRoute)(nil)

func (rt *deletedVaultRoute) ServeRoute(ctx context.Context, req *engine.Request, p resourceid.Path) (*engine.Response, bool, error) {
	if p.ID.Len() != 3 {
		return nil, false, nil
	}
	segs := [3]resourceid.Segment{p.ID.Segment(0), p.ID.Segment(1), p.ID.Segment(2)}
	if !strings.EqualFold(segs[0].Type, resourceid.TypeSubscriptions) ||
		!strings.EqualFold(segs[1].Type, Namespace+"/locations") || !strings.EqualFold(segs[2].Type, "deletedVaults") {
		return nil, false, nil
	}
	purge := strings.EqualFold(p.Tail, "purge")
	switch {
	case p.Tail == "" && req.Method == http.MethodGet, purge && req.Method == http.MethodPost:
	case p.Tail == "" || purge:
		return nil, true, methodNotAllowed(req.Method, Namespace+"/locations/deletedVaults")
	default:
		return nil, false, nil
	}
	resp, err := rt.serve(ctx, req, segs[0].Name, segs[1].Name, segs[2].Name, purge)
	return resp, true, err
}

func (rt *deletedVaultRoute) serve(ctx context.Context, req *engine.Request, sub, location, name string, purge bool) (*engine.Response, error) {
	if err := rt.e.CheckAPIVersion(req.APIVersion, TypeDeletedVaults); err != nil {
		return nil, err
	}
	if _, err := rt.e.Get(ctx, resourceid.Subscription(sub)); err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			err = arm.NotFound(arm.CodeSubscriptionNotFound, "The subscription '%s' could not be found.", sub).Wrap(err)
		}
		return nil, err
	}
	dv, err := rt.deletedVault(ctx, sub, name)
	if err != nil {
		return nil, err
	}
	if dv == nil || expired(dv, req.Now) || engine.NormalizeLocation(stringProp(dv, "location")) != engine.NormalizeLocation(location) {
		return nil, arm.NotFound(arm.CodeResourceNotFound,
			"The Resource 'Microsoft.KeyVault/locations/%s/deletedVaults/%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", location, name).Wrap(engine.ErrNotFound)
	}
	if !purge {
		body, err := rt.e.Render(ctx, req, dv)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, body), nil
	}
	if protected, _ := dv.Properties["purgeProtectionEnabled"].(bool); protected {
		return nil, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "Operation 'DeletedVaultPurge' is not allowed.")
	}
	if err := rt.e.Remove(ctx, dv.ID); err != nil { // its secrets go with it (resourceDeleted)
		return nil, err
	}
	op := dv.Clone()
	op.Location = engine.NormalizeLocation(location) // the operation's URL names it
	return rt.e.NewActionOperation(ctx, req, op, nil, req.Now.Add(rt.e.OperationDuration()))
}
