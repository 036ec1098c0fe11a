package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/netmodel"
)

// nmEndpoints is a fake network provider: the approved endpoints a test
// sets.
type nmEndpoints struct {
	mu  sync.Mutex
	eps []netmodel.Endpoint
}

func (f *nmEndpoints) set(eps ...netmodel.Endpoint) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eps = eps
}

func (f *nmEndpoints) source(context.Context) ([]netmodel.Endpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.eps), nil
}

// nmStart is startArmlet with app options.
func nmStart(t *testing.T, opts ...app.Option) *testServer {
	t.Helper()
	return startArmletWith(t, opts)
}

func nmID(t *testing.T, s string) resourceid.ID {
	t.Helper()
	id, err := resourceid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// nmWaitEndpoints polls the admin API until n listeners are listed.
func nmWaitEndpoints(t *testing.T, s *testServer, n int) []netmodel.Listening {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _, body := s.do(t, "GET", "/_armlet/network/endpoints", "", nil)
		var out struct{ Value []netmodel.Listening }
		if code != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
			t.Fatalf("GET /_armlet/network/endpoints = %d %s", code, body)
		}
		if len(out.Value) == n {
			return out.Value
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d listeners, want %d: %s", len(out.Value), n, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// nmFlows reads flow records through the admin API.
func nmFlows(t *testing.T, s *testServer, query string) ([]netmodel.Flow, string) {
	t.Helper()
	code, _, body := s.do(t, "GET", "/_armlet/flows"+query, "", nil)
	var out struct{ Value []netmodel.Flow }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("GET /_armlet/flows%s = %d %s", query, code, body)
	}
	return out.Value, body
}

// nmGet sends a GET with the bootstrap token to any listener.
func nmGet(t *testing.T, s *testServer, url string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+s.token(t))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if h := header["Host"]; h != "" {
		req.Host = h
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestNetmodelOriginByArrival drives private ARM and a workspace private
// endpoint through their own loopback listeners, with the network
// provider replaced by a fake that approves two endpoints.
func TestNetmodelOriginByArrival(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := &nmEndpoints{}
	var publicDisabled atomic.Bool
	s := nmStart(t, app.WithEndpointSource(fake.source), app.WithPublicARMCheck(
		func(ctx context.Context, tenantID string) (bool, error, error) {
			return publicDisabled.Load(), nil, nil
		}))
	sub := s.conn.SubscriptionID
	wsID := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	rmPE := netmodel.Endpoint{
		ID:        nmID(t, "/subscriptions/"+sub+"/resourceGroups/net/providers/Microsoft.Network/privateEndpoints/pe-arm"),
		PrivateIP: "10.1.0.4", GroupID: "ResourceManagement",
		TargetID: nmID(t, "/subscriptions/"+sub+"/resourceGroups/net/providers/Microsoft.Authorization/resourceManagementPrivateLinks/rmpl"),
	}
	wsPE := netmodel.Endpoint{
		ID:        nmID(t, "/subscriptions/"+sub+"/resourceGroups/net/providers/Microsoft.Network/privateEndpoints/pe-ws"),
		PrivateIP: "10.1.0.5", GroupID: "amlworkspace", TargetID: nmID(t, wsID),
	}
	fake.set(rmPE, wsPE)
	ls := nmWaitEndpoints(t, s, 2)
	if ls[0].PrivateEndpointID != rmPE.ID.String() || ls[0].PrivateIP != "10.1.0.4" || ls[0].GroupID != "ResourceManagement" ||
		ls[0].TargetResourceID != rmPE.TargetID.String() || !strings.HasPrefix(ls[0].Address, "127.77.") ||
		ls[1].PrivateEndpointID != wsPE.ID.String() || ls[1].Address == ls[0].Address {
		t.Fatalf("listeners = %+v", ls)
	}
	armAddr, wsAddr := ls[0].Address, ls[1].Address

	// The unmodified Go SDK, pointed at the private ARM listener (tokens
	// still come from the main endpoint's token service).
	cred := s.credential(t, s.conn.ClientID, s.conn.ClientSecret)
	private := &arm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: cloud.Configuration{
			ActiveDirectoryAuthorityHost: s.conn.LoginEndpoint,
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: "https://" + armAddr, Audience: s.conn.Audience},
			},
		},
		Transport: s.client, Retry: policy.RetryOptions{MaxRetries: -1},
	}}
	groups, err := armresources.NewResourceGroupsClient(sub, cred, private)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, "rg", armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatalf("create resource group through private ARM: %v", err)
	}
	workspaces, err := armmachinelearning.NewWorkspacesClient(sub, cred, private)
	if err != nil {
		t.Fatal(err)
	}
	p, err := workspaces.BeginCreateOrUpdate(ctx, "rg", "ws1", armmachinelearning.Workspace{
		Location: to.Ptr("eastus"), Properties: &armmachinelearning.WorkspaceProperties{V1LegacyMode: to.Ptr(false)},
	}, nil)
	if err != nil {
		t.Fatalf("begin create workspace through private ARM: %v", err)
	}
	if _, err := p.PollUntilDone(ctx, fastPoll); err != nil {
		t.Fatalf("create workspace through private ARM: %v", err)
	}
	// A connection with a secret, over public ARM.
	connections, err := armmachinelearning.NewWorkspaceConnectionsClient(sub, cred, s.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := connections.Create(ctx, "rg", "ws1", "github", armmachinelearning.WorkspaceConnectionPropertiesV2BasicResource{
		Properties: &armmachinelearning.PATAuthTypeWorkspaceConnectionProperties{
			AuthType: to.Ptr(armmachinelearning.ConnectionAuthTypePAT), Category: to.Ptr(armmachinelearning.ConnectionCategoryGit),
			Target: to.Ptr("https://github.com/org/repo"), Credentials: &armmachinelearning.WorkspaceConnectionPersonalAccessToken{Pat: to.Ptr("pat-secret-42")},
		}}, nil); err != nil {
		t.Fatalf("create connection: %v", err)
	}

	// The workspace endpoint's listener serves only workspace paths.
	code, body := nmGet(t, s, "https://"+wsAddr+wsID+"?api-version=2024-04-01", nil)
	if code != http.StatusNotFound || !strings.Contains(body, "reaches only the workspace endpoint") || !strings.Contains(body, wsPE.ID.String()) {
		t.Errorf("ARM through the workspace endpoint = %d %s", code, body)
	}
	runs := "/history/v1.0" + wsID + "/experiments/e1/runs"
	nmGet(t, s, "https://"+wsAddr+runs, nil)
	nmGet(t, s, strings.TrimSuffix(s.conn.ARMEndpoint, "/")+runs, nil)
	// Private ARM does not serve the workspace endpoint, the token service
	// or the admin API.
	for _, path := range []string{runs, "/" + s.conn.TenantID + "/v2.0/.well-known/openid-configuration", "/_armlet/flows"} {
		if code, body := nmGet(t, s, "https://"+armAddr+path, nil); code != http.StatusNotFound {
			t.Errorf("GET %s through private ARM = %d %s", path, code, body)
		}
	}

	// Nothing in a header moves a request off the public side.
	nmGet(t, s, strings.TrimSuffix(s.conn.ARMEndpoint, "/")+wsID+"?api-version=2024-04-01&probe=headers", map[string]string{
		"X-Forwarded-For": "10.1.0.4", "Forwarded": "for=10.1.0.4", "X-Real-IP": "10.1.0.4", "Host": armAddr,
	})

	// Flows: the workspace writes through private ARM are arm-private.
	flows, _ := nmFlows(t, s, "?class=arm-private&workspace="+wsID)
	var wsWrite *netmodel.Flow
	for i, f := range flows {
		if f.Class != netmodel.ARMPrivate {
			t.Errorf("class filter let through %+v", f)
		}
		if f.Operation == "Microsoft.MachineLearningServices/workspaces/write" {
			wsWrite = &flows[i]
		}
	}
	if wsWrite == nil || wsWrite.PrivateEndpointID != rmPE.ID.String() || wsWrite.Listener != armAddr || wsWrite.Status >= 300 ||
		wsWrite.CallerAppID != s.conn.ClientID || wsWrite.CallerObjectID != s.conn.ObjectID ||
		!slices.Contains(wsWrite.Metadata.Body, netmodel.Param{Name: "properties.v1LegacyMode", Value: "false"}) {
		t.Fatalf("workspace write flow = %+v (of %d)", wsWrite, len(flows))
	}
	// The connection over public ARM: arm-public, its credentials redacted.
	flows, raw := nmFlows(t, s, "?class=arm-public")
	var connWrite, headers, token *netmodel.Flow
	for i, f := range flows {
		switch {
		case f.Operation == "Microsoft.MachineLearningServices/workspaces/connections/write":
			connWrite = &flows[i]
		case f.Operation == "Microsoft.MachineLearningServices/workspaces/read" && slices.Contains(f.Metadata.Query, netmodel.Param{Name: "probe", Value: "headers"}):
			headers = &flows[i]
		case f.Operation == "Microsoft.AAD/token/action":
			token = &flows[i]
		}
	}
	if connWrite == nil || connWrite.PrivateEndpointID != "" || connWrite.Listener == armAddr ||
		!slices.Contains(connWrite.Metadata.Body, netmodel.Param{Name: "properties.credentials", Value: netmodel.Redacted, Redacted: true}) ||
		!slices.Contains(connWrite.Metadata.Body, netmodel.Param{Name: "properties.target", Value: "https://github.com/org/repo"}) {
		t.Errorf("connection write flow = %+v", connWrite)
	}
	if headers == nil || headers.PrivateEndpointID != "" {
		t.Errorf("a request with forwarding headers was not recorded as public: %+v", headers)
	}
	if token == nil || token.CallerAppID != s.conn.ClientID || token.Workspace != "" {
		t.Errorf("token flow = %+v", token)
	}
	for _, secret := range []string{"pat-secret-42", s.conn.ClientSecret} {
		if strings.Contains(raw, secret) {
			t.Errorf("flow records hold a secret %q", secret)
		}
	}
	// The workspace endpoint calls: private through its endpoint, public
	// on the main listener; the refused ARM call on its listener is
	// workspace-private with its error code.
	flows, _ = nmFlows(t, s, "?workspace="+wsID)
	classes := map[string]netmodel.Flow{}
	for _, f := range flows {
		if strings.HasPrefix(f.Path, "/history/") || f.Listener == wsAddr {
			classes[string(f.Class)+" "+f.Operation] = f
		}
	}
	if f, ok := classes["workspace-private Microsoft.MachineLearningServices/workspaces/experiments/runs/read"]; !ok || f.PrivateEndpointID != wsPE.ID.String() {
		t.Errorf("workspace-private run list missing: %v", classes)
	}
	if _, ok := classes["workspace-public Microsoft.MachineLearningServices/workspaces/experiments/runs/read"]; !ok {
		t.Errorf("workspace-public run list missing: %v", classes)
	}
	if f, ok := classes["workspace-private Microsoft.MachineLearningServices/workspaces/read"]; !ok || f.Status != http.StatusNotFound || f.ErrorCode != "NotFound" {
		t.Errorf("refused ARM call on the workspace listener: %v", classes)
	}
	if code, _, body := s.do(t, "GET", "/_armlet/flows?class=public", "", nil); code != http.StatusBadRequest || !strings.Contains(body, "InvalidQueryParameterValue") {
		t.Errorf("flows with a bad class = %d %s", code, body)
	}

	// The exposure report names what went public and what would keep it
	// private.
	code, _, body = s.do(t, "GET", "/_armlet/reports/exposure?workspace="+wsID, "", nil)
	var rep netmodel.ExposureReport
	if code != http.StatusOK || json.Unmarshal([]byte(body), &rep) != nil || len(rep.Workspaces) != 1 {
		t.Fatalf("exposure report = %d %s", code, body)
	}
	keep := map[string][]string{}
	for _, p := range rep.Workspaces[0].Public {
		keep[p.Operation+" "+string(p.Class)] = p.KeepPrivate
	}
	if k := keep["Microsoft.MachineLearningServices/workspaces/connections/write arm-public"]; !slices.Equal(k, []string{netmodel.KeepV1LegacyMode, netmodel.KeepPrivateARM}) {
		t.Errorf("connection write keep-private = %q (report %s)", k, body)
	}
	if k := keep["Microsoft.MachineLearningServices/workspaces/experiments/runs/read workspace-public"]; !slices.Equal(k, []string{netmodel.KeepWorkspacePrivate}) {
		t.Errorf("public run list keep-private = %q", k)
	}
	if !slices.ContainsFunc(rep.Workspaces[0].Private, func(p netmodel.PrivateOperation) bool {
		return p.Operation == "Microsoft.MachineLearningServices/workspaces/write" && p.Class == netmodel.ARMPrivate
	}) {
		t.Errorf("private operations = %+v", rep.Workspaces[0].Private)
	}

	// Public ARM disabled: public ARM is refused, private ARM, the admin
	// API and the token service are not.
	publicDisabled.Store(true)
	if code, body := nmGet(t, s, strings.TrimSuffix(s.conn.ARMEndpoint, "/")+wsID+"?api-version=2024-04-01", nil); code != http.StatusForbidden ||
		!strings.Contains(body, "PublicNetworkAccessDisabled") {
		t.Errorf("public ARM while disabled = %d %s", code, body)
	}
	if _, err := workspaces.Get(ctx, "rg", "ws1", nil); err != nil {
		t.Errorf("private ARM while public is disabled: %v", err)
	}
	s.tok = ""
	if code, _, body := s.do(t, "GET", "/_armlet/network/endpoints", "", nil); code != http.StatusOK {
		t.Errorf("admin API while public ARM is disabled = %d %s", code, body)
	}
	publicDisabled.Store(false)

	// The workspace endpoint is no longer approved: its listener closes.
	fake.set(rmPE)
	if ls := nmWaitEndpoints(t, s, 1); ls[0].Address != armAddr {
		t.Errorf("listeners = %+v", ls)
	}
	req, _ := http.NewRequest("GET", "https://"+wsAddr+runs, nil)
	if resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: s.client.Transport.(*http.Transport).TLSClientConfig}}).Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("the closed workspace listener still answers: %s", resp.Status)
	}
}
