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
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/report"
)

// closedRegistry creates registry name in eastus with publicNetworkAccess
// Disabled, and returns it with the client that made it.
func closedRegistry(t *testing.T, s *e2e.Armlet, cred azcore.TokenCredential, rg, name string) (*armmachinelearning.RegistriesClient, armmachinelearning.Registry) {
	t.Helper()
	registries, err := armmachinelearning.NewRegistriesClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	rp, err := registries.BeginCreateOrUpdate(context.Background(), rg, name, armmachinelearning.Registry{
		Location: to.Ptr("eastus"),
		Identity: &armmachinelearning.ManagedServiceIdentity{Type: to.Ptr(armmachinelearning.ManagedServiceIdentityTypeSystemAssigned)},
		Properties: &armmachinelearning.RegistryProperties{
			PublicNetworkAccess: to.Ptr("Disabled"),
			RegionDetails:       []*armmachinelearning.RegistryRegionArmDetails{{Location: to.Ptr("eastus")}},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := rp.PollUntilDone(context.Background(), e2e.FastPoll)
	if err != nil {
		t.Fatalf("create registry: %v", err)
	}
	return registries, reg.Registry
}

// TestRegistryIsolationStory is the seed story over again, for a registry,
// with the Go SDK's registry clients over real sockets: a registry with
// publicNetworkAccess Disabled and a private endpoint (group id
// amlregistry); its assets written over public ARM (served: ARM is
// public), its data plane (discovery and the regional asset API azure-ai-ml
// uses) refused publicly and served through the endpoint's own listener,
// where a model version is pushed; and the exposure report showing both.
func TestRegistryIsolationStory(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	cred := s.Credential(t)
	sub := s.Conn.SubscriptionID
	const rg, name = "reg-rg", "sharedreg"

	s.CreateGroup(t, rg)
	registries, reg := closedRegistry(t, s, cred, rg, name)
	regID := *reg.ID

	subnet := isoSubnet(t, s, cred, rg, "10.9.0.0/16", "10.9.1.0/24")
	pe := netPE(subnet, regID, false)
	pe.Properties.PrivateLinkServiceConnections[0].Properties.GroupIDs = []*string{to.Ptr("amlregistry")}
	created := isoPrivateEndpoint(t, s, cred, rg, "reg-pe", pe)
	if got := netConnectionState(created); got != "Approved" {
		t.Fatalf("private endpoint connection = %q, want Approved", got)
	}
	listening := s.WaitEndpoints(t, 1)[0]
	if !strings.EqualFold(listening.TargetResourceID, regID) || listening.GroupID != "amlregistry" || !strings.HasPrefix(listening.PrivateIP, "10.9.1.") {
		t.Fatalf("listener = %+v", listening)
	}
	got, err := registries.Get(ctx, rg, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if conns := got.Properties.RegistryPrivateEndpointConnections; len(conns) != 1 || conns[0].Properties == nil ||
		conns[0].Properties.RegistryPrivateLinkServiceConnectionState == nil ||
		conns[0].Properties.RegistryPrivateLinkServiceConnectionState.Status == nil ||
		*conns[0].Properties.RegistryPrivateLinkServiceConnectionState.Status != armmachinelearning.EndpointServiceConnectionStatusApproved {
		t.Fatalf("registry's private endpoint connections = %s", mustJSON(got.Properties.RegistryPrivateEndpointConnections))
	}

	// Over public ARM: served (ARM is public whatever the registry says).
	modelVersions := func(endpoint string) *armmachinelearning.RegistryModelVersionsClient {
		c, err := armmachinelearning.NewRegistryModelVersionsClient(sub, cred, s.ARMOptionsAt(endpoint))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	containers, err := armmachinelearning.NewRegistryModelContainersClient(sub, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	cp, err := containers.BeginCreateOrUpdate(ctx, rg, name, "fraud", armmachinelearning.ModelContainer{
		Properties: &armmachinelearning.ModelContainerProperties{Description: to.Ptr("fraud scoring")},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("model container over public ARM: %v", err)
	}
	version := func(uri string) armmachinelearning.ModelVersion {
		return armmachinelearning.ModelVersion{Properties: &armmachinelearning.ModelVersionProperties{ModelURI: to.Ptr(uri)}}
	}
	vp, err := modelVersions(strings.TrimSuffix(s.Conn.ARMEndpoint, "/")).BeginCreateOrUpdate(ctx, rg, name, "fraud", "1", version("azureml://registries/sharedreg/models/fraud/1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("model version over public ARM: %v", err)
	}

	// The registry's data plane: refused publicly, served privately.
	main := strings.TrimSuffix(s.Conn.ARMEndpoint, "/")
	private := "https://" + listening.Address
	discovery := "/registrymanagement/v1.0/registries/" + name + "/discovery"
	if code, body := s.Get(t, main+discovery, nil); code != http.StatusForbidden || !strings.Contains(body, "Access to registry was denied based on registry private link configuration.") {
		t.Fatalf("public discovery = %d %s, want 403", code, body)
	}
	code, body := s.Get(t, private+discovery, nil)
	var disc struct {
		RegistryName, PrimaryRegion, SubscriptionID, ResourceGroup string
		PrimaryRegionResourceProviderURI                           string `json:"primaryRegionResourceProviderUri"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &disc) != nil || disc.RegistryName != name ||
		disc.ResourceGroup != rg || disc.SubscriptionID != sub || disc.PrimaryRegionResourceProviderURI != private+"/" {
		t.Fatalf("private discovery = %d %s", code, body)
	}
	// As azure-ai-ml does: the asset API below the discovered URI.
	assets := disc.PrimaryRegionResourceProviderURI + "mferp/managementfrontend"
	_, err = modelVersions(main+"/mferp/managementfrontend").Get(ctx, rg, name, "fraud", "1", nil)
	e2e.RequireResponseError(t, err, http.StatusForbidden, "UserError")
	vp, err = modelVersions(assets).BeginCreateOrUpdate(ctx, rg, name, "fraud", "2", version("azureml://registries/sharedreg/models/fraud/2"), nil)
	if err != nil {
		t.Fatalf("model version through the private endpoint: %v", err)
	}
	if _, err := vp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("model version through the private endpoint: %v", err)
	}
	v2, err := modelVersions(strings.TrimSuffix(s.Conn.ARMEndpoint, "/")).Get(ctx, rg, name, "fraud", "2", nil)
	if err != nil || v2.Properties == nil || v2.Properties.ModelURI == nil || *v2.Properties.ModelURI != "azureml://registries/sharedreg/models/fraud/2" {
		t.Fatalf("the privately pushed version over ARM = %+v, %v", v2, err)
	}
	// The private endpoint reaches only its registry's data plane.
	if code, body := s.Get(t, private+regID+"?api-version=2024-04-01", nil); code != http.StatusNotFound {
		t.Errorf("ARM through the registry's private endpoint = %d %s, want 404", code, body)
	}

	rep := s.RegistryExposure(t, regID)
	if st := rep.Settings; st == nil || !st.Exists || st.PublicNetworkAccess != "Disabled" || st.ApprovedPrivateEndpoints != 1 {
		t.Errorf("registry settings = %+v", rep.Settings)
	}
	if p := isoPublic(rep, netmodel.ARMPublic, "registries/models/versions/write"); p == nil || p.Statuses["201"]+p.Statuses["200"] != 1 ||
		len(p.KeepPrivate) != 1 || p.KeepPrivate[0] != report.KeepPrivateARM {
		t.Errorf("public ARM model version write = %+v", p)
	}
	if p := isoPublic(rep, netmodel.RegistryPublic, "registries/models/versions/read"); p == nil || p.Statuses["403"] != 1 ||
		len(p.KeepPrivate) != 1 || p.KeepPrivate[0] != report.KeepUsePrivateRegistry {
		t.Errorf("refused public data-plane read = %+v", p)
	}
	// The refused public discovery too: counted against the registry.
	if p := isoPublic(rep, netmodel.RegistryPublic, "MachineLearningServices/registries/read"); p == nil || p.Statuses["403"] != 1 ||
		len(p.KeepPrivate) != 1 || p.KeepPrivate[0] != report.KeepUsePrivateRegistry {
		t.Errorf("refused public discovery = %+v", p)
	}
	var privateWrite bool
	for _, p := range rep.Private {
		if p.Class == netmodel.RegistryPrivate && strings.HasSuffix(p.Operation, "registries/models/versions/write") &&
			len(p.PrivateEndpointIDs) == 1 && strings.EqualFold(p.PrivateEndpointIDs[0], *created.ID) {
			privateWrite = true
		}
	}
	if !privateWrite {
		t.Errorf("private operations = %+v, want the model version write through %s", rep.Private, *created.ID)
	}
}
