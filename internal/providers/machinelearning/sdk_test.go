package machinelearning

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
)

// TestShapesMatchGoSDK decodes armlet's answers with the models of the Go
// SDK (api-version 2024-04-01), which is how real clients read them.
func TestShapesMatchGoSDK(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, `{"location":"eastus","identity":{"type":"SystemAssigned"},
		"properties":{"storageAccount":"`+storageID+`","containerRegistry":"`+acrID+`","v1LegacyMode":true,
		"managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound","outboundRules":{"pypi":{"type":"FQDN","destination":"pypi.org"}}}}}`)
	v.upsert("pec1", "Approved", false)

	decode := func(body map[string]any, into any) {
		t.Helper()
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("the SDK cannot decode %s: %v", b, err)
		}
	}
	var ws armmachinelearning.Workspace
	decode(v.Must(http.MethodGet, wsBase+"ws1", newest, "", 200), &ws)
	p := ws.Properties
	if p == nil || p.V1LegacyMode == nil || !*p.V1LegacyMode || p.PrivateLinkCount == nil || *p.PrivateLinkCount != 1 ||
		len(p.PrivateEndpointConnections) != 1 || *p.PrivateEndpointConnections[0].Properties.PrivateLinkServiceConnectionState.Status != armmachinelearning.PrivateEndpointServiceConnectionStatusApproved ||
		*p.PublicNetworkAccess != armmachinelearning.PublicNetworkAccessEnabled || *ws.SKU.Name != "Basic" || ws.Identity.PrincipalID == nil {
		t.Errorf("decoded workspace = %+v", p)
	}
	if rule, ok := p.ManagedNetwork.OutboundRules["pypi"].(*armmachinelearning.FqdnOutboundRule); !ok || *rule.Destination != "pypi.org" {
		t.Errorf("outbound rule = %#v", p.ManagedNetwork.OutboundRules["pypi"])
	}

	var conn armmachinelearning.PrivateEndpointConnection
	decode(v.Must(http.MethodPut, connPath+"pec1", newest, stateBody("Rejected"), 200), &conn)
	if *conn.Properties.PrivateLinkServiceConnectionState.Status != armmachinelearning.PrivateEndpointServiceConnectionStatusRejected ||
		*conn.Properties.ProvisioningState != armmachinelearning.PrivateEndpointConnectionProvisioningStateSucceeded {
		t.Errorf("decoded connection = %+v", conn.Properties)
	}

	var keys armmachinelearning.ListWorkspaceKeysResult
	decode(v.Must(http.MethodPost, wsBase+"ws1/listKeys", newest, "", 200), &keys)
	if keys.ContainerRegistryCredentials == nil || len(keys.ContainerRegistryCredentials.Passwords) != 2 || keys.NotebookAccessKeys == nil {
		t.Errorf("decoded keys = %+v", keys)
	}

	var links armmachinelearning.PrivateLinkResourceListResult
	decode(v.Must(http.MethodGet, wsBase+"ws1/privateLinkResources", newest, "", 200), &links)
	if len(links.Value) != 1 || *links.Value[0].Properties.GroupID != "amlworkspace" {
		t.Errorf("decoded private link resources = %+v", links)
	}
}
