package registryapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/kv/memkv"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/providers/machinelearning"
)

const (
	testSub    = "00000000-1111-2222-3333-444444444444"
	testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	rgPath     = "/subscriptions/" + testSub + "/resourceGroups/rg"
	regBase    = rgPath + "/providers/Microsoft.MachineLearningServices/registries/"
	base       = "https://127.0.0.1:8443"
)

// newService is a real engine over memkv with the machinelearning
// provider, two registries (open, public access Enabled; closed,
// Disabled) and a workspace.
func newService(t testing.TB) *Service {
	t.Helper()
	clk := clock.NewOffset(0)
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: engine.NewRegistry()})
	machinelearning.Register(e, machinelearning.Options{TenantID: testTenant})
	if err := e.EnsureSubscription(context.Background(), testSub, testTenant, "test"); err != nil {
		t.Fatal(err)
	}
	env := enginetest.New(t, e, clk)
	env.Must(http.MethodPut, rgPath, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	for name, pna := range map[string]string{"open": "Enabled", "closed": "Disabled"} {
		env.Must(http.MethodPut, regBase+name, "2024-04-01",
			`{"location":"eastus","properties":{"publicNetworkAccess":"`+pna+`","regionDetails":[{"location":"eastus"},{"location":"westus"}]}}`, http.StatusCreated)
	}
	env.Must(http.MethodPut, rgPath+"/providers/Microsoft.MachineLearningServices/workspaces/wsone", "2024-04-01", `{"location":"eastus"}`, http.StatusAccepted)
	clk.Advance(time.Minute)
	return New(e)
}

func mustID(t testing.TB, s string) resourceid.ID {
	t.Helper()
	id, err := resourceid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestResolveRefusedDiscovery: a public discovery refused by the
// registry's network rules names no live registry, but the registry it
// found as the scope of its flow record; a private one refused for naming
// another registry names nothing (it must not tell the other exists).
func TestResolveRefusedDiscovery(t *testing.T) {
	s := newService(t)
	got, err := s.Resolve(context.Background(), "GET", "/registrymanagement/v1.0/registries/closed/discovery", "2024-04-01", base,
		netmodel.Origin{Listener: "127.0.0.1:8443"})
	if err == nil || got == nil || !got.Registry.IsRoot() || !strings.EqualFold(got.Scope.String(), regBase+"closed") ||
		got.Action != machinelearning.TypeRegistries+"/read" {
		t.Fatalf("public discovery of a closed registry: %+v, %v; want refused with scope %sclosed", got, err, regBase)
	}
	got, err = s.Resolve(context.Background(), "GET", "/registrymanagement/v1.0/registries/open/discovery", "2024-04-01", base,
		netmodel.Origin{Listener: "127.77.0.1:8443", Endpoint: &netmodel.Endpoint{
			ID:       mustID(t, rgPath+"/providers/Microsoft.Network/privateEndpoints/pe"),
			TargetID: mustID(t, regBase+"closed"), GroupID: machinelearning.RegistryPrivateLinkGroup,
		}})
	if err == nil || got != nil {
		t.Fatalf("private discovery of another registry: %+v, %v; want refused naming nothing", got, err)
	}
}

// TestResolve: each rule of Resolve, in its order, for discovery and for
// the asset API, on the main listener and through private endpoints.
func TestResolve(t *testing.T) {
	s := newService(t)
	private := func(target string) netmodel.Origin {
		return netmodel.Origin{Listener: "127.77.0.1:8443", Endpoint: &netmodel.Endpoint{
			ID:       mustID(t, rgPath+"/providers/Microsoft.Network/privateEndpoints/pe"),
			TargetID: mustID(t, target), GroupID: machinelearning.RegistryPrivateLinkGroup,
		}}
	}
	public := netmodel.Origin{Listener: "127.0.0.1:8443"}
	const assets = AssetPrefix + regBase
	tests := []struct {
		name, method, path string
		origin             netmodel.Origin
		status             int    // 0: resolved
		code               string // of the refusal
		registry           string // resolved registry
		discovery          bool
	}{
		{"public discovery of an open registry", "GET", "/registrymanagement/v1.0/registries/open/discovery", public, 0, "", regBase + "open", true},
		{"discovery ignores the name's case", "GET", "/RegistryManagement/v1.0/registries/OPEN/discovery", public, 0, "", regBase + "open", true},
		{"public discovery of a closed registry", "GET", "/registrymanagement/v1.0/registries/closed/discovery", public, 403, "UserError", "", false},
		{"private discovery of the endpoint's registry", "GET", "/registrymanagement/v1.0/registries/closed/discovery", private(regBase + "closed"), 0, "", regBase + "closed", true},
		{"private discovery of another registry", "GET", "/registrymanagement/v1.0/registries/open/discovery", private(regBase + "closed"), 403, "UserError", "", false},
		{"private discovery of a name that does not exist", "GET", "/registrymanagement/v1.0/registries/nope/discovery", private(regBase + "closed"), 403, "UserError", "", false},
		{"public discovery of a name that does not exist", "GET", "/registrymanagement/v1.0/registries/nope/discovery", public, 404, arm.CodeResourceNotFound, "", false},
		{"discovery is read-only", "POST", "/registrymanagement/v1.0/registries/open/discovery", public, 405, arm.CodeMethodNotAllowed, "", false},
		{"another registrymanagement path", "GET", "/registrymanagement/v1.0/registries/open", public, 404, arm.CodeInvalidRequestURI, "", false},
		{"an escaped slash in a registry name", "GET", "/registrymanagement/v1.0/registries/op%2Fen/discovery", public, 400, arm.CodeInvalidRequestURI, "", false},
		{"public asset read of an open registry", "GET", assets + "open/models/m/versions/1", public, 0, "", regBase + "open", false},
		{"public asset write of a closed registry", "PUT", assets + "closed/models/m/versions/1", public, 403, "UserError", "", false},
		{"private asset write of the endpoint's registry", "PUT", assets + "closed/models/m/versions/1", private(regBase + "closed"), 0, "", regBase + "closed", false},
		{"private asset read of another registry", "GET", assets + "open/models", private(regBase + "closed"), 403, "UserError", "", false},
		{"a workspace's private endpoint reaches no registry", "GET", assets + "open/models", private(rgPath + "/providers/Microsoft.MachineLearningServices/workspaces/wsone"), 403, "UserError", "", false},
		{"a registry that does not exist", "GET", assets + "nope/models", public, 404, "", "", false},
		{"a resource group that does not exist", "GET", AssetPrefix + "/subscriptions/" + testSub + "/resourceGroups/other/providers/Microsoft.MachineLearningServices/registries/open/models", public, 404, "ResourceGroupNotFound", "", false},
		{"ARM paths that name no registry", "GET", AssetPrefix + rgPath + "/providers/Microsoft.MachineLearningServices/workspaces/wsone", public, 404, arm.CodeInvalidRequestURI, "", false},
		{"an operation status, which names no registry", "GET", AssetPrefix + "/subscriptions/" + testSub + "/providers/Microsoft.MachineLearningServices/locations/eastus/operationStatuses/abc", public, 0, "", "", false},
		{"another namespace's operation status", "GET", AssetPrefix + "/subscriptions/" + testSub + "/providers/Microsoft.Network/locations/eastus/operationStatuses/abc", public, 404, arm.CodeInvalidRequestURI, "", false},
		{"another provider path below a location", "GET", AssetPrefix + "/subscriptions/" + testSub + "/providers/Microsoft.MachineLearningServices/locations/eastus/usages", public, 404, arm.CodeInvalidRequestURI, "", false},
		{"the prefix with an escaped slash", "GET", "/mferp%2Fmanagementfrontend" + regBase + "open", public, 404, arm.CodeInvalidRequestURI, "", false},
		{"the prefix alone", "GET", AssetPrefix, public, 404, arm.CodeInvalidRequestURI, "", false},
		{"an ARM path that does not parse", "GET", AssetPrefix + "/subscriptions/%zz", public, 400, "", "", false},
		{"another first segment", "GET", "/mferpx/managementfrontend" + regBase + "open", public, 404, arm.CodeInvalidRequestURI, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Resolve(context.Background(), tc.method, tc.path, "2024-04-01", base, tc.origin)
			if tc.status > 0 {
				var ae *arm.Error
				if !errors.As(err, &ae) || ae.Status != tc.status || tc.code != "" && ae.Code != tc.code {
					t.Fatalf("Resolve = %+v, %v; want %d %s", got, err, tc.status, tc.code)
				}
				if tc.status == 403 && got != nil && !got.Registry.IsRoot() {
					t.Errorf("a refused request resolved to registry %s", got.Registry)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if tc.registry == "" && !got.Registry.IsRoot() || tc.registry != "" && !strings.EqualFold(got.Registry.String(), tc.registry) || got.Discovery != tc.discovery {
				t.Fatalf("resolved to %s (discovery %t), want %s (%t)", got.Registry, got.Discovery, tc.registry, tc.discovery)
			}
			if !tc.discovery && (got.BaseURL != base+AssetPrefix || !strings.HasPrefix(tc.path, AssetPrefix+got.EscapedPath)) {
				t.Errorf("base %q, path %q", got.BaseURL, got.EscapedPath)
			}
		})
	}
}

// TestDiscovery: the document azure-ai-ml reads, with the base URL the
// client used as the resource provider URI and every region.
func TestDiscovery(t *testing.T) {
	s := newService(t)
	for _, listener := range []string{base, "https://127.77.0.9:443"} {
		tg, err := s.Resolve(context.Background(), "GET", "/registrymanagement/v1.0/registries/open/discovery", "", listener, netmodel.Origin{})
		if err != nil {
			t.Fatal(err)
		}
		body, ok := Discovery(tg).Body.(map[string]any)
		if !ok {
			t.Fatalf("body %T", Discovery(tg).Body)
		}
		regions, _ := body["regions"].([]any)
		if body["registryName"] != "open" || body["primaryRegion"] != "eastus" || body["subscriptionId"] != testSub ||
			body["resourceGroup"] != "rg" || body["primaryRegionResourceProviderUri"] != listener+"/" || len(regions) != 2 {
			t.Errorf("discovery at %s = %v", listener, body)
		}
	}
}

// FuzzResolve: no path, method or origin makes Resolve panic, and a
// resolved asset request always lies in the registry it names.
func FuzzResolve(f *testing.F) {
	s := newService(f)
	for _, p := range []string{"/registrymanagement/v1.0/registries/open/discovery", AssetPrefix + regBase + "open/models/m/versions/1",
		"/mferp/%2e%2e/x", AssetPrefix + "/subscriptions/" + testSub + "/providers/Microsoft.MachineLearningServices/locations/eastus/registryOperationStatuses/x"} {
		f.Add("GET", p, false)
		f.Add("PUT", p, true)
	}
	f.Fuzz(func(t *testing.T, method, path string, private bool) {
		origin := netmodel.Origin{}
		if private {
			id, _ := resourceid.Parse(regBase + "closed")
			origin.Endpoint = &netmodel.Endpoint{TargetID: id, GroupID: machinelearning.RegistryPrivateLinkGroup}
		}
		tg, err := s.Resolve(context.Background(), method, path, "2024-04-01", base, origin)
		if err != nil || tg.Discovery || tg.Registry.IsRoot() {
			return
		}
		if !strings.EqualFold(tg.Path.ID.String()+"/", tg.Registry.String()+"/") && !strings.HasPrefix(strings.ToLower(tg.Path.ID.String()), strings.ToLower(tg.Registry.String())+"/") {
			t.Fatalf("%s resolved to %s outside registry %s", path, tg.Path.ID, tg.Registry)
		}
		if private && !tg.Registry.Equal(origin.Endpoint.TargetID) {
			t.Fatalf("a private request reached %s", tg.Registry)
		}
	})
}

// TestDataPlaneVersionAndUploads: azure-ai-ml's data-plane api-version is
// served as an ARM version with Location-style PUTs, and its temporary
// data references resolve to the registry's storage, 409 once the version
// exists.
func TestDataPlaneVersionAndUploads(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	version := AssetPrefix + regBase + "open/models/m/versions/1"
	tg, err := s.Resolve(ctx, "PUT", version, "2021-10-01-DataPlanePreview", base, netmodel.Origin{})
	if err != nil || tg.APIVersion != machinelearning.RegistryDataPlaneServedAs || !tg.LocationPut || tg.TemporaryDataReference {
		t.Fatalf("data-plane version: %+v, %v", tg, err)
	}
	if tg, err = s.Resolve(ctx, "PUT", version, "2024-04-01", base, netmodel.Origin{}); err != nil || tg.APIVersion != "2024-04-01" || tg.LocationPut {
		t.Fatalf("ARM version: %+v, %v", tg, err)
	}
	ref := AssetPrefix + regBase + "open/tempdatarefs/m/versions/1"
	if _, err := s.Resolve(ctx, "GET", ref, machinelearning.RegistryDataPlaneAPIVersion, base, netmodel.Origin{}); !isStatus(err, 405) {
		t.Fatalf("GET of a temporary data reference: %v, want 405", err)
	}
	tg, err = s.Resolve(ctx, "PUT", ref, machinelearning.RegistryDataPlaneAPIVersion, base, netmodel.Origin{})
	if err != nil || !tg.TemporaryDataReference {
		t.Fatalf("temporary data reference: %+v, %v", tg, err)
	}
	now := time.Now()
	tests := []struct {
		name, body string
		status     int
	}{
		{"the path's version", `{"assetId":"azureml://registries/open/models/m/versions/1","temporaryDataReferenceType":"TemporaryBlobReference"}`, 200},
		{"another version", `{"assetId":"azureml://registries/open/models/m/versions/2"}`, 400},
		{"another registry", `{"assetId":"azureml://registries/closed/models/m/versions/1"}`, 400},
		{"an unknown kind", `{"assetId":"azureml://registries/open/widgets/m/versions/1"}`, 400},
		{"no assetId", `{}`, 400},
		{"not JSON", `{`, 400},
	}
	for _, tc := range tests {
		resp, err := machinelearning.TemporaryDataReference(ctx, s.e, tg.Path.ID, &engine.Request{Body: []byte(tc.body), Now: now})
		if tc.status != 200 {
			if !isStatus(err, tc.status) {
				t.Errorf("%s: %v, want %d", tc.name, err, tc.status)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, _ := resp.Body.(map[string]any)
		blob, _ := body["blobReferenceForConsumption"].(map[string]any)
		cred, _ := blob["credential"].(map[string]any)
		if sas, _ := cred["sasUri"].(string); !strings.Contains(sas, ".blob.core.windows.net/open-models/") || body["temporaryDataReferenceType"] != "TemporaryBlobReference" {
			t.Errorf("%s: %v", tc.name, body)
		}
	}
	// Once the version exists, 409: azure-ai-ml then uploads nothing.
	env := enginetest.New(t, s.e, clock.NewOffset(0))
	if resp, err := env.Serve(http.MethodPut, regBase+"open/models/m/versions/1", "2024-04-01", `{"properties":{"modelUri":"https://example.com/m"}}`); err != nil || resp.Status >= 300 {
		t.Fatalf("create the version: %v %v", resp, err)
	}
	if _, err := machinelearning.TemporaryDataReference(ctx, s.e, tg.Path.ID, &engine.Request{Body: []byte(`{"assetId":"azureml://registries/open/models/m/versions/1"}`), Now: now}); !isStatus(err, 409) {
		t.Errorf("an existing version: %v, want 409", err)
	}
}

func isStatus(err error, status int) bool {
	var ae *arm.Error
	return errors.As(err, &ae) && ae.Status == status
}

// TestAssetIDs: at azure-ai-ml's data-plane version, asset ids are the
// azureml:// form it parses; at an ARM version they stay ARM ids.
func TestAssetIDs(t *testing.T) {
	version := regBase + "open/models/m/versions/1"
	container := regBase + "open/models/m"
	tests := []struct {
		name   string
		target Target
		body   any
		want   []string
	}{
		{"a version", Target{LocationPut: true}, map[string]any{"id": version}, []string{"azureml://registries/open/models/m/versions/1"}},
		{"a container", Target{LocationPut: true}, map[string]any{"id": container}, []string{"azureml://registries/open/models/m"}},
		{"a list", Target{LocationPut: true}, map[string]any{"value": []any{map[string]any{"id": version}, map[string]any{"id": container}}},
			[]string{"azureml://registries/open/models/m/versions/1", "azureml://registries/open/models/m"}},
		{"the registry itself", Target{LocationPut: true}, map[string]any{"id": regBase + "open"}, []string{regBase + "open"}},
		{"an ARM version", Target{}, map[string]any{"id": version}, []string{version}},
	}
	for _, tc := range tests {
		resp := &engine.Response{Status: 200, Body: tc.body}
		if err := tc.target.AssetIDs(resp); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := json.Marshal(resp.Body)
		var got struct {
			ID    string
			Value []struct{ ID string }
		}
		_ = json.Unmarshal(b, &got)
		ids := []string{got.ID}
		if got.Value != nil {
			ids = nil
			for _, v := range got.Value {
				ids = append(ids, v.ID)
			}
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%s: ids %q, want %q", tc.name, ids, tc.want)
		}
	}
}
