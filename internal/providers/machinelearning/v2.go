package machinelearning

import (
	"context"
	"net/http"
	"regexp"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// The v2 platform's workspace child resources (docs/azure-ml-arm.md
// sections 2.3 to 2.6): computes, datastores, connections, assets, jobs,
// endpoints, deployments and schedules, and the managed network's outbound
// rules (2.2). Each area registers its types in a file of its own; while
// the workspace is in v1 legacy mode, rule L5 (gate.go, docs/design.md
// section 1.6) refuses all of them but computes and outbound rules.

// V2APIVersions are the stable api-versions of the v2 child resources,
// newest first: 2022-05-01, the first stable version of the v2 API, and
// later.
var V2APIVersions = func() []string {
	var out []string
	for _, v := range APIVersions {
		if atLeast(v, LegacyModeAPIVersion) {
			out = append(out, v)
		}
	}
	return out
}()

// v2NamePattern is the name rule of v2 containers, endpoints and the
// other v2 child resources (SpecMFE, docs/azure-ml-arm.md 2).
var v2NamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$`)

const v2NameRule = "The name must start with a letter or digit and contain only letters, digits, '-' and '_' (at most 255 characters)."

// registerV2 adds the v2 child resource types.
func registerV2(e *engine.Engine, opts Options) {
	registerComputes(e, opts)
	registerDatastores(e, opts)
	registerWorkspaceConnections(e, opts)
	registerAssets(e, opts)
	registerJobs(e, opts)
	registerEndpoints(e, opts)
	registerSchedules(e, opts)
	registerManagedNetwork(e, opts)
	registerRegistries(e, opts)
	registerFeatureStore(e, opts)
	registerProviderScope(e, opts) // operations.go
}

// checkProperties type-checks desired.Properties against sh's schema at
// the request's api-version and stores the normalised form: unknown
// members, and members the api-version does not have, are refused in what
// the client sent (the body of a PUT, the patch of a PATCH) unless the
// schema is open; a PUT keeps from old (the stored resource, nil on
// create) the members its version does not have, since the client could
// not send them; the members only that version has are handed to
// sh.upgrade and not stored. typeName names the properties' .NET type in
// messages.
func checkProperties(req *engine.Request, desired, old *engine.Resource, sh *shapes, typeName string) error {
	schema, _ := sh.at(req.APIVersion)
	v := sh.gateVersion(req.APIVersion)
	sent := desired.Properties
	if req.Method == http.MethodPatch {
		sent = patchProperties(req.Body)
	}
	if err := schema.gate("properties", sent, v, typeName); err != nil {
		return err
	}
	if old != nil && req.Method == http.MethodPut && v != "" {
		schema.carryOver(desired.Properties, old.Properties, v)
	}
	props, err := schema.check("properties", desired.Properties)
	if err != nil {
		return err
	}
	m, _ := props.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	if sh.upgrade != nil {
		sh.upgrade(m, req.APIVersion)
	}
	schema.dropVersionOnly(m)
	desired.Properties = m
	return nil
}

// List view types of the v2 asset, job and schedule lists.
const (
	listViewActiveOnly   = "ActiveOnly"
	listViewArchivedOnly = "ArchivedOnly"
	listViewAll          = "All"
)

// listViewFilter reads the listViewType query parameter (default
// ActiveOnly) and returns a filter on properties.isArchived (for
// schedules, properties.isEnabled is not involved: archived is
// isArchived there too).
func listViewFilter(req *engine.Request) (func(*engine.Resource) bool, error) {
	view := req.QueryValue("listViewType")
	switch {
	case view == "" || strings.EqualFold(view, listViewActiveOnly):
		return func(r *engine.Resource) bool { return !isArchived(r) }, nil
	case strings.EqualFold(view, listViewArchivedOnly):
		return isArchived, nil
	case strings.EqualFold(view, listViewAll):
		return nil, nil
	}
	return nil, arm.BadRequest(arm.CodeUserError, "The value '%s' of query parameter 'listViewType' is invalid; the allowed values are '%s', '%s' and '%s'.",
		view, listViewActiveOnly, listViewArchivedOnly, listViewAll).WithTarget("listViewType")
}

func isArchived(r *engine.Resource) bool {
	b, _ := r.Properties["isArchived"].(bool)
	return b
}

// workspaceOf returns the live workspace above the v2 resource r (or
// above the resource a request names), for strategies that need its
// location or keys.
func workspaceOf(ctx context.Context, e *engine.Engine, r *engine.Resource) (*engine.Resource, error) {
	id := r.ID
	for id.Len() > 0 && !strings.EqualFold(id.ResourceType(), TypeWorkspaces) {
		id = id.Parent()
	}
	return e.Get(ctx, id)
}
