package app_test

// Findings of a hostile review, each over real TLS with real tokens: a
// client that goes away mid-request, token requests for audiences armlet
// does not serve, a role assignment whose body names another scope than its
// URI, and malformed query strings and paths.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/authz"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/google/uuid"
)

// logRecorder is a slog.Handler keeping every record.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

// atLeast returns the messages (with their attributes) of the records at
// level or above.
func (h *logRecorder) atLeast(level slog.Level) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		if r.Level < level {
			continue
		}
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool {
			msg += " " + a.String()
			return true
		})
		out = append(out, msg)
	}
	return out
}

// stallingBody yields its first chunk, closes sent, then blocks until done
// is closed: a client that stops sending mid-body.
type stallingBody struct {
	first []byte
	sent  chan struct{}
	done  <-chan struct{}
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if len(b.first) > 0 {
		n := copy(p, b.first)
		if b.first = b.first[n:]; len(b.first) == 0 {
			close(b.sent)
		}
		return n, nil
	}
	<-b.done
	return 0, context.Canceled
}

func (b *stallingBody) Close() error { return nil }

// waitFlow returns the first flow record match selects, waiting for it to
// be written.
func waitFlow(t *testing.T, s *e2e.Armlet, what string, match func(netmodel.Flow) bool) netmodel.Flow {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := s.Flows().Flush(ctx); err != nil {
			t.Fatal(err)
		}
		flows, err := s.Flows().List(ctx, netmodel.FlowFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range flows {
			if match(f) {
				return f
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no flow record of %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClientCancellation: a client that cancels mid-request (an HTTP/2
// stream reset, an HTTP/1.1 connection closed mid-body) is recorded as a
// 499 flow, is not logged as an error and is not served.
func TestClientCancellation(t *testing.T) {
	t.Parallel()
	logs := &logRecorder{}
	s := e2e.Start(t, e2e.WithLogger(slog.New(logs)))
	sub := s.Conn.SubscriptionID
	tr := s.Client.Transport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = true
	h2 := &http.Client{Transport: tr}
	// armlet speaks HTTP/2 to clients that offer it (azcore does).
	resp, err := h2.Get(strings.TrimSuffix(s.Conn.ARMEndpoint, "/") + "/_armlet/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("health over %s, want HTTP/2", resp.Proto)
	}

	tokenPath := "/" + s.Conn.TenantID + "/oauth2/v2.0/token"
	tests := []struct {
		name   string
		client *http.Client
		path   string
		ctype  string
		first  string
	}{
		{"ARM over HTTP/2", h2, "/subscriptions/" + sub + "/resourceGroups/cancel-h2", "application/json",
			`{"location":"eastus","tags":{"pad":"` + strings.Repeat("x", 1024)},
		{"ARM over HTTP/1.1", s.Client, "/subscriptions/" + sub + "/resourceGroups/cancel-h1", "application/json",
			`{"location":"eastus","tags":{"pad":"` + strings.Repeat("x", 1024)},
		{"token service over HTTP/2", h2, tokenPath, "application/x-www-form-urlencoded",
			"grant_type=client_credentials&client_id=" + s.Conn.ClientID + "&client_secret=" + url.QueryEscape(s.Conn.ClientSecret) + "&scope="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			body := &stallingBody{first: []byte(tt.first), sent: make(chan struct{}), done: ctx.Done()}
			method := http.MethodPut
			u := strings.TrimSuffix(s.Conn.ARMEndpoint, "/") + tt.path + "?api-version=2021-04-01"
			if tt.path == tokenPath {
				method, u = http.MethodPost, strings.TrimSuffix(s.Conn.ARMEndpoint, "/")+tt.path
			}
			req, err := http.NewRequestWithContext(ctx, method, u, body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = 1 << 20 // far more than will come
			req.Header.Set("Content-Type", tt.ctype)
			req.Header.Set("Authorization", "Bearer "+s.Token(t))
			id := uuid.NewString() // finds the request's flow record
			req.Header.Set("x-ms-client-request-id", id)
			errc := make(chan error, 1)
			go func() {
				resp, err := tt.client.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			select {
			case <-body.sent:
			case err := <-errc:
				t.Fatalf("request ended before the body was sent: %v", err)
			}
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("client: %v, want context.Canceled", err)
			}
			f := waitFlow(t, s, tt.name, func(f netmodel.Flow) bool { return f.ClientRequestID == id })
			if f.Method != method || f.Path != tt.path {
				t.Errorf("flow of %s %s", f.Method, f.Path)
			}
			if f.Status != 499 || f.ErrorCode != "" {
				t.Errorf("flow status %d %q, want 499 (client closed request) and no error code", f.Status, f.ErrorCode)
			}
			if method == http.MethodPut {
				if st, _, b := s.Do(t, http.MethodGet, tt.path+"?api-version=2021-04-01", "", nil); st != http.StatusNotFound {
					t.Errorf("the cancelled PUT was served: GET = %d %s", st, b)
				}
			}
		})
	}
	if errs := logs.atLeast(slog.LevelError); len(errs) > 0 {
		t.Errorf("cancelled requests logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestTokenAudiences: the token endpoints issue tokens only for the
// audiences armlet serves, in every form real clients ask for them, and
// answer any other resource with Entra's 400 invalid_resource AADSTS500011.
func TestTokenAudiences(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	base := strings.TrimSuffix(s.Conn.ARMEndpoint, "/")
	_, port, _ := net.SplitHostPort(s.Addr().String())
	// What azure-ai-ml makes of armlet's metadata (portal https://127.0.0.1:port/).
	amlDerived := "https://ml.azure.0.1:" + port
	v2, v1, adfs := base+"/"+s.Conn.TenantID+"/oauth2/v2.0/token", base+"/"+s.Conn.TenantID+"/oauth2/token", base+"/adfs/oauth2/token"
	const (
		armOK  = "ok"   // ARM accepts the token
		armAud = "aud"  // issued, but ARM refuses the audience (Azure ML's)
		refuse = "none" // no token: AADSTS500011
	)
	tests := []struct {
		name, endpoint, param, value string
		want                         string
		wantAud                      string
	}{
		// Accepted, by the clients that ask for them.
		{"CLI, azure-ai-ml: double slash", v2, "scope", "https://management.core.windows.net//.default", armOK, "https://management.core.windows.net/"},
		{"JS README: audience + .default", v2, "scope", "https://management.core.windows.net/.default", armOK, "https://management.core.windows.net"},
		{"JS SDK default scope", v2, "scope", "https://management.azure.com/.default", armOK, "https://management.azure.com"},
		{"management.azure.com double slash", v2, "scope", "https://management.azure.com//.default", armOK, "https://management.azure.com/"},
		{"MSAL's extra scopes", v2, "scope", "https://management.core.windows.net//.default openid profile offline_access", armOK, "https://management.core.windows.net/"},
		{"Terraform from metadata", v2, "scope", base + "//.default", armOK, base + "/"},
		{"azure-ai-ml from metadata", v2, "scope", base + "/.default", armOK, base},
		{"azure-ai-ml: Azure ML", v2, "scope", "https://ml.azure.com/.default", armAud, "https://ml.azure.com"},
		{"azure-ai-ml: Azure ML from metadata", v2, "scope", amlDerived + "/.default", armAud, amlDerived},
		{"Key Vault, whose data plane armlet serves through its proxy", v2, "scope", "https://vault.azure.net/.default", armAud, "https://vault.azure.net"},
		{"Storage, whose blob data plane armlet serves through its proxy", v2, "scope", "https://storage.azure.com/.default", armAud, "https://storage.azure.com"},
		{"v1 resource", v1, "resource", "https://management.core.windows.net/", armOK, "https://management.core.windows.net/"},
		{"v1 resource without slash", v1, "resource", "https://management.azure.com", armOK, "https://management.azure.com"},
		{"ADFS scope (CLI)", adfs, "scope", "https://management.core.windows.net//.default", armOK, "https://management.core.windows.net/"},
		{"ADFS resource", adfs, "resource", "https://management.core.windows.net/", armOK, "https://management.core.windows.net/"},
		// Refused.
		{"another app", v2, "scope", "api://evil/.default", refuse, "api://evil"},
		{"Microsoft Graph", v2, "scope", "https://graph.microsoft.com/.default", refuse, "https://graph.microsoft.com"},
		{"Azure AD Graph", v2, "scope", "https://graph.windows.net//.default", refuse, "https://graph.windows.net/"},
		{"look-alike host", v2, "scope", "https://management.azure.com.evil.example/.default", refuse, "https://management.azure.com.evil.example"},
		{"look-alike Azure ML", v2, "scope", "https://ml.azure.com.evil.example/.default", refuse, "https://ml.azure.com.evil.example"},
		{"two trailing slashes", v2, "scope", "https://management.azure.com///.default", refuse, "https://management.azure.com//"},
		{"a path below", v2, "scope", "https://management.azure.com/subscriptions/.default", refuse, "https://management.azure.com/subscriptions"},
		{"v1 Graph", v1, "resource", "https://graph.microsoft.com/", refuse, "https://graph.microsoft.com/"},
		{"ADFS other app", adfs, "resource", "api://evil", refuse, "api://evil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.Conn.ClientID},
				"client_secret": {s.Conn.ClientSecret}, tt.param: {tt.value}}
			resp, err := s.Client.PostForm(tt.endpoint, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if tt.want == refuse {
				desc, _ := body["error_description"].(string)
				wantDesc := fmt.Sprintf("AADSTS500011: The resource principal named %s was not found in the tenant named %s. "+
					"This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. "+
					"You might have sent your authentication request to the wrong tenant.", tt.wantAud, s.Conn.TenantID)
				if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_resource" || !strings.HasPrefix(desc, wantDesc) {
					t.Fatalf("%s %s=%s: %d %v\nwant 400 invalid_resource %q", tt.endpoint, tt.param, tt.value, resp.StatusCode, body, wantDesc)
				}
				return
			}
			tok, _ := body["access_token"].(string)
			if resp.StatusCode != http.StatusOK || tok == "" {
				t.Fatalf("%s %s=%s: %d %v", tt.endpoint, tt.param, tt.value, resp.StatusCode, body)
			}
			if aud := jwtClaim(t, tok, "aud"); aud != tt.wantAud {
				t.Errorf("aud = %q, want %q", aud, tt.wantAud)
			}
			st, _, b := s.Do(t, http.MethodGet, "/subscriptions/"+s.Conn.SubscriptionID+"?api-version=2021-04-01", "",
				map[string]string{"Authorization": "Bearer " + tok})
			switch {
			case tt.want == armOK && st != http.StatusOK:
				t.Errorf("ARM with the token: %d %s", st, b)
			case tt.want == armAud && (st != http.StatusUnauthorized || !strings.Contains(b, "InvalidAuthenticationTokenAudience")):
				t.Errorf("ARM with an Azure ML token: %d %s, want 401 InvalidAuthenticationTokenAudience", st, b)
			}
		})
	}

	// azidentity, as every Go client gets its tokens.
	cred := s.Credential(t)
	if _, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://ml.azure.com/.default"}}); err != nil {
		t.Errorf("azidentity, Azure ML scope: %v", err)
	}
	_, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err == nil || !strings.Contains(err.Error(), "AADSTS500011") {
		t.Errorf("azidentity, Graph scope: %v, want AADSTS500011", err)
	}
}

// jwtClaim returns a string claim of a JWT, unverified.
func jwtClaim(t *testing.T, tok, name string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	v, _ := claims[name].(string)
	return v
}

// TestRoleAssignmentScope: a role assignment PUT whose body's
// properties.scope names another scope than the URI is refused with Azure's
// 400 InvalidCreateRoleAssignmentRequest; the same scope in another casing,
// and no scope at all, are accepted, and so is a GET-modify-PUT round trip.
func TestRoleAssignmentScope(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	sub := "/subscriptions/" + s.Conn.SubscriptionID
	rg := sub + "/resourceGroups/ras-rg"
	if st, _, b := s.Do(t, http.MethodPut, rg+"?api-version=2021-04-01", `{"location":"eastus"}`, nil); st != http.StatusCreated {
		t.Fatalf("create group: %d %s", st, b)
	}
	cred := s.Credential(t)
	client, err := armauthorization.NewRoleAssignmentsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	reader := sub + "/providers/Microsoft.Authorization/roleDefinitions/" + authz.RoleReader
	params := func(principal string, scope *string) armauthorization.RoleAssignmentCreateParameters {
		return armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
			RoleDefinitionID: to.Ptr(reader), PrincipalID: to.Ptr(principal),
			PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal), Scope: scope,
		}}
	}
	// Above the URI's scope (an escalation), below it, beside it, the
	// tenant root, and no resource id at all.
	refused := []string{
		sub,
		rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1",
		sub + "/resourceGroups/other-rg",
		"/",
		"Microsoft.ContainerRegistry/registries/myacr",
	}
	for _, scope := range refused {
		name := uuid.NewString()
		_, err := client.Create(ctx, rg, name, params(uuid.NewString(), to.Ptr(scope)), nil)
		e2e.RequireResponseError(t, err, http.StatusBadRequest, "InvalidCreateRoleAssignmentRequest")
		want := "The request to create role assignment '" + name + "' is not valid. Role assignment scope '" + scope +
			"' must match the scope specified on the URI '" + rg + "'."
		if !strings.Contains(err.Error(), want) {
			t.Errorf("body scope %s: %v\nwant message %q", scope, err, want)
		}
		if _, err := client.Get(ctx, rg, name, nil); err == nil {
			t.Errorf("the refused assignment with scope %s was stored", scope)
		}
	}
	// The URI's scope in other casing: accepted, stored at the URI's scope.
	created, err := client.Create(ctx, rg, uuid.NewString(), params(uuid.NewString(), to.Ptr(strings.ToLower(rg))), nil)
	if err != nil {
		t.Fatalf("body scope in lower case: %v", err)
	}
	if *created.Properties.Scope != rg {
		t.Errorf("scope = %s, want %s", *created.Properties.Scope, rg)
	}
	// No scope: accepted. Then GET, and PUT what came back.
	name := uuid.NewString()
	if _, err := client.Create(ctx, rg, name, params(uuid.NewString(), nil), nil); err != nil {
		t.Fatalf("no body scope: %v", err)
	}
	got, err := client.Get(ctx, rg, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Create(ctx, rg, name, armauthorization.RoleAssignmentCreateParameters{Properties: got.Properties}, nil); err != nil {
		t.Errorf("GET-modify-PUT: %v", err)
	}
}

// TestMalformedURI: a query string that does not parse is refused with 400
// InvalidRequestUri and an ARM error body on every route of every
// listener, where Go alone would drop the bad pair and serve the rest. A
// bad percent escape in the path never reaches armlet: Go's server answers
// 400 itself.
func TestMalformedURI(t *testing.T) {
	t.Parallel()
	fake := &e2e.FakeEndpoints{}
	s := e2e.Start(t, e2e.WithApp(app.WithEndpointSource(fake.Source)))
	sub := s.Conn.SubscriptionID
	rg := "/subscriptions/" + sub + "/resourceGroups/mq-rg"
	wsID := rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	if st, _, b := s.Do(t, http.MethodPut, rg+"?api-version=2021-04-01", `{"location":"eastus"}`, nil); st != http.StatusCreated {
		t.Fatalf("create group: %d %s", st, b)
	}
	if st, _, b := s.Do(t, http.MethodPut, wsID+"?api-version=2024-04-01", `{"location":"eastus"}`, nil); st != http.StatusAccepted {
		t.Fatalf("create workspace: %d %s", st, b)
	}
	fake.Set(
		netmodel.Endpoint{ID: enginetest.MustID(t, rg+"/providers/Microsoft.Network/privateEndpoints/pe-arm"), PrivateIP: "10.1.0.4", GroupID: "ResourceManagement",
			TargetID: enginetest.MustID(t, rg+"/providers/Microsoft.Authorization/resourceManagementPrivateLinks/rmpl")},
		netmodel.Endpoint{ID: enginetest.MustID(t, rg+"/providers/Microsoft.Network/privateEndpoints/pe-ws"), PrivateIP: "10.1.0.5", GroupID: "amlworkspace",
			TargetID: enginetest.MustID(t, wsID)},
	)
	ls := s.WaitEndpoints(t, 2)
	main, privARM, privWS := strings.TrimSuffix(s.Conn.ARMEndpoint, "/"), "https://"+ls[0].Address, "https://"+ls[1].Address
	history := "/history/v1.0" + wsID + "/experiments"
	tokenForm := "grant_type=client_credentials&client_id=" + s.Conn.ClientID + "&client_secret=" + url.QueryEscape(s.Conn.ClientSecret) +
		"&scope=" + url.QueryEscape(s.Conn.Audience+"/.default")
	const bad = "&$skipToken=%%%garbage"
	tests := []struct {
		name, method, base, path, query, body string
		wantStatus                            int
		wantCode                              string
	}{
		// Refused: every route, every listener.
		{"ARM list", "GET", main, "/subscriptions", "api-version=2021-04-01" + bad, "", 400, "InvalidRequestUri"},
		{"ARM resource", "GET", main, wsID, "api-version=2024-04-01&x=%zz", "", 400, "InvalidRequestUri"},
		{"ARM write", "PUT", main, rg, "api-version=2021-04-01&%", `{"location":"eastus"}`, 400, "InvalidRequestUri"},
		{"metadata", "GET", main, "/metadata/endpoints", "api-version=2022-09-01" + bad, "", 400, "InvalidRequestUri"},
		{"workspace endpoint", "GET", main, history, "x=%G0", "", 400, "InvalidRequestUri"},
		{"token service", "POST", main, "/" + s.Conn.TenantID + "/oauth2/v2.0/token", "x=%%", tokenForm, 400, "InvalidRequestUri"},
		{"OIDC discovery", "GET", main, "/" + s.Conn.TenantID + "/v2.0/.well-known/openid-configuration", "%zz", "", 400, "InvalidRequestUri"},
		{"admin API", "GET", main, "/_armlet/clock", "%zz", "", 400, "InvalidRequestUri"},
		{"health", "GET", main, "/_armlet/health", "%zz", "", 400, "InvalidRequestUri"},
		{"private ARM", "GET", privARM, "/subscriptions", "api-version=2021-04-01" + bad, "", 400, "InvalidRequestUri"},
		{"private workspace endpoint", "GET", privWS, history, "x=%zz", "", 400, "InvalidRequestUri"},
		{"route a private listener does not serve", "GET", privWS, wsID, "api-version=2024-04-01" + bad, "", 400, "InvalidRequestUri"},
		// Refused: a parameter given twice, whatever the casing, since which
		// value counts would be a guess.
		{"api-version twice", "GET", main, wsID, "api-version=2024-04-01&api-version=2021-07-01", "", 400, "InvalidRequestUri"},
		{"api-version in two casings", "PUT", main, rg, "api-version=2021-04-01&API-VERSION=2015-01-01", `{"location":"eastus"}`, 400, "InvalidRequestUri"},
		{"data-plane parameter twice", "GET", main, history, "x=1&X=2", "", 400, "InvalidRequestUri"},
		// Served: well-formed queries, and a semicolon, which is part of a
		// value, not a separator.
		{"escapes that parse", "GET", main, rg + "/resources", "api-version=2021-04-01&$filter=" + url.QueryEscape("name eq 'x'"), "", 200, ""},
		{"semicolon", "GET", main, "/subscriptions", "api-version=2021-04-01&note=a;b", "", 200, ""},
		{"semicolon in api-version", "GET", main, "/subscriptions", "api-version=2021-04-01;x", "", 400, "InvalidApiVersionParameter"},
		{"private ARM, well-formed", "GET", privARM, "/subscriptions", "api-version=2021-04-01", "", 200, ""},
		{"private workspace endpoint, well-formed", "GET", privWS, history, "", "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rd io.Reader
			if tt.body != "" {
				rd = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, tt.base+tt.path, rd)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.RawQuery = tt.query // sent as is: Go's client does not check it
			req.Header.Set("Authorization", "Bearer "+s.Token(t))
			if strings.HasPrefix(tt.body, "{") {
				req.Header.Set("Content-Type", "application/json")
			} else if tt.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, err := s.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s?%s = %d %s, want %d", tt.method, tt.path, tt.query, resp.StatusCode, b, tt.wantStatus)
			}
			if tt.wantCode == "" {
				return
			}
			var env struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(b, &env); err != nil || env.Error.Code != tt.wantCode || env.Error.Message == "" {
				t.Errorf("body %s, want an ARM error %s", b, tt.wantCode)
			}
		})
	}
	// The refused requests are recorded as such (the admin API's are not
	// recorded at all).
	f := waitFlow(t, s, "the refused ARM read", func(f netmodel.Flow) bool { return f.Method == "GET" && f.Path == wsID })
	if f.Status != 400 || f.ErrorCode != "InvalidRequestUri" {
		t.Errorf("flow of the refused ARM read: %d %s", f.Status, f.ErrorCode)
	}

	// A bad escape in the path: Go's HTTP/1.1 server answers 400 before
	// any handler (over HTTP/2 it resets the stream).
	for _, path := range []string{"/subscriptions/%zz", history + "/%zz", "/" + s.Conn.TenantID + "/oauth2/v2.0/%G0"} {
		u, _ := url.Parse(main)
		u.Opaque = "//" + u.Host + path // sent verbatim
		u.RawQuery = "api-version=2021-04-01"
		req := &http.Request{Method: "GET", URL: u, Host: u.Host, Header: http.Header{"Authorization": {"Bearer " + s.Token(t)}}}
		resp, err := s.Client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 1 || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s = %s %d %s, want 400", path, resp.Proto, resp.StatusCode, b)
		}
	}
}
