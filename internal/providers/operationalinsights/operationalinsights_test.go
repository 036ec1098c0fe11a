package operationalinsights

import (
	"net/http"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
)

const (
	laPath = enginetest.GroupPath + "/providers/Microsoft.OperationalInsights/workspaces/law1"
	api    = "2025-07-01"
)

var walk = enginetest.Walk

func newEnv(t *testing.T) *enginetest.Env {
	t.Helper()
	return enginetest.StartInGroup(t, func(e *engine.Engine) { Register(e, Options{}) })
}

// TestWorkspaceRefusals: bodies Azure refuses are ARM errors naming the
// member.
func TestWorkspaceRefusals(t *testing.T) {
	v := newEnv(t)
	ws := func(props string) string { return `{"location":"eastus","properties":{` + props + `}}` }
	cases := []struct {
		name, path, body string
		status           int
		code, target     string
	}{
		{"short name", enginetest.GroupPath + "/providers/Microsoft.OperationalInsights/workspaces/la", ws(""), 400, "InvalidResourceName", "name"},
		{"bad sku", laPath, ws(`"sku":{"name":"Gold"}`), 400, "InvalidRequestContent", "properties.sku.name"},
		{"sku without name", laPath, ws(`"sku":{}`), 400, "InvalidRequestContent", "properties.sku.name"},
		{"retention too long", laPath, ws(`"retentionInDays":731`), 400, "BadRequest", "properties.retentionInDays"},
		{"retention too short", laPath, ws(`"retentionInDays":7`), 400, "BadRequest", "properties.retentionInDays"},
		{"free with retention", laPath, ws(`"sku":{"name":"Free"},"retentionInDays":90`), 400, "BadRequest", "properties.retentionInDays"},
		{"unknown property", laPath, ws(`"retention":30`), 400, "InvalidRequestContent", "properties.retention"},
		{"bad access", laPath, ws(`"publicNetworkAccessForQuery":"Sometimes"`), 400, "InvalidRequestContent", "properties.publicNetworkAccessForQuery"},
		{"kind", laPath, `{"location":"eastus","kind":"x","properties":{}}`, 400, "InvalidRequestContent", "kind"},
	}
	for _, c := range cases {
		v.Refuse(t, c.name, http.MethodPut, c.path, api, c.body, c.status, c.code, c.target)
	}
}

// TestWorkspace: a long-running create with Azure's defaults and a kept
// customerId; shared keys stable until regenerated; the deleted lists.
func TestWorkspace(t *testing.T) {
	v := newEnv(t)
	resp, err := v.Serve(http.MethodPut, laPath, api, `{"location":"eastus","properties":{"sku":{"name":"pergb2018"},"retentionInDays":60}}`)
	if err != nil || resp.Status != http.StatusCreated || resp.Header.Get("Azure-AsyncOperation") == "" {
		t.Fatalf("create = %v %v", resp, err)
	}
	v.Advance(2e9)
	got := v.Must(http.MethodGet, laPath, api, "", 200)
	customer, _ := walk(got, "properties", "customerId").(string)
	want := map[string]any{
		"sku.name": "PerGB2018", "retentionInDays": float64(60), "workspaceCapping.dailyQuotaGb": float64(-1),
		"publicNetworkAccessForIngestion": "Enabled", "features.enableLogAccessUsingOnlyResourcePermissions": true,
		"provisioningState": "Succeeded",
	}
	for p, w := range want {
		if g := walk(got["properties"], strings.Split(p, ".")...); g != w {
			t.Errorf("properties.%s = %v, want %v", p, g, w)
		}
	}
	if len(customer) != 36 || walk(got, "etag") == nil {
		t.Fatalf("workspace = %v", got)
	}
	upd := v.Must(http.MethodPut, laPath, api, `{"location":"eastus","properties":{"sku":{"name":"Free"}}}`, 200)
	if walk(upd, "properties", "customerId") != customer || walk(upd, "properties", "retentionInDays") != float64(7) {
		t.Fatalf("update = %v", upd)
	}
	keys := v.Must(http.MethodPost, laPath+"/sharedKeys", "2020-08-01", "", 200)
	if k, _ := keys["primarySharedKey"].(string); len(k) != 88 || keys["secondarySharedKey"] == k {
		t.Fatalf("keys = %v", keys)
	}
	if again := v.Must(http.MethodPost, laPath+"/sharedKeys", "2020-08-01", "", 200); again["primarySharedKey"] != keys["primarySharedKey"] {
		t.Fatalf("sharedKeys changed the keys")
	}
	if regen := v.Must(http.MethodPost, laPath+"/regenerateSharedKey", "2020-08-01", "", 200); regen["primarySharedKey"] == keys["primarySharedKey"] {
		t.Fatalf("regenerateSharedKey kept the keys")
	}
	deleted := "/subscriptions/" + enginetest.SubscriptionID + "/providers/Microsoft.OperationalInsights/deletedWorkspaces"
	if list := v.Must(http.MethodGet, deleted, api, "", 200)["value"].([]any); len(list) != 0 {
		t.Fatalf("deleted workspaces = %v", list)
	}
	v.Must(http.MethodDelete, laPath+"?api-version=2020-08-01&force=true", "", "", 200)
	v.Fail(http.MethodGet, laPath, api, "", 404, "ResourceNotFound")
}
