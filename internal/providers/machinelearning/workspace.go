package machinelearning

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/azurehost"
	"github.com/armlet/armlet/internal/engine"
	"github.com/google/uuid"
)

// workspaceStrategy is the behaviour of Microsoft.MachineLearningServices/
// workspaces. It implements engine.Strategy, Renderer, Describer,
// Importer, PostImporter, CompanionMaker, Actioner and ChildLister.
//
// Defaults applied at creation (and kept by later PUTs that omit them):
//   - Choice: kind "Default" when absent; sku {"name":"Basic","tier":"Basic"}
//     when absent (the examples' value).
//   - hbiWorkspace false, allowPublicAccessWhenBehindVnet false (the spec's
//     defaults).
//   - Choice: publicNetworkAccess "Enabled" whatever the api-version used;
//     responses at api-versions older than 2022-05-01 do not show it.
//     allowPublicAccessWhenBehindVnet and publicNetworkAccess are kept
//     independent of each other.
//   - v1LegacyMode per rules L1 and L2 (see legacymode.go).
//
// Generated read-only properties: workspaceId (a random GUID, kept for
// the workspace's life), tenantId, discoveryUrl, mlFlowTrackingUri,
// storageHnsEnabled false, serviceProvisionedResourceGroup (only while
// encryption.status is Enabled), and, composed at render time from the
// stored child connections, privateEndpointConnections and
// privateLinkCount. notebookInfo is never shown (armlet does not prepare
// notebooks). Read-only properties a client sends are ignored.
//
// Choice: storageAccount, keyVault, applicationInsights and
// containerRegistry are not required, and armlet does not check that the
// resources they name exist; it checks that each is a resource ID of the
// right type.
//
// Choice: discoveryUrl, writable in the spec, is treated as read-only and
// points at armlet's own workspace endpoint (package workspaceapi), so
// clients that follow it reach the workspace's data plane:
// "{base}/discovery". To a request that addressed ARM at Azure's host
// (management.azure.com, as a client does through armlet's HTTPS proxy)
// base is Azure's https://{location}.api.azureml.ms, which the proxy
// serves too; to any other, Options.BaseURL when set (the main listener's
// public URL, always current), else the scheme and host of the request
// that first wrote the workspace (kept in Internal.Data), else, for a
// workspace with neither (a seed import without Options.BaseURL), Azure's
// regional host again. The body is rendered per request (the engine keeps
// rendered bodies per base URL: engine.BaseURLFrom).
// serviceProvisionedResourceGroup is "{workspace name}_{first 16 hex
// digits of workspaceId}". A system-assigned identity gets a principalId
// (and the tenantId), each user-assigned identity a principalId and a
// clientId, made once and kept.
//
// Choice: member names in request bodies match ignoring case and enum
// values are accepted in any casing; both are stored and shown in the
// spec's casing. JSON null for an optional property means "not set".
//
// Choice: a PUT at an api-version older than a property keeps that
// property's stored value (the client could not send it), so old clients
// do not erase what newer ones set.
//
// Choice: DELETE ignores forceToPurge (armlet has no soft delete); it is a
// Location long-running operation that also removes the workspace's
// private endpoint connections.
type workspaceStrategy struct {
	e      *engine.Engine
	opts   Options
	shapes *shapes
}

var (
	_ engine.Strategy       = (*workspaceStrategy)(nil)
	_ engine.Renderer       = (*workspaceStrategy)(nil)
	_ engine.Describer      = (*workspaceStrategy)(nil)
	_ engine.Importer       = (*workspaceStrategy)(nil)
	_ engine.PostImporter   = (*workspaceStrategy)(nil)
	_ engine.CompanionMaker = (*workspaceStrategy)(nil)
	_ engine.Actioner       = (*workspaceStrategy)(nil)
	_ engine.ChildLister    = (*workspaceStrategy)(nil)
)

// Keys of the strategy's state in Resource.Internal.Data.
const (
	dataKeys            = "keys"               // workspaceKeys
	dataLegacy          = "legacyMode"         // legacyState
	dataLegacyImplicit  = "legacyModeImplicit" // bool: v1LegacyMode came from rule L3
	dataSeedConnections = "seedConnections"    // []seedConnection, between Import and PostImport
	dataIdentity        = "identity"           // identityIDs
	dataBaseURL         = "baseURL"            // string: scheme and host of the first write
)

// Validate checks a PUT or PATCH of a workspace and completes it. The order
// is: top-level members; property names (and their api-version); types;
// immutable properties; for PATCH, properties outside
// WorkspacePropertiesUpdateParameters; then defaults, generated properties
// and v1LegacyMode.
// dropDisabledEncryption removes an encryption whose status is Disabled
// and whose other members are all empty: azure-ai-ml's workspace template
// sends one for every workspace without a customer-managed key (empty key
// vault and key), which Azure takes as no encryption.
func dropDisabledEncryption(props map[string]any) {
	name, v, ok := lookupFold(props, "encryption")
	enc, isObj := v.(map[string]any)
	if !ok || !isObj {
		return
	}
	if st, _ := enc["status"].(string); !strings.EqualFold(st, "Disabled") {
		return
	}
	var empty func(v any) bool
	empty = func(v any) bool {
		switch x := v.(type) {
		case nil:
			return true
		case string:
			return x == ""
		case map[string]any:
			for _, e := range x {
				if !empty(e) {
					return false
				}
			}
			return true
		}
		return false
	}
	for k, e := range enc {
		if k != "status" && !empty(e) {
			return
		}
	}
	delete(props, name)
}

func (s *workspaceStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	patch := req.Method == http.MethodPatch
	if err := checkEnvelope(desired, patch); err != nil {
		return err
	}
	sent, typeName := desired.Properties, "WorkspaceProperties"
	if patch {
		sent, typeName = patchProperties(req.Body), "WorkspacePropertiesUpdateParameters"
	}
	schema, _ := s.shapes.at(req.APIVersion)
	gateVersion := s.shapes.gateVersion(req.APIVersion)
	if gateVersion == "" {
		// A preview armlet has no model of: every property but
		// v1LegacyMode (rule L2). Any casing: the schema accepts member
		// names ignoring case.
		if _, _, ok := lookupFold(sent, "v1LegacyMode"); ok && !atLeast(req.APIVersion, LegacyModeAPIVersion) {
			return arm.UnknownMember("properties", "v1LegacyMode", typeName)
		}
	}
	if err := schema.gate("properties", sent, gateVersion, typeName); err != nil {
		return err
	}
	if !patch {
		dropDisabledEncryption(desired.Properties)
	}
	if !patch && old != nil && gateVersion != "" {
		schema.carryOver(desired.Properties, old.Properties, gateVersion)
	}
	props, err := schema.check("properties", desired.Properties)
	if err != nil {
		return err
	}
	schema.dropVersionOnly(props)
	desired.Properties = props.(map[string]any)

	if old != nil {
		if err := checkImmutable(desired, old, patch); err != nil {
			return err
		}
		if patch {
			if err := checkPatchable("properties", workspaceUpdateProperties, workspaceProperties, desired.Properties, old.Properties); err != nil {
				return err
			}
		}
	}
	if err := s.completeKind(ctx, req, desired, old); err != nil {
		return err
	}
	if err := s.complete(ctx, req, desired, old); err != nil {
		return err
	}
	if old == nil {
		desired.SetData(dataDefaultDatastores, true)
	}
	// A client wrote the workspace: rule L3 no longer applies to it.
	delete(desired.Internal.Data, dataLegacyImplicit)
	return s.applyLegacyMode(req, desired, old)
}

// checkEnvelope refuses top-level members a workspace does not have (the
// engine accepts every ARM envelope member) and checks sku and identity.
func checkEnvelope(r *engine.Resource, patch bool) error {
	typeName := "Workspace"
	if patch {
		typeName = "WorkspaceUpdateParameters"
	}
	return checkSkuAndIdentity(r, typeName)
}

// checkSkuAndIdentity refuses the top-level members of r other than sku and
// identity that the engine keeps in Extra (typeName names the .NET type in
// the message), and checks and normalises sku and identity, which the
// workspace, compute and endpoint types share.
func checkSkuAndIdentity(r *engine.Resource, typeName string) error {
	for k, raw := range r.Extra {
		var f *field
		switch k {
		case "sku":
			f = skuSchema
		case "identity":
			f = identitySchema
		default:
			return arm.InvalidContent(k, "Could not find member '%s' on object of type '%s'. Path '%s'.", k, typeName, k)
		}
		v, err := decode(raw)
		if err != nil {
			return arm.InvalidContent(k, "The value of '%s' could not be read: %v.", k, err)
		}
		if k == "identity" {
			v = normaliseIdentityType(v)
		}
		nv, err := f.check(k, v)
		if err != nil {
			return err
		}
		if nv == nil {
			delete(r.Extra, k)
			continue
		}
		if k == "identity" {
			if err := checkUserIdentities(nv.(map[string]any)); err != nil {
				return err
			}
		}
		r.Extra[k] = mustJSON(nv)
	}
	return nil
}

// normaliseIdentityType accepts "SystemAssigned, UserAssigned" (with a
// space), which several clients send.
func normaliseIdentityType(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if t, ok := m["type"].(string); ok {
		m["type"] = strings.ReplaceAll(t, " ", "")
	}
	return m
}

func checkUserIdentities(id map[string]any) error {
	uai, _ := id["userAssignedIdentities"].(map[string]any)
	t, _ := id["type"].(string)
	hasUser := strings.Contains(t, "UserAssigned")
	if hasUser && len(uai) == 0 {
		return arm.InvalidContent("identity.userAssignedIdentities",
			"The identity type '%s' needs at least one entry in 'identity.userAssignedIdentities'.", t)
	}
	if !hasUser && len(uai) > 0 {
		return arm.InvalidContent("identity.userAssignedIdentities",
			"'identity.userAssignedIdentities' is only allowed with the identity types 'UserAssigned' and 'SystemAssigned,UserAssigned', not '%s'.", t)
	}
	for k := range uai {
		if err := checkArmID("identity.userAssignedIdentities", k, typeUserIdentities); err != nil {
			return err
		}
	}
	return nil
}

// patchProperties is the "properties" object of a PATCH body as sent.
func patchProperties(body []byte) map[string]any {
	v, err := decode(body)
	if err != nil {
		return nil
	}
	m, _ := v.(map[string]any)
	p, _ := m["properties"].(map[string]any)
	return p
}

// checkImmutable refuses changes of storageAccount, keyVault, hbiWorkspace
// and kind.
//
// Choice: a PUT that omits one of them keeps the stored value rather than
// counting as a change; a PATCH that sets one to null is a change.
func checkImmutable(desired, old *engine.Resource, patch bool) error {
	for _, name := range immutableProperties {
		f := workspaceProperties.fields[name]
		nv, sent := desired.Properties[name]
		ov, had := old.Properties[name]
		if !sent && !patch {
			if had {
				desired.Properties[name] = ov
			}
			continue
		}
		if name == "hbiWorkspace" {
			// An absent hbiWorkspace is the default, false.
			if !sent {
				nv = false
			}
			if !had {
				ov = false
			}
		}
		if !sameValue(f, nv, ov) {
			return propertyChangeNotAllowed("properties." + name)
		}
	}
	if desired.Kind == "" && !patch {
		desired.Kind = old.Kind
	}
	if !strings.EqualFold(desired.Kind, old.Kind) {
		return propertyChangeNotAllowed("kind")
	}
	desired.Kind = old.Kind
	return nil
}

func propertyChangeNotAllowed(path string) *arm.Error {
	return arm.BadRequest(arm.CodePropertyChangeNotAllow, "Changing property '%s' is not allowed.", path).WithTarget(path)
}

// checkPatchable refuses a PATCH that would change a property outside
// WorkspacePropertiesUpdateParameters (upd).
//
// Choice: such a PATCH gets 400 InvalidRequestContent "Could not find
// member 'x' on object of type 'WorkspacePropertiesUpdateParameters'",
// the error the .NET deserializer gives for a member the update type
// lacks; a PATCH that sends such a property with its current value passes
// (clients that PATCH a whole GET body keep working). Encryption may only
// change keyVaultProperties.keyIdentifier.
func checkPatchable(path string, upd, full *field, desired, old map[string]any) error {
	for name, mf := range full.fields {
		if mf.readOnly {
			continue
		}
		um, ok := upd.fields[name]
		if !ok {
			if !sameValue(mf, desired[name], old[name]) {
				return arm.UnknownMember(path, name, upd.typeName)
			}
			continue
		}
		if um != mf && um.kind == kObject {
			dm, _ := desired[name].(map[string]any)
			om, _ := old[name].(map[string]any)
			if err := checkPatchable(path+"."+name, um, mf, dm, om); err != nil {
				return err
			}
		}
	}
	return nil
}

// complete applies defaults and generated properties to desired.
func (s *workspaceStrategy) complete(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	p := desired.Properties
	if desired.Kind == "" {
		desired.Kind = "Default"
	}
	if _, ok := desired.Extra["sku"]; !ok {
		if old != nil && old.Extra["sku"] != nil {
			setExtra(desired, "sku", old.Extra["sku"])
		} else {
			setExtra(desired, "sku", mustJSON(map[string]any{"name": "Basic", "tier": "Basic"}))
		}
	}
	for name, def := range map[string]any{
		"hbiWorkspace":                    false,
		"allowPublicAccessWhenBehindVnet": false,
		"publicNetworkAccess":             "Enabled",
	} {
		if _, ok := p[name]; !ok {
			p[name] = def
		}
	}

	// workspaceId: kept from the stored workspace (or a seed), else new.
	wsID := ""
	if old != nil {
		wsID, _ = old.Properties["workspaceId"].(string)
	}
	if wsID == "" {
		wsID, _ = desired.Properties["workspaceId"].(string)
	}
	if _, err := uuid.Parse(wsID); err != nil {
		wsID = uuid.NewString()
	}
	tenant := s.tenantID(ctx, desired.ID)
	p["workspaceId"] = wsID
	p["tenantId"] = tenant
	rememberBaseURL(req, desired)
	p["discoveryUrl"] = s.discoveryURL(ctx, desired)
	p["mlFlowTrackingUri"] = "azureml://" + desired.Location + ".api.azureml.ms/mlflow/v1.0" + desired.ID.String()
	p["storageHnsEnabled"] = false
	if enc, _ := p["encryption"].(map[string]any); enc != nil && enc["status"] == "Enabled" {
		p["serviceProvisionedResourceGroup"] = desired.ID.Name() + "_" + strings.ReplaceAll(wsID, "-", "")[:16]
	} else {
		delete(p, "serviceProvisionedResourceGroup")
	}
	if err := s.completeManagedNetwork(req, desired, old); err != nil {
		return err
	}
	if !desired.GetData(dataKeys, &workspaceKeys{}) {
		k := newWorkspaceKeys()
		keys, err := s.linkedKeys(ctx, desired, "storageAccount")
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			k.UserStorageKey = keys[0] // the default datastores are made with it
		}
		desired.SetData(dataKeys, k)
	}
	completeIdentity(desired, tenant)
	return nil
}

// identityIDs are the generated ids of a workspace's managed identities.
type identityIDs struct {
	PrincipalID string                     `json:"principalId,omitempty"`
	User        map[string]userIdentityIDs `json:"user,omitempty"` // by lower-cased resource ID
}

type userIdentityIDs struct {
	PrincipalID string `json:"principalId"`
	ClientID    string `json:"clientId"`
}

// completeIdentity adds the read-only principalId and tenantId of a
// system-assigned identity and the principalId and clientId of each
// user-assigned identity, made once and kept.
func completeIdentity(r *engine.Resource, tenantID string) {
	raw, ok := r.Extra["identity"]
	if !ok {
		return
	}
	v, err := decode(raw)
	if err != nil {
		return
	}
	id, _ := v.(map[string]any)
	var ids identityIDs
	r.GetData(dataIdentity, &ids)
	t, _ := id["type"].(string)
	delete(id, "principalId")
	delete(id, "tenantId")
	if strings.Contains(t, "SystemAssigned") {
		if ids.PrincipalID == "" {
			ids.PrincipalID = uuid.NewString()
		}
		id["principalId"] = ids.PrincipalID
		id["tenantId"] = tenantID
	}
	if uai, _ := id["userAssignedIdentities"].(map[string]any); uai != nil {
		if ids.User == nil {
			ids.User = map[string]userIdentityIDs{}
		}
		for k := range uai {
			key := strings.ToLower(k)
			u, ok := ids.User[key]
			if !ok {
				u = userIdentityIDs{PrincipalID: uuid.NewString(), ClientID: uuid.NewString()}
				ids.User[key] = u
			}
			uai[k] = map[string]any{"principalId": u.PrincipalID, "clientId": u.ClientID}
		}
	}
	r.SetData(dataIdentity, ids)
	r.Extra["identity"] = mustJSON(id)
}

// discoveryURL is where clients of r find its workspace endpoint (see the
// Choice on workspaceStrategy), for the request served with ctx.
func (s *workspaceStrategy) discoveryURL(ctx context.Context, r *engine.Resource) string {
	base := armletBase(ctx, s.opts, r)
	if base == "" {
		return "https://" + engine.NormalizeLocation(r.Location) + ".api.azureml.ms/discovery"
	}
	return base + "/discovery"
}

// rememberBaseURL keeps in r, once, the scheme and host of the request
// that first wrote it (none for an import, nor for a request made at
// Azure's host), for armletBase.
func rememberBaseURL(req *engine.Request, r *engine.Resource) {
	var base string
	if !r.GetData(dataBaseURL, &base) || base == "" {
		if base = strings.TrimSuffix(req.BaseURL, "/"); base != "" && !atAzureARM(base) {
			r.SetData(dataBaseURL, base)
		}
	}
}

// armletBase is the URL of the listener for the endpoints a resource r
// points at, for the request served with ctx: "" when that request
// addressed ARM at Azure's own host (management.azure.com, as a client
// does through armlet's HTTPS proxy, which serves Azure ML's regional
// hosts too); else opts.BaseURL, else the base r remembers
// (rememberBaseURL), else "". "" stands for Azure's regional host.
func armletBase(ctx context.Context, opts Options, r *engine.Resource) string {
	if atAzureARM(engine.BaseURLFrom(ctx)) {
		return ""
	}
	base := strings.TrimSuffix(opts.BaseURL, "/")
	if base == "" {
		r.GetData(dataBaseURL, &base)
	}
	return base
}

// atAzureARM reports whether base (a request's engine.Request.BaseURL)
// names Azure Resource Manager's public host.
func atAzureARM(base string) bool {
	u, err := url.Parse(base)
	return err == nil && u.Host != "" && azurehost.Parse(u.Hostname()).Kind == azurehost.Management
}

// tenantID is Options.TenantID, else the tenant of the subscription.
func (s *workspaceStrategy) tenantID(ctx context.Context, id resourceid.ID) string {
	return tenantOf(ctx, s.e, s.opts, id)
}

// tenantOf is opts.TenantID, else the tenant of id's subscription.
func tenantOf(ctx context.Context, e *engine.Engine, opts Options, id resourceid.ID) string {
	if opts.TenantID != "" {
		return opts.TenantID
	}
	sub, err := e.Get(ctx, resourceid.Subscription(id.SubscriptionID()))
	if err != nil {
		return ""
	}
	t, _ := sub.Properties["tenantId"].(string)
	return t
}

// Render shapes a workspace for api-version apiVersion: it adds the
// private endpoint connections and their count, and drops the properties
// that api-version does not have (v1LegacyMode before 2022-05-01, rule L2).
func (s *workspaceStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, apiVersion string, now time.Time) error {
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		return nil
	}
	props["discoveryUrl"] = s.discoveryURL(ctx, r)
	conns, approved := s.inlineConnections(ctx, r, apiVersion, now)
	props["privateEndpointConnections"] = conns
	props["privateLinkCount"] = approved
	renderManagedNetwork(r, props, apiVersion, now)
	if err := s.renderKind(ctx, r, props, apiVersion, now); err != nil {
		return err
	}
	s.shapes.render(body, apiVersion)
	if !atLeast(apiVersion, LegacyModeAPIVersion) {
		delete(props, "v1LegacyMode")
	}
	return nil
}

// RenderStableUntil lets the engine keep a workspace's GET body until the
// first time-driven change Render shows: its managed network's (a
// project's is its hub's). Everything else Render reads is in the store;
// the private endpoint connections it inlines are written synchronously
// (TypePrivateEndpointConnections is engine.Sync both ways, which
// TestConnectionsHaveNoOperations holds), so none changes by time alone,
// and a workspace being deleted takes them with its own delete's time.
func (s *workspaceStrategy) RenderStableUntil(ctx context.Context, r *engine.Resource, now time.Time) (time.Time, bool) {
	until := loadNetworkState(r).changesAfter(now)
	if strings.EqualFold(r.Kind, kindProject) {
		if hub := s.hubOf(ctx, r); hub != nil {
			until = engine.Earliest(until, engine.ChangesAfter(hub, now))
			until = engine.Earliest(until, loadNetworkState(hub).changesAfter(now))
		}
	}
	return until, true
}

// RendersFromSubtree: a workspace's Render reads its own record and its
// private endpoint connections (children), except for a hub (its
// projects) and a project (its hub), which read other workspaces.
func (s *workspaceStrategy) RendersFromSubtree(r *engine.Resource) bool {
	return !strings.EqualFold(r.Kind, kindHub) && !strings.EqualFold(r.Kind, kindProject)
}

// inlineConnections renders the stored private endpoint connections of r
// the way a workspace shows them, and counts the approved ones.
//
// Choice: privateLinkCount counts the Approved connections only; each
// inline connection has id, name, type and properties, as in the spec's
// example.
func (s *workspaceStrategy) inlineConnections(ctx context.Context, r *engine.Resource, apiVersion string, now time.Time) ([]any, int) {
	children, err := s.e.List(ctx, r.ID, "privateEndpointConnections")
	out := make([]any, 0, len(children))
	if err != nil {
		return out, 0
	}
	approved := 0
	req := &engine.Request{APIVersion: apiVersion, Now: now}
	for _, c := range children {
		if ConnectionStatus(c) == "Approved" {
			approved++
		}
		body, err := s.e.Render(ctx, req, c)
		if err != nil {
			continue
		}
		out = append(out, map[string]any{
			"id": body["id"], "name": body["name"], "type": body["type"], "properties": body["properties"],
		})
	}
	return out, approved
}

// Import stores a pre-existing workspace from a seed file, checked like a
// PUT. The seeded properties.privateEndpointConnections (the shape a GET
// shows) are checked and kept in Internal.Data for PostImport, which
// stores them as child resources once the workspace exists (through the
// engine's PostImporter hook).
//
// Choice: a seed may use every property of every api-version, and keeps
// its workspaceId when that is a GUID (other read-only values are
// regenerated). Rule L3 applies when v1LegacyMode is absent; such a
// workspace remembers that until a client writes it, so a connection
// seeded as a resource of its own (listed after the workspace) turns it
// true as well.
func (s *workspaceStrategy) Import(ctx context.Context, req *engine.Request, r *engine.Resource) error {
	if err := checkEnvelope(r, false); err != nil {
		return err
	}
	seeded, err := seedConnections(r.Properties["privateEndpointConnections"])
	if err != nil {
		return err
	}
	if err := workspaceProperties.gate("properties", r.Properties, "", "WorkspaceProperties"); err != nil {
		return err
	}
	if _, restored := r.Internal.Data[dataKeys]; !restored {
		// An exported workspace (its keys kept) comes with the datastores
		// it had; a seeded one gets Azure's defaults.
		r.SetData(dataDefaultDatastores, true)
	}
	wsID, _ := r.Properties["workspaceId"].(string)
	props, err := workspaceProperties.check("properties", r.Properties)
	if err != nil {
		return err
	}
	r.Properties = props.(map[string]any)
	if wsID != "" {
		r.Properties["workspaceId"] = wsID
	}
	if err := s.completeKind(ctx, req, r, nil); err != nil {
		return err
	}
	if err := s.complete(ctx, req, r, nil); err != nil {
		return err
	}
	if _, ok := r.Properties["v1LegacyMode"]; !ok {
		// Rule L3.
		r.Properties["v1LegacyMode"] = len(seeded) > 0
		r.SetData(dataLegacyImplicit, true)
	}
	if len(seeded) > 0 {
		r.SetData(dataSeedConnections, seeded)
	}
	return nil
}

// PostImport stores the connections a seeded workspace listed inline.
func (s *workspaceStrategy) PostImport(ctx context.Context, req *engine.Request, r *engine.Resource) error {
	var seeded []seedConnection
	if !r.GetData(dataSeedConnections, &seeded) {
		return nil
	}
	for _, c := range seeded {
		if _, err := s.e.Import(ctx, r.ID.Child("privateEndpointConnections", c.Name), c.Body, req.APIVersion, req.Caller); err != nil {
			return err
		}
	}
	return dropData(ctx, s.e, r.ID, dataSeedConnections)
}

// dropData removes key from the Internal.Data of the stored resource at
// id, when it is there.
func dropData(ctx context.Context, e *engine.Engine, id resourceid.ID, key string) error {
	_, err := e.Update(ctx, id, func(r *engine.Resource) error {
		if _, had := r.Internal.Data[key]; !had {
			return engine.ErrNoChange
		}
		delete(r.Internal.Data, key)
		return nil
	})
	return err
}

// seedConnection is a private endpoint connection listed inline in a
// seeded workspace.
type seedConnection struct {
	Name string         `json:"name"`
	Body map[string]any `json:"body"`
}

func seedConnections(v any) ([]seedConnection, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, conversion("properties.privateEndpointConnections", v, "Array")
	}
	var out []seedConnection
	for i, item := range list {
		m, ok := item.(map[string]any)
		path := "properties.privateEndpointConnections[" + strconv.Itoa(i) + "]"
		if !ok {
			return nil, conversion(path, item, "PrivateEndpointConnection")
		}
		name, _ := m["name"].(string)
		if name == "" {
			if id, _ := m["id"].(string); id != "" {
				if pid, err := resourceid.Parse(id); err == nil {
					name = pid.Name()
				}
			}
		}
		if name == "" {
			return nil, arm.InvalidContent(path+".name", "A seeded private endpoint connection needs a 'name' (or an 'id'). Path '%s'.", path)
		}
		body := map[string]any{}
		for k, v := range m {
			if k != "id" && k != "name" && k != "type" {
				body[k] = v
			}
		}
		// Check now, before the workspace is stored; PostImport stores it.
		if err := connectionImportProperties.gate(path+".properties", body["properties"], "", ""); err != nil {
			return nil, err
		}
		if _, err := connectionImportProperties.check(path+".properties", orEmpty(body["properties"])); err != nil {
			return nil, err
		}
		out = append(out, seedConnection{Name: name, Body: body})
	}
	return out, nil
}

// workspaceKeys are the secrets listKeys returns, made once per workspace.
type workspaceKeys struct {
	UserStorageKey    string `json:"userStorageKey"`
	AppInsightsKey    string `json:"appInsightsKey"`
	RegistryPassword  string `json:"registryPassword"`
	RegistryPassword2 string `json:"registryPassword2"`
	NotebookPrimary   string `json:"notebookPrimary"`
	NotebookSecondary string `json:"notebookSecondary"`
}

func newWorkspaceKeys() workspaceKeys {
	return workspaceKeys{
		UserStorageKey:    randomKey(64),
		AppInsightsKey:    uuid.NewString(),
		RegistryPassword:  randomKey(24),
		RegistryPassword2: randomKey(24),
		NotebookPrimary:   randomKey(32),
		NotebookSecondary: randomKey(32),
	}
}

// randomKey is n random bytes in base64, the shape of Azure access keys.
func randomKey(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func setExtra(r *engine.Resource, k string, v json.RawMessage) {
	if r.Extra == nil {
		r.Extra = map[string]json.RawMessage{}
	}
	r.Extra[k] = v
}

func decode(raw []byte) (any, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// orEmpty turns an absent object into an empty one, so that required
// members are reported.
func orEmpty(v any) any {
	if v == nil {
		return map[string]any{}
	}
	return v
}
