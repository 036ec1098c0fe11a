package machinelearning

import (
	"net/http"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// TestOperationsList checks GET /providers/Microsoft.MachineLearningServices/operations
// at every api-version of the namespace, and that it lists every type
// armlet serves, with its actions.
func TestOperationsList(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	const path = "/providers/Microsoft.MachineLearningServices/operations"
	for _, version := range everyAPIVersion() {
		v.Must(http.MethodGet, path, version, "", 200)
	}
	v.Fail(http.MethodGet, path, "2024-04-02", "", 400, arm.CodeNoRegisteredProvider)
	v.Fail(http.MethodGet, "/providers/microsoft.machinelearningservices/operations", "", "", 400, "MissingApiVersionParameter")

	body := v.Must(http.MethodGet, "/providers/microsoft.machinelearningservices/operations", newest, "", 200)
	names := map[string]map[string]any{}
	for _, e := range body["value"].([]any) {
		m := e.(map[string]any)
		name := m["name"].(string)
		if names[strings.ToLower(name)] != nil {
			t.Errorf("operation %s listed twice", name)
		}
		names[strings.ToLower(name)] = m
		d := m["display"].(map[string]any)
		if d["provider"] != "Microsoft MachineLearningServices" || d["operation"] == "" || d["resource"] == "" || m["isDataAction"] != false {
			t.Errorf("operation %v", m)
		}
	}
	// The example's three operations.
	for _, want := range []string{"workspaces/write", "workspaces/delete", "workspaces/listkeys/action"} {
		if names[strings.ToLower(Namespace+"/"+want)] == nil {
			t.Errorf("no operation %s", want)
		}
	}
	if d := names[strings.ToLower(TypeWorkspaces+"/write")]["display"].(map[string]any); d["operation"] != "Create/Update Machine Learning workspaces" || d["resource"] != "workspaces" {
		t.Errorf("workspaces/write display = %v", d)
	}
	reg := v.e.Registry()
	for _, typ := range reg.TypesIn(Namespace) {
		for _, verb := range []string{"read", "write", "delete"} {
			if names[strings.ToLower(typ.Name+"/"+verb)] == nil {
				t.Errorf("no operation %s/%s", typ.Name, verb)
			}
		}
		res := strings.TrimPrefix(typ.Name, Namespace+"/")
		if _, answers := typ.Strategy.(engine.Actioner); answers {
			if _, listed := typeActions[res]; !listed {
				t.Errorf("type %s answers actions but typeActions does not list it", res)
			}
		}
	}
	for res := range typeActions {
		if _, ok := reg.Lookup(Namespace + "/" + res); !ok {
			t.Errorf("typeActions lists %s, which is not registered", res)
		}
	}
	for _, op := range []string{"locations/usages/read", "locations/quotas/read", "locations/updateQuotas/action", "locations/vmSizes/read",
		"serverlessEndpoints/regenerateKeys/action"} {
		if names[strings.ToLower(Namespace+"/"+op)] == nil && names[strings.ToLower(TypeWorkspaces+"/"+op)] == nil {
			t.Errorf("no operation %s", op)
		}
	}
}

// TestLocationsAzureML checks that Azure ML's regions, canary ones too,
// are accepted and shown where armlet lists regions.
func TestLocationsAzureML(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("canary", newest, `{"location":"eastus2euap"}`)
	v.createWorkspace("central", newest, `{"location":"Central US EUAP"}`)
	v.createWorkspace("italy", newest, `{"location":"italynorth"}`)
	v.Fail(http.MethodPut, wsBase+"moon", newest, `{"location":"moon"}`, 400, "LocationNotAvailableForResourceType")
	v.Must(http.MethodPut, "/subscriptions/"+testSub+"/resourceGroups/rg-canary", "2021-04-01", `{"location":"eastus2euap"}`, 201)
	if loc := v.Must(http.MethodGet, wsBase+"canary", newest, "", 200)["location"]; loc != "eastus2euap" {
		t.Errorf("location = %v", loc)
	}

	prov := v.Must(http.MethodGet, "/subscriptions/"+testSub+"/providers/Microsoft.MachineLearningServices", "2021-04-01", "", 200)
	for _, rt := range prov["resourceTypes"].([]any) {
		m := rt.(map[string]any)
		if locs := m["locations"].([]any); len(locs) != len(Locations) {
			t.Errorf("registration of %s: %d locations, want %d", m["resourceType"], len(locs), len(Locations))
		}
	}
	subLocs := map[string]bool{}
	for _, l := range v.Must(http.MethodGet, "/subscriptions/"+testSub+"/locations", "2022-12-01", "", 200)["value"].([]any) {
		subLocs[l.(map[string]any)["name"].(string)] = true
	}
	for _, l := range Locations {
		if !subLocs[engine.NormalizeLocation(l)] {
			t.Errorf("subscription locations lack %s", l)
		}
	}
	seen := map[string]bool{}
	for _, l := range Locations {
		n := engine.NormalizeLocation(l)
		if seen[n] {
			t.Errorf("%s listed twice", l)
		}
		seen[n] = true
	}
	for _, l := range engine.DefaultLocations {
		if !seen[engine.NormalizeLocation(l)] {
			t.Errorf("Locations lacks the engine's %s", l)
		}
	}
}
