package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v7"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/report"
	"github.com/chromedp/chromedp"
)

// setFilter sets a filter form's field to value, as a person would, and
// lets the page see the change.
func setFilter(t *testing.T, ctx context.Context, form, field, value string) {
	t.Helper()
	js := `(() => { const el = document.getElementById(` + jsString(form) + `).elements[` + jsString(field) + `];
		el.value = ` + jsString(value) + `; el.dispatchEvent(new Event('change', {bubbles: true})); return el.value; })()`
	if got := pageTextJS(t, ctx, js); got != value {
		t.Fatalf("filter %s.%s = %q, want %q", form, field, got, value)
	}
}

// showView switches the page to view by its address's fragment: no
// reload, as a click on the view's link.
func showView(t *testing.T, ctx context.Context, view string) {
	t.Helper()
	if got := pageTextJS(t, ctx, `location.hash = '#`+view+`'; location.hash`); got != "#"+view {
		t.Fatalf("view %s: hash %q", view, got)
	}
}

// TestWebUIBrowserPosture: with the page open from the start, everything
// made through the API afterwards appears without a reload: an ML
// registry and a Resource Management Private Link, each with its private
// endpoint, a private DNS zone and its link to the virtual network, a
// workspace's managed network outbound rules; the registry's public and
// private data-plane calls in the drawing and in the exposure view, which
// the time, class and principal filters narrow; and a refused call in the
// access view under its principal's name.
func TestWebUIBrowserPosture(t *testing.T) {
	bctx := browser(t)
	a := e2e.Start(t)
	base := strings.TrimSuffix(a.Conn.ARMEndpoint, "/")
	ctx := context.Background()
	cred := a.Credential(t)
	sub := a.Conn.SubscriptionID
	const rg = "posture-rg"

	if err := chromedp.Do(bctx, chromedp.Navigate(a.Conn.UIURL), chromedp.WaitVisible(chromedp.CSS("#view-network"))); err != nil {
		t.Fatalf("login through uiUrl: %v", err)
	}
	// A mark in the page's memory: a reload would lose it.
	pageTextJS(t, bctx, `window.armletTestMark = 'same page'; window.armletTestMark`)

	rgID := a.CreateGroup(t, rg)
	subnet := isoSubnet(t, a, cred, rg, "10.9.0.0/16", "10.9.1.0/24")
	vnetID := strings.TrimSuffix(subnet, "/subnets/pe")

	// An ML registry, public access disabled, with its private endpoint.
	_, reg := closedRegistry(t, a, cred, rg, "sharedreg")
	regPE := netPE(subnet, *reg.ID, false)
	regPE.Properties.PrivateLinkServiceConnections[0].Properties.GroupIDs = []*string{to.Ptr("amlregistry")}
	isoPrivateEndpoint(t, a, cred, rg, "reg-pe", regPE)

	// A Resource Management Private Link and its private endpoint.
	rmpl := rgID + "/providers/Microsoft.Authorization/resourceManagementPrivateLinks/rmpl"
	if st, _, body := a.Do(t, http.MethodPut, rmpl+"?api-version=2020-05-01", `{"location":"eastus"}`, nil); st != http.StatusOK && st != http.StatusCreated {
		t.Fatalf("PUT resource management private link: %d %s", st, body)
	}
	isoPrivateEndpoint(t, a, cred, rg, "arm-pe", armnetwork.PrivateEndpoint{
		Location: to.Ptr("eastus"),
		Properties: &armnetwork.PrivateEndpointProperties{
			Subnet: &armnetwork.Subnet{ID: to.Ptr(subnet)},
			PrivateLinkServiceConnections: []*armnetwork.PrivateLinkServiceConnection{{
				Name:       to.Ptr("arm"),
				Properties: &armnetwork.PrivateLinkServiceConnectionProperties{PrivateLinkServiceID: to.Ptr(rmpl), GroupIDs: []*string{to.Ptr("ResourceManagement")}},
			}},
		},
	})

	// A private DNS zone linked to the virtual network, with a zone group
	// on the registry's endpoint that writes the zone's A records.
	zone := rgID + "/providers/Microsoft.Network/privateDnsZones/privatelink.api.azureml.ms"
	netZoneGroup(t, a, cred, rg, "reg-pe", zone)
	if st, _, body := a.Do(t, http.MethodPut, zone+"/virtualNetworkLinks/to-vnet?api-version=2020-06-01",
		`{"location":"global","properties":{"virtualNetwork":{"id":"`+vnetID+`"},"registrationEnabled":false}}`, nil); st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("PUT virtual network link: %d %s", st, body)
	}

	// A workspace with a managed network and two outbound rules, one of
	// them added afterwards.
	workspaces, err := armmachinelearning.NewWorkspacesClient(sub, cred, a.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	wp, err := workspaces.BeginCreateOrUpdate(ctx, rg, "mnws", armmachinelearning.Workspace{
		Location: to.Ptr("eastus"),
		Properties: &armmachinelearning.WorkspaceProperties{
			ManagedNetwork: &armmachinelearning.ManagedNetworkSettings{
				IsolationMode: to.Ptr(armmachinelearning.IsolationModeAllowOnlyApprovedOutbound),
				OutboundRules: map[string]armmachinelearning.OutboundRuleClassification{
					"pypi": &armmachinelearning.FqdnOutboundRule{Type: to.Ptr(armmachinelearning.RuleTypeFQDN), Destination: to.Ptr("pypi.org")},
				},
			},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	rules, err := armmachinelearning.NewManagedNetworkSettingsRuleClient(sub, cred, a.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	lake := rgID + "/providers/Microsoft.Storage/storageAccounts/datalake"
	rcp, err := rules.BeginCreateOrUpdate(ctx, rg, "mnws", "datalake", armmachinelearning.OutboundRuleBasicResource{
		Properties: &armmachinelearning.PrivateEndpointOutboundRule{
			Type:        to.Ptr(armmachinelearning.RuleTypePrivateEndpoint),
			Destination: &armmachinelearning.PrivateEndpointDestination{ServiceResourceID: to.Ptr(lake), SubresourceTarget: to.Ptr("dfs")},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rcp.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("create outbound rule: %v", err)
	}

	// The registry's data plane: refused publicly, served privately.
	var regListener string
	var regIP, armIP string
	for _, l := range a.WaitEndpoints(t, 2) {
		switch {
		case strings.EqualFold(l.TargetResourceID, *reg.ID):
			regListener, regIP = l.Address, l.PrivateIP
		case strings.EqualFold(l.TargetResourceID, rmpl):
			armIP = l.PrivateIP
		}
	}
	if regListener == "" || armIP == "" {
		t.Fatalf("listeners: registry %q, private ARM %q", regListener, armIP)
	}
	discovery := "/registrymanagement/v1.0/registries/sharedreg/discovery"
	if code, body := a.Get(t, base+discovery, nil); code != http.StatusForbidden {
		t.Fatalf("public discovery = %d %s, want 403", code, body)
	}
	if code, body := a.Get(t, "https://"+regListener+discovery, nil); code != http.StatusOK {
		t.Fatalf("private discovery = %d %s, want 200", code, body)
	}

	// A named principal without a role, refused.
	const aliceName = "reviewer-alice"
	alice, aliceCred := a.NewPrincipal(t, aliceName)
	if st, _, body := a.Do(t, http.MethodGet, *reg.ID+"?api-version=2024-04-01", "", map[string]string{"Authorization": "Bearer " + a.TokenOf(t, aliceCred)}); st != http.StatusForbidden {
		t.Fatalf("a call without a role: %d %s, want 403", st, body)
	}

	t.Run("network", func(t *testing.T) {
		s := waitText(t, bctx, "the registry, the private link, the DNS zone", "#network-body", func(s string) bool {
			return strings.Contains(s, "reg-pe") && strings.Contains(s, "arm-pe") && strings.Contains(s, "registry-private") &&
				strings.Contains(s, "privatelink.api.azureml.ms\tvnet")
		})
		for _, want := range []string{
			"reg-pe\t" + regIP + "\tApproved\tamlregistry\tpe\tsharedreg",
			"arm-pe\t" + armIP + "\tApproved\tResourceManagement\tpe\trmpl",
			"reg-pe\tsharedreg\t0\t1\t0\tregistry-private",
			"arm-pe\trmpl\t0\t0\t0\tno traffic",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("the network view lacks %q:\n%s", want, s)
			}
		}
		var public bool
		for _, r := range edgeRows(t, bctx) {
			// Refused: the public discovery and alice's ARM read.
			if len(r) == 6 && r[0] == "public internet / public ARM" && r[1] == "sharedreg" && r[4] == "2" && strings.Contains(r[5], "registry-public") {
				public = true
			}
		}
		if !public {
			t.Errorf("no refused public edge to the registry: %v", edgeRows(t, bctx))
		}
		// The zone's A records, as its zone group wrote them.
		if zones := pageText(t, bctx, "#network-body table:nth-of-type(4)"); !strings.Contains(zones, regIP) {
			t.Errorf("the DNS zones table lacks the registry endpoint's A record %s:\n%s", regIP, zones)
		}
		svgText := pageTextJS(t, bctx, `document.querySelector('#network-body svg').textContent`)
		for _, want := range []string{"sharedreg", "ML registry", "rmpl", "Resource Management Private Link",
			"DNS zone privatelink.api.azureml.ms", "linked to vnet", "Private endpoint arm-pe", "IP " + armIP} {
			if !strings.Contains(svgText, want) {
				t.Errorf("the drawing lacks %q: %s", want, svgText)
			}
		}
		// The table is the drawing's text: one row per drawn edge.
		if got := pageTextJS(t, bctx, `document.querySelectorAll('#network-body svg path.edge').length + ' ' +
			document.querySelectorAll('#network-body table:first-of-type tbody tr').length`); got != "6 6" {
			t.Errorf("drawn edges and table rows: %s, want 6 6", got)
		}
		// Not colour alone: public lines are dashed, private ones solid.
		if got := pageTextJS(t, bctx, `['e-public', 'e-private'].map(c => getComputedStyle(document.querySelector('#network-body svg path.edge.' + c)).strokeDasharray).join(' | ')`); got != "8px, 4px | none" {
			t.Errorf("dash patterns of public | private edges: %q", got)
		}
		// Every form control has a label, and the drawing a title and a
		// description.
		if got := pageTextJS(t, bctx, `[...document.querySelectorAll('input, select')].filter(el => !el.closest('label') && !el.labels?.length).map(el => el.name).join(',') +
			'|' + document.querySelector('#network-body svg').getAttribute('aria-labelledby')`); got != "|net-title net-desc" {
			t.Errorf("unlabelled controls | the drawing's labels: %q", got)
		}
		// Each target's public access, and public ARM open.
		for _, want := range []string{"sharedreg\tML registry\tpublic Disabled", "mnws\tworkspace\tpublic Enabled",
			"rmpl\tResource Management Private Link\tpublic ARM open"} {
			if !strings.Contains(s, want) {
				t.Errorf("the targets table lacks %q:\n%s", want, s)
			}
		}
		if got := pageText(t, bctx, "#public-arm"); !strings.Contains(got, "Public ARM: open") {
			t.Errorf("public ARM: %q", got)
		}
		screenshot(t, bctx, "network-posture")
	})

	t.Run("outbound rules and registries", func(t *testing.T) {
		showView(t, bctx, "workspaces")
		s := waitText(t, bctx, "the outbound rules", "#workspaces-body", func(s string) bool { return strings.Contains(s, "datalake") })
		for _, want := range []string{"Managed network isolation\nAllowOnlyApprovedOutbound", "pypi\tFQDN\tUserDefined\tpypi.org",
			"datalake\tPrivateEndpoint\tUserDefined\tdatalake (dfs)"} {
			if !strings.Contains(s, want) {
				t.Errorf("the workspaces view lacks %q:\n%s", want, s)
			}
		}
		reg := waitText(t, bctx, "the registry", "#registries-body", func(s string) bool { return strings.Contains(s, "Registry sharedreg") })
		for _, want := range []string{"publicNetworkAccess\nDisabled", "Regions\neastus", "reg-pe\tApproved\t" + regIP} {
			if !strings.Contains(reg, want) {
				t.Errorf("the registries part lacks %q:\n%s", want, reg)
			}
		}
		screenshot(t, bctx, "workspaces-outbound")
	})

	t.Run("exposure filters", func(t *testing.T) {
		showView(t, bctx, "exposure")
		exposure := func() string { return pageText(t, bctx, "#exposure-body") }
		waitText(t, bctx, "the registry's exposure", "#exposure-body", func(s string) bool {
			return strings.Contains(s, "Registry sharedreg") && strings.Contains(s, "registry-public") && strings.Contains(s, "registry-private")
		})
		screenshot(t, bctx, "exposure-registry")

		// Class: the registry's public discovery is no workspace-public
		// operation.
		setFilter(t, bctx, "exposure-filters", "class", "workspace-public")
		waitText(t, bctx, "no registry-public operation", "#exposure-body", func(s string) bool {
			return strings.Contains(s, "Registry sharedreg") && !strings.Contains(s, "registry-public") && !strings.Contains(s, "arm-public")
		})
		setFilter(t, bctx, "exposure-filters", "class", "registry-public")
		waitText(t, bctx, "only registry-public operations", "#exposure-body", func(s string) bool {
			return strings.Contains(s, "registry-public") && !strings.Contains(s, "arm-public")
		})
		setFilter(t, bctx, "exposure-filters", "class", "")

		// Principal, by name: alice made one ARM read of the registry and
		// no data-plane call; the bootstrap principal made both.
		setFilter(t, bctx, "exposure-filters", "principal", aliceName)
		waitText(t, bctx, "alice's call only", "#exposure-body", func(s string) bool {
			return strings.Contains(s, "Registry sharedreg") && strings.Contains(s, "arm-public") && !strings.Contains(s, "registry-") && !strings.Contains(s, "Workspace mnws")
		})
		if s := exposure(); !strings.Contains(s, aliceName) {
			t.Errorf("alice's call does not name her as its caller:\n%s", s)
		}
		setFilter(t, bctx, "exposure-filters", "principal", "armlet-bootstrap")
		waitText(t, bctx, "the bootstrap principal's calls", "#exposure-body", func(s string) bool {
			return strings.Contains(s, "registry-public") && strings.Contains(s, "armlet-bootstrap") && !strings.Contains(s, aliceName)
		})
		setFilter(t, bctx, "exposure-filters", "principal", "")

		// Time: two hours on, the last hour holds none of it.
		setFilter(t, bctx, "exposure-filters", "since", "1h")
		waitText(t, bctx, "the registry in the last hour", "#exposure-body", func(s string) bool { return strings.Contains(s, "Registry sharedreg") })
		if st, _, body := a.Do(t, http.MethodPost, "/_armlet/clock/advance", `{"duration":"2h"}`, nil); st != http.StatusOK {
			t.Fatalf("advance: %d %s", st, body)
		}
		waitText(t, bctx, "an empty window", "#exposure-body", func(s string) bool { return strings.Contains(s, "No operations recorded in this window") })
		setFilter(t, bctx, "exposure-filters", "since", "24h")
		waitText(t, bctx, "the registry in the last day", "#exposure-body", func(s string) bool { return strings.Contains(s, "Registry sharedreg") })
	})

	t.Run("access by name", func(t *testing.T) {
		showView(t, bctx, "access")
		s := waitText(t, bctx, "alice by name", "#access-body", func(s string) bool {
			return strings.Contains(s, "Principal "+aliceName) && strings.Contains(s, "Principal armlet-bootstrap")
		})
		if !strings.Contains(s, alice.ObjectID) || !strings.Contains(s, "AuthorizationFailed") {
			t.Errorf("alice's refused call:\n%s", s)
		}
		setFilter(t, bctx, "access-filters", "principal", aliceName)
		s = waitText(t, bctx, "alice only", "#access-body", func(s string) bool { return !strings.Contains(s, "armlet-bootstrap") })
		if !strings.Contains(s, "Principal "+aliceName) || !strings.Contains(s, "denied") {
			t.Errorf("the access view filtered by alice's name:\n%s", s)
		}
		// The filter offers the principals seen by name.
		if names := pageTextJS(t, bctx, `[...document.querySelectorAll('#principal-names option')].map(o => o.value).sort().join(',')`); names != "armlet-bootstrap,"+aliceName {
			t.Errorf("the principal filter offers %q", names)
		}
		screenshot(t, bctx, "access-by-name")
	})

	// Last, since it closes public ARM: a private link association with
	// public network access Disabled, which the network view names.
	t.Run("public ARM closed", func(t *testing.T) {
		assoc := "/providers/Microsoft.Management/managementGroups/" + a.Conn.TenantID + "/providers/Microsoft.Authorization/privateLinkAssociations/1d7942d1-288b-48de-8d0f-2d2aa8e03ad4"
		if st, _, body := a.Do(t, http.MethodPut, assoc+"?api-version=2020-05-01", `{"properties":{"privateLink":"`+rmpl+`","publicNetworkAccess":"Disabled"}}`, nil); st != http.StatusOK && st != http.StatusCreated {
			t.Fatalf("PUT association: %d %s", st, body)
		}
		showView(t, bctx, "network")
		waitText(t, bctx, "public ARM closed", "#public-arm", func(s string) bool {
			return strings.Contains(s, "Public ARM: closed") && strings.Contains(s, "association 1d7942d1-288b-48de-8d0f-2d2aa8e03ad4 (to rmpl)")
		})
		if s := pageText(t, bctx, "#network-body"); !strings.Contains(s, "rmpl\tResource Management Private Link\tpublic ARM closed") {
			t.Errorf("the targets table:\n%s", s)
		}
		screenshot(t, bctx, "network-public-arm-closed")
	})

	if mark := pageTextJS(t, bctx, `window.armletTestMark || 'reloaded'`); mark != "same page" {
		t.Errorf("the page was reloaded (%q): the views should follow changes live", mark)
	}
}

// TestWebUIBrowserDataPlaneExposure: the exposure view shows the data
// planes as it shows workspaces: a storage account called publicly with
// Shared Key (its blob operations storage-public, with the advice to
// close it), and a key vault reached privately through a virtual network
// and refused publicly (keyvault-private and keyvault-public, the public
// call told to use the private endpoint), each with its counts of public
// and private calls; the class filter narrows them as it does the
// workspaces' operations.
func TestWebUIBrowserDataPlaneExposure(t *testing.T) {
	bctx := browser(t)
	s, account, _, _ := startWithBlob(t, "uiblob", "b", "public bytes")
	vault := privateVaultCalls(t, s, "uikv", "uikv1", "10.33")
	if err := chromedp.Do(bctx, chromedp.Navigate(s.Conn.UIURL), chromedp.WaitVisible(chromedp.CSS("#view-network"))); err != nil {
		t.Fatalf("login through uiUrl: %v", err)
	}
	showView(t, bctx, "exposure")
	body := waitText(t, bctx, "the storage account and the vault", "#exposure-body", func(s string) bool {
		return strings.Contains(s, "Storage account uiblob1") && strings.Contains(s, "Key vault uikv1")
	})
	storage, kv, _ := strings.Cut(body[strings.Index(body, "Storage account uiblob1"):], "Key vault uikv1")
	for _, want := range []string{account, "publicNetworkAccess Enabled", "2 public calls · 0 private calls", "storage-public",
		"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write", report.KeepStoragePrivate} {
		if !strings.Contains(storage, want) {
			t.Errorf("the storage account's part lacks %q:\n%s", want, storage)
		}
	}
	for _, want := range []string{vault, "publicNetworkAccess Disabled", "2 public calls · 3 private calls", "keyvault-public",
		"keyvault-private", "pe-vault", report.KeepUsePrivateVault} {
		if !strings.Contains(kv, want) {
			t.Errorf("the key vault's part lacks %q:\n%s", want, kv)
		}
	}
	if strings.Contains(storage, "approved private endpoints") || strings.Contains(kv, "public ARM") {
		t.Errorf("a data plane's part shows a workspace's settings:\n%s", body)
	}
	screenshot(t, bctx, "exposure-data-planes")

	setFilter(t, bctx, "exposure-filters", "class", "keyvault-public")
	waitText(t, bctx, "the vault's public call only", "#exposure-body", func(s string) bool {
		return strings.Contains(s, "keyvault-public") && !strings.Contains(s, "storage-public")
	})
}
