package armhttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/providers/machinelearning"
	"github.com/armlet/armlet/internal/registryapi"
)

// bearerIsCaller authenticates a request as the object id its bearer
// token names ("Bearer alice" is alice).
type bearerIsCaller struct{}

func (bearerIsCaller) Authenticate(_ context.Context, authorization string) (engine.Caller, *arm.Error) {
	if authorization == "" {
		return engine.Caller{}, arm.Errorf(http.StatusUnauthorized, "AuthenticationFailed", "no token")
	}
	return engine.Caller{ObjectID: strings.TrimPrefix(authorization, "Bearer "), TenantID: "t"}, nil
}

// TestRegistryEndpointAuthorization: the registry endpoint applies the
// registry's network rule first (a public call to a registry whose
// publicNetworkAccess is Disabled is refused before RBAC, and its flow
// record still names the operation), after authentication (no token: 401), then RBAC: discovery needs
// registries/read on the registry, the asset API the action ARM checks
// for the same path; a caller without them gets 403 and nothing is served.
func TestRegistryEndpointAuthorization(t *testing.T) {
	const (
		sub     = "00000000-1111-2222-3333-444444444444"
		rg      = "/subscriptions/" + sub + "/resourceGroups/rg"
		regBase = rg + "/providers/Microsoft.MachineLearningServices/registries/"
	)
	e, clk := testEngine(t, sub, func(e *engine.Engine) { machinelearning.Register(e, machinelearning.Options{TenantID: "t"}) })
	env := enginetest.New(t, e, clk)
	env.Must(http.MethodPut, rg, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	for name, pna := range map[string]string{"open": "Enabled", "closed": "Disabled"} {
		env.Must(http.MethodPut, regBase+name, "2024-04-01",
			`{"location":"eastus","properties":{"publicNetworkAccess":"`+pna+`","regionDetails":[{"location":"eastus"}]}}`, http.StatusCreated)
	}
	clk.Advance(time.Minute)

	authz := &denyObject{denied: "mallory"}
	flows := &flowList{}
	h := Handler(Options{Engine: e, Auth: bearerIsCaller{}, Clock: clk, Registry: registryapi.New(e), Authorize: authz, Flows: flows, MaxBodyBytes: 1 << 20})
	discovery := func(reg string) string { return "/registrymanagement/v1.0/registries/" + reg + "/discovery" }
	models := func(reg string) string {
		return registryapi.AssetPrefix + regBase + reg + "/models?api-version=2024-04-01"
	}
	const (
		readRegistry = "Microsoft.MachineLearningServices/registries/read " + regBase + "open"
		readModels   = "Microsoft.MachineLearningServices/registries/models/read " + regBase + "open" // a list is checked at its parent
	)
	tests := []struct {
		name, caller, path string
		status             int
		checks             string // RBAC checks made, "" for none
		operation          string // the flow record's operation
	}{
		{"discovery without a token", "", discovery("open"), http.StatusUnauthorized, "", ""},
		{"discovery with the permission", "alice", discovery("open"), http.StatusOK, readRegistry, "Microsoft.MachineLearningServices/registries/read"},
		{"discovery without", "mallory", discovery("open"), http.StatusForbidden, readRegistry, "Microsoft.MachineLearningServices/registries/read"},
		{"assets with the permission", "alice", models("open"), http.StatusOK, readModels, "Microsoft.MachineLearningServices/registries/models/read"},
		{"assets without", "mallory", models("open"), http.StatusForbidden, readModels, "Microsoft.MachineLearningServices/registries/models/read"},
		{"a closed registry's assets, publicly", "alice", models("closed"), http.StatusForbidden, "", "Microsoft.MachineLearningServices/registries/models/read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			authz.checks, flows.obs = nil, nil
			req := httptest.NewRequest(http.MethodGet, "https://armlet.test"+tt.path, nil)
			if tt.caller != "" {
				req.Header.Set("Authorization", "Bearer "+tt.caller)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if got := strings.Join(authz.checks, "; "); got != tt.checks {
				t.Errorf("RBAC checks %q, want %q", got, tt.checks)
			}
			if len(flows.obs) != 1 || flows.obs[0].Operation != tt.operation {
				t.Errorf("flow records %+v, want one naming %s", flows.obs, tt.operation)
			}
		})
	}
}
