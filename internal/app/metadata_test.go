package app_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/e2e"
)

// TestMetadataEndpoints checks both forms of /metadata/endpoints, without
// authentication: the 2015-01-01 object the Azure CLI's cloud register reads
// (ADFS-style login) and the array form of Terraform and ARM_CLOUD_METADATA_URL.
func TestMetadataEndpoints(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	noAuth := map[string]string{"Authorization": ""}

	st, _, body := s.Do(t, "GET", "/metadata/endpoints?api-version=2015-01-01", "", noAuth)
	var single struct {
		Authentication struct {
			LoginEndpoint string   `json:"loginEndpoint"`
			Audiences     []string `json:"audiences"`
		} `json:"authentication"`
	}
	if st != 200 || json.Unmarshal([]byte(body), &single) != nil {
		t.Fatalf("2015-01-01 form: %d %s", st, body)
	}
	if !strings.HasSuffix(strings.TrimSuffix(single.Authentication.LoginEndpoint, "/"), "/adfs") || single.Authentication.Audiences[0] != s.Conn.Audience {
		t.Errorf("2015-01-01 form = %+v", single)
	}

	// 2019-05-01 is an array of clouds, 2022-09-01 one cloud (what
	// hashicorp/go-azure-sdk decodes); both name tenant "common" and
	// identity provider AAD, without which go-azure-sdk takes the cloud
	// for Azure Stack.
	type cloud struct {
		Name            string `json:"name"`
		ResourceManager string `json:"resourceManager"`
		GraphResourceID string `json:"microsoftGraphResourceId"`
		Authentication  struct {
			LoginEndpoint    string   `json:"loginEndpoint"`
			Audiences        []string `json:"audiences"`
			Tenant           string   `json:"tenant"`
			IdentityProvider string   `json:"identityProvider"`
		} `json:"authentication"`
	}
	check := func(form string, c cloud) {
		t.Helper()
		if c.Name == "" || c.ResourceManager != s.Conn.ARMEndpoint || c.GraphResourceID == "" || c.Authentication.LoginEndpoint != s.Conn.LoginEndpoint ||
			c.Authentication.Tenant != "common" || c.Authentication.IdentityProvider != "AAD" || c.Authentication.Audiences[0] != s.Conn.Audience {
			t.Errorf("%s = %+v, connection %+v", form, c, s.Conn)
		}
	}
	st, _, body = s.Do(t, "GET", "/metadata/endpoints?api-version=2019-05-01", "", noAuth)
	var clouds []cloud
	if st != 200 || json.Unmarshal([]byte(body), &clouds) != nil || len(clouds) != 1 {
		t.Fatalf("array form: %d %s", st, body)
	}
	check("2019-05-01 (array)", clouds[0])
	st, _, body = s.Do(t, "GET", "/metadata/endpoints?api-version=2022-09-01", "", noAuth)
	var one cloud
	if st != 200 || json.Unmarshal([]byte(body), &one) != nil {
		t.Fatalf("object form: %d %s", st, body)
	}
	check("2022-09-01 (object)", one)
	// Query parameter names are case-insensitive in ARM, here too.
	st, _, body = s.Do(t, "GET", "/metadata/endpoints?API-Version=2022-09-01", "", noAuth)
	one = cloud{}
	if st != 200 || json.Unmarshal([]byte(body), &one) != nil {
		t.Fatalf("object form asked with API-Version: %d %s", st, body)
	}
	check("2022-09-01 (object, API-Version)", one)

	// go-azure-sdk joins that login endpoint and "/{tenant}/oauth2/v2.0/token"
	// into a path with two leading slashes, which the token service serves.
	form := "grant_type=client_credentials&client_id=" + s.Conn.ClientID + "&client_secret=" + url.QueryEscape(s.Conn.ClientSecret) +
		"&scope=" + url.QueryEscape(s.Conn.ARMEndpoint+".default")
	st, _, body = s.Do(t, "POST", "//"+s.Conn.TenantID+"/oauth2/v2.0/token", form,
		map[string]string{"Authorization": "", "Content-Type": "application/x-www-form-urlencoded"})
	if st != 200 || !strings.Contains(body, `"access_token"`) {
		t.Errorf("token request at //{tenant}/oauth2/v2.0/token: %d %s", st, body)
	}

	// HEAD on a resource group answers 204 / 404 like ARM.
	if st, _, _ := s.Do(t, "PUT", "/subscriptions/"+s.Conn.SubscriptionID+"/resourceGroups/h?api-version=2021-04-01", `{"location":"eastus"}`, nil); st != 201 {
		t.Fatalf("create group: %d", st)
	}
	if st, _, _ := s.Do(t, "HEAD", "/subscriptions/"+s.Conn.SubscriptionID+"/resourceGroups/h?api-version=2021-04-01", "", nil); st != 204 {
		t.Errorf("HEAD existing group = %d, want 204", st)
	}
	if st, _, _ := s.Do(t, "HEAD", "/subscriptions/"+s.Conn.SubscriptionID+"/resourceGroups/nope?api-version=2021-04-01", "", nil); st != 404 {
		t.Errorf("HEAD missing group = %d, want 404", st)
	}
}
