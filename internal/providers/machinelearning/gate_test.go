package machinelearning

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
)

// TestLegacyModeGate covers rule L5 across every verb: while the effective
// v1LegacyMode is true the v2 child resources are refused with 400
// UserError naming v1LegacyMode; computes, private endpoint connections,
// private link resources, outbound rules and the workspace itself keep
// working.
func TestLegacyModeGate(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("wsv2", newest, `{"location":"eastus"}`)
	v.Must(http.MethodPut, wsBase+"wsv2/datastores/blob", newest, gateDatastoreBody, http.StatusCreated)
	v.createWorkspace("legacy", "2021-07-01", `{"location":"eastus"}`) // rule L2: true

	refused := []struct{ method, path, body string }{
		{http.MethodGet, "datastores", ""},
		{http.MethodGet, "datastores/blob", ""},
		{http.MethodPut, "datastores/blob", gateDatastoreBody},
		{http.MethodDelete, "datastores/blob", ""},
		{http.MethodPost, "datastores/blob/listSecrets", ""},
		{http.MethodGet, "connections", ""},
		{http.MethodPut, "environments/env/versions/1", `{"properties":{"image":"python:3.11"}}`},
		{http.MethodGet, "models", ""},
		{http.MethodGet, "models/m/versions", ""},
		{http.MethodGet, "codes", ""},
		{http.MethodGet, "components", ""},
		{http.MethodGet, "data", ""},
		{http.MethodGet, "jobs", ""},
		{http.MethodPut, "onlineEndpoints/score", `{"location":"eastus","properties":{"authMode":"Key"}}`},
		{http.MethodGet, "onlineEndpoints/score/deployments", ""},
		{http.MethodGet, "batchEndpoints", ""},
		{http.MethodGet, "schedules", ""},
	}
	for _, c := range refused {
		err := v.Fail(c.method, wsBase+"legacy/"+c.path, newest, c.body, http.StatusBadRequest, arm.CodeUserError)
		if !strings.Contains(err.Message, "v1LegacyMode") || !strings.Contains(err.Message, "'legacy'") {
			t.Errorf("%s %s: message %q does not name v1LegacyMode and the workspace", c.method, c.path, err.Message)
		}
	}
	allowed := []struct{ method, path string }{
		{http.MethodGet, ""},
		{http.MethodGet, "computes"},
		{http.MethodGet, "privateEndpointConnections"},
		{http.MethodGet, "privateLinkResources"},
		{http.MethodGet, "outboundRules"},
		{http.MethodPost, "listKeys"},
	}
	for _, c := range allowed {
		v.Must(c.method, wsBase+"legacy"+"/"+c.path, newest, "", http.StatusOK)
	}
	v.Must(http.MethodGet, wsBase+"wsv2/datastores/blob", newest, "", http.StatusOK)
}

// TestLegacyModeGatePropagation: after a change to false the refusal says
// the change is propagating and when it takes effect; once it has, the
// same calls succeed; a change back to true refuses at once.
func TestLegacyModeGatePropagation(t *testing.T) {
	v := newEnv(t, Options{LegacyModePropagation: Propagation{Min: 30 * time.Minute, Max: 30 * time.Minute}}, nil)
	v.createWorkspace("ws1", newest, `{"location":"eastus","properties":{"v1LegacyMode":true}}`)
	ds := wsBase + "ws1/datastores/blob"
	if err := v.Fail(http.MethodPut, ds, newest, gateDatastoreBody, http.StatusBadRequest, arm.CodeUserError); strings.Contains(err.Message, "propagating") {
		t.Errorf("refusal before any change mentions propagation: %q", err.Message)
	}

	v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"v1LegacyMode":false}}`, http.StatusOK)
	due := v.Now.Add(30 * time.Minute).UTC().Format(time.RFC3339)
	err := v.Fail(http.MethodPut, ds, newest, gateDatastoreBody, http.StatusBadRequest, arm.CodeUserError)
	if !strings.Contains(err.Message, "propagating") || !strings.Contains(err.Message, due) {
		t.Errorf("refusal while propagating = %q, want it to say propagating until %s", err.Message, due)
	}
	v.Advance(29 * time.Minute)
	v.Fail(http.MethodGet, wsBase+"ws1/datastores", newest, "", http.StatusBadRequest, arm.CodeUserError)
	v.Advance(time.Minute)
	v.Must(http.MethodPut, ds, newest, gateDatastoreBody, http.StatusCreated)
	v.Must(http.MethodGet, wsBase+"ws1/datastores", newest, "", http.StatusOK)

	v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"v1LegacyMode":true}}`, http.StatusOK)
	v.Fail(http.MethodGet, ds, newest, "", http.StatusBadRequest, arm.CodeUserError)
}

const gateDatastoreBody = `{"properties":{"datastoreType":"AzureBlob","accountName":"acct","containerName":"data","credentials":{"credentialsType":"None"}}}`
