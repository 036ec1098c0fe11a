// Package webui is armlet's web UI: a few static pages, embedded in the
// binary, that draw the network posture, the workspaces, the exposure and
// access reports and the clock from JSON data calls.
//
// # Login and sessions
//
// A login link carries a one-time token (NewLoginToken, LoginURL): GET
// /ui/login?token=T spends it and answers with a session cookie (HttpOnly,
// Secure, SameSite=Strict) and a redirect to the root, so the token leaves
// the address bar; POST /ui/logout ends the session. Every page, asset and data call needs a live session;
// without one (no cookie, an unknown or expired one) the answer is 401 and
// shows nothing of armlet's state.
//
// # Data calls
//
// GET /ui/api/{path} (and POST /ui/api/clock/advance) are the admin API's
// /_armlet/{path}, served by Options.Data as the signed-in principal: the
// UI reads nothing the admin API does not serve, under the same
// authorization. Only the routes in dataRoutes are reachable.
package webui

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

//go:embed assets
var assets embed.FS

// CookieName is the session cookie's name.
const CookieName = "armlet_ui_session"

// DefaultSessionLifetime is how long a session lasts from its login.
//
// Choice: 12 hours of wall-clock time (not the armlet clock, which tests
// advance by days): a working day, after which a new login link is needed.
const DefaultSessionLifetime = 12 * time.Hour

// Options configures the UI.
type Options struct {
	// Data serves a data call: r is the request rewritten to the admin
	// API's path (/_armlet/...), to be served as the signed-in principal.
	Data func(ctx context.Context, r *http.Request, body []byte) (*engine.Response, error)
	// Now is the wall clock for sessions (time.Now when nil).
	Now func() time.Time
	// SessionLifetime is DefaultSessionLifetime when zero.
	SessionLifetime time.Duration
	Logger          *slog.Logger
}

// UI serves the web UI (an http.Handler for "/" and "/ui/...").
type UI struct {
	opts Options
	mu   sync.Mutex
	// tokens are the unspent login tokens' hashes; sessions map a session
	// cookie's hash to its expiry. Hashes, so that a timing side channel
	// of the map lookup tells nothing of the secrets.
	tokens   map[[32]byte]bool
	sessions map[[32]byte]time.Time
}

// New returns the UI.
func New(opts Options) *UI {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionLifetime <= 0 {
		opts.SessionLifetime = DefaultSessionLifetime
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &UI{opts: opts, tokens: map[[32]byte]bool{}, sessions: map[[32]byte]time.Time{}}
}

// NewLoginToken mints a one-time login token.
func (u *UI) NewLoginToken() string {
	tok := randomSecret()
	u.mu.Lock()
	u.tokens[sha256.Sum256([]byte(tok))] = true
	u.mu.Unlock()
	return tok
}

// LoginURL is a login link for the UI served at base
// ("https://127.0.0.1:8443"), with a new one-time token.
func (u *UI) LoginURL(base string) string {
	return strings.TrimSuffix(base, "/") + "/ui/login?token=" + url.QueryEscape(u.NewLoginToken())
}

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Claims reports whether a request that arrived on the main listener is
// the UI's: any path under /ui/, or a browser's GET of the root (no
// Authorization header, HTML accepted). Every ARM client sends a bearer
// token, so ARM's own GET / is unchanged.
func (u *UI) Claims(r *http.Request) bool {
	if r.URL.Path == "/ui" || strings.HasPrefix(r.URL.Path, "/ui/") {
		return true
	}
	return r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.Header.Get("Authorization") == "" && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// dataRoutes are the data calls: method and path under /ui/api/, each the
// admin API's /_armlet/ route of the same path.
var dataRoutes = map[string]bool{
	"GET clock": true, "POST clock/advance": true, "GET flows": true, "GET reports/exposure": true,
	"GET reports/access": true, "GET network/endpoints": true, "GET state": true,
	"GET ui/resources": true, "GET ui/revision": true,
}

// pages are the embedded files by request path.
var pages = map[string]struct{ file, contentType string }{
	"/":           {"assets/index.html", "text/html; charset=utf-8"},
	"/ui/":        {"assets/index.html", "text/html; charset=utf-8"},
	"/ui/app.js":  {"assets/app.js", "text/javascript; charset=utf-8"},
	"/ui/app.css": {"assets/app.css", "text/css; charset=utf-8"},
}

func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("Cache-Control", "no-store")
	if r.URL.Path == "/ui/login" {
		u.login(w, r)
		return
	}
	if !u.signedIn(r) {
		u.refuse(w, r)
		return
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/ui/api/"); ok {
		u.data(w, r, rest)
		return
	}
	if r.URL.Path == "/ui/logout" {
		u.logout(w, r)
		return
	}
	p, ok := pages[r.URL.Path]
	if !ok {
		writeError(w, arm.NotFound("NotFound", "The UI has no page '%s'.", r.URL.Path))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The UI's pages are read with GET."))
		return
	}
	b, err := assets.ReadFile(p.file)
	if err != nil {
		writeError(w, err)
		return
	}
	h.Set("Content-Type", p.contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(b)
	}
}

// login spends a login token for a session cookie.
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	sum := sha256.Sum256([]byte(tok))
	u.mu.Lock()
	valid := tok != "" && u.tokens[sum]
	delete(u.tokens, sum)
	var cookie string
	now := u.opts.Now()
	if valid {
		u.prune(now)
		cookie = randomSecret()
		u.sessions[sha256.Sum256([]byte(cookie))] = now.Add(u.opts.SessionLifetime)
	}
	u.mu.Unlock()
	if !valid {
		u.refuse(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: cookie, Path: "/", MaxAge: int(u.opts.SessionLifetime / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the session of r (POST /ui/logout, from the page).
func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if err := sameOriginWrite(r); err != nil {
		writeError(w, err)
		return
	}
	if c, err := r.Cookie(CookieName); err == nil {
		u.mu.Lock()
		delete(u.sessions, sha256.Sum256([]byte(c.Value)))
		u.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

// sameOriginWrite refuses a write that is not a same-origin JSON request
// of the page: SameSite=Strict already keeps other sites' requests
// cookie-less; a JSON content type and a same-origin Origin also make a
// cross-site form post impossible.
func sameOriginWrite(r *http.Request) error {
	if r.Method != http.MethodPost {
		return arm.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "Use POST.")
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
		(r.Header.Get("Origin") != "" && r.Header.Get("Origin") != "https://"+r.Host) {
		return arm.Errorf(http.StatusForbidden, "CrossOriginRequestRefused",
			"The UI's writes must come from its own page as application/json.")
	}
	return nil
}

// prune forgets expired sessions; u.mu is held.
func (u *UI) prune(now time.Time) {
	for k, exp := range u.sessions {
		if !now.Before(exp) {
			delete(u.sessions, k)
		}
	}
}

// signedIn reports whether r carries a live session cookie.
func (u *UI) signedIn(r *http.Request) bool {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return false
	}
	sum := sha256.Sum256([]byte(c.Value))
	u.mu.Lock()
	defer u.mu.Unlock()
	exp, ok := u.sessions[sum]
	if ok && !u.opts.Now().Before(exp) {
		delete(u.sessions, sum)
		return false
	}
	return ok
}

const refusedPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>armlet: sign in</title></head>
<body><main><h1>Not signed in</h1>
<p>Open the login link (<code>uiUrl</code>) that armlet printed at start and wrote to connection.json.
A link works once; <code>armlet ui</code> prints a new one.</p></main></body></html>
`

// refuse answers 401: JSON for data calls, a page saying how to sign in
// otherwise.
func (u *UI) refuse(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/ui/api/") || !strings.Contains(r.Header.Get("Accept"), "text/html") {
		writeError(w, arm.Errorf(http.StatusUnauthorized, arm.CodeAuthenticationFailed,
			"The web UI needs a session: sign in with the login link (uiUrl in connection.json)."))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = io.WriteString(w, refusedPage)
}

// data serves a data call through Options.Data.
func (u *UI) data(w http.ResponseWriter, r *http.Request, rest string) {
	rest = strings.TrimSuffix(rest, "/")
	if !dataRoutes[r.Method+" "+rest] {
		writeError(w, arm.NotFound("NotFound", "The UI has no data call %s %s.", r.Method, r.URL.Path))
		return
	}
	if r.Method != http.MethodGet {
		if err := sameOriginWrite(r); err != nil {
			writeError(w, err)
			return
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, arm.BadRequest(arm.CodeInvalidRequestContent, "The request content could not be read: %v.", err))
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = "/_armlet/"+rest, ""
	resp, err := u.opts.Data(r.Context(), r2, body)
	if err != nil {
		if _, ok := arm.AsError(err); !ok {
			u.opts.Logger.Error("ui data call", "path", r.URL.Path, "err", err)
		}
		writeError(w, err)
		return
	}
	b, err := json.Marshal(resp.Body)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(b)
}

// writeError writes an ARM error body; an error that is not *arm.Error is
// shown generically.
func writeError(w http.ResponseWriter, err error) {
	ae, ok := arm.AsError(err)
	if !ok {
		ae = arm.Internal()
	}
	b, _ := json.Marshal(map[string]any{"error": ae})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(ae.Status)
	_, _ = w.Write(b)
}
