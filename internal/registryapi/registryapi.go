// Package registryapi is the data plane of Azure ML registries: what a
// client reaches on a registry's own regional endpoint rather than on
// Azure Resource Manager. azure-ai-ml finds a registry by name through
// discovery, then sends its asset requests (models, environments,
// components, code and data, their containers and versions) to the
// registry's regional resource provider, in ARM's path shapes below a
// prefix:
//
//	GET  /registrymanagement/v1.0/registries/{name}/discovery
//	ANY  /mferp/managementfrontend/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/registries/{name}/...
//
// (azure-ai-ml's _registry_utils.RegistryDiscovery and MFE_PATH_PREFIX).
// Like a workspace's endpoint, and unlike ARM, this data plane is where a
// registry's network isolation applies: a request that arrived publicly
// needs the registry's publicNetworkAccess to be Enabled, and a request
// through a private endpoint (group id amlregistry) reaches only that
// endpoint's registry (docs/design.md section 2.4).
//
// The package resolves a request to a Target once; the front door then
// checks RBAC on the target and has the engine serve the ARM path it
// names, so the registry's assets are the same resources whichever way
// they are reached.
package registryapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/providers/machinelearning"
)

// AssetPrefix is the path prefix of the regional asset API; the rest of the
// path is an ARM path.
const AssetPrefix = "/mferp/managementfrontend"

// IsRegistryPath reports whether the lower-cased first path segment first
// belongs to the registry data plane.
func IsRegistryPath(first string) bool {
	return first == "registrymanagement" || first == "mferp"
}

// DeniedMessage is armlet's message for a registry data-plane call the
// registry's private link configuration refuses.
//
// Choice: Azure's text for registries is not documented; armlet words it
// as Azure ML's front end words the workspace's (workspaceapi), with the
// same 403 UserError and additionalInfo.
const DeniedMessage = "Access to registry was denied based on registry private link configuration."

func denied() *arm.Error {
	e := arm.Errorf(http.StatusForbidden, "UserError", DeniedMessage)
	e.AdditionalInfo = []arm.AdditionalInfo{{Type: "ComponentName", Info: map[string]any{"value": "managementfrontend"}}}
	return e
}

// Service resolves registry data-plane requests.
type Service struct {
	e *engine.Engine
}

// New returns a Service reading registries from e.
func New(e *engine.Engine) *Service { return &Service{e: e} }

// Target is what a registry data-plane request was resolved to.
type Target struct {
	// Registry is the live registry the request reaches; the root ID for
	// an operation status read, which names no registry.
	Registry resourceid.ID
	// Discovery is set for a discovery request, which the front door
	// answers with Discovery; otherwise Path is the ARM path to serve.
	Discovery bool
	Path      resourceid.Path
	// EscapedPath is the ARM path as the client escaped it.
	EscapedPath string
	// APIVersion is the api-version the engine is to serve the ARM path
	// at: the request's, or for azure-ai-ml's data-plane version the ARM
	// version it is served as (machinelearning.RegistryDataPlaneServedAs),
	// with LocationPut set, since that client expects a PUT to answer 202
	// with Location.
	APIVersion  string
	LocationPut bool
	// TemporaryDataReference is set for PUT
	// registries/{r}/tempdatarefs/{name}/versions/{version}, which the
	// front door answers with machinelearning.TemporaryDataReference.
	TemporaryDataReference bool
	// Action and Scope are what RBAC checks (discovery only; an ARM path
	// is checked as ARM checks it).
	Action string
	Scope  resourceid.ID
	// BaseURL is what the engine is to put before the links it writes
	// (long-running operations, next pages), so clients follow them back
	// to this data plane.
	BaseURL string

	registry *engine.Resource
}

// Resolve parses a request once and applies the registry's network rules,
// in this order:
//
//  1. The path must be discovery or the asset prefix followed by an ARM
//     path below a registry (or an operation status of the Azure ML
//     namespace, which clients poll after a long-running request here):
//     otherwise 404.
//  2. A request through a private endpoint must be for the registry that
//     endpoint connects to: otherwise 403, before anything shows whether
//     the other registry exists.
//  3. The registry must exist (ARM's 404s).
//  4. A request that arrived publicly needs the registry's
//     publicNetworkAccess to be Enabled (absent counts as Enabled): 403
//     otherwise. A private call works whatever it says.
//
// escapedPath is the request's escaped path, apiVersion its api-version
// parameter; baseURL the scheme and host the client used. A request
// refused by rules 2 to 4 gets its error and a Target with Path set (a
// discovery refused by rule 4: Action and Scope), for its flow record.
func (s *Service) Resolve(ctx context.Context, method, escapedPath, apiVersion, baseURL string, origin netmodel.Origin) (*Target, error) {
	segs := strings.Split(strings.Trim(escapedPath, "/"), "/")
	first, _ := url.PathUnescape(segs[0])
	switch strings.ToLower(first) {
	case "registrymanagement":
		return s.resolveDiscovery(ctx, method, escapedPath, segs, baseURL, origin)
	case "mferp":
		if len(segs) < 3 || !unescapedEqual(segs[1], "managementfrontend") {
			return nil, noRoute(escapedPath)
		}
		p, err := engine.ParsePath("/" + strings.Join(segs[2:], "/"))
		if err != nil {
			return nil, err
		}
		t := &Target{Path: p, EscapedPath: "/" + strings.Join(segs[2:], "/"), BaseURL: strings.TrimSuffix(baseURL, "/") + AssetPrefix,
			APIVersion: apiVersion}
		if strings.EqualFold(apiVersion, machinelearning.RegistryDataPlaneAPIVersion) {
			t.APIVersion, t.LocationPut = machinelearning.RegistryDataPlaneServedAs, true
		}
		if machinelearning.IsTemporaryDataReference(p.ID) && p.Tail == "" {
			if method != http.MethodPut {
				return nil, methodNotAllowed(method, http.MethodPut)
			}
			t.TemporaryDataReference = true
		}
		reg, ok := registryOf(p.ID)
		if !ok {
			if engine.IsOperationStatus(p) && strings.EqualFold(p.ID.Parent().ResourceType(), machinelearning.Namespace+"/locations") {
				return t, nil
			}
			return t, arm.NotFound(arm.CodeInvalidRequestURI,
				"The registry endpoint serves only the resources of a registry; '%s' names none.", escapedPath)
		}
		r, err := s.allow(ctx, reg, origin)
		if err != nil {
			return t, err
		}
		t.Registry, t.registry = r.ID, r
		return t, nil
	}
	return nil, noRoute(escapedPath)
}

// resolveDiscovery resolves GET /registrymanagement/v1.0/registries/{name}/discovery.
func (s *Service) resolveDiscovery(ctx context.Context, method, escapedPath string, segs []string, baseURL string, origin netmodel.Origin) (*Target, error) {
	if len(segs) != 5 || !unescapedEqual(segs[1], "v1.0") || !unescapedEqual(segs[2], "registries") || !unescapedEqual(segs[4], "discovery") {
		return nil, noRoute(escapedPath)
	}
	if method != http.MethodGet {
		return nil, methodNotAllowed(method, http.MethodGet)
	}
	name, err := url.PathUnescape(segs[3])
	if err != nil || name == "" || strings.ContainsAny(name, "/\\") {
		return nil, arm.BadRequest(arm.CodeInvalidRequestURI, "The request URI '%s' is not valid: the registry name is malformed.", escapedPath)
	}
	id, err := s.find(ctx, name, origin)
	if err != nil {
		return nil, err
	}
	t := &Target{Discovery: true, Action: machinelearning.TypeRegistries + "/read", Scope: id, BaseURL: strings.TrimSuffix(baseURL, "/") + "/"}
	r, err := s.allow(ctx, id, origin)
	if err != nil {
		// Refused (public access disabled): no live registry, but the
		// flow record names the one found (Scope), so that the exposure
		// report counts the call against it.
		return t, err
	}
	t.Registry, t.registry = r.ID, r
	return t, nil
}

// find returns the registry called name: the private endpoint's own for a
// private request (403 if it has another name), else the one registry of
// that name (registry names are unique across armlet, as across Azure).
func (s *Service) find(ctx context.Context, name string, origin netmodel.Origin) (resourceid.ID, error) {
	if origin.Private() {
		if !isRegistry(origin.Endpoint.TargetID) || !strings.EqualFold(origin.Endpoint.TargetID.Name(), name) {
			return resourceid.ID{}, denied()
		}
		return origin.Endpoint.TargetID, nil
	}
	r, err := machinelearning.FindRegistry(ctx, s.e, name)
	if errors.Is(err, engine.ErrNotFound) {
		return resourceid.ID{}, arm.NotFound(arm.CodeResourceNotFound, "No registry named '%s' was found.", name)
	}
	if err != nil {
		return resourceid.ID{}, err
	}
	return r.ID, nil
}

// allow applies rules 2 to 4 of Resolve to the registry id.
func (s *Service) allow(ctx context.Context, id resourceid.ID, origin netmodel.Origin) (*engine.Resource, error) {
	if origin.Private() && !origin.Endpoint.TargetID.Equal(id) {
		return nil, denied()
	}
	if _, err := s.e.Get(ctx, id.Parent()); err != nil {
		return nil, err
	}
	r, err := s.e.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !origin.Private() && machinelearning.RegistryRefusesPublicAccess(r) {
		return nil, denied()
	}
	return r, nil
}

// Discovery is the answer to a discovery request t: the registry's
// identity and regions, and as its resource provider URI the base URL the
// client used, so that a client following it stays on the listener
// (public or private) it came through.
func Discovery(t *Target) *engine.Response {
	r := t.registry
	regions := []any{}
	primary := r.Location
	if details, ok := r.Properties["regionDetails"].([]any); ok {
		for _, d := range details {
			if m, ok := d.(map[string]any); ok {
				if l, ok := m["location"].(string); ok && l != "" {
					regions = append(regions, l)
				}
			}
		}
	}
	if len(regions) == 0 {
		regions = append(regions, primary)
	}
	body := map[string]any{
		"registryName":                     r.ID.Name(),
		"primaryRegion":                    primary,
		"regions":                          regions,
		"subscriptionId":                   r.ID.SubscriptionID(),
		"resourceGroup":                    r.ID.ResourceGroupName(),
		"primaryRegionResourceProviderUri": t.BaseURL,
	}
	return engine.JSON(http.StatusOK, body)
}

// AssetIDs rewrites, for a response of azure-ai-ml's data-plane
// api-version (LocationPut), the id of each asset container or version in
// resp's body (the resource, or each item of a list's value) into the
// form the registry data plane answers and azure-ai-ml parses:
// azureml://registries/{registry}/{kind}/{name}[/versions/{version}].
// Other responses are left as they are.
func (t *Target) AssetIDs(resp *engine.Response) error {
	if !t.LocationPut || resp == nil || resp.Body == nil {
		return nil
	}
	raw, err := json.Marshal(resp.Body)
	if err != nil {
		return err
	}
	var body map[string]any
	if json.Unmarshal(raw, &body) != nil {
		return nil // not an object: nothing to rewrite
	}
	rewrite := func(m map[string]any) {
		if s, _ := m["id"].(string); s != "" {
			if id, err := resourceid.Parse(s); err == nil {
				if a, ok := assetID(id); ok {
					m["id"] = a
				}
			}
		}
	}
	rewrite(body)
	if items, ok := body["value"].([]any); ok {
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				rewrite(m)
			}
		}
	}
	resp.Body = body
	return nil
}

// assetID is the azureml:// id of a registry's asset container or
// version id.
func assetID(id resourceid.ID) (string, bool) {
	reg, ok := registryOf(id)
	if !ok {
		return "", false
	}
	segs := id.Segments()[reg.Len():]
	switch {
	case len(segs) == 1:
		return "azureml://registries/" + reg.Name() + "/" + lastType(segs[0].Type) + "/" + segs[0].Name, true
	case len(segs) == 2 && strings.EqualFold(lastType(segs[1].Type), "versions"):
		return "azureml://registries/" + reg.Name() + "/" + lastType(segs[0].Type) + "/" + segs[0].Name + "/versions/" + segs[1].Name, true
	}
	return "", false
}

// lastType is the last segment of a resource type.
func lastType(t string) string { return t[strings.LastIndexByte(t, '/')+1:] }

// registryOf returns the registry id lies in.
func registryOf(id resourceid.ID) (resourceid.ID, bool) {
	for id.Len() > 0 {
		if isRegistry(id) {
			return id, true
		}
		id = id.Parent()
	}
	return resourceid.ID{}, false
}

func isRegistry(id resourceid.ID) bool {
	return !id.IsRoot() && strings.EqualFold(id.ResourceType(), machinelearning.TypeRegistries)
}

func unescapedEqual(escaped, want string) bool {
	u, err := url.PathUnescape(escaped)
	return err == nil && strings.EqualFold(u, want)
}

func methodNotAllowed(method, allowed string) *arm.Error {
	e := arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "The requested resource does not support http method '%s'.", method)
	e.Header = http.Header{"Allow": {allowed}}
	return e
}

func noRoute(path string) *arm.Error {
	return arm.NotFound(arm.CodeInvalidRequestURI, "No HTTP resource was found that matches the request URI '%s'.", path)
}
