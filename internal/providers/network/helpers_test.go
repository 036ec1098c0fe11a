package network

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/kv/memkv"
	"github.com/armlet/armlet/internal/providers/machinelearning"
)

const (
	testSub   = "00000000-1111-2222-3333-444444444444"
	rgPath    = "/subscriptions/" + testSub + "/resourceGroups/rg"
	netPath   = rgPath + "/providers/Microsoft.Network"
	vnetPath  = netPath + "/virtualNetworks/vnet1"
	subnetID  = vnetPath + "/subnets/default"
	wsPath    = rgPath + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	rmplPath  = rgPath + "/providers/Microsoft.Authorization/resourceManagementPrivateLinks/rmpl1"
	zoneAPI   = netPath + "/privateDnsZones/privatelink.api.azureml.ms"
	zoneNb    = netPath + "/privateDnsZones/privatelink.notebooks.azure.net"
	netAPI    = "2025-01-01"
	dnsAPI    = "2024-06-01"
	mlAPI     = "2024-04-01"
	storageID = rgPath + "/providers/Microsoft.Storage/storageAccounts/store1"
)

// typeRMPrivateLinks is the authorization provider's private link type.
const typeRMPrivateLinks = "Microsoft.Authorization/resourceManagementPrivateLinks"

// rmplStrategy stands in for the authorization provider's
// resourceManagementPrivateLinks (built elsewhere): any body is accepted,
// and it is a private link target that records no connections.
type rmplStrategy struct{}

var _ engine.PrivateLinkTarget = rmplStrategy{}

func (rmplStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return nil
}

func (rmplStrategy) PrivateLinkGroups() []string { return []string{"ResourceManagement"} }

func (rmplStrategy) PrivateLinkFQDNs(*engine.Resource, string) []engine.PrivateLinkFQDN {
	return []engine.PrivateLinkFQDN{{FQDN: "management.azure.com", Member: "ResourceManagement"}}
}

// env is an engine with the network and machine learning providers, one
// subscription, resource group "rg" (eastus), workspace ws1 and virtual
// network vnet1 (10.0.0.0/16) with subnet default (10.0.1.0/24).
type env struct {
	*enginetest.Env
	t   *testing.T
	e   *engine.Engine
	clk *clock.Offset
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := clock.NewOffset(0)
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: engine.NewRegistry(), OperationDuration: time.Second})
	machinelearning.Register(e, machinelearning.Options{TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47"})
	Register(e, Options{})
	e.Registry().Register(&engine.Type{Name: typeRMPrivateLinks, APIVersions: []string{"2020-05-01"}, Tracked: true, Strategy: rmplStrategy{}})
	if err := e.EnsureSubscription(context.Background(), testSub, "72f988bf-86f1-41af-91ab-2d7cd011db47", "test"); err != nil {
		t.Fatal(err)
	}
	v := &env{Env: enginetest.New(t, e, clk), t: t, e: e, clk: clk}
	v.Must(http.MethodPut, rgPath, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	v.Must(http.MethodPut, wsPath, mlAPI, `{"location":"eastus","properties":{"storageAccount":"`+storageID+`"}}`, http.StatusAccepted)
	v.Must(http.MethodPut, vnetPath, netAPI, `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},
		"subnets":[{"name":"default","properties":{"addressPrefix":"10.0.1.0/24"}}]}}`, http.StatusCreated)
	v.finish()
	return v
}

// finish lets every operation under way complete and runs the engine's
// background work (completed deletes and their hooks).
func (v *env) finish() {
	v.t.Helper()
	v.Advance(2 * time.Second)
	if err := v.e.ReapDue(context.Background()); err != nil {
		v.t.Fatal(err)
	}
}

var (
	asJSON = enginetest.AsJSON
	mustID = enginetest.MustID
	// path walks generic JSON: keys for objects, decimal indexes for arrays.
	path = enginetest.Walk
)

// peBody is a private endpoint body with one connection.
func peBody(location, subnet, target, group string, manual bool, message string) string {
	key := "privateLinkServiceConnections"
	if manual {
		key = "manualPrivateLinkServiceConnections"
	}
	return `{"location":"` + location + `","properties":{"subnet":{"id":"` + subnet + `"},"` + key + `":[{"name":"conn","properties":{"privateLinkServiceId":"` +
		target + `","groupIds":["` + group + `"],"requestMessage":"` + message + `"}}]}}`
}

// createPE creates a private endpoint to ws1 in subnet default and lets
// its operation finish.
func (v *env) createPE(name string, manual bool) map[string]any {
	v.t.Helper()
	v.Must(http.MethodPut, netPath+"/privateEndpoints/"+name, netAPI, peBody("eastus", subnetID, wsPath, "amlworkspace", manual, "please"), http.StatusCreated)
	v.finish()
	return v.Must(http.MethodGet, netPath+"/privateEndpoints/"+name, netAPI, "", http.StatusOK)
}

// ips returns a private endpoint body's customDnsConfigs addresses.
func ips(pe map[string]any) []string {
	var out []string
	list, _ := path(pe, "properties", "customDnsConfigs").([]any)
	for _, c := range list {
		for _, ip := range path(c, "ipAddresses").([]any) {
			out = append(out, ip.(string))
		}
	}
	return out
}

// connectionStatus is the state of a private endpoint body's connection.
func connectionStatus(pe map[string]any) string {
	for _, key := range []string{"privateLinkServiceConnections", "manualPrivateLinkServiceConnections"} {
		if s, ok := path(pe, "properties", key, "0", "properties", "privateLinkServiceConnectionState", "status").(string); ok {
			return s
		}
	}
	return ""
}

// workspaceConnections lists ws1's private endpoint connections.
func (v *env) workspaceConnections() []any {
	v.t.Helper()
	body := v.Must(http.MethodGet, wsPath+"/privateEndpointConnections", mlAPI, "", http.StatusOK)
	list, _ := body["value"].([]any)
	return list
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
