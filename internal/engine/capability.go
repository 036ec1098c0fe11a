package engine

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

// Capabilities are optional interfaces a type's strategy offers to other
// providers rather than to the engine (PrivateLinkTarget, for example). A
// provider reaches another provider's resource types through them, by the
// type's name, and never imports the other provider: the registry is the
// one place the two meet, so a provider can be registered, left out or
// replaced by a test stand-in without the others changing.

// Capability returns the strategy of the registered type typ (matched
// ignoring case) as a C. ok is false when typ is not registered or its
// strategy does not implement C: the caller then treats typ as not
// offering C, exactly as it treats a type no provider registered.
func Capability[C any](g *Registry, typ string) (c C, ok bool) {
	t, found := g.Lookup(typ)
	if !found {
		return c, false
	}
	c, ok = t.Strategy.(C)
	return c, ok
}

// Implementing returns the registered types whose strategy implements C,
// sorted by name, for a provider that must reach every type offering a
// capability (to say which types it supports, or to tell them all about a
// change).
func Implementing[C any](g *Registry) []*Type {
	var out []*Type
	for _, t := range g.types {
		if _, ok := t.Strategy.(C); ok {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *Type) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// SystemRequest is a request armlet makes itself, through the engine, on
// behalf of caller (a provider acting on another resource, such as
// deleting the connections of a private endpoint that is gone). Serve it
// with ServePath and id itself: its Path is the unescaped id, for
// messages only, and must not be parsed again.
func (e *Engine) SystemRequest(method string, id resourceid.ID, apiVersion string, caller Caller) *Request {
	return &Request{
		Method: method, Path: id.String(), APIVersion: apiVersion, Header: http.Header{}, Now: e.clock.Now(),
		Caller: caller,
	}
}

// PrivateLinkTarget is the capability of a resource type a private
// endpoint can connect to (the privateLinkServiceId of a
// Microsoft.Network/privateEndpoints connection). The network provider
// finds it with Capability by the target's type: a type whose strategy
// does not implement it cannot be a private endpoint's target.
//
// A target that also implements PrivateLinkRecorder keeps each
// connection's state on its side, where its owner approves or rejects it;
// one that does not leaves the state with the private endpoint, and reads
// the connections through the PrivateLinkSource of the private endpoint
// type.
type PrivateLinkTarget interface {
	// PrivateLinkGroups returns the group ids (private link sub-resources)
	// the type serves, in Azure's casing, for example "amlworkspace". A
	// private endpoint names one of them (matched ignoring case).
	PrivateLinkGroups() []string
	// PrivateLinkFQDNs returns the names a private endpoint for group (one
	// of PrivateLinkGroups, in the casing the client sent) serves for the
	// live target r, each of which gets its own private address. It must
	// not fail: r exists and the group was checked.
	PrivateLinkFQDNs(r *Resource, group string) []PrivateLinkFQDN
}

// PrivateLinkRecorder is the part of a PrivateLinkTarget that records each
// private endpoint's connection on the target (a workspace's
// privateEndpointConnections), so that the target's owner can approve,
// reject or delete it and the private endpoint shows what the target
// holds.
type PrivateLinkRecorder interface {
	PrivateLinkTarget
	// RecordConnection creates or updates the connection name of the
	// target from the private endpoint pe, with state, written on behalf
	// of caller (for systemData). The state is applied as given: the
	// private endpoint's side is authoritative, the target's approval
	// rules bind only its own API. Errors are *arm.Error for a target that
	// is gone (404) or a bad argument (400), or store errors; the private
	// endpoint's create then fails with them.
	RecordConnection(ctx context.Context, target resourceid.ID, name string, pe resourceid.ID, state PrivateLinkState, caller Caller) error
	// ConnectionState returns the state of the connection name of target.
	// ok is false when the connection is not there (deleted by the
	// target's owner, or the target is gone), cannot be read, or belongs
	// to another private endpoint than pe: the private endpoint then shows
	// its connection Disconnected.
	ConnectionState(ctx context.Context, target resourceid.ID, name string, pe resourceid.ID) (state PrivateLinkState, ok bool)
	// RemoveConnections deletes, on every resource of the type, the
	// connections whose private endpoint lies at or beneath scope, on
	// behalf of caller. It is called once those private endpoints are gone
	// (deleted, or their resource group or subscription deleted).
	RemoveConnections(ctx context.Context, scope resourceid.ID, caller Caller) error
}

// PrivateLinkSource is the capability of the private endpoint type
// (Microsoft.Network/privateEndpoints): the connections private endpoints
// keep for the targets that do not record them (PrivateLinkTarget without
// PrivateLinkRecorder).
type PrivateLinkSource interface {
	// ConnectionsTo lists the connections of the live private endpoints
	// (in every subscription, none being deleted) to target, each with its
	// state now.
	ConnectionsTo(ctx context.Context, target resourceid.ID) ([]PrivateLinkConnection, error)
}

// PrivateLinkFQDN is one name a private endpoint serves for its target.
type PrivateLinkFQDN struct {
	// FQDN is the name ("{workspaceId}.workspace.eastus.api.azureml.ms");
	// it may start with "*.".
	FQDN string
	// Member is the group's member the name belongs to ("default",
	// "cert"): the requiredMemberName of the private endpoint's network
	// interface.
	Member string
}

// PrivateLinkState is a connection's privateLinkServiceConnectionState.
type PrivateLinkState struct {
	// Status is Pending, Approved, Rejected, Disconnected or Timeout.
	Status string
	// Description is the reason shown with the status ("Auto-Approved").
	Description string
	// ActionsRequired is "None" unless the target says otherwise.
	ActionsRequired string
	// Preexisting is set when the private endpoint is imported (a seed
	// file), not made by a client now: the target may count the
	// connection as part of its own pre-existing configuration (Azure
	// ML's rule L3, docs/design.md section 1.4).
	Preexisting bool
}

// Map is the wire form of s.
func (s PrivateLinkState) Map() map[string]any {
	return map[string]any{"status": s.Status, "description": s.Description, "actionsRequired": s.ActionsRequired}
}

// PrivateLinkConnection is one private endpoint's connection to a target,
// as the target shows it.
type PrivateLinkConnection struct {
	// PrivateEndpoint is the Microsoft.Network/privateEndpoints ID.
	PrivateEndpoint resourceid.ID
	// Name is the connection's name on the private endpoint.
	Name string
	// State is the connection's state now.
	State PrivateLinkState
}

// AccessKeyHolder is implemented by the strategies of types whose
// resources have access keys that another resource hands out as its own
// (a storage account's, which an Azure ML workspace's listKeys returns as
// userStorageKey).
type AccessKeyHolder interface {
	// AccessKeys returns r's keys, the primary first.
	AccessKeys(r *Resource) []string
}

// AccessKeys returns the keys of the live resource id when its type holds
// keys (AccessKeyHolder). ok is false when there is no such resource, or
// its type holds none or is not served.
func (e *Engine) AccessKeys(ctx context.Context, id resourceid.ID) (keys []string, ok bool, err error) {
	t, found := e.reg.Lookup(id.ResourceType())
	if !found {
		return nil, false, nil
	}
	h, holds := t.Strategy.(AccessKeyHolder)
	if !holds {
		return nil, false, nil
	}
	r, err := e.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	keys = h.AccessKeys(r)
	return keys, len(keys) > 0, nil
}
