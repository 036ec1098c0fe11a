package identity

import (
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// serve starts a server whose mux holds Routes next to a catch-all "/"
// (standing in for the ARM handler, a 404) and returns a fixture whose
// BaseURL is the server's URL.
func serve(t *testing.T, tls bool) (*fixture, *httptest.Server) {
	t.Helper()
	return serveWith(t, tls, func(*fixture) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"CatchAll","message":"catch-all"}}`)
		}
	})
}

// serveWith is serve with the catch-all handler made by catchAll. Handlers
// are registered after the fixture exists (the mux's lock orders that before
// any request).
func serveWith(t *testing.T, tls bool, catchAll func(*fixture) http.HandlerFunc) (*fixture, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	reqs := &requestLog{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.add(r.Method + " " + r.URL.Path)
		mux.ServeHTTP(w, r)
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	f := newFixtureOn(t, newSeededStore(t, 0), srv.URL)
	f.requests = reqs
	f.svc.Routes(mux)
	mux.HandleFunc("/", catchAll(f))
	return f, srv
}

// requestLog records "METHOD /path" of every request a test server gets.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) add(s string) {
	l.mu.Lock()
	l.reqs = append(l.reqs, s)
	l.mu.Unlock()
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs...)
}

func getJSON(t *testing.T, c *http.Client, u string) (int, map[string]any) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp.StatusCode, m
}

func TestDiscoveryDocuments(t *testing.T) {
	f, srv := serve(t, false)
	base := srv.URL
	tid := testTenant
	tests := []struct {
		path string
		want map[string]string
	}{
		{"/" + tid + "/v2.0/.well-known/openid-configuration", map[string]string{
			"issuer":                        base + "/" + tid + "/v2.0",
			"authorization_endpoint":        base + "/" + tid + "/oauth2/v2.0/authorize",
			"token_endpoint":                base + "/" + tid + "/oauth2/v2.0/token",
			"jwks_uri":                      base + "/" + tid + "/discovery/v2.0/keys",
			"device_authorization_endpoint": base + "/" + tid + "/oauth2/v2.0/devicecode",
		}},
		{"/" + strings.ToUpper(tid) + "/v2.0/.well-known/openid-configuration", map[string]string{
			"issuer": base + "/" + tid + "/v2.0",
		}},
		{"/organizations/v2.0/.well-known/openid-configuration", map[string]string{
			"token_endpoint": base + "/" + tid + "/oauth2/v2.0/token",
		}},
		{"/common/v2.0/.well-known/openid-configuration", map[string]string{
			"token_endpoint": base + "/" + tid + "/oauth2/v2.0/token",
		}},
		{"/" + tid + "/.well-known/openid-configuration", map[string]string{
			"issuer":                 "https://sts.windows.net/" + tid + "/",
			"authorization_endpoint": base + "/" + tid + "/oauth2/authorize",
			"token_endpoint":         base + "/" + tid + "/oauth2/token",
			"jwks_uri":               base + "/" + tid + "/discovery/keys",
		}},
		{"/adfs/.well-known/openid-configuration", map[string]string{
			"issuer":                 base + "/adfs",
			"authorization_endpoint": base + "/adfs/oauth2/authorize",
			"token_endpoint":         base + "/adfs/oauth2/token",
			"jwks_uri":               base + "/adfs/discovery/keys",
		}},
	}
	for _, tc := range tests {
		status, doc := getJSON(t, srv.Client(), base+tc.path)
		if status != 200 {
			t.Errorf("%s: status %d %v", tc.path, status, doc)
			continue
		}
		for k, v := range tc.want {
			if doc[k] != v {
				t.Errorf("%s: %s = %v, want %s", tc.path, k, doc[k], v)
			}
		}
		for _, k := range []string{"response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported",
			"token_endpoint_auth_methods_supported", "scopes_supported", "claims_supported"} {
			if _, ok := doc[k].([]any); !ok {
				t.Errorf("%s: %s missing", tc.path, k)
			}
		}
		if algs := doc["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RS256" {
			t.Errorf("%s: algs = %v", tc.path, algs)
		}
		if !strings.HasPrefix(tc.path, "/adfs") {
			for _, k := range []string{"tenant_region_scope", "cloud_instance_name"} {
				if _, ok := doc[k].(string); !ok {
					t.Errorf("%s: %s missing", tc.path, k)
				}
			}
		}
	}

	// Unknown tenant.
	for _, p := range []string{"/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration", "/" + newGUID() + "/.well-known/openid-configuration", "/x/discovery/keys"} {
		status, doc := getJSON(t, srv.Client(), base+p)
		if status != 400 || doc["error"] != "invalid_tenant" || !strings.HasPrefix(doc["error_description"].(string), "AADSTS90002: Tenant '") {
			t.Errorf("%s: %d %v", p, status, doc)
		}
	}
	// Other methods on these paths fall through to the catch-all.
	resp, err := srv.Client().Post(base+"/"+tid+"/v2.0/.well-known/openid-configuration", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("POST discovery: %d, want the catch-all's 404", resp.StatusCode)
	}
	_ = f
}

func TestJWKS(t *testing.T) {
	f, srv := serve(t, false)
	for _, p := range []string{"/" + testTenant + "/discovery/v2.0/keys", "/" + testTenant + "/discovery/keys", "/common/discovery/v2.0/keys", "/adfs/discovery/keys"} {
		status, doc := getJSON(t, srv.Client(), srv.URL+p)
		if status != 200 {
			t.Fatalf("%s: %d", p, status)
		}
		keys := doc["keys"].([]any)
		if len(keys) != 1 {
			t.Fatalf("%s: %d keys", p, len(keys))
		}
		k := keys[0].(map[string]any)
		if k["kty"] != "RSA" || k["use"] != "sig" || k["kid"] != f.svc.key.kid || k["x5t"] != f.svc.key.kid {
			t.Errorf("%s: key = %v", p, k)
		}
		n, _ := base64.RawURLEncoding.DecodeString(k["n"].(string))
		e, _ := base64.RawURLEncoding.DecodeString(k["e"].(string))
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if !pub.Equal(f.svc.key.pub) {
			t.Errorf("%s: n/e do not give the signing key", p)
		}
		der, err := base64.StdEncoding.DecodeString(k["x5c"].([]any)[0].(string))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		if !pub.Equal(cert.PublicKey) {
			t.Errorf("%s: x5c certificate is for another key", p)
		}
		if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
			t.Errorf("%s: x5c certificate is not self-signed: %v", p, err)
		}
		sum := sha1.Sum(der)
		if k["x5t"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Errorf("%s: x5t is not the certificate's thumbprint", p)
		}
	}
}

type tokenReply struct {
	status int
	header http.Header
	body   map[string]any
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values, mod func(*http.Request)) tokenReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if mod != nil {
		mod(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("POST %s: body is not JSON: %v", u, err)
	}
	return tokenReply{resp.StatusCode, resp.Header, m}
}

func TestTokenEndpointSuccess(t *testing.T) {
	f, srv := serve(t, false)
	ctx := context.Background()
	v2 := srv.URL + "/" + testTenant + "/oauth2/v2.0/token"
	v1 := srv.URL + "/" + strings.ToUpper(testTenant) + "/oauth2/token"
	adfs := srv.URL + "/adfs/oauth2/token"
	creds := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.app.ClientID}, "client_secret": {f.app.ClientSecret}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range creds {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name    string
		url     string
		form    url.Values
		mod     func(*http.Request)
		wantAud string
		v1      bool
	}{
		{"v2 scope", v2, with("scope", "https://management.core.windows.net//.default"), nil, "https://management.core.windows.net/", false},
		{"v2 scope with MSAL's extra scopes", v2, with("scope", "https://management.azure.com/.default openid offline_access profile"), nil, "https://management.azure.com", false},
		{"v2 basic auth", v2, url.Values{"grant_type": {"client_credentials"}, "scope": {"https://management.core.windows.net//.default"}},
			func(r *http.Request) {
				r.SetBasicAuth(url.QueryEscape(f.app.ClientID), url.QueryEscape(f.app.ClientSecret))
			},
			"https://management.core.windows.net/", false},
		{"v1 resource", v1, with("resource", "https://management.core.windows.net/"), nil, "https://management.core.windows.net/", true},
		{"adfs scope", adfs, with("scope", "https://management.core.windows.net//.default"), nil, "https://management.core.windows.net/", false},
		{"adfs resource", adfs, with("resource", "https://management.core.windows.net/"), nil, "https://management.core.windows.net/", false},
		{"adfs trailing slash", adfs + "/", with("resource", "https://management.azure.com/"), nil, "https://management.azure.com/", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := postForm(t, srv.Client(), tc.url, tc.form, tc.mod)
			if r.status != 200 {
				t.Fatalf("status %d: %v", r.status, r.body)
			}
			if r.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("headers = %v", r.header)
			}
			if r.body["token_type"] != "Bearer" {
				t.Errorf("token_type = %v", r.body["token_type"])
			}
			if tc.v1 {
				for _, k := range []string{"expires_in", "ext_expires_in", "expires_on", "not_before", "resource"} {
					if _, ok := r.body[k].(string); !ok {
						t.Errorf("v1 %s = %#v, want a string", k, r.body[k])
					}
				}
				if r.body["expires_in"] != "3600" || r.body["resource"] != tc.wantAud ||
					r.body["expires_on"] != strconv.FormatInt(testStart.Add(time.Hour).Unix(), 10) ||
					r.body["not_before"] != strconv.FormatInt(testStart.Add(-5*time.Minute).Unix(), 10) {
					t.Errorf("v1 body = %v", r.body)
				}
			} else {
				if r.body["expires_in"] != float64(3600) || r.body["ext_expires_in"] != float64(3600) {
					t.Errorf("expires_in = %v", r.body["expires_in"])
				}
				for _, k := range []string{"expires_on", "resource", "scope", "refresh_token"} {
					if _, ok := r.body[k]; ok {
						t.Errorf("unexpected %s in v2 answer", k)
					}
				}
			}
			tok, _ := r.body["access_token"].(string)
			if c := decodeClaims(t, tok); c["aud"] != tc.wantAud {
				t.Errorf("aud = %v, want %s", c["aud"], tc.wantAud)
			}
			c, aerr := f.svc.Authenticate(ctx, "Bearer "+tok)
			if aerr != nil {
				t.Fatal(aerr)
			}
			if c.AppID != f.app.ClientID {
				t.Errorf("caller = %+v", c)
			}
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	f, srv := serve(t, false)
	v2 := srv.URL + "/" + testTenant + "/oauth2/v2.0/token"
	v1 := srv.URL + "/" + testTenant + "/oauth2/token"
	adfs := srv.URL + "/adfs/oauth2/token"
	good := func(kv ...string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.app.ClientID}, "client_secret": {f.app.ClientSecret},
			"scope": {"https://management.core.windows.net//.default"}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	unknown := newGUID()
	corr := newGUID()
	tests := []struct {
		name       string
		url        string
		form       url.Values
		mod        func(*http.Request)
		status     int
		code       string
		aadsts     int
		descPrefix string
	}{
		{"unknown tenant v2", srv.URL + "/" + newGUID() + "/oauth2/v2.0/token", good(), nil, 400, "invalid_request", 90002, "AADSTS90002: Tenant '"},
		{"unknown tenant v1", srv.URL + "/contoso/oauth2/token", good("resource", "https://management.core.windows.net/"), nil, 400, "invalid_request", 90002, "AADSTS90002: Tenant 'contoso' not found."},
		{"common is not a token tenant", srv.URL + "/common/oauth2/v2.0/token", good(), nil, 400, "invalid_request", 90002, "AADSTS90002: Tenant 'common' not found."},
		{"unknown client", v2, good("client_id", unknown), nil, 400, "unauthorized_client", 700016,
			"AADSTS700016: Application with identifier '" + unknown + "' was not found in the directory '" + testTenant + "'. "},
		{"client id not a GUID", v2, good("client_id", "my-app"), nil, 400, "unauthorized_client", 700016, "AADSTS700016: Application with identifier 'my-app' was not found"},
		{"wrong secret", v2, good("client_secret", "wrong"), nil, 401, "invalid_client", 7000215, "AADSTS7000215: Invalid client secret provided. "},
		{"wrong secret adfs", adfs, good("client_secret", "wrong"), nil, 401, "invalid_client", 7000215, "AADSTS7000215: Invalid client secret provided. "},
		{"wrong secret basic", v2, good("client_id", "", "client_secret", ""), func(r *http.Request) { r.SetBasicAuth(f.app.ClientID, "nope") },
			401, "invalid_client", 7000215, "AADSTS7000215: "},
		{"basic and body disagree", v2, good(), func(r *http.Request) { r.SetBasicAuth(unknown, "x") }, 400, "invalid_request", 90004, "AADSTS90004: "},
		{"missing secret", v2, good("client_secret", ""), nil, 401, "invalid_client", 7000218, "AADSTS7000218: "},
		{"client assertion", v2, good("client_secret", "", "client_assertion", "eyJ.x.y"), nil, 401, "invalid_client", 700027, "AADSTS700027: "},
		{"unsupported grant", v2, good("grant_type", "password"), nil, 400, "unsupported_grant_type", 70003, "AADSTS70003: The app requested an unsupported grant type 'password'."},
		{"missing grant", v2, good("grant_type", ""), nil, 400, "invalid_request", 900144, "AADSTS900144: The request body must contain the following parameter: 'grant_type'."},
		{"missing client_id", v2, good("client_id", ""), nil, 400, "invalid_request", 900144, "AADSTS900144: The request body must contain the following parameter: 'client_id'."},
		{"missing scope", v2, good("scope", ""), nil, 400, "invalid_request", 900144, "AADSTS900144: The request body must contain the following parameter: 'scope'."},
		{"v2 ignores resource", v2, good("scope", "", "resource", "https://management.core.windows.net/"), nil, 400, "invalid_request", 900144, "AADSTS900144: The request body must contain the following parameter: 'scope'."},
		{"missing resource v1", v1, good(), nil, 400, "invalid_request", 900144, "AADSTS900144: The request body must contain the following parameter: 'resource'."},
		{"missing scope and resource adfs", adfs, good("scope", ""), nil, 400, "invalid_request", 900144, "AADSTS900144: "},
		{"scope without .default", v2, good("scope", "https://management.core.windows.net/user_impersonation"), nil, 400, "invalid_scope", 1002012, "AADSTS1002012: The provided value for scope https://management.core.windows.net/user_impersonation is not valid."},
		{"scope only openid", v2, good("scope", "openid profile"), nil, 400, "invalid_scope", 70011, "AADSTS70011: "},
		{"two resources", v2, good("scope", "https://a/.default https://b/.default"), nil, 400, "invalid_scope", 70011, "AADSTS70011: "},
		{"bare .default", v2, good("scope", "/.default"), nil, 400, "invalid_scope", 1002012, "AADSTS1002012: "},
		{"bad resource", v1, good("resource", `https://x/"y`), nil, 400, "invalid_resource", 500011, "AADSTS500011: "},
		{"huge resource", v1, good("resource", "https://"+strings.Repeat("a", 600)), nil, 400, "invalid_resource", 500011, "AADSTS500011: "},
		{"unserved scope", v2, good("scope", "api://evil/.default"), nil, 400, "invalid_resource", 500011,
			"AADSTS500011: The resource principal named api://evil was not found in the tenant named " + testTenant + ". "},
		{"graph scope", v2, good("scope", "https://graph.microsoft.com/.default"), nil, 400, "invalid_resource", 500011, "AADSTS500011: The resource principal named https://graph.microsoft.com was not found"},
		{"unserved resource v1", v1, good("resource", "https://storage.azure.com/"), nil, 400, "invalid_resource", 500011, "AADSTS500011: "},
		{"unserved resource adfs", adfs, good("scope", "", "resource", "https://vault.azure.net"), nil, 400, "invalid_resource", 500011, "AADSTS500011: "},
		{"audience with two trailing slashes", v2, good("scope", "https://management.azure.com///.default"), nil, 400, "invalid_resource", 500011, "AADSTS500011: "},
		{"body too large", v2, good("padding", strings.Repeat("x", 70<<10)), nil, 400, "invalid_request", 90004, "AADSTS90004: The request is malformed: the body is larger than 65536 bytes."},
		{"not a form", v2, good(), func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, 400, "invalid_request", 900144, "AADSTS900144: "},
		{"bad form encoding", v2, nil, func(r *http.Request) {
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader("grant_type=%zz")), int64(len("grant_type=%zz"))
		}, 400, "invalid_request", 90004, "AADSTS90004: "},
		{"correlation id echoed", v2, good("client_secret", "wrong"), func(r *http.Request) { r.Header.Set("client-request-id", corr) }, 401, "invalid_client", 7000215, "AADSTS7000215: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := postForm(t, srv.Client(), tc.url, tc.form, tc.mod)
			if r.status != tc.status || r.body["error"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			desc, _ := r.body["error_description"].(string)
			if !strings.HasPrefix(desc, tc.descPrefix) || !strings.Contains(desc, "\r\nTrace ID: ") || !strings.Contains(desc, "\r\nCorrelation ID: ") {
				t.Errorf("error_description = %q, want prefix %q", desc, tc.descPrefix)
			}
			codes, _ := r.body["error_codes"].([]any)
			if len(codes) != 1 || codes[0] != float64(tc.aadsts) {
				t.Errorf("error_codes = %v, want [%d]", r.body["error_codes"], tc.aadsts)
			}
			for _, k := range []string{"timestamp", "trace_id", "correlation_id"} {
				if s, _ := r.body[k].(string); s == "" {
					t.Errorf("%s missing", k)
				}
			}
			if r.body["timestamp"] != "2026-11-23 16:04:05Z" {
				t.Errorf("timestamp = %v", r.body["timestamp"])
			}
			if tc.name == "correlation id echoed" && r.body["correlation_id"] != corr {
				t.Errorf("correlation_id = %v, want %s", r.body["correlation_id"], corr)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
			}
		})
	}
}

// The token endpoint answers 503 (temporarily_unavailable), not 500 and not
// a client error, when the store fails.
func TestTokenEndpointStoreFailure(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	fs := &flakyStore{Store: newSeededStore(t, 0)}
	f := newFixtureOn(t, fs, srv.URL)
	f.svc.Routes(mux)
	fs.fail.Store(true)
	r := postForm(t, srv.Client(), srv.URL+"/"+testTenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {f.app.ClientID}, "client_secret": {f.app.ClientSecret},
		"scope": {"https://management.core.windows.net//.default"}}, nil)
	if r.status != 503 || r.body["error"] != "temporarily_unavailable" {
		t.Fatalf("got %d %v", r.status, r.body)
	}
}
