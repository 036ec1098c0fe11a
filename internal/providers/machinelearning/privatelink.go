package machinelearning

import (
	"context"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// A workspace is a private link target (engine.PrivateLinkRecorder): the
// network provider finds it by type, and the state of each connection
// lives in the workspace's privateEndpointConnections record
// (connections.go), where the workspace's owner approves or rejects it.

var _ engine.PrivateLinkRecorder = (*workspaceStrategy)(nil)

// PrivateLinkGroups: a workspace serves one group, amlworkspace.
func (s *workspaceStrategy) PrivateLinkGroups() []string {
	return []string{privateLinkGroupID}
}

// PrivateLinkFQDNs are the names of docs/azure-ml-arm.md section 4:
// {workspaceId}.workspace.{region}.api.azureml.ms,
// {workspaceId}.workspace.{region}.cert.api.azureml.ms,
// ml-{name}-{region}-{workspaceId}.{region}.notebooks.azure.net and
// *.{workspaceId}.inference.{region}.api.azureml.ms.
func (s *workspaceStrategy) PrivateLinkFQDNs(r *engine.Resource, _ string) []engine.PrivateLinkFQDN {
	wsid, _ := r.Properties["workspaceId"].(string)
	region := r.Location
	return []engine.PrivateLinkFQDN{
		{FQDN: wsid + ".workspace." + region + ".api.azureml.ms", Member: "default"},
		{FQDN: wsid + ".workspace." + region + ".cert.api.azureml.ms", Member: "cert"},
		{FQDN: notebookLabel(r.ID.Name(), region, wsid) + "." + region + ".notebooks.azure.net", Member: "notebook"},
		{FQDN: "*." + wsid + ".inference." + region + ".api.azureml.ms", Member: "inference"},
	}
}

// notebookLabel is ml-{name}-{region}-{workspaceId}, lower case, the name
// truncated so the DNS label is at most 63 characters.
func notebookLabel(name, region, wsid string) string {
	name = strings.ToLower(name)
	if room := 63 - len("ml---") - len(region) - len(wsid); len(name) > room {
		name = name[:max(room, 0)]
	}
	return "ml-" + name + "-" + region + "-" + wsid
}

// RecordConnection is UpsertConnection for the private endpoint pe.
func (s *workspaceStrategy) RecordConnection(ctx context.Context, target resourceid.ID, name string, pe resourceid.ID, state engine.PrivateLinkState, caller engine.Caller) error {
	return UpsertConnection(ctx, s.e, target, name, Connection{
		PrivateEndpointID: pe.String(), Status: state.Status, Description: state.Description,
		ActionsRequired: state.ActionsRequired, Caller: caller, Seeded: state.Preexisting,
	})
}

// ConnectionState reads the workspace's privateEndpointConnections record
// name. Choice: a stored state without actionsRequired shows "None".
func (s *workspaceStrategy) ConnectionState(ctx context.Context, target resourceid.ID, name string, pe resourceid.ID) (engine.PrivateLinkState, bool) {
	r, err := s.e.Get(ctx, target.Child("privateEndpointConnections", name))
	if err != nil || !strings.EqualFold(connectionEndpoint(r), pe.String()) {
		return engine.PrivateLinkState{}, false
	}
	st, _ := r.Properties["privateLinkServiceConnectionState"].(map[string]any)
	out := engine.PrivateLinkState{Status: ConnectionStatus(r), ActionsRequired: "None"}
	out.Description, _ = st["description"].(string)
	if a, ok := st["actionsRequired"].(string); ok {
		out.ActionsRequired = a
	}
	return out, true
}

// connectionEndpoint is the private endpoint ID of the connection r.
func connectionEndpoint(r *engine.Resource) string {
	ref, _ := r.Properties["privateEndpoint"].(map[string]any)
	id, _ := ref["id"].(string)
	return id
}

// RemoveConnections deletes, through the engine (as a client's DELETE
// would), the connections of every workspace whose private endpoint lies
// at or beneath scope.
func (s *workspaceStrategy) RemoveConnections(ctx context.Context, scope resourceid.ID, caller engine.Caller) error {
	workspaces, err := s.e.ListByType(ctx, TypeWorkspaces)
	if err != nil {
		return err
	}
	for _, ws := range workspaces {
		conns, err := s.e.List(ctx, ws.ID, "privateEndpointConnections")
		if err != nil {
			return err
		}
		for _, c := range conns {
			pe, err := resourceid.Parse(connectionEndpoint(c))
			if err != nil || !scope.Contains(pe) {
				continue
			}
			if _, err := s.e.ServePath(ctx, s.e.SystemRequest("DELETE", c.ID, APIVersions[0], caller), resourceid.Path{ID: c.ID}); err != nil {
				return err
			}
		}
	}
	return nil
}
