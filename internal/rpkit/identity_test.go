package rpkit

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// TestCompleteIdentity: a system-assigned identity gets a principalId made
// once and the subscription's tenant; user-assigned identities take the
// ids of the identity resources that exist and keep made ones otherwise;
// inconsistent bodies are refused.
func TestCompleteIdentity(t *testing.T) {
	ctx := context.Background()
	reg := engine.NewRegistry()
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clock.NewOffset(0), Registry: reg})
	const sub, tenant = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-0000000000aa"
	if err := e.EnsureSubscription(ctx, sub, tenant, "test"); err != nil {
		t.Fatal(err)
	}
	types := Enum("IdentityType", "None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned")
	uai := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
	id, err := resourceid.Parse("/subscriptions/" + sub + "/resourceGroups/rg/providers/Test.X/things/t")
	if err != nil {
		t.Fatal(err)
	}
	r := &engine.Resource{ID: id}
	complete := func(identity string) (map[string]any, error) {
		r.Extra = map[string]json.RawMessage{"identity": json.RawMessage(identity)}
		if err := CompleteIdentity(ctx, e, &engine.Request{Method: http.MethodPut}, r, types); err != nil {
			return nil, err
		}
		var out map[string]any
		if raw, ok := r.Extra["identity"]; ok {
			_ = json.Unmarshal(raw, &out)
		}
		return out, nil
	}
	got, err := complete(`{"type":"systemassigned"}`)
	if err != nil || got["type"] != "SystemAssigned" || got["tenantId"] != tenant || got["principalId"] == "" {
		t.Fatalf("system-assigned = %v %v", got, err)
	}
	first := got["principalId"]
	got, err = complete(`{"type":"SystemAssigned,UserAssigned","userAssignedIdentities":{"` + uai + `":{}}}`)
	if err != nil || got["principalId"] != first {
		t.Fatalf("the principalId must be kept: %v %v", got, err)
	}
	user := got["userAssignedIdentities"].(map[string]any)[uai].(map[string]any)
	again, _ := complete(`{"type":"UserAssigned","userAssignedIdentities":{"` + uai + `":{}}}`)
	if again["userAssignedIdentities"].(map[string]any)[uai].(map[string]any)["clientId"] != user["clientId"] || again["principalId"] != nil {
		t.Fatalf("made user ids must be kept: %v then %v", user, again)
	}
	if got, err := complete(`{"type":"None"}`); err != nil || got != nil {
		t.Fatalf("None = %v %v, want no identity", got, err)
	}
	for _, bad := range []string{
		`{"type":"Magic"}`,
		`{}`,
		`{"type":"UserAssigned"}`,
		`{"type":"SystemAssigned","userAssignedIdentities":{"` + uai + `":{}}}`,
		`{"type":"UserAssigned","userAssignedIdentities":{"/subscriptions/` + sub + `/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a":{}}}`,
	} {
		_, err := complete(bad)
		if ae, ok := arm.AsError(err); !ok || ae.Status != http.StatusBadRequest {
			t.Errorf("%s: %v, want a 400", bad, err)
		}
	}
}
