package identity

// Tests with real, unmodified Azure clients: azidentity (MSAL Go) logging in
// against the token service over TLS, and an azcore ARM client sending the
// resulting token to a handler that calls Authenticate.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/kv"
)

const armScope = "https://management.core.windows.net//.default"

// credential returns an azidentity ClientSecretCredential pointed at srv.
func credential(t *testing.T, srvURL string, client *http.Client, tenant, clientID, secret string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenant, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: srvURL + "/"},
			Transport: client,
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func TestRealClientAzidentityEntra(t *testing.T) {
	f, srv := serve(t, true)
	ctx := context.Background()
	cred := credential(t, srv.URL, srv.Client(), testTenant, f.app.ClientID, f.app.ClientSecret)
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{armScope}})
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	c, aerr := f.svc.Authenticate(ctx, "Bearer "+tok.Token)
	if aerr != nil {
		t.Fatalf("Authenticate: %v", aerr)
	}
	checkCaller(t, f, c)
	if c.Claims["aud"] != "https://management.core.windows.net/" {
		t.Errorf("aud = %v", c.Claims["aud"])
	}
	// MSAL caches by expires_in: about an hour of wall time.
	if d := time.Until(tok.ExpiresOn); d < 55*time.Minute || d > 61*time.Minute {
		t.Errorf("ExpiresOn is %v away", d)
	}
	want := []string{"GET /" + testTenant + "/v2.0/.well-known/openid-configuration", "POST /" + testTenant + "/oauth2/v2.0/token"}
	if got := f.requests.all(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("requests = %q, want %q", got, want)
	}
}

func TestRealClientAzidentityADFS(t *testing.T) {
	f, srv := serve(t, true)
	ctx := context.Background()
	// MSAL Go treats tenant "adfs" as the ADFS authority {host}/adfs and reads
	// /adfs/.well-known/openid-configuration.
	cred := credential(t, srv.URL, srv.Client(), "adfs", f.app.ClientID, f.app.ClientSecret)
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{armScope}})
	if err != nil {
		t.Fatalf("GetToken via ADFS: %v", err)
	}
	c, aerr := f.svc.Authenticate(ctx, "Bearer "+tok.Token)
	if aerr != nil {
		t.Fatalf("Authenticate: %v", aerr)
	}
	checkCaller(t, f, c)
	if c.Claims["tid"] != testTenant {
		t.Errorf("ADFS token tid = %v, want the configured tenant", c.Claims["tid"])
	}
	want := []string{"GET /adfs/.well-known/openid-configuration", "POST /adfs/oauth2/token"}
	if got := f.requests.all(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("requests = %q, want %q", got, want)
	}
}

func TestRealClientAzidentityWrongSecret(t *testing.T) {
	f, srv := serve(t, true)
	for _, tenant := range []string{testTenant, "adfs"} {
		cred := credential(t, srv.URL, srv.Client(), tenant, f.app.ClientID, "not-the-secret")
		_, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{armScope}})
		if err == nil {
			t.Fatalf("%s: GetToken with a wrong secret succeeded", tenant)
		}
		var afe *azidentity.AuthenticationFailedError
		if !errors.As(err, &afe) || !strings.Contains(err.Error(), "AADSTS7000215") {
			t.Errorf("%s: error = %v, want an AuthenticationFailedError mentioning AADSTS7000215", tenant, err)
		}
	}
	// An unknown client gets AADSTS700016.
	cred := credential(t, srv.URL, srv.Client(), testTenant, newGUID(), "x")
	_, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{armScope}})
	if err == nil || !strings.Contains(err.Error(), "AADSTS700016") {
		t.Errorf("unknown client: %v", err)
	}
}

// writeARMError writes an arm.Error the way the ARM layer will.
func writeARMError(w http.ResponseWriter, status int, code, msg string, h http.Header) {
	for k, v := range h {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// armStub authenticates every request and answers a resource group GET.
func armStub(f *fixture) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, aerr := f.svc.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if aerr != nil {
			writeARMError(w, aerr.Status, aerr.Code, aerr.Message, aerr.Header)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id":       r.URL.Path,
			"name":     c.ObjectID, // lets the test see who called
			"location": "westeurope",
			"type":     "Microsoft.Resources/resourceGroups",
		})
	}
}

// An unmodified ARM SDK client (armresources) gets its token from the token
// service through azidentity and is authenticated; with the armlet clock
// ahead of the wall clock the token is still valid.
func TestRealClientARMSDK(t *testing.T) {
	f, srv := serveWith(t, true, armStub)
	ctx := context.Background()

	cfg := func(audience string) *arm.ClientOptions {
		return &arm.ClientOptions{ClientOptions: azcore.ClientOptions{
			Cloud: cloud.Configuration{
				ActiveDirectoryAuthorityHost: srv.URL + "/",
				Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
					cloud.ResourceManager: {Audience: audience, Endpoint: srv.URL},
				},
			},
			Transport: srv.Client(),
		}}
	}
	cred := credential(t, srv.URL, srv.Client(), testTenant, f.app.ClientID, f.app.ClientSecret)
	rgs, err := armresources.NewResourceGroupsClient("00000000-0000-0000-0000-000000000001", cred, cfg("https://management.core.windows.net/"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rgs.Get(ctx, "rg1", nil)
	if err != nil {
		t.Fatalf("resource group GET: %v", err)
	}
	if resp.Name == nil || *resp.Name != f.app.ObjectID {
		t.Errorf("caller seen by ARM = %v, want %s", resp.Name, f.app.ObjectID)
	}

	// A client configured with an audience armlet does not serve gets no
	// token: the token service answers Entra's AADSTS500011, and the
	// request never reaches ARM.
	wrong, err := armresources.NewResourceGroupsClient("00000000-0000-0000-0000-000000000001", cred, cfg("https://storage.azure.com/"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Get(ctx, "rg1", nil)
	var af *azidentity.AuthenticationFailedError
	if !errors.As(err, &af) || af.RawResponse == nil || af.RawResponse.StatusCode != 400 || !strings.Contains(err.Error(), "AADSTS500011") {
		t.Errorf("wrong audience: %v", err)
	}
}

// With Options.Clock 3 hours ahead of the wall clock, tokens are issued
// and checked on that clock, so a fresh token from a real client works.
func TestRealClientClockAhead(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	clk := clock.NewOffset(3 * time.Hour)
	svc, err := New(context.Background(), Options{Store: kv.SpaceIdentity.Of(newSeededStore(t, 0)), Clock: clk, BaseURL: srv.URL, TenantID: testTenant})
	if err != nil {
		t.Fatal(err)
	}
	svc.Routes(mux)
	app, err := svc.CreatePrincipal(context.Background(), "clock")
	if err != nil {
		t.Fatal(err)
	}
	cred := credential(t, srv.URL, srv.Client(), testTenant, app.ClientID, app.ClientSecret)
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{armScope}})
	if err != nil {
		t.Fatal(err)
	}
	c, aerr := svc.Authenticate(context.Background(), "Bearer "+tok.Token)
	if aerr != nil {
		t.Fatal(aerr)
	}
	if d := c.ExpiresAt.Sub(time.Now()); d < 3*time.Hour+55*time.Minute {
		t.Errorf("exp is only %v ahead of the wall clock", d)
	}
	if _, err := clk.Advance(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, aerr := svc.Authenticate(context.Background(), "Bearer "+tok.Token); aerr == nil || aerr.Code != "ExpiredAuthenticationToken" {
		t.Errorf("after advancing the clock: %v", aerr)
	}
}
