package machinelearning

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine/enginetest"
)

const (
	slWS      = wsBase + "ws1"
	slEP      = slWS + "/serverlessEndpoints/"
	slSub     = slWS + "/marketplaceSubscriptions/"
	slModel   = "azureml://registries/azureml-meta/models/Llama-2-7b/versions/3"
	slEPBody  = `{"location":"eastus","sku":{"name":"Consumption"},"properties":{"authMode":"Key","modelSettings":{"modelId":"` + slModel + `"}}}`
	slSubBody = `{"properties":{"modelId":"` + slModel + `"}}`
)

// follow GETs the URL of an operation header, relative to armlet's base.
func (v *env) follow(url string) (int, map[string]any) {
	v.t.Helper()
	resp, err := v.Serve(http.MethodGet, strings.TrimPrefix(url, enginetest.BaseURL), "", "")
	if err != nil {
		v.t.Fatalf("GET %s: %v", url, err)
	}
	return resp.Status, asJSON(v.t, resp.Body)
}

func TestServerlessEndpointLifecycle(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	created := v.epCreate(slEP+"llama", slEPBody)
	if p := epProps(created); p["provisioningState"] != "Creating" || p["endpointState"] != "Creating" {
		t.Errorf("while creating: %v", p)
	}
	v.Advance(2 * time.Second)
	got := v.Must(http.MethodGet, slEP+"llama", newest, "", 200)
	p := epProps(got)
	ie, _ := p["inferenceEndpoint"].(map[string]any)
	if p["provisioningState"] != "Succeeded" || p["endpointState"] != "Online" || p["authMode"] != "Key" ||
		p["contentSafety"].(map[string]any)["contentSafetyStatus"] != "Enabled" ||
		ie["uri"] != enginetest.BaseURL+"/serverless/eastus/llama" || got["sku"].(map[string]any)["name"] != "Consumption" {
		t.Errorf("endpoint = %v", got)
	}
	if _, ok := p["marketplaceSubscriptionId"]; ok {
		t.Errorf("marketplaceSubscriptionId without a subscription: %v", p)
	}

	// A marketplace subscription of the model shows on the endpoint.
	sub := v.epCreate(slSub+"llama-sub", slSubBody)
	if epProps(sub)["provisioningState"] != "Creating" {
		t.Errorf("subscription while creating: %v", sub)
	}
	v.Advance(2 * time.Second)
	sp := epProps(v.Must(http.MethodGet, slSub+"llama-sub", newest, "", 200))
	plan, _ := sp["marketplacePlan"].(map[string]any)
	if sp["marketplaceSubscriptionStatus"] != "Subscribed" || plan["publisherId"] != "meta" || plan["offerId"] != "llama-2-7b" || plan["planId"] != "3" {
		t.Errorf("subscription = %v", sp)
	}
	if id := epProps(v.Must(http.MethodGet, slEP+"llama", newest, "", 200))["marketplaceSubscriptionId"]; !strings.EqualFold(id.(string), slSub+"llama-sub") {
		t.Errorf("marketplaceSubscriptionId = %v", id)
	}

	// Keys.
	before := v.Must(http.MethodPost, slEP+"llama/listKeys", newest, "", 200)
	resp, err := v.Serve(http.MethodPost, slEP+"llama/regenerateKeys", newest, `{"keyType":"Secondary","keyValue":"chosen-key"}`)
	if err != nil || resp.Status != 202 || resp.Header.Get("Location") == "" {
		t.Fatalf("regenerateKeys: %v %v, want 202 with Location", resp, err)
	}
	loc := resp.Header.Get("Location")
	if status, _ := v.follow(loc); status != 202 {
		t.Errorf("regenerateKeys operation before its end: %d, want 202", status)
	}
	v.Advance(2 * time.Second)
	status, result := v.follow(loc)
	after := v.Must(http.MethodPost, slEP+"llama/listkeys", newest, "", 200)
	if status != 200 || result["secondaryKey"] != "chosen-key" || after["secondaryKey"] != "chosen-key" || after["primaryKey"] != before["primaryKey"] {
		t.Errorf("after regenerateKeys: operation %d %v, keys %v (before %v)", status, result, after, before)
	}
	v.epFail(http.MethodPost, slEP+"llama/regenerateKeys", `{"keyType":"Tertiary"}`, 400, "InvalidRequestContent", "keyType")
	v.Fail(http.MethodPost, slEP+"llama/token", newest, "", 400, arm.CodeInvalidResourceType)

	// Updates.
	patched := v.Must(http.MethodPatch, slEP+"llama", newest, `{"tags":{"team":"a"},"sku":{"name":"Consumption","capacity":2}}`, 200)
	if patched["tags"].(map[string]any)["team"] != "a" {
		t.Errorf("after PATCH: %v", patched)
	}
	v.Must(http.MethodPut, slEP+"llama", newest, strings.Replace(slEPBody, `"authMode"`, `"contentSafety":{"contentSafetyStatus":"Disabled"},"authMode"`, 1), 200)
	if cs := epProps(v.Must(http.MethodGet, slEP+"llama", newest, "", 200))["contentSafety"]; cs.(map[string]any)["contentSafetyStatus"] != "Disabled" {
		t.Errorf("contentSafety after PUT = %v", cs)
	}
	// The example's envelope: kind, identity and a full sku.
	full := v.epCreate(slEP+"phi", `{"location":"eastus","kind":"Serverless","identity":{"type":"SystemAssigned"},`+
		`"sku":{"name":"Consumption","capacity":1,"tier":"Standard"},"properties":{"authMode":"Key","modelSettings":{"modelId":"azureml://registries/azureml/models/Phi-3"}}}`)
	if full["kind"] != "Serverless" || full["identity"].(map[string]any)["principalId"] == nil {
		t.Errorf("envelope = %v", full)
	}
	if n := len(v.Must(http.MethodGet, slEP, newest, "", 200)["value"].([]any)); n != 2 {
		t.Errorf("list: %d endpoints, want 2", n)
	}

	// Deletes.
	for _, path := range []string{slEP + "llama", slSub + "llama-sub"} {
		resp, err := v.Serve(http.MethodDelete, path, newest, "")
		if err != nil || resp.Status != 202 || resp.Header.Get("Location") == "" {
			t.Fatalf("DELETE %s: %v %v, want 202 with Location", path, resp, err)
		}
	}
	v.Advance(2 * time.Second)
	v.Fail(http.MethodGet, slEP+"llama", newest, "", 404, "ResourceNotFound")
	v.Fail(http.MethodGet, slSub+"llama-sub", newest, "", 404, "ResourceNotFound")
}

func TestServerlessValidation(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	v.epCreate(slEP+"ep1", slEPBody)
	v.epCreate(slSub+"s1", slSubBody)
	v.Advance(2 * time.Second)
	model := func(id string) string { return strings.Replace(slEPBody, slModel, id, 1) }
	tests := []struct {
		name, method, path, version, body string
		status                            int
		code, member                      string
	}{
		{"missing authMode", "PUT", slEP + "ep2", newest, `{"location":"eastus","properties":{"modelSettings":{"modelId":"m"}}}`, 400, "InvalidRequestContent", "authMode"},
		{"authMode not Key", "PUT", slEP + "ep2", newest, `{"location":"eastus","properties":{"authMode":"AMLToken","modelSettings":{"modelId":"m"}}}`, 400, "InvalidRequestContent", "authMode"},
		{"missing modelSettings", "PUT", slEP + "ep2", newest, `{"location":"eastus","properties":{"authMode":"Key"}}`, 400, "InvalidRequestContent", "modelSettings"},
		{"missing modelId", "PUT", slEP + "ep2", newest, `{"location":"eastus","properties":{"authMode":"Key","modelSettings":{}}}`, 400, "InvalidRequestContent", "modelId"},
		{"bad contentSafety", "PUT", slEP + "ep2", newest, `{"location":"eastus","properties":{"authMode":"Key","modelSettings":{"modelId":"m"},"contentSafety":{"contentSafetyStatus":"Maybe"}}}`, 400, "InvalidRequestContent", "contentSafetyStatus"},
		{"unknown member", "PUT", slEP + "ep2", newest, `{"location":"eastus","properties":{"authMode":"Key","modelSettings":{"modelId":"m"},"scoringUri":"x"}}`, 400, "InvalidRequestContent", "scoringUri"},
		{"other location", "PUT", slEP + "ep2", newest, strings.Replace(slEPBody, "eastus", "westus", 1), 400, arm.CodeUserError, "location"},
		{"no location", "PUT", slEP + "ep2", newest, `{"properties":{"authMode":"Key","modelSettings":{"modelId":"m"}}}`, 400, "LocationRequired", "location"},
		{"bad name", "PUT", slEP + "9ep", newest, slEPBody, 400, "InvalidResourceName", "name"},
		{"model changes", "PUT", slEP + "ep1", newest, model("azureml://registries/azureml/models/phi-3/versions/1"), 400, "PropertyChangeNotAllowed", "modelId"},
		{"patch properties", "PATCH", slEP + "ep1", newest, `{"properties":{"authMode":"Key"}}`, 400, "InvalidRequestContent", "properties"},
		{"before the type's first version", "GET", slEP + "ep1", "2023-10-01", "", 400, arm.CodeNoRegisteredProvider, ""},
		{"unknown action", "POST", slEP + "ep1/getLogs", newest, "", 400, arm.CodeInvalidResourceType, ""},
		{"subscription without modelId", "PUT", slSub + "s2", newest, `{"properties":{}}`, 400, "InvalidRequestContent", "modelId"},
		{"subscription model changes", "PUT", slSub + "s1", newest, `{"properties":{"modelId":"other"}}`, 400, "PropertyChangeNotAllowed", "modelId"},
		{"subscription before its first version", "GET", slSub, "2023-10-01", "", 400, arm.CodeNoRegisteredProvider, ""},
	}
	// Read-only members sent back are ignored, as a GET-modify-PUT sends them.
	ro := v.epCreate(slSub+"s3", `{"properties":{"modelId":"m","marketplacePlan":{"planId":"p"},"marketplaceSubscriptionStatus":"Suspended"}}`)
	if p := epProps(ro); p["marketplacePlan"].(map[string]any)["planId"] != "latest" || p["marketplaceSubscriptionStatus"] != "Subscribed" {
		t.Errorf("read-only members sent: %v", p)
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			v.in(t)
			ae := v.Fail(c.method, c.path, c.version, c.body, c.status, c.code)
			if !strings.Contains(strings.ToLower(ae.Target+" "+ae.Message), strings.ToLower(c.member)) {
				t.Errorf("error %q (target %q) does not name %q", ae.Message, ae.Target, c.member)
			}
		})
	}
}

// TestServerlessLegacyModeGate checks rule L5 for both types.
func TestServerlessLegacyModeGate(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, `{"location":"eastus","properties":{"v1LegacyMode":true}}`)
	v.epFail(http.MethodPut, slEP+"ep1", slEPBody, 400, arm.CodeUserError, "v1LegacyMode")
	v.epFail(http.MethodGet, slEP, "", 400, arm.CodeUserError, "v1LegacyMode")
	v.epFail(http.MethodPut, slSub+"s1", slSubBody, 400, arm.CodeUserError, "v1LegacyMode")
	v.epFail(http.MethodGet, slSub+"s1", "", 400, arm.CodeUserError, "v1LegacyMode")
	v.Must(http.MethodPatch, slWS, newest, `{"properties":{"v1LegacyMode":false}}`, 200)
	v.epCreate(slEP+"ep1", slEPBody)
	v.epCreate(slSub+"s1", slSubBody)
}

func TestMarketplacePlan(t *testing.T) {
	tests := []struct{ model, publisher, offer, plan string }{
		{slModel, "meta", "llama-2-7b", "3"},
		{"azureml://registries/azureml-mistral/models/Mistral-large", "mistral", "mistral-large", "latest"},
		{"azureml://registries/cohere/models/command-r/versions/2", "cohere", "command-r", "2"},
		{"string", "azureml", "string", "latest"},
	}
	for _, c := range tests {
		got := marketplacePlan(c.model)
		if got["publisherId"] != c.publisher || got["offerId"] != c.offer || got["planId"] != c.plan {
			t.Errorf("marketplacePlan(%q) = %v, want %s/%s/%s", c.model, got, c.publisher, c.offer, c.plan)
		}
	}
}
