package armhttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/proxy"
	"github.com/armlet/armlet/internal/workspaceapi"
)

// claimsRoot is a web UI that claims GET / and answers 200.
type claimsRoot struct{ reached *string }

func (u claimsRoot) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	*u.reached = "ui"
	w.WriteHeader(http.StatusOK)
}

func (claimsRoot) Claims(r *http.Request) bool { return r.URL.Path == "/" }

// TestOriginDecidesWhatIsServed holds the network model's promises at the
// front door: where a request arrives (never a header) decides what
// serves it. The main listener serves ARM (here refused, public ARM being
// disabled), the admin API, the token service and the web UI. A
// workspace's private endpoint listener serves only the workspace
// endpoint; a Resource Management one serves ARM (past the public ARM
// gate) and /metadata/endpoints; neither serves the admin API, the token
// service or the UI, and a listener of a group armlet does not serve
// serves nothing; each refusal names the endpoint. Each request's flow record has the class of where it
// arrived.
func TestOriginDecidesWhatIsServed(t *testing.T) {
	const sub = "00000000-0000-0000-0000-00000000000a"
	const ws = "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"
	e, clk := testEngine(t, sub)
	got := &bodies{Service: workspaceapi.New(workspaceapi.Options{Engine: e}), got: map[string]string{}}
	var ui string
	flows := &flowList{}
	h := Handler(Options{
		Engine: e, Auth: anyCaller{}, Clock: clk, Workspace: got, Admin: got, MaxBodyBytes: 1 << 20, Flows: flows,
		UI: claimsRoot{reached: &ui},
		PublicARM: func(context.Context, engine.Caller) error {
			return arm.Errorf(http.StatusForbidden, "PublicNetworkAccessRestricted", "public ARM is disabled")
		},
		Identity: func(mux *http.ServeMux) {
			mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(http.ResponseWriter, *http.Request) { got.got["token"] = "reached" })
		},
	})
	endpoint := func(group string) *netmodel.Endpoint {
		return &netmodel.Endpoint{ID: mustID(t, "/subscriptions/"+sub+"/resourceGroups/n/providers/Microsoft.Network/privateEndpoints/pe-"+group), TargetID: mustID(t, ws), GroupID: group}
	}
	public, toWorkspace, toARM, toBlob := (*netmodel.Endpoint)(nil), endpoint("amlworkspace"), endpoint("ResourceManagement"), endpoint("blob")
	const (
		armGet    = "/subscriptions/" + sub + "?api-version=2022-12-01"
		history   = "/history/v1.0" + ws + "/experiments/e"
		token     = "/t/oauth2/v2.0/token"
		admin     = "/_armlet/clock"
		metadata  = "/metadata/endpoints?api-version=2022-09-01"
		notServed = ""
		wsHost    = "0b1f6a2c-9d3e-4f5a-8b7c-6d5e4f3a2b1c.workspace.eastus.api.azureml.ms"
	)
	tests := []struct {
		name         string
		ep           *netmodel.Endpoint
		method, path string
		status       int
		reached      string // the handler that ran: workspace, admin, token, ui, or "" for ARM or none
		class        netmodel.PathClass
		// host, when set, is the host of the proxy tunnel the request came
		// through (a virtual network's proxy gives it ep's origin).
		host string
	}{
		{"public ARM refused by the gate", public, "GET", armGet, http.StatusForbidden, notServed, netmodel.ARMPublic, ""},
		{"public workspace endpoint", public, "POST", history, http.StatusOK, "workspace", netmodel.WorkspacePublic, ""},
		{"public admin API", public, "GET", admin, http.StatusOK, "admin", "", ""},
		{"public token service", public, "POST", token, http.StatusOK, "token", netmodel.ARMPublic, ""},
		{"public web UI", public, "GET", "/", http.StatusOK, "ui", "", ""},

		{"workspace listener serves its endpoint", toWorkspace, "POST", history, http.StatusOK, "workspace", netmodel.WorkspacePrivate, ""},
		{"workspace listener refuses ARM", toWorkspace, "GET", armGet, http.StatusNotFound, notServed, netmodel.WorkspacePrivate, ""},
		{"workspace listener refuses metadata", toWorkspace, "GET", metadata, http.StatusNotFound, notServed, netmodel.WorkspacePrivate, ""},
		{"workspace listener refuses the admin API", toWorkspace, "GET", admin, http.StatusNotFound, notServed, netmodel.WorkspacePrivate, ""},
		{"workspace listener refuses the token service", toWorkspace, "POST", token, http.StatusNotFound, notServed, netmodel.WorkspacePrivate, ""},
		{"workspace listener serves no UI", toWorkspace, "GET", "/", http.StatusNotFound, notServed, netmodel.WorkspacePrivate, ""},

		{"ARM listener serves ARM past the public gate", toARM, "GET", armGet, http.StatusOK, notServed, netmodel.ARMPrivate, ""},
		{"ARM listener serves metadata", toARM, "GET", metadata, http.StatusOK, notServed, netmodel.ARMPrivate, ""},
		{"ARM listener refuses the workspace endpoint", toARM, "POST", history, http.StatusNotFound, notServed, netmodel.ARMPrivate, ""},
		{"ARM listener refuses the registry endpoint", toARM, "GET", "/registrymanagement/v1.0/registries/r/discovery", http.StatusNotFound, notServed, netmodel.ARMPrivate, ""},
		{"ARM listener refuses the admin API", toARM, "GET", admin, http.StatusNotFound, notServed, "", ""},
		{"ARM listener refuses the token service", toARM, "POST", token, http.StatusNotFound, notServed, netmodel.ARMPrivate, ""},

		{"a group armlet does not serve", toBlob, "GET", armGet, http.StatusNotFound, notServed, netmodel.WorkspacePrivate, ""},
		{"a group armlet does not serve, workspace path", toBlob, "POST", history, http.StatusNotFound, notServed, netmodel.WorkspacePrivate, ""},

		// Through proxy tunnels, by host name; a virtual network's proxy
		// sets the origin its resolution found.
		{name: "tunnel: a workspace host, public", method: "POST", path: history, status: http.StatusOK, reached: "workspace", class: netmodel.WorkspacePublic, host: wsHost},
		{name: "tunnel: a workspace host through its endpoint", ep: toWorkspace, method: "POST", path: history, status: http.StatusOK, reached: "workspace", class: netmodel.WorkspacePrivate, host: wsHost},
		{name: "tunnel: a workspace host through its endpoint refuses ARM", ep: toWorkspace, method: "GET", path: armGet, status: http.StatusNotFound, class: netmodel.WorkspacePrivate, host: wsHost},
		{name: "tunnel: a workspace host refuses ARM", method: "GET", path: armGet, status: http.StatusNotFound, class: netmodel.WorkspacePublic, host: wsHost},
		{name: "tunnel: a workspace host refuses the admin API", method: "GET", path: admin, status: http.StatusNotFound, class: netmodel.WorkspacePublic, host: wsHost},
		{name: "tunnel: the regional host serves the workspace endpoint", method: "POST", path: history, status: http.StatusOK, reached: "workspace", class: netmodel.WorkspacePublic, host: "eastus.api.azureml.ms"},
		{name: "tunnel: the regional host routes the registry endpoint", method: "GET", path: "/registrymanagement/v1.0/registries/r/discovery", status: http.StatusNotFound, class: netmodel.RegistryPublic, host: "eastus.api.azureml.ms"},
		{name: "tunnel: a workspace host does not serve the registry endpoint", method: "GET", path: "/registrymanagement/v1.0/registries/r/discovery", status: http.StatusNotFound, class: netmodel.WorkspacePublic, host: wsHost},
		{name: "tunnel: the regional host refuses the token service", method: "POST", path: token, status: http.StatusNotFound, class: netmodel.WorkspacePublic, host: "eastus.api.azureml.ms"},
		{name: "tunnel: ARM's host, public, meets the gate", method: "GET", path: armGet, status: http.StatusForbidden, class: netmodel.ARMPublic, host: "management.azure.com"},
		{name: "tunnel: ARM's host through Resource Management Private Link", ep: toARM, method: "GET", path: armGet, status: http.StatusOK, class: netmodel.ARMPrivate, host: "management.azure.com"},
		{name: "tunnel: ARM's host through its endpoint refuses the workspace endpoint", ep: toARM, method: "POST", path: history, status: http.StatusNotFound, class: netmodel.ARMPrivate, host: "management.azure.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clear(got.got)
			ui = ""
			flows.mu.Lock()
			flows.obs = nil
			flows.mu.Unlock()
			host := "armlet.test"
			if tt.host != "" {
				host = tt.host
			}
			req := httptest.NewRequest(tt.method, "https://"+host+tt.path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			if tt.ep != nil {
				req = req.WithContext(netmodel.WithOrigin(req.Context(), netmodel.Origin{Listener: "127.77.0.1:8443", Endpoint: tt.ep}))
			}
			if tt.host != "" {
				req = req.WithContext(proxy.WithHost(req.Context(), tt.host))
			}
			// A header naming another origin changes nothing.
			req.Header.Set("X-Forwarded-For", "10.0.0.4")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			// A listener's refusal is its own, naming the endpoint, not a 404
			// of the service it would have reached.
			if tt.ep != nil && tt.status == http.StatusNotFound && !strings.Contains(rec.Body.String(), tt.ep.ID.String()) {
				t.Errorf("the refusal does not name the private endpoint %s: %s", tt.ep.ID, rec.Body)
			}
			reached := ui
			for name := range got.got {
				reached += name
			}
			if reached != tt.reached {
				t.Errorf("reached %q, want %q", reached, tt.reached)
			}
			flows.mu.Lock()
			defer flows.mu.Unlock()
			switch {
			case tt.class == "" && len(flows.obs) != 0:
				t.Errorf("flow records %+v, want none", flows.obs)
			case tt.class != "" && (len(flows.obs) != 1 || flows.obs[0].Class != tt.class):
				t.Errorf("flow records %+v, want one of class %s", flows.obs, tt.class)
			}
		})
	}
}
