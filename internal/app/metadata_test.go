package app_test

import (
	"encoding/json"
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

	st, _, body = s.Do(t, "GET", "/metadata/endpoints?api-version=2022-09-01", "", noAuth)
	var clouds []struct {
		Name            string `json:"name"`
		ResourceManager string `json:"resourceManager"`
		Authentication  struct {
			LoginEndpoint string   `json:"loginEndpoint"`
			Audiences     []string `json:"audiences"`
			Tenant        string   `json:"tenant"`
		} `json:"authentication"`
	}
	if st != 200 || json.Unmarshal([]byte(body), &clouds) != nil || len(clouds) != 1 {
		t.Fatalf("array form: %d %s", st, body)
	}
	c := clouds[0]
	if c.ResourceManager != s.Conn.ARMEndpoint || c.Authentication.LoginEndpoint != s.Conn.LoginEndpoint ||
		c.Authentication.Tenant != s.Conn.TenantID || c.Authentication.Audiences[0] != s.Conn.Audience {
		t.Errorf("array form = %+v, connection %+v", c, s.Conn)
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
