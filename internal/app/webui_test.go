package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/identity"
	"github.com/armlet/armlet/internal/report"
	"github.com/armlet/armlet/internal/webui"
)

// uiClient is a client of a's UI that keeps cookies out of a jar (the
// test passes them) and does not follow redirects.
func uiGet(t *testing.T, a *e2e.Armlet, method, url, body string, cookie *http.Cookie, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	c := *a.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestWebUI: the UI's login link is in connection.json; it works once, for
// a session cookie that the pages and data calls need; ARM's own GET / is
// unchanged; the data calls are the admin API's.
func TestWebUI(t *testing.T) {
	a := e2e.Start(t)
	raw, err := os.ReadFile(filepath.Join(a.DataDir, app.ConnectionFile))
	if err != nil {
		t.Fatal(err)
	}
	var conn app.Connection
	if err := json.Unmarshal(raw, &conn); err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(conn.ARMEndpoint, "/")
	if !strings.HasPrefix(conn.UIURL, base+"/ui/login?token=") {
		t.Fatalf("uiUrl %q, want a login link on %s", conn.UIURL, base)
	}

	// Before login: nothing.
	for _, p := range []string{"/", "/ui/", "/ui/app.js", "/ui/api/ui/resources", "/ui/api/clock"} {
		resp, body := uiGet(t, a, "GET", base+p, "", nil, nil)
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "app.js") {
			t.Errorf("GET %s without a session: %d %s, want 401 showing nothing", p, resp.StatusCode, body)
		}
	}
	// ARM clients' GET / (with a token) still reaches ARM.
	status, _, body := a.Do(t, "GET", "/?api-version=2022-12-01", "", map[string]string{"Accept": "text/html"})
	if strings.Contains(body, "<html") || status == http.StatusOK && strings.Contains(body, "uiUrl") {
		t.Errorf("ARM's GET / answered by the UI: %d %s", status, body)
	}

	resp, _ := uiGet(t, a, "GET", conn.UIURL, "", nil, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d, want 303", resp.StatusCode)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == webui.CookieName {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || !session.Secure || session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie %+v", session)
	}
	if resp, _ := uiGet(t, a, "GET", conn.UIURL, "", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("second use of the login link: %d, want 401", resp.StatusCode)
	}

	resp, body = uiGet(t, a, "GET", base+"/", "", session, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "app.js") {
		t.Fatalf("GET / with a session: %d %s", resp.StatusCode, body)
	}
	ws := a.CreateGroup(t, "rg-ui")
	a.CreateWorkspace(t, "rg-ui", "ws-ui", false)
	resp, body = uiGet(t, a, "GET", base+"/ui/api/ui/resources", "", session, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, ws+"/providers/Microsoft.MachineLearningServices/workspaces/ws-ui") ||
		!strings.Contains(body, "effectiveV1LegacyMode") {
		t.Fatalf("resources: %d %s", resp.StatusCode, body)
	}
	// The exposure and access reports by principal (object id, app id or
	// name): the bootstrap principal's calls, or nobody's; the access
	// report names the principal.
	for _, tc := range []struct {
		principal string
		want      bool
	}{
		{conn.ObjectID, true}, {conn.ClientID, true}, {identity.BootstrapName, true}, {strings.ToUpper(identity.BootstrapName), true},
		{"00000000-0000-0000-0000-000000000001", false}, {"nobody-by-this-name", false},
	} {
		resp, body := uiGet(t, a, "GET", base+"/ui/api/reports/exposure?principal="+url.QueryEscape(tc.principal), "", session, nil)
		if got := strings.Contains(body, "workspaces/ws-ui"); resp.StatusCode != http.StatusOK || got != tc.want {
			t.Errorf("exposure of principal %s: %d, shows the workspace %v, want %v: %s", tc.principal, resp.StatusCode, got, tc.want, body)
		}
		resp, body = uiGet(t, a, "GET", base+"/ui/api/reports/access?principal="+url.QueryEscape(tc.principal), "", session, nil)
		var rep report.AccessReport
		if err := json.Unmarshal([]byte(body), &rep); resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("access of principal %s: %d %v %s", tc.principal, resp.StatusCode, err, body)
		}
		got := len(rep.Principals) == 1 && rep.Principals[0].ObjectID == conn.ObjectID && rep.Principals[0].Name == identity.BootstrapName
		if got != tc.want || !tc.want && len(rep.Principals) != 0 {
			t.Errorf("access of principal %s: %+v, want the bootstrap principal by name %v", tc.principal, rep.Principals, tc.want)
		}
	}
	// The revision the page polls moves with ARM writes, recorded calls
	// and the clock, and not with the page's own reads (or it would
	// re-read everything at every poll).
	for _, tc := range []struct {
		name   string
		change func()
		moves  bool
	}{
		{"the page's reads", func() {
			for _, p := range []string{"ui/resources", "flows", "reports/exposure", "reports/access", "clock", "ui/revision"} {
				uiGet(t, a, "GET", base+"/ui/api/"+p, "", session, nil)
			}
		}, false},
		{"an ARM write", func() { a.CreateGroup(t, "rg-ui-2") }, true},
		{"an ARM read", func() { a.Do(t, "GET", ws+"?api-version=2022-12-01", "", nil) }, true},
		{"a clock advance", func() {
			resp, body := uiGet(t, a, "POST", base+"/ui/api/clock/advance", `{"duration":"2h"}`, session,
				map[string]string{"Content-Type": "application/json", "Origin": base})
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"offset":"2h0m0s"`) {
				t.Fatalf("advance: %d %s", resp.StatusCode, body)
			}
		}, true},
	} {
		revision := func() string {
			resp, body := uiGet(t, a, "GET", base+"/ui/api/ui/revision", "", session, nil)
			var rev struct{ Revision, ClockOffset any }
			if err := json.Unmarshal([]byte(body), &rev); resp.StatusCode != http.StatusOK || err != nil {
				t.Fatalf("revision: %d %v %s", resp.StatusCode, err, body)
			}
			return fmt.Sprint(rev.Revision, " ", rev.ClockOffset)
		}
		before := revision()
		tc.change()
		if after := revision(); (after != before) != tc.moves {
			t.Errorf("%s: revision %s, then %s; want it to move: %v", tc.name, before, after, tc.moves)
		}
	}
	// The admin API mints new login links.
	status, _, body = a.Do(t, "POST", "/_armlet/ui/login", "{}", nil)
	var minted struct{ UIURL string }
	if err := json.Unmarshal([]byte(body), &minted); status != http.StatusOK || err != nil || !strings.HasPrefix(minted.UIURL, base+"/ui/login?token=") {
		t.Fatalf("POST /_armlet/ui/login: %d %s", status, body)
	}
	if resp, _ := uiGet(t, a, "GET", minted.UIURL, "", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("minted login link: %d, want 303", resp.StatusCode)
	}
}
