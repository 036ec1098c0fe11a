package machinelearning

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/engine"
)

const connPath = wsBase + "ws1/privateEndpointConnections/"

func stateBody(status string) string {
	return `{"properties":{"privateLinkServiceConnectionState":{"status":"` + status + `","description":"by test"}}}`
}

// upsert creates or updates a connection from the private endpoint side.
func (v *env) upsert(name, status string, seeded bool) {
	v.t.Helper()
	err := UpsertConnection(context.Background(), v.e, mustID(v.t, wsBase+"ws1"), name, Connection{
		PrivateEndpointID: peID, Status: status, Description: "from the endpoint", Seeded: seeded,
		Caller: engine.Caller{AppID: "33333333-0000-0000-0000-000000000003"},
	})
	if err != nil {
		v.t.Fatalf("UpsertConnection %s %s: %v", name, status, err)
	}
}

// inline returns the workspace's inline connections by name, and its
// privateLinkCount.
func (v *env) inline(apiVersion string) (map[string]string, float64) {
	v.t.Helper()
	p := v.props("ws1", apiVersion)
	out := map[string]string{}
	for _, c := range p["privateEndpointConnections"].([]any) {
		m := c.(map[string]any)
		st := m["properties"].(map[string]any)["privateLinkServiceConnectionState"].(map[string]any)
		out[m["name"].(string)] = st["status"].(string)
	}
	return out, p["privateLinkCount"].(float64)
}

// TestConnectionApproval walks a connection through the approval API and
// checks the workspace's inline view after each step.
func TestConnectionApproval(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	v.upsert("pec1", "Pending", false)
	v.upsert("pec2", "Approved", false)

	steps := []struct {
		name      string
		body      string
		status    int
		code      string
		wantState string
		wantCount float64
	}{
		{"approve a pending connection", stateBody("Approved"), 200, "", "Approved", 2},
		{"update the description only", stateBody("approved"), 200, "", "Approved", 2},
		{"back to pending is refused", stateBody("Pending"), 400, codeStatusChange, "Approved", 2},
		{"reject an approved connection", stateBody("Rejected"), 200, "", "Rejected", 1},
		{"approve a rejected connection is refused", stateBody("Approved"), 400, codeStatusChange, "Rejected", 1},
		{"disconnect is the platform's", stateBody("Disconnected"), 400, codeStatusChange, "Rejected", 1},
		{"bad status", stateBody("Maybe"), 400, "InvalidRequestContent", "Rejected", 1},
		{"missing state", `{"properties":{}}`, 400, "InvalidRequestContent", "Rejected", 1},
		{"missing status", `{"properties":{"privateLinkServiceConnectionState":{"description":"x"}}}`, 400, "InvalidRequestContent", "Rejected", 1},
		{"unknown property", `{"properties":{"foo":1,"privateLinkServiceConnectionState":{"status":"Rejected"}}}`, 400, "InvalidRequestContent", "Rejected", 1},
	}
	for _, s := range steps {
		if s.code == "" {
			body := v.Must(http.MethodPut, connPath+"pec1", newest, s.body, s.status)
			props := body["properties"].(map[string]any)
			st := props["privateLinkServiceConnectionState"].(map[string]any)
			if st["status"] != s.wantState || st["description"] != "by test" || st["actionsRequired"] != "None" ||
				props["privateEndpoint"].(map[string]any)["id"] != peID || props["provisioningState"] != "Succeeded" {
				t.Errorf("%s: response properties = %v", s.name, props)
			}
		} else {
			ae := v.Fail(http.MethodPut, connPath+"pec1", newest, s.body, s.status, s.code)
			if ae.Target == "" {
				t.Errorf("%s: error without a target: %s", s.name, ae.Message)
			}
		}
		states, count := v.inline(newest)
		if states["pec1"] != s.wantState || states["pec2"] != "Approved" || count != s.wantCount {
			t.Errorf("%s: inline %v privateLinkCount %v, want pec1 %s and count %v", s.name, states, count, s.wantState, s.wantCount)
		}
	}

	// privateEndpoint.id is read-only.
	v.Must(http.MethodPut, connPath+"pec2", newest,
		`{"properties":{"privateEndpoint":{"id":"/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/privateEndpoints/other"},"privateLinkServiceConnectionState":{"status":"Approved"}}}`, 200)
	got := v.Must(http.MethodGet, connPath+"pec2", newest, "", 200)
	if id := got["properties"].(map[string]any)["privateEndpoint"].(map[string]any)["id"]; id != peID {
		t.Errorf("privateEndpoint.id = %v, want %v kept", id, peID)
	}
	if got["type"] != TypePrivateEndpointConnections || got["id"] != connPath+"pec2" {
		t.Errorf("connection envelope = %v", got)
	}

	list := v.Must(http.MethodGet, wsBase+"ws1/privateEndpointConnections", newest, "", 200)
	if n := len(list["value"].([]any)); n != 2 {
		t.Errorf("list has %d connections, want 2", n)
	}

	// A client cannot create a connection.
	ae := v.Fail(http.MethodPut, connPath+"nope", newest, stateBody("Approved"), 404, codeConnectionNotFound)
	t.Log(ae.Message)
	v.Fail(http.MethodPut, wsBase+"missing/privateEndpointConnections/x", newest, stateBody("Approved"), 404, "ParentResourceNotFound")

	// DELETE removes it from the workspace.
	v.Must(http.MethodDelete, connPath+"pec2", newest, "", 200)
	v.Fail(http.MethodGet, connPath+"pec2", newest, "", 404, "ResourceNotFound")
	v.Must(http.MethodDelete, connPath+"pec2", newest, "", 204)
	if states, count := v.inline(newest); len(states) != 1 || count != 0 {
		t.Errorf("after delete: inline %v count %v", states, count)
	}
}

// TestUpsertConnection: the private endpoint side may set any status, and
// a run-time connection does not change v1LegacyMode.
func TestUpsertConnection(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	v.upsert("pec1", "Rejected", false)
	v.upsert("pec1", "Approved", false)
	r := v.resource(connPath + "pec1")
	if ConnectionStatus(r) != "Approved" || r.SystemData.LastModifiedBy != "33333333-0000-0000-0000-000000000003" {
		t.Errorf("after upsert: status %s systemData %+v", ConnectionStatus(r), r.SystemData)
	}
	if got := v.props("ws1", newest)["v1LegacyMode"]; got != false {
		t.Errorf("v1LegacyMode = %v after a run-time connection, want false", got)
	}

	ctx := context.Background()
	tests := []struct {
		name string
		ws   string
		c    Connection
		code string
	}{
		{"bad status", wsBase + "ws1", Connection{PrivateEndpointID: peID, Status: "Maybe"}, "BadRequest"},
		{"bad endpoint id", wsBase + "ws1", Connection{PrivateEndpointID: storageID, Status: "Approved"}, "InvalidRequestContent"},
		{"missing workspace", wsBase + "missing", Connection{PrivateEndpointID: peID, Status: "Approved"}, "ParentResourceNotFound"},
	}
	for _, tt := range tests {
		err := UpsertConnection(ctx, v.e, mustID(t, tt.ws), "pecx", tt.c)
		if err == nil || !strings.Contains(err.Error(), tt.code) {
			t.Errorf("%s: err = %v, want %s", tt.name, err, tt.code)
		}
	}
}

// TestWorkspaceDeleteCascades: deleting a workspace removes its
// connections.
func TestWorkspaceDeleteCascades(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, baseBody)
	v.upsert("pec1", "Approved", false)
	resp, err := v.Serve(http.MethodDelete, wsBase+"ws1", newest, "")
	if err != nil || resp.Status != http.StatusAccepted || resp.Header.Get("Location") == "" {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	v.Advance(2 * time.Second)
	if err := v.e.ReapDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	v.Fail(http.MethodGet, wsBase+"ws1", newest, "", 404, "ResourceNotFound")
	v.Fail(http.MethodGet, connPath+"pec1", newest, "", 404, "ParentResourceNotFound")
	// Re-created, the workspace has no connections left over.
	v.createWorkspace("ws1", newest, baseBody)
	if states, count := v.inline(newest); len(states) != 0 || count != 0 {
		t.Errorf("re-created workspace shows connections %v count %v", states, count)
	}
	v.Fail(http.MethodGet, connPath+"pec1", newest, "", 404, "ResourceNotFound")
}

// TestConnectionsHaveNoOperations holds what a workspace's kept GET body
// relies on (workspaceStrategy.RenderStableUntil): its private endpoint
// connections are written synchronously, so none changes by time alone.
func TestConnectionsHaveNoOperations(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	typ, ok := v.e.Registry().Lookup(TypePrivateEndpointConnections)
	if !ok || typ.Put != engine.Sync || typ.Delete != engine.Sync {
		t.Fatalf("%s: put %v, delete %v; a workspace's kept body must then follow its connections' operations", TypePrivateEndpointConnections, typ.Put, typ.Delete)
	}
}
