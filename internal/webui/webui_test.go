package webui

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/engine"
)

// testUI is a UI whose data calls echo the admin path they were mapped
// to, on a clock the test moves.
func testUI(now *time.Time) *UI {
	return New(Options{
		Now: func() time.Time { return *now },
		Data: func(_ context.Context, r *http.Request, body []byte) (*engine.Response, error) {
			return engine.JSON(http.StatusOK, map[string]any{"path": r.URL.Path, "body": string(body)}), nil
		},
	})
}

// login spends a fresh token and returns the session cookie.
func login(t *testing.T, u *UI) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	u.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.LoginURL("https://armlet"), nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("login: %d %q, want 303 to /", rec.Code, rec.Header().Get("Location"))
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("login set %d cookies, want 1", len(cs))
	}
	c := cs[0]
	if c.Name != CookieName || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, Secure, SameSite=Strict, Path=/", c)
	}
	return c
}

func TestAuthorization(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u := testUI(&now)
	// A session begun one lifetime ago has just expired.
	now = now.Add(-DefaultSessionLifetime)
	expiring := login(t, u)
	now = now.Add(DefaultSessionLifetime)
	live := login(t, u)
	forged := &http.Cookie{Name: CookieName, Value: randomSecret()}
	tampered := &http.Cookie{Name: CookieName, Value: live.Value[:len(live.Value)-1] + "A"}
	if tampered.Value == live.Value {
		tampered.Value = live.Value[:len(live.Value)-1] + "B"
	}

	paths := []struct{ method, path, body string }{
		{"GET", "/", ""}, {"GET", "/ui/", ""}, {"GET", "/ui/app.js", ""}, {"GET", "/ui/app.css", ""},
		{"GET", "/ui/api/clock", ""}, {"GET", "/ui/api/flows?since=1h", ""}, {"GET", "/ui/api/reports/exposure", ""},
		{"GET", "/ui/api/reports/access", ""}, {"GET", "/ui/api/network/endpoints", ""},
		{"GET", "/ui/api/ui/resources", ""}, {"GET", "/ui/api/ui/revision", ""},
		{"POST", "/ui/api/clock/advance", `{"duration":"1m"}`},
	}
	cookies := []struct {
		name   string
		cookie *http.Cookie
		want   int
	}{
		{"no cookie", nil, http.StatusUnauthorized},
		{"forged cookie", forged, http.StatusUnauthorized},
		{"tampered cookie", tampered, http.StatusUnauthorized},
		{"expired cookie", expiring, http.StatusUnauthorized},
		{"empty cookie", &http.Cookie{Name: CookieName, Value: ""}, http.StatusUnauthorized},
		{"live session", live, http.StatusOK},
	}
	for _, c := range cookies {
		for _, p := range paths {
			t.Run(c.name+" "+p.method+" "+p.path, func(t *testing.T) {
				req := httptest.NewRequest(p.method, "https://armlet"+p.path, strings.NewReader(p.body))
				req.Header.Set("Accept", "text/html,application/json")
				req.Header.Set("Content-Type", "application/json")
				if c.cookie != nil {
					req.AddCookie(c.cookie)
				}
				rec := httptest.NewRecorder()
				u.ServeHTTP(rec, req)
				if rec.Code != c.want {
					t.Fatalf("%d %s, want %d", rec.Code, rec.Body, c.want)
				}
				if c.want == http.StatusUnauthorized {
					if b := rec.Body.String(); strings.Contains(b, "path") || strings.Contains(b, "<script") {
						t.Fatalf("a refused request shows something: %s", b)
					}
					return
				}
				if api, ok := strings.CutPrefix(p.path, "/ui/api/"); ok {
					var got struct{ Path, Body string }
					if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
						t.Fatal(err)
					}
					api, _, _ = strings.Cut(api, "?")
					if got.Path != "/_armlet/"+api || got.Body != p.body {
						t.Fatalf("data call reached %q with %q, want /_armlet/%s with %q", got.Path, got.Body, api, p.body)
					}
				}
			})
		}
	}
}

// TestLoginToken: a token works once; a wrong one sets no cookie.
func TestLoginToken(t *testing.T) {
	now := time.Now()
	u := testUI(&now)
	tok := u.NewLoginToken()
	for i, tc := range []struct {
		query string
		want  int
	}{
		{"token=" + tok, http.StatusSeeOther},
		{"token=" + tok, http.StatusUnauthorized}, // spent
		{"token=", http.StatusUnauthorized},
		{"", http.StatusUnauthorized},
		{"token=" + randomSecret(), http.StatusUnauthorized},
	} {
		rec := httptest.NewRecorder()
		u.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://armlet/ui/login?"+tc.query, nil))
		if rec.Code != tc.want {
			t.Errorf("%d: login?%s: %d, want %d", i, tc.query, rec.Code, tc.want)
		}
		if tc.want != http.StatusSeeOther && len(rec.Result().Cookies()) != 0 {
			t.Errorf("%d: a refused login set a cookie", i)
		}
	}
}

// TestDataRoutes: only the listed admin routes are reachable, and writes
// must be same-origin JSON.
func TestDataRoutes(t *testing.T) {
	now := time.Now()
	u := testUI(&now)
	c := login(t, u)
	for _, tc := range []struct {
		method, path, contentType, origin string
		want                              int
	}{
		{"GET", "/ui/api/clock", "", "", http.StatusOK},
		{"GET", "/ui/api/export", "", "", http.StatusNotFound},
		{"GET", "/ui/api/principals", "", "", http.StatusNotFound},
		{"POST", "/ui/api/reset", "application/json", "", http.StatusNotFound},
		{"POST", "/ui/api/ui/login", "application/json", "", http.StatusNotFound},
		{"DELETE", "/ui/api/clock", "", "", http.StatusNotFound},
		{"POST", "/ui/api/clock/advance", "application/json", "https://armlet", http.StatusOK},
		{"POST", "/ui/api/clock/advance", "text/plain", "", http.StatusForbidden},
		{"POST", "/ui/api/clock/advance", "application/json", "https://evil.example", http.StatusForbidden},
		{"GET", "/ui/nope", "", "", http.StatusNotFound},
		{"GET", "/ui/logout", "", "", http.StatusMethodNotAllowed},
		{"POST", "/ui/logout", "text/plain", "", http.StatusForbidden},
	} {
		req := httptest.NewRequest(tc.method, "https://armlet"+tc.path, strings.NewReader(`{"duration":"1m"}`))
		req.AddCookie(c)
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		rec := httptest.NewRecorder()
		u.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s %s (%s, origin %q): %d %s, want %d", tc.method, tc.path, tc.contentType, tc.origin, rec.Code, rec.Body, tc.want)
		}
	}
}

func TestClaims(t *testing.T) {
	u := New(Options{})
	for _, tc := range []struct {
		method, path, accept, auth string
		want                       bool
	}{
		{"GET", "/", "text/html,application/xhtml+xml", "", true},
		{"GET", "/", "text/html", "Bearer x", false}, // an ARM client
		{"GET", "/", "application/json", "", false},
		{"PUT", "/", "text/html", "", false},
		{"GET", "/ui/", "", "", true},
		{"GET", "/ui/api/clock", "", "Bearer x", true},
		{"GET", "/uix", "text/html", "", false},
		{"GET", "/subscriptions", "text/html", "", false},
	} {
		req := httptest.NewRequest(tc.method, "https://armlet"+tc.path, nil)
		req.Header.Set("Accept", tc.accept)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		if got := u.Claims(req); got != tc.want {
			t.Errorf("%s %s Accept %q Authorization %q: claimed %v, want %v", tc.method, tc.path, tc.accept, tc.auth, got, tc.want)
		}
	}
}

// TestPageWeight: the whole UI (every embedded file) stays under 300 KB.
func TestPageWeight(t *testing.T) {
	total := 0
	err := fs.WalkDir(assets, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(path)
		total += len(b)
		return err
	})
	if err != nil || total == 0 || total > 300<<10 {
		t.Fatalf("the UI weighs %d bytes (%v), want 1 to %d", total, err, 300<<10)
	}
	t.Logf("the UI weighs %d bytes", total)
}

// TestPollPeriods: the page served polls the revision every 2 s and
// re-reads everything every 30 s, as the README says. The browser test
// (internal/app TestWebUIBrowserPolls) measures the 2 s between requests;
// the 30 s it cannot wait for, so the constant is read here.
func TestPollPeriods(t *testing.T) {
	js, err := assets.ReadFile("assets/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"const POLL_MS = 2000;",
		"const FULL_MS = 30000;",
		"setInterval(() => refresh(false), POLL_MS);",
		"Date.now() - lastFull > FULL_MS",
	} {
		if !strings.Contains(string(js), want) {
			t.Errorf("app.js has no %q", want)
		}
	}
}

// TestLogout: after POST /ui/logout the session's cookie is refused.
func TestLogout(t *testing.T) {
	now := time.Now()
	u := testUI(&now)
	c := login(t, u)
	req := httptest.NewRequest(http.MethodPost, "https://armlet/ui/logout", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(c)
	rec := httptest.NewRecorder()
	u.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	req = httptest.NewRequest(http.MethodGet, "https://armlet/ui/api/clock", nil)
	req.AddCookie(c)
	rec = httptest.NewRecorder()
	u.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("after logout: %d, want 401", rec.Code)
	}
}

// TestSecurityHeaders holds the README's promise that every answer of the
// UI, to a signed-in browser or not, pages, assets, data calls and the
// login alike, carries the strict Content-Security-Policy ('self' only),
// no-referrer, nosniff, DENY framing and no-store.
func TestSecurityHeaders(t *testing.T) {
	now := time.Now()
	u := testUI(&now)
	c := login(t, u)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	}
	for _, path := range []string{"/", "/ui/app.js", "/ui/app.css", "/ui/api/clock", "/ui/login?token=wrong"} {
		for _, signedIn := range []bool{true, false} {
			req := httptest.NewRequest(http.MethodGet, "https://armlet"+path, nil)
			if signedIn {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			u.ServeHTTP(rec, req)
			for name, value := range want {
				if got := rec.Header().Get(name); got != value {
					t.Errorf("GET %s (signed in %v, status %d): %s %q, want %q", path, signedIn, rec.Code, name, got, value)
				}
			}
		}
	}
}
