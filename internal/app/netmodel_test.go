package app_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/report"
)

// TestNetmodelOriginByArrival drives private ARM and a workspace private
// endpoint through their own loopback listeners, with the network
// provider replaced by a fake that approves two endpoints.
func TestNetmodelOriginByArrival(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := &e2e.FakeEndpoints{}
	var publicDisabled atomic.Bool
	s := e2e.Start(t, e2e.WithApp(app.WithEndpointSource(fake.Source), app.WithPublicARMCheck(
		func(ctx context.Context, tenantID string) (bool, error, error) {
			return publicDisabled.Load(), nil, nil
		})))
	sub := s.Conn.SubscriptionID
	wsID := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	rmPE := netmodel.Endpoint{
		ID:        enginetest.MustID(t, "/subscriptions/"+sub+"/resourceGroups/net/providers/Microsoft.Network/privateEndpoints/pe-arm"),
		PrivateIP: "10.1.0.4", GroupID: "ResourceManagement",
		TargetID: enginetest.MustID(t, "/subscriptions/"+sub+"/resourceGroups/net/providers/Microsoft.Authorization/resourceManagementPrivateLinks/rmpl"),
	}
	wsPE := netmodel.Endpoint{
		ID:        enginetest.MustID(t, "/subscriptions/"+sub+"/resourceGroups/net/providers/Microsoft.Network/privateEndpoints/pe-ws"),
		PrivateIP: "10.1.0.5", GroupID: "amlworkspace", TargetID: enginetest.MustID(t, wsID),
	}
	fake.Set(rmPE, wsPE)
	ls := s.WaitEndpoints(t, 2)
	if ls[0].PrivateEndpointID != rmPE.ID.String() || ls[0].PrivateIP != "10.1.0.4" || ls[0].GroupID != "ResourceManagement" ||
		ls[0].TargetResourceID != rmPE.TargetID.String() || !strings.HasPrefix(ls[0].Address, "127.77.") ||
		ls[1].PrivateEndpointID != wsPE.ID.String() || ls[1].Address == ls[0].Address {
		t.Fatalf("listeners = %+v", ls)
	}
	armAddr, wsAddr := ls[0].Address, ls[1].Address

	// The unmodified Go SDK, pointed at the private ARM listener (tokens
	// still come from the main endpoint's token service).
	cred := s.Credential(t)
	private := s.ARMOptionsAt("https://" + armAddr)
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
	if _, err := p.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("create workspace through private ARM: %v", err)
	}
	// A connection with a secret, over public ARM.
	connections, err := armmachinelearning.NewWorkspaceConnectionsClient(sub, cred, s.ARMOptions())
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
	code, body := s.Get(t, "https://"+wsAddr+wsID+"?api-version=2024-04-01", nil)
	if code != http.StatusNotFound || !strings.Contains(body, "reaches only the workspace endpoint") || !strings.Contains(body, wsPE.ID.String()) {
		t.Errorf("ARM through the workspace endpoint = %d %s", code, body)
	}
	runs := "/history/v1.0" + wsID + "/experiments/e1/runs"
	s.Get(t, "https://"+wsAddr+runs, nil)
	s.Get(t, strings.TrimSuffix(s.Conn.ARMEndpoint, "/")+runs, nil)
	// Private ARM does not serve the workspace endpoint, the token service
	// or the admin API.
	for _, path := range []string{runs, "/" + s.Conn.TenantID + "/v2.0/.well-known/openid-configuration", "/_armlet/flows"} {
		if code, body := s.Get(t, "https://"+armAddr+path, nil); code != http.StatusNotFound {
			t.Errorf("GET %s through private ARM = %d %s", path, code, body)
		}
	}

	// Nothing in a header moves a request off the public side.
	s.Get(t, strings.TrimSuffix(s.Conn.ARMEndpoint, "/")+wsID+"?api-version=2024-04-01&probe=headers", map[string]string{
		"X-Forwarded-For": "10.1.0.4", "Forwarded": "for=10.1.0.4", "X-Real-IP": "10.1.0.4", "Host": armAddr,
	})

	// Flows: the workspace writes through private ARM are arm-private.
	flows, _ := s.FlowRecords(t, "?class=arm-private&workspace="+wsID)
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
		wsWrite.CallerAppID != s.Conn.ClientID || wsWrite.CallerObjectID != s.Conn.ObjectID ||
		!slices.Contains(wsWrite.Metadata.Body, netmodel.Param{Name: "properties.v1LegacyMode", Value: "false"}) {
		t.Fatalf("workspace write flow = %+v (of %d)", wsWrite, len(flows))
	}
	// The connection over public ARM: arm-public, its credentials redacted.
	flows, raw := s.FlowRecords(t, "?class=arm-public")
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
	if token == nil || token.CallerAppID != s.Conn.ClientID || token.Workspace != "" {
		t.Errorf("token flow = %+v", token)
	}
	for _, secret := range []string{"pat-secret-42", s.Conn.ClientSecret} {
		if strings.Contains(raw, secret) {
			t.Errorf("flow records hold a secret %q", secret)
		}
	}
	// The workspace endpoint calls: private through its endpoint, public
	// on the main listener; the refused ARM call on its listener is
	// workspace-private with its error code.
	flows, _ = s.FlowRecords(t, "?workspace="+wsID)
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
	if code, _, body := s.Do(t, "GET", "/_armlet/flows?class=public", "", nil); code != http.StatusBadRequest || !strings.Contains(body, "InvalidQueryParameterValue") {
		t.Errorf("flows with a bad class = %d %s", code, body)
	}

	// The exposure report names what went public and what would keep it
	// private.
	code, _, body = s.Do(t, "GET", "/_armlet/reports/exposure?workspace="+wsID, "", nil)
	var rep report.ExposureReport
	if code != http.StatusOK || json.Unmarshal([]byte(body), &rep) != nil || len(rep.Workspaces) != 1 {
		t.Fatalf("exposure report = %d %s", code, body)
	}
	keep := map[string][]string{}
	for _, p := range rep.Workspaces[0].Public {
		keep[p.Operation+" "+string(p.Class)] = p.KeepPrivate
	}
	if k := keep["Microsoft.MachineLearningServices/workspaces/connections/write arm-public"]; !slices.Equal(k, []string{report.KeepV1LegacyMode, report.KeepPrivateARM}) {
		t.Errorf("connection write keep-private = %q (report %s)", k, body)
	}
	if k := keep["Microsoft.MachineLearningServices/workspaces/experiments/runs/read workspace-public"]; !slices.Equal(k, []string{report.KeepWorkspacePrivate}) {
		t.Errorf("public run list keep-private = %q", k)
	}
	if !slices.ContainsFunc(rep.Workspaces[0].Private, func(p report.PrivateOperation) bool {
		return p.Operation == "Microsoft.MachineLearningServices/workspaces/write" && p.Class == netmodel.ARMPrivate
	}) {
		t.Errorf("private operations = %+v", rep.Workspaces[0].Private)
	}

	// Public ARM disabled: public ARM is refused, private ARM, the admin
	// API and the token service are not.
	publicDisabled.Store(true)
	if code, body := s.Get(t, strings.TrimSuffix(s.Conn.ARMEndpoint, "/")+wsID+"?api-version=2024-04-01", nil); code != http.StatusForbidden ||
		!strings.Contains(body, "PublicNetworkAccessDisabled") {
		t.Errorf("public ARM while disabled = %d %s", code, body)
	}
	if _, err := workspaces.Get(ctx, "rg", "ws1", nil); err != nil {
		t.Errorf("private ARM while public is disabled: %v", err)
	}
	s.ForgetToken()
	if code, _, body := s.Do(t, "GET", "/_armlet/network/endpoints", "", nil); code != http.StatusOK {
		t.Errorf("admin API while public ARM is disabled = %d %s", code, body)
	}
	publicDisabled.Store(false)

	// The workspace endpoint is no longer approved: its listener closes.
	fake.Set(rmPE)
	if ls := s.WaitEndpoints(t, 1); ls[0].Address != armAddr {
		t.Errorf("listeners = %+v", ls)
	}
	req, _ := http.NewRequest("GET", "https://"+wsAddr+runs, nil)
	if resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: s.Client.Transport.(*http.Transport).TLSClientConfig}}).Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("the closed workspace listener still answers: %s", resp.Status)
	}
}

// TestExposureReportTraps: the exposure report tells a workspace whose
// every create was refused from a deleted one; a workspace data-plane
// path sent to the Resource Management private listener makes no bogus
// workspace entry; v1LegacyMode is advised only to a workspace with a
// private endpoint (without one, the fix is Resource Management Private
// Link); and a public workspace-endpoint call refused because public
// access is already off gets the advice to use the private endpoint
// (issue 14, trap 8).
func TestExposureReportTraps(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	cred := s.Credential(t)
	const rg = "trap8"
	rgID := s.CreateGroup(t, rg)
	mlID := func(name string) string {
		return rgID + "/providers/Microsoft.MachineLearningServices/workspaces/" + name
	}
	put := func(path, body string, want int) {
		t.Helper()
		if code, _, b := s.Do(t, http.MethodPut, path, body, nil); code != want {
			t.Fatalf("PUT %s: %d %s, want %d", path, code, b, want)
		}
	}
	const ver = "?api-version=2024-04-01"
	put(mlID("open")+ver, `{"location":"eastus"}`, http.StatusAccepted)
	put(mlID("closed")+ver, `{"location":"eastus","properties":{"publicNetworkAccess":"Disabled"}}`, http.StatusAccepted)
	put(mlID("gone")+ver, `{"location":"eastus"}`, http.StatusAccepted)
	put(mlID("never")+ver, `{"location":"eastus","properties":{"publicNetworkAccess":"Sometimes"}}`, http.StatusBadRequest)
	if _, err := s.AdvanceClock(t.Context(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if code, _, b := s.Do(t, http.MethodDelete, mlID("gone")+ver, "", nil); code != http.StatusAccepted {
		t.Fatalf("delete: %d %s", code, b)
	}
	plID := rgID + "/providers/Microsoft.Authorization/resourceManagementPrivateLinks/rmpl"
	put(plID+"?api-version=2020-05-01", `{"location":"eastus"}`, http.StatusOK)
	subnet := isoSubnet(t, s, cred, rg, "10.8.0.0/16", "10.8.0.0/24")
	for name, target := range map[string][2]string{"pe-ws": {mlID("closed"), "amlworkspace"}, "pe-arm": {plID, "ResourceManagement"}} {
		isoPrivateEndpoint(t, s, cred, rg, name, armnetwork.PrivateEndpoint{
			Location: to.Ptr("eastus"),
			Properties: &armnetwork.PrivateEndpointProperties{
				Subnet: &armnetwork.Subnet{ID: to.Ptr(subnet)},
				PrivateLinkServiceConnections: []*armnetwork.PrivateLinkServiceConnection{{
					Name:       to.Ptr(name),
					Properties: &armnetwork.PrivateLinkServiceConnectionProperties{PrivateLinkServiceID: to.Ptr(target[0]), GroupIDs: []*string{to.Ptr(target[1])}},
				}},
			},
		})
	}
	var armListener string
	for _, l := range s.WaitEndpoints(t, 2) {
		if l.GroupID == "ResourceManagement" {
			armListener = "https://" + l.Address
		}
	}
	// A v2 child over public ARM, for a workspace with and one without a
	// private endpoint.
	const conn = `{"properties":{"category":"Git","target":"https://github.com/x","authType":"None"}}`
	for _, ws := range []string{"open", "closed"} {
		put(mlID(ws)+"/connections/git1"+ver, conn, http.StatusOK)
	}
	// A public call to the closed workspace's endpoint: refused.
	history := "/history/v1.0" + mlID("closed") + "/experiments"
	if code, _, b := s.Do(t, http.MethodGet, history, "", nil); code != http.StatusForbidden {
		t.Fatalf("public workspace endpoint call to a closed workspace: %d %s", code, b)
	}
	// A workspace endpoint path sent to the Resource Management listener.
	if code, b := s.Get(t, armListener+history, nil); code != http.StatusNotFound {
		t.Fatalf("workspace path on the Resource Management listener: %d %s", code, b)
	}

	code, _, body := s.Do(t, http.MethodGet, "/_armlet/reports/exposure", "", nil)
	var rep report.ExposureReport
	if code != http.StatusOK || json.Unmarshal([]byte(body), &rep) != nil {
		t.Fatalf("exposure report: %d %s", code, body)
	}
	byName := map[string]report.WorkspaceExposure{}
	for _, w := range rep.Workspaces {
		if !strings.HasPrefix(strings.ToLower(w.Workspace), strings.ToLower(rgID)+"/providers/microsoft.machinelearningservices/workspaces/") {
			t.Errorf("report entry %q is not a workspace", w.Workspace)
			continue
		}
		byName[path.Base(w.Workspace)] = w
	}
	for name, want := range map[string]string{"open": report.StateExists, "closed": report.StateExists, "gone": report.StateDeleted, "never": report.StateNeverCreated} {
		if w, ok := byName[name]; !ok || w.Settings == nil || w.Settings.State != want {
			t.Errorf("workspace %s: settings %+v, want state %q", name, w.Settings, want)
		}
	}
	keep := func(ws string, class netmodel.PathClass, opSuffix string) []string {
		if p := isoPublic(byName[ws], class, opSuffix); p != nil {
			return p.KeepPrivate
		}
		t.Errorf("%s: no public %s operation %s in %+v", ws, class, opSuffix, byName[ws].Public)
		return nil
	}
	if k := keep("open", netmodel.ARMPublic, "connections/write"); !slices.Equal(k, []string{report.KeepPrivateARM}) {
		t.Errorf("v2 call of a workspace without a private endpoint: keep private with %q, want only %q", k, report.KeepPrivateARM)
	}
	if k := keep("closed", netmodel.ARMPublic, "connections/write"); !slices.Equal(k, []string{report.KeepV1LegacyMode, report.KeepPrivateARM}) {
		t.Errorf("v2 call of a workspace with a private endpoint: keep private with %q", k)
	}
	if k := keep("closed", netmodel.WorkspacePublic, "experiments/read"); !slices.Equal(k, []string{report.KeepUsePrivateEndpoint}) {
		t.Errorf("refused public workspace endpoint call: keep private with %q, want %q", k, report.KeepUsePrivateEndpoint)
	}
	flows, _ := s.FlowRecords(t, "?class=arm-private")
	if !slices.ContainsFunc(flows, func(f netmodel.Flow) bool {
		return strings.HasPrefix(f.Path, "/history/") && f.Status == http.StatusNotFound && f.Workspace == ""
	}) {
		t.Errorf("no arm-private flow of the workspace path, refused and under no workspace: %+v", flows)
	}
	if !strings.Contains(body, `"generatedAt"`) {
		t.Errorf("exposure report without generatedAt: %s", body)
	}
	if code, _, body := s.Do(t, http.MethodGet, "/_armlet/reports/access", "", nil); code != http.StatusOK || !strings.Contains(body, `"generatedAt"`) {
		t.Errorf("access report: %d, want its time as generatedAt like the exposure report's: %.300s", code, body)
	}
}

// TestEndpointListenerStopsWithinAQuarterSecond holds the README's promise
// that a rejected, pending or deleted endpoint stops listening within a
// quarter of a second. All three reach the listeners the same way: the
// endpoint source no longer lists the endpoint. Here the source changes
// with no ARM write to trigger a reconciliation (as when another replica
// made the change), so only the app's reconcile loop closes the listener:
// the worst case of the promise. The budget is 250 ms plus a 100 ms
// margin for a loaded machine; the test polls the address every 2 ms.
func TestEndpointListenerStopsWithinAQuarterSecond(t *testing.T) {
	t.Parallel()
	fake := &e2e.FakeEndpoints{}
	s := e2e.Start(t, e2e.WithApp(app.WithEndpointSource(fake.Source)))
	sub := s.Conn.SubscriptionID
	pe := netmodel.Endpoint{
		ID:        enginetest.MustID(t, "/subscriptions/"+sub+"/resourceGroups/net/providers/Microsoft.Network/privateEndpoints/pe-ws"),
		PrivateIP: "10.1.0.5", GroupID: "amlworkspace",
		TargetID: enginetest.MustID(t, "/subscriptions/"+sub+"/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"),
	}
	const budget = 250*time.Millisecond + 100*time.Millisecond
	for round := range 3 {
		fake.Set(pe)
		addr := s.WaitEndpoints(t, 1)[0].Address
		if c, err := net.Dial("tcp", addr); err != nil {
			t.Fatalf("round %d: the listener %s does not accept: %v", round, addr, err)
		} else {
			c.Close()
		}
		fake.Set()
		began := time.Now()
		for {
			c, err := net.DialTimeout("tcp", addr, budget)
			if err != nil {
				break
			}
			c.Close()
			if took := time.Since(began); took > budget {
				t.Fatalf("round %d: the listener %s still accepts %v after its endpoint left the source", round, addr, took.Round(time.Millisecond))
			}
			time.Sleep(2 * time.Millisecond) // polling
		}
		t.Logf("round %d: stopped listening after %v", round, time.Since(began).Round(time.Millisecond))
	}
}
