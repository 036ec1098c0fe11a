package storage

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/providers/network"
)

const (
	tenant   = enginetest.TenantID
	sub      = enginetest.SubscriptionID
	otherSub = enginetest.OtherSubscriptionID
	rgPath   = enginetest.GroupPath
	acctPath = rgPath + "/providers/Microsoft.Storage/storageAccounts/acct1"
	api      = "2025-08-01"
	netAPI   = "2025-01-01"
)

var walk = enginetest.Walk

// env is an engine with the storage and network providers
// (enginetest.StartInGroup).
type env struct{ *enginetest.Env }

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{enginetest.StartInGroup(t, func(e *engine.Engine) {
		Register(e, Options{})
		network.Register(e, network.Options{})
	})}
}

// account is a storage account body.
func account(sku, kind, props string) string {
	return `{"location":"eastus","sku":{"name":"` + sku + `"},"kind":"` + kind + `","properties":{` + props + `}}`
}

// create creates an account at path, follows its Location to the end
// as a client polls, and returns the final GET.
func (v *env) create(path, body string) map[string]any {
	v.T.Helper()
	resp, err := v.Serve(http.MethodPut, path, api, body)
	if err != nil {
		v.T.Fatalf("PUT %s: %v", path, err)
	}
	loc := resp.Header.Get("Location")
	if resp.Status != http.StatusAccepted || loc == "" || resp.Body != nil {
		v.T.Fatalf("PUT %s = %d %v (Location %q), want 202 with Location and no body", path, resp.Status, resp.Body, loc)
	}
	u, err := url.Parse(loc)
	if err != nil {
		v.T.Fatal(err)
	}
	v.Must(http.MethodGet, u.Path, api, "", http.StatusAccepted)
	v.Advance(2 * time.Second)
	done := v.Must(http.MethodGet, u.Path, api, "", http.StatusOK)
	if walk(done, "properties", "provisioningState") != "Succeeded" {
		v.T.Fatalf("operation result = %v", done)
	}
	return v.Must(http.MethodGet, path, api, "", http.StatusOK)
}
