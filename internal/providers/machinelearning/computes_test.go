package machinelearning

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/armlet/armlet/internal/arm"
)

const (
	computeWS   = wsBase + "cws"
	computePath = computeWS + "/computes/"
	amlBody     = `{"properties":{"computeType":"AmlCompute","description":"cpu cluster","properties":{"vmSize":"STANDARD_D2_V2","scaleSettings":{"maxNodeCount":4,"minNodeCount":2}}}}`
	aksID       = rgPath + "/providers/Microsoft.ContainerService/managedClusters/aks1"
	ciBody      = `{"properties":{"computeType":"computeinstance","properties":{"vmSize":"STANDARD_DS3_V2"}}}`
)

// computeEnv is an env with workspace "cws" in eastus.
func computeEnv(t *testing.T) *env {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("cws", newest, `{"location":"eastus","properties":{}}`)
	return v
}

// computeCreate PUTs a compute, checks the 201 with Azure-AsyncOperation
// and finishes the operation.
func (v *env) computeCreate(name, body string) map[string]any {
	v.t.Helper()
	return v.computeCreateAt(name, newest, body)
}

// computeCreateAt is computeCreate at apiVersion.
func (v *env) computeCreateAt(name, apiVersion, body string) map[string]any {
	v.t.Helper()
	resp, err := v.Serve(http.MethodPut, computePath+name, apiVersion, body)
	if err != nil {
		v.t.Fatalf("create compute %s: %v", name, err)
	}
	if resp.Status != http.StatusCreated || resp.Header.Get("Azure-AsyncOperation") == "" {
		v.t.Fatalf("create compute %s: status %d, Azure-AsyncOperation %q", name, resp.Status, resp.Header.Get("Azure-AsyncOperation"))
	}
	out := asJSON(v.t, resp.Body)
	v.Advance(2 * time.Second)
	return out
}

func (v *env) computeGet(name string) map[string]any {
	v.t.Helper()
	return v.Must(http.MethodGet, computePath+name, newest, "", http.StatusOK)
}

func computeProps(body map[string]any) (map[string]any, map[string]any) {
	p, _ := body["properties"].(map[string]any)
	inner, _ := p["properties"].(map[string]any)
	return p, inner
}

func TestComputeValidation(t *testing.T) {
	v := computeEnv(t)
	v.computeCreate("cpu", amlBody)
	v.computeCreate("ci1", ciBody)
	v.computeCreate("k8s", `{"properties":{"computeType":"Kubernetes","resourceId":"`+aksID+`","properties":{"namespace":"default"}}}`)
	v.Must(http.MethodPost, computePath+"ci1/stop", newest, "", http.StatusAccepted)
	v.Advance(2 * time.Second)

	cases := []struct {
		name, method, path, body string
		status                   int
		code, inMessage          string
	}{
		{"bad computeType", http.MethodPut, computePath + "x", `{"properties":{"computeType":"Quantum"}}`, 400, "InvalidRequestContent", "'ComputeType'"},
		{"missing properties", http.MethodPut, computePath + "x", `{"location":"eastus"}`, 400, "InvalidRequestContent", "'properties'"},
		{"missing computeType", http.MethodPut, computePath + "x", `{"properties":{"description":"d"}}`, 400, "InvalidRequestContent", "'computeType'"},
		{"unknown member", http.MethodPut, computePath + "x", `{"properties":{"computeType":"AmlCompute","properties":{"vmSku":"x"}}}`, 400, "InvalidRequestContent", "'vmSku'"},
		{"unknown envelope member", http.MethodPut, computePath + "x", `{"kind":"x","properties":{"computeType":"AmlCompute"}}`, 400, "InvalidRequestContent", "'kind'"},
		{"attached without resourceId", http.MethodPut, computePath + "x", `{"properties":{"computeType":"Kubernetes"}}`, 400, "InvalidRequestContent", "'resourceId'"},
		{"resourceId of the wrong type", http.MethodPut, computePath + "x", `{"properties":{"computeType":"VirtualMachine","resourceId":"` + storageID + `"}}`, 400, "InvalidRequestContent", "Microsoft.Compute/virtualMachines"},
		{"bad scaleSettings min>max", http.MethodPut, computePath + "x", `{"properties":{"computeType":"AmlCompute","properties":{"scaleSettings":{"maxNodeCount":1,"minNodeCount":3}}}}`, 400, "UserError", "maxNodeCount"},
		{"bad scaleSettings negative", http.MethodPut, computePath + "x", `{"properties":{"computeType":"AmlCompute","properties":{"scaleSettings":{"maxNodeCount":1,"minNodeCount":-1}}}}`, 400, "UserError", "minNodeCount"},
		{"bad scaleSettings missing max", http.MethodPut, computePath + "x", `{"properties":{"computeType":"AmlCompute","properties":{"scaleSettings":{"minNodeCount":0}}}}`, 400, "InvalidRequestContent", "'maxNodeCount'"},
		{"bad idle time", http.MethodPut, computePath + "x", `{"properties":{"computeType":"AmlCompute","properties":{"scaleSettings":{"maxNodeCount":1,"nodeIdleTimeBeforeScaleDown":"5 minutes"}}}}`, 400, "UserError", "nodeIdleTimeBeforeScaleDown"},
		{"computeType change", http.MethodPut, computePath + "cpu", ciBody, 400, "PropertyChangeNotAllowed", "properties.computeType"},
		{"patch scale of a ComputeInstance", http.MethodPatch, computePath + "ci1", `{"properties":{"properties":{"scaleSettings":{"maxNodeCount":2}}}}`, 400, "UserError", "AmlCompute"},
		{"patch other member", http.MethodPatch, computePath + "cpu", `{"properties":{"description":"x"}}`, 400, "InvalidRequestContent", "'description'"},
		{"patch bad scaleSettings", http.MethodPatch, computePath + "cpu", `{"properties":{"properties":{"scaleSettings":{"maxNodeCount":0}}}}`, 400, "UserError", "maxNodeCount"},
		{"delete without underlyingResourceAction", http.MethodDelete, computePath + "cpu", "", 400, "UserError", "underlyingResourceAction"},
		{"delete with a bad underlyingResourceAction", http.MethodDelete, computePath + "cpu?underlyingResourceAction=Destroy", "", 400, "UserError", "underlyingResourceAction"},
		{"detach a workspace-made compute", http.MethodDelete, computePath + "cpu?underlyingResourceAction=Detach", "", 400, "UserError", "cannot be detached"},
		{"start an AmlCompute", http.MethodPost, computePath + "cpu/start", "", 400, "UserError", "ComputeInstance"},
		{"stop a stopped instance", http.MethodPost, computePath + "ci1/stop", "", 409, "Conflict", "Stopped"},
		{"restart a stopped instance", http.MethodPost, computePath + "ci1/restart", "", 409, "Conflict", "Stopped"},
		{"listNodes of an attached compute", http.MethodPost, computePath + "k8s/listNodes", "", 400, "UserError", "Kubernetes"},
		{"unknown action", http.MethodPost, computePath + "cpu/reimage", "", 400, "InvalidResourceType", "reimage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v.t = t
			ae := v.Fail(c.method, c.path, newest, c.body, c.status, c.code)
			if !strings.Contains(ae.Message+" "+ae.Target, c.inMessage) {
				t.Errorf("error %q (target %q) does not mention %q", ae.Message, ae.Target, c.inMessage)
			}
		})
	}
	v.t = t
	// Nothing half-written: the refused creates left no compute behind.
	list := v.Must(http.MethodGet, computeWS+"/computes", newest, "", http.StatusOK)
	if n := len(list["value"].([]any)); n != 3 {
		t.Errorf("computes listed = %d, want 3", n)
	}
}

// TestComputeEveryType creates each of the ten compute types with a
// minimal valid body and reads it back: its computeType (sent in lower
// case, answered in the type's own spelling), whether it is
// attached, and a member only that type has (for DataFactory, which has
// no properties of its own, the resourceId it attaches).
func TestComputeEveryType(t *testing.T) {
	v := computeEnv(t)
	id := func(typ, name string) string { return rgPath + "/providers/" + typ + "/" + name }
	cases := []struct {
		computeType, body string
		attached          bool
		path              []string // of the type-specific member in properties
		want              any
	}{
		{computeAmlCompute, `{"properties":{"vmSize":"STANDARD_D2_V2","scaleSettings":{"maxNodeCount":2}}}`, false,
			[]string{"properties", "scaleSettings", "maxNodeCount"}, float64(2)},
		{computeInstance, `{"properties":{"vmSize":"STANDARD_DS3_V2"}}`, false,
			[]string{"properties", "vmSize"}, "STANDARD_DS3_V2"},
		{computeAKS, `{"properties":{"agentCount":3}}`, false,
			[]string{"properties", "agentCount"}, float64(3)},
		{computeKubernetes, `{"resourceId":"` + aksID + `","properties":{"namespace":"ml"}}`, true,
			[]string{"properties", "namespace"}, "ml"},
		{computeVirtualMachine, `{"resourceId":"` + id(typeVirtualMachines, "vm1") + `","properties":{"sshPort":2222}}`, true,
			[]string{"properties", "sshPort"}, float64(2222)},
		{computeHDInsight, `{"resourceId":"` + id(typeHDInsightClusters, "hdi1") + `","properties":{"address":"hdi1.azurehdinsight.net"}}`, true,
			[]string{"properties", "address"}, "hdi1.azurehdinsight.net"},
		{computeDataFactory, `{"resourceId":"` + id(typeDataFactories, "adf1") + `"}`, true,
			[]string{"resourceId"}, id(typeDataFactories, "adf1")},
		{computeDatabricks, `{"resourceId":"` + id(typeDatabricks, "dbx1") + `","properties":{"workspaceUrl":"adb-1.azuredatabricks.net"}}`, true,
			[]string{"properties", "workspaceUrl"}, "adb-1.azuredatabricks.net"},
		{computeDataLakeAnalytics, `{"resourceId":"` + id(typeDataLakeAccounts, "dla1") + `","properties":{"dataLakeStoreAccountName":"store1"}}`, true,
			[]string{"properties", "dataLakeStoreAccountName"}, "store1"},
		{computeSynapseSpark, `{"resourceId":"` + id("Microsoft.Synapse/workspaces", "syn1") + `/bigDataPools/pool1","properties":{"poolName":"pool1","nodeCount":3}}`, true,
			[]string{"properties", "poolName"}, "pool1"},
	}
	// At newest the schema is overlaid with the version's SDK model; at
	// 2023-10-01, which armlet has no model of, it is the hand-written one.
	versions := []string{newest, "2023-10-01"}
	for _, version := range versions {
		for _, c := range cases {
			t.Run(version+"/"+c.computeType, func(t *testing.T) {
				v.in(t)
				name := strings.ToLower(c.computeType) + strings.ReplaceAll(version, "-", "")
				// Sent in lower case, answered in the type's own spelling.
				v.computeCreateAt(name, version, `{"properties":{"computeType":"`+strings.ToLower(c.computeType)+`",`+strings.TrimPrefix(c.body, "{")+`}`)
				p, _ := computeProps(v.Must(http.MethodGet, computePath+name, version, "", http.StatusOK))
				if p["computeType"] != c.computeType || p["isAttachedCompute"] != c.attached || p["provisioningState"] != "Succeeded" {
					t.Errorf("computeType %v isAttachedCompute %v provisioningState %v, want %s %v Succeeded",
						p["computeType"], p["isAttachedCompute"], p["provisioningState"], c.computeType, c.attached)
				}
				var got any = p
				for _, k := range c.path {
					m, _ := got.(map[string]any)
					got = m[k]
				}
				if got != c.want {
					t.Errorf("properties.%s = %v, want %v", strings.Join(c.path, "."), got, c.want)
				}
			})
		}
	}
	v.in(t)
	if n := len(v.Must(http.MethodGet, computeWS+"/computes", newest, "", http.StatusOK)["value"].([]any)); n != len(versions)*len(cases) {
		t.Errorf("computes listed = %d, want %d", n, len(versions)*len(cases))
	}
}

func TestComputeAmlComputeScaling(t *testing.T) {
	v := computeEnv(t)
	created := v.computeCreate("cpu", amlBody)
	p, inner := computeProps(created)
	if p["provisioningState"] != "Creating" || inner["allocationState"] != "Resizing" || inner["currentNodeCount"] != float64(0) || inner["targetNodeCount"] != float64(2) {
		t.Errorf("at creation: provisioningState %v allocation %v current %v target %v", p["provisioningState"], inner["allocationState"], inner["currentNodeCount"], inner["targetNodeCount"])
	}
	if created["location"] != "eastus" || p["computeLocation"] != "eastus" || p["isAttachedCompute"] != false {
		t.Errorf("location %v computeLocation %v isAttachedCompute %v", created["location"], p["computeLocation"], p["isAttachedCompute"])
	}
	p, inner = computeProps(v.computeGet("cpu"))
	counts := inner["nodeStateCounts"].(map[string]any)
	if p["provisioningState"] != "Succeeded" || inner["allocationState"] != "Steady" || inner["currentNodeCount"] != float64(2) || counts["idleNodeCount"] != float64(2) {
		t.Errorf("after the operation: %v %v current %v counts %v", p["provisioningState"], inner["allocationState"], inner["currentNodeCount"], counts)
	}
	if inner["osType"] != "Linux" || inner["vmPriority"] != "Dedicated" || inner["remoteLoginPortPublicAccess"] != "Enabled" {
		t.Errorf("defaults: %v", inner)
	}

	// PATCH scale settings: Resizing down, then Steady at the new minimum.
	patched := v.Must(http.MethodPatch, computePath+"cpu", newest, `{"properties":{"properties":{"scaleSettings":{"maxNodeCount":8,"minNodeCount":0,"nodeIdleTimeBeforeScaleDown":"PT5M"}}}}`, http.StatusOK)
	_, inner = computeProps(patched)
	ss := inner["scaleSettings"].(map[string]any)
	counts = inner["nodeStateCounts"].(map[string]any)
	if ss["maxNodeCount"] != float64(8) || ss["nodeIdleTimeBeforeScaleDown"] != "PT5M" || inner["allocationState"] != "Resizing" || counts["leavingNodeCount"] != float64(2) {
		t.Errorf("after PATCH: scale %v allocation %v counts %v", ss, inner["allocationState"], counts)
	}
	nodes := v.Must(http.MethodPost, computePath+"cpu/listNodes", newest, "", http.StatusOK)
	if n := len(nodes["nodes"].([]any)); n != 2 {
		t.Errorf("nodes while shrinking = %d, want 2 leaving", n)
	}
	for _, n := range nodes["nodes"].([]any) {
		if runID, ok := n.(map[string]any)["runId"]; !ok || runID != nil {
			t.Errorf("node %v: want runId null (no run on it)", n)
		}
	}
	v.Advance(2 * time.Second)
	_, inner = computeProps(v.computeGet("cpu"))
	if inner["allocationState"] != "Steady" || inner["currentNodeCount"] != float64(0) {
		t.Errorf("after resizing: %v current %v", inner["allocationState"], inner["currentNodeCount"])
	}

	// listNodes pages by nodePageSize, its nextLink a GET.
	v.Must(http.MethodPatch, computePath+"cpu", newest, `{"properties":{"properties":{"scaleSettings":{"maxNodeCount":30,"minNodeCount":23}}}}`, http.StatusOK)
	v.Advance(2 * time.Second)
	var ids []string
	page := v.Must(http.MethodPost, computePath+"cpu/listNodes", newest, "", http.StatusOK)
	for {
		for _, n := range page["nodes"].([]any) {
			node := n.(map[string]any)
			if node["nodeState"] != "idle" || node["publicIpAddress"] == nil {
				t.Errorf("node %v", node)
			}
			ids = append(ids, node["nodeId"].(string))
		}
		next, _ := page["nextLink"].(string)
		if next == "" {
			break
		}
		page = v.Must(http.MethodGet, strings.TrimPrefix(next, "https://127.0.0.1:8443"), "", "", http.StatusOK)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	if len(ids) != 23 || len(seen) != 23 {
		t.Errorf("listNodes gave %d nodes (%d distinct), want 23", len(ids), len(seen))
	}

	// DELETE is an Azure-AsyncOperation operation.
	resp, err := v.Serve(http.MethodDelete, computePath+"cpu?underlyingResourceAction=Delete", newest, "")
	if err != nil || resp.Status != http.StatusAccepted || resp.Header.Get("Azure-AsyncOperation") == "" || resp.Header.Get("Location") == "" {
		t.Fatalf("delete: %v %+v", err, resp)
	}
	v.Advance(2 * time.Second)
	v.Fail(http.MethodGet, computePath+"cpu", newest, "", http.StatusNotFound, "ResourceNotFound")
}

func TestComputeInstanceStates(t *testing.T) {
	v := computeEnv(t)
	created := v.computeCreate("ci1", ciBody)
	p, inner := computeProps(created)
	if p["computeType"] != "ComputeInstance" || inner["state"] != "Creating" || p["provisioningState"] != "Creating" {
		t.Errorf("at creation: computeType %v state %v provisioningState %v", p["computeType"], inner["state"], p["provisioningState"])
	}
	state := func() string {
		t.Helper()
		_, inner := computeProps(v.computeGet("ci1"))
		return inner["state"].(string)
	}
	_, inner = computeProps(v.computeGet("ci1"))
	ssh := inner["sshSettings"].(map[string]any)
	by := inner["createdBy"].(map[string]any)
	last := inner["lastOperation"].(map[string]any)
	if inner["state"] != "Running" || ssh["adminUserName"] != "azureuser" || ssh["sshPublicAccess"] != "Disabled" ||
		by["userId"] != "11111111-0000-0000-0000-000000000001" || last["operationName"] != "Create" || last["operationStatus"] != "Succeeded" ||
		len(inner["applications"].([]any)) == 0 || inner["connectivityEndpoints"].(map[string]any)["publicIpAddress"] == nil {
		t.Errorf("running instance: %v", inner)
	}

	// Any action while Creating is refused.
	if _, err := v.Serve(http.MethodPut, computePath+"ci2", newest, ciBody); err != nil {
		t.Fatal(err)
	}
	if ae := v.Fail(http.MethodPost, computePath+"ci2/stop", newest, "", http.StatusConflict, "Conflict"); !strings.Contains(ae.Message, "Creating") {
		t.Errorf("stop while creating: %s", ae.Message)
	}
	v.Fail(http.MethodPost, computePath+"ci1/start", newest, "", http.StatusConflict, "Conflict")

	steps := []struct{ action, during, after string }{
		{"stop", "Stopping", "Stopped"},
		{"start", "Starting", "Running"},
		{"restart", "Restarting", "Running"},
	}
	for _, s := range steps {
		resp, err := v.Serve(http.MethodPost, computePath+"ci1/"+s.action, newest, "")
		if err != nil || resp.Status != http.StatusAccepted || resp.Header.Get("Location") == "" {
			t.Fatalf("%s: %v %+v", s.action, err, resp)
		}
		op := strings.TrimPrefix(resp.Header.Get("Location"), "https://127.0.0.1:8443")
		if got := state(); got != s.during {
			t.Errorf("during %s: state %s, want %s", s.action, got, s.during)
		}
		v.Must(http.MethodGet, op, "", "", http.StatusAccepted)
		v.Advance(2 * time.Second)
		v.Must(http.MethodGet, op, "", "", http.StatusOK)
		if got := state(); got != s.after {
			t.Errorf("after %s: state %s, want %s", s.action, got, s.after)
		}
		nodes := v.Must(http.MethodPost, computePath+"ci1/listNodes", newest, "", http.StatusOK)["nodes"].([]any)
		if want := map[string]int{"Stopped": 0, "Running": 1}[s.after]; len(nodes) != want {
			t.Errorf("after %s: %d nodes, want %d", s.action, len(nodes), want)
		}
	}

	// A PUT update keeps the state and the creator.
	v.Must(http.MethodPut, computePath+"ci1", newest, `{"properties":{"computeType":"ComputeInstance","description":"updated"}}`, http.StatusOK)
	v.Advance(2 * time.Second)
	p, inner = computeProps(v.computeGet("ci1"))
	if p["description"] != "updated" || inner["state"] != "Running" || inner["createdBy"] == nil {
		t.Errorf("after update: %v %v", p, inner)
	}
}

func TestComputeSecretsAndAttach(t *testing.T) {
	v := computeEnv(t)
	vmID := rgPath + "/providers/Microsoft.Compute/virtualMachines/vm1"
	v.computeCreate("vm", `{"properties":{"computeType":"VirtualMachine","resourceId":"`+vmID+`","properties":{"sshPort":22,
		"administratorAccount":{"username":"admin","password":"s3cret!"}}}}`)
	v.computeCreate("aks", `{"properties":{"computeType":"AKS","resourceId":"`+aksID+`"}}`)
	v.computeCreate("dbx", `{"properties":{"computeType":"Databricks","resourceId":"`+rgPath+`/providers/Microsoft.Databricks/workspaces/dbx1","properties":{"databricksAccessToken":"dapi123","workspaceUrl":"https://adb-1.azuredatabricks.net"}}}`)

	p, inner := computeProps(v.computeGet("vm"))
	acct := inner["administratorAccount"].(map[string]any)
	if p["isAttachedCompute"] != true || acct["username"] != "admin" || acct["password"] != nil {
		t.Errorf("GET of a VM compute: attached %v account %v (the password must not show)", p["isAttachedCompute"], acct)
	}
	// A GET-modify-PUT keeps the hidden password.
	v.Must(http.MethodPut, computePath+"vm", newest, `{"properties":{"computeType":"VirtualMachine","resourceId":"`+vmID+`","description":"d","properties":{"sshPort":22,"administratorAccount":{"username":"admin"}}}}`, http.StatusOK)

	var vmKeys armmachinelearning.VirtualMachineSecrets
	decodeInto(t, v.Must(http.MethodPost, computePath+"vm/listKeys", newest, "", http.StatusOK), &vmKeys)
	if *vmKeys.ComputeType != armmachinelearning.ComputeTypeVirtualMachine || *vmKeys.AdministratorAccount.Password != "s3cret!" {
		t.Errorf("VM listKeys = %+v", vmKeys.AdministratorAccount)
	}
	var aksKeys armmachinelearning.AksComputeSecrets
	decodeInto(t, v.Must(http.MethodPost, computePath+"aks/listKeys", newest, "", http.StatusOK), &aksKeys)
	if aksKeys.AdminKubeConfig == nil || !strings.Contains(*aksKeys.AdminKubeConfig, "azmk8s.io") || aksKeys.ImagePullSecretName == nil {
		t.Errorf("AKS listKeys = %+v", aksKeys)
	}
	var dbxKeys armmachinelearning.DatabricksComputeSecrets
	decodeInto(t, v.Must(http.MethodPost, computePath+"dbx/listKeys", newest, "", http.StatusOK), &dbxKeys)
	if dbxKeys.DatabricksAccessToken == nil || *dbxKeys.DatabricksAccessToken != "dapi123" {
		t.Errorf("Databricks listKeys = %+v", dbxKeys)
	}
	if _, inner := computeProps(v.computeGet("dbx")); inner["databricksAccessToken"] != nil {
		t.Errorf("GET shows the Databricks token")
	}

	// The SDK decodes every compute of the list through its union.
	var list armmachinelearning.PaginatedComputeResourcesList
	decodeInto(t, v.Must(http.MethodGet, computeWS+"/computes", newest, "", http.StatusOK), &list)
	if len(list.Value) != 3 {
		t.Fatalf("list = %d computes", len(list.Value))
	}
	if _, ok := list.Value[0].Properties.(*armmachinelearning.AKS); !ok {
		t.Errorf("first compute decodes as %T", list.Value[0].Properties)
	}
	// Detach is allowed for attached computes.
	v.Must(http.MethodDelete, computePath+"vm?underlyingResourceAction=Detach", newest, "", http.StatusAccepted)
}

func decodeInto(t *testing.T, body map[string]any, into any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("the SDK cannot decode %s: %v", b, err)
	}
}

// TestComputesExemptFromLegacyMode: rule L5 does not gate computes.
func TestComputesExemptFromLegacyMode(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("cws", newest, `{"location":"westus","properties":{"v1LegacyMode":true}}`)
	created := v.computeCreate("cpu", amlBody)
	if created["location"] != "westus" {
		t.Errorf("location = %v, want the workspace's westus", created["location"])
	}
	v.Must(http.MethodGet, computeWS+"/computes", newest, "", http.StatusOK)
	v.Must(http.MethodPost, computePath+"cpu/listNodes", newest, "", http.StatusOK)
	// Computes predate v2: an old api-version works too.
	v.Must(http.MethodGet, computePath+"cpu", "2021-07-01", "", http.StatusOK)
	// A v2-only child of the same workspace is refused.
	v.Fail(http.MethodGet, computeWS+"/datastores", newest, "", http.StatusBadRequest, arm.CodeUserError)
}
