package app_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/netmodel"
)

// TestAzureCLIStorageThroughProxy: the Azure CLI's storage commands with
// its built-in AzureCloud and nothing but armlet's HTTPS proxy (the setup
// of TestAzureCLIPublicCloudThroughProxy). az storage account create and
// keys list at management.azure.com; then at
// https://{account}.blob.core.windows.net a container created, a blob
// uploaded, downloaded (the same bytes) and listed three ways: with
// --account-key, with SAS tokens the CLI signs itself (container and blob
// generate-sas, then --sas-token), and with --auth-mode login, which is
// refused (exit status 1, the CLI's words for 403
// AuthorizationPermissionMismatch: an Owner of the subscription holds no
// data actions) until az role assignment
// create gives the caller Storage Blob Data Contributor on the account
// (or its requests through az rest, where Debian's package breaks `az
// role`: azRoleAssign). Then, with --auth-mode key and no key (the CLI
// lists the keys through ARM), blob show, exists, delete, container
// show, list and delete.
// Every request of the CLI's reached armlet through the proxy: ARM's as
// arm-public, the blob data plane's as storage-public, each with the
// account as its resource.
func TestAzureCLIStorageThroughProxy(t *testing.T) {
	t.Parallel()
	const rg, account = "cli-storage-rg", "clistore1"
	s, az := azureCLIInGroup(t, rg)
	created := az.JSON("storage", "account", "create", "-n", account, "-g", rg, "-l", "eastus", "--sku", "Standard_LRS", "--kind", "StorageV2")
	if created["name"] != account || created["provisioningState"] != "Succeeded" {
		t.Fatalf("az storage account create = %v", created)
	}
	accountID, _ := created["id"].(string)
	key := strings.TrimSpace(az.Run("storage", "account", "keys", "list", "-n", account, "-g", rg, "--query", "[0].value", "-o", "tsv"))
	if key == "" {
		t.Fatal("az storage account keys list gave no key")
	}
	withKey := []string{"--account-name", account, "--account-key", key}

	dir := t.TempDir()
	payload := make([]byte, 300<<10)
	rand.Read(payload)
	src := filepath.Join(dir, "payload.bin")
	if err := os.WriteFile(src, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	// roundTrip uploads src as blob name with the credentials given,
	// downloads it and compares, and lists the container: the names it
	// holds.
	roundTrip := func(how, name string, creds ...string) []string {
		t.Helper()
		az.Run(append([]string{"storage", "blob", "upload", "-c", "data", "-n", name, "-f", src, "--overwrite", "-o", "none"}, creds...)...)
		dst := filepath.Join(dir, how+".out")
		az.Run(append([]string{"storage", "blob", "download", "-c", "data", "-n", name, "-f", dst, "-o", "none"}, creds...)...)
		if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, payload) {
			t.Errorf("%s: the blob downloaded is not the blob uploaded (%d bytes of %d, %v)", how, len(got), len(payload), err)
		}
		return blobNames(t, az.Run(append([]string{"storage", "blob", "list", "-c", "data", "-o", "json"}, creds...)...))
	}

	if got := az.JSON(append([]string{"storage", "container", "create", "-n", "data"}, withKey...)...); got["created"] != true {
		t.Fatalf("az storage container create = %v", got)
	}
	if names := roundTrip("key", "dir/by-key.bin", withKey...); strings.Join(names, ",") != "dir/by-key.bin" {
		t.Errorf("az storage blob list with the key = %v", names)
	}

	expiry := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04Z")
	containerSAS := strings.TrimSpace(az.Run(append([]string{"storage", "container", "generate-sas", "-n", "data",
		"--permissions", "rwl", "--expiry", expiry, "-o", "tsv"}, withKey...)...))
	bySAS := []string{"--account-name", account, "--sas-token", containerSAS}
	if names := roundTrip("container-sas", "by-sas.bin", bySAS...); strings.Join(names, ",") != "by-sas.bin,dir/by-key.bin" {
		t.Errorf("az storage blob list with a container SAS = %v", names)
	}
	blobSAS := strings.TrimSpace(az.Run(append([]string{"storage", "blob", "generate-sas", "-c", "data", "-n", "dir/by-key.bin",
		"--permissions", "r", "--expiry", expiry, "-o", "tsv"}, withKey...)...))
	dst := filepath.Join(dir, "blob-sas.out")
	az.Run("storage", "blob", "download", "-c", "data", "-n", "dir/by-key.bin", "-f", dst, "--account-name", account, "--sas-token", blobSAS, "-o", "none")
	if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, payload) {
		t.Errorf("download with a blob SAS: %d bytes of %d, %v", len(got), len(payload), err)
	}
	// A blob SAS for reading writes nothing.
	if _, stderr, err := az.Try("storage", "blob", "upload", "-c", "data", "-n", "dir/by-key.bin", "-f", src, "--overwrite",
		"--account-name", account, "--sas-token", blobSAS, "-o", "none"); err == nil || !strings.Contains(stderr, cliPermissionDenied) {
		t.Errorf("upload with a read-only blob SAS: %v\n%s", err, stderr)
	}

	byLogin := []string{"--account-name", account, "--auth-mode", "login"}
	_, stderr, err := az.Try(append([]string{"storage", "blob", "list", "-c", "data", "-o", "json"}, byLogin...)...)
	if err == nil || !strings.Contains(stderr, cliPermissionDenied) {
		t.Fatalf("az storage blob list --auth-mode login without a data role: %v, want exit status 1 and %q\n%s", err, cliPermissionDenied, stderr)
	}
	if code := exitCode(err); code != 1 {
		t.Errorf("az storage blob list --auth-mode login without a data role: exit status %d, want 1", code)
	}
	if a, _ := azRoleAssign(t, az, "https://management.azure.com", accountID, "Storage Blob Data Contributor", s.Conn.ObjectID); !strings.EqualFold(fmt.Sprint(a["scope"]), accountID) {
		t.Fatalf("az role assignment create = %v", a)
	}
	if names := roundTrip("login", "by-login.bin", byLogin...); strings.Join(names, ",") != "by-login.bin,by-sas.bin,dir/by-key.bin" {
		t.Errorf("az storage blob list --auth-mode login = %v", names)
	}

	// The rest of a container's and a blob's life, with --auth-mode key
	// and no key: the CLI lists the account's keys through ARM itself.
	byKeyMode := []string{"--account-name", account, "--auth-mode", "key"}
	if got := az.JSON(append([]string{"storage", "blob", "show", "-c", "data", "-n", "dir/by-key.bin"}, byKeyMode...)...); walkProps(got, "contentLength") != float64(len(payload)) {
		t.Errorf("az storage blob show: contentLength %v, want %d", walkProps(got, "contentLength"), len(payload))
	}
	if got := az.JSON(append([]string{"storage", "blob", "exists", "-c", "data", "-n", "by-sas.bin"}, byKeyMode...)...); got["exists"] != true {
		t.Errorf("az storage blob exists = %v", got)
	}
	az.Run(append([]string{"storage", "blob", "delete", "-c", "data", "-n", "by-sas.bin", "-o", "none"}, byKeyMode...)...)
	if got := az.JSON(append([]string{"storage", "blob", "exists", "-c", "data", "-n", "by-sas.bin"}, byKeyMode...)...); got["exists"] != false {
		t.Errorf("az storage blob exists after its delete = %v", got)
	}
	if got := az.JSON(append([]string{"storage", "container", "show", "-n", "data"}, byKeyMode...)...); got["name"] != "data" {
		t.Errorf("az storage container show = %v", got)
	}
	if out := az.Run(append([]string{"storage", "container", "list", "--query", "[].name", "-o", "tsv"}, byKeyMode...)...); strings.TrimSpace(out) != "data" {
		t.Errorf("az storage container list = %q", out)
	}
	if got := az.JSON(append([]string{"storage", "container", "delete", "-n", "data"}, byKeyMode...)...); got["deleted"] != true {
		t.Errorf("az storage container delete = %v", got)
	}

	proxy := strings.TrimPrefix(s.Conn.HTTPSProxy, "http://")
	flows, _ := s.FlowRecords(t, "")
	ops, refusedOAuth := map[string]int{}, 0
	for _, f := range flows {
		if !strings.EqualFold(f.ResourceID, accountID) || f.Listener != proxy {
			continue
		}
		want := netmodel.ARMPublic
		if strings.HasPrefix(f.Operation, "Microsoft.Storage/storageAccounts/blobServices/") {
			want = netmodel.StoragePublic
		}
		if f.Class != want {
			t.Errorf("%s %s (%s): class %s, want %s", f.Method, f.Path, f.Operation, f.Class, want)
		}
		if f.Status < 300 {
			ops[f.Operation]++
		}
		if f.Status == http.StatusForbidden && f.ErrorCode == "AuthorizationPermissionMismatch" && f.CallerObjectID == s.Conn.ObjectID {
			refusedOAuth++
		}
	}
	if refusedOAuth == 0 {
		t.Error("no flow record of the login's list refused 403 AuthorizationPermissionMismatch")
	}
	for _, op := range []string{"write", "listKeys/action", "blobServices/containers/write", "blobServices/containers/blobs/write", "blobServices/containers/blobs/read"} {
		if ops["Microsoft.Storage/storageAccounts/"+op] == 0 {
			t.Errorf("no successful flow record of %s through the proxy: %v", op, ops)
		}
	}
}

// cliPermissionDenied is what the Azure CLI prints for Storage's 403
// AuthorizationPermissionMismatch (in place of the code).
const cliPermissionDenied = "You do not have the required permissions needed to perform this operation."

// blobNames are the names of az storage blob list's JSON output.
func blobNames(t *testing.T, out string) []string {
	t.Helper()
	var list []struct{ Name string }
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("az storage blob list: %v\n%s", err, out)
	}
	names := make([]string, 0, len(list))
	for _, b := range list {
		names = append(names, b.Name)
	}
	return names
}

// exitCode is the exit status of a command's error (0 for none, -1 when
// it did not exit).
func exitCode(err error) int {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	return -1
}
