package containerregistry

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/providers/managedidentity"
	"github.com/armlet/armlet/internal/providers/network"
)

const (
	rgPath  = enginetest.GroupPath
	regPath = rgPath + "/providers/Microsoft.ContainerRegistry/registries/MlRegistry1"
	api     = "2025-11-01"
)

var walk = enginetest.Walk

func newEnv(t *testing.T) *enginetest.Env {
	t.Helper()
	return enginetest.StartInGroup(t, func(e *engine.Engine) {
		Register(e, Options{})
		managedidentity.Register(e, managedidentity.Options{})
		network.Register(e, network.Options{})
	})
}

func registry(sku, props string) string {
	return `{"location":"eastus","sku":{"name":"` + sku + `"},"properties":{` + props + `}}`
}

// create creates a registry and lets its create finish.
func create(v *enginetest.Env, path, body string) map[string]any {
	v.T.Helper()
	if got := v.Must(http.MethodPut, path, api, body, http.StatusCreated); walk(got, "properties", "provisioningState") != "Creating" {
		v.T.Fatalf("create = %v", got)
	}
	v.Advance(2 * time.Second)
	return v.Must(http.MethodGet, path, api, "", http.StatusOK)
}

// TestRegistryRefusals: what Azure refuses is an ARM error naming the
// member.
func TestRegistryRefusals(t *testing.T) {
	v := newEnv(t)
	create(v, regPath, registry("Basic", ""))
	other := "/subscriptions/" + enginetest.OtherSubscriptionID + "/resourceGroups/rg2"
	v.Must(http.MethodPut, other, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	reg := func(name string) string { return rgPath + "/providers/Microsoft.ContainerRegistry/registries/" + name }
	cases := []struct {
		name, path, body string
		status           int
		code, target     string
	}{
		{"short name", reg("acr1"), registry("Basic", ""), 400, "InvalidResourceName", "name"},
		{"hyphen", reg("ml-registry"), registry("Basic", ""), 400, "InvalidResourceName", "name"},
		{"no sku", reg("mlregistry2"), `{"location":"eastus","properties":{}}`, 400, "InvalidRequestContent", "sku"},
		{"bad sku", reg("mlregistry2"), registry("Gold", ""), 400, "InvalidRequestContent", "sku.name"},
		{"network rules on Basic", reg("mlregistry2"), registry("Basic", `"networkRuleSet":{"defaultAction":"Deny"}`), 400, "BadRequest", "properties.networkRuleSet"},
		{"unknown property", reg("mlregistry2"), registry("Basic", `"adminEnabled":true`), 400, "InvalidRequestContent", "properties.adminEnabled"},
		{"bad identity", reg("mlregistry2"), `{"location":"eastus","sku":{"name":"Basic"},"identity":{"type":"UserAssigned"}}`, 400, "InvalidRequestContent", "identity.userAssignedIdentities"},
		{"name taken elsewhere", other + "/providers/Microsoft.ContainerRegistry/registries/mlregistry1", registry("Basic", ""), 409, "AlreadyInUse", ""},
	}
	for _, c := range cases {
		v.Refuse(t, c.name, http.MethodPut, c.path, api, c.body, c.status, c.code, c.target)
	}
}

// TestRegistry: the login server, the defaults, the admin credentials
// and their refusal while the admin user is off, a user-assigned identity
// with the identity's own ids, the name check and a private endpoint.
func TestRegistry(t *testing.T) {
	v := newEnv(t)
	uai := v.Must(http.MethodPut, rgPath+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1", "2024-11-30", `{"location":"eastus"}`, http.StatusCreated)
	uaiID := walk(uai, "id").(string)
	got := create(v, regPath, `{"location":"eastus","sku":{"name":"premium"},"identity":{"type":"UserAssigned","userAssignedIdentities":{"`+uaiID+`":{}}},"properties":{}}`)
	want := map[string]any{
		"sku.name": "Premium", "sku.tier": "Premium", "properties.loginServer": "mlregistry1.azurecr.io",
		"properties.adminUserEnabled": false, "properties.publicNetworkAccess": "Enabled",
		"properties.policies.exportPolicy.status": "enabled", "properties.provisioningState": "Succeeded",
	}
	for p, w := range want {
		if g := walk(got, strings.Split(p, ".")...); g != w {
			t.Errorf("%s = %v, want %v", p, g, w)
		}
	}
	// The identity shows the ids of the identity resource it names.
	if g, w := walk(got, "identity", "userAssignedIdentities", uaiID, "principalId"), walk(uai, "properties", "principalId"); g != w {
		t.Errorf("identity principalId = %v, want %v", g, w)
	}
	v.Fail(http.MethodPost, regPath+"/listCredentials", api, "", 400, "UnAuthorizedForCredentialOperations")
	v.Must(http.MethodPatch, regPath, api, `{"properties":{"adminUserEnabled":true}}`, 200)
	creds := v.Must(http.MethodPost, regPath+"/listCredentials", api, "", 200)
	p1, p2 := walk(creds, "passwords", "0", "value"), walk(creds, "passwords", "1", "value")
	if creds["username"] != "MlRegistry1" || p1 == nil || p1 == p2 || walk(creds, "passwords", "1", "name") != "password2" {
		t.Fatalf("credentials = %v", creds)
	}
	regen := v.Must(http.MethodPost, regPath+"/regenerateCredential", api, `{"name":"password2"}`, 200)
	if walk(regen, "passwords", "0", "value") != p1 || walk(regen, "passwords", "1", "value") == p2 {
		t.Fatalf("regenerate = %v", regen)
	}
	v.Fail(http.MethodPost, regPath+"/regenerateCredential", api, `{"name":"password3"}`, 400, "InvalidRequestContent")
	if list := v.Must(http.MethodGet, regPath+"/replications", api, "", 200)["value"].([]any); len(list) != 0 {
		t.Fatalf("replications = %v", list)
	}

	check := "/subscriptions/" + enginetest.SubscriptionID + "/providers/Microsoft.ContainerRegistry/checkNameAvailability"
	for name, reason := range map[string]string{"mlregistry1": "AlreadyExists", "ml-reg": "Invalid", "freshregistry": ""} {
		got := v.Must(http.MethodPost, check, api, `{"name":"`+name+`","type":"Microsoft.ContainerRegistry/registries"}`, 200)
		if (reason == "") != (got["nameAvailable"] == true) || (reason != "" && got["reason"] != reason) {
			t.Errorf("check %s = %v", name, got)
		}
	}

	net := rgPath + "/providers/Microsoft.Network"
	v.Must(http.MethodPut, net+"/virtualNetworks/vnet1", "2025-01-01", `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},
		"subnets":[{"name":"pe","properties":{"addressPrefix":"10.0.1.0/24"}}]}}`, 201)
	v.Must(http.MethodPut, net+"/privateEndpoints/pe-acr", "2025-01-01", `{"location":"eastus","properties":{"subnet":{"id":"`+net+`/virtualNetworks/vnet1/subnets/pe"},
		"privateLinkServiceConnections":[{"name":"acr","properties":{"privateLinkServiceId":"`+regPath+`","groupIds":["registry"]}}]}}`, 201)
	v.Advance(2 * time.Second)
	pe := v.Must(http.MethodGet, net+"/privateEndpoints/pe-acr", "2025-01-01", "", 200)
	if walk(pe, "properties", "customDnsConfigs", "0", "fqdn") != "mlregistry1.azurecr.io" ||
		walk(pe, "properties", "customDnsConfigs", "1", "fqdn") != "mlregistry1.eastus.data.azurecr.io" {
		t.Fatalf("customDnsConfigs = %v", walk(pe, "properties", "customDnsConfigs"))
	}
	if got := v.Must(http.MethodGet, regPath, api, "", 200); walk(got, "properties", "privateEndpointConnections", "0", "properties", "privateLinkServiceConnectionState", "status") != "Approved" {
		t.Fatalf("connections = %v", walk(got, "properties", "privateEndpointConnections"))
	}
	v.Must(http.MethodDelete, regPath, api, "", 200)
	v.Must(http.MethodDelete, regPath, api, "", 204)
}
