package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// backdate is how far iat and nbf lie before the issuance time, as Entra ID
// does, so validators with a slightly slow clock accept fresh tokens.
const backdate = 5 * time.Minute

// maxResourceLength bounds a requested resource (audience).
const maxResourceLength = 512

// Token is an issued access token.
type Token struct {
	// AccessToken is the compact JWT.
	AccessToken string
	// Resource is the aud claim, exactly as requested.
	Resource string
	// IssuedAt is the issuance time on Options.Clock (the wall clock); the iat and nbf
	// claims are backdated from it by 5 minutes, like Entra ID.
	IssuedAt time.Time
	// ExpiresOn is the exp claim: IssuedAt + TokenLifetime.
	ExpiresOn time.Time
	// NotBefore is the nbf claim.
	NotBefore time.Time
	// ExpiresIn is TokenLifetime, what token responses report as expires_in.
	ExpiresIn time.Duration
}

// accessClaims is the payload of issued tokens: an Entra ID v1 access token
// for an application, fields in Entra's order.
type accessClaims struct {
	Aud      string `json:"aud"`
	Iss      string `json:"iss"`
	Iat      int64  `json:"iat"`
	Nbf      int64  `json:"nbf"`
	Exp      int64  `json:"exp"`
	Aio      string `json:"aio"`
	AppID    string `json:"appid"`
	AppIDAcr string `json:"appidacr"`
	Idp      string `json:"idp"`
	Idtyp    string `json:"idtyp"`
	Oid      string `json:"oid"`
	Rh       string `json:"rh"`
	Sub      string `json:"sub"`
	Tid      string `json:"tid"`
	Uti      string `json:"uti"`
	Ver      string `json:"ver"`
	XmsTcdt  int64  `json:"xms_tcdt"`
}

// errInvalidResource is returned by IssueToken for a resource that cannot be
// an audience.
var errInvalidResource = errors.New("identity: invalid resource")

// validResource reports whether r is acceptable as an audience: 1 to
// maxResourceLength printable ASCII characters without white space, quotes
// or backslashes (it ends up in JSON and in WWW-Authenticate headers).
func validResource(r string) bool {
	if r == "" || len(r) > maxResourceLength {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// IssueToken issues an access token for the principal with the given client
// ID and the given resource (the aud claim, kept exactly as given, for
// example "https://management.core.windows.net/"). It checks neither a
// secret nor that armlet issues tokens for the resource (any valid one is
// taken, so tests can make tokens for the wrong audience): it is for armlet
// itself and for tests; clients go through the token endpoints, which
// refuse other resources. Errors wrap ErrPrincipalNotFound for an unknown
// client.
func (s *Service) IssueToken(ctx context.Context, clientID, resource string) (Token, error) {
	if !validResource(resource) {
		return Token{}, fmt.Errorf("%w: %q", errInvalidResource, resource)
	}
	rec, err := s.principalRecord(ctx, clientID)
	if err != nil {
		return Token{}, err
	}
	tok, err := s.issue(rec.Principal, resource)
	if err == nil {
		s.log.Debug("issued token directly", "clientId", rec.ClientID, "aud", resource, "exp", tok.ExpiresOn)
	}
	return tok, err
}

// issue signs a token for p and resource (already validated).
func (s *Service) issue(p Principal, resource string) (Token, error) {
	now := s.clock.Now().UTC().Truncate(time.Second)
	nbf := now.Add(-backdate)
	exp := now.Add(s.lifetime)
	claims := accessClaims{
		Aud:      resource,
		Iss:      s.issuer,
		Iat:      nbf.Unix(),
		Nbf:      nbf.Unix(),
		Exp:      exp.Unix(),
		Aio:      randomID(42),
		AppID:    p.ClientID,
		AppIDAcr: "1",
		Idp:      s.issuer,
		Idtyp:    "app",
		Oid:      p.ObjectID,
		Rh:       "0." + randomID(48) + ".",
		Sub:      p.ObjectID,
		Tid:      s.tenantID,
		Uti:      randomID(16),
		Ver:      "1.0",
		XmsTcdt:  s.key.created.Unix(),
	}
	tok, err := s.key.sign(claims)
	if err != nil {
		return Token{}, fmt.Errorf("identity: signing token: %w", err)
	}
	return Token{
		AccessToken: tok,
		Resource:    resource,
		IssuedAt:    now,
		ExpiresOn:   exp,
		NotBefore:   nbf,
		ExpiresIn:   s.lifetime,
	}, nil
}

// resourceFromScope turns a client-credentials scope parameter into the
// resource it names. The scope is a space-separated list; the OpenID scopes
// MSAL adds (openid, profile, offline_access, email) are ignored, and exactly
// one "{resource}/.default" must remain: "https://management.core.windows.net//.default"
// names "https://management.core.windows.net/". The bool is false, with an
// Entra-style description, when the scope does not name exactly one
// resource that way.
func resourceFromScope(scope string) (string, string, bool) {
	var resource string
	n := 0
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		n++
		if n > 1 {
			return "", "AADSTS70011: The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope contains more than one resource. A client credentials request asks for a single resource, as '{resource}/.default'.", false
		}
		r, ok := strings.CutSuffix(sc, "/.default")
		if !ok || r == "" {
			return "", fmt.Sprintf("AADSTS1002012: The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", clip(sc, 200)), false
		}
		resource = r
	}
	if n == 0 {
		return "", "AADSTS70011: The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope names no resource.", false
	}
	return resource, "", true
}

// clip shortens s to at most n bytes (plus "...") for inclusion in messages.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
