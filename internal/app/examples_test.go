package app_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// examplesDir holds the fixtures derived from Azure's REST examples (see
// the README's "Azure's examples as fixtures").
const examplesDir = "../../testdata/azure-examples"

// exampleFixture is one fixture: the request an Azure REST example shows
// and the member paths of its response body.
type exampleFixture struct {
	Source     string            `json:"source"`
	Operation  string            `json:"operation"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	APIVersion string            `json:"apiVersion"`
	Query      map[string]string `json:"query"`
	Body       json.RawMessage   `json:"body"`
	Responses  map[string]struct {
		Members []string `json:"members"`
	} `json:"responses"`

	file string // path under examplesDir
}

// pendingExamples are examples of operations armlet does not serve yet,
// keyed by fixture path, with the reason. The test skips them and fails
// once one passes, so the list stays honest.
var pendingExamples = map[string]string{}

// dependsOnOtherSystem are examples whose outcome depends on a real value
// of another system that armlet does not emulate.
var dependsOnOtherSystem = map[string]string{
	netEx + "VirtualNetworkCreateWithIpamPool.json": "its address space comes from an IPAM pool of an Azure Virtual Network Manager, which armlet does not emulate",
}

func init() {
	for _, f := range []string{"Create", "CreateForManualApproval", "CreateWithASG", "Delete", "Get", "GetForManualApproval", "GetWithASG", "List"} {
		dependsOnOtherSystem[netEx+"PrivateEndpoint"+f+".json"] = "its target is a customer's Private Link Service (privateLinkServices/testPls) behind a load balancer, " +
			"which armlet does not emulate (its private endpoints target armlet's own resources)"
	}
}

// stricterThanAzure are examples armlet refuses on purpose, with why.
var stricterThanAzure = map[string]string{
	ml + "Compute/start.json": "armlet answers 409 to start a compute instance that is Running (it is, once created); " +
		"whether Azure refuses or ignores it is not documented",
}

// unfaithfulExamples are examples Azure itself would not answer as shown:
// their request holds a placeholder Azure refuses and the replay cannot
// stand in for, or their response shows members that neither the request
// nor the sibling createOrUpdate example sets (armlet answers what was
// sent). The test skips them and fails once one passes.
var unfaithfulExamples = map[string]string{}

// systemAssignedWithUAI is why the examples whose identity is
// SystemAssigned with user-assigned identities are unfaithful.
const systemAssignedWithUAI = "its identity is type SystemAssigned yet lists a user-assigned identity \"string\" (not an ARM ID; the replay drops it), " +
	"and the response shows it with clientId and principalId: ARM, as armlet, takes userAssignedIdentities only with the types UserAssigned " +
	"and SystemAssigned,UserAssigned, so no request Azure accepts gives that answer"

func init() {
	notSent := func(members string, files ...string) {
		for _, f := range files {
			unfaithfulExamples[f] = "the response shows " + members + ", which the request does not set"
		}
	}
	// The read examples of these (a GET) are replayed on the resource
	// they presume (presumed); a create cannot be.
	notSent("properties.properties.subnet", ml+"Compute/createOrUpdate/AmlCompute.json")
	notSent("properties.properties.extensionInstanceReleaseTrain", ml+"Compute/createOrUpdate/KubernetesCompute.json")
	notSent("delegations and purpose", netEx+"SubnetCreateWithDelegation.json")
	notSent("sharingScope and defaultOutboundAccess", netEx+"SubnetCreateWithSharingScope.json")
	notSent("defaultPublicNatGateway (a NAT gateway Azure attaches; armlet has none) and dhcpOptions",
		netEx+"VirtualNetworkGet.json", netEx+"VirtualNetworkList.json", netEx+"VirtualNetworkListAll.json")
	for _, f := range []string{"OnlineDeployment/ManagedOnlineDeployment/createOrUpdate.json", "OnlineDeployment/ManagedOnlineDeployment/get.json",
		"OnlineDeployment/ManagedOnlineDeployment/update.json", "Workspace/BatchDeployment/createOrUpdate.json", "Workspace/BatchDeployment/get.json",
		"Workspace/BatchDeployment/list.json", "Workspace/BatchDeployment/update.json", "Workspace/OnlineEndpoint/createOrUpdate.json",
		"Workspace/OnlineEndpoint/get.json", "Workspace/OnlineEndpoint/list.json", "Workspace/OnlineEndpoint/update.json",
		"OnlineDeployment/KubernetesOnlineDeployment/createOrUpdate.json", "OnlineDeployment/KubernetesOnlineDeployment/get.json",
		"OnlineDeployment/KubernetesOnlineDeployment/update.json", "OnlineDeployment/list.json"} {
		unfaithfulExamples[ml+f] = systemAssignedWithUAI
	}
	for _, f := range []string{"createOrUpdate", "get", "list", "update"} {
		unfaithfulExamples[ml+"Workspace/BatchEndpoint/"+f+".json"] = "its batch endpoint has authMode AMLToken (Azure's batch endpoints take only AADToken, " +
			"documented, as armlet), and " + systemAssignedWithUAI
	}
	unfaithfulExamples[ml+"Job/delete.json"] = "the job's name is a placeholder URL (http://subscriptions/{subscriptionId}/...), not a job name"
	for _, f := range []string{"createOrUpdate", "delete", "get"} {
		unfaithfulExamples[ml+"PrivateEndpointConnection/"+f+".json"] = "its path names the connection by the placeholder {privateEndpointConnectionName}, " +
			"and a connection's name is the one Azure gives it when a private endpoint targets the workspace: no connection can have that name"
	}
}

func init() {
	placeholderConnections := "its registry (the request's, or the one its response shows) has identity type None yet user-assigned identities " +
		"with clientId and principalId, which ARM refuses (they need a type with UserAssigned), and registryPrivateEndpointConnections whose " +
		"values are placeholders (\"string\"): a registry's connections are made by private endpoints, with names Azure gives them"
	for _, f := range []string{"createOrUpdate-SystemCreated", "createOrUpdate-UserCreated", "get-SystemCreated", "get-UserCreated",
		"list-SystemCreated", "list-UserCreated", "listBySubscription", "removeRegions", "update-SystemCreated", "update-UserCreated"} {
		unfaithfulExamples[ml+"Registries/"+f+".json"] = placeholderConnections
	}
	uaiServerless := systemAssignedWithUAI + "; it also shows a marketplaceSubscriptionId, which armlet shows only when the workspace has a marketplace subscription for the model"
	for _, f := range []string{"createOrUpdate", "get", "list", "update"} {
		unfaithfulExamples[ml+"Workspace/ServerlessEndpoint/"+f+".json"] = uaiServerless
	}
	for _, f := range []string{"createOrGetStartPendingUpload", "createOrUpdate", "delete", "get", "registryList"} {
		stricterThanAzure[ml+"Registry/DataVersionBase/"+f+".json"] = "the example's data container holds uri_folder data and its version " +
			"mltable; armlet refuses a version of another dataType than its container (whether Azure does is not documented)"
	}
	dependsOnOtherSystem[ml+"Feature/get.json"] = "a featureset's features come from its specification folder in storage, which armlet cannot read " +
		"(armlet takes them from the version's azureml.feature.* properties; the example's version declares none)"
}

// loadExampleFixtures reads every fixture under examplesDir.
func loadExampleFixtures(t *testing.T) []*exampleFixture {
	t.Helper()
	var out []*exampleFixture
	err := fs.WalkDir(os.DirFS(examplesDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(filepath.Join(examplesDir, p))
		if err != nil {
			return err
		}
		f := &exampleFixture{file: p}
		if err := json.Unmarshal(b, f); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 250 {
		t.Fatalf("found %d fixtures under %s, want the whole set", len(out), examplesDir)
	}
	return out
}

// exPath is a fixture's path split into its ARM parts.
type exPath struct {
	group    string   // the resource group, "" at subscription scope
	provider string   // "Microsoft.X"
	types    []string // the type segments: workspaces, computes, ...
	names    []string // the names, one per type; one fewer for a collection
	action   string   // a trailing POST action, if any
}

func parseExPath(p string) exPath {
	seg := strings.Split(strings.Trim(p, "/"), "/")
	var e exPath
	i := 2
	if len(seg) > 3 && strings.EqualFold(seg[2], "resourceGroups") {
		e.group = seg[3]
		i = 4
	}
	if i+1 < len(seg) && seg[i] == "providers" {
		e.provider = seg[i+1]
		i += 2
	}
	rest := seg[i:]
	for j := 0; j < len(rest); j += 2 {
		e.types = append(e.types, rest[j])
		if j+1 < len(rest) {
			e.names = append(e.names, rest[j+1])
		}
	}
	return e
}

// typeKey is the resource type, such as
// "Microsoft.MachineLearningServices/workspaces/computes".
func (e exPath) typeKey(n int) string {
	return e.provider + "/" + strings.Join(e.types[:n], "/")
}

// resourceURL is the path of the resource of the first n types.
func (e exPath) resourceURL(sub string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "/subscriptions/%s/resourceGroups/%s/providers/%s", sub, e.group, e.provider)
	for i := 0; i < n; i++ {
		b.WriteString("/" + e.types[i] + "/" + e.names[i])
	}
	return b.String()
}

// minimalBodies create the resources examples only reference or nest
// under, keyed by type (lower case), with their api-versions. Types with
// none here are created from their example's createOrUpdate fixture.
var minimalBodies = map[string][2]string{
	"microsoft.machinelearningservices/workspaces": {"2024-04-01", `{"location":"eastus","properties":{}}`},
	"microsoft.machinelearningservices/workspaces/computes": {"2024-04-01",
		`{"location":"eastus","properties":{"computeType":"AmlCompute","properties":{"vmSize":"STANDARD_NC6","scaleSettings":{"maxNodeCount":1}}}}`},
	"microsoft.machinelearningservices/workspaces/codes":                       {"2024-04-01", `{"properties":{}}`},
	"microsoft.machinelearningservices/workspaces/components":                  {"2024-04-01", `{"properties":{}}`},
	"microsoft.machinelearningservices/workspaces/data":                        {"2024-04-01", `{"properties":{"dataType":"uri_file"}}`},
	"microsoft.machinelearningservices/workspaces/environments":                {"2024-04-01", `{"properties":{}}`},
	"microsoft.machinelearningservices/workspaces/models":                      {"2024-04-01", `{"properties":{}}`},
	"microsoft.machinelearningservices/workspaces/onlineendpoints":             {"2024-04-01", `{"location":"eastus","properties":{"authMode":"Key"}}`},
	"microsoft.machinelearningservices/workspaces/batchendpoints":              {"2024-04-01", `{"location":"eastus","properties":{"authMode":"AADToken"}}`},
	"microsoft.storage/storageaccounts":                                        {"2023-05-01", `{"location":"eastus","kind":"StorageV2","sku":{"name":"Standard_LRS"}}`},
	"microsoft.keyvault/vaults":                                                {"2023-07-01", `{"location":"eastus","properties":{"tenantId":"{tenant}","sku":{"family":"A","name":"standard"}}}`},
	"microsoft.insights/components":                                            {"2020-02-02", `{"location":"eastus","kind":"web","properties":{"Application_Type":"web"}}`},
	"microsoft.containerregistry/registries":                                   {"2023-07-01", `{"location":"eastus","sku":{"name":"Premium"}}`},
	"microsoft.managedidentity/userassignedidentities":                         {"2023-01-31", `{"location":"eastus"}`},
	"microsoft.network/virtualnetworks":                                        {"2024-05-01", `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/8","192.168.0.0/16"]}}}`},
	"microsoft.network/virtualnetworks/subnets":                                {"2024-05-01", `{"properties":{"addressPrefix":"{subnetPrefix}"}}`},
	"microsoft.operationalinsights/workspaces":                                 {"2022-10-01", `{"location":"eastus"}`},
	"microsoft.network/networksecuritygroups":                                  {"2024-05-01", `{"location":"eastus"}`},
	"microsoft.network/routetables":                                            {"2024-05-01", `{"location":"eastus"}`},
	"microsoft.network/applicationsecuritygroups":                              {"2024-05-01", `{"location":"eastus"}`},
	"microsoft.network/privatednszones":                                        {"2020-06-01", `{"location":"global"}`},
	"microsoft.machinelearningservices/registries":                             {"2024-04-01", `{"location":"eastus","properties":{"regionDetails":[{"location":"eastus"}]}}`},
	"microsoft.machinelearningservices/workspaces/onlineendpoints/deployments": {"", ""},
}

// createFrom names, for examples whose resource the sibling rule does not
// pick well, the createOrUpdate fixture (under examplesDir) that makes it.
var createFrom = map[string]string{
	ml + "Compute/listKeys.json":  ml + "Compute/createOrUpdate/BasicAKSCompute.json",
	ml + "Compute/start.json":     ml + "Compute/createOrUpdate/ComputeInstance.json",
	ml + "Compute/stop.json":      ml + "Compute/createOrUpdate/ComputeInstance.json",
	ml + "Compute/restart.json":   ml + "Compute/createOrUpdate/ComputeInstance.json",
	ml + "Compute/patch.json":     ml + "Compute/createOrUpdate/AmlCompute.json",
	ml + "Compute/listNodes.json": ml + "Compute/createOrUpdate/BasicAmlCompute.json",
}

// createBodies are bodies (api-version, body) of the resource of examples
// whose response shows a variant no createOrUpdate fixture makes.
var createBodies = map[string][2]string{
	// A registry as the delete example presumes it (the createOrUpdate
	// examples hold placeholder connections no registry can have).
	ml + "Registries/delete.json": minimalBodies["microsoft.machinelearningservices/registries"],
	ml + "WorkspaceConnection/listSecrets.json": {"2024-04-01", `{"properties":{"authType":"AccessKey","category":"ADLSGen2",
		"target":"https://x.dfs.core.windows.net","expiryTime":"2030-01-01T00:00:00Z","metadata":{"k":"v"},
		"credentials":{"accessKeyId":"id","secretAccessKey":"secret"}}}`},
}

// presumed are the resources that examples presume, keyed by the
// example, where no createOrUpdate example makes them as presumed: the
// response shows members none sets (a subnet's delegation, a compute's
// description), or the createOrUpdate's body holds what Azure refuses (a
// batch endpoint's AMLToken). The replay makes the resource from the
// createOrUpdate fixture from with patch (a JSON merge patch) merged in.
// The example's own request is unchanged.
var presumed = map[string]struct{ from, patch string }{
	ml + "Compute/get/ComputeInstance.json": {ml + "Compute/createOrUpdate/ComputeInstance.json", `{"properties":{"description":"some compute"}}`},
	ml + "Compute/get/AmlCompute.json": {ml + "Compute/createOrUpdate/AmlCompute.json",
		`{"properties":{"properties":{"subnet":{"id":"test-subnet-resource-id"}}}}`},
	ml + "Compute/get/KubernetesCompute.json": {ml + "Compute/createOrUpdate/KubernetesCompute.json",
		`{"properties":{"properties":{"extensionInstanceReleaseTrain":"stable"}}}`},
	ml + "Workspace/get.json": {ml + "Workspace/create.json", `{"properties":{"imageBuildCompute":"testcompute"}}`},
	netEx + "SubnetGetWithDelegation.json": {netEx + "SubnetCreateWithDelegation.json",
		`{"properties":{"delegations":[{"name":"myDelegation","properties":{"serviceName":"Microsoft.Sql/managedInstances"}}]}}`},
	netEx + "SubnetGetWithSharingScope.json": {netEx + "SubnetCreateWithSharingScope.json",
		`{"properties":{"sharingScope":"Tenant","defaultOutboundAccess":false}}`},
	// A batch endpoint as Azure takes it (AADToken, the only authMode its
	// batch endpoints have), where the example shows AMLToken, and without
	// the default deployment "string" (none exists).
	ml + "Workspace/BatchEndpoint/delete.json":   {ml + "Workspace/BatchEndpoint/createOrUpdate.json", batchEndpointAuth},
	ml + "Workspace/BatchEndpoint/listKeys.json": {ml + "Workspace/BatchEndpoint/createOrUpdate.json", batchEndpointAuth},
}

// batchEndpointAuth is the authMode Azure's batch endpoints take.
const batchEndpointAuth = `{"properties":{"authMode":"AADToken","defaults":null}}`

// mergePatch applies the JSON merge patch (RFC 7386) patch to doc.
func mergePatch(doc, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	d, ok := doc.(map[string]any)
	if !ok {
		d = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(d, k)
		} else {
			d[k] = mergePatch(d[k], v)
		}
	}
	return d
}

// privateEndpointGroups are the examples that presume a private endpoint
// to their resource (a list of its private endpoint connections), with
// the group id it connects to: the replay creates a virtual network and
// the private endpoint before the request, instead of a list item.
var privateEndpointGroups = map[string]string{
	ml + "PrivateEndpointConnection/list.json": "amlworkspace",
}

// ml and netEx are the folders of the fixtures under examplesDir.
const (
	ml    = "machinelearningservices/2024-04-01/"
	netEx = "network/2025-01-01/"
)

// globalName finds the ARM IDs of resources whose names are global
// (DNS names): the replay gives each fixture's its own.
var globalName = regexp.MustCompile(`(?i)(/providers/Microsoft\.(?:KeyVault/vaults|ContainerRegistry/registries|Storage/storageAccounts|MachineLearningServices/registries)/)([^/"]+)`)

// placeholderRegistry is the registry a publish example copies to, named
// by a placeholder; the replay gives it the fixture's own registry.
var placeholderRegistry = regexp.MustCompile(`"registryName": "string"`)

// armIDPattern finds ARM IDs in example bodies.
var armIDPattern = regexp.MustCompile(`(?i)/subscriptions/[^/"]+/resourceGroups/[^/"]+/providers/[^"]+`)

// exampleRun is the state of one fixture's replay.
type exampleRun struct {
	t         *testing.T
	s         *e2e.Armlet
	group     string
	creates   map[string]*exampleFixture // type key (lower) → a createOrUpdate fixture
	made      map[string]bool
	subnets   int
	workspace string
	fixture   string                     // the fixture's file
	byFile    map[string]*exampleFixture // every fixture by file
	self      string                     // the example's resource (lower case), made from its sibling fixture
}

// placeholderValues replace the values "string" that some examples hold
// where Azure itself accepts only a real one, keyed by member name.
var placeholderValues = map[string]string{
	"location":      `"eastus"`,
	"expression":    `"0 * * * *"`,
	"computeId":     `"{compute}"`,
	"environmentId": `"{environment}"`,
	"startTime":     `"2024-05-01T00:00:00"`,
	"endTime":       `"2034-05-01T00:00:00"`,
	"model":         `"{model}"`,
	"assetId":       `"{model}"`,
	"codeId":        `"{code}"`,
	// Registries: an enum (Enabled, Disabled), "string" in the examples.
	"publicNetworkAccess": `"Enabled"`,
}

var placeholderPattern = regexp.MustCompile(`"(location|expression|computeId|environmentId|startTime|endTime|model|assetId|codeId|publicNetworkAccess)": "string"`)

// placeholderTraffic is an endpoint's traffic to a deployment "string",
// which does not exist.
var placeholderTraffic = regexp.MustCompile(`,\s*"traffic": \{\s*"string": 1\s*\}`)

// placeholderCompute is an online endpoint's compute given as "string":
// a managed endpoint has none.
var placeholderCompute = regexp.MustCompile(`\s*"compute": "string",`)

// placeholderIdentities are user-assigned identities named "string" next
// to a type that takes none: Azure's placeholder, not an identity.
var placeholderIdentities = regexp.MustCompile(`,\s*"userAssignedIdentities": \{\s*"string": \{\}\s*\}`)

// canaryLocation is Azure's canary region, which Azure offers only to
// subscriptions allowed in it; the examples that use it are replayed in
// eastus, where an ordinary subscription creates them.
var canaryLocation = regexp.MustCompile(`"location": "eastus2euap"`)

// placeholderSubnet is the subnet the compute examples name by a
// placeholder.
var placeholderSubnet = regexp.MustCompile(`"test-subnet-resource-id"`)

// featureStoreExample reports whether the fixture's workspace must be a
// feature store (its featuresets, entities and features).
func featureStoreExample(fixture string) bool {
	for _, pre := range []string{"Workspace/Featureset", "Workspace/Featurestore", "Feature/"} {
		if strings.HasPrefix(fixture, ml+pre) {
			return true
		}
	}
	return false
}

// placeholders replaces the placeholder values of body.
func placeholders(r *exampleRun, body string) string {
	body = canaryLocation.ReplaceAllString(body, `"location": "eastus"`)
	body = placeholderIdentities.ReplaceAllString(body, "")
	body = placeholderCompute.ReplaceAllString(body, "")
	body = placeholderTraffic.ReplaceAllString(body, "")
	group := r.rewrite("/subscriptions/{subscriptionId}/resourceGroups/x")
	body = placeholderSubnet.ReplaceAllString(body, `"`+group+`/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default"`)
	ws := group + "/providers/Microsoft.MachineLearningServices/workspaces/" + r.workspace
	return placeholderPattern.ReplaceAllStringFunc(body, func(m string) string {
		k := m[1 : strings.Index(m[1:], `"`)+1]
		v := placeholderValues[k]
		switch v {
		case `"{compute}"`:
			v = `"` + ws + `/computes/cpu"`
		case `"{environment}"`:
			v = `"` + ws + `/environments/env/versions/1"`
		case `"{code}"`:
			v = `"` + ws + `/codes/code/versions/1"`
		case `"{model}"`:
			v = `"` + ws + `/models/model/versions/1"`
		}
		return `"` + k + `": ` + v
	})
}

// rewrite points every ARM ID in s at the run's subscription and group.
func (r *exampleRun) rewrite(s string) string {
	sub := r.s.Conn.SubscriptionID
	re := regexp.MustCompile(`(?i)/subscriptions/[^/"]+/resourceGroups/[^/"]+`)
	s = re.ReplaceAllString(s, "/subscriptions/"+sub+"/resourceGroups/"+r.group)
	s = globalName.ReplaceAllStringFunc(s, func(m string) string {
		g := globalName.FindStringSubmatch(m)
		name := strings.Map(func(c rune) rune {
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				return c
			}
			return -1
		}, strings.ToLower(g[2]))
		if len(name) > 15 {
			name = name[:15]
		}
		if strings.HasSuffix(name, r.group) {
			return m
		}
		return g[1] + name + r.group
	})
	return strings.ReplaceAll(s, "{subscriptionId}", sub)
}

// send sends method path?api-version=v with body, follows a long-running
// operation to its end and returns the first status and the final body.
func (r *exampleRun) send(method, path, version string, query map[string]string, body string) (int, string, error) {
	q := url.Values{"api-version": {version}}
	for k, v := range query {
		q.Set(k, v)
	}
	code, h, b := r.s.Do(r.t, method, path+"?"+q.Encode(), body, nil)
	if code >= 300 {
		return code, b, fmt.Errorf("%s %s: %d %s", method, path, code, b)
	}
	if code == http.StatusCreated || code == http.StatusAccepted {
		final, err := r.follow(h, method)
		if err != nil {
			return code, b, err
		}
		switch {
		case method == http.MethodPut || method == http.MethodPatch:
			c, _, gb := r.s.Do(r.t, http.MethodGet, path+"?api-version="+version, "", nil)
			if c != http.StatusOK {
				return code, gb, fmt.Errorf("GET after %s: %d %s", method, c, gb)
			}
			b = gb
		case final != "":
			b = final
		}
	}
	return code, b, nil
}

// follow polls a long-running operation's Azure-AsyncOperation or
// Location until it ends; it returns the Location's final body, if any.
func (r *exampleRun) follow(h http.Header, method string) (string, error) {
	if op := h.Get("Azure-AsyncOperation"); op != "" {
		for range 500 {
			c, b := r.s.Get(r.t, op, nil)
			var st struct {
				Status string `json:"status"`
			}
			_ = json.Unmarshal([]byte(b), &st)
			if c != http.StatusOK {
				return "", fmt.Errorf("operation status: %d %s", c, b)
			}
			switch strings.ToLower(st.Status) {
			case "succeeded":
				if loc := h.Get("Location"); loc != "" && method == http.MethodPost {
					_, lb := r.s.Get(r.t, loc, nil)
					return lb, nil
				}
				return "", nil
			case "failed", "canceled":
				return "", fmt.Errorf("operation %s: %s", st.Status, b)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return "", fmt.Errorf("operation did not end")
	}
	if loc := h.Get("Location"); loc != "" {
		for range 500 {
			c, b := r.s.Get(r.t, loc, nil)
			if c != http.StatusAccepted {
				if c >= 300 {
					return "", fmt.Errorf("location: %d %s", c, b)
				}
				return b, nil
			}
			time.Sleep(5 * time.Millisecond)
		}
		return "", fmt.Errorf("location did not end")
	}
	return "", nil
}

// ensure creates the resource at the first n types of p, its parents
// first, unless it exists.
func (r *exampleRun) ensure(p exPath, n int) error {
	sub := r.s.Conn.SubscriptionID
	url := r.s.Conn.SubscriptionID + "|" + strings.ToLower(p.resourceURL(sub, n))
	if r.made[url] {
		return nil
	}
	r.made[url] = true
	for i := 1; i < n; i++ {
		if err := r.ensure(p, i); err != nil {
			return err
		}
	}
	key := strings.ToLower(p.typeKey(n))
	version, body := "", ""
	isSelf := r.self == strings.ToLower(p.resourceURL(sub, n))
	wsID := p.resourceURL(sub, 1)
	switch {
	case key == "microsoft.machinelearningservices/workspaces/onlineendpoints" && !isSelf && kubernetesDeployment(r.fixture):
		// A Kubernetes deployment's endpoint runs on a Kubernetes compute.
		version, body = "2024-04-01", `{"location":"eastus","properties":{"authMode":"Key","compute":"`+wsID+`/computes/k8s"}}`
	case key == "microsoft.machinelearningservices/workspaces/computes" && p.names[n-1] == "k8s":
		version, body = "2024-04-01", `{"properties":{"computeType":"Kubernetes","resourceId":"`+
			"/subscriptions/"+sub+"/resourceGroups/"+r.group+`/providers/Microsoft.ContainerService/managedClusters/aks1","properties":{"namespace":"default"}}}`
	}
	if body != "" {
	} else if key == "microsoft.machinelearningservices/workspaces" && featureStoreExample(r.fixture) {
		version, body = "2024-04-01", `{"location":"eastus","kind":"FeatureStore","properties":{}}`
	} else if key == "microsoft.machinelearningservices/workspaces" && strings.HasPrefix(r.fixture, ml+"ManagedNetwork/") {
		version, body = "2024-04-01", `{"location":"eastus","properties":{"managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound"}}}`
	} else if pr, ok := presumed[r.fixture]; ok && isSelf {
		from := r.byFile[pr.from]
		var doc, patch any
		if err := json.Unmarshal(from.Body, &doc); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(pr.patch), &patch); err != nil {
			return err
		}
		// Indented, as the fixtures are: the placeholder patterns expect "k": "v".
		merged, err := json.MarshalIndent(mergePatch(doc, patch), "", "  ")
		if err != nil {
			return err
		}
		version, body = from.APIVersion, placeholders(r, string(merged))
	} else if cb, ok := createBodies[r.fixture]; ok && isSelf {
		version, body = cb[0], cb[1]
	} else if f := r.byFile[createFrom[r.fixture]]; f != nil && isSelf {
		version, body = f.APIVersion, placeholders(r, string(f.Body))
	} else if f := r.creates[key]; f != nil && isSelf {
		version, body = f.APIVersion, placeholders(r, string(f.Body))
	} else if mb, ok := minimalBodies[key]; ok && mb[0] != "" {
		version, body = mb[0], mb[1]
	} else if f != nil {
		version, body = f.APIVersion, placeholders(r, string(f.Body))
	} else {
		return nil // not a type armlet has or a body we know: the request shows what is missing
	}
	return r.create(p.resourceURL(sub, n), version, body)
}

// create PUTs body (its references created first) at path.
func (r *exampleRun) create(path, version, body string) error {
	body = r.rewrite(body)
	body = strings.ReplaceAll(body, "{tenant}", r.s.Conn.TenantID)
	if strings.Contains(body, "{subnetPrefix}") {
		r.subnets++
		body = strings.ReplaceAll(body, "{subnetPrefix}", fmt.Sprintf("10.%d.0.0/16", r.subnets))
	}
	if err := r.references(body, path); err != nil {
		return err
	}
	_, _, err := r.send(http.MethodPut, path, version, nil, body)
	return err
}

// privateEndpointTo creates a virtual network and a private endpoint in
// it to target's group, which then shows the endpoint's connection.
func (r *exampleRun) privateEndpointTo(target, group string) error {
	const network = "2025-01-01"
	vnet := "/subscriptions/" + r.s.Conn.SubscriptionID + "/resourceGroups/" + r.group + "/providers/Microsoft.Network/virtualNetworks/pe-vnet"
	if err := r.create(vnet, network, `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},
		"subnets":[{"name":"default","properties":{"addressPrefix":"10.0.0.0/24"}}]}}`); err != nil {
		return err
	}
	return r.create(strings.Replace(vnet, "virtualNetworks/pe-vnet", "privateEndpoints/pe", 1), network,
		`{"location":"eastus","properties":{"subnet":{"id":"`+vnet+`/subnets/default"},
		"privateLinkServiceConnections":[{"name":"pe","properties":{"privateLinkServiceId":"`+target+`","groupIds":["`+group+`"],"requestMessage":"please approve"}}]}}`)
}

// references creates the resources body names by ARM ID, except self.
func (r *exampleRun) references(body, self string) error {
	for _, id := range armIDPattern.FindAllString(body, -1) {
		p := parseExPath(id)
		n := len(p.names)
		if n == 0 || n < len(p.types) || strings.HasPrefix(strings.ToLower(self), strings.ToLower(p.resourceURL(r.s.Conn.SubscriptionID, n))) {
			continue
		}
		// A reference armlet cannot create (such as a storage account
		// name Azure's rules refuse) is left out: the request then shows
		// whether armlet needs it.
		if err := r.ensure(p, n); err != nil {
			r.t.Logf("reference %s not created: %v", id, err)
		}
	}
	return nil
}

// TestAzureExamples replays every fixture of examplesDir against one
// armlet, each in its own resource group: it creates the prerequisites,
// sends the example's request, follows a long-running operation, then
// checks the status is documented and the response carries every member
// of the example's response.
func TestAzureExamples(t *testing.T) {
	fixtures := loadExampleFixtures(t)
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.OperationDuration = 5 * time.Millisecond }))
	creates := map[string][]*exampleFixture{}
	byFile := map[string]*exampleFixture{}
	for _, f := range fixtures {
		byFile[f.file] = f
		if f.Method == http.MethodPut {
			p := parseExPath(f.Path)
			if len(p.names) == len(p.types) && len(p.types) > 0 {
				k := strings.ToLower(p.typeKey(len(p.types)))
				creates[k] = append(creates[k], f)
			}
		}
	}
	for k := range dependsOnOtherSystem {
		if _, ok := pendingExamples[k]; ok {
			t.Errorf("%s is both pending and depends on another system", k)
		}
	}
	var mu sync.Mutex
	var passed, failed int
	var sem = make(chan struct{}, 4)
	replay := func(t *testing.T, i int, f *exampleFixture) {
		if reason, ok := dependsOnOtherSystem[f.file]; ok {
			t.Skip("depends on another system: " + reason)
		}
		sem <- struct{}{}
		defer func() { <-sem }()
		err := replayExample(t, s, f, fmt.Sprintf("ex%03d", i), creates, byFile)
		reason, pending := pendingExamples[f.file]
		stricter, strict := stricterThanAzure[f.file]
		flaw, unfaithful := unfaithfulExamples[f.file]
		mu.Lock()
		if err == nil {
			passed++
		} else {
			failed++
		}
		mu.Unlock()
		switch {
		case err == nil && pending:
			t.Errorf("now passes: remove it from pendingExamples (%s)", reason)
		case err == nil && strict:
			t.Errorf("now passes: remove it from stricterThanAzure (%s)", stricter)
		case err == nil && unfaithful:
			t.Errorf("now passes: remove it from unfaithfulExamples (%s)", flaw)
		case err != nil && unfaithful:
			t.Skipf("unfaithful example (%s): %v", flaw, err)
		case err != nil && pending:
			t.Skipf("pending (%s): %v", reason, err)
		case err != nil && strict:
			t.Skipf("stricter than Azure (%s): %v", stricter, err)
		case err != nil:
			t.Errorf("%s\n%v", f.Source, err)
		}
	}
	// Examples below a resource group run in parallel, each in its own
	// group; those at subscription scope (lists of every registry or
	// workspace, usages, quotas) see what the others made, so they run
	// after them, one at a time, for an outcome that does not depend on
	// timing.
	subscriptionScope := func(f *exampleFixture) bool { return parseExPath(f.Path).group == "" }
	t.Run("fixtures", func(t *testing.T) {
		for i, f := range fixtures {
			if !subscriptionScope(f) {
				t.Run(f.file, func(t *testing.T) {
					t.Parallel()
					replay(t, i, f)
				})
			}
		}
	})
	t.Run("subscription", func(t *testing.T) {
		for i, f := range fixtures {
			if subscriptionScope(f) {
				t.Run(f.file, func(t *testing.T) { replay(t, i, f) })
			}
		}
	})
	t.Logf("%d fixtures: %d pass, %d do not (pending %d, depends %d, stricter %d, unfaithful %d)",
		len(fixtures), passed, failed, len(pendingExamples), len(dependsOnOtherSystem), len(stricterThanAzure), len(unfaithfulExamples))
}

// replayExample replays f in resource group group.
func replayExample(t *testing.T, s *e2e.Armlet, f *exampleFixture, group string, creates map[string][]*exampleFixture, byFile map[string]*exampleFixture) error {
	r := &exampleRun{t: t, s: s, group: group, made: map[string]bool{}, creates: map[string]*exampleFixture{}, fixture: f.file, byFile: byFile}
	for k, fs := range creates {
		r.creates[k] = siblingCreate(f, fs)
	}
	if code, _, b := s.Do(t, http.MethodPut, "/subscriptions/"+s.Conn.SubscriptionID+"/resourceGroups/"+group+"?api-version=2021-04-01", `{"location":"eastus"}`, nil); code >= 300 {
		return fmt.Errorf("resource group: %d %s", code, b)
	}
	path := r.rewrite(f.Path)
	if p := parseExPath(path); p.group != "" {
		path = strings.Replace(path, "/resourceGroups/"+p.group, "/resourceGroups/"+group, 1)
	}
	p := parseExPath(path)
	n := len(p.names)
	self := n == len(p.types) && n > 0
	if self || (f.Method == http.MethodPost && n > 0) {
		// The resource itself, or the one a POST action acts on.
		r.self = strings.ToLower(p.resourceURL(s.Conn.SubscriptionID, n))
	}
	if len(p.names) > 0 && p.types[0] == "workspaces" {
		r.workspace = p.names[0]
	}
	query := map[string]string{}
	for k, v := range f.Query {
		if v != "string" { // a placeholder, not a value Azure takes
			query[k] = v
		}
	}
	// Parents, then the resource itself unless the example creates it.
	upTo := n
	if self && f.Method == http.MethodPut {
		upTo = n - 1
	}
	if p.group != "" && p.provider != "" {
		for i := 1; i <= upTo; i++ {
			if err := r.ensure(p, i); err != nil {
				return fmt.Errorf("prerequisite: %w", err)
			}
		}
		group, toEndpoint := privateEndpointGroups[f.file]
		if toEndpoint {
			if err := r.privateEndpointTo(p.resourceURL(s.Conn.SubscriptionID, n), group); err != nil {
				return fmt.Errorf("prerequisite: private endpoint: %w", err)
			}
		}
		// A list gets one item, from its type's createOrUpdate fixture,
		// so that its page shows the members of an item.
		if f.Method == http.MethodGet && len(p.names) == len(p.types)-1 && !toEndpoint {
			if c := r.creates[strings.ToLower(p.typeKey(len(p.types)))]; c != nil {
				item := p
				item.names = append(slices.Clone(p.names), parseExPath(c.Path).names[len(p.types)-1])
				r.self = strings.ToLower(item.resourceURL(s.Conn.SubscriptionID, len(p.types)))
				if err := r.ensure(item, len(p.types)); err != nil {
					return fmt.Errorf("prerequisite: list item: %w", err)
				}
			}
		}
	}
	body := ""
	if len(f.Body) > 0 {
		body = placeholders(r, string(f.Body))
		if placeholderRegistry.MatchString(body) {
			// The registry a publish copies to, created as a reference.
			reg := r.rewrite("/subscriptions/{subscriptionId}/resourceGroups/x/providers/Microsoft.MachineLearningServices/registries/string")
			if err := r.ensure(parseExPath(reg), 1); err != nil {
				return fmt.Errorf("prerequisite: %w", err)
			}
			body = placeholderRegistry.ReplaceAllString(body, `"registryName": "`+parseExPath(reg).names[0]+`"`)
		}
		body = r.rewrite(body)
		if err := r.references(body, path); err != nil {
			return fmt.Errorf("prerequisite: %w", err)
		}
	}
	code, got, err := r.send(f.Method, path, f.APIVersion, query, body)
	if err != nil {
		return err
	}
	if _, ok := f.Responses[fmt.Sprint(code)]; !ok {
		return fmt.Errorf("status %d, documented: %v", code, slices.Sorted(mapKeys(f.Responses)))
	}
	var want []string
	for _, resp := range f.Responses {
		want = append(want, resp.Members...)
	}
	if len(want) == 0 {
		return nil
	}
	var doc any
	if err := json.Unmarshal([]byte(got), &doc); err != nil {
		return fmt.Errorf("response is not JSON: %v: %s", err, got)
	}
	var missing []string
	for _, m := range want {
		if !hasMember(doc, strings.Split(m, ".")) {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("response lacks %s\n%s", strings.Join(missing, ", "), got)
	}
	return nil
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// siblingCreate is the createOrUpdate fixture of fs closest to f: the one
// of f's folder with f's file name, else one of its folder, else the first.
func siblingCreate(f *exampleFixture, fs []*exampleFixture) *exampleFixture {
	dir, base := filepath.Dir(f.file), filepath.Base(f.file)
	var best *exampleFixture
	score := -1
	for _, c := range fs {
		sc := 0
		switch cd := filepath.Dir(c.file); {
		case cd == dir:
			sc += 4
		case filepath.Dir(cd) == dir || filepath.Dir(cd) == filepath.Dir(dir):
			sc += 2
		}
		if filepath.Base(c.file) == base || variantName(c.file) == variantName(f.file) {
			sc++
		}
		if sc > score {
			best, score = c, sc
		}
	}
	return best
}

// kubernetesDeployment reports whether fixture f works on a Kubernetes
// online deployment (the sibling of the examples that name no type).
func kubernetesDeployment(f string) bool {
	return strings.Contains(f, "KubernetesOnlineDeployment/") || f == ml+"OnlineDeployment/getLogs.json" ||
		f == ml+"OnlineDeployment/list.json" || f == ml+"Workspace/OnlineDeployment/delete.json"
}

// verbs are the operation words of example file names.
var verbs = regexp.MustCompile(`(Get|Create|Delete|Update|List|All)`)

// variantName is an example file's name without its operation words:
// SubnetGetWithDelegation and SubnetCreateWithDelegation share
// SubnetWithDelegation.
func variantName(file string) string {
	return verbs.ReplaceAllString(strings.TrimSuffix(filepath.Base(file), ".json"), "")
}

// hasMember reports whether doc carries the member path (segments split
// at "."; "x[]" steps into every element of array x, "*" into every value
// of a map). A member under an empty array or map or a null is taken as
// carried: its values differ from the example's, which is allowed.
func hasMember(doc any, path []string) bool {
	if len(path) == 0 {
		return true
	}
	seg := path[0]
	if seg == "*" {
		m, ok := doc.(map[string]any)
		if !ok {
			return false
		}
		if len(m) == 0 {
			return true
		}
		for _, v := range m {
			if hasMember(v, path[1:]) {
				return true
			}
		}
		return false
	}
	arr := strings.HasSuffix(seg, "[]")
	seg = strings.TrimSuffix(seg, "[]")
	if list, ok := doc.([]any); ok {
		// A list response: the member is on some item of value[].
		for _, v := range list {
			if hasMember(v, path) {
				return true
			}
		}
		return len(list) == 0
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return false
	}
	v, ok := obj[seg]
	if !ok {
		return false
	}
	if v == nil {
		return true // a null member: its value differs, its members with it
	}
	if !arr {
		return hasMember(v, path[1:])
	}
	items, ok := v.([]any)
	if !ok {
		return v == nil
	}
	if len(items) == 0 {
		return true
	}
	for _, it := range items {
		if hasMember(it, path[1:]) {
			return true
		}
	}
	return false
}
