package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/google/uuid"
)

// templatesDir holds the ARM templates the deployment tests deploy.
var templatesDir = filepath.Join("..", "..", "testdata", "templates")

func readTemplate(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(templatesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// deploy PUTs a deployment and waits for it to end; it returns the
// deployment as a GET shows it.
func deploy(t *testing.T, s *e2e.Armlet, path string, body any) map[string]any {
	t.Helper()
	status, h, resp := s.Do(t, "PUT", path+"?api-version=2022-09-01", string(mustJSON(body)), nil)
	if status != http.StatusCreated || h.Get("Azure-AsyncOperation") == "" {
		t.Fatalf("PUT deployment: %d %s (Azure-AsyncOperation %q)", status, resp, h.Get("Azure-AsyncOperation"))
	}
	var got map[string]any
	e2e.WaitFor(t, "the deployment to end", func() bool {
		_, _, resp := s.Do(t, "GET", path+"?api-version=2022-09-01", "", nil)
		got = nil
		_ = json.Unmarshal([]byte(resp), &got)
		props, _ := got["properties"].(map[string]any)
		st, _ := props["provisioningState"].(string)
		return st == "Succeeded" || st == "Failed" || st == "Canceled"
	})
	return got
}

// TestDeploymentOfAWorkspace deploys a template that makes a storage
// account, a key vault, Application Insights and a workspace with a
// compute, with parameters, variables, dependsOn, a nested child,
// reference(), listKeys() and a copy loop in the outputs; then checks the
// outputs, the resources made, the operations and the secure values'
// absence.
func TestDeploymentOfAWorkspace(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	group := s.CreateGroup(t, "deploy-rg")
	path := group + "/providers/Microsoft.Resources/deployments/ws-deploy"
	body := map[string]any{"properties": map[string]any{
		"mode": "Incremental", "template": readTemplate(t, "workspace.json"),
		"parameters": map[string]any{"prefix": map[string]any{"value": "mlops"}, "salt": map[string]any{"value": "s3cret-value"}},
	}}
	got := deploy(t, s, path, body)
	props := got["properties"].(map[string]any)
	if props["provisioningState"] != "Succeeded" {
		t.Fatalf("deployment = %s", mustJSON(got))
	}
	outputs := props["outputs"].(map[string]any)
	wsID := group + "/providers/Microsoft.MachineLearningServices/workspaces/mlops-ws"
	if v := outputs["workspaceId"].(map[string]any)["value"]; !strings.EqualFold(v.(string), wsID) {
		t.Errorf("workspaceId output = %v, want %s", v, wsID)
	}
	if v, _ := outputs["discoveryUrl"].(map[string]any)["value"].(string); !strings.HasSuffix(v, "/discovery") {
		t.Errorf("discoveryUrl output = %v", outputs["discoveryUrl"])
	}
	if v, _ := outputs["blobEndpoint"].(map[string]any)["value"].(string); !strings.HasPrefix(v, "https://mlopsst") {
		t.Errorf("blobEndpoint output = %v", outputs["blobEndpoint"])
	}
	if _, shown := outputs["storageKey"].(map[string]any)["value"]; shown {
		t.Errorf("a securestring output shows its value: %v", outputs["storageKey"])
	}
	if v := mustJSON(outputs["names"]); string(v) != `{"type":"Array","value":["mlops-0","mlops-1"]}` {
		t.Errorf("names output = %s", v)
	}
	if strings.Contains(string(mustJSON(got)), "s3cret-value") {
		t.Errorf("the deployment shows a securestring parameter's value: %s", mustJSON(got))
	}
	// What the template made, through the same API a client reads.
	status, ws := s.Get(t, strings.TrimSuffix(s.Conn.ARMEndpoint, "/")+wsID+"?api-version=2024-04-01", nil)
	if status != http.StatusOK || !strings.Contains(ws, `"publicNetworkAccess":"Disabled"`) || !strings.Contains(ws, "mlopsst") {
		t.Errorf("workspace: %d %s", status, ws)
	}
	status, compute := s.Get(t, strings.TrimSuffix(s.Conn.ARMEndpoint, "/")+wsID+"/computes/cpu?api-version=2024-04-01", nil)
	if status != http.StatusOK || !strings.Contains(compute, `"maxNodeCount":2`) {
		t.Errorf("compute: %d %s", status, compute)
	}
	status, _, ops := s.Do(t, "GET", path+"/operations?api-version=2022-09-01", "", nil)
	var list struct {
		Value []struct {
			Properties struct {
				ProvisioningState string `json:"provisioningState"`
				TargetResource    struct {
					ID string `json:"id"`
				} `json:"targetResource"`
			} `json:"properties"`
		} `json:"value"`
	}
	if err := json.Unmarshal([]byte(ops), &list); err != nil || status != http.StatusOK || len(list.Value) != 5 {
		t.Fatalf("operations: %d %s", status, ops)
	}
	for _, op := range list.Value {
		if op.Properties.ProvisioningState != "Succeeded" {
			t.Errorf("operation on %s: %s", op.Properties.TargetResource.ID, op.Properties.ProvisioningState)
		}
	}
	// Every resource's write is in the flow records as the caller's,
	// made by the deployment.
	flows, raw := s.FlowRecords(t, "")
	if strings.Contains(raw, "s3cret-value") {
		t.Errorf("a flow record shows a securestring parameter's value")
	}
	writes := 0
	for _, f := range flows {
		if f.Deployment != "" && f.Class == "arm-public" && f.Method == "PUT" {
			writes++
		}
	}
	if writes != 5 {
		t.Errorf("%d deployment writes in the flow records, want 5: %+v", writes, flows)
	}
	// The deployment's PUT came over public ARM, and the workspace's body
	// with it: the exposure report counts the workspace's write as public.
	exp := s.Exposure(t, wsID)
	found := false
	for _, op := range exp.Public {
		found = found || strings.EqualFold(op.Operation, "Microsoft.MachineLearningServices/workspaces/write")
	}
	if !found {
		t.Errorf("the exposure report lacks the deployment's public workspace write: %+v", exp.Public)
	}
}

func manyParameters(n int) map[string]any {
	out := map[string]any{}
	for i := range n {
		out[fmt.Sprintf("p%d", i)] = map[string]any{"type": "string", "defaultValue": "x"}
	}
	return out
}

// TestDeploymentRefusals checks what a PUT refuses before anything is
// made, and a deployment that fails inside.
func TestDeploymentRefusals(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	group := s.CreateGroup(t, "deploy-bad")
	tmpl := func(resources string) map[string]any {
		var r any
		if err := json.Unmarshal([]byte(resources), &r); err != nil {
			t.Fatal(err)
		}
		return map[string]any{"$schema": "x", "contentVersion": "1.0.0.0", "resources": r}
	}
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		say    string
	}{
		{"unknown top-level member", map[string]any{"properties": map[string]any{"mode": "Incremental", "template": map[string]any{"resourcez": []any{}}}}, 400, "InvalidTemplate", "resourcez"},
		{"templateLink", map[string]any{"properties": map[string]any{"mode": "Incremental", "templateLink": map[string]any{"uri": "https://x"}}}, 400, "InvalidTemplateLink", "offline"},
		{"no mode", map[string]any{"properties": map[string]any{"template": tmpl(`[]`)}}, 400, "InvalidRequestContent", "mode"},
		{"missing parameter", map[string]any{"properties": map[string]any{"mode": "Incremental", "template": map[string]any{"parameters": map[string]any{"p": map[string]any{"type": "string"}}}}}, 400, "InvalidTemplate", "'p' is not provided"},
		{"unknown function", map[string]any{"properties": map[string]any{"mode": "Incremental", "template": tmpl(`[{"type":"Microsoft.Storage/storageAccounts","apiVersion":"2023-05-01","name":"[nosuch('x')]"}]`)}}, 400, "InvalidTemplate", "nosuch"},
		{"cycle", map[string]any{"properties": map[string]any{"mode": "Incremental", "template": tmpl(`[
			{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"a","dependsOn":["b"]},
			{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"b","dependsOn":["a"]}]`)}}, 400, "InvalidTemplate", "Circular dependency"},
		{"unknown dependency", map[string]any{"properties": map[string]any{"mode": "Incremental", "template": tmpl(`[
			{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"a","dependsOn":["zzz"]}]`)}}, 400, "InvalidTemplate", "'zzz' is not defined"},
		{"unknown api-version", map[string]any{"properties": map[string]any{"mode": "Incremental", "template": tmpl(`[
			{"type":"Microsoft.Network/virtualNetworks","apiVersion":"1999-01-01","name":"a"}]`)}}, 400, "InvalidTemplate", "1999-01-01"},
		{"undefined parameter", map[string]any{"properties": map[string]any{"mode": "Incremental", "template": tmpl(`[
			{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"[parameters('nope')]"}]`)}}, 400, "InvalidTemplate", "nope"},
		{"undefined variable", map[string]any{"properties": map[string]any{"mode": "Incremental", "template": tmpl(`[
			{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"[variables('nope')]"}]`)}}, 400, "InvalidTemplate", "'nope' is not defined"},
		{"wrong argument count", map[string]any{"properties": map[string]any{"mode": "Incremental", "template": tmpl(`[
			{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"[toLower('a', 'b')]"}]`)}}, 400, "InvalidTemplate", "tolower"},
		{"too many parameters", map[string]any{"properties": map[string]any{"mode": "Incremental", "template": map[string]any{"parameters": manyParameters(257)}}}, 400, "InvalidTemplate", "limit of '256'"},
	}
	for i, tt := range tests {
		path := group + "/providers/Microsoft.Resources/deployments/bad" + string(rune('a'+i))
		status, _, resp := s.Do(t, "PUT", path+"?api-version=2022-09-01", string(mustJSON(tt.body)), nil)
		if status != tt.status || !strings.Contains(resp, `"code":"`+tt.code+`"`) || !strings.Contains(resp, tt.say) {
			t.Errorf("%s: %d %s, want %d %s mentioning %q", tt.name, status, resp, tt.status, tt.code, tt.say)
		}
		if status, _, _ := s.Do(t, "GET", path+"?api-version=2022-09-01", "", nil); status != http.StatusNotFound {
			t.Errorf("%s: the refused deployment exists (%d)", tt.name, status)
		}
		status, _, resp = s.Do(t, "POST", path+"/validate?api-version=2022-09-01", string(mustJSON(tt.body)), nil)
		if status != tt.status || !strings.Contains(resp, tt.code) {
			t.Errorf("%s: validate answered %d %s", tt.name, status, resp)
		}
	}

	// A resource the provider refuses fails the deployment with Azure's
	// DeploymentFailed; the one that depends on it is not attempted.
	path := group + "/providers/Microsoft.Resources/deployments/inner-failure"
	got := deploy(t, s, path, map[string]any{"properties": map[string]any{"mode": "Incremental", "template": tmpl(`[
		{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"v1","location":"eastus","properties":{"addressSpace":{"addressPrefixes":["not-a-cidr"]}}},
		{"type":"Microsoft.Network/virtualNetworks/subnets","apiVersion":"2023-09-01","name":"v1/s1","dependsOn":["v1"],"properties":{"addressPrefix":"10.0.0.0/24"}}]`)}})
	props := got["properties"].(map[string]any)
	errBody, _ := props["error"].(map[string]any)
	if props["provisioningState"] != "Failed" || errBody["code"] != "DeploymentFailed" || len(errBody["details"].([]any)) != 1 {
		t.Fatalf("failed deployment = %s", mustJSON(got))
	}
	_, _, ops := s.Do(t, "GET", path+"/operations?api-version=2022-09-01", "", nil)
	if strings.Contains(ops, "/subnets/s1") || !strings.Contains(ops, `"provisioningState":"Failed"`) {
		t.Errorf("operations of the failed deployment: %s", ops)
	}
}

// TestDeploymentsAzureCLI drives deployments with the Azure CLI's own
// commands: validate, create (which follows the deployment's
// Azure-AsyncOperation), show, operation list, what-if, export and
// delete.
func TestDeploymentsAzureCLI(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	az := s.AzureCLI(t)
	az.Login()
	az.Run("group", "create", "-n", "cli-deploy", "-l", "eastus")
	file, err := filepath.Abs(filepath.Join(templatesDir, "workspace.json"))
	if err != nil {
		t.Fatal(err)
	}
	valid := az.JSON("deployment", "group", "validate", "-g", "cli-deploy", "-n", "d1", "--template-file", file, "--parameters", "prefix=clidep")
	if props := valid["properties"].(map[string]any); props["provisioningState"] != "Succeeded" {
		t.Fatalf("az deployment group validate = %s", mustJSON(valid))
	}
	created := az.JSON("deployment", "group", "create", "-g", "cli-deploy", "-n", "d1", "--template-file", file,
		"--parameters", "prefix=clidep", "nodes=4")
	props := created["properties"].(map[string]any)
	if props["provisioningState"] != "Succeeded" {
		t.Fatalf("az deployment group create = %s", mustJSON(created))
	}
	if v := props["outputs"].(map[string]any)["workspaceId"].(map[string]any)["value"].(string); !strings.HasSuffix(v, "/workspaces/clidep-ws") {
		t.Errorf("workspaceId output = %s", v)
	}
	shown := az.JSON("deployment", "group", "show", "-g", "cli-deploy", "-n", "d1")
	if shown["name"] != "d1" || shown["properties"].(map[string]any)["parameters"].(map[string]any)["nodes"].(map[string]any)["value"] != float64(4) {
		t.Errorf("az deployment group show = %s", mustJSON(shown))
	}
	var ops []map[string]any
	if err := json.Unmarshal([]byte(az.Run("deployment", "operation", "group", "list", "-g", "cli-deploy", "-n", "d1")), &ops); err != nil || len(ops) != 5 {
		t.Errorf("az deployment operation group list: %v %d operations", err, len(ops))
	}
	// what-if with one parameter changed: the compute's node count is the
	// one change, the rest of what the template sets stays.
	var whatIf struct {
		Changes []struct {
			ResourceID string `json:"resourceId"`
			ChangeType string `json:"changeType"`
			Delta      []struct {
				Path               string `json:"path"`
				PropertyChangeType string `json:"propertyChangeType"`
			} `json:"delta"`
		} `json:"changes"`
	}
	out := az.Run("deployment", "group", "what-if", "-g", "cli-deploy", "-n", "d1", "--template-file", file,
		"--parameters", "prefix=clidep", "nodes=2", "--no-pretty-print")
	if err := json.Unmarshal([]byte(out), &whatIf); err != nil || len(whatIf.Changes) != 5 {
		t.Fatalf("az deployment group what-if: %v\n%s", err, out)
	}
	for _, c := range whatIf.Changes {
		want := "NoChange"
		if strings.HasSuffix(c.ResourceID, "/computes/cpu") {
			want = "Modify"
			if len(c.Delta) != 1 || c.Delta[0].Path != "properties.properties.scaleSettings.maxNodeCount" {
				t.Errorf("what-if delta of the compute: %+v", c.Delta)
			}
		}
		if c.ChangeType != want {
			t.Errorf("what-if: %s %s, want %s (%+v)", c.ResourceID, c.ChangeType, want, c.Delta)
		}
	}
	exported := az.JSON("deployment", "group", "export", "-g", "cli-deploy", "-n", "d1")
	if _, ok := exported["resources"]; !ok {
		t.Errorf("az deployment group export = %s", mustJSON(exported))
	}
	az.Run("deployment", "group", "delete", "-g", "cli-deploy", "-n", "d1")
	if _, _, err := az.Try("deployment", "group", "show", "-g", "cli-deploy", "-n", "d1"); err == nil {
		t.Errorf("the deleted deployment is still shown")
	}
	// The workspace it made stays: deleting a deployment deletes no resource.
	az.Run("resource", "show", "--ids", "/subscriptions/"+s.Conn.SubscriptionID+"/resourceGroups/cli-deploy/providers/Microsoft.MachineLearningServices/workspaces/clidep-ws")
}

// TestDeploymentChecksEachResourceAsItsCaller deploys as a principal who
// may deploy but not write networks (each resource's own RBAC check fails
// the deployment with AuthorizationFailed in its operation), and into a
// resource group where Azure Policy denies public workspaces
// (RequestDisallowedByPolicy); the resources that pass are made.
func TestDeploymentChecksEachResourceAsItsCaller(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	group := s.CreateGroup(t, "deploy-rbac")
	sub := "/subscriptions/" + s.Conn.SubscriptionID
	role := uuid.NewString()
	if status, _, body := s.Do(t, "PUT", sub+"/providers/Microsoft.Authorization/roleDefinitions/"+role+"?api-version=2022-04-01",
		`{"properties":{"roleName":"Deployer","type":"CustomRole","assignableScopes":["`+sub+`"],
		"permissions":[{"actions":["Microsoft.Resources/deployments/*","*/read","Microsoft.ManagedIdentity/userAssignedIdentities/write"]}]}}`, nil); status != http.StatusCreated {
		t.Fatalf("role definition: %d %s", status, body)
	}
	deployer, cred := s.NewPrincipal(t, "deployer")
	if status, _, body := s.Do(t, "PUT", group+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2022-04-01",
		`{"properties":{"roleDefinitionId":"`+sub+`/providers/Microsoft.Authorization/roleDefinitions/`+role+`","principalId":"`+deployer.ObjectID+`","principalType":"ServicePrincipal"}}`, nil); status != http.StatusCreated {
		t.Fatalf("role assignment: %d %s", status, body)
	}
	as := map[string]string{"Authorization": "Bearer " + s.TokenOf(t, cred)}
	body := `{"properties":{"mode":"Incremental","template":{"resources":[
		{"type":"Microsoft.ManagedIdentity/userAssignedIdentities","apiVersion":"2023-01-31","name":"id1","location":"eastus"},
		{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"v1","location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.1.0.0/16"]}}}]}}}`
	path := group + "/providers/Microsoft.Resources/deployments/as-deployer"
	if status, _, resp := s.Do(t, "PUT", path+"?api-version=2022-09-01", body, as); status != http.StatusCreated {
		t.Fatalf("PUT as the deployer: %d %s", status, resp)
	}
	var got string
	e2e.WaitFor(t, "the deployer's deployment to fail", func() bool {
		_, _, got = s.Do(t, "GET", path+"?api-version=2022-09-01", "", nil)
		return strings.Contains(got, `"provisioningState":"Failed"`)
	})
	if !strings.Contains(got, `"code":"AuthorizationFailed"`) || !strings.Contains(got, "Microsoft.Network/virtualNetworks/write") {
		t.Errorf("deployer's deployment: %s", got)
	}
	if status, _, _ := s.Do(t, "GET", group+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1?api-version=2023-01-31", "", nil); status != http.StatusOK {
		t.Errorf("the identity the deployer may write was not made: %d", status)
	}
	// Without a permission to deploy, the PUT itself is refused.
	_, noRole := s.NewPrincipal(t, "nobody")
	if status, _, resp := s.Do(t, "PUT", group+"/providers/Microsoft.Resources/deployments/nobody?api-version=2022-09-01", body,
		map[string]string{"Authorization": "Bearer " + s.TokenOf(t, noRole)}); status != http.StatusForbidden || !strings.Contains(resp, "Microsoft.Resources/deployments/write") {
		t.Errorf("PUT without a role: %d %s", status, resp)
	}

	// Azure Policy denies a public workspace made by a template.
	if status, _, resp := s.Do(t, "PUT", group+"/providers/Microsoft.Authorization/policyAssignments/deny-public?api-version=2022-06-01",
		`{"properties":{"policyDefinitionId":"`+polBuiltInPNA+`","parameters":{"effect":{"value":"Deny"}}}}`, nil); status != http.StatusCreated {
		t.Fatalf("policy assignment: %d %s", status, resp)
	}
	path = group + "/providers/Microsoft.Resources/deployments/public-ws"
	got2 := deploy(t, s, path, map[string]any{"properties": map[string]any{"mode": "Incremental", "template": map[string]any{"resources": []any{
		map[string]any{"type": "Microsoft.MachineLearningServices/workspaces", "apiVersion": "2024-04-01", "name": "pub", "location": "eastus",
			"properties": map[string]any{"publicNetworkAccess": "Enabled"}},
	}}}})
	if js := string(mustJSON(got2)); !strings.Contains(js, `"code":"RequestDisallowedByPolicy"`) || !strings.Contains(js, `"provisioningState":"Failed"`) {
		t.Errorf("deployment of a denied workspace: %s", js)
	}
	_, _, ops := s.Do(t, "GET", path+"/operations?api-version=2022-09-01", "", nil)
	if !strings.Contains(ops, "RequestDisallowedByPolicy") {
		t.Errorf("operations of the denied deployment: %s", ops)
	}
}

// TestDeploymentCompleteMode checks mode Complete: what-if shows the
// resource the template does not name as Delete, and the deployment
// deletes it, as a Delete operation, keeping the one it names.
func TestDeploymentCompleteMode(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	group := s.CreateGroup(t, "deploy-complete")
	ids := group + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
	for _, n := range []string{"kept", "stray"} {
		if status, _, resp := s.Do(t, "PUT", ids+n+"?api-version=2023-01-31", `{"location":"eastus"}`, nil); status != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", n, status, resp)
		}
	}
	body := map[string]any{"properties": map[string]any{"mode": "Complete", "template": map[string]any{"resources": []any{
		map[string]any{"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31", "name": "kept", "location": "eastus", "tags": map[string]any{"a": "b"}},
	}}}}
	path := group + "/providers/Microsoft.Resources/deployments/complete"
	status, h, _ := s.Do(t, "POST", path+"/whatIf?api-version=2022-09-01", string(mustJSON(body)), nil)
	if status != http.StatusAccepted || h.Get("Location") == "" {
		t.Fatalf("whatIf: %d, Location %q", status, h.Get("Location"))
	}
	status, result := s.Get(t, h.Get("Location"), nil)
	if status != http.StatusOK || !strings.Contains(result, `"changeType":"Delete"`) || !strings.Contains(result, "/stray") ||
		!strings.Contains(result, `"path":"tags.a","propertyChangeType":"Create"`) {
		t.Fatalf("whatIf result: %d %s", status, result)
	}
	if status, _, _ := s.Do(t, "GET", ids+"stray?api-version=2023-01-31", "", nil); status != http.StatusOK {
		t.Fatalf("whatIf deleted something: %d", status)
	}
	got := deploy(t, s, path, body)
	if got["properties"].(map[string]any)["provisioningState"] != "Succeeded" {
		t.Fatalf("deployment: %s", mustJSON(got))
	}
	if status, _, _ := s.Do(t, "GET", ids+"stray?api-version=2023-01-31", "", nil); status != http.StatusNotFound {
		t.Errorf("the resource the template does not name is still there: %d", status)
	}
	if status, _, resp := s.Do(t, "GET", ids+"kept?api-version=2023-01-31", "", nil); status != http.StatusOK || !strings.Contains(resp, `"a":"b"`) {
		t.Errorf("the named resource: %d %s", status, resp)
	}
	_, _, ops := s.Do(t, "GET", path+"/operations?api-version=2022-09-01", "", nil)
	if !strings.Contains(ops, `"provisioningOperation":"Delete"`) {
		t.Errorf("no Delete operation: %s", ops)
	}
}

// TestNestedDeployment deploys a template whose module (a nested
// deployment of inner scope, as Bicep compiles modules) makes an identity
// with the name passed to it; the outer template reads the module's
// output through reference().
func TestNestedDeployment(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	group := s.CreateGroup(t, "deploy-nested")
	var tmpl map[string]any
	if err := json.Unmarshal([]byte(`{"parameters":{"name":{"type":"string"}},"resources":[
		{"type":"Microsoft.Resources/deployments","apiVersion":"2022-09-01","name":"module1",
		 "properties":{"mode":"Incremental","expressionEvaluationOptions":{"scope":"inner"},
		   "parameters":{"idName":{"value":"[concat(parameters('name'), '-id')]"}},
		   "template":{"parameters":{"idName":{"type":"string"}},
		     "resources":[{"type":"Microsoft.ManagedIdentity/userAssignedIdentities","apiVersion":"2023-01-31","name":"[parameters('idName')]","location":"[resourceGroup().location]"}],
		     "outputs":{"principalId":{"type":"string","value":"[reference(parameters('idName')).principalId]"}}}}}],
		"outputs":{"fromModule":{"type":"string","value":"[reference('module1').outputs.principalId.value]"}}}`), &tmpl); err != nil {
		t.Fatal(err)
	}
	path := group + "/providers/Microsoft.Resources/deployments/outer"
	got := deploy(t, s, path, map[string]any{"properties": map[string]any{"mode": "Incremental", "template": tmpl,
		"parameters": map[string]any{"name": map[string]any{"value": "app"}}}})
	props := got["properties"].(map[string]any)
	if props["provisioningState"] != "Succeeded" {
		t.Fatalf("deployment: %s", mustJSON(got))
	}
	status, idBody := s.Get(t, strings.TrimSuffix(s.Conn.ARMEndpoint, "/")+group+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id?api-version=2023-01-31", nil)
	var id struct {
		Properties struct {
			PrincipalID string `json:"principalId"`
		} `json:"properties"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(idBody), &id) != nil || id.Properties.PrincipalID == "" {
		t.Fatalf("the module's identity: %d %s", status, idBody)
	}
	if v := props["outputs"].(map[string]any)["fromModule"].(map[string]any)["value"]; v != id.Properties.PrincipalID {
		t.Errorf("fromModule = %v, want the identity's principalId %s", v, id.Properties.PrincipalID)
	}
}

// TestDeploymentRollbackOnError checks onErrorDeployment: a failed
// deployment redeploys the last successful one in Complete mode, which
// removes what the failed one made; a rollback to a deployment that is
// not in the history is refused at once.
func TestDeploymentRollbackOnError(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	group := s.CreateGroup(t, "deploy-rollback")
	deps := group + "/providers/Microsoft.Resources/deployments/"
	identity := func(name string) map[string]any {
		return map[string]any{"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31", "name": name, "location": "eastus"}
	}
	good := deploy(t, s, deps+"good", map[string]any{"properties": map[string]any{"mode": "Incremental",
		"template": map[string]any{"resources": []any{identity("first")}}}})
	if good["properties"].(map[string]any)["provisioningState"] != "Succeeded" {
		t.Fatalf("good: %s", mustJSON(good))
	}
	goodAt := good["properties"].(map[string]any)["timestamp"]
	bad := deploy(t, s, deps+"bad", map[string]any{"properties": map[string]any{"mode": "Incremental",
		"onErrorDeployment": map[string]any{"type": "LastSuccessful"},
		"template": map[string]any{"resources": []any{identity("second"),
			map[string]any{"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "v", "location": "eastus",
				"dependsOn": []any{"second"}, "properties": map[string]any{"addressSpace": map[string]any{"addressPrefixes": []any{"bad"}}}}}}}})
	props := bad["properties"].(map[string]any)
	if props["provisioningState"] != "Failed" || string(mustJSON(props["onErrorDeployment"])) != `{"deploymentName":"good","type":"LastSuccessful"}` {
		t.Fatalf("bad: %s", mustJSON(bad))
	}
	ids := group + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
	e2e.WaitFor(t, "the rollback to remove what the failed deployment made", func() bool {
		status, _, _ := s.Do(t, "GET", ids+"second?api-version=2023-01-31", "", nil)
		return status == http.StatusNotFound
	})
	e2e.WaitFor(t, "the redeployed deployment to succeed again", func() bool {
		_, _, resp := s.Do(t, "GET", deps+"good?api-version=2022-09-01", "", nil)
		var d map[string]any
		_ = json.Unmarshal([]byte(resp), &d)
		p, _ := d["properties"].(map[string]any)
		return p["provisioningState"] == "Succeeded" && p["timestamp"] != goodAt && p["mode"] == "Complete"
	})
	if status, _, _ := s.Do(t, "GET", ids+"first?api-version=2023-01-31", "", nil); status != http.StatusOK {
		t.Errorf("the rolled-back-to deployment's identity: %d", status)
	}
	status, _, resp := s.Do(t, "PUT", deps+"nowhere?api-version=2022-09-01", string(mustJSON(map[string]any{"properties": map[string]any{
		"mode": "Incremental", "onErrorDeployment": map[string]any{"type": "SpecificDeployment", "deploymentName": "never"},
		"template": map[string]any{"resources": []any{}}}})), nil)
	if status != http.StatusBadRequest || !strings.Contains(resp, "InvalidOnErrorDeployment") {
		t.Errorf("rollback to a deployment not in the history: %d %s", status, resp)
	}
}

// TestDeploymentScopes deploys at the tenant and at the root management
// group: a management group deployment that deploys into a subscription
// (a resource group made by its nested deployment), and one at a
// management group armlet does not have.
func TestDeploymentScopes(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	tenant := deploy(t, s, "/providers/Microsoft.Resources/deployments/at-tenant", map[string]any{"location": "eastus",
		"properties": map[string]any{"mode": "Incremental", "template": map[string]any{
			"outputs": map[string]any{"tenant": map[string]any{"type": "string", "value": "[tenant().tenantId]"}}}}})
	if v := mustJSON(tenant["properties"].(map[string]any)["outputs"]); string(v) != `{"tenant":{"type":"String","value":"`+s.Conn.TenantID+`"}}` {
		t.Errorf("tenant deployment: %s", mustJSON(tenant))
	}
	mg := "/providers/Microsoft.Management/managementGroups/" + s.Conn.TenantID
	got := deploy(t, s, mg+"/providers/Microsoft.Resources/deployments/at-mg", map[string]any{"location": "eastus",
		"properties": map[string]any{"mode": "Incremental", "template": map[string]any{"resources": []any{
			map[string]any{"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "into-sub",
				"subscriptionId": s.Conn.SubscriptionID, "location": "eastus",
				"properties": map[string]any{"mode": "Incremental", "template": map[string]any{"resources": []any{
					map[string]any{"type": "Microsoft.Resources/resourceGroups", "apiVersion": "2021-04-01", "name": "from-mg", "location": "eastus"}}}}}}}}})
	if got["properties"].(map[string]any)["provisioningState"] != "Succeeded" {
		t.Fatalf("management group deployment: %s", mustJSON(got))
	}
	if status, _, resp := s.Do(t, "GET", "/subscriptions/"+s.Conn.SubscriptionID+"/resourceGroups/from-mg?api-version=2021-04-01", "", nil); status != http.StatusOK {
		t.Errorf("the resource group the management group deployment made: %d %s", status, resp)
	}
	status, _, resp := s.Do(t, "PUT", "/providers/Microsoft.Management/managementGroups/other/providers/Microsoft.Resources/deployments/x?api-version=2022-09-01",
		`{"location":"eastus","properties":{"mode":"Incremental","template":{}}}`, nil)
	if status != http.StatusNotFound || !strings.Contains(resp, "ManagementGroupNotFound") {
		t.Errorf("deployment at another management group: %d %s", status, resp)
	}
}

// TestDeploymentCancelAndList cancels a running deployment (what it made
// stays; a second cancel is refused) and lists the resource group's
// deployments.
func TestDeploymentCancelAndList(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.OperationDuration = time.Minute }))
	group := s.CreateGroup(t, "deploy-cancel")
	path := group + "/providers/Microsoft.Resources/deployments/slow"
	body := `{"properties":{"mode":"Incremental","template":{"resources":[
		{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"v","location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.2.0.0/16"]}}},
		{"type":"Microsoft.Network/virtualNetworks/subnets","apiVersion":"2023-09-01","name":"v/s","dependsOn":["v"],"properties":{"addressPrefix":"10.2.0.0/24"}}]}}}`
	if status, _, resp := s.Do(t, "PUT", path+"?api-version=2022-09-01", body, nil); status != http.StatusCreated {
		t.Fatalf("PUT: %d %s", status, resp)
	}
	if status, _, resp := s.Do(t, "DELETE", path+"?api-version=2022-09-01", "", nil); status != http.StatusConflict || !strings.Contains(resp, "DeploymentActive") {
		t.Errorf("DELETE of a running deployment: %d %s", status, resp)
	}
	e2e.WaitFor(t, "the deployment to begin the virtual network", func() bool {
		status, _, _ := s.Do(t, "GET", group+"/providers/Microsoft.Network/virtualNetworks/v?api-version=2023-09-01", "", nil)
		return status == http.StatusOK
	})
	if status, _, resp := s.Do(t, "POST", path+"/cancel?api-version=2022-09-01", "", nil); status != http.StatusNoContent {
		t.Fatalf("cancel: %d %s", status, resp)
	}
	_, _, got := s.Do(t, "GET", path+"?api-version=2022-09-01", "", nil)
	if !strings.Contains(got, `"provisioningState":"Canceled"`) {
		t.Errorf("after cancel: %s", got)
	}
	if status, _, resp := s.Do(t, "POST", path+"/cancel?api-version=2022-09-01", "", nil); status != http.StatusConflict || !strings.Contains(resp, "DeploymentCannotBeCancelled") {
		t.Errorf("second cancel: %d %s", status, resp)
	}
	if status, _, _ := s.Do(t, "GET", group+"/providers/Microsoft.Network/virtualNetworks/v?api-version=2023-09-01", "", nil); status != http.StatusOK {
		t.Errorf("the virtual network the canceled deployment began: %d", status)
	}
	if status, _, _ := s.Do(t, "GET", group+"/providers/Microsoft.Network/virtualNetworks/v/subnets/s?api-version=2023-09-01", "", nil); status != http.StatusNotFound {
		t.Errorf("the subnet after the cancel: %d, want 404", status)
	}
	status, _, list := s.Do(t, "GET", group+"/providers/Microsoft.Resources/deployments?api-version=2022-09-01", "", nil)
	if status != http.StatusOK || !strings.Contains(list, `"name":"slow"`) {
		t.Errorf("list: %d %s", status, list)
	}
}

// TestDeploymentMeetsTheLegacyModeGate deploys an environment (a v2
// resource; computes are v1 too) into a workspace
// in v1 legacy mode: the v2 API is off for the deployment as for a
// client, and the deployment fails with the gate's refusal.
func TestDeploymentMeetsTheLegacyModeGate(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	group := s.CreateGroup(t, "deploy-legacy")
	if status, _, resp := s.Do(t, "PUT", group+"/providers/Microsoft.MachineLearningServices/workspaces/old?api-version=2021-07-01", `{"location":"eastus"}`, nil); status != http.StatusAccepted {
		t.Fatalf("legacy workspace: %d %s", status, resp)
	}
	e2e.WaitFor(t, "the legacy workspace", func() bool {
		_, _, resp := s.Do(t, "GET", group+"/providers/Microsoft.MachineLearningServices/workspaces/old?api-version=2024-04-01", "", nil)
		return strings.Contains(resp, `"provisioningState":"Succeeded"`)
	})
	got := deploy(t, s, group+"/providers/Microsoft.Resources/deployments/v2-into-legacy", map[string]any{"properties": map[string]any{"mode": "Incremental",
		"template": map[string]any{"resources": []any{map[string]any{"type": "Microsoft.MachineLearningServices/workspaces/environments", "apiVersion": "2024-04-01",
			"name": "old/train", "properties": map[string]any{"description": "v2 only"}}}}}})
	if js := string(mustJSON(got)); !strings.Contains(js, `"provisioningState":"Failed"`) || !strings.Contains(js, "v1LegacyMode is true") {
		t.Errorf("deployment into a legacy workspace: %s", js)
	}
}
