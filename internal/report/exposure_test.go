package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm/action"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/netmodel"
)

const ws = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"

// resolved fills in what the front door resolves an ARM observation to.
func resolved(o netmodel.Observation) netmodel.Observation {
	p, err := resourceid.ParsePath(o.Path)
	if err != nil {
		panic(err)
	}
	o.Operation, o.Resource = action.Of(o.Method, p)
	return o
}

func mustID(t testing.TB, s string) resourceid.ID {
	t.Helper()
	id, err := resourceid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestBuildExposure(t *testing.T) {
	pe := "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe1"
	mk := func(class netmodel.PathClass, method, path string, body string) netmodel.Flow {
		var o netmodel.Observation
		o.Time, o.Method, o.Path, o.Class, o.Status, o.Service = time.Unix(1, 0), method, path, class, 200, netmodel.ServiceARM
		if strings.HasPrefix(path, "/history") {
			o.Service = netmodel.ServiceWorkspace
			o.Operation, o.Resource = "Microsoft.MachineLearningServices/workspaces/experiments/runs/read", mustID(t, ws+"/experiments/e1/runs/r1")
		} else {
			o = resolved(o)
		}
		if class == netmodel.WorkspacePrivate || class == netmodel.ARMPrivate {
			o.Origin.Endpoint = &netmodel.Endpoint{ID: mustID(t, pe)}
		}
		o.Body, o.ContentType = []byte(body), "application/json"
		return netmodel.FlowOf(o)
	}
	flows := []netmodel.Flow{
		mk(netmodel.ARMPublic, "PUT", ws+"/onlineEndpoints/ep1", `{"properties":{"authMode":"Key","keys":{"primaryKey":"x"}}}`),
		mk(netmodel.ARMPublic, "PUT", ws+"/onlineEndpoints/ep2", `{"properties":{"authMode":"AMLToken"}}`),
		mk(netmodel.ARMPublic, "PUT", ws+"/computes/c1", `{}`),
		mk(netmodel.ARMPublic, "PUT", ws, `{}`),
		mk(netmodel.WorkspacePublic, "GET", "/history/v1.0"+ws+"/experiments/e1/runs/r1", ``),
		mk(netmodel.WorkspacePrivate, "GET", "/history/v1.0"+ws+"/experiments/e1/runs/r1", ``),
		mk(netmodel.ARMPrivate, "GET", ws+"/jobs/j1", ``),
		mk(netmodel.ARMPublic, "PUT", "/subscriptions/s1/resourceGroups/rg", `{}`), // no workspace
	}
	// Two callers of the endpoint writes; the workspace write by one of
	// them, the same one as the first endpoint write.
	flows[0].CallerObjectID, flows[1].CallerObjectID, flows[3].CallerObjectID = "oid-a", "oid-b", "oid-a"
	r, err := BuildExposure(flows, func(c string) bool { return c != "computes" }, nil, time.Unix(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Workspaces) != 1 || r.Workspaces[0].Workspace != ws {
		t.Fatalf("workspaces = %+v", r.Workspaces)
	}
	w := r.Workspaces[0]
	keep := map[string][]string{}
	for _, p := range w.Public {
		keep[string(p.Class)+" "+p.Operation] = p.KeepPrivate
	}
	want := map[string][]string{
		"arm-public Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write":       {KeepV1LegacyMode, KeepPrivateARM},
		"arm-public Microsoft.MachineLearningServices/workspaces/computes/write":              {KeepPrivateARM},
		"arm-public Microsoft.MachineLearningServices/workspaces/write":                       {KeepPrivateARM},
		"workspace-public Microsoft.MachineLearningServices/workspaces/experiments/runs/read": {KeepWorkspacePrivate},
	}
	if len(keep) != len(want) {
		t.Errorf("public operations = %v", keep)
	}
	for k, v := range want {
		if !slices.Equal(keep[k], v) {
			t.Errorf("%s: keep private = %q, want %q", k, keep[k], v)
		}
	}
	ep := w.Public[slices.IndexFunc(w.Public, func(p PublicOperation) bool { return strings.HasSuffix(p.Operation, "onlineEndpoints/write") })]
	if ep.Count != 2 || len(ep.ResourceIDs) != 2 || !slices.Contains(ep.Body, netmodel.Param{Name: "properties.authMode", Value: "AMLToken"}) ||
		!slices.Contains(ep.Body, netmodel.Param{Name: "properties.keys", Value: netmodel.Redacted, Redacted: true}) {
		t.Errorf("online endpoint writes = %+v", ep)
	}
	if !slices.Equal(ep.Callers, []string{"oid-a", "oid-b"}) {
		t.Errorf("online endpoint writes' callers = %q, want oid-a, oid-b", ep.Callers)
	}
	if c := w.Public[slices.IndexFunc(w.Public, func(p PublicOperation) bool { return strings.HasSuffix(p.Operation, "computes/write") })].Callers; len(c) != 0 || c == nil {
		t.Errorf("compute write's callers = %#v, want none ([])", c)
	}
	if len(w.Private) != 2 || w.Private[0].Class != netmodel.ARMPrivate || w.Private[1].Class != netmodel.WorkspacePrivate || w.Private[0].PrivateEndpointIDs[0] != pe {
		t.Errorf("private = %+v", w.Private)
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"WORKSPACE " + ws, KeepV1LegacyMode + "; or " + KeepPrivateARM, "properties.authMode=AMLToken", "PRIVATE", pe, "callers:", "oid-a, oid-b"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
}

// TestExposureAdviceAndStates: the advice follows the workspace's current
// settings (v1LegacyMode only with a private endpoint) and what happened
// to the operation (refused for being public: use the private path), and
// a workspace's state tells deleted from never created.
func TestExposureAdviceAndStates(t *testing.T) {
	v2 := func(string) bool { return true }
	flow := func(class netmodel.PathClass, method, op, resource string, status int, code string) netmodel.Flow {
		return netmodel.Flow{Class: class, Method: method, Operation: op, ResourceID: resource, Workspace: ws, Status: status, ErrorCode: code}
	}
	const (
		connWrite = "Microsoft.MachineLearningServices/workspaces/connections/write"
		runsRead  = "Microsoft.MachineLearningServices/workspaces/experiments/runs/read"
		wsWrite   = "Microsoft.MachineLearningServices/workspaces/write"
		wsDelete  = "Microsoft.MachineLearningServices/workspaces/delete"
	)
	tests := []struct {
		name      string
		flows     []netmodel.Flow
		settings  WorkspaceSettings
		wantKeep  []string // of the first public operation
		wantState string
	}{
		{"v2 call, no private endpoint", []netmodel.Flow{flow(netmodel.ARMPublic, "PUT", connWrite, ws+"/connections/c", 200, "")},
			WorkspaceSettings{Exists: true}, []string{KeepPrivateARM}, StateExists},
		{"v2 call, a private endpoint", []netmodel.Flow{flow(netmodel.ARMPublic, "PUT", connWrite, ws+"/connections/c", 200, "")},
			WorkspaceSettings{Exists: true, ApprovedPrivateEndpoints: 1}, []string{KeepV1LegacyMode, KeepPrivateARM}, StateExists},
		{"v2 call, the workspace reached through a private endpoint", []netmodel.Flow{
			flow(netmodel.ARMPublic, "PUT", connWrite, ws+"/connections/c", 200, ""),
			flow(netmodel.WorkspacePrivate, "GET", runsRead, ws+"/experiments/e/runs/r", 200, "")},
			WorkspaceSettings{Exists: true}, []string{KeepV1LegacyMode, KeepPrivateARM}, StateExists},
		{"v2 call refused by public ARM off", []netmodel.Flow{flow(netmodel.ARMPublic, "PUT", connWrite, ws+"/connections/c", 403, codePublicARMDenied)},
			WorkspaceSettings{Exists: true, ApprovedPrivateEndpoints: 1}, []string{KeepUsePrivateARM}, StateExists},
		{"workspace endpoint, served", []netmodel.Flow{flow(netmodel.WorkspacePublic, "GET", runsRead, ws+"/experiments/e/runs/r", 200, "")},
			WorkspaceSettings{Exists: true}, []string{KeepWorkspacePrivate}, StateExists},
		{"workspace endpoint, refused for being public", []netmodel.Flow{flow(netmodel.WorkspacePublic, "GET", runsRead, ws+"/experiments/e/runs/r", 403, codeWorkspaceDenied)},
			WorkspaceSettings{Exists: true}, []string{KeepUsePrivateEndpoint}, StateExists},
		{"workspace endpoint, refused once, served once", []netmodel.Flow{
			flow(netmodel.WorkspacePublic, "GET", runsRead, ws+"/experiments/e/runs/r", 403, codeWorkspaceDenied),
			flow(netmodel.WorkspacePublic, "GET", runsRead, ws+"/experiments/e/runs/r", 200, "")},
			WorkspaceSettings{Exists: true}, []string{KeepWorkspacePrivate}, StateExists},
		{"workspace endpoint, refused by RBAC", []netmodel.Flow{flow(netmodel.WorkspacePublic, "GET", runsRead, ws+"/experiments/e/runs/r", 403, "AuthorizationFailed")},
			WorkspaceSettings{Exists: true}, []string{KeepWorkspacePrivate}, StateExists},
		{"every create refused", []netmodel.Flow{flow(netmodel.ARMPublic, "PUT", wsWrite, ws, 400, "InvalidRequestContent")},
			WorkspaceSettings{}, []string{KeepPrivateARM}, StateNeverCreated},
		{"created, then deleted", []netmodel.Flow{flow(netmodel.ARMPublic, "PUT", wsWrite, ws, 202, ""), flow(netmodel.ARMPublic, "DELETE", wsDelete, ws, 202, "")},
			WorkspaceSettings{}, []string{KeepPrivateARM}, StateDeleted},
		{"a child written, never the workspace", []netmodel.Flow{flow(netmodel.ARMPublic, "PUT", connWrite, ws+"/connections/c", 404, "ResourceNotFound")},
			WorkspaceSettings{}, []string{KeepPrivateARM}, StateNeverCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := BuildExposure(tt.flows, v2, func(string) (*WorkspaceSettings, error) { st := tt.settings; return &st, nil }, time.Unix(2, 0))
			if err != nil || len(r.Workspaces) != 1 || len(r.Workspaces[0].Public) == 0 {
				t.Fatalf("report = %+v, %v", r, err)
			}
			w := r.Workspaces[0]
			if got := w.Public[0].KeepPrivate; !slices.Equal(got, tt.wantKeep) {
				t.Errorf("keep private = %q, want %q", got, tt.wantKeep)
			}
			if w.Settings.State != tt.wantState {
				t.Errorf("state = %q, want %q", w.Settings.State, tt.wantState)
			}
		})
	}
}

// TestExposureOfRegistries: a registry's flows form an entry of their own
// under registries, with the registry's advice: ARM calls need private
// ARM, public data-plane calls need the registry closed and a private
// endpoint, and refused ones name the private endpoint to use.
func TestExposureOfRegistries(t *testing.T) {
	const reg = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/r1"
	pe := mustID(t, "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe1")
	mk := func(class netmodel.PathClass, method, path string, status int, code string) netmodel.Flow {
		o := resolved(netmodel.Observation{Time: time.Unix(1, 0), Method: method, Path: path, Class: class, Status: status, ErrorCode: code})
		if class == netmodel.RegistryPrivate {
			o.Origin.Endpoint = &netmodel.Endpoint{ID: pe}
		}
		return netmodel.FlowOf(o)
	}
	flows := []netmodel.Flow{
		mk(netmodel.ARMPublic, "PUT", reg, 200, ""),
		mk(netmodel.ARMPublic, "PUT", reg+"/models/m/versions/1", 200, ""),
		mk(netmodel.RegistryPublic, "GET", reg+"/models/m/versions/1", 200, ""),
		mk(netmodel.RegistryPublic, "PUT", reg+"/models/m/versions/2", 403, "UserError"),
		mk(netmodel.RegistryPrivate, "PUT", reg+"/models/m/versions/2", 200, ""),
		mk(netmodel.ARMPublic, "PUT", ws, 200, ""),
	}
	r, err := BuildExposure(flows, nil, func(id string) (*WorkspaceSettings, error) {
		return &WorkspaceSettings{Exists: true, PublicNetworkAccess: "Disabled", ApprovedPrivateEndpoints: 1}, nil
	}, time.Unix(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Workspaces) != 1 || r.Workspaces[0].Workspace != ws || len(r.Registries) != 1 {
		t.Fatalf("workspaces %+v registries %+v: want the workspace and the registry apart", r.Workspaces, r.Registries)
	}
	got := r.Registries[0]
	if got.Registry != reg || got.Workspace != "" || got.Settings == nil || got.Settings.State != StateExists {
		t.Fatalf("registry entry %+v", got)
	}
	want := map[string][]string{
		"arm-public Microsoft.MachineLearningServices/registries/write":                      {KeepPrivateARM},
		"arm-public Microsoft.MachineLearningServices/registries/models/versions/write":      {KeepPrivateARM},
		"registry-public Microsoft.MachineLearningServices/registries/models/versions/read":  {KeepRegistryPrivate},
		"registry-public Microsoft.MachineLearningServices/registries/models/versions/write": {KeepUsePrivateRegistry},
	}
	if len(got.Public) != len(want) {
		t.Fatalf("public operations %+v, want %d", got.Public, len(want))
	}
	for _, p := range got.Public {
		if w, ok := want[string(p.Class)+" "+p.Operation]; !ok || !slices.Equal(p.KeepPrivate, w) {
			t.Errorf("%s %s: keepPrivate %q, want %q", p.Class, p.Operation, p.KeepPrivate, w)
		}
	}
	if len(got.Private) != 1 || got.Private[0].Class != netmodel.RegistryPrivate || !slices.Equal(got.Private[0].PrivateEndpointIDs, []string{pe.String()}) {
		t.Errorf("private operations %+v", got.Private)
	}
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "REGISTRY "+reg) || !strings.Contains(buf.String(), "now: publicNetworkAccess Disabled, 1 approved") {
		t.Errorf("table:\n%s", buf.String())
	}
}

// TestExposureOfDataPlanes: blob and Key Vault data-plane flows are
// reported per storage account and per key vault, apart from the
// workspaces: a public call is told to close the account (vault) and use
// a private endpoint, one only ever refused by the network rules (a 401
// challenge before the refusal, which serves nothing, changes nothing) to
// use the private endpoint, a storage-private or keyvault-private call is
// listed as private. A secret's flows are its vault's.
func TestExposureOfDataPlanes(t *testing.T) {
	const (
		acct  = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a1"
		vault = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v1"
		read  = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
		write = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
	)
	f := func(class netmodel.PathClass, op, resource string, status int, code string) netmodel.Flow {
		return netmodel.Flow{Class: class, Method: "GET", Operation: op, ResourceID: resource, Status: status, ErrorCode: code, Time: time.Unix(1, 0)}
	}
	flows := []netmodel.Flow{
		f(netmodel.StoragePublic, read, acct, 200, ""),
		f(netmodel.StoragePublic, write, acct, 403, "AuthorizationFailure"),
		f(netmodel.StoragePrivate, write, acct, 201, ""),
		f(netmodel.KeyVaultPublic, "Microsoft.KeyVault/vaults/secrets/read", vault, 401, "Unauthorized"),
		f(netmodel.KeyVaultPublic, "Microsoft.KeyVault/vaults/secrets/read", vault+"/secrets/s1", 403, "ForbiddenByConnection"),
		f(netmodel.KeyVaultPrivate, "Microsoft.KeyVault/vaults/secrets/read", vault+"/secrets/s1", 200, ""),
	}
	r, err := BuildExposure(flows, nil, func(id string) (*WorkspaceSettings, error) {
		return &WorkspaceSettings{Exists: true, PublicNetworkAccess: "Disabled"}, nil
	}, time.Unix(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Workspaces) != 0 || len(r.StorageAccounts) != 1 || len(r.Vaults) != 1 {
		t.Fatalf("workspaces %+v storage accounts %+v vaults %+v", r.Workspaces, r.StorageAccounts, r.Vaults)
	}
	sa := r.StorageAccounts[0]
	want := map[string][]string{read: {KeepStoragePrivate}, write: {KeepUsePrivateStorage}}
	if sa.StorageAccount != acct || len(sa.Public) != 2 || len(sa.Private) != 1 || sa.Private[0].Class != netmodel.StoragePrivate {
		t.Fatalf("storage account entry %+v", sa)
	}
	for _, p := range sa.Public {
		if !slices.Equal(p.KeepPrivate, want[p.Operation]) {
			t.Errorf("%s: keepPrivate %q, want %q", p.Operation, p.KeepPrivate, want[p.Operation])
		}
	}
	if v := r.Vaults[0]; v.Vault != vault || len(v.Public) != 1 || !slices.Equal(v.Public[0].KeepPrivate, []string{KeepUsePrivateVault}) ||
		len(v.Private) != 1 || v.Private[0].Class != netmodel.KeyVaultPrivate {
		t.Errorf("vault entry %+v", v)
	}
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "STORAGE ACCOUNT "+acct) || !strings.Contains(buf.String(), "KEY VAULT "+vault) {
		t.Errorf("table:\n%s", buf.String())
	}
}
