// Package identity is armlet's token service: it keeps service principals,
// issues access tokens to them over the OAuth 2.0 client-credentials grant,
// and validates those tokens on every ARM request.
//
// # What it serves
//
// Routes registers an OpenID Connect discovery document, a JWKS and a token
// endpoint under two path styles, so that unmodified Azure clients can log in
// against armlet as a custom authority:
//
//   - Entra ID style, for the Go and JavaScript SDKs (and the Azure CLI once it
//     can skip instance discovery): /{tenant}/v2.0/.well-known/openid-configuration,
//     /{tenant}/oauth2/v2.0/token, /{tenant}/oauth2/token (v1), /{tenant}/discovery/...
//   - ADFS style, for the Azure CLI 2.45 (MSAL Python 1.20 validates every
//     non-ADFS authority against the public cloud, which cannot work offline):
//     /adfs/.well-known/openid-configuration, /adfs/oauth2/token, /adfs/discovery/keys.
//
// Both styles issue the same tokens: RS256 JWTs shaped like the Entra ID v1
// access tokens Azure Resource Manager receives for an application
// (iss "https://sts.windows.net/{tid}/", ver "1.0", idtyp "app", aud = the
// requested resource exactly as requested).
//
// # State
//
// All state lives in identity's space of the kv store, kv.SpaceIdentity
// ("identity/"), given as a View (Options.Store):
//
//   - identity/signing-key: PEM, a PKCS#8 RSA-2048 private key followed by a
//     self-signed certificate of it (published as x5c in the JWKS). Created on
//     first start; every later start, and every replica sharing the store,
//     uses the same key, so tokens survive restarts.
//   - identity/principals/{clientId}: one JSON record per service principal;
//     the secret only as a SHA-256 hash.
//   - identity/bootstrap: the bootstrap principal's full credentials
//     (including the plain secret), so every start can publish them in
//     connection.json.
//
// # Clients proven by this package's tests
//
//   - azidentity ClientSecretCredential (MSAL Go), authority host
//     "{BaseURL}/" with DisableInstanceDiscovery, both with the tenant GUID
//     (Entra paths) and with tenant "adfs" (ADFS paths); an armresources
//     client whose token Authenticate accepts; wrong secrets surface as
//     AADSTS7000215.
//   - Azure CLI 2.45: `az cloud register --endpoint-active-directory
//     {BaseURL}/adfs ...` then `az login --service-principal` (runs when az
//     is on PATH).
//   - @azure/identity 4 ClientSecretCredential with authorityHost and
//     disableInstanceDiscovery, tenant GUID and "adfs" (runs when
//     ARMLET_TEST_NODE_MODULES points at an install of it).
//
// # Time
//
// Issuance time, expiry and validation all read Options.Clock, which armlet
// sets to the wall clock, not the armlet clock that `armlet clock advance`
// moves: clients cache tokens by wall time (expires_in), so a token fetched a
// minute ago must stay valid after the armlet clock jumps an hour for a
// propagation wait. The armlet clock is for resource behaviour only. Expiry
// is tested with a short --token-lifetime, or here with a fake Clock.
package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/kv"
)

// Key layout in identity's space of the store (kv.SpaceIdentity,
// "identity/"), relative to it.
const (
	keySigningKey   = "signing-key"
	keyBootstrap    = "bootstrap"
	keyPrincipalDir = "principals/"
)

// DefaultTokenLifetime is the token lifetime when Options.TokenLifetime is 0.
const DefaultTokenLifetime = time.Hour

// MinTokenLifetime and MaxTokenLifetime bound Options.TokenLifetime. The
// minimum is short so that expiry can be seen in a test on the wall clock.
const (
	MinTokenLifetime = 10 * time.Second
	MaxTokenLifetime = 24 * time.Hour
)

// DefaultAudiences are the audiences public Azure Resource Manager accepts;
// they are used when Options.Audiences is empty.
var DefaultAudiences = []string{
	"https://management.core.windows.net/",
	"https://management.core.windows.net",
	"https://management.azure.com/",
	"https://management.azure.com",
}

// Options configures a Service.
type Options struct {
	// Store is the view of kv.SpaceIdentity, where all identity state is
	// kept. Required.
	Store kv.View
	// Clock is read for token issuance, expiry and validation. Nil means the
	// wall clock, which is what armlet passes (see "Time" above).
	Clock clock.Clock
	// BaseURL is the public URL of the listener serving Routes, for example
	// "https://127.0.0.1:8443"; a trailing slash is removed. It is the
	// prefix of every URL in the discovery documents (MSAL Go requires their
	// issuer host to match the authority the client was given). Real clients
	// only accept https; http is allowed for tests. Required.
	BaseURL string
	// TenantID is the one tenant armlet emulates: a GUID (compared
	// case-insensitively, stored lower-case). Required.
	TenantID string
	// Audiences are the token audiences Authenticate accepts (each also
	// matches with or without one trailing slash). Empty means
	// DefaultAudiences. The token endpoints issue tokens for these.
	Audiences []string
	// IssueOnly are further resources the token endpoints issue tokens for
	// (matched like Audiences) although Authenticate refuses them: the
	// audiences real clients ask for on the way to armlet, such as Azure
	// ML's "https://ml.azure.com" (azure-ai-ml fetches such a token before
	// submitting a job that runs as the user, to send along). A request for
	// any other resource gets Entra's AADSTS500011, so that armlet never
	// mints a token another service trusting its issuer would take for one
	// of its own.
	IssueOnly []string
	// TokenLifetime is how long issued tokens are valid; 0 means
	// DefaultTokenLifetime. At most MaxTokenLifetime.
	TokenLifetime time.Duration
	// Logger receives issuance and failure events (never secrets or
	// tokens). Nil discards.
	Logger *slog.Logger
}

// Service is the token service and validator. Create it with New; it is
// safe for concurrent use.
type Service struct {
	store     kv.View
	clock     clock.Clock
	baseURL   string
	tenantID  string
	audiences []string
	issuable  []string // audiences, then Options.IssueOnly
	lifetime  time.Duration
	log       *slog.Logger

	key *signingKey

	// issuer is the iss claim of every token: "https://sts.windows.net/{tid}/".
	issuer string
	// authURI is the authorization_uri of WWW-Authenticate challenges.
	authURI string

	tokens     tokenCache
	principals principalCache

	bootstrapMu sync.Mutex
}

// signingKey is the loaded token-signing key with everything derived from it.
type signingKey struct {
	priv    *rsa.PrivateKey
	pub     *rsa.PublicKey
	certDER []byte
	// kid and x5t are both the base64url SHA-1 thumbprint of the
	// certificate, as Entra ID sets them.
	kid     string
	created time.Time
}

// New returns a Service on opts.Store, loading the signing key from
// "signing-key" or, on first start, creating and persisting it. Two
// replicas starting together on one store agree on one key: creation is a
// conditional put (Absent), and the loser of the race re-reads.
//
// New fails if a required option is missing or invalid, if the store fails,
// or if the persisted key is unreadable (it is never silently replaced,
// because that would invalidate every token in circulation).
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Store.Space() != kv.SpaceIdentity {
		return nil, fmt.Errorf("identity: Options.Store is the view of %v, want %v", opts.Store.Space(), kv.SpaceIdentity)
	}
	base := strings.TrimSuffix(strings.TrimSpace(opts.BaseURL), "/")
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("identity: Options.BaseURL %q must be an absolute http(s) URL without query", opts.BaseURL)
	}
	if !isGUID(opts.TenantID) {
		return nil, fmt.Errorf("identity: Options.TenantID %q must be a GUID", opts.TenantID)
	}
	lifetime := opts.TokenLifetime
	if lifetime == 0 {
		lifetime = DefaultTokenLifetime
	}
	if lifetime < MinTokenLifetime || lifetime > MaxTokenLifetime {
		return nil, fmt.Errorf("identity: Options.TokenLifetime %v must be between %v and %v", lifetime, MinTokenLifetime, MaxTokenLifetime)
	}
	auds := opts.Audiences
	if len(auds) == 0 {
		auds = DefaultAudiences
	}
	for _, a := range auds {
		if a == "" {
			return nil, errors.New("identity: Options.Audiences holds an empty audience")
		}
	}
	for _, a := range opts.IssueOnly {
		if !validResource(a) {
			return nil, fmt.Errorf("identity: Options.IssueOnly holds an invalid resource %q", a)
		}
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.NewOffset(0)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tid := strings.ToLower(opts.TenantID)
	s := &Service{
		store:     opts.Store,
		clock:     clk,
		baseURL:   base,
		tenantID:  tid,
		audiences: append([]string(nil), auds...),
		issuable:  append(append([]string(nil), auds...), opts.IssueOnly...),
		lifetime:  lifetime,
		log:       logger.With("component", "identity"),
		issuer:    "https://sts.windows.net/" + tid + "/",
		authURI:   base + "/" + tid,
	}
	s.tokens.init(defaultTokenCacheSize)
	s.principals.init(defaultPrincipalCacheSize, defaultPrincipalRecheck)
	if s.key, err = s.loadOrCreateKey(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// TenantID returns the emulated tenant's ID (lower-case GUID).
func (s *Service) TenantID() string { return s.tenantID }

// Issuer returns the iss claim of issued tokens, "https://sts.windows.net/{tid}/".
func (s *Service) Issuer() string { return s.issuer }

// BaseURL returns Options.BaseURL without a trailing slash.
func (s *Service) BaseURL() string { return s.baseURL }

// ADFSAuthority returns the authority URL for ADFS-style clients,
// "{BaseURL}/adfs" (the Azure CLI's loginEndpoint).
func (s *Service) ADFSAuthority() string { return s.baseURL + "/adfs" }

// Audiences returns a copy of the accepted audiences.
func (s *Service) Audiences() []string { return append([]string(nil), s.audiences...) }

// TokenLifetime returns the lifetime of issued tokens.
func (s *Service) TokenLifetime() time.Duration { return s.lifetime }

// loadOrCreateKey returns the persisted signing key, creating it if absent.
func (s *Service) loadOrCreateKey(ctx context.Context) (*signingKey, error) {
	for attempt := 0; attempt < 3; attempt++ {
		e, err := s.store.Get(ctx, []byte(keySigningKey))
		if err == nil {
			k, perr := parseSigningKey(e.Value)
			if perr != nil {
				return nil, fmt.Errorf("identity: stored signing key %q is unreadable: %w", keySigningKey, perr)
			}
			return k, nil
		}
		if !errors.Is(err, kv.ErrNotFound) {
			return nil, fmt.Errorf("identity: reading signing key: %w", err)
		}
		pemBytes, k, err := generateSigningKey(s.clock.Now())
		if err != nil {
			return nil, fmt.Errorf("identity: generating signing key: %w", err)
		}
		_, err = s.store.Txn(ctx, kv.Put([]byte(keySigningKey), pemBytes).If(kv.Absent))
		if err == nil {
			s.log.Info("created token signing key", "kid", k.kid)
			return k, nil
		}
		if !errors.Is(err, kv.ErrConflict) {
			return nil, fmt.Errorf("identity: storing signing key: %w", err)
		}
		// Another replica won the race: loop and read its key.
	}
	return nil, errors.New("identity: signing key keeps changing under us")
}

// generateSigningKey makes an RSA-2048 key and a self-signed certificate for
// it, returning the PEM to persist and the parsed key.
func generateSigningKey(now time.Time) ([]byte, *signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	now = now.UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "armlet token signing"},
		NotBefore:             now,
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	_ = pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	k, err := parseSigningKey(buf.Bytes())
	if err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), k, nil
}

// parseSigningKey reads the persisted PEM: a PKCS#8 RSA key and its
// certificate, in any order.
func parseSigningKey(data []byte) (*signingKey, error) {
	var priv *rsa.PrivateKey
	var cert *x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, err
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("private key is %T, want RSA", k)
			}
			priv = rk
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, err
			}
			cert = c
		}
	}
	if priv == nil || cert == nil {
		return nil, errors.New("want a PRIVATE KEY and a CERTIFICATE block")
	}
	if priv.N.BitLen() < 2048 {
		return nil, fmt.Errorf("RSA key has %d bits, want at least 2048", priv.N.BitLen())
	}
	if !priv.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("certificate does not match the private key")
	}
	sum := sha1.Sum(cert.Raw)
	return &signingKey{
		priv:    priv,
		pub:     &priv.PublicKey,
		certDER: cert.Raw,
		kid:     base64.RawURLEncoding.EncodeToString(sum[:]),
		created: cert.NotBefore.UTC(),
	}, nil
}
