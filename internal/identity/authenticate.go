package identity

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/armlet/armlet/internal/arm"
)

// PrincipalTypeServicePrincipal is Caller.PrincipalType for service principals,
// the only kind of principal armlet has.
const PrincipalTypeServicePrincipal = "ServicePrincipal"

// NotBeforeSkew is how far in the future a token's nbf may lie before
// Authenticate refuses it.
const NotBeforeSkew = 5 * time.Minute

// armTimeFormat is ARM's US time format in error messages, M/d/yyyy h:mm:ss tt.
const armTimeFormat = "1/2/2006 3:04:05 PM"

// Cache sizing. The token cache holds verified tokens, the principal cache
// the principals those tokens name.
const (
	defaultTokenCacheSize     = 4096
	defaultPrincipalCacheSize = 1024
	// defaultPrincipalRecheck is how long a principal found in the store is
	// trusted before Authenticate reads it again (so a deletion by another
	// replica takes effect within this time).
	defaultPrincipalRecheck = 5 * time.Second
)

// Caller is the authenticated identity behind a request.
type Caller struct {
	// ObjectID is the principal's object ID (the oid claim), the ID role
	// assignments name.
	ObjectID string
	// AppID is the principal's client ID (the appid claim).
	AppID string
	// TenantID is the tid claim.
	TenantID string
	// Name is the principal's display name.
	Name string
	// PrincipalType is always PrincipalTypeServicePrincipal.
	PrincipalType string
	// Claims are the token's claims as decoded JSON (numbers are float64).
	// The map is shared between calls for the same token: read it, never
	// modify it.
	Claims map[string]any
	// ExpiresAt is the exp claim.
	ExpiresAt time.Time
}

// Authenticate validates the raw Authorization header value of a request and
// returns the caller. A failure is an *arm.Error with status 401 whose
// Header holds the WWW-Authenticate challenge
//
//	Bearer authorization_uri="{BaseURL}/{tid}", error="invalid_token", error_description="{message}"
//
// (without error and error_description when the header is missing, as RFC
// 6750 asks). The checks, in order:
//
//   - empty: AuthenticationFailed, "Authentication failed. The 'Authorization' header is missing."
//   - not "Bearer <token>" (scheme case-insensitive): AuthenticationFailed,
//     "Authentication failed. The 'Authorization' header is provided in an invalid format."
//   - not a well-formed JWT, alg other than RS256, unknown kid, bad
//     signature, iss or tid not this tenant, missing exp/appid/oid:
//     InvalidAuthenticationToken.
//   - exp before Clock.Now(): ExpiredAuthenticationToken, with both times in
//     ARM's M/d/yyyy h:mm:ss tt UTC format.
//   - nbf more than NotBeforeSkew after Clock.Now(): InvalidAuthenticationToken.
//   - aud not one of Options.Audiences (each also with or without one
//     trailing slash): InvalidAuthenticationTokenAudience, listing them.
//   - no principal with the appid (deleted), or its object ID differs from
//     oid: InvalidAuthenticationToken, "Could not find identity for access token."
//
// Verified tokens are cached (bounded), so repeated calls with one token cost
// a map lookup and a clock read; expiry is still checked against the clock on
// every call, and the principal is re-read from the store at most every few
// seconds. If the store fails while a principal must be read, the result is
// a 503 ServiceUnavailable error rather than a 401.
func (s *Service) Authenticate(ctx context.Context, authorization string) (Caller, *arm.Error) {
	return s.AuthenticateAudience(ctx, authorization, s.audiences)
}

// AuthenticateAudience is Authenticate for a service other than ARM that
// trusts armlet's tokens, whose audiences are audiences (a data plane
// armlet serves, such as Key Vault's "https://vault.azure.net"): the same
// checks, with the token's aud one of audiences instead of
// Options.Audiences. A token verified for one audience list is cached
// once; each call checks its audience against the list it is given.
func (s *Service) AuthenticateAudience(ctx context.Context, authorization string, audiences []string) (Caller, *arm.Error) {
	if authorization == "" {
		return Caller{}, s.challenge(arm.CodeAuthenticationFailed,
			"Authentication failed. The 'Authorization' header is missing.", false)
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.IndexByte(tok, ' ') >= 0 || strings.IndexByte(tok, '\t') >= 0 {
		return Caller{}, s.challenge(arm.CodeAuthenticationFailed,
			"Authentication failed. The 'Authorization' header is provided in an invalid format.", true)
	}
	now := s.clock.Now()

	if c, ok := s.tokens.get(tok); ok {
		if aerr := s.checkExpiry(c.ExpiresAt, now); aerr != nil {
			return Caller{}, aerr
		}
		if aud, _ := c.Claims["aud"].(string); !audienceIn(aud, audiences) {
			return Caller{}, s.challenge(arm.CodeInvalidAuthTokenAud, audienceMessage(aud, audiences), true)
		}
		if aerr := s.checkPrincipal(ctx, c.AppID, c.ObjectID); aerr != nil {
			return Caller{}, aerr
		}
		return c, nil
	}

	claims, terr := verifyJWT(tok, s.key)
	if terr != nil {
		return Caller{}, s.challenge(arm.CodeInvalidAuthToken, terr.msg, true)
	}
	iss, _ := claims["iss"].(string)
	tid, _ := claims["tid"].(string)
	if iss != s.issuer || !strings.EqualFold(tid, s.tenantID) {
		return Caller{}, s.challenge(arm.CodeInvalidAuthToken, "The access token is from the wrong issuer. It must be issued by '"+s.issuer+"'.", true)
	}
	exp, ok := unixClaim(claims, "exp")
	if !ok {
		return Caller{}, s.challenge(arm.CodeInvalidAuthToken, "The access token has no valid 'exp' claim.", true)
	}
	if aerr := s.checkExpiry(exp, now); aerr != nil {
		return Caller{}, aerr
	}
	if _, present := claims["nbf"]; present {
		nbf, ok := unixClaim(claims, "nbf")
		if !ok {
			return Caller{}, s.challenge(arm.CodeInvalidAuthToken, "The access token has no valid 'nbf' claim.", true)
		}
		if nbf.After(now.Add(NotBeforeSkew)) {
			return Caller{}, s.challenge(arm.CodeInvalidAuthToken,
				"The access token is not yet valid. Its 'nbf' UTC time '"+nbf.UTC().Format(armTimeFormat)+
					"' is later than current UTC time '"+now.UTC().Format(armTimeFormat)+"'.", true)
		}
	}
	aud, _ := claims["aud"].(string)
	if !audienceIn(aud, audiences) {
		return Caller{}, s.challenge(arm.CodeInvalidAuthTokenAud, audienceMessage(aud, audiences), true)
	}
	appid, _ := claims["appid"].(string)
	oid, _ := claims["oid"].(string)
	if !isGUID(appid) || !isGUID(oid) {
		return Caller{}, s.challenge(arm.CodeInvalidAuthToken, "Could not find identity for access token.", true)
	}
	p, aerr := s.lookupPrincipal(ctx, appid, oid)
	if aerr != nil {
		return Caller{}, aerr
	}
	c := Caller{
		ObjectID:      p.ObjectID,
		AppID:         p.ClientID,
		TenantID:      s.tenantID,
		Name:          p.Name,
		PrincipalType: PrincipalTypeServicePrincipal,
		Claims:        claims,
		ExpiresAt:     exp,
	}
	s.tokens.put(tok, c, now)
	return c, nil
}

// checkExpiry returns the ExpiredAuthenticationToken error if exp is before now.
func (s *Service) checkExpiry(exp, now time.Time) *arm.Error {
	if !exp.Before(now) {
		return nil
	}
	return s.challenge(arm.CodeExpiredAuthToken,
		"The access token expiry UTC time '"+exp.UTC().Format(armTimeFormat)+
			"' is earlier than current UTC time '"+now.UTC().Format(armTimeFormat)+"'.", true)
}

// audienceIn reports whether aud is one of list, comparing
// case-sensitively after removing at most one trailing slash from each
// side ("https://management.azure.com" matches
// "https://management.azure.com/", but "https://management.azure.com//"
// matches neither).
func audienceIn(aud string, list []string) bool {
	if aud == "" {
		return false
	}
	aud = strings.TrimSuffix(aud, "/")
	for _, a := range list {
		if aud == strings.TrimSuffix(a, "/") {
			return true
		}
	}
	return false
}

// audienceMessage is ARM's text for a token with the wrong audience.
func audienceMessage(aud string, audiences []string) string {
	var b strings.Builder
	b.WriteString("The access token has been obtained for wrong audience or resource '")
	b.WriteString(clip(aud, 200))
	b.WriteString("'. It should exactly match with one of the allowed audiences ")
	for i, a := range audiences {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("'" + a + "'")
	}
	b.WriteByte('.')
	return b.String()
}

// unixClaim reads a NumericDate claim (integral seconds since the epoch).
func unixClaim(claims map[string]any, name string) (time.Time, bool) {
	f, ok := claims[name].(float64)
	if !ok || f != math.Trunc(f) || f < 0 || f > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0).UTC(), true
}

// checkPrincipal re-validates the principal of a cached token.
func (s *Service) checkPrincipal(ctx context.Context, appid, oid string) *arm.Error {
	_, aerr := s.lookupPrincipal(ctx, appid, oid)
	return aerr
}

// lookupPrincipal returns the principal with client ID appid if it exists and
// has object ID oid, from the principal cache when the cached entry is fresh.
func (s *Service) lookupPrincipal(ctx context.Context, appid, oid string) (Principal, *arm.Error) {
	key := strings.ToLower(appid)
	p, fresh, cached := s.principals.get(key)
	if !fresh {
		rec, err := s.principalRecord(ctx, key)
		switch {
		case err == nil:
			p, cached = rec.Principal, true
			s.principals.put(key, p)
		case errors.Is(err, ErrPrincipalNotFound):
			s.principals.forget(key)
			cached = false
		case cached:
			// The store is failing but the principal was there a moment
			// ago: keep serving it rather than failing every request.
			s.log.Warn("principal recheck failed; using cached principal", "clientId", key, "err", err)
		default:
			// A caller that went away cancels the lookup: not a store
			// failure (the front door answers it with nothing).
			if ctx.Err() == nil {
				s.log.Error("principal lookup failed", "clientId", key, "err", err)
			}
			e := arm.Errorf(http.StatusServiceUnavailable, arm.CodeStorageUnavailable,
				"The service is temporarily unavailable. Please retry the request.")
			e.Header = http.Header{"Retry-After": {"5"}}
			return Principal{}, e
		}
	}
	if !cached || !strings.EqualFold(p.ObjectID, oid) {
		return Principal{}, s.challenge(arm.CodeInvalidAuthToken, "Could not find identity for access token.", true)
	}
	return p, nil
}

// challenge builds a 401 with the WWW-Authenticate header. withError adds
// error="invalid_token" and the message as error_description.
func (s *Service) challenge(code, msg string, withError bool) *arm.Error {
	e := arm.Errorf(http.StatusUnauthorized, code, "%s", msg)
	h := `Bearer authorization_uri="` + s.authURI + `"`
	if withError {
		h += `, error="invalid_token", error_description="` + quoteParam(msg) + `"`
	}
	e.Header = http.Header{"Www-Authenticate": {h}}
	return e
}

// quoteParam escapes s for use inside an HTTP quoted-string: backslash and
// double quote are escaped, control characters become spaces.
func quoteParam(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r == '"' || r == '\\' || r < ' ' || r == 0x7f }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < ' ' || r == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// tokenCache maps token strings to the Caller they authenticated. Entries
// are immutable; expiry and the principal are checked by the caller.
type tokenCache struct {
	mu  sync.RWMutex
	m   map[string]Caller
	max int
}

func (c *tokenCache) init(max int) {
	c.m = make(map[string]Caller)
	c.max = max
}

func (c *tokenCache) get(tok string) (Caller, bool) {
	c.mu.RLock()
	v, ok := c.m[tok]
	c.mu.RUnlock()
	return v, ok
}

// put adds an entry. When the cache is full it first drops expired entries,
// then, if still full, an arbitrary eighth of them.
func (c *tokenCache) put(tok string, v Caller, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if e.ExpiresAt.Before(now) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max-c.max/8 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[tok] = v
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// principalCache remembers principals found in the store, keyed by
// lower-case client ID, with the (monotonic wall) time they were read.
type principalCache struct {
	mu      sync.RWMutex
	m       map[string]principalEntry
	max     int
	recheck time.Duration
	now     func() time.Time
}

type principalEntry struct {
	p       Principal
	checked time.Time
}

func (c *principalCache) init(max int, recheck time.Duration) {
	c.m = make(map[string]principalEntry)
	c.max = max
	c.recheck = recheck
	c.now = time.Now
}

// get returns the cached principal, whether it is fresh enough to use
// without a store read, and whether there is an entry at all.
func (c *principalCache) get(key string) (p Principal, fresh, ok bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	recheck := c.recheck
	c.mu.RUnlock()
	if !ok {
		return Principal{}, false, false
	}
	return e.p, c.now().Sub(e.checked) < recheck, true
}

func (c *principalCache) put(key string, p Principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, exists := c.m[key]; !exists && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = principalEntry{p: p, checked: c.now()}
}

func (c *principalCache) forget(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// setRecheck changes how long cached principals are trusted (tests).
func (c *principalCache) setRecheck(d time.Duration) {
	c.mu.Lock()
	c.recheck = d
	c.mu.Unlock()
}
