package machinelearning

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/google/uuid"
)

// Azure ML registries (Microsoft.MachineLearningServices/registries): a
// tracked resource that holds assets (registry_assets.go) shared across
// workspaces and regions, with a system-created container registry and
// storage account per region in a managed resource group, and a private
// link target of its own (group id amlregistry).

// TypeRegistries is the registry resource type.
const TypeRegistries = Namespace + "/registries"

// RegistryPrivateLinkGroup is the one private link group id (sub-resource)
// of a registry.
const RegistryPrivateLinkGroup = "amlregistry"

// registryFirstStable and registryFirstPreview are the oldest api-versions
// that have registries: the first stable version of the REST specs with
// them, and the first preview (the Pulumi azure-native list of the type's
// versions).
const (
	registryFirstStable  = "2023-04-01"
	registryFirstPreview = "2022-10-01-preview"
)

// registryAPIVersions are the api-versions of registries and their
// assets, newest first: the stable ones from 2023-04-01 and the previews
// from 2022-10-01-preview; on one date the stable version comes first.
//
// apiVersionsOf is not used: the SDK tables armlet carries (sdkmodels.go)
// hold workspace types only, so they would drop every version they model.
var registryAPIVersions = func() []string {
	var out []string
	for _, v := range APIVersions {
		if versionDate(v) >= registryFirstStable {
			out = append(out, v)
		}
	}
	for _, v := range PreviewAPIVersions {
		if versionDate(v) >= versionDate(registryFirstPreview) {
			out = append(out, v)
		}
	}
	sortAPIVersions(out)
	return out
}()

// registryNamePattern is the spec's RegistryNameParameter pattern: 3 to
// 33 letters, digits, '-' and '_', starting with a letter or digit.
var registryNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9\-_]{2,32}$`)

const registryNameRule = "The registry name must be 3 to 33 characters long, start with a letter or digit, and contain only letters, digits, '-' and '_'."

// The members of a registry's properties (RegistryProperties of
// 2024-04-01, with managedResourceGroupSettings from 2025-06-01).
var (
	armResourceIDSchema = object("ArmResourceId", map[string]*field{"resourceId": str()})
	registryRegion      = object("RegistryRegionArmDetails", map[string]*field{
		"location": str(),
		"acrDetails": arrayOf(object("AcrDetails", map[string]*field{
			"systemCreatedAcrAccount": object("SystemCreatedAcrAccount", map[string]*field{
				"acrAccountName": str(),
				"acrAccountSku":  str(),
				"armResourceId":  armResourceIDSchema,
			}),
			"userCreatedAcrAccount": object("UserCreatedAcrAccount", map[string]*field{
				"armResourceId": object("ArmResourceId", map[string]*field{"resourceId": armID(typeContainerRegistry)}, "resourceId"),
			}, "armResourceId"),
		})),
		"storageAccountDetails": arrayOf(object("StorageAccountDetails", map[string]*field{
			"systemCreatedStorageAccount": object("SystemCreatedStorageAccount", map[string]*field{
				"allowBlobPublicAccess":    boolean(),
				"armResourceId":            armResourceIDSchema,
				"storageAccountHnsEnabled": boolean(),
				"storageAccountName":       str(),
				"storageAccountType":       str(),
			}),
			"userCreatedStorageAccount": object("UserCreatedStorageAccount", map[string]*field{
				"armResourceId": object("ArmResourceId", map[string]*field{"resourceId": armID(typeStorageAccounts)}, "resourceId"),
			}, "armResourceId"),
		})),
	}, "location")
	registryConnectionSchema = object("RegistryPrivateEndpointConnection", map[string]*field{
		"id":       str(),
		"location": str(),
		"properties": object("RegistryPrivateEndpointConnectionProperties", map[string]*field{
			"groupIds": arrayOf(str()),
			"privateEndpoint": object("PrivateEndpointResource", map[string]*field{
				"id": str(), "subnetArmId": str(),
			}),
			"provisioningState": str().ro(),
			"registryPrivateLinkServiceConnectionState": object("RegistryPrivateLinkServiceConnectionState", map[string]*field{
				"status": connectionStatus, "description": str(), "actionsRequired": str(),
			}),
		}),
	})
	registryProperties = object("RegistryProperties", map[string]*field{
		"discoveryUrl":                       str().ro(),
		"intellectualPropertyPublisher":      str(),
		"managedResourceGroup":               armResourceIDSchema.ro(),
		"mlFlowRegistryUri":                  str().ro(),
		"publicNetworkAccess":                enum("PublicNetworkAccess", "Enabled", "Disabled"),
		"regionDetails":                      arrayOf(registryRegion),
		"registryPrivateEndpointConnections": arrayOf(registryConnectionSchema),
		// Members of the early previews (2022-10-01-preview, which
		// azure-ai-ml 1.4.0 calls), gone from the stable versions
		// (registryPreviewOnly).
		"description":              str(),
		"properties":               mapOf(str()),
		"tags":                     mapOf(str()),
		"managedResourceGroupTags": mapOf(str()),
		"privateLinkCount":         integer().ro(),
		"managedResourceGroupSettings": object("ManagedResourceGroupSettings", map[string]*field{
			"assignedIdentities": arrayOf(object("ManagedResourceGroupAssignedIdentities", map[string]*field{"principalId": str()})),
		}).from("2025-06-01"),
	})
)

// registryPreviewOnly are the properties only the previews have (those
// before the first stable version, 2022-10-01-preview among them, have
// them; no stable version has). A stable version refuses them and does
// not show them; privateLinkCount is shown at the previews, the count of
// approved connections.
//
// Choice: every preview accepts and shows them (armlet has no model of
// the previews after 2022-10-01-preview).
var registryPreviewOnly = []string{"description", "properties", "tags", "managedResourceGroupTags", "privateLinkCount"}

// Keys of a registry's state in Resource.Internal.Data.
const (
	dataRegistryID    = "registryId"          // string: a GUID made at creation, behind the generated names
	dataRegistryConns = "registryConnections" // []registryConnection
)

// registryStrategy is the behaviour of registries.
//
// PUT is long-running (201 or 200 with Azure-AsyncOperation, as the v4
// client's BeginCreateOrUpdate expects), PATCH synchronous (200; only
// tags, sku and identity, PartialRegistryPartialTrackedResource), DELETE
// long-running with Location (202), removeRegions a long-running POST
// with Location whose result is the registry.
//
// Defaults and generated members:
//   - publicNetworkAccess "Enabled".
//   - regionDetails: the registry's location when absent; each region
//     gets, when its acrDetails or storageAccountDetails are absent, a
//     system-created container registry (acrAccountSku "Premium") and a
//     storage account (storageAccountType "Standard_LRS",
//     storageAccountHnsEnabled false, allowBlobPublicAccess false), named
//     from the registry's name and a digest of its id and the region
//     (Choice: Azure's names are its own), with armResourceIds in the
//     managed resource group.
//   - managedResourceGroup.resourceId:
//     /subscriptions/{sub}/resourceGroups/azureml-rg-{name}_{guid}.
//   - discoveryUrl: {base}/registrymanagement/v1.0/registries/{name}/discovery,
//     base being Azure's https://{location}.api.azureml.ms for a request
//     that addressed ARM at Azure's host (through armlet's proxy), else
//     Options.BaseURL, else the scheme and host of the request that first
//     wrote the registry, else Azure's regional host (armletBase);
//     mlFlowRegistryUri: azureml://{location}.api.azureml.ms/mlflow/v1.0{registry id}.
//   - registryPrivateEndpointConnections: composed at render time from
//     the connections private endpoints recorded (PrivateLinkRecorder).
//   - Choice: identity SystemAssigned when absent (a registry reaches its
//     accounts with it); kind and sku are kept as sent, no default.
//
// Choice: the primary location must be one of regionDetails; a region
// cannot appear twice; a PUT cannot drop a region (400 naming
// removeRegions, which does); the accounts of a region are fixed once
// the region is added (a PUT's values for an existing region are
// replaced by the stored ones); an acrDetails or storageAccountDetails
// entry holds exactly one of its system-created and user-created forms.
//
// Choice: registry names are unique across every subscription (the
// regional discovery URL names only the registry): creating a second
// registry of the same name anywhere is 409 Conflict.
//
// Choice: the connections' state is approved or rejected by a PUT of the
// registry whose registryPrivateEndpointConnections carry the new
// registryPrivateLinkServiceConnectionState (matched by id, else by
// privateEndpoint.id; an entry matching no connection is 400
// PrivateEndpointConnectionNotFound); the transitions are the workspace
// connections' (connections.go). A PUT without the member keeps them;
// connections go away with their private endpoint.
//
// Choice: properties.provisioningState is shown (the engine's), although
// RegistryProperties has none: pollers that read it see the operation's
// state.
type registryStrategy struct {
	e      *engine.Engine
	opts   Options
	shapes *shapes
}

var (
	_ engine.Strategy            = (*registryStrategy)(nil)
	_ engine.Renderer            = (*registryStrategy)(nil)
	_ engine.Actioner            = (*registryStrategy)(nil)
	_ engine.PrivateLinkRecorder = (*registryStrategy)(nil)
)

// registerRegistries adds the registry type and its assets.
func registerRegistries(e *engine.Engine, opts Options) {
	e.Registry().Register(&engine.Type{
		Name:        TypeRegistries,
		APIVersions: registryAPIVersions,
		Tracked:     true,
		NamePattern: registryNamePattern,
		NameRule:    registryNameRule,
		Put:         engine.AsyncOperation,
		Delete:      engine.Location,
		Strategy:    &registryStrategy{e: e, opts: opts, shapes: newShapes(TypeRegistries, registryProperties)},
	})
	registerRegistryAssets(e, opts)
	e.AddRoute(&dataReferenceRoute{e: e})
}

// patchableRegistryMembers are the members of
// PartialRegistryPartialTrackedResource, what a PATCH may send.
var patchableRegistryMembers = []string{"tags", "sku", "identity"}

// Validate checks a PUT or PATCH and completes the registry.
func (s *registryStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	patch := req.Method == http.MethodPatch
	typeName := "Registry"
	if patch {
		typeName = "PartialRegistryPartialTrackedResource"
		if body, _ := decode(req.Body); body != nil {
			m, _ := body.(map[string]any)
			for k := range m {
				if !slices.ContainsFunc(patchableRegistryMembers, func(p string) bool { return strings.EqualFold(p, k) }) {
					return arm.UnknownMember("", k, typeName)
				}
			}
		}
	}
	if err := checkSkuAndIdentity(desired, typeName); err != nil {
		return err
	}
	if !patch {
		if !isPreview(req.APIVersion) && !req.Importing() {
			for _, name := range registryPreviewOnly {
				if k, _, ok := lookupFold(desired.Properties, name); ok {
					return (&field{absent: true}).unknownMember("properties", k, "RegistryProperties", req.APIVersion)
				}
			}
		}
		if err := s.checkProperties(req, desired, old); err != nil {
			return err
		}
	}
	if old == nil {
		if err := s.checkNameFree(ctx, desired.ID); err != nil {
			return err
		}
	}
	return s.complete(ctx, req, desired, old)
}

// checkProperties type-checks the properties of a PUT, applies the
// approvals it carries and completes regionDetails.
func (s *registryStrategy) checkProperties(req *engine.Request, desired, old *engine.Resource) error {
	if err := checkProperties(req, desired, old, s.shapes, "RegistryProperties"); err != nil {
		return err
	}
	p := desired.Properties
	if sent, ok := p["registryPrivateEndpointConnections"].([]any); ok {
		delete(p, "registryPrivateEndpointConnections")
		if err := approveConnections(desired, sent, req.Importing()); err != nil {
			return err
		}
	}
	return s.completeRegions(desired, old)
}

// checkNameFree refuses a registry name another registry holds.
func (s *registryStrategy) checkNameFree(ctx context.Context, id resourceid.ID) error {
	other, err := FindRegistry(ctx, s.e, id.Name())
	if errors.Is(err, engine.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if other.ID.Equal(id) {
		return nil
	}
	return arm.Conflict(arm.CodeConflict,
		"The registry name '%s' is already in use (%s). Registry names are unique across subscriptions; choose another name.", id.Name(), other.ID)
}

// regionOf is the normalised location of a regionDetails entry.
func regionOf(v any) string {
	m, _ := v.(map[string]any)
	loc, _ := m["location"].(string)
	return engine.NormalizeLocation(loc)
}

// completeRegions checks regionDetails and fills the system-created
// accounts of new regions; a PUT without it keeps the stored regions.
func (s *registryStrategy) completeRegions(desired, old *engine.Resource) error {
	const path = "properties.regionDetails"
	var stored []any
	if old != nil {
		stored, _ = old.Properties["regionDetails"].([]any)
	}
	sent, given := desired.Properties["regionDetails"].([]any)
	if !given || len(sent) == 0 {
		sent = stored
		if len(sent) == 0 {
			sent = []any{map[string]any{"location": desired.Location}}
		}
	}
	byRegion := map[string]any{}
	for _, r := range stored {
		byRegion[regionOf(r)] = r
	}
	seen := map[string]bool{}
	out := make([]any, 0, len(sent))
	for i, r := range sent {
		at := path + "[" + strconv.Itoa(i) + "]"
		region := regionOf(r)
		if seen[region] {
			return arm.InvalidContent(at+".location", "The region '%s' appears more than once in '%s'.", region, path)
		}
		seen[region] = true
		if kept, ok := byRegion[region]; ok {
			out = append(out, kept)
			continue
		}
		m, err := s.newRegion(at, desired, r.(map[string]any))
		if err != nil {
			return err
		}
		out = append(out, m)
	}
	if !seen[engine.NormalizeLocation(desired.Location)] {
		return arm.InvalidContent(path, "The registry's location '%s' must be one of its regions in '%s'.", desired.Location, path)
	}
	for region := range byRegion {
		if !seen[region] {
			return arm.BadRequest(arm.CodeUserError,
				"The region '%s' of registry '%s' cannot be dropped by an update; remove it with the removeRegions action.", region, desired.ID.Name()).WithTarget(path)
		}
	}
	desired.Properties["regionDetails"] = out
	return nil
}

// newRegion completes a region added now.
func (s *registryStrategy) newRegion(at string, reg *engine.Resource, r map[string]any) (map[string]any, error) {
	region := regionOf(r)
	mrg := managedGroup(reg)
	acrs, err := completeAccounts(at+".acrDetails", r["acrDetails"], "Acr", func(sys map[string]any) {
		name, _ := sys["acrAccountName"].(string)
		if name == "" {
			name = generatedAccountName(reg, region, "acr", 50)
		}
		sys["acrAccountName"] = name
		setDefault(sys, "acrAccountSku", "Premium")
		sys["armResourceId"] = map[string]any{"resourceId": mrg.Child(typeContainerRegistry, name).String()}
	})
	if err != nil {
		return nil, err
	}
	stores, err := completeAccounts(at+".storageAccountDetails", r["storageAccountDetails"], "Storage", func(sys map[string]any) {
		name, _ := sys["storageAccountName"].(string)
		if name == "" {
			name = generatedAccountName(reg, region, "st", 24)
		}
		sys["storageAccountName"] = name
		setDefault(sys, "storageAccountType", "Standard_LRS")
		setDefault(sys, "storageAccountHnsEnabled", false)
		setDefault(sys, "allowBlobPublicAccess", false)
		sys["armResourceId"] = map[string]any{"resourceId": mrg.Child(typeStorageAccounts, name).String()}
	})
	if err != nil {
		return nil, err
	}
	loc, _ := r["location"].(string)
	return map[string]any{"location": loc, "acrDetails": acrs, "storageAccountDetails": stores}, nil
}

// completeAccounts checks a list of AcrDetails or StorageAccountDetails
// (kind "Acr" or "Storage") and completes each system-created account
// with fill; an absent or empty list is one system-created account.
func completeAccounts(path string, v any, kind string, fill func(map[string]any)) ([]any, error) {
	sysKey, userKey := "systemCreatedAcrAccount", "userCreatedAcrAccount"
	if kind == "Storage" {
		sysKey, userKey = "systemCreatedStorageAccount", "userCreatedStorageAccount"
	}
	list, _ := v.([]any)
	if len(list) == 0 {
		list = []any{map[string]any{sysKey: map[string]any{}}}
	}
	out := make([]any, 0, len(list))
	for i, item := range list {
		m, _ := item.(map[string]any)
		sys, hasSys := m[sysKey].(map[string]any)
		_, hasUser := m[userKey]
		if hasSys == hasUser {
			at := path + "[" + strconv.Itoa(i) + "]"
			return nil, arm.InvalidContent(at, "Each entry of '%s' needs exactly one of '%s' and '%s'.", path, sysKey, userKey)
		}
		if hasSys {
			fill(sys)
		}
		out = append(out, m)
	}
	return out, nil
}

// registryGUID is the registry's hidden GUID, made at creation.
func registryGUID(r *engine.Resource) string {
	var id string
	if !r.GetData(dataRegistryID, &id) || id == "" {
		id = uuid.NewString()
		r.SetData(dataRegistryID, id)
	}
	return id
}

// managedGroup is the registry's managed resource group.
func managedGroup(r *engine.Resource) resourceid.ID {
	return resourceid.ResourceGroup(r.ID.SubscriptionID(), "azureml-rg-"+r.ID.Name()+"_"+registryGUID(r))
}

// generatedAccountName is a system-created account's name: letters and
// digits of the registry's name, then hex digits of a digest of its GUID,
// the region and what (so names differ per region and kind), at most max
// characters, lower case.
func generatedAccountName(r *engine.Resource, region, what string, max int) string {
	sum := sha256.Sum256([]byte(registryGUID(r) + "/" + region + "/" + what))
	digest := hex.EncodeToString(sum[:])[:14]
	name := storageAccountChars.ReplaceAllString(strings.ToLower(r.ID.Name()), "")
	if room := max - len(digest); len(name) > room {
		name = name[:room]
	}
	return name + digest
}

// complete applies the defaults and generated members.
func (s *registryStrategy) complete(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	p := desired.Properties
	setDefault(p, "publicNetworkAccess", "Enabled")
	if _, ok := desired.Extra["identity"]; !ok && old == nil {
		setExtra(desired, "identity", mustJSON(map[string]any{"type": "SystemAssigned"}))
	}
	p["managedResourceGroup"] = map[string]any{"resourceId": managedGroup(desired).String()}
	rememberBaseURL(req, desired)
	p["discoveryUrl"] = s.discoveryURL(ctx, desired)
	p["mlFlowRegistryUri"] = "azureml://" + engine.NormalizeLocation(desired.Location) + ".api.azureml.ms/mlflow/v1.0" + desired.ID.String()
	completeIdentity(desired, tenantOf(ctx, s.e, s.opts, desired.ID))
	return nil
}

// discoveryURL is the registry's discovery endpoint (see the strategy's
// doc comment).
func (s *registryStrategy) discoveryURL(ctx context.Context, r *engine.Resource) string {
	base := armletBase(ctx, s.opts, r)
	if base == "" {
		base = "https://" + engine.NormalizeLocation(r.Location) + ".api.azureml.ms"
	}
	return base + "/registrymanagement/v1.0/registries/" + r.ID.Name() + "/discovery"
}

// Render adds the private endpoint connections and the current discovery
// URL, and shapes the body for the api-version.
func (s *registryStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, apiVersion string, _ time.Time) error {
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		return nil
	}
	props["discoveryUrl"] = s.discoveryURL(ctx, r)
	conns := loadRegistryConnections(r)
	out := make([]any, 0, len(conns))
	for _, c := range conns {
		pe := map[string]any{"id": c.PrivateEndpoint}
		if id, err := resourceid.Parse(c.PrivateEndpoint); err == nil {
			if per, err := s.e.Get(ctx, id); err == nil {
				if sn, _ := per.Properties["subnet"].(map[string]any); sn != nil && sn["id"] != nil {
					pe["subnetArmId"] = sn["id"]
				}
			}
		}
		out = append(out, map[string]any{
			"id":       r.ID.String() + "/privateEndpointConnections/" + c.Name,
			"location": r.Location,
			"properties": map[string]any{
				"groupIds":          []any{RegistryPrivateLinkGroup},
				"privateEndpoint":   pe,
				"provisioningState": "Succeeded",
				"registryPrivateLinkServiceConnectionState": map[string]any{
					"status": c.Status, "description": c.Description, "actionsRequired": c.ActionsRequired,
				},
			},
		})
	}
	props["registryPrivateEndpointConnections"] = out
	if isPreview(apiVersion) {
		approved := 0
		for _, c := range conns {
			if c.Status == "Approved" {
				approved++
			}
		}
		props["privateLinkCount"] = approved
	} else {
		for _, name := range registryPreviewOnly {
			delete(props, name)
		}
	}
	s.shapes.render(body, apiVersion)
	return nil
}

// Action answers removeRegions.
//
// Choice: the body is a Registry whose properties.regionDetails name the
// regions to remove (each a region of the registry, not its location,
// which cannot be removed); they are removed at once and the 202's
// Location answers the registry when the operation is done.
func (s *registryStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	if !strings.EqualFold(name, "removeRegions") {
		return nil, engine.UnknownAction(TypeRegistries, name)
	}
	const path = "properties.regionDetails"
	v, err := decode(req.Body)
	if err != nil {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: '%s'.", err)
	}
	body, _ := v.(map[string]any)
	_, pv, _ := lookupFold(body, "properties")
	props, err := registryProperties.check("properties", orEmpty(pv))
	if err != nil {
		return nil, err
	}
	remove, _ := props.(map[string]any)["regionDetails"].([]any)
	if len(remove) == 0 {
		return nil, arm.InvalidContent(path, "removeRegions needs at least one region in '%s'.", path)
	}
	primary := engine.NormalizeLocation(r.Location)
	drop := map[string]bool{}
	for i, rg := range remove {
		region := regionOf(rg)
		at := path + "[" + strconv.Itoa(i) + "].location"
		if region == primary {
			return nil, arm.BadRequest(arm.CodeUserError, "The region '%s' is the location of registry '%s' and cannot be removed.", region, r.ID.Name()).WithTarget(at)
		}
		drop[region] = true
	}
	stored, _ := r.Properties["regionDetails"].([]any)
	for region := range drop {
		if !slices.ContainsFunc(stored, func(x any) bool { return regionOf(x) == region }) {
			return nil, arm.BadRequest(arm.CodeUserError, "The region '%s' is not a region of registry '%s'.", region, r.ID.Name()).WithTarget(path)
		}
	}
	updated, err := s.e.Update(ctx, r.ID, func(cur *engine.Resource) error {
		regions, _ := cur.Properties["regionDetails"].([]any)
		cur.Properties["regionDetails"] = slices.DeleteFunc(slices.Clone(regions), func(x any) bool { return drop[regionOf(x)] })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.e.NewResourceOperation(ctx, req, updated, false, req.Now.Add(s.e.OperationDuration()))
}

// FindRegistry returns the live registry named name (ignoring case), in
// whatever subscription and resource group it is: registry names are
// unique across subscriptions in armlet (Choice on registryStrategy), and
// the registry data plane is addressed by name alone. The error is
// engine.ErrNotFound when there is none (a registry being deleted counts
// as none), else a store error.
func FindRegistry(ctx context.Context, e *engine.Engine, name string) (*engine.Resource, error) {
	all, err := e.ListByType(ctx, TypeRegistries)
	if err != nil {
		return nil, err
	}
	now := e.Now()
	for _, r := range all {
		if strings.EqualFold(r.ID.Name(), name) && !r.Deleting(now) {
			return r, nil
		}
	}
	return nil, engine.ErrNotFound
}

// RegistryRefusesPublicAccess reports whether the registry r refuses
// requests that reach its data plane publicly (properties.publicNetworkAccess
// Disabled); requests through its private endpoints are served whatever
// it says.
func RegistryRefusesPublicAccess(r *engine.Resource) bool {
	pna, _ := r.Properties["publicNetworkAccess"].(string)
	return strings.EqualFold(pna, "Disabled")
}
