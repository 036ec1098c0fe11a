package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxFormBytes caps the body of a token request.
const maxFormBytes = 64 << 10

// Routes registers the token service on mux with Go 1.22 method+path
// patterns. They are specific enough to share a mux with a catch-all "/" ARM
// handler; a request with another method on these paths falls through to
// that handler. Go's ServeMux panics at registration if another pattern
// overlaps one of these without either being more specific (for example
// "GET /providers/{ns}/keys" against "GET /{tenant}/discovery/keys"), so the
// ARM layer should route below its catch-all rather than with wildcards.
// Registered:
//
//	GET  /{tenant}/v2.0/.well-known/openid-configuration   OIDC discovery (v2)
//	GET  /{tenant}/.well-known/openid-configuration        OIDC discovery (v1)
//	POST /{tenant}/oauth2/v2.0/token                       client credentials (scope=)
//	POST /{tenant}/oauth2/token                            client credentials (resource=)
//	GET  /{tenant}/discovery/v2.0/keys                     JWKS
//	GET  /{tenant}/discovery/keys                          JWKS
//	GET  /adfs/.well-known/openid-configuration            ADFS discovery
//	POST /adfs/oauth2/token (also with a trailing slash)   client credentials (scope= or resource=)
//	GET  /adfs/discovery/keys                              JWKS
//
// {tenant} must be the configured tenant ID (any case); the discovery
// documents and JWKS also answer for "organizations" and "common" (their
// endpoints then name the configured tenant). Any other tenant gets Entra's
// AADSTS90002 error. The authorize, device code and logout endpoints the
// documents list are not served: armlet only does client credentials.
func (s *Service) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.handleDiscoveryV2)
	mux.HandleFunc("GET /{tenant}/.well-known/openid-configuration", s.handleDiscoveryV1)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.tokenHandler(flavorV2))
	mux.HandleFunc("POST /{tenant}/oauth2/token", s.tokenHandler(flavorV1))
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.handleKeys)
	mux.HandleFunc("GET /{tenant}/discovery/keys", s.handleKeys)
	mux.HandleFunc("GET /adfs/.well-known/openid-configuration", s.handleDiscoveryADFS)
	mux.HandleFunc("POST /adfs/oauth2/token", s.tokenHandler(flavorADFS))
	mux.HandleFunc("POST /adfs/oauth2/token/{$}", s.tokenHandler(flavorADFS))
	mux.HandleFunc("GET /adfs/discovery/keys", s.handleKeys)
	mux.HandleFunc("GET /{tenant}/discovery/instance", s.handleInstanceDiscovery)
}

type authorityKey struct{}

// WithAuthority returns ctx for a token service request made to another
// authority than armlet's own address: base ("https://login.microsoftonline.com")
// is then what the discovery documents name, so that a client keeps using
// the authority it was given (one that reaches armlet through its HTTPS
// proxy). Tokens are issued by armlet all the same.
func WithAuthority(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, authorityKey{}, base)
}

// authority is the scheme and host the discovery documents of r name.
func (s *Service) authority(r *http.Request) string {
	if base, ok := r.Context().Value(authorityKey{}).(string); ok {
		return base
	}
	return s.baseURL
}

// entraAliases are the host names Entra ID's instance discovery lists as
// one cloud's (Azure's public cloud).
func entraAliases() []string {
	return []string{"login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"}
}

// handleInstanceDiscovery answers MSAL's instance discovery
// (GET /common/discovery/instance?api-version=1.1&authorization_endpoint=...),
// which MSAL makes before anything else against an Entra ID authority:
// the tenant's discovery document, and the authority's aliases (Entra's
// public cloud's when the request came through the proxy for one of
// them, else armlet's own host).
func (s *Service) handleInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	if !s.discoveryTenant(t) {
		s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_tenant", 90002, s.tenantNotFound(t))
		return
	}
	base := s.authority(r)
	host := strings.TrimPrefix(base, "https://")
	aliases := []string{host}
	if slices.Contains(entraAliases(), host) {
		aliases = entraAliases()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": base + "/" + s.tenantID + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata":                  []any{map[string]any{"preferred_network": host, "preferred_cache": host, "aliases": aliases}},
	}, true)
}

// discoveryTenant reports whether a discovery path's tenant is served.
func (s *Service) discoveryTenant(t string) bool {
	return strings.EqualFold(t, s.tenantID) || strings.EqualFold(t, "organizations") || strings.EqualFold(t, "common")
}

// cloudInstanceName is the cloud_instance_name of the discovery documents
// of r: Entra's for its public cloud's hosts, else the authority's host
// name.
func (s *Service) cloudInstanceName(r *http.Request) string {
	u, err := url.Parse(s.authority(r))
	if err != nil {
		return "armlet"
	}
	if slices.Contains(entraAliases(), u.Hostname()) {
		return "microsoftonline.com"
	}
	return u.Hostname()
}

var (
	responseTypes = []string{"code", "id_token", "code id_token", "id_token token"}
	responseModes = []string{"query", "fragment", "form_post"}
	authMethods   = []string{"client_secret_post", "client_secret_basic"}
	grantTypes    = []string{"client_credentials"}
	claimsV2      = []string{"sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver", "oid", "appid", "appidacr", "idtyp", "idp"}
)

func (s *Service) handleDiscoveryV2(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	if !s.discoveryTenant(t) {
		s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_tenant", 90002, s.tenantNotFound(t))
		return
	}
	base := s.authority(r) + "/" + s.tenantID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": authMethods,
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              responseModes,
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              responseTypes,
		"grant_types_supported":                 grantTypes,
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"claims_supported":                      claimsV2,
		"tenant_region_scope":                   "WW",
		"cloud_instance_name":                   s.cloudInstanceName(r),
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
	}, true)
}

func (s *Service) handleDiscoveryV1(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	if !s.discoveryTenant(t) {
		s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_tenant", 90002, s.tenantNotFound(t))
		return
	}
	base := s.authority(r) + "/" + s.tenantID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/token",
		"token_endpoint_auth_methods_supported": authMethods,
		"jwks_uri":                              base + "/discovery/keys",
		"response_modes_supported":              responseModes,
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              responseTypes,
		"grant_types_supported":                 grantTypes,
		"scopes_supported":                      []string{"openid"},
		"issuer":                                s.issuer,
		"microsoft_multi_refresh_token":         true,
		"authorization_endpoint":                base + "/oauth2/authorize",
		"device_authorization_endpoint":         base + "/oauth2/devicecode",
		"end_session_endpoint":                  base + "/oauth2/logout",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"claims_supported":                      claimsV2,
		"tenant_region_scope":                   "WW",
		"cloud_instance_name":                   s.cloudInstanceName(r),
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
	}, true)
}

func (s *Service) handleDiscoveryADFS(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL + "/adfs"
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                           base,
		"authorization_endpoint":                           base + "/oauth2/authorize",
		"token_endpoint":                                   base + "/oauth2/token",
		"jwks_uri":                                         base + "/discovery/keys",
		"token_endpoint_auth_methods_supported":            authMethods,
		"response_types_supported":                         responseTypes,
		"response_modes_supported":                         responseModes,
		"grant_types_supported":                            grantTypes,
		"subject_types_supported":                          []string{"pairwise"},
		"scopes_supported":                                 []string{"openid", "profile", "email", "user_impersonation"},
		"id_token_signing_alg_values_supported":            []string{"RS256"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256"},
		"access_token_issuer":                              s.issuer,
		"claims_supported":                                 claimsV2,
		"end_session_endpoint":                             base + "/oauth2/logout",
		"device_authorization_endpoint":                    base + "/oauth2/devicecode",
		"frontchannel_logout_supported":                    true,
	}, true)
}

// jwk is one key of a JWKS document.
type jwk struct {
	Kty string   `json:"kty"`
	Use string   `json:"use"`
	Kid string   `json:"kid"`
	X5t string   `json:"x5t"`
	N   string   `json:"n"`
	E   string   `json:"e"`
	X5c []string `json:"x5c"`
	Alg string   `json:"alg"`
}

// handleKeys serves the JWKS with the signing key. The tenant path value is
// empty on the ADFS route.
func (s *Service) handleKeys(w http.ResponseWriter, r *http.Request) {
	if t := r.PathValue("tenant"); t != "" && !s.discoveryTenant(t) {
		s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_tenant", 90002, s.tenantNotFound(t))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": []jwk{s.key.jwk()}}, true)
}

func (k *signingKey) jwk() jwk {
	return jwk{
		Kty: "RSA",
		Use: "sig",
		Kid: k.kid,
		X5t: k.kid,
		N:   base64.RawURLEncoding.EncodeToString(k.pub.N.Bytes()),
		E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.pub.E)).Bytes()),
		X5c: []string{base64.StdEncoding.EncodeToString(k.certDER)},
		Alg: "RS256",
	}
}

// tokenFlavor says which token endpoint a request reached.
type tokenFlavor int

const (
	flavorV2   tokenFlavor = iota // /{tenant}/oauth2/v2.0/token: scope=
	flavorV1                      // /{tenant}/oauth2/token: resource=, string-valued v1 answer
	flavorADFS                    // /adfs/oauth2/token: scope= or resource=
)

// tokenResponse is the v2 (and ADFS) answer.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
}

// tokenResponseV1 is the v1 answer; like Entra ID's, every value is a string.
type tokenResponseV1 struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    string `json:"expires_in"`
	ExtExpiresIn string `json:"ext_expires_in"`
	ExpiresOn    string `json:"expires_on"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	AccessToken  string `json:"access_token"`
}

// tokenHandler serves the client-credentials grant. Failures answer like
// Entra ID (see writeOAuthError); bad input never gets a 5xx, only a store
// failure does (503 temporarily_unavailable).
func (s *Service) tokenHandler(flavor tokenFlavor) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if flavor != flavorADFS {
			if t := r.PathValue("tenant"); !strings.EqualFold(t, s.tenantID) {
				s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 90002, s.tenantNotFound(t))
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			if clientGone(r) {
				return
			}
			msg := "AADSTS90004: The request is malformed: the body could not be read as application/x-www-form-urlencoded."
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				msg = fmt.Sprintf("AADSTS90004: The request is malformed: the body is larger than %d bytes.", maxFormBytes)
			}
			s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 90004, msg)
			return
		}
		f := r.PostForm
		grant := f.Get("grant_type")
		if grant == "" {
			s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 900144, missingParam("grant_type"))
			return
		}
		if grant != "client_credentials" {
			s.writeOAuthError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003,
				fmt.Sprintf("AADSTS70003: The app requested an unsupported grant type '%s'. armlet supports only 'client_credentials'.", clip(grant, 100)))
			return
		}
		clientID, secret := f.Get("client_id"), f.Get("client_secret")
		usedBasic := false
		if u, p, ok := r.BasicAuth(); ok {
			// RFC 6749 2.3.1: both parts are form-urlencoded.
			bu, err1 := url.QueryUnescape(u)
			bp, err2 := url.QueryUnescape(p)
			if err1 != nil || err2 != nil || (clientID != "" && !strings.EqualFold(clientID, bu)) {
				s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 90004,
					"AADSTS90004: The request is malformed: the client_id in the body does not match the HTTP Basic credentials.")
				return
			}
			clientID, secret, usedBasic = bu, bp, true
		}
		if clientID == "" {
			s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 900144, missingParam("client_id"))
			return
		}
		scope, resourceParam := f.Get("scope"), f.Get("resource")
		switch flavor {
		case flavorV2:
			if strings.TrimSpace(scope) == "" {
				s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 900144, missingParam("scope"))
				return
			}
			resourceParam = ""
		case flavorV1:
			if resourceParam == "" {
				s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 900144, missingParam("resource"))
				return
			}
		case flavorADFS:
			if resourceParam == "" && strings.TrimSpace(scope) == "" {
				s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", 900144,
					"AADSTS900144: The request body must contain the following parameter: 'scope' or 'resource'.")
				return
			}
		}
		if secret == "" {
			msg := "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
			code := 7000218
			if f.Get("client_assertion") != "" {
				msg = fmt.Sprintf("AADSTS700027: Client assertion contains an invalid signature. armlet principals authenticate with a client secret only, and application '%s' has no certificate credential.", clip(clientID, 64))
				code = 700027
			}
			s.writeOAuthError(w, r, http.StatusUnauthorized, "invalid_client", code, msg)
			return
		}
		rec, err := s.principalRecord(r.Context(), clientID)
		if errors.Is(err, ErrPrincipalNotFound) {
			s.log.Info("token request for unknown client", "clientId", clip(clientID, 64))
			s.writeOAuthError(w, r, http.StatusBadRequest, "unauthorized_client", 700016,
				fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clip(clientID, 64), s.tenantID))
			return
		}
		if err != nil {
			if clientGone(r) {
				return
			}
			s.log.Error("token request: principal lookup failed", "clientId", clientID, "err", err)
			s.writeOAuthError(w, r, http.StatusServiceUnavailable, "temporarily_unavailable", 90033,
				"AADSTS90033: A transient error has occurred. Please try again.")
			return
		}
		if !rec.secretMatches(secret) {
			s.log.Info("token request with a wrong secret", "clientId", rec.ClientID)
			if usedBasic {
				w.Header().Set("WWW-Authenticate", `Basic realm="`+s.tenantID+`"`)
			}
			s.writeOAuthError(w, r, http.StatusUnauthorized, "invalid_client", 7000215,
				fmt.Sprintf("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", rec.ClientID))
			return
		}
		resource := resourceParam
		if resource == "" {
			res, desc, ok := resourceFromScope(scope)
			if !ok {
				s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_scope", scopeErrorCode(desc), desc)
				return
			}
			resource = res
		}
		if !validResource(resource) || !audienceIn(resource, s.issuable) {
			s.log.Info("token request for a resource armlet does not serve", "clientId", rec.ClientID, "resource", clip(resource, 200))
			s.writeOAuthError(w, r, http.StatusBadRequest, "invalid_resource", 500011,
				fmt.Sprintf("AADSTS500011: The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", clip(resource, 200), s.tenantID))
			return
		}
		tok, err := s.issue(rec.Principal, resource)
		if err != nil {
			s.log.Error("token request: signing failed", "err", err)
			s.writeOAuthError(w, r, http.StatusServiceUnavailable, "temporarily_unavailable", 90033,
				"AADSTS90033: A transient error has occurred. Please try again.")
			return
		}
		s.log.Info("issued token", "clientId", rec.ClientID, "aud", resource, "endpoint", flavor.String())
		secs := int64(tok.ExpiresIn / time.Second)
		if flavor == flavorV1 {
			writeJSON(w, http.StatusOK, tokenResponseV1{
				TokenType:    "Bearer",
				ExpiresIn:    strconv.FormatInt(secs, 10),
				ExtExpiresIn: strconv.FormatInt(secs, 10),
				ExpiresOn:    strconv.FormatInt(tok.ExpiresOn.Unix(), 10),
				NotBefore:    strconv.FormatInt(tok.NotBefore.Unix(), 10),
				Resource:     resource,
				AccessToken:  tok.AccessToken,
			}, false)
			return
		}
		writeJSON(w, http.StatusOK, tokenResponse{
			TokenType:    "Bearer",
			ExpiresIn:    secs,
			ExtExpiresIn: secs,
			AccessToken:  tok.AccessToken,
		}, false)
	}
}

// clientGone reports whether a token request failed because its client
// went away: its context is cancelled (an HTTP/2 stream reset, a closed
// connection). Such a request is answered with nothing (the front door
// records it as 499) and is not logged as a failure.
func clientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

func (f tokenFlavor) String() string {
	switch f {
	case flavorV1:
		return "v1"
	case flavorADFS:
		return "adfs"
	}
	return "v2"
}

// scopeErrorCode extracts the AADSTS number a resourceFromScope description
// starts with.
func scopeErrorCode(desc string) int {
	rest, ok := strings.CutPrefix(desc, "AADSTS")
	if !ok {
		return 0
	}
	end := strings.IndexByte(rest, ':')
	if end < 0 {
		return 0
	}
	n, _ := strconv.Atoi(rest[:end])
	return n
}

func missingParam(name string) string {
	return "AADSTS900144: The request body must contain the following parameter: '" + name + "'."
}

func (s *Service) tenantNotFound(t string) string {
	return fmt.Sprintf("AADSTS90002: Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", clip(t, 100))
}

// oauthError is Entra ID's error body.
type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
}

// writeOAuthError answers like Entra ID: the description ends with the trace
// ID, correlation ID and timestamp, and the correlation ID echoes the
// client's client-request-id header when that is a GUID.
func (s *Service) writeOAuthError(w http.ResponseWriter, r *http.Request, status int, code string, aadsts int, desc string) {
	trace := newGUID()
	corr := r.Header.Get("client-request-id")
	if !isGUID(corr) {
		corr = newGUID()
	}
	ts := s.clock.Now().UTC().Format("2006-01-02 15:04:05Z")
	w.Header().Set("x-ms-request-id", trace)
	writeJSON(w, status, oauthError{
		Error:            code,
		ErrorDescription: desc + "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + corr + "\r\nTimestamp: " + ts,
		ErrorCodes:       []int{aadsts},
		Timestamp:        ts,
		TraceID:          trace,
		CorrelationID:    corr,
	}, false)
}

// writeJSON writes v as JSON. Discovery documents may be cached by clients
// for a day; token responses and errors must not be cached at all.
func writeJSON(w http.ResponseWriter, status int, v any, cacheable bool) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if cacheable {
		h.Set("Cache-Control", "max-age=86400, private")
	} else {
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
