package machinelearning

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/kv/memkv"
	"github.com/armlet/armlet/internal/providers/network"
)

const (
	regBase    = rgPath + "/providers/Microsoft.MachineLearningServices/registries/"
	regPath    = regBase + "reg1"
	netBase    = rgPath + "/providers/Microsoft.Network"
	netVersion = "2023-09-01"
)

var walk = enginetest.Walk

// registryEnv is an env with the network provider too, so private
// endpoints reach registries through the engine as they do in armlet.
func registryEnv(t *testing.T, opts Options) *env {
	t.Helper()
	clk := clock.NewOffset(0)
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: engine.NewRegistry()})
	if opts.TenantID == "" {
		opts.TenantID = testTenant
	}
	Register(e, opts)
	network.Register(e, network.Options{})
	if err := e.EnsureSubscription(context.Background(), testSub, testTenant, "test"); err != nil {
		t.Fatal(err)
	}
	v := &env{Env: enginetest.New(t, e, clk), t: t, e: e, clk: clk}
	v.Must(http.MethodPut, rgPath, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	return v
}

// createRegistry PUTs a registry, checks the 201 with
// Azure-AsyncOperation and lets the operation finish.
func (v *env) createRegistry(path, apiVersion, body string) map[string]any {
	v.t.Helper()
	resp, err := v.Serve(http.MethodPut, path, apiVersion, body)
	if err != nil {
		v.t.Fatalf("create %s: %v", path, err)
	}
	if resp.Status != http.StatusCreated || resp.Header.Get("Azure-AsyncOperation") == "" {
		v.t.Fatalf("create %s: status %d, Azure-AsyncOperation %q; want 201 with it", path, resp.Status, resp.Header.Get("Azure-AsyncOperation"))
	}
	v.Advance(2 * time.Second)
	return v.Must(http.MethodGet, path, apiVersion, "", http.StatusOK)
}

func TestRegistryAPIVersions(t *testing.T) {
	for _, want := range []string{"2023-04-01", "2023-10-01", "2024-04-01", "2024-10-01", "2025-04-01", "2025-06-01", "2025-09-01", "2022-10-01-preview", "2025-10-01-preview"} {
		if !slices.Contains(registryAPIVersions, want) {
			t.Errorf("registries do not accept %s", want)
		}
	}
	for _, not := range []string{"2022-10-01", "2022-05-01", "2021-07-01", "2022-06-01-preview"} {
		if slices.Contains(registryAPIVersions, not) {
			t.Errorf("registries accept %s, older than their first version", not)
		}
	}
	v := registryEnv(t, Options{})
	for _, version := range registryAPIVersions {
		t.Run(version, func(t *testing.T) {
			v.in(t)
			path := regBase + "r-" + strings.ReplaceAll(version, "-", "")
			got := v.createRegistry(path, version, `{"location":"eastus","tags":{"a":"b"}}`)
			if walk(got, "properties", "publicNetworkAccess") != "Enabled" || walk(got, "tags", "a") != "b" {
				t.Errorf("GET = %v", got)
			}
			_, hasSettings := walk(got, "properties").(map[string]any)["managedResourceGroupSettings"]
			settings := `{"location":"eastus","properties":{"managedResourceGroupSettings":{"assignedIdentities":[{"principalId":"p1"}]}}}`
			if version >= "2025-06-01" && !isPreview(version) {
				got := v.Must(http.MethodPut, path, version, settings, http.StatusOK)
				if walk(got, "properties", "managedResourceGroupSettings", "assignedIdentities", "0", "principalId") != "p1" {
					t.Errorf("managedResourceGroupSettings = %v", walk(got, "properties"))
				}
			} else if !isPreview(version) {
				if hasSettings {
					t.Errorf("managedResourceGroupSettings shown at %s", version)
				}
				v.Fail(http.MethodPut, path, version, settings, http.StatusBadRequest, arm.CodeInvalidRequestContent)
			}
			v.Must(http.MethodPatch, path, version, `{"tags":{"c":"d"}}`, http.StatusOK)
			resp, err := v.Serve(http.MethodDelete, path, version, "")
			if err != nil || resp.Status != http.StatusAccepted || resp.Header.Get("Location") == "" {
				t.Fatalf("DELETE: %v %v, want 202 with Location", resp, err)
			}
			v.Advance(2 * time.Second)
			v.Fail(http.MethodGet, path, version, "", http.StatusNotFound, arm.CodeResourceNotFound)
		})
	}
	v.in(t)
	v.Fail(http.MethodGet, regPath, "2022-10-01", "", http.StatusBadRequest, arm.CodeNoRegisteredProvider)
}

func TestRegistryDefaults(t *testing.T) {
	tests := []struct {
		name, baseURL, discovery string
	}{
		{"the request's URL", "", enginetest.BaseURL + "/registrymanagement/v1.0/registries/reg1/discovery"},
		{"Options.BaseURL", "https://armlet.example:9443/", "https://armlet.example:9443/registrymanagement/v1.0/registries/reg1/discovery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := registryEnv(t, Options{BaseURL: tt.baseURL})
			got := v.createRegistry(regPath, newest, `{"location":"eastus"}`)
			p := walk(got, "properties").(map[string]any)
			mrg, _ := walk(p, "managedResourceGroup", "resourceId").(string)
			if !strings.HasPrefix(mrg, "/subscriptions/"+testSub+"/resourceGroups/azureml-rg-reg1_") {
				t.Errorf("managedResourceGroup = %v", p["managedResourceGroup"])
			}
			if p["discoveryUrl"] != tt.discovery {
				t.Errorf("discoveryUrl = %v, want %s", p["discoveryUrl"], tt.discovery)
			}
			if p["mlFlowRegistryUri"] != "azureml://eastus.api.azureml.ms/mlflow/v1.0"+regPath {
				t.Errorf("mlFlowRegistryUri = %v", p["mlFlowRegistryUri"])
			}
			if p["publicNetworkAccess"] != "Enabled" || len(p["registryPrivateEndpointConnections"].([]any)) != 0 {
				t.Errorf("properties = %v", p)
			}
			if walk(got, "identity", "type") != "SystemAssigned" || walk(got, "identity", "principalId") == nil || walk(got, "identity", "tenantId") != testTenant {
				t.Errorf("identity = %v", got["identity"])
			}
			region := walk(p, "regionDetails", "0").(map[string]any)
			acr := walk(region, "acrDetails", "0", "systemCreatedAcrAccount").(map[string]any)
			st := walk(region, "storageAccountDetails", "0", "systemCreatedStorageAccount").(map[string]any)
			acrName, _ := acr["acrAccountName"].(string)
			stName, _ := st["storageAccountName"].(string)
			if region["location"] != "eastus" || acr["acrAccountSku"] != "Premium" || !strings.HasPrefix(acrName, "reg1") ||
				walk(acr, "armResourceId", "resourceId") != mrg+"/providers/Microsoft.ContainerRegistry/registries/"+acrName {
				t.Errorf("acr = %v", acr)
			}
			if st["storageAccountType"] != "Standard_LRS" || st["storageAccountHnsEnabled"] != false || st["allowBlobPublicAccess"] != false ||
				len(stName) > 24 || !strings.HasPrefix(stName, "reg1") ||
				walk(st, "armResourceId", "resourceId") != mrg+"/providers/Microsoft.Storage/storageAccounts/"+stName {
				t.Errorf("storage = %v", st)
			}
			// A PUT that sends the generated members back, or leaves them
			// out, keeps them.
			again := v.Must(http.MethodPut, regPath, newest, `{"location":"eastus","properties":{"managedResourceGroup":{"resourceId":"x"},"discoveryUrl":"y"}}`, http.StatusOK)
			if walk(again, "properties", "managedResourceGroup", "resourceId") != mrg || walk(again, "properties", "regionDetails", "0", "acrDetails", "0", "systemCreatedAcrAccount", "acrAccountName") != acrName {
				t.Errorf("after PUT: %v", walk(again, "properties"))
			}
		})
	}
}

func TestRegistryRefusals(t *testing.T) {
	v := registryEnv(t, Options{})
	v.createRegistry(regPath, newest, `{"location":"eastus","properties":{"regionDetails":[{"location":"eastus"},{"location":"westus"}]}}`)
	acr := rgPath + "/providers/Microsoft.ContainerRegistry/registries/acr1"
	tests := []struct {
		name, method, path, version, body string
		status                            int
		code, target                      string
	}{
		{"name too short", "PUT", regBase + "ab", newest, `{"location":"eastus"}`, 400, arm.CodeInvalidResourceName, "name"},
		{"name starts with a hyphen", "PUT", regBase + "-abc", newest, `{"location":"eastus"}`, 400, arm.CodeInvalidResourceName, "name"},
		{"name too long", "PUT", regBase + strings.Repeat("a", 34), newest, `{"location":"eastus"}`, 400, arm.CodeInvalidResourceName, "name"},
		{"unknown property", "PUT", regBase + "reg2", newest, `{"location":"eastus","properties":{"colour":"red"}}`, 400, arm.CodeInvalidRequestContent, "properties.colour"},
		{"bad publicNetworkAccess", "PUT", regBase + "reg2", newest, `{"location":"eastus","properties":{"publicNetworkAccess":"Sometimes"}}`, 400, arm.CodeInvalidRequestContent, "properties.publicNetworkAccess"},
		{"region without location", "PUT", regBase + "reg2", newest, `{"location":"eastus","properties":{"regionDetails":[{}]}}`, 400, arm.CodeInvalidRequestContent, "properties.regionDetails[0].location"},
		{"location not a region", "PUT", regBase + "reg2", newest, `{"location":"eastus","properties":{"regionDetails":[{"location":"westus"}]}}`, 400, arm.CodeInvalidRequestContent, "properties.regionDetails"},
		{"region twice", "PUT", regBase + "reg2", newest, `{"location":"eastus","properties":{"regionDetails":[{"location":"eastus"},{"location":"East US"}]}}`, 400, arm.CodeInvalidRequestContent, "properties.regionDetails[1].location"},
		{"user-created ACR of another type", "PUT", regBase + "reg2", newest, `{"location":"eastus","properties":{"regionDetails":[{"location":"eastus","acrDetails":[{"userCreatedAcrAccount":{"armResourceId":{"resourceId":"` + storageID + `"}}}]}]}}`, 400, arm.CodeInvalidRequestContent, "properties.regionDetails[0].acrDetails[0].userCreatedAcrAccount.armResourceId.resourceId"},
		{"both ACR forms", "PUT", regBase + "reg2", newest, `{"location":"eastus","properties":{"regionDetails":[{"location":"eastus","acrDetails":[{"systemCreatedAcrAccount":{},"userCreatedAcrAccount":{"armResourceId":{"resourceId":"` + acr + `"}}}]}]}}`, 400, arm.CodeInvalidRequestContent, "properties.regionDetails[0].acrDetails[0]"},
		{"member of a newer version", "PUT", regBase + "reg2", newest, `{"location":"eastus","properties":{"managedResourceGroupSettings":{}}}`, 400, arm.CodeInvalidRequestContent, "properties.managedResourceGroupSettings"},
		{"bad identity", "PUT", regBase + "reg2", newest, `{"location":"eastus","identity":{"type":"Mine"}}`, 400, arm.CodeInvalidRequestContent, "identity.type"},
		{"name taken in another group", "PUT", rgPath + "2/providers/Microsoft.MachineLearningServices/registries/REG1", newest, `{"location":"eastus"}`, 409, arm.CodeConflict, ""},
		{"PUT drops a region", "PUT", regPath, newest, `{"location":"eastus","properties":{"regionDetails":[{"location":"eastus"}]}}`, 400, arm.CodeUserError, "properties.regionDetails"},
		{"PATCH of properties", "PATCH", regPath, newest, `{"properties":{"publicNetworkAccess":"Disabled"}}`, 400, arm.CodeInvalidRequestContent, "properties"},
		{"removeRegions of the location", "POST", regPath + "/removeRegions", newest, `{"properties":{"regionDetails":[{"location":"eastus"}]}}`, 400, arm.CodeUserError, "properties.regionDetails[0].location"},
		{"removeRegions of no region", "POST", regPath + "/removeRegions", newest, `{"properties":{}}`, 400, arm.CodeInvalidRequestContent, "properties.regionDetails"},
		{"removeRegions of another region", "POST", regPath + "/removeRegions", newest, `{"properties":{"regionDetails":[{"location":"northeurope"}]}}`, 400, arm.CodeUserError, "properties.regionDetails"},
	}
	v.Must(http.MethodPut, rgPath+"2", "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.in(t)
			_, err := v.Serve(tt.method, tt.path, tt.version, tt.body)
			ae, ok := arm.AsError(err)
			if !ok {
				t.Fatalf("%s %s: %v, want an error", tt.method, tt.path, err)
			}
			if ae.Status != tt.status || tt.code != "" && ae.Code != tt.code || ae.Target != tt.target {
				t.Errorf("error %d %s target %q (%s), want %d %s target %q", ae.Status, ae.Code, ae.Target, ae.Message, tt.status, tt.code, tt.target)
			}
		})
	}
}

func TestRegistryRegions(t *testing.T) {
	v := registryEnv(t, Options{})
	acr := rgPath + "/providers/Microsoft.ContainerRegistry/registries/acr1"
	got := v.createRegistry(regPath, newest, `{"location":"eastus","properties":{"regionDetails":[{"location":"eastus"},
		{"location":"westus","acrDetails":[{"userCreatedAcrAccount":{"armResourceId":{"resourceId":"`+acr+`"}}}]}]}}`)
	regions := walk(got, "properties", "regionDetails").([]any)
	if len(regions) != 2 || walk(regions[1], "acrDetails", "0", "userCreatedAcrAccount", "armResourceId", "resourceId") != acr ||
		walk(regions[1], "storageAccountDetails", "0", "systemCreatedStorageAccount", "storageAccountName") == walk(regions[0], "storageAccountDetails", "0", "systemCreatedStorageAccount", "storageAccountName") {
		t.Fatalf("regionDetails = %v", regions)
	}
	// A PUT adds a region and keeps the others' accounts.
	got = v.Must(http.MethodPut, regPath, newest, `{"location":"eastus","properties":{"regionDetails":[{"location":"eastus"},{"location":"westus"},{"location":"northeurope"}]}}`, http.StatusOK)
	if n := len(walk(got, "properties", "regionDetails").([]any)); n != 3 || walk(got, "properties", "regionDetails", "1", "acrDetails", "0", "userCreatedAcrAccount", "armResourceId", "resourceId") != acr {
		t.Fatalf("after adding a region: %v", walk(got, "properties", "regionDetails"))
	}
	// PATCH changes tags and sku, synchronously.
	got = v.Must(http.MethodPatch, regPath, newest, `{"tags":{"team":"ml"},"sku":{"name":"P1","tier":"Premium"}}`, http.StatusOK)
	if walk(got, "tags", "team") != "ml" || walk(got, "sku", "name") != "P1" || len(walk(got, "properties", "regionDetails").([]any)) != 3 {
		t.Fatalf("after PATCH: %v", got)
	}
	// removeRegions is a long-running POST with Location.
	resp, err := v.Serve(http.MethodPost, regPath+"/removeRegions", newest, `{"location":"eastus","properties":{"regionDetails":[{"location":"West US"},{"location":"northeurope"}]}}`)
	if err != nil || resp.Status != http.StatusAccepted || resp.Header.Get("Location") == "" {
		t.Fatalf("removeRegions: %v %v, want 202 with Location", resp, err)
	}
	loc := resp.Header.Get("Location")
	v.Advance(2 * time.Second)
	done := v.Must(http.MethodGet, strings.TrimPrefix(loc, enginetest.BaseURL), "", "", http.StatusOK)
	if n := len(walk(done, "properties", "regionDetails").([]any)); n != 1 || walk(done, "properties", "regionDetails", "0", "location") != "eastus" {
		t.Fatalf("removeRegions result: %v", done)
	}
}

// TestRegistryLookups: FindRegistry and RegistryRefusesPublicAccess, the
// registry data plane's view of registries.
func TestRegistryLookups(t *testing.T) {
	v := registryEnv(t, Options{})
	v.createRegistry(regPath, newest, `{"location":"eastus","properties":{"publicNetworkAccess":"disabled"}}`)
	v.createRegistry(regBase+"open", newest, `{"location":"eastus"}`)
	ctx := context.Background()
	tests := []struct {
		name   string
		found  bool
		closed bool
	}{
		{"reg1", true, true}, {"REG1", true, true}, {"open", true, false}, {"nope", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := FindRegistry(ctx, v.e, tt.name)
			if !tt.found {
				if !errors.Is(err, engine.ErrNotFound) {
					t.Fatalf("FindRegistry = %v, %v; want ErrNotFound", r, err)
				}
				return
			}
			if err != nil || !strings.EqualFold(r.ID.Name(), tt.name) {
				t.Fatalf("FindRegistry = %v, %v", r, err)
			}
			if got := RegistryRefusesPublicAccess(r); got != tt.closed {
				t.Errorf("RegistryRefusesPublicAccess = %v, want %v", got, tt.closed)
			}
		})
	}
	// A registry being deleted is not found.
	v.in(t)
	v.Must(http.MethodDelete, regBase+"open", newest, "", http.StatusAccepted)
	if _, err := FindRegistry(ctx, v.e, "open"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("FindRegistry of a registry being deleted = %v", err)
	}
}

// TestRegistryPrivateEndpoints: private endpoints to a registry through
// the network provider, their connections shown on the registry, and
// approval and rejection by a PUT of the registry.
func TestRegistryPrivateEndpoints(t *testing.T) {
	v := registryEnv(t, Options{})
	v.createRegistry(regPath, newest, `{"location":"eastus","properties":{"regionDetails":[{"location":"eastus"},{"location":"westus"}]}}`)
	v.Must(http.MethodPut, netBase+"/virtualNetworks/vnet1", netVersion, `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},
		"subnets":[{"name":"pe","properties":{"addressPrefix":"10.0.1.0/24"}}]}}`, http.StatusCreated)
	v.Advance(2 * time.Second)
	subnet := netBase + "/virtualNetworks/vnet1/subnets/pe"
	pe := func(name, key, group string) string {
		return `{"location":"eastus","properties":{"subnet":{"id":"` + subnet + `"},"` + key + `":[{"name":"c","properties":{"privateLinkServiceId":"` + regPath + `","groupIds":["` + group + `"],"requestMessage":"please"}}]}}`
	}
	v.Fail(http.MethodPut, netBase+"/privateEndpoints/bad", netVersion, pe("bad", "privateLinkServiceConnections", "amlworkspace"), http.StatusBadRequest, "PrivateEndpointBadRequest")
	v.Must(http.MethodPut, netBase+"/privateEndpoints/auto", netVersion, pe("auto", "privateLinkServiceConnections", "amlregistry"), http.StatusCreated)
	v.Must(http.MethodPut, netBase+"/privateEndpoints/manual", netVersion, pe("manual", "manualPrivateLinkServiceConnections", "AmlRegistry"), http.StatusCreated)
	v.Must(http.MethodPut, netBase+"/privateEndpoints/manual2", netVersion, pe("manual2", "manualPrivateLinkServiceConnections", "amlregistry"), http.StatusCreated)
	v.Advance(2 * time.Second)

	auto := v.Must(http.MethodGet, netBase+"/privateEndpoints/auto", netVersion, "", http.StatusOK)
	var fqdns []string
	for _, c := range walk(auto, "properties", "customDnsConfigs").([]any) {
		fqdns = append(fqdns, walk(c, "fqdn").(string))
	}
	if want := []string{"reg1.registry.eastus.api.azureml.ms", "reg1.registry.westus.api.azureml.ms"}; !slices.Equal(fqdns, want) {
		t.Errorf("customDnsConfigs = %v, want %v", fqdns, want)
	}

	// state returns each connection's status on the registry, by private
	// endpoint name, and the status each private endpoint shows.
	state := func() (map[string]string, map[string]string) {
		reg := v.Must(http.MethodGet, regPath, newest, "", http.StatusOK)
		onReg := map[string]string{}
		for _, c := range walk(reg, "properties", "registryPrivateEndpointConnections").([]any) {
			id := walk(c, "properties", "privateEndpoint", "id").(string)
			if walk(c, "properties", "groupIds", "0") != "amlregistry" || walk(c, "properties", "privateEndpoint", "subnetArmId") != subnet || walk(c, "location") != "eastus" {
				t.Errorf("connection = %v", c)
			}
			onReg[id[strings.LastIndex(id, "/")+1:]] = walk(c, "properties", "registryPrivateLinkServiceConnectionState", "status").(string)
		}
		onPE := map[string]string{}
		for _, name := range []string{"auto", "manual", "manual2"} {
			body, err := v.Serve(http.MethodGet, netBase+"/privateEndpoints/"+name, netVersion, "")
			if err != nil {
				continue
			}
			b := asJSON(t, body.Body)
			key := "privateLinkServiceConnections"
			if name != "auto" {
				key = "manualPrivateLinkServiceConnections"
			}
			onPE[name], _ = walk(b, "properties", key, "0", "properties", "privateLinkServiceConnectionState", "status").(string)
		}
		return onReg, onPE
	}
	onReg, onPE := state()
	want := map[string]string{"auto": "Approved", "manual": "Pending", "manual2": "Pending"}
	if !equalMaps(onReg, want) || !equalMaps(onPE, want) {
		t.Fatalf("registry %v, endpoints %v; want %v", onReg, onPE, want)
	}

	reg := v.Must(http.MethodGet, regPath, newest, "", http.StatusOK)
	conns := walk(reg, "properties", "registryPrivateEndpointConnections").([]any)
	idOf := func(pe string) string {
		for _, c := range conns {
			if strings.HasSuffix(walk(c, "properties", "privateEndpoint", "id").(string), "/"+pe) {
				return walk(c, "id").(string)
			}
		}
		t.Fatalf("no connection of %s", pe)
		return ""
	}
	approve := func(entries string) string {
		return `{"location":"eastus","properties":{"regionDetails":[{"location":"eastus"},{"location":"westus"}],"registryPrivateEndpointConnections":[` + entries + `]}}`
	}
	entry := func(id, status string) string {
		return `{"id":"` + id + `","properties":{"registryPrivateLinkServiceConnectionState":{"status":"` + status + `","description":"by owner"}}}`
	}
	byEndpoint := `{"properties":{"privateEndpoint":{"id":"` + netBase + `/privateEndpoints/manual2"},"registryPrivateLinkServiceConnectionState":{"status":"Rejected"}}}`
	v.Must(http.MethodPut, regPath, newest, approve(entry(idOf("manual"), "Approved")+","+byEndpoint), http.StatusOK)
	onReg, onPE = state()
	want = map[string]string{"auto": "Approved", "manual": "Approved", "manual2": "Rejected"}
	if !equalMaps(onReg, want) || !equalMaps(onPE, want) {
		t.Fatalf("after approval: registry %v, endpoints %v; want %v", onReg, onPE, want)
	}

	refusals := []struct {
		name, body, code, target string
	}{
		{"approve a rejected one", approve(entry(idOf("manual2"), "Approved")), codeStatusChange, "properties.registryPrivateEndpointConnections[0].properties.registryPrivateLinkServiceConnectionState.status"},
		{"set Pending", approve(entry(idOf("auto"), "Pending")), codeStatusChange, "properties.registryPrivateEndpointConnections[0].properties.registryPrivateLinkServiceConnectionState.status"},
		{"no such connection", approve(entry(regPath+"/privateEndpointConnections/ghost", "Approved")), codeConnectionNotFound, "properties.registryPrivateEndpointConnections[0]"},
		{"bad status", approve(entry(idOf("auto"), "Maybe")), arm.CodeInvalidRequestContent, "properties.registryPrivateEndpointConnections[0].properties.registryPrivateLinkServiceConnectionState.status"},
	}
	for _, tt := range refusals {
		v.Refuse(t, tt.name, http.MethodPut, regPath, newest, tt.body, http.StatusBadRequest, tt.code, tt.target)
	}

	// A PUT without the member keeps the connections; deleting a private
	// endpoint removes its connection.
	v.in(t)
	v.Must(http.MethodPut, regPath, newest, `{"location":"eastus","properties":{"regionDetails":[{"location":"eastus"},{"location":"westus"}]}}`, http.StatusOK)
	v.Must(http.MethodDelete, netBase+"/privateEndpoints/auto", netVersion, "", http.StatusAccepted)
	v.Advance(2 * time.Second)
	if err := v.e.ReapDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	onReg, _ = state()
	if want := map[string]string{"manual": "Approved", "manual2": "Rejected"}; !equalMaps(onReg, want) {
		t.Errorf("after deleting auto: %v, want %v", onReg, want)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRegistryPreviewMembers: the members of 2022-10-01-preview (what
// azure-ai-ml 1.4.0 sends) are accepted at the previews only.
func TestRegistryPreviewMembers(t *testing.T) {
	v := registryEnv(t, Options{})
	const preview = "2022-10-01-preview"
	body := `{"location":"eastus","properties":{"managedResourceGroupTags":{"team":"ml"},"description":"shared models",
		"regionDetails":[{"location":"eastus","acrDetails":[{"systemCreatedAcrAccount":{"acrAccountSku":"Premium"}}],
		"storageAccountDetails":[{"systemCreatedStorageAccount":{"storageAccountHnsEnabled":false,"storageAccountType":"Standard_LRS"}}]}]}}`
	got := v.createRegistry(regPath, preview, body)
	if walk(got, "properties", "managedResourceGroupTags", "team") != "ml" || walk(got, "properties", "privateLinkCount") != float64(0) {
		t.Errorf("at %s: %v", preview, walk(got, "properties"))
	}
	stable := v.Must(http.MethodGet, regPath, newest, "", http.StatusOK)
	for _, name := range registryPreviewOnly {
		if _, ok := walk(stable, "properties").(map[string]any)[name]; ok {
			t.Errorf("%s shown at %s", name, newest)
		}
	}
	for _, name := range []string{"managedResourceGroupTags", "description", "privateLinkCount"} {
		v.Refuse(t, name, http.MethodPut, regPath, newest, `{"location":"eastus","properties":{"`+name+`":{}}}`, http.StatusBadRequest, arm.CodeInvalidRequestContent, "properties."+name)
	}
}

// TestRegistryPrivateLinkRecorder exercises the capability as the network
// provider reaches it, and connections a seed file lists inline.
func TestRegistryPrivateLinkRecorder(t *testing.T) {
	v := registryEnv(t, Options{})
	ctx := context.Background()
	seeded := `{"location":"eastus","properties":{"registryPrivateEndpointConnections":[
		{"id":"` + regPath + `/privateEndpointConnections/pe1.abc","properties":{"privateEndpoint":{"id":"` + peID + `"},
		 "registryPrivateLinkServiceConnectionState":{"status":"Pending","description":"seeded"}}}]}}`
	var body map[string]any
	if err := json.Unmarshal([]byte(seeded), &body); err != nil {
		t.Fatal(err)
	}
	if _, err := v.e.Import(ctx, mustID(t, regPath), body, newest, engine.Caller{AppID: "seed"}); err != nil {
		t.Fatal(err)
	}
	rec, ok := engine.Capability[engine.PrivateLinkRecorder](v.e.Registry(), strings.ToUpper(TypeRegistries))
	if !ok || !slices.Equal(rec.PrivateLinkGroups(), []string{"amlregistry"}) {
		t.Fatalf("registries are not a private link recorder with group amlregistry")
	}
	reg, pe, pe2 := mustID(t, regPath), mustID(t, peID), mustID(t, rgPath+"/providers/Microsoft.Network/privateEndpoints/pe2")
	tests := []struct {
		name, conn string
		pe         string
		want       engine.PrivateLinkState
		ok         bool
	}{
		{"seeded", "pe1.abc", peID, engine.PrivateLinkState{Status: "Pending", Description: "seeded", ActionsRequired: "None"}, true},
		{"another endpoint", "pe1.abc", pe2.String(), engine.PrivateLinkState{}, false},
		{"no such connection", "pe1.xyz", peID, engine.PrivateLinkState{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := rec.ConnectionState(ctx, reg, tt.conn, mustID(t, tt.pe))
			if ok != tt.ok || got != tt.want {
				t.Errorf("ConnectionState = %+v %v, want %+v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	// The endpoint's own name for the connection replaces the seeded one.
	if err := rec.RecordConnection(ctx, reg, "pe1.def", pe, engine.PrivateLinkState{Status: "Approved", Description: "ok"}, engine.Caller{}); err != nil {
		t.Fatal(err)
	}
	if err := rec.RecordConnection(ctx, reg, "pe2.x", pe2, engine.PrivateLinkState{Status: "Pending"}, engine.Caller{}); err != nil {
		t.Fatal(err)
	}
	got := v.Must(http.MethodGet, regPath, newest, "", http.StatusOK)
	conns := walk(got, "properties", "registryPrivateEndpointConnections").([]any)
	if len(conns) != 2 || walk(conns[0], "id") != regPath+"/privateEndpointConnections/pe1.def" ||
		walk(conns[0], "properties", "registryPrivateLinkServiceConnectionState", "status") != "Approved" {
		t.Fatalf("connections = %v", conns)
	}
	if err := rec.RecordConnection(ctx, reg, "pe1.def", pe, engine.PrivateLinkState{Status: "Bogus"}, engine.Caller{}); err == nil {
		t.Error("RecordConnection accepted status Bogus")
	}
	if err := rec.RecordConnection(ctx, mustID(t, regBase+"nope"), "c", pe, engine.PrivateLinkState{Status: "Approved"}, engine.Caller{}); err == nil {
		t.Error("RecordConnection to a missing registry succeeded")
	} else if ae, _ := arm.AsError(err); ae == nil || ae.Status != http.StatusNotFound {
		t.Errorf("RecordConnection to a missing registry: %v, want 404", err)
	}
	// RemoveConnections drops those beneath the scope only.
	if err := rec.RemoveConnections(ctx, pe2, engine.Caller{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.ConnectionState(ctx, reg, "pe2.x", pe2); ok {
		t.Error("pe2's connection survived RemoveConnections")
	}
	if _, ok := rec.ConnectionState(ctx, reg, "pe1.def", pe); !ok {
		t.Error("pe1's connection went with pe2's")
	}
}

// TestRegistryShapesMatchGoSDK decodes armlet's registry answers with the
// Go SDK's models (api-version 2024-04-01), as real clients read them.
func TestRegistryShapesMatchGoSDK(t *testing.T) {
	v := registryEnv(t, Options{})
	v.createRegistry(regPath, newest, `{"location":"eastus","properties":{"intellectualPropertyPublisher":"contoso"}}`)
	if _, err := v.e.Update(context.Background(), mustID(t, regPath), func(r *engine.Resource) error {
		r.SetData(dataRegistryConns, []registryConnection{{Name: "pe1.c", PrivateEndpoint: peID, Status: "Pending", Description: "d", ActionsRequired: "None"}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var reg armmachinelearning.Registry
	decodeAs(t, v.Must(http.MethodGet, regPath, newest, "", http.StatusOK), &reg)
	p := reg.Properties
	if p == nil || *p.IntellectualPropertyPublisher != "contoso" || *p.PublicNetworkAccess != "Enabled" || p.ManagedResourceGroup == nil ||
		len(p.RegionDetails) != 1 || *p.RegionDetails[0].AcrDetails[0].SystemCreatedAcrAccount.AcrAccountSKU != "Premium" ||
		len(p.RegistryPrivateEndpointConnections) != 1 ||
		*p.RegistryPrivateEndpointConnections[0].Properties.RegistryPrivateLinkServiceConnectionState.Status != armmachinelearning.EndpointServiceConnectionStatusPending ||
		*p.RegistryPrivateEndpointConnections[0].Properties.PrivateEndpoint.ID != peID {
		t.Errorf("decoded registry = %+v", p)
	}
	v.lro(http.MethodPut, regPath+"/models/m/versions/1", registryAssetVersions["models"], http.StatusCreated, "Azure-AsyncOperation")
	var mv armmachinelearning.ModelVersion
	decodeAs(t, v.Must(http.MethodGet, regPath+"/models/m/versions/1", newest, "", http.StatusOK), &mv)
	if mv.Properties == nil || *mv.Properties.ModelURI != "azureml://datastores/d/paths/m" {
		t.Errorf("decoded model version = %+v", mv.Properties)
	}
	var up armmachinelearning.PendingUploadResponseDto
	decodeAs(t, v.Must(http.MethodPost, regPath+"/models/m/versions/1/startPendingUpload", newest, `{}`, http.StatusOK), &up)
	if up.BlobReferenceForConsumption == nil || up.BlobReferenceForConsumption.Credential == nil || *up.PendingUploadType != armmachinelearning.PendingUploadTypeTemporaryBlobReference {
		t.Errorf("decoded pending upload = %+v", up)
	}
}

// decodeAs decodes a generic JSON body into an SDK model.
func decodeAs(t *testing.T, body map[string]any, into any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("the SDK cannot decode %s: %v", b, err)
	}
}
