package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/report"
	"github.com/armlet/armlet/internal/testtool"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// browser starts a headless Chromium (Debian's chromium package) and
// returns a context of a new, cookie-less browser tab. armlet's
// certificate is accepted as is: the test is about the UI, not TLS.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := testtool.Require(t, "chromium", "apt-get install -y chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("ignore-certificate-errors", true), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshot saves the whole page as name.png in the test's artifact
// directory (kept with go test -artifacts).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	savePNG(t, ctx, chromedp.FullScreenshot(100), name)
}

// screenshotOf saves the element sel alone as name.png, at its full size,
// beside screenshot's.
func screenshotOf(t *testing.T, ctx context.Context, sel, name string) {
	t.Helper()
	savePNG(t, ctx, chromedp.Screenshot(chromedp.CSS(sel)), name)
}

func savePNG(t *testing.T, ctx context.Context, shot chromedp.Action[[]byte], name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// pageText is the text of the element sel.
func pageText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`)||{}).innerText||''`))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// pageTextJS is the string the expression expr evaluates to.
func pageTextJS(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return s
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// waitText waits until the element sel's text satisfies ok.
func waitText(t *testing.T, ctx context.Context, what, sel string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := pageText(t, ctx, sel)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s in %s; it shows:\n%s", what, sel, s)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// edgeRows are the rows of the network view's edge table.
func edgeRows(t *testing.T, ctx context.Context) [][]string {
	t.Helper()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](
		`[...document.querySelectorAll('#network-body table:first-of-type tbody tr')].map(tr => [...tr.cells].map(c => c.innerText))`))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestWebUIBrowser is issue 18's browser test: a real Chromium logs in
// through uiUrl and reads each view, which follow the changes live.
func TestWebUIBrowser(t *testing.T) {
	bctx := browser(t)
	a := e2e.Start(t, e2e.WithConfig(func(c *config.Config) {
		c.LegacyModePropagation = config.DurationRange{Min: 10 * time.Minute, Max: 10 * time.Minute}
	}))
	base := strings.TrimSuffix(a.Conn.ARMEndpoint, "/")
	ctx := context.Background()
	cred := a.Credential(t)
	const rg = "ui-rg"

	// Without the login link: nothing.
	t.Run("no token", func(t *testing.T) {
		anon, cancel := chromedp.NewContext(bctx) // a tab of its own
		defer cancel()
		if err := chromedp.Do(anon, chromedp.Navigate(base+"/")); err != nil {
			t.Fatal(err)
		}
		if s := pageText(t, anon, "body"); !strings.Contains(s, "Not signed in") || strings.Contains(s, "Workspaces") {
			t.Errorf("the root without a session shows:\n%s", s)
		}
		screenshot(t, anon, "no-token")
		if err := chromedp.Do(anon, chromedp.Navigate(base+"/ui/api/ui/resources")); err != nil {
			t.Fatal(err)
		}
		if s := pageText(t, anon, "body"); !strings.Contains(s, "AuthenticationFailed") || strings.Contains(s, "Microsoft.") {
			t.Errorf("a data call without a session shows:\n%s", s)
		}
	})

	a.CreateGroup(t, rg)
	workspaces, err := armmachinelearning.NewWorkspacesClient(a.Conn.SubscriptionID, cred, a.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	wp, err := workspaces.BeginCreateOrUpdate(ctx, rg, "uiws", armmachinelearning.Workspace{
		Location: to.Ptr("eastus"),
		Properties: &armmachinelearning.WorkspaceProperties{
			PublicNetworkAccess: to.Ptr(armmachinelearning.PublicNetworkAccessDisabled), V1LegacyMode: to.Ptr(true),
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := wp.PollUntilDone(ctx, e2e.FastPoll)
	if err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	wsID := *ws.ID
	subnet := isoSubnet(t, a, cred, rg, "10.9.0.0/16", "10.9.1.0/24")
	pe := isoPrivateEndpoint(t, a, cred, rg, "ui-pe", netPE(subnet, wsID, false))
	if got := netConnectionState(pe); got != "Approved" {
		t.Fatalf("private endpoint connection = %q, want Approved", got)
	}
	listening := a.WaitEndpoints(t, 1)[0]

	// Log in.
	if err := chromedp.Do(bctx, chromedp.Navigate(a.Conn.UIURL), chromedp.WaitVisible(chromedp.CSS("#view-network"))); err != nil {
		t.Fatalf("login through uiUrl: %v", err)
	}
	if loc, err := chromedp.Run(bctx, chromedp.Location()); err != nil || strings.Contains(loc, "token") {
		t.Errorf("after login the address is %q: the token should have left it", loc)
	}

	// One public and one private data-plane call (the public one refused
	// by the workspace's private link configuration).
	history := "/history/v1.0" + wsID + "/experiments"
	if code, body := a.Get(t, base+history, nil); code != http.StatusForbidden {
		t.Fatalf("public workspace call = %d %s, want 403", code, body)
	}
	if code, body := a.Get(t, "https://"+listening.Address+history, nil); code != http.StatusOK {
		t.Fatalf("private workspace call = %d %s, want 200", code, body)
	}

	t.Run("network", func(t *testing.T) {
		waitText(t, bctx, "the workspace, the endpoint and both flows", "#network-body", func(s string) bool {
			return strings.Contains(s, "uiws") && strings.Contains(s, listening.PrivateIP) &&
				strings.Contains(s, "workspace-public") && strings.Contains(s, "workspace-private")
		})
		var public, private bool
		for _, r := range edgeRows(t, bctx) {
			if len(r) < 6 {
				continue
			}
			if r[0] == "public internet / public ARM" && r[1] == "uiws" && r[2] != "0" && r[4] != "0" && strings.Contains(r[5], "workspace-public") {
				public = true
			}
			if r[0] == "ui-pe" && r[1] == "uiws" && r[3] == "1" && r[2] == "0" && strings.Contains(r[5], "workspace-private") {
				private = true
			}
		}
		if !public || !private {
			t.Errorf("edges: public %v, private %v; table:\n%v", public, private, edgeRows(t, bctx))
		}
		pes := pageText(t, bctx, "#network-body table:nth-of-type(2)")
		if !strings.Contains(pes, "ui-pe\t"+listening.PrivateIP+"\tApproved") {
			t.Errorf("private endpoints table:\n%s", pes)
		}
		svgText, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#network-body svg').textContent`))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Private endpoint ui-pe", "IP " + listening.PrivateIP, "connection Approved", "uiws", "Public internet / public ARM", "VNet vnet", "10.9.1.0/24", "1 private"} {
			if !strings.Contains(svgText, want) {
				t.Errorf("the drawing lacks %q: %s", want, svgText)
			}
		}
		screenshot(t, bctx, "network")
	})

	t.Run("legacy mode countdown", func(t *testing.T) {
		if err := chromedp.Do(bctx, chromedp.Navigate(base+"/#workspaces")); err != nil {
			t.Fatal(err)
		}
		waitText(t, bctx, "the workspace", "#workspaces-body", func(s string) bool { return strings.Contains(s, "Workspace uiws") })
		up, err := workspaces.BeginUpdate(ctx, rg, "uiws", armmachinelearning.WorkspaceUpdateParameters{
			Properties: &armmachinelearning.WorkspacePropertiesUpdateParameters{V1LegacyMode: to.Ptr(false)},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := up.PollUntilDone(ctx, e2e.FastPoll); err != nil {
			t.Fatalf("PATCH v1LegacyMode false: %v", err)
		}
		s := waitText(t, bctx, "the countdown", "#workspaces-body", func(s string) bool { return strings.Contains(s, "changing to false") })
		if !regexp.MustCompile(`Effective v1LegacyMode\s+true`).MatchString(s) || !regexp.MustCompile(`publicNetworkAccess\s+Disabled`).MatchString(s) ||
			!strings.Contains(s, "ui-pe\tApproved") {
			t.Errorf("workspace view during propagation:\n%s", s)
		}
		screenshot(t, bctx, "workspaces-countdown")

		// clock advance, from the Clock view's form.
		if err := chromedp.Do(bctx, chromedp.Navigate(base+"/#clock"), chromedp.WaitVisible(chromedp.CSS("#clock-advance input")),
			chromedp.SetValue(chromedp.CSS("#clock-advance input[name=duration]"), "15m"), chromedp.Click(chromedp.CSS("#clock-advance button"))); err != nil {
			t.Fatal(err)
		}
		waitText(t, bctx, "the advanced clock", "#view-clock", func(s string) bool { return strings.Contains(s, "offset 15m0s") && strings.Contains(s, "15m0s") })
		screenshot(t, bctx, "clock")
		if err := chromedp.Do(bctx, chromedp.Navigate(base+"/#workspaces")); err != nil {
			t.Fatal(err)
		}
		s = waitText(t, bctx, "the end of the countdown", "#workspaces-body", func(s string) bool {
			return strings.Contains(s, "Workspace uiws") && !strings.Contains(s, "changing to false")
		})
		if !regexp.MustCompile(`Effective v1LegacyMode\s+false`).MatchString(s) {
			t.Errorf("workspace view after the clock advance:\n%s", s)
		}
		screenshot(t, bctx, "workspaces")
	})

	t.Run("access", func(t *testing.T) {
		nobody, ncred := a.NewPrincipal(t, "ui-nobody")
		status, _, body := a.Do(t, "GET", wsID+"?api-version=2024-04-01", "", map[string]string{"Authorization": "Bearer " + a.TokenOf(t, ncred)})
		if status != http.StatusForbidden {
			t.Fatalf("a call without a role: %d %s, want 403", status, body)
		}
		// The reason, as the access report gives it.
		_, _, body = a.Do(t, "GET", "/_armlet/reports/access?deniedOnly=true&principal="+nobody.ObjectID, "", nil)
		var rep report.AccessReport
		if err := json.Unmarshal([]byte(body), &rep); err != nil || len(rep.Principals) != 1 || len(rep.Principals[0].Entries) == 0 {
			t.Fatalf("access report: %v %s", err, body)
		}
		e := rep.Principals[0].Entries[0]
		reason := ""
		if len(e.Decisions) > 0 {
			reason = e.Decisions[0].Reason
		} else if len(e.Trail) > 0 {
			reason = e.Trail[0]
		}
		if reason == "" {
			t.Fatalf("the denied entry gives no reason: %+v", e)
		}
		if err := chromedp.Do(bctx, chromedp.Navigate(base+"/#access")); err != nil {
			t.Fatal(err)
		}
		waitText(t, bctx, "the refused call with its reason", "#access-body", func(s string) bool {
			return strings.Contains(s, nobody.ClientID) && strings.Contains(s, "denied") && strings.Contains(s, reason)
		})
		screenshot(t, bctx, "access")
	})

	t.Run("exposure", func(t *testing.T) {
		if err := chromedp.Do(bctx, chromedp.Navigate(base+"/#exposure")); err != nil {
			t.Fatal(err)
		}
		waitText(t, bctx, "the workspace's public and private operations", "#exposure-body", func(s string) bool {
			return strings.Contains(s, "Workspace uiws") && strings.Contains(s, "workspace-public") && strings.Contains(s, "workspace-private")
		})
		screenshot(t, bctx, "exposure")
	})

	// Keyboard only: Tab past the skip link to the fourth view's link,
	// Enter, and the Access view shows with the focus on it.
	t.Run("keyboard", func(t *testing.T) {
		if err := chromedp.Do(bctx, chromedp.Navigate(base+"/#network"), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#view-network")),
			chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		if focused := pageTextJS(t, bctx, `document.activeElement.textContent`); focused != "Access" {
			t.Fatalf("after five Tabs the focus is on %q, want the Access link", focused)
		}
		if err := chromedp.Do(bctx, chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#view-access"))); err != nil {
			t.Fatal(err)
		}
		if got := pageTextJS(t, bctx, `location.hash + ' ' + document.activeElement.id + ' ' + document.querySelector('nav a[aria-current=page]').textContent`); got != "#access main Access" {
			t.Errorf("after Enter: hash, focus and current link %q", got)
		}
	})

	// The UI is the main listener's only, not a private endpoint's.
	for _, p := range []string{"/", "/ui/", "/ui/app.js", "/ui/login?token=x"} {
		if code, body := a.Get(t, "https://"+listening.Address+p, map[string]string{"Accept": "text/html"}); code == http.StatusOK || strings.Contains(body, "<script") || strings.Contains(body, "signed in") {
			t.Errorf("GET %s on the private endpoint's listener: %d %s", p, code, body)
		}
	}
}

// TestWebUIBrowserFifty: the network drawing of about fifty resources
// (networks, subnets, zones and their links, workspaces, storage accounts,
// key vaults, an ML registry, a Resource Management Private Link and an
// endpoint to each), imported from a seed, keeps every box apart and every
// endpoint's IP on show.
func TestWebUIBrowserFifty(t *testing.T) {
	bctx := browser(t)
	a := e2e.Start(t)
	rg := "/subscriptions/" + a.Conn.SubscriptionID + "/resourceGroups/fifty"
	res := []map[string]any{{"id": rg, "location": "eastus"}}
	add := func(id string, body map[string]any) { body["id"] = rg + id; res = append(res, body) }
	var subnets, targets []string
	for v := range 3 {
		vnet := fmt.Sprintf("/providers/Microsoft.Network/virtualNetworks/vnet%d", v)
		var sns []any
		for s := range 3 {
			sns = append(sns, map[string]any{"name": fmt.Sprintf("sn%d", s), "properties": map[string]any{"addressPrefix": fmt.Sprintf("10.%d.%d.0/24", v, s)}})
			subnets = append(subnets, fmt.Sprintf("%s%s/subnets/sn%d", rg, vnet, s))
		}
		add(vnet, map[string]any{"location": "eastus", "properties": map[string]any{
			"addressSpace": map[string]any{"addressPrefixes": []string{fmt.Sprintf("10.%d.0.0/16", v)}}, "subnets": sns}})
	}
	for z, zone := range []string{"privatelink.api.azureml.ms", "privatelink.blob.core.windows.net"} {
		add("/providers/Microsoft.Network/privateDnsZones/"+zone, map[string]any{"location": "global"})
		add(fmt.Sprintf("/providers/Microsoft.Network/privateDnsZones/%s/virtualNetworkLinks/link%d", zone, z), map[string]any{"location": "global",
			"properties": map[string]any{"virtualNetwork": map[string]any{"id": fmt.Sprintf("%s/providers/Microsoft.Network/virtualNetworks/vnet%d", rg, z)}}})
	}
	for i := range 4 {
		id := fmt.Sprintf("/providers/Microsoft.MachineLearningServices/workspaces/ws%d", i)
		add(id, map[string]any{"location": "eastus", "properties": map[string]any{"publicNetworkAccess": "Disabled"}})
		targets = append(targets, rg+id+"|amlworkspace")
	}
	for i := range 10 {
		id := fmt.Sprintf("/providers/Microsoft.Storage/storageAccounts/st%d", i)
		body := map[string]any{"location": "eastus", "kind": "StorageV2", "sku": map[string]any{"name": "Standard_LRS"}}
		if i == 0 { // behind its firewall
			body["properties"] = map[string]any{"networkAcls": map[string]any{"defaultAction": "Deny"}}
		}
		add(id, body)
		targets = append(targets, rg+id+"|blob")
	}
	for i := range 4 {
		id := fmt.Sprintf("/providers/Microsoft.KeyVault/vaults/kv%d", i)
		props := map[string]any{"tenantId": a.Conn.TenantID, "sku": map[string]any{"family": "A", "name": "standard"}}
		if i == 0 {
			props["publicNetworkAccess"] = "Disabled"
		}
		add(id, map[string]any{"location": "eastus", "properties": props})
		targets = append(targets, rg+id+"|vault")
	}
	for _, tg := range []struct{ id, group string }{
		{"/providers/Microsoft.MachineLearningServices/registries/reg0", "amlregistry"},
		{"/providers/Microsoft.Authorization/resourceManagementPrivateLinks/rmpl0", "ResourceManagement"},
	} {
		body := map[string]any{"location": "eastus"}
		if strings.Contains(tg.id, "registries") {
			body["properties"] = map[string]any{"publicNetworkAccess": "Disabled", "regionDetails": []any{map[string]any{"location": "eastus"}}}
		}
		add(tg.id, body)
		targets = append(targets, rg+tg.id+"|"+tg.group)
	}
	for i, tg := range targets {
		target, group, _ := strings.Cut(tg, "|")
		add(fmt.Sprintf("/providers/Microsoft.Network/privateEndpoints/pe%d", i), map[string]any{"location": "eastus", "properties": map[string]any{
			"subnet":                        map[string]any{"id": subnets[i%len(subnets)]},
			"privateLinkServiceConnections": []any{map[string]any{"name": "c", "properties": map[string]any{"privateLinkServiceId": target, "groupIds": []string{group}}}},
		}})
	}
	seed, _ := json.Marshal(map[string]any{"resources": res})
	if status, _, body := a.Do(t, "POST", "/_armlet/import", string(seed), nil); status != http.StatusOK {
		t.Fatalf("import: %d %s", status, body)
	}
	t.Logf("%d resources and 9 subnets", len(res))

	if err := chromedp.Do(bctx, chromedp.Navigate(a.Conn.UIURL), chromedp.WaitVisible(chromedp.CSS("#view-network"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, bctx, "every endpoint", "#network-body", func(s string) bool {
		return strings.Contains(s, fmt.Sprintf("pe%d\t", len(targets)-1)) && strings.Contains(s, "kv3") && strings.Contains(s, "reg0") && strings.Contains(s, "rmpl0")
	})
	// Each target's public access, a firewall's default too.
	targetRows := pageText(t, bctx, "#network-body table:nth-of-type(5)")
	for _, want := range []string{"st0\tstorage account\tpublic Enabled", "firewall denies by default", "kv0\tkey vault\tpublic Disabled", "ws0\tworkspace\tpublic Disabled"} {
		if !strings.Contains(targetRows, want) {
			t.Errorf("the targets table lacks %q:\n%s", want, targetRows)
		}
	}
	if strings.Count(targetRows, "firewall") != 1 {
		t.Errorf("only st0 is behind a firewall:\n%s", targetRows)
	}
	// No two boxes of the drawing overlap, and no text runs out of its box.
	overlaps, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`(() => {
		const boxes = [...document.querySelectorAll('#network-body svg rect')].filter(r => !r.classList.contains('subnet')).map(r => r.getBBox());
		const out = [];
		boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
			if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) out.push(JSON.stringify([a.x, a.y, b.x, b.y]));
		}));
		for (const t of document.querySelectorAll('#network-body svg text:not(.elabel)')) {
			const b = t.getBBox(), r = boxes.find(r => b.x >= r.x && b.x < r.x + r.width && b.y >= r.y - 2 && b.y < r.y + r.height);
			if (!r || b.x + b.width > r.x + r.width + 1) out.push('text ' + t.textContent);
		}
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(overlaps) != 0 {
		t.Errorf("the drawing overlaps: %v", overlaps)
	}
	screenshot(t, bctx, "network-fifty")
	screenshotOf(t, bctx, "#network-body .drawing", "network-fifty-drawing")
}

// TestWebUIBrowserPolls measures README's "polls a cheap revision every
// 2 s and re-reads everything every 30 s" in a real Chromium, from the
// page's own resource timings: the revision requests come 2 s apart, an
// unchanged revision re-reads nothing, and once the last full read is 30 s
// old the next poll re-reads everything. (The 30 s constant itself is
// internal/webui TestPollPeriods': the test winds the page's record of its
// last full read back rather than wait.)
func TestWebUIBrowserPolls(t *testing.T) {
	bctx := browser(t)
	a := e2e.Start(t)
	if err := chromedp.Do(bctx, chromedp.Navigate(a.Conn.UIURL), chromedp.WaitVisible(chromedp.CSS("#view-network"))); err != nil {
		t.Fatal(err)
	}
	starts := func(path string) []float64 {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](
			`performance.getEntriesByType('resource').filter(e => e.name.endsWith(`+jsString(path)+`)).map(e => e.startTime)`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	const revision, resources = "/ui/api/ui/revision", "/ui/api/ui/resources"

	// Four requests for the revision, the first read's included: three
	// periods to measure. (The first poll may find the revision moved
	// since the first read and re-read once; the later ones must not.)
	deadline := time.Now().Add(10 * time.Second)
	polls := starts(revision)
	for len(polls) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s the page has asked for the revision %d times, want 4", len(polls))
		}
		time.Sleep(200 * time.Millisecond)
		polls = starts(revision)
	}
	time.Sleep(300 * time.Millisecond) // for a read the last poll would start
	for i := 1; i < 4; i++ {
		if gap := polls[i] - polls[i-1]; gap < 1500 || gap > 2600 {
			t.Errorf("revision requests %.0f ms apart, want about 2000 (starts %v)", gap, polls)
		}
	}
	reads := starts(resources)
	for _, r := range reads {
		if r > polls[2] {
			t.Errorf("the page read everything again at %.0f ms though the revision did not change (reads %v, polls %v)", r, reads, polls)
		}
	}
	fullReads := len(reads)

	// The last full read 31 s ago: the next poll reads everything.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[any](`lastFull = Date.now() - 31000`)); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(3 * time.Second)
	for len(starts(resources)) == fullReads {
		if time.Now().After(deadline) {
			t.Fatal("a poll 30 s after the last full read did not read everything again")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
