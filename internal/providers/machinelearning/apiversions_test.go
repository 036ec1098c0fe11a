package machinelearning

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
)

// everyAPIVersion is every api-version Azure publishes for the namespace,
// stable and preview.
func everyAPIVersion() []string { return append(slices.Clone(APIVersions), PreviewAPIVersions...) }

// TestAPIVersionsWorkspace creates a workspace at every api-version the
// namespace publishes. Every stable one and every preview armlet has no
// SDK model of is accepted (the README's promise); a preview with a model
// is accepted where the model has workspaces, as apiVersionsOf says, and
// refused elsewhere (2022-02-01-preview: azure-ai-ml's client of it has
// no workspaces). A workspace created before 2022-05-01 is legacy
// (v1LegacyMode true, rule L2) and responses at its api-version omit
// v1LegacyMode; from 2022-05-01 on it is not, and they show it.
func TestAPIVersionsWorkspace(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	accepted := apiVersionsOf(TypeWorkspaces, APIVersions)
	for _, version := range everyAPIVersion() {
		if _, modelled := sdkAPIs[version]; !slices.Contains(accepted, version) && (!modelled || !isPreview(version)) {
			t.Errorf("api-version %s is not accepted for workspaces", version)
		}
	}
	for _, version := range everyAPIVersion() {
		t.Run(version, func(t *testing.T) {
			v.in(t)
			name := "ws" + strings.ReplaceAll(version, "-", "")
			if !slices.Contains(accepted, version) {
				v.Fail(http.MethodPut, wsBase+name, version, `{"location":"eastus"}`, http.StatusBadRequest, arm.CodeNoRegisteredProvider)
				return
			}
			v.createWorkspace(name, version, `{"location":"eastus"}`)
			knowsLegacy := version[:10] >= "2022-05-01"
			shown, has := v.props(name, version)["v1LegacyMode"]
			if has != knowsLegacy || has && shown != false {
				t.Errorf("GET at %s: v1LegacyMode %v (present %v), want present %v and false", version, shown, has, knowsLegacy)
			}
			if legacy := v.props(name, "2025-09-01")["v1LegacyMode"]; legacy != !knowsLegacy {
				t.Errorf("created at %s: v1LegacyMode %v at 2025-09-01, want %v", version, legacy, !knowsLegacy)
			}
		})
	}
}

// TestAPIVersionsChildTypes probes every child type of a workspace at
// every api-version the namespace publishes: accepted (a GET reaches the
// type and finds nothing, 404) at the versions apiVersionsOf gives,
// refused (400 NoRegisteredProviderFound) at the others, of which each
// type has at least one. Types of the v2 API (all but computes and
// private endpoint connections) accept no stable version before
// 2022-05-01; every type accepts, from its first stable version's date
// on, every version armlet has no SDK model of (one with a model is
// accepted where the model has the type).
func TestAPIVersionsChildTypes(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("v2ws", "2025-09-01", `{"location":"eastus"}`)
	reg := v.e.Registry()
	var children []string
	for _, typ := range reg.TypesIn("Microsoft.MachineLearningServices") {
		if strings.HasPrefix(typ.Name, TypeWorkspaces+"/") {
			children = append(children, typ.Name)
		}
	}
	if len(children) < 20 {
		t.Fatalf("only %d child types registered: %v", len(children), children)
	}
	for _, typ := range children {
		v1 := typ == TypeComputes || typ == TypePrivateEndpointConnections
		stable := V2APIVersions
		if v1 {
			stable = APIVersions
		}
		if typ == TypeServerlessEndpoints || typ == TypeMarketplaceSubscriptions {
			stable = sinceServerless() // introduced at 2024-04-01
		}
		accepted := apiVersionsOf(typ, stable)
		path := wsBase + "v2ws"
		for _, seg := range strings.Split(strings.TrimPrefix(typ, TypeWorkspaces+"/"), "/") {
			path += "/" + seg + "/x"
		}
		t.Run(typ[len(TypeWorkspaces)+1:], func(t *testing.T) {
			v.in(t)
			// Independently of apiVersionsOf: a v2 type has no stable
			// version before 2022-05-01, and from its first stable
			// version's date on it has every version, stable or preview.
			first := ""
			for _, version := range APIVersions {
				if slices.Contains(accepted, version) {
					first = version
				}
			}
			if first == "" || !v1 && first < "2022-05-01" {
				t.Fatalf("first stable api-version %q", first)
			}
			for _, version := range everyAPIVersion() {
				if _, modelled := sdkAPIs[version]; !modelled && version[:10] >= first && !slices.Contains(accepted, version) {
					t.Errorf("api-version %s, newer than the first stable one %s, is not accepted", version, first)
				}
			}
			refused := 0
			for _, version := range everyAPIVersion() {
				_, err := v.Serve(http.MethodGet, path, version, "")
				ae, _ := arm.AsError(err)
				switch {
				case slices.Contains(accepted, version):
					if ae == nil || ae.Status != http.StatusNotFound {
						t.Errorf("GET at %s: %v, want 404 (accepted, nothing there)", version, err)
					}
				case ae == nil || ae.Status != http.StatusBadRequest || ae.Code != arm.CodeNoRegisteredProvider:
					t.Errorf("GET at %s: %v, want 400 %s", version, err, arm.CodeNoRegisteredProvider)
				default:
					refused++
				}
			}
			if refused == 0 {
				t.Errorf("refused at no api-version; accepted at %v", accepted)
			}
		})
	}
}
