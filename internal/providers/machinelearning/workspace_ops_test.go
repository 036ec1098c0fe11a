package machinelearning

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
)

func TestWorkspaceOpsDiagnose(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, `{"location":"eastus","properties":{"publicNetworkAccess":"Disabled","containerRegistry":"`+acrID+`"}}`)
	for _, body := range []string{"", `{"value":{"udr":{},"nsg":{}}}`} {
		resp, err := v.Serve(http.MethodPost, wsBase+"ws1/diagnose", newest, body)
		if err != nil || resp.Status != http.StatusAccepted || resp.Header.Get("Location") == "" {
			t.Fatalf("diagnose %q: %v %+v", body, err, resp)
		}
		op := strings.TrimPrefix(resp.Header.Get("Location"), "https://127.0.0.1:8443")
		v.Must(http.MethodGet, op, "", "", http.StatusAccepted)
		v.Advance(2 * time.Second)
		var res armmachinelearning.DiagnoseResponseResult
		decodeInto(t, v.Must(http.MethodGet, op, "", "", http.StatusOK), &res)
		r := res.Value
		if r == nil || r.UserDefinedRouteResults == nil || len(r.ContainerRegistryResults) != 0 || len(r.ApplicationInsightsResults) != 1 ||
			len(r.OtherResults) != 1 || *r.OtherResults[0].Level != armmachinelearning.DiagnoseResultLevelWarning {
			t.Errorf("diagnose result = %+v", r)
		}
	}
	cases := []struct{ name, body, inMessage string }{
		{"unknown top member", `{"values":{}}`, "'values'"},
		{"category not an object", `{"value":{"udr":[1]}}`, "value.udr"},
		{"not an object", `[1]`, "DiagnoseWorkspaceParameters"},
	}
	for _, c := range cases {
		ae := v.Fail(http.MethodPost, wsBase+"ws1/diagnose", newest, c.body, http.StatusBadRequest, "InvalidRequestContent")
		if !strings.Contains(ae.Message, c.inMessage) {
			t.Errorf("%s: %s", c.name, ae.Message)
		}
	}
}

func TestWorkspaceOpsNotebooksAndLists(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("WS1", newest, `{"location":"eastus","properties":{"v1LegacyMode":true}}`)
	wsID := v.props("WS1", newest)["workspaceId"].(string)

	resp, err := v.Serve(http.MethodPost, wsBase+"WS1/prepareNotebook", newest, "")
	if err != nil || resp.Status != http.StatusAccepted {
		t.Fatalf("prepareNotebook: %v %+v", err, resp)
	}
	v.Advance(2 * time.Second)
	var nb armmachinelearning.NotebookResourceInfo
	raw := v.Must(http.MethodGet, strings.TrimPrefix(resp.Header.Get("Location"), "https://127.0.0.1:8443"), "", "", http.StatusOK)
	if e, ok := raw["notebookPreparationError"]; !ok || e != nil {
		t.Errorf("notebookPreparationError = %v (present %v), want null", e, ok)
	}
	decodeInto(t, raw, &nb)
	wantFQDN := "ml-ws1-eastus-" + wsID + ".eastus.notebooks.azure.net"
	if *nb.Fqdn != wantFQDN || *nb.ResourceID != strings.ReplaceAll(wsID, "-", "") {
		t.Errorf("notebook = %s %s, want %s", *nb.Fqdn, *nb.ResourceID, wantFQDN)
	}

	var tok armmachinelearning.NotebookAccessTokenResult
	decodeInto(t, v.Must(http.MethodPost, wsBase+"WS1/listNotebookAccessToken", newest, "", http.StatusOK), &tok)
	if *tok.HostName != wantFQDN || *tok.NotebookResourceID != *nb.ResourceID || *tok.TokenType != "Bearer" || *tok.ExpiresIn != 3600 || len(*tok.AccessToken) < 32 {
		t.Errorf("token = %+v", tok)
	}

	// Both lists are served while the workspace is in legacy mode.
	var deps armmachinelearning.ExternalFQDNResponse
	decodeInto(t, v.Must(http.MethodGet, wsBase+"WS1/outboundNetworkDependenciesEndpoints", newest, "", http.StatusOK), &deps)
	found := false
	for _, d := range deps.Value {
		for _, ep := range d.Properties.Endpoints {
			if *ep.DomainName == "eastus.api.azureml.ms" && *ep.EndpointDetails[0].Port == 443 {
				found = true
			}
		}
	}
	if len(deps.Value) < 5 || !found {
		t.Errorf("outbound dependencies = %d categories, eastus.api.azureml.ms found %v", len(deps.Value), found)
	}
	var feats armmachinelearning.ListAmlUserFeatureResult
	decodeInto(t, v.Must(http.MethodGet, wsBase+"WS1/features", newest, "", http.StatusOK), &feats)
	if len(feats.Value) != len(workspaceFeatures) || *feats.Value[0].ID != "automatedml_createeditexperimentsui" || feats.NextLink != nil {
		t.Errorf("features = %+v", feats)
	}
	v.Fail(http.MethodGet, wsBase+"nope/features", newest, "", http.StatusNotFound, "ResourceNotFound")
}
