package armhttp

import (
	"errors"
	"net/http"
	"syscall"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
)

// Metadata is what /metadata/endpoints advertises besides the ARM URL,
// which is taken from the request's host.
type Metadata struct {
	// Audiences accepted for ARM tokens; the first is what clients ask for.
	Audiences []string
	TenantID  string
	// LoginURL is the public URL of the token service (the main
	// listener's), without a trailing slash. A Resource Management private
	// endpoint's listener names it as the login endpoint: in Azure, Entra
	// ID stays public when ARM goes private, and the private listener
	// serves no tokens.
	LoginURL string
}

// metadata answers GET /metadata/endpoints without authentication, in the
// two forms clients use:
//
//   - api-version 2015-01-01 or 1.0 (and none): one object, as read by
//     `az cloud register --endpoint-resource-manager` (Azure CLI 2.45 via
//     msrestazure). Its loginEndpoint is the ADFS-style authority, the one
//     form of custom authority that CLI's MSAL accepts offline.
//   - 2019-05-01 up to 2022-09-01: an array of clouds (Azure's form at
//     those versions, read by ARM_CLOUD_METADATA_URL);
//   - 2022-09-01 and newer: the one cloud as an object, as
//     hashicorp/go-azure-sdk (Terraform's metadata_host) decodes it.
//
// Both name the Entra-style authority as loginEndpoint, with tenant
// "common" and identity provider "AAD" as Azure's public cloud does:
// go-azure-sdk takes any other tenant for Azure Stack, which azurerm
// refuses. Clients put the tenant id into the authority themselves.
func (s *server) metadata(w http.ResponseWriter, r *http.Request, _ []byte) (*engine.Response, error) {
	return s.metadataDocument(r, baseURL(r)), nil
}

// privateMetadata is metadata on a Resource Management private endpoint's
// listener: ARM at the listener, login at the public token service.
func (s *server) privateMetadata(w http.ResponseWriter, r *http.Request, _ []byte) (*engine.Response, error) {
	return s.metadataDocument(r, s.Metadata.LoginURL), nil
}

// metadataDocument is the metadata with ARM (and the services armlet
// stands in for) at the request's host and login at the login URL.
func (s *server) metadataDocument(r *http.Request, login string) *engine.Response {
	base := baseURL(r)
	// Parameter names are case-insensitive in ARM, as on every route.
	v := engine.QueryValue(r.URL.Query(), "api-version")
	if v == "" || v == "1.0" || v < "2019-05-01" {
		return engine.JSON(http.StatusOK, map[string]any{
			"galleryEndpoint": base + "/",
			"graphEndpoint":   base + "/",
			"portalEndpoint":  base + "/",
			"authentication": map[string]any{
				"loginEndpoint": login + "/adfs/",
				"audiences":     s.Metadata.Audiences,
				"tenant":        "adfs",
			},
		})
	}
	suffixes := map[string]any{
		"storage": "core.windows.net", "keyVaultDns": "vault.azure.net", "acrLoginServer": "azurecr.io",
		"sqlServerHostname": "database.windows.net", "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
		"azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net", "mhsmDns": "managedhsm.azure.net",
	}
	cloud := map[string]any{
		"name":                     "armlet",
		"portal":                   base + "/",
		"resourceManager":          base + "/",
		"gallery":                  base + "/",
		"graph":                    base + "/",
		"graphAudience":            base + "/",
		"microsoftGraphResourceId": base + "/",
		"activeDirectoryDataLake":  base + "/",
		"media":                    base + "/",
		"sqlManagement":            base + "/",
		"batch":                    base + "/",
		"vmImageAliasDoc":          base + "/",
		"authentication": map[string]any{
			"loginEndpoint":    login + "/",
			"audiences":        s.Metadata.Audiences,
			"tenant":           "common",
			"identityProvider": "AAD",
		},
		"suffixes": suffixes,
	}
	if v >= "2022-09-01" {
		return engine.JSON(http.StatusOK, cloud)
	}
	return engine.JSON(http.StatusOK, []any{cloud})
}

// isUnavailable reports whether err is the store refusing writes (a
// read-only or full disk, a closed store) rather than a fault of armlet's:
// a 503, not a 500. ENOSPC counts where a writer passed the file system's
// error on without kv.ErrReadOnly.
func isUnavailable(err error) bool {
	return errors.Is(err, kv.ErrReadOnly) || errors.Is(err, kv.ErrClosed) || errors.Is(err, syscall.ENOSPC)
}
