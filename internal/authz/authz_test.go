package authz

import (
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, action string
		want            bool
	}{
		{"*", "Microsoft.MachineLearningServices/workspaces/write", true},
		{"*/read", "Microsoft.MachineLearningServices/workspaces/read", true},
		{"*/read", "Microsoft.MachineLearningServices/workspaces/write", false},
		{"*/READ", "microsoft.resources/subscriptions/resourceGroups/read", true},
		{"Microsoft.MachineLearningServices/*", "microsoft.machinelearningservices/workspaces/computes/start/action", true},
		{"Microsoft.MachineLearningServices/*", "Microsoft.Network/virtualNetworks/read", false},
		{"Microsoft.MachineLearningServices/workspaces/*/write", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/write", true},
		{"Microsoft.MachineLearningServices/workspaces/computes/*/write", "Microsoft.MachineLearningServices/workspaces/computes/write", true},
		{"Microsoft.MachineLearningServices/workspaces/computes/*/write", "Microsoft.MachineLearningServices/workspaces/jobs/write", false},
		{"Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write", true},
		{"Microsoft.MachineLearningServices/workspaces/read", "Microsoft.MachineLearningServices/workspaces/read", true},
		{"Microsoft.MachineLearningServices/workspaces/read", "Microsoft.MachineLearningServices/workspaces/reads", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxcyyb", false},
	} {
		if got := Match(c.pattern, c.action); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.action, got, c.want)
		}
	}
}

func builtin(t *testing.T, id string) Role {
	for _, b := range BuiltIns() {
		if b.ID == id {
			return b.Role
		}
	}
	t.Fatalf("no built-in %s", id)
	return Role{}
}

func TestBuiltInRoles(t *testing.T) {
	const w = "Microsoft.MachineLearningServices/workspaces"
	for _, c := range []struct {
		role, action string
		want         bool
	}{
		{RoleOwner, "Microsoft.Authorization/roleAssignments/write", true},
		{RoleContributor, w + "/write", true},
		{RoleContributor, "Microsoft.Authorization/roleAssignments/write", false},
		{RoleContributor, "Microsoft.Authorization/roleAssignments/read", true},
		{RoleReader, w + "/read", true},
		{RoleReader, w + "/write", false},
		{RoleReader, w + "/listKeys/action", false},
		{RoleUserAccessAdministrator, "Microsoft.Authorization/roleAssignments/write", true},
		{RoleUserAccessAdministrator, w + "/write", false},
		{RoleAzureMLDataScientist, w + "/jobs/write", true},
		{RoleAzureMLDataScientist, w + "/onlineEndpoints/deployments/write", true},
		{RoleAzureMLDataScientist, w + "/read", true},
		{RoleAzureMLDataScientist, w + "/write", false},
		{RoleAzureMLDataScientist, w + "/delete", false},
		{RoleAzureMLDataScientist, w + "/computes/write", false},
		{RoleAzureMLDataScientist, w + "/computes/delete", false},
		{RoleAzureMLDataScientist, w + "/computes/read", true},
		{RoleAzureMLDataScientist, w + "/computes/start/action", true},
		{RoleAzureMLDataScientist, w + "/listKeys/action", false},
		{RoleAzureMLComputeOperator, w + "/computes/write", true},
		{RoleAzureMLComputeOperator, w + "/read", false},
	} {
		if got := builtin(t, c.role).Allows(c.action, false); got != c.want {
			t.Errorf("%s allows %s = %v, want %v", builtin(t, c.role).Name, c.action, got, c.want)
		}
	}
	// The Storage Blob Data roles' data actions, which the blob data plane
	// checks; ARM's Owner and Contributor hold none.
	const b = "Microsoft.Storage/storageAccounts/blobServices/containers"
	for _, c := range []struct {
		role, action string
		data, want   bool
	}{
		{RoleStorageBlobDataReader, b + "/blobs/read", true, true},
		{RoleStorageBlobDataReader, b + "/blobs/write", true, false},
		{RoleStorageBlobDataReader, b + "/read", false, true},
		{RoleStorageBlobDataReader, b + "/write", false, false},
		{RoleStorageBlobDataContributor, b + "/blobs/write", true, true},
		{RoleStorageBlobDataContributor, b + "/blobs/delete", true, true},
		{RoleStorageBlobDataContributor, b + "/write", false, true},
		{RoleStorageBlobDataContributor, b + "/blobs/tags/write", true, false},
		{RoleStorageBlobDataOwner, b + "/blobs/tags/write", true, true},
		{RoleStorageBlobDataOwner, b + "/setImmutabilityPolicy/action", false, true},
		{RoleOwner, b + "/blobs/read", true, false},
		{RoleContributor, b + "/blobs/read", true, false},
	} {
		if got := builtin(t, c.role).Allows(c.action, c.data); got != c.want {
			t.Errorf("%s allows %s (data %v) = %v, want %v", builtin(t, c.role).Name, c.action, c.data, got, c.want)
		}
	}
}

// TestKeyVaultDataRoles: the Key Vault data roles grant the secrets' data
// actions Azure publishes, and Owner's "*" actions grant none of them.
func TestKeyVaultDataRoles(t *testing.T) {
	const s = "Microsoft.KeyVault/vaults/secrets/"
	for _, c := range []struct {
		role, action string
		want         bool
	}{
		{RoleKeyVaultSecretsUser, s + "getSecret/action", true},
		{RoleKeyVaultSecretsUser, s + "readMetadata/action", true},
		{RoleKeyVaultSecretsUser, s + "setSecret/action", false},
		{RoleKeyVaultSecretsUser, s + "delete", false},
		{RoleKeyVaultSecretsOfficer, s + "setSecret/action", true},
		{RoleKeyVaultSecretsOfficer, s + "purge/action", true},
		{RoleKeyVaultSecretsOfficer, "Microsoft.KeyVault/vaults/keys/read", false},
		{RoleKeyVaultAdministrator, s + "recover/action", true},
		{RoleKeyVaultAdministrator, "Microsoft.KeyVault/vaults/keys/read", true},
		{RoleOwner, s + "getSecret/action", false},
		{RoleContributor, s + "getSecret/action", false},
	} {
		if got := builtin(t, c.role).Allows(c.action, true); got != c.want {
			t.Errorf("%s allows data action %s = %v, want %v", builtin(t, c.role).Name, c.action, got, c.want)
		}
	}
	if builtin(t, RoleKeyVaultSecretsOfficer).Allows("Microsoft.KeyVault/vaults/write", false) {
		t.Error("Key Vault Secrets Officer may change the vault")
	}
}

func mustID(t *testing.T, s string) resourceid.ID {
	id, err := resourceid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestEvaluateInheritanceAndDataActions(t *testing.T) {
	const (
		rg = "/subscriptions/s/resourceGroups/rg"
		ws = rg + "/providers/Microsoft.MachineLearningServices/workspaces/w"
	)
	custom := Role{ID: "c", Name: "runs reader", Permissions: []Permission{{
		DataActions: []string{"Microsoft.MachineLearningServices/workspaces/experiments/*"}, NotDataActions: []string{"*/write"},
	}}, AssignableScopes: []resourceid.ID{mustID(t, rg)}}
	roles := map[string]Role{RoleReader: builtin(t, RoleReader), RoleOwner: builtin(t, RoleOwner), "c": custom}
	lookup := func(id string) (Role, bool) { r, ok := roles[id]; return r, ok }
	as := []Assignment{
		{ID: "root-owner", Scope: resourceid.Root, PrincipalID: "boot", RoleID: RoleOwner},
		{ID: "rg-reader", Scope: mustID(t, rg), PrincipalID: "p", RoleID: RoleReader},
		{ID: "ws-custom", Scope: mustID(t, ws), PrincipalID: "P", RoleID: "c"},
		{ID: "unknown-role", Scope: resourceid.Root, PrincipalID: "p", RoleID: "nope"},
	}
	for _, c := range []struct {
		principal, action, scope string
		data                     bool
		want                     string // allowing assignment, "" for denied
	}{
		{"boot", "Microsoft.Anything/x/write", "/subscriptions/other", false, "root-owner"},
		{"p", "Microsoft.MachineLearningServices/workspaces/read", ws, false, "rg-reader"},
		{"p", "Microsoft.MachineLearningServices/workspaces/read", "/subscriptions/s/resourceGroups/rg2/providers/Microsoft.MachineLearningServices/workspaces/w", false, ""},
		{"p", "Microsoft.MachineLearningServices/workspaces/write", ws, false, ""},
		{"p", "Microsoft.Resources/subscriptions/read", "/subscriptions/s", false, ""},
		{"p", "Microsoft.MachineLearningServices/workspaces/experiments/runs/read", ws + "/experiments/e", true, "ws-custom"},
		{"p", "Microsoft.MachineLearningServices/workspaces/experiments/runs/write", ws, true, ""},
		{"p", "Microsoft.MachineLearningServices/workspaces/experiments/runs/read", rg, true, ""},
		{"p", "Microsoft.MachineLearningServices/workspaces/read", ws, true, ""}, // actions do not grant data actions
		{"q", "Microsoft.MachineLearningServices/workspaces/read", ws, false, ""},
	} {
		d := Evaluate(as, lookup, c.principal, c.action, mustID(t, c.scope), c.data)
		got := ""
		if d.Allowed {
			got = d.Assignment.ID
		}
		if got != c.want {
			t.Errorf("%s %s at %s (data %v): allowed by %q, want %q", c.principal, c.action, c.scope, c.data, got, c.want)
		}
	}
	if !custom.Assignable(mustID(t, ws)) || custom.Assignable(mustID(t, "/subscriptions/s")) || !builtin(t, RoleReader).Assignable(mustID(t, "/subscriptions/s")) {
		t.Error("assignableScopes not applied")
	}
}
