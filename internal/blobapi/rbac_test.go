package blobapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/authz"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/providers/authorization"
)

// TestOAuthDataActions: with Azure RBAC (the authorization provider's), a
// caller who is Owner at the tenant root, as armlet's bootstrap principal
// is (what `az storage ... --auth-mode login` of a freshly logged in CLI
// sends), creates and reads a container (actions, which Owner's "*"
// grants) but lists, reads and writes no blob: 403
// AuthorizationPermissionMismatch, as Azure answers, since only a role's
// dataActions grant blob data actions. Storage Blob Data Contributor on
// the account grants them.
func TestOAuthDataActions(t *testing.T) {
	var rbac *authorization.RBAC
	v := enginetest.StartInGroup(t, func(e *engine.Engine) {
		registerStorage(e)
		rbac = authorization.Register(e, authorization.Options{})
	})
	env := newEnvOn(t, v, rbac)
	env.account("rbac1", "")
	ctx := context.Background()
	if err := rbac.EnsureOwner(ctx, goodCaller, enginetest.DefaultCaller); err != nil {
		t.Fatal(err)
	}
	env.must("rbac1", http.MethodPut, "/data?restype=container", nil, "", http.StatusCreated)
	env.must("rbac1", http.MethodGet, "/data?restype=container", nil, "", http.StatusOK)
	for _, c := range []struct{ method, target, body string }{
		{http.MethodGet, "/data?restype=container&comp=list", ""},
		{http.MethodPut, "/data/b", "x"},
		{http.MethodGet, "/data/b", ""},
	} {
		if r := env.do(ctx, "rbac1", c.method, c.target, map[string]string{"x-ms-blob-type": "BlockBlob"}, c.body); r.status != http.StatusForbidden || r.code != CodePermissionMismatch {
			t.Errorf("%s %s as Owner = %d %s, want 403 %s", c.method, c.target, r.status, r.code, CodePermissionMismatch)
		}
	}
	account := resourceid.ResourceGroup(enginetest.SubscriptionID, "rg").Child("Microsoft.Storage/storageAccounts", "rbac1")
	v.Must(http.MethodPut, account.String()+"/providers/Microsoft.Authorization/roleAssignments/6f1e3c53-7a0e-4d8e-9a51-3c1b2a4f0d11",
		authorization.RoleAssignmentAPIVersions[0], `{"properties":{"roleDefinitionId":"/providers/Microsoft.Authorization/roleDefinitions/`+
			authz.RoleStorageBlobDataContributor+`","principalId":"`+goodCaller+`","principalType":"ServicePrincipal"}}`, http.StatusCreated)
	rbac.Invalidate() // what the front door does after an ARM write (RBAC.Written)
	env.must("rbac1", http.MethodPut, "/data/b", map[string]string{"x-ms-blob-type": "BlockBlob"}, "x", http.StatusCreated)
	if r := env.must("rbac1", http.MethodGet, "/data/b", nil, "", http.StatusOK); r.body != "x" {
		t.Errorf("GET as Storage Blob Data Contributor = %q", r.body)
	}
}
