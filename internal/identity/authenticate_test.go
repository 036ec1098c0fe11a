package identity

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/kv"
)

// rawJWT builds a token from literal header and payload JSON and a signature.
func rawJWT(header, payload string, sig []byte) string {
	return b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(sig)
}

// reencodePayload replaces the payload segment of tok by the JSON of claims,
// keeping header and signature.
func reencodePayload(t *testing.T, tok string, claims map[string]any) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + b64.EncodeToString(b) + "." + parts[2]
}

func decodeClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	b, err := b64.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

const (
	msgMissing      = "Authentication failed. The 'Authorization' header is missing."
	msgFormat       = "Authentication failed. The 'Authorization' header is provided in an invalid format."
	msgInvalid      = "The access token is invalid."
	msgAlg          = "The access token signing algorithm is not supported; tokens must be signed with RS256."
	msgUnknownKey   = "The access token was signed with an unknown key."
	msgSignature    = "The access token signature is invalid."
	msgNoIdentity   = "Could not find identity for access token."
	msgWrongIssuer  = "The access token is from the wrong issuer. It must be issued by 'https://sts.windows.net/" + testTenant + "/'."
	msgAudienceTmpl = "The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."
)

func TestAuthenticate(t *testing.T) {
	otherKey, err := parseSigningKey(testKeyPEM(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// header builds the Authorization header value.
		header func(t *testing.T, f *fixture) string
		// before runs after header and before Authenticate.
		before   func(t *testing.T, f *fixture)
		wantCode string // "" means success
		wantMsg  string
	}{
		{
			name:     "missing",
			header:   func(*testing.T, *fixture) string { return "" },
			wantCode: arm.CodeAuthenticationFailed, wantMsg: msgMissing,
		},
		{
			name:     "wrong scheme",
			header:   func(t *testing.T, f *fixture) string { return "Basic " + f.token(t, DefaultAudiences[0]) },
			wantCode: arm.CodeAuthenticationFailed, wantMsg: msgFormat,
		},
		{
			name:     "scheme only",
			header:   func(*testing.T, *fixture) string { return "Bearer" },
			wantCode: arm.CodeAuthenticationFailed, wantMsg: msgFormat,
		},
		{
			name:     "scheme and blank",
			header:   func(*testing.T, *fixture) string { return "Bearer    " },
			wantCode: arm.CodeAuthenticationFailed, wantMsg: msgFormat,
		},
		{
			name:     "token without scheme",
			header:   func(t *testing.T, f *fixture) string { return f.token(t, DefaultAudiences[0]) },
			wantCode: arm.CodeAuthenticationFailed, wantMsg: msgFormat,
		},
		{
			name:     "two tokens",
			header:   func(t *testing.T, f *fixture) string { return "Bearer a.b.c d.e.f" },
			wantCode: arm.CodeAuthenticationFailed, wantMsg: msgFormat,
		},
		{
			name:     "garbage",
			header:   func(*testing.T, *fixture) string { return "Bearer garbage" },
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgInvalid,
		},
		{
			name: "two-part token",
			header: func(t *testing.T, f *fixture) string {
				p := strings.Split(f.token(t, DefaultAudiences[0]), ".")
				return "Bearer " + p[0] + "." + p[1]
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgInvalid,
		},
		{
			name: "four-part token",
			header: func(t *testing.T, f *fixture) string {
				return "Bearer " + f.token(t, DefaultAudiences[0]) + ".AAAA"
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgInvalid,
		},
		{
			name: "header not base64url",
			header: func(t *testing.T, f *fixture) string {
				tok := f.token(t, DefaultAudiences[0])
				return "Bearer " + "e30=" + tok[strings.IndexByte(tok, '.'):]
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgInvalid,
		},
		{
			name: "header not an object",
			header: func(t *testing.T, f *fixture) string {
				return "Bearer " + rawJWT(`"RS256"`, `{}`, []byte("x"))
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgInvalid,
		},
		{
			name: "alg none, empty signature",
			header: func(t *testing.T, f *fixture) string {
				b, _ := json.Marshal(f.claims())
				return "Bearer " + b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64.EncodeToString(b) + "."
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgInvalid,
		},
		{
			name: "alg none with a signature",
			header: func(t *testing.T, f *fixture) string {
				b, _ := json.Marshal(f.claims())
				return "Bearer " + rawJWT(`{"alg":"none","typ":"JWT","kid":"`+f.svc.key.kid+`"}`, string(b), []byte("sig"))
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgAlg,
		},
		{
			name: "alg HS256 keyed with our public key",
			header: func(t *testing.T, f *fixture) string {
				der, err := x509.MarshalPKIXPublicKey(f.svc.key.pub)
				if err != nil {
					t.Fatal(err)
				}
				secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
				b, _ := json.Marshal(f.claims())
				signingInput := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","kid":"`+f.svc.key.kid+`"}`)) + "." + b64.EncodeToString(b)
				mac := hmac.New(sha256.New, secret)
				mac.Write([]byte(signingInput))
				return "Bearer " + signingInput + "." + b64.EncodeToString(mac.Sum(nil))
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgAlg,
		},
		{
			name: "crit header",
			header: func(t *testing.T, f *fixture) string {
				b, _ := json.Marshal(f.claims())
				return "Bearer " + rawJWT(`{"alg":"RS256","kid":"`+f.svc.key.kid+`","crit":["exp"]}`, string(b), make([]byte, 256))
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgAlg,
		},
		{
			name: "tampered payload",
			header: func(t *testing.T, f *fixture) string {
				tok := f.token(t, "https://storage.azure.com/")
				c := decodeClaims(t, tok)
				c["aud"] = "https://management.azure.com/"
				return "Bearer " + reencodePayload(t, tok, c)
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgSignature,
		},
		{
			name: "truncated signature",
			header: func(t *testing.T, f *fixture) string {
				tok := f.token(t, DefaultAudiences[0])
				return "Bearer " + tok[:len(tok)-4]
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgSignature,
		},
		{
			name: "signed by another key (its own kid)",
			header: func(t *testing.T, f *fixture) string {
				tok, err := otherKey.sign(f.claims())
				if err != nil {
					t.Fatal(err)
				}
				return "Bearer " + tok
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgUnknownKey,
		},
		{
			name: "signed by another key claiming our kid",
			header: func(t *testing.T, f *fixture) string {
				forged := *otherKey
				forged.kid = f.svc.key.kid
				tok, err := forged.sign(f.claims())
				if err != nil {
					t.Fatal(err)
				}
				return "Bearer " + tok
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgSignature,
		},
		{
			name: "no kid, x5t of another key",
			header: func(t *testing.T, f *fixture) string {
				b, _ := json.Marshal(f.claims())
				return "Bearer " + rawJWT(`{"alg":"RS256","x5t":"`+otherKey.kid+`"}`, string(b), make([]byte, 256))
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgUnknownKey,
		},
		{
			name: "wrong issuer",
			header: func(t *testing.T, f *fixture) string {
				c := f.claims()
				c["iss"] = "https://sts.windows.net/00000000-0000-0000-0000-000000000000/"
				return "Bearer " + f.signed(t, c)
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgWrongIssuer,
		},
		{
			name: "wrong tenant claim",
			header: func(t *testing.T, f *fixture) string {
				c := f.claims()
				c["tid"] = "00000000-0000-0000-0000-000000000000"
				return "Bearer " + f.signed(t, c)
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgWrongIssuer,
		},
		{
			name: "payload not JSON but signed",
			header: func(t *testing.T, f *fixture) string {
				hdr := b64.EncodeToString([]byte(`{"alg":"RS256","kid":"` + f.svc.key.kid + `"}`))
				in := hdr + "." + b64.EncodeToString([]byte("not json"))
				d := sha256.Sum256([]byte(in))
				sig, err := f.svc.key.priv.Sign(rand.Reader, d[:], crypto.SHA256)
				if err != nil {
					t.Fatal(err)
				}
				return "Bearer " + in + "." + b64.EncodeToString(sig)
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgInvalid,
		},
		{
			name: "missing exp",
			header: func(t *testing.T, f *fixture) string {
				c := f.claims()
				delete(c, "exp")
				return "Bearer " + f.signed(t, c)
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: "The access token has no valid 'exp' claim.",
		},
		{
			name: "fractional exp",
			header: func(t *testing.T, f *fixture) string {
				c := f.claims()
				c["exp"] = float64(f.clk.Now().Unix()) + 3600.5
				return "Bearer " + f.signed(t, c)
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: "The access token has no valid 'exp' claim.",
		},
		{
			name:   "expired via clock advance",
			header: func(t *testing.T, f *fixture) string { return "Bearer " + f.token(t, DefaultAudiences[0]) },
			before: func(t *testing.T, f *fixture) { f.clk.Advance(2 * time.Hour) },
			// Issued at 4:04:05 PM for an hour; checked at 6:04:05 PM.
			wantCode: arm.CodeExpiredAuthToken,
			wantMsg:  "The access token expiry UTC time '11/23/2026 5:04:05 PM' is earlier than current UTC time '11/23/2026 6:04:05 PM'.",
		},
		{
			name:   "expiry is inclusive",
			header: func(t *testing.T, f *fixture) string { return "Bearer " + f.token(t, DefaultAudiences[0]) },
			before: func(t *testing.T, f *fixture) { f.clk.Advance(time.Hour) },
		},
		{
			name: "future nbf",
			header: func(t *testing.T, f *fixture) string {
				c := f.claims()
				c["nbf"] = f.clk.Now().Add(10 * time.Minute).Unix()
				return "Bearer " + f.signed(t, c)
			},
			wantCode: arm.CodeInvalidAuthToken,
			wantMsg:  "The access token is not yet valid. Its 'nbf' UTC time '11/23/2026 4:14:05 PM' is later than current UTC time '11/23/2026 4:04:05 PM'.",
		},
		{
			name: "nbf within skew",
			header: func(t *testing.T, f *fixture) string {
				c := f.claims()
				c["nbf"] = f.clk.Now().Add(4 * time.Minute).Unix()
				return "Bearer " + f.signed(t, c)
			},
		},
		{
			name:     "wrong audience",
			header:   func(t *testing.T, f *fixture) string { return "Bearer " + f.token(t, "https://storage.azure.com/") },
			wantCode: arm.CodeInvalidAuthTokenAud,
			wantMsg:  fmt.Sprintf(msgAudienceTmpl, "https://storage.azure.com/"),
		},
		{
			name: "audience not a string",
			header: func(t *testing.T, f *fixture) string {
				c := f.claims()
				c["aud"] = []string{"https://management.azure.com/"}
				return "Bearer " + f.signed(t, c)
			},
			wantCode: arm.CodeInvalidAuthTokenAud,
			wantMsg:  fmt.Sprintf(msgAudienceTmpl, ""),
		},
		{
			name: "audience with a quote is escaped in the challenge",
			header: func(t *testing.T, f *fixture) string {
				c := f.claims()
				c["aud"] = `https://x/"y\`
				return "Bearer " + f.signed(t, c)
			},
			wantCode: arm.CodeInvalidAuthTokenAud,
			wantMsg:  fmt.Sprintf(msgAudienceTmpl, `https://x/"y\`),
		},
		{
			name: "audience without trailing slash",
			header: func(t *testing.T, f *fixture) string {
				return "Bearer " + f.token(t, "https://management.core.windows.net")
			},
		},
		{
			name:   "audience management.azure.com",
			header: func(t *testing.T, f *fixture) string { return "Bearer " + f.token(t, "https://management.azure.com/") },
		},
		{
			name:   "deleted principal",
			header: func(t *testing.T, f *fixture) string { return "Bearer " + f.token(t, DefaultAudiences[0]) },
			before: func(t *testing.T, f *fixture) {
				if err := f.svc.DeletePrincipal(context.Background(), f.app.ClientID); err != nil {
					t.Fatal(err)
				}
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgNoIdentity,
		},
		{
			name:   "deleted principal after use",
			header: func(t *testing.T, f *fixture) string { return "Bearer " + f.token(t, DefaultAudiences[0]) },
			before: func(t *testing.T, f *fixture) {
				ctx := context.Background()
				if _, aerr := f.svc.Authenticate(ctx, "Bearer "+f.token(t, DefaultAudiences[0])); aerr != nil {
					t.Fatal(aerr)
				}
				if err := f.svc.DeletePrincipal(ctx, f.app.ClientID); err != nil {
					t.Fatal(err)
				}
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgNoIdentity,
		},
		{
			name: "unknown principal",
			header: func(t *testing.T, f *fixture) string {
				c := f.claims()
				c["appid"] = newGUID()
				return "Bearer " + f.signed(t, c)
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgNoIdentity,
		},
		{
			name: "object ID does not match the principal",
			header: func(t *testing.T, f *fixture) string {
				c := f.claims()
				c["oid"] = newGUID()
				return "Bearer " + f.signed(t, c)
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgNoIdentity,
		},
		{
			name: "appid not a GUID",
			header: func(t *testing.T, f *fixture) string {
				c := f.claims()
				c["appid"] = 42
				return "Bearer " + f.signed(t, c)
			},
			wantCode: arm.CodeInvalidAuthToken, wantMsg: msgNoIdentity,
		},
		{
			name:   "valid",
			header: func(t *testing.T, f *fixture) string { return "Bearer " + f.token(t, DefaultAudiences[0]) },
		},
		{
			name:   "valid, lower-case scheme and extra spaces",
			header: func(t *testing.T, f *fixture) string { return "  bearer   " + f.token(t, DefaultAudiences[0]) + " " },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			h := tc.header(t, f)
			if tc.before != nil {
				tc.before(t, f)
			}
			// Twice: the second call may be served from the cache and must
			// give the same answer.
			for i := 0; i < 2; i++ {
				c, aerr := f.svc.Authenticate(context.Background(), h)
				if tc.wantCode == "" {
					if aerr != nil {
						t.Fatalf("call %d: Authenticate: %v", i, aerr)
					}
					checkCaller(t, f, c)
					continue
				}
				checkChallenge(t, aerr, tc.wantCode, tc.wantMsg, tc.name != "missing")
			}
		})
	}
}

func checkCaller(t *testing.T, f *fixture, c Caller) {
	t.Helper()
	if c.AppID != f.app.ClientID || c.ObjectID != f.app.ObjectID || c.TenantID != testTenant ||
		c.Name != "test-app" || c.PrincipalType != "ServicePrincipal" {
		t.Errorf("caller = %+v, want principal %+v", c, f.app)
	}
	if c.Claims["appid"] != f.app.ClientID || c.Claims["oid"] != f.app.ObjectID {
		t.Errorf("caller claims = %v", c.Claims)
	}
	if c.ExpiresAt.IsZero() {
		t.Error("caller.ExpiresAt is zero")
	}
}

// checkChallenge asserts a 401 with the given code and message and the
// matching WWW-Authenticate header.
func checkChallenge(t *testing.T, aerr *arm.Error, code, msg string, withError bool) {
	t.Helper()
	if aerr == nil {
		t.Fatalf("Authenticate succeeded, want %s", code)
	}
	if aerr.Status != http.StatusUnauthorized || aerr.Code != code || aerr.Message != msg {
		t.Fatalf("got %d %s %q\nwant 401 %s %q", aerr.Status, aerr.Code, aerr.Message, code, msg)
	}
	want := `Bearer authorization_uri="` + testBaseURL + `/` + testTenant + `"`
	if withError {
		want += `, error="invalid_token", error_description="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(msg) + `"`
	}
	if got := aerr.Header.Get("WWW-Authenticate"); got != want {
		t.Fatalf("WWW-Authenticate = %s\nwant %s", got, want)
	}
}

func TestAuthenticateIssuedClaims(t *testing.T) {
	f := newFixture(t)
	tok, err := f.svc.IssueToken(context.Background(), f.app.ClientID, "https://management.core.windows.net/")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok.AccessToken, ".")
	hb, _ := b64.DecodeString(parts[0])
	var hdr map[string]any
	if err := json.Unmarshal(hb, &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr["typ"] != "JWT" || hdr["alg"] != "RS256" || hdr["kid"] != f.svc.key.kid || hdr["x5t"] != f.svc.key.kid {
		t.Errorf("header = %v", hdr)
	}
	c := decodeClaims(t, tok.AccessToken)
	iss := "https://sts.windows.net/" + testTenant + "/"
	want := map[string]any{
		"aud": "https://management.core.windows.net/", "iss": iss, "idp": iss,
		"appid": f.app.ClientID, "appidacr": "1", "idtyp": "app",
		"oid": f.app.ObjectID, "sub": f.app.ObjectID, "tid": testTenant, "ver": "1.0",
		"iat": float64(testStart.Add(-5 * time.Minute).Unix()),
		"nbf": float64(testStart.Add(-5 * time.Minute).Unix()),
		"exp": float64(testStart.Add(time.Hour).Unix()),
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
	for _, k := range []string{"aio", "rh", "uti", "xms_tcdt"} {
		if _, ok := c[k]; !ok {
			t.Errorf("claim %s missing", k)
		}
	}
	if !tok.ExpiresOn.Equal(testStart.Add(time.Hour)) || tok.ExpiresIn != time.Hour {
		t.Errorf("token times = %+v", tok)
	}
	// A second token for the same principal is a different string (uti).
	tok2, _ := f.svc.IssueToken(context.Background(), f.app.ClientID, "https://management.core.windows.net/")
	if tok2.AccessToken == tok.AccessToken {
		t.Error("two tokens are identical")
	}
	if _, err := f.svc.IssueToken(context.Background(), f.app.ClientID, `bad "resource"`); err == nil {
		t.Error("IssueToken accepted a resource with quotes and spaces")
	}
	if _, err := f.svc.IssueToken(context.Background(), newGUID(), DefaultAudiences[0]); err == nil {
		t.Error("IssueToken accepted an unknown client")
	}
}

func TestAuthenticateCustomAudiences(t *testing.T) {
	st := newSeededStore(t, 0)
	svc, err := New(context.Background(), Options{Store: kv.SpaceIdentity.Of(st), BaseURL: testBaseURL, TenantID: strings.ToUpper(testTenant),
		Audiences: []string{"https://127.0.0.1:8443/", "https://armlet"}})
	if err != nil {
		t.Fatal(err)
	}
	app, err := svc.CreatePrincipal(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	for aud, ok := range map[string]bool{
		"https://127.0.0.1:8443/": true, "https://127.0.0.1:8443": true, "https://armlet/": true, "https://armlet": true,
		"https://127.0.0.1:8443//": false, "https://management.azure.com/": false,
	} {
		tok, err := svc.IssueToken(context.Background(), app.ClientID, aud)
		if err != nil {
			t.Fatal(err)
		}
		_, aerr := svc.Authenticate(context.Background(), "Bearer "+tok.AccessToken)
		if ok != (aerr == nil) {
			t.Errorf("aud %q: err = %v, want ok=%v", aud, aerr, ok)
		}
		if aerr != nil && aerr.Message != "The access token has been obtained for wrong audience or resource '"+aud+"'. It should exactly match with one of the allowed audiences 'https://127.0.0.1:8443/','https://armlet'." {
			t.Errorf("message = %q", aerr.Message)
		}
	}
}

// A cached token still expires, and a principal deleted through another
// replica stops working once the recheck interval has passed.
func TestAuthenticateCacheRechecks(t *testing.T) {
	f := newFixture(t)
	other, err := New(context.Background(), Options{Store: kv.SpaceIdentity.Of(f.store), Clock: f.clk, BaseURL: testBaseURL, TenantID: testTenant})
	if err != nil {
		t.Fatal(err)
	}
	wall := newFakeClock(time.Now())
	other.principals.now = wall.Now

	h := "Bearer " + f.token(t, DefaultAudiences[0])
	for i := 0; i < 3; i++ {
		if _, aerr := other.Authenticate(context.Background(), h); aerr != nil {
			t.Fatal(aerr)
		}
	}
	if n := other.tokens.len(); n != 1 {
		t.Fatalf("token cache holds %d entries, want 1", n)
	}
	if err := f.svc.DeletePrincipal(context.Background(), f.app.ClientID); err != nil {
		t.Fatal(err)
	}
	// Within the recheck interval the other replica still trusts its cache.
	if _, aerr := other.Authenticate(context.Background(), h); aerr != nil {
		t.Fatalf("within recheck interval: %v", aerr)
	}
	wall.Advance(defaultPrincipalRecheck + time.Second)
	_, aerr := other.Authenticate(context.Background(), h)
	checkChallenge(t, aerr, arm.CodeInvalidAuthToken, msgNoIdentity, true)

	// Expiry of a cached token.
	g := newFixture(t)
	h = "Bearer " + g.token(t, DefaultAudiences[0])
	if _, aerr := g.svc.Authenticate(context.Background(), h); aerr != nil {
		t.Fatal(aerr)
	}
	g.clk.Advance(61 * time.Minute)
	_, aerr = g.svc.Authenticate(context.Background(), h)
	if aerr == nil || aerr.Code != arm.CodeExpiredAuthToken {
		t.Fatalf("cached expired token: %v", aerr)
	}
}

func TestAuthenticateStoreFailure(t *testing.T) {
	fs := &flakyStore{Store: newSeededStore(t, 0)}
	f := newFixtureOn(t, fs, testBaseURL)
	wall := newFakeClock(time.Now())
	f.svc.principals.now = wall.Now
	h := "Bearer " + f.token(t, DefaultAudiences[0])

	// A cache miss while the store fails: 503, not 401.
	fs.fail.Store(true)
	_, aerr := f.svc.Authenticate(context.Background(), h)
	if aerr == nil || aerr.Status != http.StatusServiceUnavailable || aerr.Header.Get("Retry-After") == "" {
		t.Fatalf("store down on a miss: %v", aerr)
	}
	// Once known, a stale principal is still served while the store fails.
	fs.fail.Store(false)
	if _, aerr := f.svc.Authenticate(context.Background(), h); aerr != nil {
		t.Fatal(aerr)
	}
	fs.fail.Store(true)
	wall.Advance(time.Minute)
	if _, aerr := f.svc.Authenticate(context.Background(), h); aerr != nil {
		t.Fatalf("store down with a stale cached principal: %v", aerr)
	}
}

func TestTokenCacheBounded(t *testing.T) {
	var c tokenCache
	c.init(64)
	now := testStart
	for i := 0; i < 1000; i++ {
		exp := now.Add(time.Hour)
		if i%3 == 0 {
			exp = now.Add(-time.Hour)
		}
		c.put(fmt.Sprint(i), Caller{ExpiresAt: exp}, now)
		if n := c.len(); n > 64 {
			t.Fatalf("after %d puts the cache holds %d entries", i+1, n)
		}
	}
	if _, ok := c.get("999"); !ok {
		t.Error("the newest entry was evicted")
	}
}

func TestAuthenticateConcurrent(t *testing.T) {
	f := newFixture(t)
	toks := make([]string, 4)
	for i := range toks {
		toks[i] = "Bearer " + f.token(t, DefaultAudiences[0])
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, aerr := f.svc.Authenticate(context.Background(), toks[(g+i)%len(toks)]); aerr != nil {
					t.Error(aerr)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestQuoteParam(t *testing.T) {
	for in, want := range map[string]string{
		"plain":       "plain",
		`a"b\c`:       `a\"b\\c`,
		"line\r\nx\t": "line  x ",
	} {
		if got := quoteParam(in); got != want {
			t.Errorf("quoteParam(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkAuthenticateCached(b *testing.B) {
	f := newFixture(b)
	h := "Bearer " + f.token(b, DefaultAudiences[0])
	ctx := context.Background()
	if _, aerr := f.svc.Authenticate(ctx, h); aerr != nil {
		b.Fatal(aerr)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, aerr := f.svc.Authenticate(ctx, h); aerr != nil {
				b.Fatal(aerr)
			}
		}
	})
}

func BenchmarkAuthenticateUncached(b *testing.B) {
	f := newFixture(b)
	h := "Bearer " + f.token(b, DefaultAudiences[0])
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		f.svc.tokens.init(defaultTokenCacheSize)
		if _, aerr := f.svc.Authenticate(ctx, h); aerr != nil {
			b.Fatal(aerr)
		}
	}
}

// TestAuthenticateAudience: a data plane armlet serves checks tokens
// against its own audiences, and ARM against its own, also when the token
// was cached by the other's check: a Key Vault token is refused by ARM and
// an ARM token by Key Vault, each naming the audiences it allows.
func TestAuthenticateAudience(t *testing.T) {
	st := newSeededStore(t, 0)
	const vault = "https://vault.azure.net"
	svc, err := New(context.Background(), Options{Store: kv.SpaceIdentity.Of(st), BaseURL: testBaseURL, TenantID: testTenant, IssueOnly: []string{vault}})
	if err != nil {
		t.Fatal(err)
	}
	app, err := svc.CreatePrincipal(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	vaultTok, err := svc.IssueToken(context.Background(), app.ClientID, vault)
	if err != nil {
		t.Fatal(err)
	}
	armTok, err := svc.IssueToken(context.Background(), app.ClientID, DefaultAudiences[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		tok       string
		audiences []string // nil: Authenticate (ARM's)
		ok        bool
	}{
		{"vault token at the vault", vaultTok.AccessToken, []string{vault}, true},
		{"vault token at ARM (now cached)", vaultTok.AccessToken, nil, false},
		{"vault token at the vault again (from the cache)", vaultTok.AccessToken, []string{vault}, true},
		{"ARM token at ARM", armTok.AccessToken, nil, true},
		{"ARM token at the vault (cached)", armTok.AccessToken, []string{vault}, false},
	} {
		var aerr *arm.Error
		if c.audiences == nil {
			_, aerr = svc.Authenticate(context.Background(), "Bearer "+c.tok)
		} else {
			_, aerr = svc.AuthenticateAudience(context.Background(), "Bearer "+c.tok, c.audiences)
		}
		switch {
		case c.ok && aerr != nil:
			t.Errorf("%s: %v", c.name, aerr)
		case !c.ok && (aerr == nil || aerr.Code != arm.CodeInvalidAuthTokenAud):
			t.Errorf("%s: %v, want %s", c.name, aerr, arm.CodeInvalidAuthTokenAud)
		case !c.ok && c.audiences != nil && !strings.HasSuffix(aerr.Message, "allowed audiences '"+vault+"'."):
			t.Errorf("%s: message %q does not name the vault's audience", c.name, aerr.Message)
		}
	}
}
