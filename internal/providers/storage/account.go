package storage

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
)

// accountStrategy serves Microsoft.Storage/storageAccounts.
//
// A PUT needs sku and kind (400 InvalidRequestContent naming the member
// when absent, 400 InvalidValuesForRequestParameters, Azure's code, for a
// value Azure does not have) and a name of 3 to 24 lower-case letters and
// digits (400 AccountNameInvalid); the name must be free across every
// subscription (409 StorageAccountInAnotherResourceGroup within the
// subscription, 409 StorageAccountAlreadyTaken elsewhere, with Azure's
// texts). A PUT of an existing account updates it: the properties it
// sends replace the stored ones, those it omits are kept.
//
// Choice: the name check reads the accounts stored when the create is
// validated; two creates of one name in different resource groups at the
// same instant may both pass (Azure's name service is atomic; armlet keeps
// no claims to stay within the engine's records).
//
// Choice: kind can only move up to StorageV2 (from Storage or
// BlobStorage), the sku only within its tier, and isHnsEnabled not at all
// once set (400 PropertyChangeNotAllowed): Azure upgrades and migrates
// accounts through operations armlet does not serve.
type accountStrategy struct{ *provider }

var (
	_ engine.Strategy          = (*accountStrategy)(nil)
	_ engine.Renderer          = (*accountStrategy)(nil)
	_ engine.Actioner          = (*accountStrategy)(nil)
	_ engine.ChildLister       = (*accountStrategy)(nil)
	_ engine.PostImporter      = (*accountStrategy)(nil)
	_ engine.PrivateLinkTarget = (*accountStrategy)(nil)
	_ engine.AccessKeyHolder   = (*accountStrategy)(nil)
)

const (
	codeNameInvalid       = "AccountNameInvalid"
	codeNameTaken         = "StorageAccountAlreadyTaken"
	codeInAnotherGroup    = "StorageAccountInAnotherResourceGroup"
	codeInvalidParameters = "InvalidValuesForRequestParameters"
)

var accountName = regexp.MustCompile(`^[a-z0-9]{3,24}$`)

func nameTakenMessage(name string) string {
	return "The storage account named " + name + " is already taken."
}

// invalidParameter is Storage's refusal of a value it does not accept;
// the first sentence is Azure's, the second says why.
func invalidParameter(member, format string, args ...any) *arm.Error {
	e := arm.BadRequest(codeInvalidParameters, "Values for request parameters are invalid: "+member+". "+format, args...)
	return e.WithTarget(member)
}

// accountData is what an account keeps beside its body.
type accountData struct {
	Keys []accountKey `json:"keys"`
}

type accountKey struct {
	Name    string    `json:"name"`
	Value   string    `json:"value"`
	Created time.Time `json:"created"`
}

const dataKey = "account"

// keyBytes is the size of an account key: 64 random bytes, 88 characters
// of base64, as Azure's.
const keyBytes = 64

func (s *accountStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	name := desired.ID.Name()
	if msg := nameInvalid(name); msg != "" {
		return arm.BadRequest(codeNameInvalid, "%s", msg).WithTarget("name")
	}
	if err := rpkit.CheckEnvelope(desired, "StorageAccountCreateParameters", "kind", "sku", "identity", "extendedLocation", "zones"); err != nil {
		return err
	}
	if old == nil {
		if err := s.checkNameFree(ctx, desired); err != nil {
			return err
		}
	}
	sku, err := s.checkSku(desired, old)
	if err != nil {
		return err
	}
	if err := checkKind(desired, old); err != nil {
		return err
	}
	props, err := accountProperties.CheckObject("properties", desired.Properties)
	if err != nil {
		return err
	}
	if old != nil {
		props = rpkit.Updated(old, nil, props)
		if old.Properties["isHnsEnabled"] != props["isHnsEnabled"] {
			return arm.BadRequest(arm.CodePropertyChangeNotAllow,
				"The property 'isHnsEnabled' of storage account '%s' cannot be changed after creation.", name).WithTarget("properties.isHnsEnabled")
		}
	}
	if err := checkNetworkAcls(props); err != nil {
		return err
	}
	setDefaults(props, desired.Kind, sku)
	desired.Properties = props
	if err := rpkit.CompleteIdentity(ctx, s.e, req, desired, identityTypes); err != nil {
		return err
	}
	var data accountData
	if !desired.GetData(dataKey, &data) || len(data.Keys) != 2 {
		data.Keys = []accountKey{
			{Name: "key1", Value: rpkit.NewKey(keyBytes), Created: req.Now},
			{Name: "key2", Value: rpkit.NewKey(keyBytes), Created: req.Now},
		}
		desired.SetData(dataKey, data)
	}
	return nil
}

// checkNameFree refuses a create whose name another account has.
func (s *accountStrategy) checkNameFree(ctx context.Context, desired *engine.Resource) error {
	taken, err := s.nameTakenBy(ctx, desired.ID.Name())
	if err != nil || taken == nil {
		return err
	}
	if strings.EqualFold(taken.ID.SubscriptionID(), desired.ID.SubscriptionID()) {
		return arm.Conflict(codeInAnotherGroup, "The account %s is already in another resource group in this subscription.", desired.ID.Name())
	}
	return arm.Conflict(codeNameTaken, "%s", nameTakenMessage(desired.ID.Name()))
}

// nameTakenBy returns the live account named name in any subscription,
// or nil.
func (p *provider) nameTakenBy(ctx context.Context, name string) (*engine.Resource, error) {
	return rpkit.FindByName(ctx, p.e, TypeAccounts, name)
}

// checkSku reads the required sku, gives it its tier and returns its
// name in Azure's casing.
func (s *accountStrategy) checkSku(desired, old *engine.Resource) (string, error) {
	name, ok, err := rpkit.SkuName(desired, skuNames)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", invalidParameter("sku", "'%s' is not one of '%s'.", name, strings.Join(skuNames, "', '"))
	}
	if old != nil {
		if was := skuOf(old); tierOf(was) != tierOf(name) {
			return "", invalidParameter("sku", "The sku of storage account '%s' cannot move from tier %s (%s) to %s (%s).",
				desired.ID.Name(), tierOf(was), was, tierOf(name), name)
		}
	}
	desired.Extra["sku"], _ = json.Marshal(map[string]string{"name": name, "tier": tierOf(name)})
	return name, nil
}

// skuOf returns a stored account's sku name.
func skuOf(r *engine.Resource) string {
	var sku struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(r.Extra["sku"], &sku)
	return sku.Name
}

func tierOf(sku string) string {
	if strings.HasPrefix(sku, "Premium") {
		return "Premium"
	}
	return "Standard"
}

// checkKind checks the required kind and the moves Azure allows.
func checkKind(desired, old *engine.Resource) error {
	if desired.Kind == "" {
		if old == nil {
			return rpkit.MissingMember("", "kind")
		}
		desired.Kind = old.Kind
	}
	i := slices.IndexFunc(kinds, func(k string) bool { return strings.EqualFold(k, desired.Kind) })
	if i < 0 {
		return invalidParameter("kind", "'%s' is not one of '%s'.", desired.Kind, strings.Join(kinds, "', '"))
	}
	desired.Kind = kinds[i]
	if old != nil && old.Kind != desired.Kind && desired.Kind != "StorageV2" {
		return arm.BadRequest(arm.CodePropertyChangeNotAllow,
			"The kind of storage account '%s' can only be upgraded to StorageV2, not changed from %s to %s.", desired.ID.Name(), old.Kind, desired.Kind).WithTarget("kind")
	}
	return nil
}

// checkNetworkAcls checks the bypass flags and fills in what Azure
// shows for rules that were not sent.
func checkNetworkAcls(props map[string]any) error {
	acls, ok := props["networkAcls"].(map[string]any)
	if !ok {
		return nil
	}
	bypass, _ := acls["bypass"].(string)
	if bypass == "" {
		bypass = "AzureServices"
	}
	var flags []string
	for f := range strings.SplitSeq(bypass, ",") {
		f = strings.TrimSpace(f)
		i := slices.IndexFunc(bypassFlags, func(b string) bool { return strings.EqualFold(b, f) })
		if i < 0 {
			return arm.InvalidContent("properties.networkAcls.bypass",
				"Error converting value %q to type 'Bypass': the allowed values are a comma-separated list of '%s'. Path 'properties.networkAcls.bypass'.",
				bypass, strings.Join(bypassFlags, "', '"))
		}
		flags = append(flags, bypassFlags[i])
	}
	acls["bypass"] = strings.Join(flags, ", ")
	for _, k := range []string{"ipRules", "virtualNetworkRules"} {
		if _, ok := acls[k]; !ok {
			acls[k] = []any{}
		}
	}
	return nil
}

var bypassFlags = []string{"None", "Logging", "Metrics", "AzureServices"}

// setDefaults fills in the properties Azure shows for what a create did
// not send.
//
// Choice: minimumTlsVersion defaults to TLS1_2 (the spec still says the
// default interpretation is TLS 1.0; Azure Storage no longer accepts TLS
// 1.0 and 1.1), allowBlobPublicAccess to false (the spec's default),
// supportsHttpsTrafficOnly to true and publicNetworkAccess to Enabled.
func setDefaults(props map[string]any, kind, sku string) {
	defaults := map[string]any{
		"minimumTlsVersion":        "TLS1_2",
		"allowBlobPublicAccess":    false,
		"supportsHttpsTrafficOnly": true,
		"publicNetworkAccess":      "Enabled",
		"isHnsEnabled":             false,
		"networkAcls": map[string]any{
			"bypass": "AzureServices", "virtualNetworkRules": []any{}, "ipRules": []any{}, "defaultAction": "Allow",
		},
	}
	if kind == "StorageV2" || kind == "BlobStorage" {
		defaults["accessTier"] = "Hot"
	}
	if tierOf(sku) == "Premium" && kind != "FileStorage" {
		defaults["accessTier"] = "Premium"
	}
	for k, v := range defaults {
		if _, ok := props[k]; !ok {
			props[k] = v
		}
	}
	enc, _ := props["encryption"].(map[string]any)
	if enc == nil {
		enc = map[string]any{}
		props["encryption"] = enc
	}
	if _, ok := enc["keySource"]; !ok {
		enc["keySource"] = "Microsoft.Storage"
	}
	svcs, _ := enc["services"].(map[string]any)
	if svcs == nil {
		svcs = map[string]any{}
		enc["services"] = svcs
	}
	for _, name := range []string{"blob", "file"} {
		if _, ok := svcs[name].(map[string]any); !ok {
			svcs[name] = map[string]any{"keyType": "Account", "enabled": true}
		}
	}
}

// services an account kind serves, in the order Azure lists its
// endpoints.
//
// Choice: Azure does not document which endpoints each kind shows;
// armlet gives StorageV2 all six, Storage (general purpose v1) blob,
// queue, table and file, BlobStorage blob and dfs, BlockBlobStorage blob,
// dfs and web, FileStorage file.
func endpointsOf(kind string) []string {
	switch kind {
	case "Storage":
		return []string{"blob", "queue", "table", "file"}
	case "BlobStorage":
		return []string{"blob", "dfs"}
	case "BlockBlobStorage":
		return []string{"blob", "dfs", "web"}
	case "FileStorage":
		return []string{"file"}
	}
	return []string{"dfs", "web", "blob", "file", "queue", "table"}
}

func endpoints(host, kind string) map[string]any {
	out := map[string]any{}
	for _, s := range endpointsOf(kind) {
		out[s] = "https://" + host + "." + s + ".core.windows.net/"
	}
	return out
}

// geoPairs are the paired regions of armlet's locations, the secondary
// of a geo-redundant account.
var geoPairs = map[string]string{
	"eastus": "westus", "eastus2": "centralus", "westus": "eastus", "westus2": "westcentralus", "westus3": "eastus",
	"centralus": "eastus2", "northcentralus": "southcentralus", "southcentralus": "northcentralus",
	"westcentralus": "westus2", "canadacentral": "canadaeast", "brazilsouth": "southcentralus",
	"northeurope": "westeurope", "westeurope": "northeurope", "uksouth": "ukwest", "francecentral": "francesouth",
	"germanywestcentral": "germanynorth", "switzerlandnorth": "switzerlandwest", "norwayeast": "norwaywest",
	"swedencentral": "swedensouth", "australiaeast": "australiasoutheast", "southeastasia": "eastasia",
	"eastasia": "southeastasia", "japaneast": "japanwest", "koreacentral": "koreasouth",
	"centralindia": "southindia", "uaenorth": "uaecentral", "southafricanorth": "southafricawest",
}

// since is the first api-version of the properties armlet shows
// unasked; responses at older versions leave them out.
var since = map[string]string{
	"publicNetworkAccess": "2021-06-01",
	"keyCreationTime":     "2021-02-01",
}

// Render adds what Azure makes: endpoints, locations and their status,
// the creation and key creation times and the private endpoint
// connections.
func (s *accountStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, apiVersion string, _ time.Time) error {
	props := body["properties"].(map[string]any)
	name := r.ID.Name()
	props["primaryEndpoints"] = endpoints(name, r.Kind)
	props["primaryLocation"] = r.Location
	props["statusOfPrimary"] = "available"
	props["creationTime"] = r.SystemData.CreatedAt.UTC().Format(time.RFC3339Nano)
	// Choice: an encryption service was enabled when the account was made.
	if svcs, ok := walkMap(props, "encryption", "services"); ok {
		for _, svc := range svcs {
			if m, ok := svc.(map[string]any); ok && m["enabled"] == true {
				m["lastEnabledTime"] = props["creationTime"]
			}
		}
	}
	sku := skuOf(r)
	if secondary := geoPairs[r.Location]; secondary != "" && (strings.Contains(sku, "GRS") || strings.Contains(sku, "GZRS")) {
		props["secondaryLocation"] = secondary
		props["statusOfSecondary"] = "available"
		if strings.Contains(sku, "RAG") {
			props["secondaryEndpoints"] = endpoints(name+"-secondary", r.Kind)
		}
	}
	var data accountData
	r.GetData(dataKey, &data)
	created := map[string]any{}
	for _, k := range data.Keys {
		created[k.Name] = k.Created.UTC().Format(time.RFC3339Nano)
	}
	props["keyCreationTime"] = created
	conns, err := rpkit.PrivateEndpointConnections(ctx, s.e, r, typeConnections)
	if err != nil {
		return err
	}
	props["privateEndpointConnections"] = conns
	for member, v := range since {
		if apiVersion < v {
			delete(props, member)
		}
	}
	return nil
}

// Action serves listKeys and regenerateKey.
func (s *accountStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	switch strings.ToLower(name) {
	case "listkeys":
		var data accountData
		r.GetData(dataKey, &data)
		return engine.JSON(http.StatusOK, keysBody(data)), nil
	case "regeneratekey":
		return s.regenerateKey(ctx, req, r)
	}
	return nil, engine.UnknownAction(TypeAccounts, name)
}

// regenerateKey replaces the key {"keyName": "key1"|"key2"} names and
// answers the keys, as StorageAccounts_RegenerateKey does (200).
func (s *accountStrategy) regenerateKey(ctx context.Context, req *engine.Request, r *engine.Resource) (*engine.Response, error) {
	in, err := regenerateParameters.CheckBody(req.Body)
	if err != nil {
		return nil, err
	}
	keyName := strings.ToLower(in["keyName"].(string))
	if keyName != "key1" && keyName != "key2" {
		return nil, invalidParameter("keyName", "The key name '%s' is not key1 or key2.", in["keyName"])
	}
	var data accountData
	updated, err := s.e.Update(ctx, r.ID, func(cur *engine.Resource) error {
		cur.GetData(dataKey, &data)
		for i := range data.Keys {
			if data.Keys[i].Name == keyName {
				data.Keys[i] = accountKey{Name: keyName, Value: rpkit.NewKey(keyBytes), Created: req.Now}
			}
		}
		cur.SetData(dataKey, data)
		return nil
	})
	if err != nil {
		return nil, err
	}
	updated.GetData(dataKey, &data)
	return engine.JSON(http.StatusOK, keysBody(data)), nil
}

var regenerateParameters = rpkit.Object("StorageAccountRegenerateKeyParameters", rpkit.Members{
	"keyName": rpkit.String(),
}).Required("keyName")

// keysBody is StorageAccountListKeysResult. permissions is "FULL" as
// Azure answers it (the spec's examples and the SDKs' enums say "Full";
// both SDKs read it either way).
func keysBody(data accountData) map[string]any {
	keys := make([]any, 0, len(data.Keys))
	for _, k := range data.Keys {
		keys = append(keys, map[string]any{
			"keyName": k.Name, "value": k.Value, "permissions": "FULL",
			"creationTime": k.Created.UTC().Format(time.RFC3339Nano),
		})
	}
	return map[string]any{"keys": keys}
}

// ListChildren serves privateLinkResources: one per group id, with the
// private DNS zone Azure recommends for it.
func (s *accountStrategy) ListChildren(_ context.Context, _ *engine.Request, r *engine.Resource, child string) (*engine.Response, bool, error) {
	if !strings.EqualFold(child, "privateLinkResources") {
		return nil, false, nil
	}
	var groups []rpkit.LinkGroup
	for _, g := range s.PrivateLinkGroups() {
		groups = append(groups, rpkit.LinkGroup{ID: g, Members: []string{g}, Zones: []string{"privatelink." + g + ".core.windows.net"}})
	}
	return rpkit.PrivateLinkResources(r, typeLinkResources, groups), true, nil
}

// PrivateLinkGroups: the sub-resources a private endpoint can reach.
//
// Choice: the primary endpoints only; Azure also offers the read-access
// secondary ones (blob_secondary, ...) of RA-GRS accounts.
func (s *accountStrategy) PrivateLinkGroups() []string {
	return []string{"blob", "file", "queue", "table", "dfs", "web"}
}

// PrivateLinkFQDNs: {account}.{group}.core.windows.net, whose A record a
// private DNS zone privatelink.{group}.core.windows.net holds.
func (s *accountStrategy) PrivateLinkFQDNs(r *engine.Resource, group string) []engine.PrivateLinkFQDN {
	g := strings.ToLower(group)
	return []engine.PrivateLinkFQDN{{FQDN: r.ID.Name() + "." + g + ".core.windows.net", Member: g}}
}

// PostImport gives an imported account its services.
func (s *accountStrategy) PostImport(ctx context.Context, req *engine.Request, r *engine.Resource) error {
	return s.ensureServices(ctx, r, req.Caller)
}

// walkMap returns the object at the path of nested members of m.
func walkMap(m map[string]any, path ...string) (map[string]any, bool) {
	for _, k := range path {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	return m, true
}

// AccessKeys are the account's keys, key1 first: what an Azure ML
// workspace linked to the account hands out as its userStorageKey.
func (s *accountStrategy) AccessKeys(r *engine.Resource) []string {
	var data accountData
	r.GetData(dataKey, &data)
	keys := make([]string, 0, len(data.Keys))
	for _, k := range data.Keys {
		keys = append(keys, k.Value)
	}
	return keys
}
