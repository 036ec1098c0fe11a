package app_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// forgedToken is a well-formed RS256 JWT signed by a key armlet never saw.
func forgedToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]any{"alg": "RS256", "typ": "JWT", "kid": "forged"}) + "." + enc(claims)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestBadInput sends malformed and hostile requests over real TLS: each
// must get the expected 4xx and an ARM error body, never a 5xx or a
// dropped connection.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.MaxBodyBytes = 64 << 10 }))
	sub := s.Conn.SubscriptionID
	rg := "/subscriptions/" + sub + "/resourceGroups/bad-rg"
	ws := rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	if st, _, b := s.Do(t, "PUT", rg+"?api-version=2021-04-01", `{"location":"eastus"}`, nil); st != 201 {
		t.Fatalf("create group: %d %s", st, b)
	}
	if st, _, b := s.Do(t, "PUT", ws+"?api-version=2024-04-01", `{"location":"eastus"}`, nil); st != 202 {
		t.Fatalf("create workspace: %d %s", st, b)
	}
	valid := s.Token(t)
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	tampered := claims
	tampered["oid"] = "00000000-0000-0000-0000-000000000000"
	tamperedToken := parts[0] + "." + base64.RawURLEncoding.EncodeToString(mustJSON(tampered)) + "." + parts[2]
	wrongAud := s.TokenFor(t, "https://storage.azure.com/")

	const v = "?api-version=2024-04-01"
	huge := `{"location":"eastus","properties":{"description":"` + strings.Repeat("x", 70<<10) + `"}}`
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		wantStatus               int
		wantCode                 string
	}{
		// Authentication.
		{"no token", "GET", ws + v, "", map[string]string{"Authorization": ""}, 401, "AuthenticationFailed"},
		{"basic scheme", "GET", ws + v, "", map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, 401, "AuthenticationFailed"},
		{"bearer without token", "GET", ws + v, "", map[string]string{"Authorization": "Bearer"}, 401, "AuthenticationFailed"},
		{"garbage token", "GET", ws + v, "", map[string]string{"Authorization": "Bearer not-a-jwt"}, 401, "InvalidAuthenticationToken"},
		{"two-part token", "GET", ws + v, "", map[string]string{"Authorization": "Bearer a.b"}, 401, "InvalidAuthenticationToken"},
		{"tampered payload", "GET", ws + v, "", map[string]string{"Authorization": "Bearer " + tamperedToken}, 401, "InvalidAuthenticationToken"},
		{"forged signature", "GET", ws + v, "", map[string]string{"Authorization": "Bearer " + forgedToken(t, claims)}, 401, "InvalidAuthenticationToken"},
		{"wrong audience", "GET", ws + v, "", map[string]string{"Authorization": "Bearer " + wrongAud}, 401, "InvalidAuthenticationTokenAudience"},
		{"admin without token", "GET", "/_armlet/clock", "", map[string]string{"Authorization": ""}, 401, "AuthenticationFailed"},
		// api-versions.
		{"no api-version", "GET", ws, "", nil, 400, "MissingApiVersionParameter"},
		{"unknown api-version", "GET", ws + "?api-version=2019-01-01", "", nil, 400, "NoRegisteredProviderFound"},
		{"malformed api-version", "GET", ws + "?api-version=latest", "", nil, 400, "InvalidApiVersionParameter"},
		{"core bad api-version", "GET", rg + "?api-version=2030-01-01", "", nil, 400, "InvalidApiVersionParameter"},
		// Bodies.
		{"bad json", "PUT", ws + v, `{"location":"eastus",`, nil, 400, "InvalidRequestContent"},
		{"json array", "PUT", ws + v, `[]`, nil, 400, "InvalidRequestContent"},
		{"json string", "PUT", ws + v, `"ws"`, nil, 400, "InvalidRequestContent"},
		{"empty body", "PUT", ws + v, ``, nil, 400, "InvalidRequestContent"},
		{"null properties ok but tags wrong", "PUT", ws + v, `{"location":"eastus","tags":[1]}`, nil, 400, "InvalidRequestContent"},
		{"unknown top-level member", "PUT", ws + v, `{"location":"eastus","locaton":"x"}`, nil, 400, "InvalidRequestContent"},
		{"unknown property", "PUT", ws + v, `{"location":"eastus","properties":{"v1LegacyMod":true}}`, nil, 400, "InvalidRequestContent"},
		{"wrong property type", "PUT", ws + v, `{"location":"eastus","properties":{"hbiWorkspace":"yes"}}`, nil, 400, "InvalidRequestContent"},
		{"bad enum", "PUT", ws + v, `{"location":"eastus","properties":{"publicNetworkAccess":"Sometimes"}}`, nil, 400, "InvalidRequestContent"},
		{"immutable property", "PATCH", ws + v, `{"properties":{"hbiWorkspace":true}}`, nil, 400, "PropertyChangeNotAllowed"},
		{"location change", "PUT", ws + v, `{"location":"westus"}`, nil, 409, "InvalidResourceLocation"},
		{"unknown location", "PUT", rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws2" + v, `{"location":"atlantis"}`, nil, 400, "LocationNotAvailableForResourceType"},
		{"missing location", "PUT", rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws2" + v, `{}`, nil, 400, "LocationRequired"},
		{"huge body", "PUT", ws + v, huge, nil, 413, "RequestEntityTooLarge"},
		{"text body", "PUT", ws + v, `location=eastus`, map[string]string{"Content-Type": "text/plain"}, 415, "UnsupportedMediaType"},
		{"too many tags", "PATCH", ws + v, `{"tags":{` + manyTagsJSON(60) + `}}`, nil, 400, "InvalidTagsCount"},
		// Names and paths.
		{"short workspace name", "PUT", rg + "/providers/Microsoft.MachineLearningServices/workspaces/w" + v, `{"location":"eastus"}`, nil, 400, "InvalidResourceName"},
		{"bad chars in name", "PUT", rg + "/providers/Microsoft.MachineLearningServices/workspaces/a%3Cscript%3E" + v, `{"location":"eastus"}`, nil, 400, "InvalidResourceName"},
		{"bad group name", "PUT", "/subscriptions/" + sub + "/resourceGroups/a*b?api-version=2021-04-01", `{"location":"eastus"}`, nil, 400, "InvalidResourceName"},
		{"encoded slash", "GET", rg + "/providers/Microsoft.MachineLearningServices/workspaces/a%2Fb" + v, "", nil, 400, "InvalidRequestUri"},
		{"empty segment", "GET", rg + "//providers/Microsoft.MachineLearningServices/workspaces" + v, "", nil, 400, "InvalidRequestUri"},
		{"dot dot", "GET", rg + "/providers/Microsoft.MachineLearningServices/workspaces/%2E%2E" + v, "", nil, 400, "InvalidRequestUri"},
		{"unknown namespace", "GET", rg + "/providers/Microsoft.Nope/things/x" + v, "", nil, 400, "InvalidResourceNamespace"},
		{"unknown type", "GET", rg + "/providers/Microsoft.MachineLearningServices/gadgets/x" + v, "", nil, 400, "InvalidResourceType"},
		{"unknown subscription", "GET", "/subscriptions/nope/resourceGroups/x?api-version=2021-04-01", "", nil, 404, "SubscriptionNotFound"},
		{"unknown group", "GET", "/subscriptions/" + sub + "/resourceGroups/nope/providers/Microsoft.MachineLearningServices/workspaces/ws1" + v, "", nil, 404, "ResourceGroupNotFound"},
		{"unknown workspace", "GET", rg + "/providers/Microsoft.MachineLearningServices/workspaces/nope" + v, "", nil, 404, "ResourceNotFound"},
		{"child of missing parent", "GET", rg + "/providers/Microsoft.MachineLearningServices/workspaces/nope/privateEndpointConnections" + v, "", nil, 404, "ResourceNotFound"},
		{"unknown action", "POST", ws + "/explode" + v, `{}`, nil, 400, "InvalidResourceType"},
		{"method not allowed", "PUT", "/subscriptions/" + sub + "?api-version=2021-04-01", `{}`, nil, 405, "MethodNotAllowed"},
		// Conditional requests and paging.
		{"stale If-Match", "PATCH", ws + v, `{"tags":{}}`, map[string]string{"If-Match": `"0000000000000001"`}, 412, "PreconditionFailed"},
		{"unquoted If-Match", "PATCH", ws + v, `{"tags":{}}`, map[string]string{"If-Match": `garbage`}, 412, "PreconditionFailed"},
		{"If-None-Match * on existing", "PUT", ws + v, `{"location":"eastus"}`, map[string]string{"If-None-Match": "*"}, 412, "PreconditionFailed"},
		{"negative $top", "GET", rg + "/providers/Microsoft.MachineLearningServices/workspaces" + v + "&$top=-5", "", nil, 400, "InvalidTopInQueryString"},
		{"forged $skipToken", "GET", rg + "/providers/Microsoft.MachineLearningServices/workspaces" + v + "&$skipToken=AAAA", "", nil, 400, "InvalidSkipToken"},
		{"bad $filter", "GET", rg + "/resources?api-version=2021-04-01&$filter=name%20gt%201", "", nil, 400, "InvalidFilterInQueryString"},
		// Admin API.
		{"admin bad duration", "POST", "/_armlet/clock/advance", `{"duration":"-5m"}`, nil, 400, "InvalidRequestContent"},
		{"admin bad state id", "GET", "/_armlet/state?id=nonsense", "", nil, 400, "InvalidResourceId"},
		{"admin principal without a name", "POST", "/_armlet/principals", `{"name":""}`, nil, 400, "InvalidRequestContent"},
		{"admin principal name with white space", "POST", "/_armlet/principals", `{"name":" x"}`, nil, 400, "InvalidRequestContent"},
	}
	if len(tests) < 40 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, hdr, body := s.Do(t, tt.method, tt.path, tt.body, tt.header)
			var env struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &env); err != nil || env.Error.Message == "" {
				t.Fatalf("%s %s: not an ARM error body (%d): %q", tt.method, tt.path, st, body)
			}
			if st != tt.wantStatus || env.Error.Code != tt.wantCode {
				t.Errorf("%s %s = %d %s (%s), want %d %s", tt.method, tt.path, st, env.Error.Code, env.Error.Message, tt.wantStatus, tt.wantCode)
			}
			if st == 401 && hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
	// The workspace is intact after all that.
	if st, _, b := s.Do(t, "GET", ws+v, "", nil); st != 200 || !strings.Contains(b, `"hbiWorkspace":false`) {
		t.Errorf("workspace after bad input: %d %s", st, b)
	}
}

// TestTLSOnly checks that plain HTTP and TLS 1.0/1.1 are refused.
func TestTLSOnly(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	addr := s.Addr().String()
	for _, version := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: version, MaxVersion: version})
		if err == nil {
			conn.Close()
			t.Errorf("TLS version %x accepted", version)
		}
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "GET /_armlet/health HTTP/1.1\r\nHost: x\r\n\r\n")
	reply, _ := io.ReadAll(conn)
	if strings.Contains(string(reply), `"status":"ok"`) {
		t.Errorf("plain HTTP was served: %q", reply)
	}
	if st, _, _ := s.Do(t, "GET", "/_armlet/health", "", map[string]string{"Authorization": ""}); st != http.StatusOK {
		t.Errorf("health over TLS = %d", st)
	}
}

func manyTagsJSON(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"t` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `":"v"`
	}
	return strings.Join(parts, ",")
}
