package identity

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// signedByUs checks, with code independent of verifyJWT, that tok is three
// dot-separated segments whose third is an RS256 signature by pub over the
// first two.
func signedByUs(tok string, pub *rsa.PublicKey) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	d := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
}

// FuzzParseToken feeds arbitrary token strings (and Authorization header
// values) to the JWT parser and to Authenticate. It asserts that nothing
// panics and that whatever is accepted really carries a signature by the
// service's key.
func FuzzParseToken(f *testing.F) {
	fx := newFixture(f)
	ctx := context.Background()
	valid := fx.token(f, DefaultAudiences[0])
	parts := strings.Split(valid, ".")
	claims, _ := json.Marshal(fx.claims())

	f.Add(valid)
	f.Add(fx.token(f, "https://storage.azure.com/"))
	f.Add(fx.signed(f, map[string]any{"exp": 1, "iss": fx.svc.issuer}))
	f.Add(fx.signed(f, map[string]any{}))
	f.Add("")
	f.Add(".")
	f.Add("..")
	f.Add("a.b.c")
	f.Add("a.b.c.d")
	f.Add(parts[0] + "." + parts[1])
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".." + parts[2])
	f.Add(parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-2])
	f.Add(parts[0] + "." + parts[1] + "." + parts[2] + "=")
	f.Add(rawJWT(`{"alg":"none"}`, string(claims), nil))
	f.Add(rawJWT(`{"alg":"HS256","kid":"`+fx.svc.key.kid+`"}`, string(claims), make([]byte, 32)))
	f.Add(rawJWT(`{"alg":"RS256","kid":"`+fx.svc.key.kid+`"}`, string(claims), make([]byte, 256)))
	f.Add(rawJWT(`null`, `null`, nil))
	f.Add(rawJWT(`{"alg":"RS256","kid":"`+fx.svc.key.kid+`","crit":["x"]}`, `{}`, make([]byte, 256)))
	f.Add("Bearer " + valid)
	f.Add("bearer\t" + valid)
	f.Add(strings.Repeat("A", maxTokenLength+1))

	f.Fuzz(func(t *testing.T, s string) {
		if c, err := verifyJWT(s, fx.svc.key); err == nil {
			if c == nil || !signedByUs(s, fx.svc.key.pub) {
				t.Fatalf("verifyJWT accepted a token not signed by us: %q", s)
			}
		}
		if c, aerr := fx.svc.Authenticate(ctx, "Bearer "+s); aerr == nil {
			if !signedByUs(s, fx.svc.key.pub) || c.AppID != fx.app.ClientID {
				t.Fatalf("Authenticate accepted %q as %+v", s, c)
			}
		} else if aerr.Status != 401 {
			t.Fatalf("Authenticate(%q) = %d, want 401", s, aerr.Status)
		}
		// s as a whole header value.
		if c, aerr := fx.svc.Authenticate(ctx, s); aerr == nil {
			_, tok, _ := strings.Cut(strings.TrimSpace(s), " ")
			if !signedByUs(strings.TrimSpace(tok), fx.svc.key.pub) || c.AppID != fx.app.ClientID {
				t.Fatalf("Authenticate accepted header %q as %+v", s, c)
			}
		} else if aerr.Status != 401 || aerr.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("Authenticate(%q) = %+v", s, aerr)
		}
	})
}
