package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/hashicorp/go-azure-sdk/sdk/auth"
	gosdkclient "github.com/hashicorp/go-azure-sdk/sdk/client"
	"github.com/hashicorp/go-azure-sdk/sdk/client/resourcemanager"
)

// lroOp is one long-running operation as a client starts it. {n} in its
// path is replaced by the poller's name, so each poller works on its own
// resources.
type lroOp struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Body   string `json:"body,omitempty"`
}

// lroOps are the long-running operations of every kind armlet answers, in
// an order where each finds what it needs: PUT and DELETE in the Location
// style (workspaces, outbound rules, storage accounts, jobs' and
// endpoints' deletes) and in the Azure-AsyncOperation style (computes,
// endpoints, networks, key vaults, registries), the subnet's own
// operation, and actions with a result (provisionManagedNetwork,
// prepareNotebook) and without one (resyncKeys, stop, regenerateKeys,
// cancel, a key vault's purge).
func lroOps(group string) []lroOp {
	ws := group + "/providers/Microsoft.MachineLearningServices/workspaces/lro-ws"
	ml := "?api-version=2024-04-01"
	net := "?api-version=2023-09-01"
	vnet := group + "/providers/Microsoft.Network/virtualNetworks/vnet-{n}"
	job := `{"properties":{"jobType":"Command","command":"python train.py","environmentId":"` + ws + `/environments/train/versions/1","computeId":"` + ws + `/computes/ci-{n}"}}`
	sub := strings.Join(strings.Split(group, "/")[:3], "/")
	return []lroOp{
		{"workspace PUT", "PUT", group + "/providers/Microsoft.MachineLearningServices/workspaces/ws-{n}" + ml, `{"location":"eastus"}`},
		{"workspace DELETE", "DELETE", group + "/providers/Microsoft.MachineLearningServices/workspaces/ws-{n}" + ml, ""},
		{"workspace resyncKeys", "POST", ws + "/resyncKeys" + ml, ""},
		{"workspace prepareNotebook", "POST", ws + "/prepareNotebook" + ml, ""},
		{"workspace provisionManagedNetwork", "POST", ws + "/provisionManagedNetwork" + ml, `{}`},
		{"outbound rule PUT", "PUT", ws + "/outboundRules/rule-{n}" + ml, `{"properties":{"type":"FQDN","destination":"{n}.pypi.org","category":"UserDefined"}}`},
		{"outbound rule DELETE", "DELETE", ws + "/outboundRules/rule-{n}" + ml, ""},
		{"compute PUT", "PUT", ws + "/computes/ci-{n}" + ml, `{"location":"eastus","properties":{"computeType":"ComputeInstance","properties":{"vmSize":"STANDARD_DS3_V2"}}}`},
		{"compute stop", "POST", ws + "/computes/ci-{n}/stop" + ml, ""},
		{"job PUT", "PUT", ws + "/jobs/job-{n}" + ml, job},
		{"job cancel", "POST", ws + "/jobs/job-{n}/cancel" + ml, ""},
		{"job DELETE", "DELETE", ws + "/jobs/job-{n}" + ml, ""},
		{"compute DELETE", "DELETE", ws + "/computes/ci-{n}" + ml + "&underlyingResourceAction=Delete", ""},
		{"online endpoint PUT", "PUT", ws + "/onlineEndpoints/ep-{n}" + ml, `{"location":"eastus","properties":{"authMode":"Key"}}`},
		{"online endpoint regenerateKeys", "POST", ws + "/onlineEndpoints/ep-{n}/regenerateKeys" + ml, `{"keyType":"Primary"}`},
		{"online endpoint DELETE", "DELETE", ws + "/onlineEndpoints/ep-{n}" + ml, ""},
		{"virtual network PUT", "PUT", vnet + net, `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.9.0.0/16"]}}}`},
		{"subnet PUT", "PUT", vnet + "/subnets/s1" + net, `{"properties":{"addressPrefix":"10.9.1.0/24"}}`},
		{"subnet DELETE", "DELETE", vnet + "/subnets/s1" + net, ""},
		{"virtual network DELETE", "DELETE", vnet + net, ""},
		{"storage account PUT", "PUT", group + "/providers/Microsoft.Storage/storageAccounts/lro{n}?api-version=2023-05-01", `{"location":"eastus","kind":"StorageV2","sku":{"name":"Standard_LRS"}}`},
		{"container registry PUT", "PUT", group + "/providers/Microsoft.ContainerRegistry/registries/lro{n}?api-version=2023-07-01", `{"location":"eastus","sku":{"name":"Basic"}}`},
		{"key vault PUT", "PUT", group + "/providers/Microsoft.KeyVault/vaults/lro-{n}?api-version=2023-07-01", `{"location":"eastus","properties":{"tenantId":"{tenant}","sku":{"family":"A","name":"standard"},"enableRbacAuthorization":true}}`},
		{"key vault DELETE", "DELETE", group + "/providers/Microsoft.KeyVault/vaults/lro-{n}?api-version=2023-07-01", ""},
		{"key vault purge", "POST", sub + "/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/lro-{n}/purge?api-version=2023-07-01", ""},
	}
}

// TestLongRunningOperationsWithEveryPoller follows every kind of
// long-running operation armlet answers with the three pollers real
// clients use: azcore's (azure-sdk-for-go and, through the same rules,
// @azure/core-lro), hashicorp/go-azure-sdk's (Terraform's azurerm), and
// azure-mgmt-core's ARMPolling (the Python SDKs, azure-ai-ml and the Azure
// CLI), each driven as its generated clients drive it. Each must end in
// success, never poll forever or fail on an answer's form.
func TestLongRunningOperationsWithEveryPoller(t *testing.T) {
	t.Parallel()
	python, dir := requireAzureAIML(t)
	s := e2e.Start(t)
	group := s.CreateGroup(t, "lro-rg")
	s.CreateWorkspace(t, "lro-rg", "lro-ws", false)
	ws := group + "/providers/Microsoft.MachineLearningServices/workspaces/lro-ws"
	for _, put := range []struct{ path, body string }{
		{ws, `{"location":"eastus","properties":{"managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound"}}}`},
		{ws + "/environments/train/versions/1", `{"properties":{"image":"python:3.11"}}`},
	} {
		if status, _, body := s.Do(t, "PUT", put.path+"?api-version=2024-04-01", put.body, nil); status >= 300 && status != http.StatusAccepted {
			t.Fatalf("PUT %s: %d %s", put.path, status, body)
		}
	}
	e2e.WaitFor(t, "the workspace's update", func() bool {
		_, _, body := s.Do(t, "GET", ws+"?api-version=2024-04-01", "", nil)
		return strings.Contains(body, `"provisioningState":"Succeeded"`)
	})

	ops := func(poller string) []lroOp {
		var out []lroOp
		for _, op := range lroOps(group) {
			r := strings.NewReplacer("{n}", poller, "{tenant}", s.Conn.TenantID)
			out = append(out, lroOp{op.Name, op.Method, r.Replace(op.Path), r.Replace(op.Body)})
		}
		return out
	}
	t.Run("azcore", func(t *testing.T) {
		t.Parallel()
		client, err := azarm.NewClient("armlet-lro-test", "v1.0.0", s.Credential(t), s.ARMOptions())
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range ops("az") {
			if err := pollAzcore(client.Pipeline(), s.Conn.ARMEndpoint, op); err != nil {
				t.Errorf("%s: %v", op.Name, err)
			}
		}
	})
	t.Run("go-azure-sdk", func(t *testing.T) {
		t.Parallel()
		c := &resourcemanager.Client{Client: gosdkclient.NewClient(strings.TrimSuffix(s.Conn.ARMEndpoint, "/"), "armlet", "")}
		c.Client.SetTransport(s.Client.Transport)
		token := s.Token(t)
		c.Client.AuthorizeRequest = func(_ context.Context, r *http.Request, _ auth.Authorizer) error {
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		}
		// The pollers wait 10 s between polls of a resource (its DELETEs,
		// synchronous PUTs); this middleware shortens every wait to 100 ms
		// with the SDK's own header for that.
		c.Client.ResponseMiddlewares = &[]gosdkclient.ResponseMiddleware{
			func(_ *http.Request, resp *http.Response) (*http.Response, error) {
				if resp != nil && resp.Request != nil && resp.Request.Method == http.MethodGet {
					time.Sleep(100 * time.Millisecond)
				}
				if resp != nil {
					resp.Header.Set(gosdkclient.SkipPollingDelayHeader, "true")
				}
				return resp, nil
			},
		}
		for _, op := range ops("go") {
			if err := pollGoAzureSDK(c, op); err != nil {
				t.Errorf("%s: %v", op.Name, err)
			}
		}
	})
	t.Run("azure-mgmt-core", func(t *testing.T) {
		t.Parallel()
		for _, r := range pollPython(t, python, dir, s, ops("py")) {
			if !r.OK {
				t.Errorf("%s: status %q, %s", r.Name, r.Status, r.Error)
			}
		}
	})
}

// pollAzcore sends op through an azcore ARM pipeline and follows the
// answer with runtime.NewPoller, as armmachinelearning's Begin* methods do.
func pollAzcore(pl runtime.Pipeline, endpoint string, op lroOp) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := runtime.NewRequest(ctx, op.Method, strings.TrimSuffix(endpoint, "/")+op.Path)
	if err != nil {
		return err
	}
	if op.Body != "" {
		if err := req.SetBody(streaming.NopCloser(strings.NewReader(op.Body)), "application/json"); err != nil {
			return err
		}
	}
	resp, err := pl.Do(req)
	if err != nil {
		return err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusNoContent) {
		return runtime.NewResponseError(resp)
	}
	poller, err := runtime.NewPoller[json.RawMessage](resp, pl, nil)
	if err != nil {
		return err
	}
	_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 100 * time.Millisecond})
	return err
}

// pollGoAzureSDK sends op with go-azure-sdk's base client and follows the
// answer with resourcemanager.PollerFromResponse, as its generated
// packages' *ThenPoll methods (and so azurerm) do.
func pollGoAzureSDK(c *resourcemanager.Client, op lroOp) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path, query, _ := strings.Cut(op.Path, "?")
	req, err := c.NewRequest(ctx, gosdkclient.RequestOptions{
		ContentType:         "application/json; charset=utf-8",
		ExpectedStatusCodes: []int{http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusNoContent},
		HttpMethod:          op.Method,
		Path:                path,
	})
	if err != nil {
		return err
	}
	req.URL.RawQuery = query
	if op.Body != "" {
		var v any
		if err := json.Unmarshal([]byte(op.Body), &v); err != nil {
			return err
		}
		if err := req.Marshal(v); err != nil {
			return err
		}
	}
	resp, err := req.Execute(ctx)
	if err != nil {
		return err
	}
	poller, err := resourcemanager.PollerFromResponse(resp, c)
	if err != nil {
		return err
	}
	return poller.PollUntilDone(ctx)
}

// pyLRO is one line of testdata/python/lro.py's output.
type pyLRO struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Status string `json:"status"`
	Error  string `json:"error"`
}

// pollPython runs testdata/python/lro.py over ops.
func pollPython(t *testing.T, python, dir string, s *e2e.Armlet, ops []lroOp) []pyLRO {
	t.Helper()
	in, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join(dir, "lro.py"))
	cmd.Env = append(append(os.Environ(), s.ClientEnv()...),
		"ARMLET_TOKEN="+s.Token(t), "REQUESTS_CA_BUNDLE="+s.Conn.CACertificate, "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lro.py: %v\n%s", err, stderr.String())
	}
	var results []pyLRO
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r pyLRO
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("lro.py printed %q: %v", sc.Text(), err)
		}
		results = append(results, r)
	}
	if len(results) != len(ops) {
		t.Fatalf("lro.py answered %d of %d operations:\n%s\n%s", len(results), len(ops), out, stderr.String())
	}
	return results
}

// TestRetryAfterOverTLS: the Retry-After of a long-running operation, as a
// client sees it over armlet's TLS listener, on the 202 that starts it and
// on the operation's URL while it is in progress (the Location style's
// operationResults answers 202; the Azure-AsyncOperation style's
// operationStatuses answers 200 with status InProgress). Operations take a
// minute here, so each poll finds them in progress; Retry-After is whole
// seconds, at least 1 and at most the time left.
func TestRetryAfterOverTLS(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.OperationDuration = time.Minute }))
	group := s.CreateGroup(t, "retry")
	retryAfter := func(t *testing.T, what string, h http.Header) {
		t.Helper()
		v := h.Get("Retry-After")
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 60 {
			t.Errorf("%s: Retry-After %q, want whole seconds from 1 to 60", what, v)
		}
	}
	for _, c := range []struct {
		name, path, body string
		start            int    // the status that starts the operation
		header           string // the header naming the operation's URL
		poll             int    // the status of that URL in progress
	}{
		{"Location style", group + "/providers/Microsoft.Storage/storageAccounts/retry1?api-version=2023-05-01",
			`{"location":"eastus","kind":"StorageV2","sku":{"name":"Standard_LRS"}}`, http.StatusAccepted, "Location", http.StatusAccepted},
		{"Azure-AsyncOperation style", group + "/providers/Microsoft.Network/virtualNetworks/retry1?api-version=2023-09-01",
			`{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.9.0.0/16"]}}}`, http.StatusCreated, "Azure-AsyncOperation", http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, h, body := s.Do(t, http.MethodPut, c.path, c.body, nil)
			if st != c.start {
				t.Fatalf("PUT: %d %s, want %d", st, body, c.start)
			}
			retryAfter(t, "PUT", h)
			op := h.Get(c.header)
			if !strings.HasPrefix(op, s.Conn.ARMEndpoint) {
				t.Fatalf("%s %q is not under %s", c.header, op, s.Conn.ARMEndpoint)
			}
			st, h, body = s.Do(t, http.MethodGet, "/"+strings.TrimPrefix(strings.TrimPrefix(op, s.Conn.ARMEndpoint), "/"), "", nil)
			if st != c.poll {
				t.Fatalf("GET %s: %d %s, want %d", op, st, body, c.poll)
			}
			if c.poll == http.StatusOK {
				var status struct{ Status string }
				if err := json.Unmarshal([]byte(body), &status); err != nil || status.Status != "InProgress" {
					t.Fatalf("GET %s: %s, want status InProgress", op, body)
				}
			}
			retryAfter(t, "GET "+c.header, h)
		})
	}
}
