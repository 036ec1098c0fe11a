package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/providers/authorization"
)

const parmAPIVersion = "2020-05-01"

// parmIDs are the IDs the private ARM tests use.
type parmIDs struct {
	rg, link1, link2, mg, assoc1, assoc2 string
}

func newParmIDs(s *e2e.Armlet) parmIDs {
	rg := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/parm-rg"
	links := rg + "/providers/Microsoft.Authorization/resourceManagementPrivateLinks/"
	mg := "/providers/Microsoft.Management/managementGroups/" + s.Conn.TenantID
	assocs := mg + "/providers/Microsoft.Authorization/privateLinkAssociations/"
	return parmIDs{
		rg: rg, link1: links + "rmpl1", link2: links + "rmpl2", mg: mg,
		assoc1: assocs + "1d7942d1-288b-48de-8d0f-2d2aa8e03ad4", assoc2: assocs + "9c3f57a2-0d4e-4f4b-9a55-5b2d6a3a1e10",
	}
}

// parmStored returns the stored properties of the resource at id (never
// nil), or nil when there is none.
func parmStored(t *testing.T, s *e2e.Armlet, id string) map[string]any {
	t.Helper()
	rid, err := resourceid.Parse(id)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Engine().Get(context.Background(), rid)
	if err != nil {
		return nil
	}
	if r.Properties == nil {
		return map[string]any{}
	}
	return r.Properties
}

// parmDisabled reads PublicARMDisabled for the server's tenant.
func parmDisabled(t *testing.T, s *e2e.Armlet) bool {
	t.Helper()
	d, _, err := authorization.PublicARMDisabled(context.Background(), s.Engine(), s.Conn.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPrivateARM drives Resource Management Private Link with real clients:
// the Go SDK's generic resources client creates and reads a
// resourceManagementPrivateLink and a privateLinkAssociation at the tenant
// root management group, the Azure CLI does the same with `az resource
// create` and `az rest`, and the stored state decides PublicARMDisabled.
//
// Public access is disabled only by the last write, so the test holds once
// the front door refuses public calls while it is disabled.
func TestPrivateARM(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	ids := newParmIDs(s)
	cred := s.Credential(t)
	s.CreateGroup(t, "parm-rg")
	generic, err := armresources.NewClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}

	// Go SDK: the private link (tracked: location required).
	_, err = generic.BeginCreateOrUpdateByID(ctx, ids.link1, parmAPIVersion, armresources.GenericResource{}, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "LocationRequired")
	p, err := generic.BeginCreateOrUpdateByID(ctx, ids.link1, parmAPIVersion, armresources.GenericResource{Location: to.Ptr("eastus")}, nil)
	if err != nil {
		t.Fatalf("create private link: %v", err)
	}
	if _, err := p.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("create private link: %v", err)
	}
	link, err := generic.GetByID(ctx, ids.link1, parmAPIVersion, nil)
	if err != nil {
		t.Fatalf("get private link: %v", err)
	}
	if *link.ID != ids.link1 || *link.Type != authorization.TypePrivateLinks || *link.Location != "eastus" {
		t.Errorf("private link = %s %s %s", *link.ID, *link.Type, *link.Location)
	}
	if pec, ok := link.Properties.(map[string]any)["privateEndpointConnections"].([]any); !ok || len(pec) != 0 {
		t.Errorf("privateEndpointConnections = %v, want []", link.Properties)
	}

	// Go SDK: the association at the root management group, Enabled.
	_, err = generic.BeginCreateOrUpdateByID(ctx, ids.assoc1, parmAPIVersion, armresources.GenericResource{
		Properties: map[string]any{"privateLink": ids.link1 + "-missing", "publicNetworkAccess": "Enabled"},
	}, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "InvalidResourceReference")
	_, err = generic.BeginCreateOrUpdateByID(ctx, strings.Replace(ids.assoc1, s.Conn.TenantID, "child-group", 1), parmAPIVersion, armresources.GenericResource{
		Properties: map[string]any{"privateLink": ids.link1, "publicNetworkAccess": "Enabled"},
	}, nil)
	e2e.RequireResponseError(t, err, http.StatusNotFound, "ManagementGroupNotFound")
	pa, err := generic.BeginCreateOrUpdateByID(ctx, ids.assoc1, parmAPIVersion, armresources.GenericResource{
		Properties: map[string]any{"privateLink": ids.link1, "publicNetworkAccess": "Enabled"},
	}, nil)
	if err != nil {
		t.Fatalf("create association: %v", err)
	}
	if _, err := pa.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("create association: %v", err)
	}
	assoc, err := generic.GetByID(ctx, ids.assoc1, parmAPIVersion, nil)
	if err != nil {
		t.Fatalf("get association: %v", err)
	}
	props := assoc.Properties.(map[string]any)
	if *assoc.Type != authorization.TypeAssociations || props["privateLink"] != ids.link1 || props["publicNetworkAccess"] != "Enabled" ||
		props["tenantID"] != s.Conn.TenantID || props["scope"] != ids.mg {
		t.Errorf("association = %s %v", *assoc.Type, props)
	}
	if got := parmStored(t, s, ids.assoc1); got["publicNetworkAccess"] != "Enabled" || got["privateLink"] != ids.link1 {
		t.Errorf("stored association = %v", got)
	}
	if parmDisabled(t, s) {
		t.Fatal("an Enabled association disabled public ARM")
	}

	// Azure CLI: a second private link and association, listed, deleted.
	az := s.AzureCLI(t)
	az.Login()
	created := az.JSON("resource", "create", "--id", ids.link2, "--api-version", parmAPIVersion, "-l", "westus", "--properties", "{}")
	if created["id"] != ids.link2 || created["location"] != "westus" {
		t.Errorf("az resource create (private link) = %v", created)
	}
	if parmStored(t, s, ids.link2) == nil {
		t.Fatal("the CLI's private link was not stored")
	}
	// `az resource create` sends a location for IDs outside a resource
	// group (without -l, the CLI 2.45 fails looking up the group).
	_, stderr, err := az.Try("resource", "create", "--id", ids.assoc2, "--api-version", parmAPIVersion, "-l", "eastus",
		"--properties", `{"privateLink":"`+ids.link2+`","publicNetworkAccess":"Sometimes"}`)
	if err == nil || !strings.Contains(stderr, "InvalidRequestContent") {
		t.Errorf("bad publicNetworkAccess through the CLI: err=%v stderr=%s", err, stderr)
	}
	created = az.JSON("resource", "create", "--id", ids.assoc2, "--api-version", parmAPIVersion, "-l", "eastus",
		"--properties", `{"privateLink":"`+ids.link2+`","publicNetworkAccess":"Enabled"}`)
	if p := created["properties"].(map[string]any); created["id"] != ids.assoc2 || p["privateLink"] != ids.link2 || p["tenantID"] != s.Conn.TenantID {
		t.Errorf("az resource create (association) = %v", created)
	}
	listURL := strings.TrimSuffix(s.Conn.ARMEndpoint, "/") + ids.mg + "/providers/Microsoft.Authorization/privateLinkAssociations?api-version=" + parmAPIVersion
	if names := parmNames(t, az.JSON("rest", "--method", "get", "--url", listURL)); len(names) != 2 {
		t.Errorf("az rest list associations = %v, want both", names)
	}
	subLinks := strings.TrimSuffix(s.Conn.ARMEndpoint, "/") + "/subscriptions/" + s.Conn.SubscriptionID +
		"/providers/Microsoft.Authorization/resourceManagementPrivateLinks?api-version=" + parmAPIVersion
	if names := parmNames(t, az.JSON("rest", "--method", "get", "--url", subLinks)); strings.Join(names, ",") != "rmpl1,rmpl2" {
		t.Errorf("az rest list private links by subscription = %v", names)
	}
	// The private link in use cannot go; the association can.
	_, stderr, err = az.Try("rest", "--method", "delete", "--url", strings.TrimSuffix(s.Conn.ARMEndpoint, "/")+ids.link2+"?api-version="+parmAPIVersion)
	if err == nil || !strings.Contains(stderr, "PrivateLinkInUse") {
		t.Errorf("delete of a private link in use: err=%v stderr=%s", err, stderr)
	}
	if parmStored(t, s, ids.link2) == nil {
		t.Fatal("the refused delete removed the private link")
	}
	az.Run("rest", "--method", "delete", "--url", strings.TrimSuffix(s.Conn.ARMEndpoint, "/")+ids.assoc2+"?api-version="+parmAPIVersion)
	if parmStored(t, s, ids.assoc2) != nil {
		t.Fatal("the association deleted through the CLI is still stored")
	}

	// Last: the CLI disables public network access on the first association.
	updated := az.JSON("resource", "create", "--id", ids.assoc1, "--api-version", parmAPIVersion, "-l", "eastus",
		"--properties", `{"privateLink":"`+ids.link2+`","publicNetworkAccess":"Disabled"}`)
	if p := updated["properties"].(map[string]any); p["publicNetworkAccess"] != "Disabled" {
		t.Errorf("az resource create (update) = %v", updated)
	}
	if got := parmStored(t, s, ids.assoc1); got["publicNetworkAccess"] != "Disabled" || got["privateLink"] != ids.link2 {
		t.Errorf("stored association after the update = %v", got)
	}
	if !parmDisabled(t, s) {
		t.Fatal("a Disabled association did not disable public ARM")
	}
}

func parmNames(t *testing.T, list map[string]any) []string {
	t.Helper()
	var out []string
	items, _ := list["value"].([]any)
	for _, it := range items {
		b, _ := json.Marshal(it)
		var v struct{ Name string }
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.Name)
	}
	return out
}
