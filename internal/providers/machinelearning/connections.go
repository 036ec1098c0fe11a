package machinelearning

import (
	"context"
	"errors"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// Private endpoint connections (Microsoft.MachineLearningServices/
// workspaces/privateEndpointConnections) are made by Azure when a private
// endpoint names the workspace (the network provider calls the workspace
// type's engine.PrivateLinkRecorder, privatelink.go, which calls
// UpsertConnection). Through ARM a client can only read them, approve or
// reject them with a PUT (answered 200, as the SDK expects), and delete
// them.
//
// A PUT needs properties.privateLinkServiceConnectionState with a status
// (Pending, Approved, Rejected, Disconnected or Timeout) and optional
// description and actionsRequired; properties.privateEndpoint is read-only
// and keeps its stored value.
//
// Choice: the transitions a client may ask for are the ones of other Azure
// private link services:
//   - Pending to Approved or Rejected; Approved to Rejected;
//   - the current status again (to change the description);
//   - nothing else: a Rejected connection cannot be approved again (the
//     private endpoint must be recreated), and Pending, Disconnected and
//     Timeout are set by the platform only.
//
// Choice: refused transitions get 400
// InvalidPrivateEndpointConnectionStatusChange; a PUT for a connection
// that does not exist gets 404 PrivateEndpointConnectionNotFound; a PUT
// without actionsRequired stores "None".
type connectionStrategy struct {
	e *engine.Engine
}

var (
	_ engine.Strategy = (*connectionStrategy)(nil)
	_ engine.Importer = (*connectionStrategy)(nil)
)

// codeConnectionNotFound and codeStatusChange are the errors of the
// approval API.
const (
	codeConnectionNotFound = "PrivateEndpointConnectionNotFound"
	codeStatusChange       = "InvalidPrivateEndpointConnectionStatusChange"
)

const typePrivateEndpoints = "Microsoft.Network/privateEndpoints"

var connectionState = object("PrivateLinkServiceConnectionState", map[string]*field{
	"status":          connectionStatus,
	"description":     str(),
	"actionsRequired": str(),
}, "status")

// connectionProperties is what a client may PUT.
var connectionProperties = object("PrivateEndpointConnectionProperties", map[string]*field{
	"privateEndpoint":                   object("PrivateEndpoint", map[string]*field{"id": str()}).ro(),
	"privateLinkServiceConnectionState": connectionState,
	"provisioningState":                 str().ro(),
}, "privateLinkServiceConnectionState")

// connectionImportProperties is what a seed (or the network side) writes.
var connectionImportProperties = object("PrivateEndpointConnectionProperties", map[string]*field{
	"privateEndpoint": object("PrivateEndpoint", map[string]*field{
		"id": armID(typePrivateEndpoints),
	}, "id"),
	"privateLinkServiceConnectionState": connectionState,
	"provisioningState":                 str().ro(),
}, "privateEndpoint")

// ConnectionStatus is the privateLinkServiceConnectionState.status of the
// private endpoint connection r (Pending, Approved, Rejected, ...).
func ConnectionStatus(r *engine.Resource) string {
	st, _ := r.Properties["privateLinkServiceConnectionState"].(map[string]any)
	s, _ := st["status"].(string)
	return s
}

// Validate handles a client's PUT: only an update of an existing
// connection's state.
func (s *connectionStrategy) Validate(_ context.Context, _ *engine.Request, desired, old *engine.Resource) error {
	if old == nil {
		return arm.NotFound(codeConnectionNotFound,
			"The private endpoint connection '%s' of workspace '%s' does not exist. Private endpoint connections are created by creating a private endpoint (Microsoft.Network/privateEndpoints) that names the workspace; this API only approves or rejects existing connections.",
			desired.ID.Name(), desired.ID.Parent().Name())
	}
	if err := checkConnectionEnvelope(desired); err != nil {
		return err
	}
	if err := connectionProperties.gate("properties", desired.Properties, "", ""); err != nil {
		return err
	}
	props, err := connectionProperties.check("properties", desired.Properties)
	if err != nil {
		return err
	}
	p := props.(map[string]any)
	st := p["privateLinkServiceConnectionState"].(map[string]any)
	from, to := ConnectionStatus(old), st["status"].(string)
	if err := checkStatusChange(desired.ID.Name(), from, to); err != nil {
		return err
	}
	if _, ok := st["actionsRequired"]; !ok {
		st["actionsRequired"] = "None"
	}
	if pe, ok := old.Properties["privateEndpoint"]; ok {
		p["privateEndpoint"] = pe
	}
	desired.Properties = p
	return nil
}

// checkConnectionEnvelope refuses top-level members a connection does not
// have.
func checkConnectionEnvelope(r *engine.Resource) error {
	for k := range r.Extra {
		if k != "sku" && k != "identity" {
			return arm.InvalidContent(k, "Could not find member '%s' on object of type 'PrivateEndpointConnection'. Path '%s'.", k, k)
		}
	}
	return nil
}

func checkStatusChange(name, from, to string) error {
	if strings.EqualFold(from, to) {
		return nil
	}
	const target = "properties.privateLinkServiceConnectionState.status"
	switch {
	case to == "Approved" && from == "Pending", to == "Rejected" && (from == "Pending" || from == "Approved"):
		return nil
	case to == "Pending" || to == "Disconnected" || to == "Timeout":
		return arm.BadRequest(codeStatusChange,
			"The status of private endpoint connection '%s' cannot be set to '%s': that status is set by the platform. A client can approve (Approved) or reject (Rejected) a connection.",
			name, to).WithTarget(target)
	case from == "Rejected":
		return arm.BadRequest(codeStatusChange,
			"Private endpoint connection '%s' was rejected and cannot be changed to '%s'. Delete the private endpoint and create it again to request a new connection.",
			name, to).WithTarget(target)
	}
	return arm.BadRequest(codeStatusChange,
		"The status of private endpoint connection '%s' cannot change from '%s' to '%s'.", name, from, to).WithTarget(target)
}

// Import stores a connection that a seed file lists, or that the private
// endpoint side creates (UpsertConnection). Unless it came from
// UpsertConnection for a private endpoint created at run time, rule L3
// applies to the parent workspace.
//
// Choice: a seeded connection without privateLinkServiceConnectionState is
// Approved, "Auto-Approved", actionsRequired "None"; it must name its
// private endpoint (properties.privateEndpoint.id).
func (s *connectionStrategy) Import(ctx context.Context, req *engine.Request, r *engine.Resource) error {
	if err := checkConnectionEnvelope(r); err != nil {
		return err
	}
	if err := connectionImportProperties.gate("properties", r.Properties, "", ""); err != nil {
		return err
	}
	props, err := connectionImportProperties.check("properties", r.Properties)
	if err != nil {
		return err
	}
	p := props.(map[string]any)
	st, _ := p["privateLinkServiceConnectionState"].(map[string]any)
	if st == nil {
		st = map[string]any{"status": "Approved", "description": "Auto-Approved"}
		p["privateLinkServiceConnectionState"] = st
	}
	if _, ok := st["actionsRequired"]; !ok {
		st["actionsRequired"] = "None"
	}
	r.Properties = p
	if skip, _ := req.ImportArg.(skipL3); skip {
		return nil
	}
	return applyImportedConnection(ctx, s.e, r)
}

// skipL3 is the ImportArg of UpsertConnection's imports: true for a
// connection made for a private endpoint created at run time, which rule
// L3 does not count.
type skipL3 bool

// Connection is the private endpoint side's view of a connection to a
// workspace, for UpsertConnection.
type Connection struct {
	// PrivateEndpointID is the Microsoft.Network/privateEndpoints ID.
	PrivateEndpointID string
	// Status is Pending, Approved, Rejected, Disconnected or Timeout.
	Status string
	// Description is the reason shown with the status ("Auto-Approved").
	Description string
	// ActionsRequired defaults to "None".
	ActionsRequired string
	// Caller is recorded in the connection's systemData.
	Caller engine.Caller
	// Seeded marks a private endpoint that pre-exists (seed file): rule L3
	// then counts the connection for a workspace seeded without
	// v1LegacyMode.
	Seeded bool
}

// UpsertConnection creates or updates the private endpoint connection
// name of the workspace workspaceID, as Azure does when a private endpoint
// that names the workspace is created or changes (an automatically
// approved endpoint gives Approved, a manual request Pending; a deleted
// endpoint's connection can be set to Disconnected or deleted with a
// DELETE through the engine). Errors are *arm.Error for a missing
// workspace (404) or a bad argument (400).
//
// Choice: the status is applied as given (the network side is
// authoritative); the transition rules bind only the approval API.
func UpsertConnection(ctx context.Context, e *engine.Engine, workspaceID resourceid.ID, name string, c Connection) error {
	status, err := connectionStatus.check("status", c.Status)
	if err != nil || status == nil {
		return arm.BadRequest(arm.CodeBadRequest, "UpsertConnection: status '%s' is not one of Pending, Approved, Rejected, Disconnected, Timeout.", c.Status)
	}
	if err := checkArmID("privateEndpoint.id", c.PrivateEndpointID, typePrivateEndpoints); err != nil {
		return err
	}
	actions := c.ActionsRequired
	if actions == "" {
		actions = "None"
	}
	state := map[string]any{"status": status, "description": c.Description, "actionsRequired": actions}
	id := workspaceID.Child("privateEndpointConnections", name)
	update := func(r *engine.Resource) error {
		r.Properties["privateEndpoint"] = map[string]any{"id": c.PrivateEndpointID}
		r.Properties["privateLinkServiceConnectionState"] = state
		r.SystemData.LastModifiedBy, r.SystemData.LastModifiedByType = callerIdentity(c.Caller)
		r.SystemData.LastModifiedAt = e.Now()
		return nil
	}
	_, err = e.Update(ctx, id, update)
	if !errors.Is(err, engine.ErrNotFound) {
		return err // nil when updated
	}
	body := map[string]any{"properties": map[string]any{
		"privateEndpoint":                   map[string]any{"id": c.PrivateEndpointID},
		"privateLinkServiceConnectionState": state,
	}}
	imported, err := e.ImportWith(ctx, id, body, APIVersions[0], c.Caller, skipL3(!c.Seeded))
	if err != nil || imported {
		return err
	}
	_, err = e.Update(ctx, id, update) // created meanwhile: update it
	return err
}

// callerIdentity is systemData's view of a caller (as the engine records
// it).
func callerIdentity(c engine.Caller) (string, string) {
	if c.PrincipalType == "User" {
		return c.Name, "User"
	}
	if c.AppID != "" {
		return c.AppID, "Application"
	}
	return c.ObjectID, "Application"
}
