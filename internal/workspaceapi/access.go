package workspaceapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// DeniedMessage is Azure's message for a workspace data-plane call the
// workspace's private link configuration refuses (MicrosoftDocs/azure-docs
// issue #90426).
const DeniedMessage = "Access to workspace was denied based on workspace private link configuration."

// denied is the 403 of docs/design.md section 2.4, with the additionalInfo Azure
// ML's management front end adds.
func denied() *arm.Error {
	e := arm.Errorf(http.StatusForbidden, "UserError", DeniedMessage)
	e.AdditionalInfo = []arm.AdditionalInfo{{Type: "ComponentName", Info: map[string]any{"value": "managementfrontend"}}}
	return e
}

// wrongHost refuses a request on one workspace's host name that names
// another workspace (or none that exists) in its path.
//
// Choice: 403 UserError, as for a workspace the private link
// configuration refuses; Azure's answer for this case is not known.
func wrongHost(hostWSID string, id resourceid.ID) *arm.Error {
	return arm.Errorf(http.StatusForbidden, "UserError",
		"This host serves the workspace whose workspaceId is '%s' only; the request names '%s', which is not that workspace.", hostWSID, id)
}

// allow returns the live workspace at id if req may reach it, in this
// order:
//
//  1. A request that arrived through a private endpoint must be for the
//     workspace that endpoint connects to: otherwise 403 (the endpoint's
//     host name only resolves to its own workspace), before anything
//     reveals whether the other workspace exists.
//  2. A request that came to a workspace's own host name
//     (Request.HostWorkspaceID) must be for that workspace: otherwise 403
//     (wrongHost), the same whether the other workspace exists or not.
//  3. The workspace and its resource group must exist: otherwise ARM's
//     404 (ResourceGroupNotFound, ResourceNotFound).
//  4. A request that arrived publicly needs the workspace's
//     properties.publicNetworkAccess to be Enabled: otherwise 403.
//
// A private call works whatever publicNetworkAccess says.
// Choice: v1LegacyMode does not affect this endpoint (the v1 API lives
// here), and a workspace that is being deleted still answers until the
// delete completes.
func (s *Service) allow(ctx context.Context, req *Request, id resourceid.ID) (*engine.Resource, error) {
	if req.Origin.Private() && !req.Origin.Endpoint.TargetID.Equal(id) {
		return nil, denied()
	}
	if req.HostWorkspaceID != "" {
		ws, err := s.e.Get(ctx, id)
		if _, isARM := arm.AsError(err); err != nil && !isARM {
			return nil, err
		}
		if err != nil || workspaceKey(ws) != strings.ToLower(req.HostWorkspaceID) {
			return nil, wrongHost(req.HostWorkspaceID, id)
		}
	}
	if _, err := s.e.Get(ctx, id.Parent()); err != nil {
		return nil, err
	}
	ws, err := s.e.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !req.Origin.Private() && !publicAccessEnabled(ws) {
		return nil, denied()
	}
	return ws, nil
}

// publicAccessEnabled reads properties.publicNetworkAccess.
//
// Choice: a workspace without the property (imported from a seed) counts
// as Enabled, armlet's default for new workspaces.
func publicAccessEnabled(ws *engine.Resource) bool {
	v, _ := ws.Properties["publicNetworkAccess"].(string)
	return v == "" || strings.EqualFold(v, "Enabled")
}

// workspaceKey is the store key of a workspace's records: its workspaceId,
// lower case; "" if it has none.
func workspaceKey(ws *engine.Resource) string {
	id, _ := ws.Properties["workspaceId"].(string)
	return strings.ToLower(id)
}

func workspaceNotReady(id resourceid.ID) *arm.Error {
	return arm.Conflict("UserError", "The workspace '%s' has no workspaceId yet; retry once it is provisioned.", id.Name())
}

// purgeDeleted removes the records of a deleted workspace. A resource
// group's delete does not reach here for the workspaces it held; their
// records stay in the store, unreachable (their workspaceId is never
// reused).
func (s *Service) purgeDeleted(ctx context.Context, r *engine.Resource) {
	if !strings.EqualFold(r.Type, TypeWorkspaces) {
		return
	}
	key := workspaceKey(r)
	if key == "" {
		return
	}
	if err := s.deletePrefix(ctx, wsPrefix(key)); err != nil {
		s.log.Warn("purging a deleted workspace's data-plane records", "workspace", r.ID.String(), "err", err)
	}
}

// resolveDiscovery resolves /discovery and /discovery/workspaces/{workspaceId}.
//
// Choice: /discovery is regional (it names no workspace) and answered to
// any authenticated caller on every listener; /discovery/workspaces/{id}
// addresses the workspace with that workspaceId (404 ResourceNotFound
// when none has it) and needs Microsoft.MachineLearningServices/
// workspaces/discovery/read there, like any read of the workspace's data
// plane.
func (s *Service) resolveDiscovery(ctx context.Context, req *Request, rest []string) (*Target, error) {
	only := &route{methods: map[string]op{http.MethodGet: {}}}
	t := &Target{req: req, Action: TypeWorkspaces + "/discovery/read", op: op{h: discover, noRecords: true}}
	switch {
	case len(rest) == 0:
	case len(rest) == 2 && strings.EqualFold(rest[0], "workspaces"):
		if req.Method != http.MethodGet {
			return nil, methodNotAllowed(req.Method, only)
		}
		id, err := s.findWorkspace(ctx, req, rest[1])
		if err != nil {
			return nil, err
		}
		t.Workspace, t.Resource = id, id
	default:
		return nil, noRoute(req)
	}
	if req.Method != http.MethodGet {
		return nil, methodNotAllowed(req.Method, only)
	}
	return t, nil
}

// discover answers discovery.
//
// Choice: every service URI is the base URL the client used (the listener
// the request arrived on, public or private), so a client following them
// stays on the same path.
func discover(_ context.Context, _ *Service, c *call) (*engine.Response, error) {
	base := strings.TrimSuffix(c.BaseURL, "/")
	body := map[string]any{}
	for _, k := range []string{"api", "catalog", "experimentation", "gallery", "history", "hyperdrive", "labeling", "modelmanagement", "pipelines", "studio", "studiocoreservices"} {
		body[k] = base
	}
	return engine.JSON(http.StatusOK, body), nil
}

// findWorkspace finds the workspace whose workspaceId is wsid: the private
// endpoint's own workspace for a private request, else a search of every
// subscription's resource groups.
func (s *Service) findWorkspace(ctx context.Context, req *Request, wsid string) (resourceid.ID, error) {
	notFound := arm.NotFound(arm.CodeResourceNotFound, "No workspace with the workspaceId '%s' was found.", wsid)
	if req.HostWorkspaceID != "" && !strings.EqualFold(req.HostWorkspaceID, wsid) {
		return resourceid.ID{}, arm.Errorf(http.StatusForbidden, "UserError",
			"This host serves the workspace whose workspaceId is '%s' only, not '%s'.", req.HostWorkspaceID, wsid)
	}
	if req.Origin.Private() {
		ws, err := s.e.Get(ctx, req.Origin.Endpoint.TargetID)
		if err != nil || !strings.EqualFold(workspaceKey(ws), wsid) {
			return resourceid.ID{}, denied()
		}
		return ws.ID, nil
	}
	subs, err := s.e.List(ctx, resourceid.Root, resourceid.TypeSubscriptions)
	if err != nil {
		return resourceid.ID{}, err
	}
	for _, sub := range subs {
		rgs, err := s.e.List(ctx, sub.ID, resourceid.TypeResourceGroups)
		if err != nil {
			return resourceid.ID{}, err
		}
		for _, rg := range rgs {
			wss, err := s.e.List(ctx, rg.ID, TypeWorkspaces)
			if err != nil {
				return resourceid.ID{}, err
			}
			for _, ws := range wss {
				if strings.EqualFold(workspaceKey(ws), wsid) {
					return ws.ID, nil
				}
			}
		}
	}
	return resourceid.ID{}, notFound
}
