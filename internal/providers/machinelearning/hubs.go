package machinelearning

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// Workspace kinds: Default, FeatureStore, Hub and Project
// (docs/azure-ml-arm.md 3). A hub holds what its projects share: the
// linked resources (storage account, key vault, container registry,
// Application Insights), the managed network and the connections it
// shares; a project names its hub in hubResourceId.

// workspaceKinds are the kinds armlet knows, in Azure's casing.
var workspaceKinds = []string{kindDefault, kindFeatureStore, kindHub, kindProject}

// kindSince is the first stable api-version at which each kind other
// than Default can be created.
//
// Choice: a feature store from 2023-04-01, the first stable version with
// featuresets; hubs and projects from 2024-04-01, the first stable
// version whose model has hubResourceId and workspaceHubConfig (armlet's
// estimate of their introduction, workspace_schema.go). At a version
// before that a create of the kind is refused (400 UserError naming
// kind); an existing workspace of the kind may still be read and written
// at any version (its kind cannot change anyway). A preview armlet has
// no model of accepts every kind; one it has a model of follows its date.
var kindSince = map[string]string{
	kindFeatureStore: "2023-04-01",
	kindHub:          "2024-04-01",
	kindProject:      "2024-04-01",
}

// kindProperties are the properties only one kind may set.
//
// Choice: another kind that sends one gets 400 UserError naming it
// (Azure's answer is unknown). associatedWorkspaces is read-only: what a
// client sends is ignored, and a hub shows its projects.
var kindProperties = map[string]string{
	"featureStoreSettings": kindFeatureStore,
	"workspaceHubConfig":   kindHub,
	"hubResourceId":        kindProject,
}

// linkedFromHub are the linked resources a project takes from its hub
// when its body omits them.
var linkedFromHub = []string{"storageAccount", "keyVault", "containerRegistry", "applicationInsights"}

// completeKind checks desired's kind and the properties that go with it,
// and resolves a project from its hub. It runs after the schema and the
// immutable properties are checked (so a PUT that omits kind or
// hubResourceId has the stored value), before the defaults.
//
// Choice: kind matches ignoring case and is stored in Azure's casing; an
// unknown kind is refused (400 UserError naming kind), although the spec
// types it as a free string. An absent kind is Default.
//
// A project:
//   - needs hubResourceId on create (400 UserError naming
//     properties.hubResourceId), which must name a live workspace of kind
//     Hub (400 UserError naming it otherwise) and cannot change
//     (PropertyChangeNotAllowed);
//   - takes the hub's storageAccount, keyVault, containerRegistry and
//     applicationInsights when its body omits them;
//   - has no managed network of its own: it shows its hub's, read-only
//     (a body whose managedNetwork differs from the hub's isolation mode,
//     or sends outbound rules, is refused with 400 UserError naming
//     properties.managedNetwork; one that repeats what a GET showed
//     passes).
//
// Choice: an import (seed or export file) of a project whose hub is not
// (yet) there is accepted as it is, unresolved.
func (s *workspaceStrategy) completeKind(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	kind := kindDefault
	if desired.Kind != "" {
		i := slices.IndexFunc(workspaceKinds, func(k string) bool { return strings.EqualFold(k, desired.Kind) })
		if i < 0 {
			return arm.BadRequest(arm.CodeUserError, "The workspace kind '%s' is not supported; the kinds are '%s'.",
				desired.Kind, strings.Join(workspaceKinds, "', '")).WithTarget("kind")
		}
		kind = workspaceKinds[i]
	}
	desired.Kind = kind
	if since, ok := kindSince[kind]; ok && old == nil && !req.Importing() && s.shapes.gateVersion(req.APIVersion) != "" && !atLeast(req.APIVersion, since) {
		return arm.BadRequest(arm.CodeUserError, "A workspace of kind '%s' cannot be created at api-version '%s'; use %s or later.",
			kind, req.APIVersion, since).WithTarget("kind")
	}
	p := desired.Properties
	delete(p, "associatedWorkspaces")
	for prop, only := range kindProperties {
		if _, ok := p[prop]; ok && kind != only {
			return arm.BadRequest(arm.CodeUserError, "'properties.%s' is only allowed on a workspace of kind '%s', not '%s'.", prop, only, kind).
				WithTarget("properties." + prop)
		}
	}
	if kind != kindProject {
		return nil
	}
	hubRef, _ := p["hubResourceId"].(string)
	if old != nil {
		was, _ := old.Properties["hubResourceId"].(string)
		if hubRef == "" {
			hubRef = was
			p["hubResourceId"] = was
		}
		if !strings.EqualFold(hubRef, was) {
			return propertyChangeNotAllowed("properties.hubResourceId")
		}
	}
	if hubRef == "" {
		return arm.BadRequest(arm.CodeUserError, "A workspace of kind 'Project' needs 'properties.hubResourceId', the resource ID of its hub.").
			WithTarget("properties.hubResourceId")
	}
	hub, err := s.liveHub(ctx, hubRef)
	if err != nil && req.Importing() {
		// A seed or export file may list the project before its hub (an
		// export lists them in name order): the file carries what the
		// project took from its hub.
		return nil
	}
	if err != nil {
		return err
	}
	for _, name := range linkedFromHub {
		if _, ok := p[name]; !ok && hub.Properties[name] != nil {
			p[name] = hub.Properties[name]
		}
	}
	return checkProjectNetwork(p, hub)
}

// liveHub loads the hub a project's hubResourceId names.
func (s *workspaceStrategy) liveHub(ctx context.Context, ref string) (*engine.Resource, error) {
	refuse := func(why string) error {
		return arm.BadRequest(arm.CodeUserError, "The hub '%s' named by 'properties.hubResourceId' %s.", ref, why).
			WithTarget("properties.hubResourceId")
	}
	id, err := resourceid.Parse(ref)
	if err != nil || !strings.EqualFold(id.ResourceType(), TypeWorkspaces) {
		return nil, refuse("is not the resource ID of a workspace")
	}
	hub, err := s.e.Get(ctx, id)
	if err != nil {
		return nil, refuse("does not exist")
	}
	if !strings.EqualFold(hub.Kind, kindHub) {
		return nil, refuse("is a workspace of kind '" + orDefaultKind(hub.Kind) + "', not 'Hub'")
	}
	return hub, nil
}

// checkProjectNetwork refuses a project body that would set a managed
// network of its own, and drops what it repeats of the hub's.
func checkProjectNetwork(p map[string]any, hub *engine.Resource) error {
	mn := managedNetworkOf(p)
	delete(p, "managedNetwork")
	if mn == nil {
		return nil
	}
	hubMode := isolationModeOf(managedNetworkOf(hub.Properties))
	mode, sent := mn["isolationMode"].(string)
	if (sent && !strings.EqualFold(mode, hubMode)) || len(rulesOf(mn)) > 0 && !sameRules(rulesOf(mn), rulesOf(managedNetworkOf(hub.Properties))) {
		return arm.BadRequest(arm.CodeUserError,
			"A project's managed network is its hub's ('%s', isolation mode '%s') and cannot be set on the project; change the hub's instead.",
			hub.ID.Name(), hubMode).WithTarget("properties.managedNetwork")
	}
	return nil
}

// sameRules reports whether the rules a project body sends are the hub's
// (by name, ignoring the read-only members a GET adds).
func sameRules(sent, hub map[string]any) bool {
	for name := range sent {
		if _, _, ok := lookupFold(hub, name); !ok {
			return false
		}
	}
	return true
}

// renderKind adds what a workspace's kind derives at render time: a
// hub's associatedWorkspaces (its projects' resource IDs, in the order
// of the type index), a project's managed network (its hub's, as the hub
// shows it now).
func (s *workspaceStrategy) renderKind(ctx context.Context, r *engine.Resource, props map[string]any, apiVersion string, now time.Time) error {
	switch {
	case strings.EqualFold(r.Kind, kindHub):
		projects, err := s.projectsOf(ctx, r.ID)
		if err != nil {
			return err
		}
		ids := make([]any, 0, len(projects))
		for _, p := range projects {
			ids = append(ids, p.ID.String())
		}
		props["associatedWorkspaces"] = ids
	case strings.EqualFold(r.Kind, kindProject):
		hub := s.hubOf(ctx, r)
		if hub == nil {
			return nil
		}
		if mn := managedNetworkOf(hub.Properties); mn != nil {
			props["managedNetwork"] = engine.DeepCopy(mn)
			renderManagedNetwork(hub, props, apiVersion, now)
		}
	}
	return nil
}

// hubOf is the live hub of project r, nil if it has none.
func (s *workspaceStrategy) hubOf(ctx context.Context, r *engine.Resource) *engine.Resource {
	ref, _ := r.Properties["hubResourceId"].(string)
	id, err := resourceid.Parse(ref)
	if err != nil {
		return nil
	}
	hub, err := s.e.Get(ctx, id)
	if err != nil {
		return nil
	}
	return hub
}

// projectsOf returns the live projects whose hubResourceId is hub.
func (s *workspaceStrategy) projectsOf(ctx context.Context, hub resourceid.ID) ([]*engine.Resource, error) {
	all, err := s.e.ListByType(ctx, TypeWorkspaces)
	if err != nil {
		return nil, err
	}
	var out []*engine.Resource
	for _, w := range all {
		ref, _ := w.Properties["hubResourceId"].(string)
		if strings.EqualFold(w.Kind, kindProject) && strings.EqualFold(ref, hub.String()) {
			out = append(out, w)
		}
	}
	return out, nil
}

var _ engine.DeleteValidator = (*workspaceStrategy)(nil)

// ValidateDelete refuses to delete a hub that has projects.
//
// Choice: Azure's error is unknown; armlet answers 409 Conflict naming
// the projects (the first three) and associatedWorkspaces: delete the
// projects first.
func (s *workspaceStrategy) ValidateDelete(ctx context.Context, _ *engine.Request, r *engine.Resource) error {
	if !strings.EqualFold(r.Kind, kindHub) {
		return nil
	}
	projects, err := s.projectsOf(ctx, r.ID)
	if err != nil || len(projects) == 0 {
		return err
	}
	var names []string
	for _, p := range projects[:min(3, len(projects))] {
		names = append(names, p.ID.Name())
	}
	return arm.Conflict(arm.CodeConflict, "Hub '%s' has %d project(s) ('%s'); delete its projects before the hub.",
		r.ID.Name(), len(projects), strings.Join(names, "', '")).WithTarget("properties.associatedWorkspaces")
}

// listProjectConnections answers a project's connections list: its own
// connections, then those of its hub that are shared with every project
// (isSharedToAll true) and that no connection of the project's own
// hides by name. The connections' list filters apply to both; the list
// is one page. Other workspaces' lists are the engine's (handled false).
//
// Choice: a hub's connection is shared when its isSharedToAll is true
// (sharedUserList is not consulted); a GET of a hub's connection through
// the project's path is 404, as the connection is the hub's (its id and
// createdByWorkspaceArmId say so). Computes are not shared: a project
// lists only its own.
func (s *workspaceStrategy) listProjectConnections(ctx context.Context, req *engine.Request, project *engine.Resource) (*engine.Response, bool, error) {
	if !strings.EqualFold(project.Kind, kindProject) {
		return nil, false, nil
	}
	if err := s.e.CheckAPIVersion(req.APIVersion, TypeWorkspaceConnections); err != nil {
		return nil, true, err
	}
	t, _ := s.e.Registry().Lookup(TypeWorkspaceConnections)
	keep := func(*engine.Resource) bool { return true }
	if lf, ok := t.Strategy.(engine.ListFilterer); ok {
		k, err := lf.ListFilter(req)
		if err != nil {
			return nil, true, err
		}
		if k != nil {
			keep = k
		}
	}
	own, err := s.e.List(ctx, project.ID, "connections")
	if err != nil {
		return nil, true, err
	}
	conns := own
	if hub := s.hubOf(ctx, project); hub != nil {
		shared, err := s.e.List(ctx, hub.ID, "connections")
		if err != nil {
			return nil, true, err
		}
		for _, c := range shared {
			hidden := slices.ContainsFunc(own, func(o *engine.Resource) bool { return strings.EqualFold(o.ID.Name(), c.ID.Name()) })
			if b, _ := c.Properties["isSharedToAll"].(bool); b && !hidden {
				conns = append(conns, c)
			}
		}
	}
	out := []any{}
	for _, c := range conns {
		if !keep(c) {
			continue
		}
		body, err := s.e.Render(ctx, req, c)
		if err != nil {
			return nil, true, err
		}
		out = append(out, body)
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out}), true, nil
}

// serveProjectRules answers the outbound rules of project ws: reads show
// its hub's rules; writes are refused (400 UserError naming
// properties.managedNetwork), as the project's managed network is its
// hub's. handled is false for other workspaces.
func (s *outboundRuleStrategy) serveProjectRules(ctx context.Context, req *engine.Request, ws *engine.Resource, name string) (resp *engine.Response, handled bool, err error) {
	if !strings.EqualFold(ws.Kind, kindProject) {
		return nil, false, nil
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return nil, true, arm.BadRequest(arm.CodeUserError,
			"The outbound rules of project '%s' are its hub's; change them on the hub.", ws.ID.Name()).WithTarget("properties.managedNetwork")
	}
	ref, _ := ws.Properties["hubResourceId"].(string)
	hubID, perr := resourceid.Parse(ref)
	hub, gerr := s.e.Get(ctx, hubID)
	if perr != nil || gerr != nil {
		hub = ws // the hub is gone: the project has no rules
	}
	if name == "" {
		resp, err = s.list(hub, req)
	} else {
		resp, err = s.get(hub, req, name)
	}
	return resp, true, err
}
