package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v7"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/report"
)

// isoPublic finds the public operation op (a suffix of the action string)
// in a workspace's report.
func isoPublic(w report.WorkspaceExposure, class netmodel.PathClass, opSuffix string) *report.PublicOperation {
	for i, p := range w.Public {
		if p.Class == class && strings.HasSuffix(strings.ToLower(p.Operation), strings.ToLower(opSuffix)) {
			return &w.Public[i]
		}
	}
	return nil
}

// isoSubnet creates virtual network "vnet" with one subnet "pe" of
// prefix in resource group rg and returns the subnet's ID.
func isoSubnet(t *testing.T, s *e2e.Armlet, cred azcore.TokenCredential, rg, space, prefix string) string {
	t.Helper()
	vnets, err := armnetwork.NewVirtualNetworksClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	vp, err := vnets.BeginCreateOrUpdate(context.Background(), rg, "vnet", armnetwork.VirtualNetwork{
		Location: to.Ptr("eastus"),
		Properties: &armnetwork.VirtualNetworkPropertiesFormat{
			AddressSpace: &armnetwork.AddressSpace{AddressPrefixes: []*string{to.Ptr(space)}},
			Subnets:      []*armnetwork.Subnet{{Name: to.Ptr("pe"), Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: to.Ptr(prefix)}}},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	vnet, err := vp.PollUntilDone(context.Background(), e2e.FastPoll)
	if err != nil {
		t.Fatalf("create vnet: %v", err)
	}
	return *vnet.Properties.Subnets[0].ID
}

// isoPrivateEndpoint creates private endpoint name from pe's body and
// waits for it.
func isoPrivateEndpoint(t *testing.T, s *e2e.Armlet, cred azcore.TokenCredential, rg, name string, pe armnetwork.PrivateEndpoint) armnetwork.PrivateEndpoint {
	t.Helper()
	endpoints, err := armnetwork.NewPrivateEndpointsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	pp, err := endpoints.BeginCreateOrUpdate(context.Background(), rg, name, pe, nil)
	if err != nil {
		t.Fatal(err)
	}
	created, err := pp.PollUntilDone(context.Background(), e2e.FastPoll)
	if err != nil {
		t.Fatalf("create private endpoint: %v", err)
	}
	return created.PrivateEndpoint
}

// TestIsolationStory is issue 3's whole story with real clients over real
// sockets: a virtual network, a workspace with publicNetworkAccess
// Disabled and v1LegacyMode true, a private endpoint made with armnetwork
// v7 and approved automatically, the workspace endpoint refused publicly
// and reached through the endpoint's own loopback listener, the v2 API
// refused over public ARM, then v1LegacyMode flipped and the exposure
// report following each step.
func TestIsolationStory(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	sub := s.Conn.SubscriptionID
	const rg = "iso-rg"

	s.CreateGroup(t, rg)
	workspaces, err := armmachinelearning.NewWorkspacesClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	wp, err := workspaces.BeginCreateOrUpdate(ctx, rg, "isows", armmachinelearning.Workspace{
		Location: to.Ptr("eastus"),
		Properties: &armmachinelearning.WorkspaceProperties{
			PublicNetworkAccess: to.Ptr(armmachinelearning.PublicNetworkAccessDisabled), V1LegacyMode: to.Ptr(true),
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := wp.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	wsID := *ws.ID

	subnet := isoSubnet(t, s, cred, rg, "10.8.0.0/16", "10.8.1.0/24")
	pe := isoPrivateEndpoint(t, s, cred, rg, "ws-pe", netPE(subnet, wsID, false))
	if got := netConnectionState(pe); got != "Approved" {
		t.Fatalf("private endpoint connection = %q, want Approved", got)
	}

	// The approved connection, seen from the workspace.
	got, err := workspaces.Get(ctx, rg, "isows", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := got.Properties.PrivateLinkCount; n == nil || *n != 1 || len(got.Properties.PrivateEndpointConnections) != 1 ||
		*got.Properties.PrivateEndpointConnections[0].Properties.PrivateLinkServiceConnectionState.Status != armmachinelearning.PrivateEndpointServiceConnectionStatusApproved {
		t.Fatalf("workspace after the private endpoint: privateLinkCount %v, connections %+v", n, got.Properties.PrivateEndpointConnections)
	}

	// The endpoint's own listener, with its realistic private IP.
	listening := s.WaitEndpoints(t, 1)[0]
	if !strings.EqualFold(listening.PrivateEndpointID, *pe.ID) || !strings.HasPrefix(listening.PrivateIP, "10.8.1.") ||
		!strings.EqualFold(listening.TargetResourceID, wsID) || listening.GroupID != "amlworkspace" {
		t.Fatalf("listener = %+v", listening)
	}

	// The workspace endpoint: refused publicly, served privately.
	history := "/history/v1.0" + wsID + "/experiments"
	code, body := s.Get(t, strings.TrimSuffix(s.Conn.ARMEndpoint, "/")+history, nil)
	if code != http.StatusForbidden || !strings.Contains(body, "Access to workspace was denied based on workspace private link configuration.") {
		t.Fatalf("public workspace call = %d %s, want 403", code, body)
	}
	if code, body := s.Get(t, "https://"+listening.Address+history, nil); code != http.StatusOK {
		t.Fatalf("private workspace call = %d %s, want 200", code, body)
	}

	// The v2 API over public ARM, refused while v1LegacyMode is true.
	envs, err := armmachinelearning.NewEnvironmentVersionsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	env := armmachinelearning.EnvironmentVersion{Properties: &armmachinelearning.EnvironmentVersionProperties{Image: to.Ptr("python:3.11")}}
	_, err = envs.CreateOrUpdate(ctx, rg, "isows", "train", "1", env, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")

	rep := s.Exposure(t, wsID)
	if st := rep.Settings; st == nil || !st.Exists || !st.V1LegacyMode || st.PublicNetworkAccess != "Disabled" || st.ApprovedPrivateEndpoints != 1 || st.PublicARMDisabled {
		t.Errorf("settings before the flip = %+v", rep.Settings)
	}
	envWrite := isoPublic(rep, netmodel.ARMPublic, "environments/versions/write")
	if envWrite == nil || envWrite.Statuses["400"] != 1 || len(envWrite.KeepPrivate) == 0 {
		t.Fatalf("report before the flip: environment write = %+v", envWrite)
	}
	if p := isoPublic(rep, netmodel.WorkspacePublic, "read"); p == nil || p.Statuses["403"] != 1 {
		t.Errorf("report: the refused public workspace call = %+v", p)
	}
	if len(rep.Private) == 0 || rep.Private[0].Class != netmodel.WorkspacePrivate || !strings.EqualFold(rep.Private[0].PrivateEndpointIDs[0], *pe.ID) {
		t.Errorf("report: private operations = %+v", rep.Private)
	}

	// Flip v1LegacyMode (propagation is 0 in tests): the v2 API now works
	// over public ARM, and the report shows the exposure it brings.
	up, err := workspaces.BeginUpdate(ctx, rg, "isows", armmachinelearning.WorkspaceUpdateParameters{
		Properties: &armmachinelearning.WorkspacePropertiesUpdateParameters{V1LegacyMode: to.Ptr(false)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("update workspace: %v", err)
	}
	if _, err := envs.CreateOrUpdate(ctx, rg, "isows", "train", "1", env, nil); err != nil {
		t.Fatalf("environment version after the flip: %v", err)
	}
	rep = s.Exposure(t, wsID)
	if st := rep.Settings; st == nil || st.V1LegacyMode {
		t.Errorf("settings after the flip = %+v", rep.Settings)
	}
	envWrite = isoPublic(rep, netmodel.ARMPublic, "environments/versions/write")
	if envWrite == nil || envWrite.Statuses["400"] != 1 || envWrite.Statuses["201"] != 1 ||
		!isoHasParam(envWrite.Body, "properties.image") {
		t.Errorf("report after the flip: environment write = %+v", envWrite)
	}
}

// isoHasParam reports whether params holds a member named name.
func isoHasParam(params []netmodel.Param, name string) bool {
	for _, p := range params {
		if p.Name == name {
			return true
		}
	}
	return false
}

// TestPrivateARMStory: a resource management private link, a private
// endpoint to it (group ResourceManagement) and its listener serving ARM
// privately; an association with publicNetworkAccess Disabled refuses
// public ARM while private ARM and the admin API keep working; removing
// it restores public ARM.
func TestPrivateARMStory(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	sub := s.Conn.SubscriptionID
	const rg = "parm-rg"
	groups, err := armresources.NewResourceGroupsClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: to.Ptr("eastus")}, nil); err != nil {
		t.Fatal(err)
	}
	generic, err := armresources.NewClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	plID := "/subscriptions/" + sub + "/resourceGroups/" + rg + "/providers/Microsoft.Authorization/resourceManagementPrivateLinks/rmpl"
	if _, err := isoPollGeneric(ctx, generic, plID, armresources.GenericResource{Location: to.Ptr("eastus")}); err != nil {
		t.Fatalf("create private link: %v", err)
	}

	subnet := isoSubnet(t, s, cred, rg, "10.9.0.0/16", "10.9.0.0/24")
	isoPrivateEndpoint(t, s, cred, rg, "arm-pe", armnetwork.PrivateEndpoint{
		Location: to.Ptr("eastus"),
		Properties: &armnetwork.PrivateEndpointProperties{
			Subnet: &armnetwork.Subnet{ID: to.Ptr(subnet)},
			PrivateLinkServiceConnections: []*armnetwork.PrivateLinkServiceConnection{{
				Name: to.Ptr("arm"),
				Properties: &armnetwork.PrivateLinkServiceConnectionProperties{
					PrivateLinkServiceID: to.Ptr(plID), GroupIDs: []*string{to.Ptr("ResourceManagement")},
				},
			}},
		},
	})
	listening := s.WaitEndpoints(t, 1)[0]
	if listening.GroupID != "ResourceManagement" || !strings.EqualFold(listening.TargetResourceID, plID) {
		t.Fatalf("listener = %+v", listening)
	}
	pl, err := generic.GetByID(ctx, plID, "2020-05-01", nil)
	if err != nil {
		t.Fatal(err)
	}
	plConns, _ := pl.Properties.(map[string]any)["privateEndpointConnections"].([]any)
	if len(plConns) != 1 || !strings.Contains(string(mustJSON(plConns[0])), `"status":"Approved"`) ||
		!strings.Contains(strings.ToLower(string(mustJSON(plConns[0]))), strings.ToLower(listening.PrivateEndpointID)) {
		t.Errorf("private link's privateEndpointConnections = %v", plConns)
	}
	private := s.ARMOptionsAt("https://" + listening.Address)
	privateGroups, err := armresources.NewResourceGroupsClient(sub, cred, private)
	if err != nil {
		t.Fatal(err)
	}

	privateGeneric, err := armresources.NewClient(sub, cred, private)
	if err != nil {
		t.Fatal(err)
	}

	// Public ARM off for the tenant, done through private ARM (the SDK's
	// poller reads the result back, which public ARM would now refuse).
	assocID := "/providers/Microsoft.Management/managementGroups/" + s.Conn.TenantID + "/providers/Microsoft.Authorization/privateLinkAssociations/assoc1"
	if _, err := isoPollGeneric(ctx, privateGeneric, assocID, armresources.GenericResource{
		Properties: map[string]any{"privateLink": plID, "publicNetworkAccess": "Disabled"},
	}); err != nil {
		t.Fatalf("create association: %v", err)
	}
	_, err = groups.Get(ctx, rg, nil)
	e2e.RequireResponseError(t, err, http.StatusForbidden, "PublicNetworkAccessRestricted")
	if _, err := privateGroups.Get(ctx, rg, nil); err != nil {
		t.Fatalf("private ARM while public ARM is off: %v", err)
	}
	if code, _, body := s.Do(t, http.MethodGet, "/_armlet/clock", "", nil); code != http.StatusOK {
		t.Fatalf("admin API while public ARM is off: %d %s", code, body)
	}

	// The Azure CLI pointed at the private listener: the listener's
	// metadata names the public token service as login endpoint (Entra ID
	// stays public when ARM goes private), so az login works, and ARM
	// calls go to the private listener while public ARM is off.
	privateURL := "https://" + listening.Address + "/"
	_, meta := s.Get(t, privateURL+"metadata/endpoints?api-version=2022-09-01", map[string]string{"Authorization": ""})
	var cloud struct {
		ResourceManager string `json:"resourceManager"`
		Authentication  struct {
			LoginEndpoint string `json:"loginEndpoint"`
		} `json:"authentication"`
	}
	if err := json.Unmarshal([]byte(meta), &cloud); err != nil ||
		cloud.ResourceManager != privateURL || cloud.Authentication.LoginEndpoint != s.Conn.LoginEndpoint {
		t.Errorf("private listener's metadata = %s, want ARM at %s and login at %s", meta, privateURL, s.Conn.LoginEndpoint)
	}
	az := s.AzureCLI(t)
	az.LoginAt("armlet-private", privateURL)
	if got := az.Run("group", "show", "-n", rg, "--query", "name", "-o", "tsv"); strings.TrimSpace(got) != rg {
		t.Errorf("az group show through the private listener = %q", got)
	}

	flows, _ := s.FlowRecords(t, "?class=arm-private")
	if len(flows) == 0 || !strings.EqualFold(flows[len(flows)-1].PrivateEndpointID, listening.PrivateEndpointID) {
		t.Errorf("arm-private flows = %+v", flows)
	}

	// Through private ARM, public access comes back.
	dp, err := privateGeneric.BeginDeleteByID(ctx, assocID, "2020-05-01", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("delete association privately: %v", err)
	}
	if _, err := groups.Get(ctx, rg, nil); err != nil {
		t.Fatalf("public ARM after the association is gone: %v", err)
	}
}

// isoPollGeneric creates a resource by ID at api-version 2020-05-01 with
// the generic client and waits for it.
func isoPollGeneric(ctx context.Context, c *armresources.Client, id string, body armresources.GenericResource) (armresources.GenericResource, error) {
	p, err := c.BeginCreateOrUpdateByID(ctx, id, "2020-05-01", body, nil)
	if err != nil {
		return armresources.GenericResource{}, err
	}
	res, err := p.PollUntilDone(ctx, e2e.FastPoll)
	return res.GenericResource, err
}
