package keyvault

import (
	"net/http"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/providers/network"
)

const (
	tenant    = enginetest.TenantID
	sub       = enginetest.SubscriptionID
	otherSub  = enginetest.OtherSubscriptionID
	rgPath    = enginetest.GroupPath
	vaultPath = rgPath + "/providers/Microsoft.KeyVault/vaults/kv1"
	api       = "2024-11-01"
	objectID  = "11111111-2222-3333-4444-555555555555"
)

var walk = enginetest.Walk

// env is an engine with the key vault and network providers
// (enginetest.StartInGroup).
type env struct{ *enginetest.Env }

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{enginetest.StartInGroup(t, func(e *engine.Engine) {
		Register(e, Options{})
		network.Register(e, network.Options{})
	})}
}

// vault is a vault body with props added to the required ones.
func vault(props string) string {
	if props != "" {
		props = "," + props
	}
	return `{"location":"eastus","properties":{"tenantId":"` + tenant + `","sku":{"family":"A","name":"standard"}` + props + `}}`
}

// policy is an access policy for objectID with the given secret
// permissions.
func policy(secrets string) string {
	return `{"tenantId":"` + tenant + `","objectId":"` + objectID + `","permissions":{"secrets":[` + secrets + `]}}`
}

// create creates a vault and lets its create finish.
func (v *env) create(path, body string) map[string]any {
	v.T.Helper()
	got := v.Must(http.MethodPut, path, api, body, http.StatusCreated)
	if walk(got, "properties", "provisioningState") != "RegisteringDns" {
		v.T.Fatalf("provisioningState right after create = %v, want RegisteringDns", walk(got, "properties", "provisioningState"))
	}
	v.Advance(2 * time.Second)
	return v.Must(http.MethodGet, path, api, "", http.StatusOK)
}

// deletedPath is where Azure serves the deleted vault name.
func deletedPath(name string) string {
	return "/subscriptions/" + sub + "/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/" + name
}
