package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/providers/authorization"
)

// Export, import and reset of the whole state (`armlet export`, `armlet
// import`, `armlet reset`; the admin API's /_armlet/export, /import and
// /reset). Import is importSeed (seed.go): a file is applied to a running
// armlet as --seed is at start.

// ensureBaseline makes what every armlet has from its first start: the
// built-in policy definitions, the default subscription and the bootstrap
// principal's Owner assignment at the tenant root "/", through which it can
// do everything and grant roles to the principals created later. Each is
// left alone when it exists.
func (s *Server) ensureBaseline(ctx context.Context) error {
	if err := authorization.ImportBuiltInPolicies(ctx, s.engine); err != nil {
		return fmt.Errorf("built-in policy definitions: %w", err)
	}
	if err := s.engine.EnsureSubscription(ctx, s.boot.SubscriptionID, s.boot.TenantID, "armlet default subscription"); err != nil {
		return err
	}
	if err := s.rbac.EnsureOwner(ctx, s.bootCaller.ObjectID, s.bootCaller); err != nil {
		return fmt.Errorf("bootstrap role assignment: %w", err)
	}
	return nil
}

// armletOwn reports whether the resource id of type typ is one armlet makes
// itself (ensureBaseline): a built-in policy definition or set definition
// (the only ones at the root), the bootstrap principal's Owner assignment
// or the default subscription. Export leaves them out and reset does not
// count them.
func (s *Server) armletOwn(id resourceid.ID, typ string) bool {
	switch {
	case strings.EqualFold(typ, engine.TypeSubscriptions):
		return strings.EqualFold(id.Name(), s.boot.SubscriptionID)
	case strings.EqualFold(typ, authorization.TypePolicyDefinitions), strings.EqualFold(typ, authorization.TypePolicySetDefinitions):
		return id.Parent().IsRoot()
	}
	return id.Key() == authorization.OwnerAssignmentID(s.bootCaller.ObjectID).Key()
}

// settle brings what follows the resources in line after an import or a
// reset: this replica's RBAC cache and, through the store, every other
// replica's; the private endpoint listeners. (The policy caches follow
// the write observers and delete hooks.)
func (s *Server) settle() {
	if s.rbac != nil {
		s.rbac.Invalidate()
	}
	if s.listeners != nil {
		s.listeners.Trigger()
	}
}

// exportState is the whole state as a seed file: every subscription and
// every resource but armlet's own (armletOwn), with the state a GET does
// not show; the principals but the bootstrap one only when asked.
func (s *Server) exportState(ctx context.Context, withPrincipals bool) (*Seed, error) {
	all, err := s.engine.Export(ctx)
	if err != nil {
		return nil, err
	}
	seed := &Seed{TenantID: s.boot.TenantID, Resources: []map[string]any{}}
	for _, x := range all {
		if strings.EqualFold(x.Type, engine.TypeSubscriptions) {
			name, _ := x.Body["displayName"].(string)
			seed.Subscriptions = append(seed.Subscriptions, SeedSubscription{SubscriptionID: x.ID.Name(), DisplayName: name})
			continue
		}
		if s.armletOwn(x.ID, x.Type) {
			continue
		}
		entry := x.Body
		entry["id"] = x.ID.String()
		entry["apiVersion"] = x.APIVersion
		if x.State.CreatedAPIVersion != "" || len(x.State.Data) > 0 {
			entry["internal"] = x.State
		}
		seed.Resources = append(seed.Resources, entry)
	}
	if withPrincipals {
		if seed.Principals, err = s.identity.ExportPrincipals(ctx); err != nil {
			return nil, err
		}
	}
	return seed, nil
}

// ResetResult is what a reset did.
type ResetResult struct {
	// Deleted counts the resources deleted, subscriptions other than the
	// default one included, armlet's own (made again at once) not.
	Deleted int `json:"deleted"`
}

// resetState deletes every resource and makes the baseline again; the
// tenant, the default subscription's id, the principals, the CA, the
// signing key, the clock and the flow records stay.
func (s *Server) resetState(ctx context.Context) (ResetResult, error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	deleted, err := s.engine.Reset(ctx)
	if err != nil {
		return ResetResult{}, err
	}
	var out ResetResult
	for _, r := range deleted {
		if !s.armletOwn(r.ID, r.Type) {
			out.Deleted++
		}
	}
	err = s.ensureBaseline(ctx)
	s.settle()
	s.log.Info("reset: every resource deleted", "deleted", out.Deleted)
	return out, err
}
