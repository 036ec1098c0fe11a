package managedidentity

import (
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/google/uuid"
)

const (
	idPath = enginetest.GroupPath + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
	api    = "2024-11-30"
)

// TestIdentity: a create gets its ids and the tenant, an update keeps
// them, an import keeps the ones its file gives, and bad bodies are
// refused naming the member.
func TestIdentity(t *testing.T) {
	v := enginetest.StartInGroup(t, func(e *engine.Engine) { Register(e, Options{}) })
	got := v.Must(http.MethodPut, idPath, api, `{"location":"eastus","tags":{"a":"b"}}`, 201)
	principal, _ := enginetest.Walk(got, "properties", "principalId").(string)
	client, _ := enginetest.Walk(got, "properties", "clientId").(string)
	if uuid.Validate(principal) != nil || uuid.Validate(client) != nil || principal == client ||
		enginetest.Walk(got, "properties", "tenantId") != enginetest.TenantID || enginetest.Walk(got, "properties", "isolationScope") != "None" {
		t.Fatalf("identity = %v", got)
	}
	upd := v.Must(http.MethodPut, idPath, api, `{"location":"eastus","properties":{"isolationScope":"Regional","principalId":"x"}}`, 200)
	if enginetest.Walk(upd, "properties", "principalId") != principal || enginetest.Walk(upd, "properties", "isolationScope") != "Regional" {
		t.Fatalf("update = %v", upd)
	}
	v.Must(http.MethodPatch, idPath, api, `{"tags":{"c":"d"}}`, 200)

	seeded := enginetest.MustID(t, enginetest.GroupPath+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/seeded")
	const pid, cid = "aaaaaaaa-0000-0000-0000-000000000001", "aaaaaaaa-0000-0000-0000-000000000002"
	if _, err := v.Engine.Import(t.Context(), seeded, map[string]any{"location": "eastus", "properties": map[string]any{"principalId": pid, "clientId": cid}}, api, enginetest.DefaultCaller); err != nil {
		t.Fatal(err)
	}
	if s := v.Must(http.MethodGet, seeded.String(), api, "", 200); enginetest.Walk(s, "properties", "principalId") != pid || enginetest.Walk(s, "properties", "clientId") != cid {
		t.Fatalf("seeded = %v", s)
	}

	path := enginetest.GroupPath + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
	v.Refuse(t, "short name", http.MethodPut, path+"ab", api, `{"location":"eastus"}`, 400, "InvalidResourceName", "name")
	v.Refuse(t, "bad scope", http.MethodPut, path+"id2", api, `{"location":"eastus","properties":{"isolationScope":"Global"}}`, 400, "InvalidRequestContent", "properties.isolationScope")
	v.Refuse(t, "sku", http.MethodPut, path+"id2", api, `{"location":"eastus","sku":{"name":"x"}}`, 400, "InvalidRequestContent", "sku")
	v.Must(http.MethodDelete, idPath, api, "", 200)
	v.Must(http.MethodDelete, idPath, api, "", 204)
}
