package machinelearning

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/engine"
)

// seedBody parses a seed body the way the seed loader does (plain
// encoding/json: numbers are float64).
func seedBody(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (v *env) importResource(id, apiVersion, body string) {
	v.t.Helper()
	ok, err := v.e.Import(context.Background(), mustID(v.t, id), seedBody(v.t, body), apiVersion, engine.Caller{AppID: "seed"})
	if err != nil || !ok {
		v.t.Fatalf("import %s: imported %v, err %v", id, ok, err)
	}
}

const seededConn = `{"name":"ws1.pe1","properties":{"privateEndpoint":{"id":"` + peID + `"},
	"privateLinkServiceConnectionState":{"status":"Approved","description":"Auto-Approved","actionsRequired":"None"}}}`

// TestImportLegacyMode covers rule L3 and the inline connections of a
// seeded workspace.
func TestImportLegacyMode(t *testing.T) {
	tests := []struct {
		name       string
		apiVersion string
		props      string
		want       bool
		conns      int
	}{
		{"without the property, with a connection", "2021-07-01", `{"privateEndpointConnections":[` + seededConn + `]}`, true, 1},
		{"without the property, without connections", "2021-07-01", `{}`, false, 0},
		{"without the property, empty list", newest, `{"privateEndpointConnections":[]}`, false, 0},
		{"explicit false with a connection", newest, `{"v1LegacyMode":false,"privateEndpointConnections":[` + seededConn + `]}`, false, 1},
		{"explicit true without connections", newest, `{"v1LegacyMode":true}`, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newEnv(t, Options{}, nil)
			wsGUID := "2d1e6b1a-7c53-4b8e-9d8b-0c2f4f6a1b3c"
			props := seedBody(t, tt.props)
			props["workspaceId"] = wsGUID
			props["provisioningState"] = "Succeeded"
			v.importResource(wsBase+"ws1", tt.apiVersion, string(mustJSON(map[string]any{"location": "eastus", "properties": props})))
			p := v.props("ws1", newest)
			if p["v1LegacyMode"] != tt.want {
				t.Errorf("v1LegacyMode = %v, want %v", p["v1LegacyMode"], tt.want)
			}
			if p["workspaceId"] != wsGUID {
				t.Errorf("workspaceId = %v, want the seeded %s", p["workspaceId"], wsGUID)
			}
			states, count := v.inline(newest)
			if len(states) != tt.conns || count != float64(tt.conns) {
				t.Errorf("inline connections %v count %v, want %d", states, count, tt.conns)
			}
			if tt.conns > 0 {
				v.Must(http.MethodGet, connPath+"ws1.pe1", newest, "", http.StatusOK)
			}
			r := v.resource(wsBase + "ws1")
			if _, left := r.Internal.Data[dataSeedConnections]; left {
				t.Errorf("seed connections left in the workspace's data")
			}
			if eff, _ := EffectiveLegacyMode(r, v.clk.Now()); eff != tt.want {
				t.Errorf("effective = %v, want %v", eff, tt.want)
			}
		})
	}
}

// TestImportSeparateConnection: a seed that lists the connection as a
// resource of its own (after the workspace) gives the same L3 result; a
// client write ends L3, and run-time connections never apply it.
func TestImportSeparateConnection(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.importResource(wsBase+"ws1", "2021-07-01", `{"location":"eastus","properties":{}}`)
	if got := v.props("ws1", newest)["v1LegacyMode"]; got != false {
		t.Fatalf("before the connection: v1LegacyMode = %v", got)
	}
	v.importResource(connPath+"ws1.pe1", "2021-07-01", `{"properties":{"privateEndpoint":{"id":"`+peID+`"}}}`)
	if got := v.props("ws1", newest)["v1LegacyMode"]; got != true {
		t.Errorf("after the seeded connection: v1LegacyMode = %v, want true", got)
	}
	conn := v.Must(http.MethodGet, connPath+"ws1.pe1", newest, "", 200)
	if st := conn["properties"].(map[string]any)["privateLinkServiceConnectionState"].(map[string]any); st["status"] != "Approved" || st["description"] != "Auto-Approved" {
		t.Errorf("default state = %v", st)
	}

	// A second workspace, written by a client after the import: a later
	// seeded private endpoint does not change it; nor does a run-time one.
	v.importResource(wsBase+"ws2", "2021-07-01", `{"location":"eastus","properties":{}}`)
	v.Must(http.MethodPatch, wsBase+"ws2", newest, `{"properties":{"description":"touched"}}`, http.StatusOK)
	v.importResource(wsBase+"ws2/privateEndpointConnections/c", newest, `{"properties":{"privateEndpoint":{"id":"`+peID+`"}}}`)
	if got := v.props("ws2", newest)["v1LegacyMode"]; got != false {
		t.Errorf("ws2 after a client write: v1LegacyMode = %v, want false", got)
	}
	v.importResource(wsBase+"ws3", newest, `{"location":"eastus"}`)
	if err := UpsertConnection(context.Background(), v.e, mustID(t, wsBase+"ws3"), "c", Connection{PrivateEndpointID: peID, Status: "Approved"}); err != nil {
		t.Fatal(err)
	}
	if got := v.props("ws3", newest)["v1LegacyMode"]; got != false {
		t.Errorf("ws3 after a run-time connection: v1LegacyMode = %v, want false", got)
	}
	if err := UpsertConnection(context.Background(), v.e, mustID(t, wsBase+"ws3"), "c2", Connection{PrivateEndpointID: peID, Status: "Approved", Seeded: true}); err != nil {
		t.Fatal(err)
	}
	if got := v.props("ws3", newest)["v1LegacyMode"]; got != true {
		t.Errorf("ws3 after a seeded private endpoint: v1LegacyMode = %v, want true", got)
	}
}

// TestImportRefusesBadSeeds: a seed is checked like a request.
func TestImportRefusesBadSeeds(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"unknown property", `{"location":"eastus","properties":{"foo":1}}`},
		{"bad type", `{"location":"eastus","properties":{"v1LegacyMode":"yes"}}`},
		{"connection without a name", `{"location":"eastus","properties":{"privateEndpointConnections":[{"properties":{}}]}}`},
		{"connection without an endpoint", `{"location":"eastus","properties":{"privateEndpointConnections":[{"name":"c","properties":{}}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newEnv(t, Options{}, nil)
			_, err := v.e.Import(context.Background(), mustID(t, wsBase+"ws1"), seedBody(t, tt.body), newest, engine.Caller{})
			if err == nil {
				t.Fatalf("import accepted %s", tt.body)
			}
			t.Log(err)
			v.Fail(http.MethodGet, wsBase+"ws1", newest, "", 404, "ResourceNotFound")
		})
	}
}
