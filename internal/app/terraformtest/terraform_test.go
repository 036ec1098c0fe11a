package terraformtest_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/testtool"
)

// tofuBuild is how to get the two binaries TestTerraform drives.
const tofuBuild = "build them with `bash .ci/build-tofu` (about 15 minutes the first time) and export the two variables it prints"

// TestTerraform drives OpenTofu with the hashicorp/azurerm provider, both
// unmodified and built from the Go module proxy (.ci/build-tofu), against
// armlet through `metadata_host`, with armlet's HTTPS proxy for the key
// vault's data plane: testdata/terraform/workspace (a storage account with
// a blob container, a Log Analytics workspace and Application Insights on
// it, a key vault without public access, a workspace on them with a managed network and an FQDN
// outbound rule, a compute cluster, a blob datastore on the container, a
// virtual network and subnet, a private DNS zone with a link, and a private
// endpoint to the workspace and one to the key vault, each with a DNS
// zone group) applies, a second plan
// finds nothing to change (-detailed-exitcode 0), and it destroys.
func TestTerraform(t *testing.T) {
	t.Parallel()
	s, run := startTofu(t, "workspace")

	if out, code := run("apply", "-auto-approve", "-no-color"); code != 0 {
		t.Fatalf("tofu apply exited %d:\n%s", code, out)
	}
	wsID := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/tf-ml/providers/Microsoft.MachineLearningServices/workspaces/tf-ws"
	for path, want := range map[string]string{
		wsID + "?api-version=2025-06-01":                            `"isolationMode":"AllowOnlyApprovedOutbound"`,
		wsID + "/outboundRules/pypi?api-version=2025-06-01":         `"pypi.org"`,
		wsID + "/computes/cpu?api-version=2025-06-01":               `"maxNodeCount":2`,
		wsID + "/privateEndpointConnections?api-version=2025-06-01": `"Approved"`,
		wsID + "/datastores/trainingdata?api-version=2025-06-01":    `"training-data"`,
		"/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/tf-ml/providers/Microsoft.KeyVault/vaults/tfmlkv?api-version=2024-11-01":            `"privateEndpointConnections":[{`,
		"/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/tf-ml/providers/Microsoft.Storage/storageAccounts/tfmlstore?api-version=2023-05-01": `"https://tfmlstore.blob.core.windows.net/"`,
	} {
		if code, _, body := s.Do(t, "GET", path, "", nil); code != 200 || !strings.Contains(body, want) {
			t.Errorf("after apply, GET %s: %d %s, want %s", path, code, body, want)
		}
	}
	if out, code := run("plan", "-detailed-exitcode", "-no-color"); code != 0 {
		t.Errorf("a plan after apply exited %d (2 means changes: the read-back differs from the configuration):\n%s", code, out)
	}
	if out, code := run("destroy", "-auto-approve", "-no-color"); code != 0 {
		t.Fatalf("tofu destroy exited %d:\n%s", code, out)
	}
	if code, _, body := s.Do(t, "GET", "/subscriptions/"+s.Conn.SubscriptionID+"/resourceGroups/tf-ml?api-version=2021-04-01", "", nil); code != 404 {
		t.Errorf("after destroy the resource group answers %d %s", code, body)
	}
}

// startTofu starts armlet and returns it with a runner of OpenTofu (with
// azurerm from the local build) in a directory of its own holding
// testdata/terraform/{config}/main.tf, configured as a user would: armlet
// through `metadata_host` and its HTTPS proxy for the key vaults' data
// planes. The runner returns tofu's output and exit code.
func startTofu(t *testing.T, config string) (*e2e.Armlet, func(args ...string) (string, int)) {
	t.Helper()
	tofu := testtool.RequireFile(t, "ARMLET_TEST_TOFU", tofuBuild)
	providerDir := filepath.Dir(testtool.RequireFile(t, "ARMLET_TEST_AZURERM", tofuBuild))
	s := e2e.Start(t)

	work := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "terraform", config, "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "main.tf"), src, 0o600); err != nil {
		t.Fatal(err)
	}
	cliConfig := filepath.Join(work, "tofu.rc")
	rc := "provider_installation {\n  dev_overrides {\n    \"hashicorp/azurerm\" = \"" + providerDir + "\"\n  }\n  direct {}\n}\n"
	if err := os.WriteFile(cliConfig, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	arm, err := url.Parse(s.Conn.ARMEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + work, "TF_CLI_CONFIG_FILE=" + cliConfig,
		"TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1",
		"ARM_METADATA_HOSTNAME=" + arm.Host, "ARM_TENANT_ID=" + s.Conn.TenantID, "ARM_SUBSCRIPTION_ID=" + s.Conn.SubscriptionID,
		"ARM_CLIENT_ID=" + s.Conn.ClientID, "ARM_CLIENT_SECRET=" + s.Conn.ClientSecret, "SSL_CERT_FILE=" + s.Conn.CACertificate,
		"HTTPS_PROXY=" + s.Conn.HTTPSProxy,
	}
	// TF_LOG and TF_LOG_PATH pass through, for debugging a failure.
	for _, name := range []string{"TF_LOG", "TF_LOG_PATH"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return s, func(args ...string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, tofu, args...)
		cmd.Dir, cmd.Env = work, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("tofu %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String(), cmd.ProcessState.ExitCode()
	}
}

// TestTerraformKeyVaultSecret: azurerm_key_vault with public network
// access (azurerm waits for its data plane to answer, then reads its
// certificate contacts: 403 without a certificates permission) and
// azurerm_key_vault_secret in it, through armlet's HTTPS proxy
// (testdata/terraform/keyvault): apply, a plan that finds nothing to
// change, destroy (the secret deleted and purged, the vault deleted and
// purged). The secret's value reaches armlet and no flow record.
func TestTerraformKeyVaultSecret(t *testing.T) {
	t.Parallel()
	s, run := startTofu(t, "keyvault")
	if out, code := run("apply", "-auto-approve", "-no-color"); code != 0 {
		t.Fatalf("tofu apply exited %d:\n%s", code, out)
	}
	if out, code := run("plan", "-detailed-exitcode", "-no-color"); code != 0 {
		t.Errorf("a plan after apply exited %d (2 means changes):\n%s", code, out)
	}
	flows, raw := s.FlowRecords(t, "")
	ops := map[string]int{}
	for _, f := range flows {
		if f.Status < 300 {
			ops[f.Operation]++
		}
	}
	if ops["Microsoft.KeyVault/vaults/secrets/setSecret/action"] != 1 || ops["Microsoft.KeyVault/vaults/secrets/getSecret/action"] == 0 {
		t.Errorf("the secret's set and reads through the proxy: %v", ops)
	}
	if strings.Contains(raw, "s3cr3t-from-terraform") {
		t.Error("a flow record holds the secret's value")
	}
	if out, code := run("destroy", "-auto-approve", "-no-color"); code != 0 {
		t.Fatalf("tofu destroy exited %d:\n%s", code, out)
	}
	flows, _ = s.FlowRecords(t, "")
	purged := false
	for _, f := range flows {
		purged = purged || f.Operation == "Microsoft.KeyVault/vaults/secrets/purge/action" && f.Status == 204
	}
	if !purged {
		t.Error("azurerm's destroy did not purge the secret")
	}
	deleted := "/subscriptions/" + s.Conn.SubscriptionID + "/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/tfkvsecrets1?api-version=2024-11-01"
	if code, _, body := s.Do(t, "GET", deleted, "", nil); code != 404 {
		t.Errorf("after destroy the deleted vault answers %d %s; azurerm purges it", code, body)
	}
}
