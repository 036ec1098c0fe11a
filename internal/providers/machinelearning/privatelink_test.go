package machinelearning

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/engine"
)

// TestPrivateLinkRecorder exercises the workspace's private link
// capability the way the network provider reaches it: looked up by type
// through the engine.
func TestPrivateLinkRecorder(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, `{"location":"eastus","properties":{"storageAccount":"`+storageID+`"}}`)
	ctx := context.Background()
	rec, ok := engine.Capability[engine.PrivateLinkRecorder](v.e.Registry(), "microsoft.machinelearningservices/WORKSPACES")
	if !ok {
		t.Fatal("a workspace is not a PrivateLinkRecorder")
	}
	if got := rec.PrivateLinkGroups(); !slices.Equal(got, []string{"amlworkspace"}) {
		t.Errorf("groups = %v", got)
	}
	ws := v.resource(wsBase + "ws1")
	wsid, _ := ws.Properties["workspaceId"].(string)
	var fqdns []string
	for _, f := range rec.PrivateLinkFQDNs(ws, "AmlWorkspace") {
		fqdns = append(fqdns, f.Member+" "+f.FQDN)
	}
	want := []string{"default " + wsid + ".workspace.eastus.api.azureml.ms", "cert " + wsid + ".workspace.eastus.cert.api.azureml.ms",
		"notebook ml-ws1-eastus-" + wsid + ".eastus.notebooks.azure.net", "inference *." + wsid + ".inference.eastus.api.azureml.ms"}
	if !slices.Equal(fqdns, want) {
		t.Errorf("FQDNs = %v, want %v", fqdns, want)
	}

	wsID, pe := mustID(t, wsBase+"ws1"), mustID(t, peID)
	other := mustID(t, rgPath+"/providers/Microsoft.Network/privateEndpoints/pe2")
	if err := rec.RecordConnection(ctx, wsID, "pe1.c", pe, engine.PrivateLinkState{Status: "Pending", Description: "please"}, engine.Caller{AppID: "app"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, conn string
		pe         string
		want       engine.PrivateLinkState
		ok         bool
	}{
		{"recorded", "pe1.c", peID, engine.PrivateLinkState{Status: "Pending", Description: "please", ActionsRequired: "None"}, true},
		{"endpoint in another casing", "pe1.c", strings.ToUpper(peID), engine.PrivateLinkState{Status: "Pending", Description: "please", ActionsRequired: "None"}, true},
		{"another endpoint's name", "pe1.c", other.String(), engine.PrivateLinkState{}, false},
		{"no such connection", "pe1.d", peID, engine.PrivateLinkState{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := rec.ConnectionState(ctx, wsID, tt.conn, mustID(t, tt.pe))
			if ok != tt.ok || got != tt.want {
				t.Errorf("ConnectionState = %+v %v, want %+v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	if err := rec.RecordConnection(ctx, wsID, "pe1.c", pe, engine.PrivateLinkState{Status: "Bogus"}, engine.Caller{}); err == nil {
		t.Error("RecordConnection accepted status Bogus")
	}

	// Removing beneath another endpoint leaves the connection; beneath
	// the resource group removes it.
	if err := rec.RemoveConnections(ctx, other, engine.Caller{AppID: "net"}); err != nil {
		t.Fatal(err)
	}
	v.Must(http.MethodGet, connPath+"pe1.c", newest, "", http.StatusOK)
	if err := rec.RemoveConnections(ctx, mustID(t, rgPath), engine.Caller{AppID: "net"}); err != nil {
		t.Fatal(err)
	}
	v.Fail(http.MethodGet, connPath+"pe1.c", newest, "", http.StatusNotFound, "ResourceNotFound")
}
