package app_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/netmodel"
)

// publicCloudSecrets is azsecrets' client for vault as principal
// clientID/secret, with the built-in public cloud and nothing changed but
// the proxy and trust in armlet's CA: the client learns where to get its
// token from the vault's 401 challenge.
func publicCloudSecrets(t *testing.T, s *e2e.Armlet, vault, clientID, secret string) *azsecrets.Client {
	t.Helper()
	return secretsThrough(t, proxiedClient(t, s), s.Conn.TenantID, vault, clientID, secret)
}

// secretsThrough is publicCloudSecrets with transport (one through a
// virtual network's proxy: clientThrough) for the token service and the
// vault alike.
func secretsThrough(t *testing.T, transport policy.Transporter, tenantID, vault, clientID, secret string) *azsecrets.Client {
	t.Helper()
	opts := policy.ClientOptions{Cloud: cloud.AzurePublic, Transport: transport}
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	c, err := azsecrets.NewClient("https://"+vault+".vault.azure.net", cred, &azsecrets.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// responseCode is the status and Key Vault error code of err ("" and 0
// for no response error).
func responseCode(err error) (int, string) {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode, re.ErrorCode
	}
	return 0, ""
}

// TestKeyVaultSecretsGoSDKThroughProxy: azsecrets (1.5.1, api-version
// 2026-04-01) through armlet's HTTPS proxy with the public cloud, against a
// vault with Azure RBAC and one with access policies. In each a principal
// with the permissions (Key Vault Secrets Officer; an access policy with
// every secret permission) sets a secret twice (two versions), reads the
// latest and the first, lists 30 secrets across two pages and the
// versions, disables the first version (whose value then reads 403
// Forbidden, innererror SecretDisabled), deletes the secret (soft delete: 404 to a get, listed
// as deleted, its name refused to a set with 409), recovers it, deletes and
// purges it. A reader (Key Vault Secrets User; a get/list policy) reads
// but cannot set; a principal with nothing, and on the RBAC vault the
// bootstrap principal, Owner at the root (whose actions grant no data
// action), are refused with Key Vault's 403 (Forbidden, innererror ForbiddenByRbac or
// AccessDenied). No flow record holds a secret
// value.
func TestKeyVaultSecretsGoSDKThroughProxy(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	rg := s.CreateGroup(t, "kvsecrets")
	writer, _ := s.NewPrincipal(t, "kvwriter")
	reader, _ := s.NewPrincipal(t, "kvreader")
	stranger, _ := s.NewPrincipal(t, "kvstranger")
	policyFor := func(oid string, perms ...string) string {
		return `{"tenantId":"` + s.Conn.TenantID + `","objectId":"` + oid + `","permissions":{"secrets":["` + strings.Join(perms, `","`) + `"]}}`
	}
	vaults := []struct{ name, props, forbidden string }{
		{"kvsecrbac1", `"enableRbacAuthorization":true`, "ForbiddenByRbac"},
		{"kvsecpolicy1", `"enableRbacAuthorization":false,"accessPolicies":[` +
			policyFor(writer.ObjectID, "get", "list", "set", "delete", "recover", "purge") + `,` + policyFor(reader.ObjectID, "get", "list") + `]`, "AccessDenied"},
	}
	for _, v := range vaults {
		id := rg + "/providers/Microsoft.KeyVault/vaults/" + v.name
		body := `{"location":"eastus","properties":{"tenantId":"` + s.Conn.TenantID + `","sku":{"family":"A","name":"standard"},"softDeleteRetentionInDays":7,` + v.props + `}}`
		if code, _, b := s.Do(t, "PUT", id+"?api-version=2024-11-01", body, nil); code >= 300 {
			t.Fatalf("PUT vault %s: %d %s", v.name, code, b)
		}
		if strings.Contains(v.props, "Rbac") {
			s.Assign(t, id, "Key Vault Secrets Officer", writer.ObjectID)
			s.Assign(t, id, "Key Vault Secrets User", reader.ObjectID)
		}
	}
	const value1, value2 = "s3cr3t-value-one", "s3cr3t-value-two"
	for _, v := range vaults {
		t.Run(v.name, func(t *testing.T) {
			ctx := t.Context()
			w := publicCloudSecrets(t, s, v.name, writer.ClientID, writer.ClientSecret)
			first, err := w.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{
				Value: to.Ptr(value1), ContentType: to.Ptr("text/plain"), Tags: map[string]*string{"env": to.Ptr("test")},
			}, nil)
			if err != nil {
				t.Fatalf("set secret: %v", err)
			}
			prefix := "https://" + v.name + ".vault.azure.net/secrets/db-password/"
			if first.ID == nil || !strings.HasPrefix(string(*first.ID), prefix) || first.ID.Version() == "" || *first.Value != value1 ||
				*first.Attributes.RecoveryLevel != "CustomizedRecoverable+Purgeable" || *first.Attributes.RecoverableDays != 7 || *first.Tags["env"] != "test" {
				t.Fatalf("set secret answered %+v %+v", first.Secret, first.Attributes)
			}
			second, err := w.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr(value2)}, nil)
			if err != nil || second.ID.Version() == first.ID.Version() {
				t.Fatalf("set secret again: %v %v", err, second.ID)
			}
			if got, err := w.GetSecret(ctx, "db-password", "", nil); err != nil || *got.Value != value2 {
				t.Fatalf("get the latest: %v %+v", err, got.Secret)
			}
			if got, err := w.GetSecret(ctx, "db-password", first.ID.Version(), nil); err != nil || *got.Value != value1 {
				t.Fatalf("get the first version: %v %+v", err, got.Secret)
			}
			for i := range 29 {
				if _, err := w.SetSecret(ctx, fmt.Sprintf("bulk-%02d", i), azsecrets.SetSecretParameters{Value: to.Ptr("x")}, nil); err != nil {
					t.Fatal(err)
				}
			}
			names, pages := map[string]bool{}, 0
			for pager := w.NewListSecretPropertiesPager(nil); pager.More(); {
				page, err := pager.NextPage(ctx)
				if err != nil {
					t.Fatalf("list secrets: %v", err)
				}
				pages++
				for _, p := range page.Value {
					names[p.ID.Name()] = true
				}
			}
			if len(names) != 30 || !names["db-password"] || pages != 2 {
				t.Errorf("listed %d secrets in %d pages, want 30 in 2", len(names), pages)
			}
			versions := 0
			for pager := w.NewListSecretPropertiesVersionsPager("db-password", nil); pager.More(); {
				page, err := pager.NextPage(ctx)
				if err != nil {
					t.Fatalf("list versions: %v", err)
				}
				versions += len(page.Value)
			}
			if versions != 2 {
				t.Errorf("%d versions, want 2", versions)
			}
			if _, err := w.UpdateSecretProperties(ctx, "db-password", first.ID.Version(), azsecrets.UpdateSecretPropertiesParameters{
				SecretAttributes: &azsecrets.SecretAttributes{Enabled: to.Ptr(false)},
			}, nil); err != nil {
				t.Fatalf("disable the first version: %v", err)
			}
			if _, err := w.GetSecret(ctx, "db-password", first.ID.Version(), nil); !forbiddenBy(err, "SecretDisabled") {
				t.Errorf("get a disabled version: %v", err)
			}

			r := publicCloudSecrets(t, s, v.name, reader.ClientID, reader.ClientSecret)
			if got, err := r.GetSecret(ctx, "db-password", "", nil); err != nil || *got.Value != value2 {
				t.Errorf("the reader's get: %v", err)
			}
			if _, err := r.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr("no")}, nil); !forbiddenBy(err, v.forbidden) {
				t.Errorf("the reader's set: %v, want 403 %s", err, v.forbidden)
			}
			nobody := publicCloudSecrets(t, s, v.name, stranger.ClientID, stranger.ClientSecret)
			if _, err := nobody.GetSecret(ctx, "db-password", "", nil); !forbiddenBy(err, v.forbidden) {
				t.Errorf("a principal without permission: %v, want 403 %s", err, v.forbidden)
			}
			if v.forbidden == "ForbiddenByRbac" {
				owner := publicCloudSecrets(t, s, v.name, s.Conn.ClientID, s.Conn.ClientSecret)
				if _, err := owner.GetSecret(ctx, "db-password", "", nil); !forbiddenBy(err, v.forbidden) {
					t.Errorf("Owner at the root on an RBAC vault: %v, want 403 %s", err, v.forbidden)
				}
			}

			deleted, err := w.DeleteSecret(ctx, "db-password", nil)
			if err != nil || deleted.RecoveryID == nil || *deleted.RecoveryID != "https://"+v.name+".vault.azure.net/deletedsecrets/db-password" ||
				deleted.DeletedDate == nil || deleted.ScheduledPurgeDate == nil || deleted.Value != nil {
				t.Fatalf("delete: %v %+v", err, deleted)
			}
			if _, err := w.GetSecret(ctx, "db-password", "", nil); !sameCode(err, http.StatusNotFound, "SecretNotFound") {
				t.Errorf("get a deleted secret: %v", err)
			}
			if _, err := w.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr("again")}, nil); !sameCode(err, http.StatusConflict, "Conflict") {
				t.Errorf("set a deleted secret's name: %v", err)
			}
			found := false
			for pager := w.NewListDeletedSecretPropertiesPager(nil); pager.More(); {
				page, err := pager.NextPage(ctx)
				if err != nil {
					t.Fatalf("list deleted: %v", err)
				}
				for _, p := range page.Value {
					found = found || p.ID.Name() == "db-password"
				}
			}
			if !found {
				t.Error("the deleted secret is not listed as deleted")
			}
			if _, err := w.RecoverDeletedSecret(ctx, "db-password", nil); err != nil {
				t.Fatalf("recover: %v", err)
			}
			if got, err := w.GetSecret(ctx, "db-password", "", nil); err != nil || *got.Value != value2 {
				t.Fatalf("get after recover: %v", err)
			}
			if _, err := w.DeleteSecret(ctx, "db-password", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := w.PurgeDeletedSecret(ctx, "db-password", nil); err != nil {
				t.Fatalf("purge: %v", err)
			}
			if _, err := w.GetDeletedSecret(ctx, "db-password", nil); !sameCode(err, http.StatusNotFound, "SecretNotFound") {
				t.Errorf("get a purged secret: %v", err)
			}
			if _, err := w.SetSecret(ctx, "db-password", azsecrets.SetSecretParameters{Value: to.Ptr(value1)}, nil); err != nil {
				t.Errorf("set a purged secret's name: %v", err)
			}
		})
	}

	flows, raw := s.FlowRecords(t, "")
	var secretOps int
	redacted := false
	for _, f := range flows {
		if f.Class == netmodel.KeyVaultPublic && strings.HasPrefix(f.Operation, "Microsoft.KeyVault/vaults/secrets/") {
			secretOps++
		}
		if f.Operation == "Microsoft.KeyVault/vaults/secrets/setSecret/action" {
			for _, p := range f.Metadata.Body {
				redacted = redacted || p.Name == "value" && p.Value == netmodel.Redacted
			}
		}
	}
	if !redacted {
		t.Error("no Set Secret flow record shows its value redacted")
	}
	if secretOps < 100 {
		t.Errorf("%d keyvault-public flow records of secret operations", secretOps)
	}
	for _, secret := range []string{value1, value2} {
		if strings.Contains(raw, secret) {
			t.Errorf("a flow record holds the secret value %q", secret)
		}
	}
}

// sameCode reports whether err is a response error with status and code.
func sameCode(err error, status int, code string) bool {
	s, c := responseCode(err)
	return s == status && c == code
}

// forbiddenBy reports whether err is Key Vault's 403: code Forbidden,
// with inner as its innererror's code.
func forbiddenBy(err error, inner string) bool {
	msg := err.Error() // azcore shows the body, indented
	_, after, ok := strings.Cut(msg, `"innererror"`)
	return sameCode(err, http.StatusForbidden, "Forbidden") && ok && strings.Contains(after, `"`+inner+`"`)
}
