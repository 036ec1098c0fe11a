package machinelearning

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
)

const (
	epWS       = wsBase + "ws1"
	epOnline   = epWS + "/onlineEndpoints/"
	epBatch    = epWS + "/batchEndpoints/"
	epRegModel = "azureml://registries/azureml/models/sklearn-model/versions/1"
	epRegEnv   = "azureml://registries/azureml/environments/sklearn-1.5/versions/3"
)

// epDeploymentBody is a Managed deployment with registry references.
func epDeploymentBody(extra string) string {
	return `{"location":"eastus","properties":{"endpointComputeType":"Managed","instanceType":"Standard_DS3_v2",` +
		`"model":"` + epRegModel + `","environmentId":"` + epRegEnv + `","codeConfiguration":{"scoringScript":"score.py"}` + extra + `}}`
}

// epSetup makes workspace ws1, Key endpoint ep1 and the deployments
// blue and green, all provisioned.
func epSetup(t *testing.T) *env {
	t.Helper()
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	v.epCreate(epOnline+"ep1", `{"location":"eastus","properties":{"authMode":"Key"}}`)
	v.epCreate(epOnline+"ep1/deployments/blue", epDeploymentBody(""))
	v.epCreate(epOnline+"ep1/deployments/green", epDeploymentBody(""))
	v.Advance(2 * time.Second)
	return v
}

// epCreate PUTs a new resource and checks the asynchronous 201.
func (v *env) epCreate(path, body string) map[string]any {
	v.t.Helper()
	resp, err := v.Serve(http.MethodPut, path, newest, body)
	if err != nil {
		v.t.Fatalf("PUT %s: %v", path, err)
	}
	if resp.Status != http.StatusCreated || resp.Header.Get("Azure-AsyncOperation") == "" {
		v.t.Fatalf("PUT %s: status %d, Azure-AsyncOperation %q; want 201 with the header", path, resp.Status, resp.Header.Get("Azure-AsyncOperation"))
	}
	return asJSON(v.t, resp.Body)
}

// epFail checks status, code and that the error's target names member.
func (v *env) epFail(method, path, body string, status int, code, member string) {
	v.t.Helper()
	ae := v.Fail(method, path, newest, body, status, code)
	if !strings.Contains(ae.Target, member) {
		v.t.Errorf("%s %s: target %q (%s), want it to name %q", method, path, ae.Target, ae.Message, member)
	}
}

func epProps(body map[string]any) map[string]any {
	p, _ := body["properties"].(map[string]any)
	return p
}

func TestEndpointOnlineValidation(t *testing.T) {
	v := epSetup(t)
	tests := []struct {
		name, path, body string
		status           int
		code, member     string
	}{
		{"missing authMode", epOnline + "ep2", `{"location":"eastus","properties":{}}`, 400, "InvalidRequestContent", "authMode"},
		{"bad authMode", epOnline + "ep2", `{"location":"eastus","properties":{"authMode":"Password"}}`, 400, "InvalidRequestContent", "authMode"},
		{"name starts with a digit", epOnline + "2e", `{"location":"eastus","properties":{"authMode":"Key"}}`, 400, "InvalidResourceName", "name"},
		{"name too short", epOnline + "ab", `{"location":"eastus","properties":{"authMode":"Key"}}`, 400, "InvalidResourceName", "name"},
		{"name with underscore", epOnline + "my_ep", `{"location":"eastus","properties":{"authMode":"Key"}}`, 400, "InvalidResourceName", "name"},
		{"name too long", epOnline + "e" + strings.Repeat("x", 32), `{"location":"eastus","properties":{"authMode":"Key"}}`, 400, "InvalidResourceName", "name"},
		{"missing location", epOnline + "ep2", `{"properties":{"authMode":"Key"}}`, 400, "LocationRequired", "location"},
		{"other location than the workspace", epOnline + "ep2", `{"location":"westus","properties":{"authMode":"Key"}}`, 400, arm.CodeUserError, "location"},
		{"unknown property", epOnline + "ep2", `{"location":"eastus","properties":{"authMode":"Key","colour":"red"}}`, 400, "InvalidRequestContent", "colour"},
		{"unknown top-level member", epOnline + "ep2", `{"location":"eastus","zones":["1"],"properties":{"authMode":"Key"}}`, 400, "InvalidRequestContent", "zones"},
		{"traffic to a missing deployment", epOnline + "ep2", `{"location":"eastus","properties":{"authMode":"Key","traffic":{"blue":100}}}`, 400, arm.CodeUserError, "traffic"},
		{"traffic to a missing deployment on update", epOnline + "ep1", `{"location":"eastus","properties":{"authMode":"Key","traffic":{"blue":50,"red":50}}}`, 400, arm.CodeUserError, "traffic"},
		{"traffic sum 90", epOnline + "ep1", `{"location":"eastus","properties":{"authMode":"Key","traffic":{"blue":80,"green":10}}}`, 400, arm.CodeUserError, "traffic"},
		{"traffic value above 100", epOnline + "ep1", `{"location":"eastus","properties":{"authMode":"Key","traffic":{"blue":150,"green":-50}}}`, 400, arm.CodeUserError, "traffic"},
		{"traffic not an integer", epOnline + "ep1", `{"location":"eastus","properties":{"authMode":"Key","traffic":{"blue":"all"}}}`, 400, "InvalidRequestContent", "traffic"},
		{"mirror traffic above 50", epOnline + "ep1", `{"location":"eastus","properties":{"authMode":"Key","traffic":{"blue":100},"mirrorTraffic":{"green":60}}}`, 400, arm.CodeUserError, "mirrorTraffic"},
		{"compute is not a compute ID", epOnline + "ep2", `{"location":"eastus","properties":{"authMode":"Key","compute":"my-aks"}}`, 400, "InvalidRequestContent", "compute"},
		{"compute does not exist", epOnline + "ep2", `{"location":"eastus","properties":{"authMode":"Key","compute":"` + epWS + `/computes/aks1"}}`, 400, arm.CodeUserError, "compute"},
		{"PATCH with a property outside the update type", epOnline + "ep1", `{"properties":{"description":"x"}}`, 400, "InvalidRequestContent", "description"},
		{"PATCH with location", epOnline + "ep1", `{"location":"eastus"}`, 400, "InvalidRequestContent", "location"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.t = t
			method := http.MethodPut
			if strings.HasPrefix(tt.name, "PATCH") {
				method = http.MethodPatch
			}
			v.epFail(method, tt.path, tt.body, tt.status, tt.code, tt.member)
		})
	}
	// Nothing was written by the refused requests.
	v.t = t
	v.Fail(http.MethodGet, epOnline+"ep2", newest, "", 404, "ResourceNotFound")
	if tr := epProps(v.Must(http.MethodGet, epOnline+"ep1", newest, "", 200))["traffic"].(map[string]any); len(tr) != 0 {
		t.Errorf("traffic after refused updates = %v, want {}", tr)
	}
}

func TestEndpointOnlineTrafficAndRender(t *testing.T) {
	v := epSetup(t)
	body := v.Must(http.MethodPut, epOnline+"ep1", newest,
		`{"location":"eastus","tags":{"a":"b"},"properties":{"authMode":"key","description":"d","traffic":{"BLUE":90,"green":10},"keys":{"primaryKey":"p1"}}}`, 200)
	p := epProps(body)
	tr := p["traffic"].(map[string]any)
	if len(tr) != 2 || tr["blue"] != float64(90) || tr["green"] != float64(10) {
		t.Errorf("traffic = %v, want blue 90 green 10 in the deployments' casing", tr)
	}
	if p["authMode"] != "Key" || p["publicNetworkAccess"] != "Enabled" || p["provisioningState"] != "Updating" {
		t.Errorf("properties = %v", p)
	}
	if p["scoringUri"] != "https://ep1.eastus.inference.ml.azure.com/score" || p["swaggerUri"] != "https://ep1.eastus.inference.ml.azure.com/swagger.json" {
		t.Errorf("URIs = %v %v", p["scoringUri"], p["swaggerUri"])
	}
	if _, shown := p["keys"]; shown {
		t.Errorf("keys must never be shown: %v", p["keys"])
	}
	keys := v.Must(http.MethodPost, epOnline+"ep1/listKeys", newest, "", 200)
	if keys["primaryKey"] != "p1" || len(keys["secondaryKey"].(string)) != 32 {
		t.Errorf("listKeys = %v, want the sent primary key and a generated secondary", keys)
	}

	// PATCH: tags and a whole new traffic map (not merged).
	body = v.Must(http.MethodPatch, epOnline+"ep1", newest, `{"tags":{"c":"d"},"properties":{"traffic":{"green":100}}}`, 200)
	if tr := epProps(body)["traffic"].(map[string]any); len(tr) != 1 || tr["green"] != float64(100) {
		t.Errorf("traffic after PATCH = %v, want only green 100", tr)
	}
	if tags := body["tags"].(map[string]any); len(tags) != 1 || tags["c"] != "d" {
		t.Errorf("tags after PATCH = %v", tags)
	}
	if epProps(body)["description"] != "d" || epProps(body)["provisioningState"] != "Succeeded" {
		t.Errorf("PATCH lost the description or is not Succeeded: %v", epProps(body))
	}

	// A deployment with traffic cannot be deleted; with 0 it can, and then
	// disappears from the endpoint's traffic.
	v.epFail(http.MethodDelete, epOnline+"ep1/deployments/green", "", 400, arm.CodeUserError, "traffic")
	v.Must(http.MethodGet, epOnline+"ep1/deployments/green", newest, "", 200)
	v.Must(http.MethodPut, epOnline+"ep1", newest, `{"location":"eastus","properties":{"authMode":"Key","traffic":{"blue":100,"green":0}}}`, 200)
	v.Must(http.MethodDelete, epOnline+"ep1/deployments/green", newest, "", 202)
	v.epFail(http.MethodPut, epOnline+"ep1", `{"location":"eastus","properties":{"authMode":"Key","traffic":{"blue":0,"green":100}}}`, 400, arm.CodeUserError, "traffic")
	v.Advance(2 * time.Second)
	if tr := epProps(v.Must(http.MethodGet, epOnline+"ep1", newest, "", 200))["traffic"].(map[string]any); len(tr) != 1 || tr["blue"] != float64(100) {
		t.Errorf("traffic after deleting green = %v, want only blue 100", tr)
	}
	// The stored entry of the deleted deployment does not fail a PATCH.
	v.Must(http.MethodPatch, epOnline+"ep1", newest, `{"tags":{"after":"delete"}}`, 200)
	// Mirror traffic also pins a deployment.
	v.epCreate(epOnline+"ep1/deployments/shadow", epDeploymentBody(""))
	v.Must(http.MethodPut, epOnline+"ep1", newest, `{"location":"eastus","properties":{"authMode":"Key","traffic":{"blue":100},"mirrorTraffic":{"shadow":20}}}`, 200)
	v.epFail(http.MethodDelete, epOnline+"ep1/deployments/shadow", "", 400, arm.CodeUserError, "mirrorTraffic")
}

func TestEndpointOnlineDeploymentValidation(t *testing.T) {
	v := epSetup(t)
	d := epOnline + "ep1/deployments/"
	wsModel := epWS + "/models/m1/versions/1"
	tests := []struct {
		name, path, body string
		status           int
		code, member     string
	}{
		{"bad endpointComputeType", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Serverless"}}`, 400, "InvalidRequestContent", "endpointComputeType"},
		{"missing endpointComputeType", d + "dep2", `{"location":"eastus","properties":{"instanceType":"Standard_DS3_v2"}}`, 400, "InvalidRequestContent", "endpointComputeType"},
		{"missing workspace model", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Managed","instanceType":"Standard_DS3_v2","model":"` + wsModel + `"}}`, 400, arm.CodeUserError, "model"},
		{"model of another type", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Managed","instanceType":"Standard_DS3_v2","model":"` + epWS + `/models/m1"}}`, 400, "InvalidRequestContent", "model"},
		{"model short form", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Managed","instanceType":"Standard_DS3_v2","model":"azureml:m1:1"}}`, 400, "InvalidRequestContent", "model"},
		{"registry reference of another asset kind", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Managed","instanceType":"Standard_DS3_v2","model":"` + epRegEnv + `"}}`, 400, "InvalidRequestContent", "model"},
		{"missing environment", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Managed","instanceType":"Standard_DS3_v2","environmentId":"` + epWS + `/environments/env/versions/2"}}`, 400, arm.CodeUserError, "environmentId"},
		{"missing code", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Managed","instanceType":"Standard_DS3_v2","codeConfiguration":{"codeId":"` + epWS + `/codes/c/versions/1","scoringScript":"s.py"}}}`, 400, arm.CodeUserError, "codeId"},
		{"code without scoringScript", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Managed","instanceType":"Standard_DS3_v2","codeConfiguration":{}}}`, 400, "InvalidRequestContent", "scoringScript"},
		{"managed without instanceType", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Managed"}}`, 400, arm.CodeUserError, "instanceType"},
		{"managed with target utilization", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Managed","instanceType":"Standard_DS3_v2","scaleSettings":{"scaleType":"TargetUtilization"}}}`, 400, arm.CodeUserError, "scaleType"},
		{"bad scaleType", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Managed","instanceType":"Standard_DS3_v2","scaleSettings":{"scaleType":"Manual"}}}`, 400, "InvalidRequestContent", "scaleType"},
		{"kubernetes on a managed endpoint", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Kubernetes"}}`, 400, arm.CodeUserError, "endpointComputeType"},
		{"kubernetes member on a managed deployment", d + "dep2", `{"location":"eastus","properties":{"endpointComputeType":"Managed","instanceType":"x","containerResourceRequirements":{}}}`, 400, "InvalidRequestContent", "containerResourceRequirements"},
		{"other location than the endpoint", d + "dep2", strings.Replace(epDeploymentBody(""), "eastus", "westus", 1), 400, arm.CodeUserError, "location"},
		{"bad name", d + "-d2", epDeploymentBody(""), 400, "InvalidResourceName", "name"},
		{"endpointComputeType cannot change", d + "blue", `{"location":"eastus","properties":{"endpointComputeType":"AzureMLCompute"}}`, 400, "PropertyChangeNotAllowed", "endpointComputeType"},
		{"PATCH with properties", d + "blue", `{"properties":{"description":"x"}}`, 400, "InvalidRequestContent", "properties"},
		{"PATCH with a bad sku", d + "blue", `{"sku":{"capacity":"many"}}`, 400, "InvalidRequestContent", "sku.capacity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v.t = t
			method := http.MethodPut
			if strings.HasPrefix(tt.name, "PATCH") {
				method = http.MethodPatch
			}
			v.epFail(method, tt.path, tt.body, tt.status, tt.code, tt.member)
		})
	}
	v.t = t
	v.Fail(http.MethodGet, d+"dep2", newest, "", 404, "ResourceNotFound")
	v.Fail(http.MethodPut, epOnline+"nope/deployments/dep2", newest, epDeploymentBody(""), 404, "ParentResourceNotFound")
}

// TestEndpointOnlineDeploymentLifecycle checks defaults, provisioning
// over the clock, PATCH, getLogs, skus and the cascade of an endpoint
// delete.
func TestEndpointOnlineDeploymentLifecycle(t *testing.T) {
	v := epSetup(t)
	d := epOnline + "ep1/deployments/red"
	created := v.epCreate(d, epDeploymentBody(`,"requestSettings":{"requestTimeout":"PT10S"}`))
	p := epProps(created)
	if p["provisioningState"] != "Creating" {
		t.Errorf("provisioningState of the 201 = %v, want Creating", p["provisioningState"])
	}
	if sku := created["sku"].(map[string]any); sku["name"] != "Default" || sku["capacity"] != float64(1) {
		t.Errorf("default sku = %v", sku)
	}
	rs := p["requestSettings"].(map[string]any)
	if rs["requestTimeout"] != "PT10S" || rs["maxConcurrentRequestsPerInstance"] != float64(1) {
		t.Errorf("requestSettings = %v, want the sent timeout and the default concurrency", rs)
	}
	if p["scaleSettings"].(map[string]any)["scaleType"] != "Default" || p["livenessProbe"].(map[string]any)["failureThreshold"] != float64(30) ||
		p["egressPublicNetworkAccess"] != "Enabled" || p["appInsightsEnabled"] != false {
		t.Errorf("defaults = %v", p)
	}
	v.Advance(500 * time.Millisecond)
	if st := epProps(v.Must(http.MethodGet, d, newest, "", 200))["provisioningState"]; st != "Creating" {
		t.Errorf("provisioningState half way = %v, want Creating", st)
	}
	v.Advance(time.Second)
	if st := epProps(v.Must(http.MethodGet, d, newest, "", 200))["provisioningState"]; st != "Succeeded" {
		t.Errorf("provisioningState after the operation = %v, want Succeeded", st)
	}

	patched := v.Must(http.MethodPatch, d, newest, `{"sku":{"capacity":3},"tags":{"t":"1"}}`, 200)
	if sku := patched["sku"].(map[string]any); sku["name"] != "Default" || sku["capacity"] != float64(3) {
		t.Errorf("sku after PATCH = %v", sku)
	}

	logs := v.Must(http.MethodPost, d+"/getLogs", newest, `{"containerType":"InferenceServer","tail":3}`, 200)
	lines := strings.Split(strings.TrimSuffix(logs["content"].(string), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(logs["content"].(string), "azmlinfsrv") {
		t.Errorf("getLogs tail 3 = %q", logs["content"])
	}
	logs = v.Must(http.MethodPost, d+"/getLogs", newest, `{"containerType":"storageinitializer"}`, 200)
	if !strings.Contains(logs["content"].(string), epRegModel) {
		t.Errorf("storage initializer logs do not name the model: %q", logs["content"])
	}
	v.epFail(http.MethodPost, d+"/getLogs", `{"containerType":"Sidecar"}`, 400, "InvalidRequestContent", "containerType")
	v.Fail(http.MethodPost, d+"/restart", newest, "", 400, "InvalidResourceType")

	skus := v.Must(http.MethodGet, d+"/skus", newest, "", 200)
	items := skus["value"].([]any)
	item := items[0].(map[string]any)
	if len(items) != 1 || item["resourceType"] != TypeOnlineDeployments || item["sku"].(map[string]any)["name"] != "Default" ||
		item["capacity"].(map[string]any)["maximum"] != float64(20) {
		t.Errorf("skus = %v", skus)
	}

	list := v.Must(http.MethodGet, epOnline+"ep1/deployments", newest, "", 200)
	if n := len(list["value"].([]any)); n != 3 {
		t.Errorf("deployments listed = %d, want 3", n)
	}

	// Deleting the endpoint deletes its deployments.
	resp, err := v.Serve(http.MethodDelete, epOnline+"ep1", newest, "")
	if err != nil || resp.Status != 202 || resp.Header.Get("Location") == "" {
		t.Fatalf("DELETE endpoint: %v %v, want 202 with Location", resp, err)
	}
	if st := epProps(v.Must(http.MethodGet, epOnline+"ep1", newest, "", 200))["provisioningState"]; st != "Deleting" {
		t.Errorf("provisioningState while deleting = %v", st)
	}
	v.Fail(http.MethodPut, epOnline+"ep1/deployments/late", newest, epDeploymentBody(""), 409, "Conflict")
	v.Advance(2 * time.Second)
	if err := v.e.ReapDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	v.Fail(http.MethodGet, epOnline+"ep1", newest, "", 404, "ResourceNotFound")
	v.epCreate(epOnline+"ep1", `{"location":"eastus","properties":{"authMode":"Key"}}`)
	if n := len(v.Must(http.MethodGet, epOnline+"ep1/deployments", newest, "", 200)["value"].([]any)); n != 0 {
		t.Errorf("a re-created endpoint has %d deployments, want 0", n)
	}
}

func TestEndpointOnlineKeysAndToken(t *testing.T) {
	v := epSetup(t)
	before := v.Must(http.MethodPost, epOnline+"ep1/listKeys", newest, "", 200)
	resp, err := v.Serve(http.MethodPost, epOnline+"ep1/regenerateKeys", newest, `{"keyType":"Primary"}`)
	if err != nil || resp.Status != 202 || resp.Header.Get("Location") == "" {
		t.Fatalf("regenerateKeys: %v %v, want 202 with Location", resp, err)
	}
	after := v.Must(http.MethodPost, epOnline+"ep1/listkeys", newest, "", 200)
	if after["primaryKey"] == before["primaryKey"] || after["secondaryKey"] != before["secondaryKey"] {
		t.Errorf("regenerating Primary: before %v after %v", before, after)
	}
	v.Must(http.MethodPost, epOnline+"ep1/regenerateKeys", newest, `{"keyType":"secondary","keyValue":"my-own-key"}`, 202)
	if k := v.Must(http.MethodPost, epOnline+"ep1/listKeys", newest, "", 200); k["secondaryKey"] != "my-own-key" || k["primaryKey"] != after["primaryKey"] {
		t.Errorf("after setting Secondary: %v", k)
	}
	// Keys survive updates of the endpoint.
	v.Must(http.MethodPut, epOnline+"ep1", newest, `{"location":"eastus","properties":{"authMode":"Key","description":"again"}}`, 200)
	if k := v.Must(http.MethodPost, epOnline+"ep1/listKeys", newest, "", 200); k["secondaryKey"] != "my-own-key" {
		t.Errorf("keys after a PUT: %v", k)
	}

	for _, tt := range []struct{ name, body, code, member string }{
		{"bad keyType", `{"keyType":"Tertiary"}`, "InvalidRequestContent", "keyType"},
		{"missing keyType", `{}`, "InvalidRequestContent", "keyType"},
		{"unknown member", `{"keyType":"Primary","colour":1}`, "InvalidRequestContent", "colour"},
		{"not JSON", `{`, "InvalidRequestContent", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v.t = t
			v.epFail(http.MethodPost, epOnline+"ep1/regenerateKeys", tt.body, 400, tt.code, tt.member)
		})
	}
	v.t = t
	v.epFail(http.MethodPost, epOnline+"ep1/token", "", 400, arm.CodeUserError, "authMode")

	v.epCreate(epOnline+"tok1", `{"location":"eastus","properties":{"authMode":"AMLToken"}}`)
	tok := v.Must(http.MethodPost, epOnline+"tok1/token", newest, "", 200)
	now := v.Now.Unix()
	if tok["tokenType"] != "Bearer" || strings.Count(tok["accessToken"].(string), ".") != 2 ||
		tok["expiryTimeUtc"] != float64(now+3600) || tok["refreshAfterTimeUtc"] != float64(now+1800) {
		t.Errorf("token = %v (now %d)", tok, now)
	}
	v.epCreate(epOnline+"aad1", `{"location":"eastus","properties":{"authMode":"AADToken"}}`)
	v.epFail(http.MethodPost, epOnline+"aad1/token", "", 400, arm.CodeUserError, "authMode")
}

func TestEndpointBatch(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	v.epFail(http.MethodPut, epBatch+"be1", `{"location":"eastus","properties":{"authMode":"Key"}}`, 400, arm.CodeUserError, "authMode")
	v.epFail(http.MethodPut, epBatch+"be1", `{"location":"eastus","properties":{}}`, 400, "InvalidRequestContent", "authMode")
	v.epFail(http.MethodPut, epBatch+"be1", `{"location":"eastus","properties":{"authMode":"AADToken","defaults":{"deploymentName":"dep1"}}}`, 400, arm.CodeUserError, "deploymentName")
	body := v.epCreate(epBatch+"be1", `{"location":"eastus","properties":{"authMode":"AADToken","description":"batch"}}`)
	if p := epProps(body); p["scoringUri"] != "https://be1.eastus.inference.ml.azure.com/jobs" || p["provisioningState"] != "Creating" {
		t.Errorf("batch endpoint properties = %v", p)
	}
	keys := v.Must(http.MethodPost, epBatch+"be1/listkeys", newest, "", 200)
	if len(keys["primaryKey"].(string)) != 32 || keys["primaryKey"] == keys["secondaryKey"] {
		t.Errorf("listkeys = %v", keys)
	}

	d := epBatch + "be1/deployments/"
	for _, tt := range []struct{ name, body, code, member string }{
		{"missing model", `{"location":"eastus","properties":{"model":{"referenceType":"Id","assetId":"` + epWS + `/models/m/versions/1"}}}`, arm.CodeUserError, "model.assetId"},
		{"bad referenceType", `{"location":"eastus","properties":{"model":{"referenceType":"Url"}}}`, "InvalidRequestContent", "referenceType"},
		{"missing compute", `{"location":"eastus","properties":{"compute":"` + epWS + `/computes/cpu"}}`, arm.CodeUserError, "compute"},
		{"bad outputAction", `{"location":"eastus","properties":{"outputAction":"Print"}}`, "InvalidRequestContent", "outputAction"},
		{"unknown property", `{"location":"eastus","properties":{"instanceType":"x"}}`, "InvalidRequestContent", "instanceType"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v.t = t
			v.epFail(http.MethodPut, d+"dep1", tt.body, 400, tt.code, tt.member)
		})
	}
	v.t = t
	dep := v.epCreate(d+"dep1", `{"location":"eastus","properties":{"model":{"referenceType":"id","assetId":"`+epRegModel+`"},"retrySettings":{"maxRetries":5},"description":"one"}}`)
	p := epProps(dep)
	if p["miniBatchSize"] != float64(10) || p["outputAction"] != "AppendRow" || p["errorThreshold"] != float64(-1) ||
		p["retrySettings"].(map[string]any)["maxRetries"] != float64(5) || p["retrySettings"].(map[string]any)["timeout"] != "PT30S" ||
		p["model"].(map[string]any)["referenceType"] != "Id" {
		t.Errorf("batch deployment properties = %v", p)
	}
	patched := v.Must(http.MethodPatch, d+"dep1", newest, `{"properties":{"description":"two"}}`, 200)
	if epProps(patched)["description"] != "two" || epProps(patched)["miniBatchSize"] != float64(10) {
		t.Errorf("after PATCH = %v", epProps(patched))
	}
	v.epFail(http.MethodPatch, d+"dep1", `{"properties":{"miniBatchSize":5}}`, 400, "InvalidRequestContent", "miniBatchSize")

	body = v.Must(http.MethodPut, epBatch+"be1", newest, `{"location":"eastus","properties":{"authMode":"AADToken","defaults":{"deploymentName":"DEP1"}}}`, 200)
	if dn := epProps(body)["defaults"].(map[string]any)["deploymentName"]; dn != "dep1" {
		t.Errorf("defaults.deploymentName = %v, want dep1", dn)
	}
	v.epFail(http.MethodDelete, d+"dep1", "", 400, arm.CodeUserError, "deploymentName")
	v.Must(http.MethodPatch, epBatch+"be1", newest, `{"tags":{"x":"y"}}`, 200)
	v.epFail(http.MethodPatch, epBatch+"be1", `{"properties":{"defaults":null}}`, 400, "InvalidRequestContent", "properties")
	v.Must(http.MethodPut, epBatch+"be1", newest, `{"location":"eastus","properties":{"authMode":"AADToken"}}`, 200)
	v.Must(http.MethodDelete, d+"dep1", newest, "", 202)
	v.Advance(2 * time.Second)
	v.Fail(http.MethodGet, d+"dep1", newest, "", 404, "ResourceNotFound")
}

// TestEndpointLegacyModeGate checks rule L5 for the endpoint types.
func TestEndpointLegacyModeGate(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, `{"location":"eastus","properties":{"v1LegacyMode":true}}`)
	v.epFail(http.MethodPut, epOnline+"ep1", `{"location":"eastus","properties":{"authMode":"Key"}}`, 400, arm.CodeUserError, "v1LegacyMode")
	v.epFail(http.MethodGet, epBatch, "", 400, arm.CodeUserError, "v1LegacyMode")
	v.Must(http.MethodPatch, epWS, newest, `{"properties":{"v1LegacyMode":false}}`, 200)
	v.epCreate(epOnline+"ep1", `{"location":"eastus","properties":{"authMode":"Key"}}`)
}

// TestEndpointIdentityAndKind checks the envelope members endpoints keep.
func TestEndpointIdentityAndKind(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	body := v.epCreate(epOnline+"ep1", `{"location":"East US","kind":"Managed","identity":{"type":"SystemAssigned"},"sku":{"name":"Default"},"properties":{"authMode":"Key"}}`)
	id := body["identity"].(map[string]any)
	if id["type"] != "SystemAssigned" || id["principalId"] == nil || id["tenantId"] != testTenant {
		t.Errorf("identity = %v", id)
	}
	if body["kind"] != "Managed" || body["location"] != "eastus" || body["sku"].(map[string]any)["name"] != "Default" {
		t.Errorf("envelope = %v", body)
	}
	patched := v.Must(http.MethodPatch, epOnline+"ep1", newest, `{"identity":{"type":"None"}}`, 200)
	if patched["identity"].(map[string]any)["type"] != "None" || patched["kind"] != "Managed" {
		t.Errorf("after PATCH identity None: %v", patched)
	}
	v.epFail(http.MethodPatch, epOnline+"ep1", `{"identity":{"type":"Sometimes"}}`, 400, "InvalidRequestContent", "identity.type")
}
