package insights

import (
	"net/http"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/providers/operationalinsights"
)

const (
	rgPath = enginetest.GroupPath
	aiPath = rgPath + "/providers/Microsoft.Insights/components/ai1"
	laPath = rgPath + "/providers/Microsoft.OperationalInsights/workspaces/law1"
	api    = "2020-02-02"
)

var walk = enginetest.Walk

func newEnv(t *testing.T) *enginetest.Env {
	t.Helper()
	v := enginetest.StartInGroup(t, func(e *engine.Engine) {
		Register(e, Options{})
		operationalinsights.Register(e, operationalinsights.Options{})
	})
	v.Must(http.MethodPut, laPath, "2025-07-01", `{"location":"eastus"}`, http.StatusCreated)
	return v
}

func component(props string) string {
	return `{"location":"eastus","kind":"web","properties":{"Application_Type":"web"` + props + `}}`
}

// TestComponentRefusals: bodies Azure refuses are ARM errors naming the
// member.
func TestComponentRefusals(t *testing.T) {
	v := newEnv(t)
	cases := []struct {
		name, body   string
		status       int
		code, target string
	}{
		{"no kind", `{"location":"eastus","properties":{"Application_Type":"web"}}`, 400, "InvalidRequestContent", "kind"},
		{"no application type", `{"location":"eastus","kind":"web","properties":{}}`, 400, "InvalidRequestContent", "properties.Application_Type"},
		{"bad application type", strings.Replace(component(""), `"web"}`, `"desktop"}`, 1), 400, "InvalidRequestContent", "properties.Application_Type"},
		{"workspace of another type", component(`,"WorkspaceResourceId":"` + rgPath + `/providers/Microsoft.Storage/storageAccounts/s"`), 400, "LinkedInvalidPropertyId", "properties.WorkspaceResourceId"},
		{"missing workspace", component(`,"WorkspaceResourceId":"` + rgPath + `/providers/Microsoft.OperationalInsights/workspaces/nope"`), 400, "InvalidResourceReference", "properties.WorkspaceResourceId"},
		{"unknown property", component(`,"Retention":30`), 400, "InvalidRequestContent", "properties.Retention"},
		{"sku", `{"location":"eastus","kind":"web","sku":{"name":"x"},"properties":{"Application_Type":"web"}}`, 400, "InvalidRequestContent", "sku"},
	}
	for _, c := range cases {
		v.Refuse(t, c.name, http.MethodPut, aiPath, api, c.body, c.status, c.code, c.target)
	}
}

// TestComponent: a create answers 200 with the generated identifiers, an
// update keeps them, and the billing features start at Azure's plan and
// change with a PUT.
func TestComponent(t *testing.T) {
	v := newEnv(t)
	got := v.Must(http.MethodPut, aiPath, api, component(`,"WorkspaceResourceId":"`+laPath+`"`), 200)
	props := walk(got, "properties").(map[string]any)
	key, _ := props["InstrumentationKey"].(string)
	appID, _ := props["AppId"].(string)
	if len(key) != 36 || len(appID) != 36 || props["ApplicationId"] != "ai1" || props["IngestionMode"] != "LogAnalytics" ||
		props["provisioningState"] != "Succeeded" || props["TenantId"] != enginetest.SubscriptionID || props["RetentionInDays"] != float64(90) {
		t.Fatalf("component = %v", props)
	}
	if cs := props["ConnectionString"]; cs != "InstrumentationKey="+key+";IngestionEndpoint=https://eastus-0.in.applicationinsights.azure.com/;LiveEndpoint=https://eastus.livediagnostics.monitor.azure.com/;ApplicationId="+appID {
		t.Fatalf("ConnectionString = %v", cs)
	}
	upd := v.Must(http.MethodPut, aiPath, api, component(`,"RetentionInDays":30`), 200)
	if walk(upd, "properties", "InstrumentationKey") != key || walk(upd, "properties", "RetentionInDays") != float64(30) ||
		walk(upd, "properties", "WorkspaceResourceId") != laPath {
		t.Fatalf("update = %v", upd)
	}
	v.Must(http.MethodPatch, aiPath, api, `{"tags":{"team":"ml"}}`, 200)

	billing := aiPath + "/currentbillingfeatures"
	b := v.Must(http.MethodGet, billing, "2015-05-01", "", 200)
	if walk(b, "CurrentBillingFeatures", "0") != "Basic" || walk(b, "DataVolumeCap", "Cap") != float64(100) {
		t.Fatalf("billing = %v", b)
	}
	b = v.Must(http.MethodPut, billing, "2015-05-01", `{"CurrentBillingFeatures":["Basic"],"DataVolumeCap":{"Cap":5,"StopSendNotificationWhenHitCap":true}}`, 200)
	if walk(b, "DataVolumeCap", "Cap") != float64(5) || walk(b, "DataVolumeCap", "WarningThreshold") != float64(90) {
		t.Fatalf("billing after PUT = %v", b)
	}
	if b := v.Must(http.MethodGet, billing, "2015-05-01", "", 200); walk(b, "DataVolumeCap", "StopSendNotificationWhenHitCap") != true {
		t.Fatalf("billing kept = %v", b)
	}
	v.Fail(http.MethodPut, billing, "2015-05-01", `{"DataVolumeCap":{"Cap":"lots"}}`, 400, "InvalidRequestContent")
	v.Fail(http.MethodDelete, billing, "2015-05-01", "", 405, "MethodNotAllowed")
	v.Fail(http.MethodGet, rgPath+"/providers/Microsoft.Insights/components/nope/currentbillingfeatures", "2015-05-01", "", 404, "ResourceNotFound")

	v.Must(http.MethodDelete, aiPath, api, "", 200)
	v.Must(http.MethodDelete, aiPath, api, "", 204)
}
