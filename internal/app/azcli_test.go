package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// TestAzureCLI drives armlet with the Debian azure-cli package (2.45): cloud
// registration from the metadata endpoint, service principal login through
// the ADFS-style authority, resource groups, workspaces created at an old
// and a new api-version (v1LegacyMode true and false), and the Azure docs'
// own PATCH of v1LegacyMode with its propagation delay.
func TestAzureCLI(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) {
		c.LegacyModePropagation = config.DurationRange{Min: 30 * time.Minute, Max: 60 * time.Minute}
	}))
	az := s.AzureCLI(t)
	login := az.Login()
	if !strings.Contains(login, s.Conn.SubscriptionID) {
		t.Fatalf("az login did not list the default subscription:\n%s", login)
	}

	rg := az.JSON("group", "create", "-n", "cli-rg", "-l", "eastus", "--tags", "owner=cli")
	if rg["name"] != "cli-rg" || rg["location"] != "eastus" {
		t.Fatalf("az group create = %v", rg)
	}
	base := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/cli-rg/providers/Microsoft.MachineLearningServices/workspaces/"

	// L2: created with an api-version older than 2022-05-01 -> true.
	old := az.JSON("resource", "create", "--id", base+"old-ws", "--api-version", "2021-07-01", "-l", "eastus",
		"-p", `{"friendlyName":"created at 2021-07-01"}`)
	if props := old["properties"].(map[string]any); props["v1LegacyMode"] != nil {
		t.Errorf("at 2021-07-01 the response must omit v1LegacyMode, got %v", props["v1LegacyMode"])
	}
	// L1: created with 2024-04-01 -> false.
	az.JSON("resource", "create", "--id", base+"new-ws", "--api-version", "2024-04-01", "-l", "eastus", "-p", `{}`)

	url := s.Conn.ARMEndpoint + strings.TrimPrefix(base, "/")
	legacy := func(name, version string) any {
		v := az.JSON("rest", "--method", "get", "--url", url+name+"?api-version="+version)
		return v["properties"].(map[string]any)["v1LegacyMode"]
	}
	if got := legacy("old-ws", "2024-04-01"); got != true {
		t.Errorf("old-ws v1LegacyMode = %v, want true", got)
	}
	if got := legacy("new-ws", "2024-04-01"); got != false {
		t.Errorf("new-ws v1LegacyMode = %v, want false", got)
	}

	// The Azure docs' step: PATCH v1LegacyMode to false, then GET.
	az.Run("rest", "--method", "patch", "--url", url+"old-ws?api-version=2025-04-01", "--body", `{"properties":{"v1LegacyMode":false}}`)
	if got := legacy("old-ws", "2025-04-01"); got != false {
		t.Errorf("after PATCH, GET shows v1LegacyMode = %v, want false at once (L4)", got)
	}
	state := adminState(t, s, base+"old-ws")
	if state["effectiveV1LegacyMode"] != true || state["v1LegacyModePropagatesAt"] == nil {
		t.Fatalf("right after the change the effective mode must still be true with a propagation time: %v", state)
	}
	if _, err := s.AdvanceClock(context.Background(), 61*time.Minute); err != nil {
		t.Fatal(err)
	}
	if state := adminState(t, s, base+"old-ws"); state["effectiveV1LegacyMode"] != false {
		t.Errorf("after 61 minutes the effective mode must be false: %v", state)
	}
	if got := legacy("old-ws", "2025-04-01"); got != false {
		t.Errorf("GET after propagation = %v, want false", got)
	}

	// Errors reach the CLI as ARM errors.
	_, stderr, err := az.Try("rest", "--method", "get", "--url", url+"missing?api-version=2024-04-01")
	if err == nil || !strings.Contains(stderr, "ResourceNotFound") {
		t.Errorf("GET of a missing workspace: err=%v stderr=%s", err, stderr)
	}
	_, stderr, err = az.Try("rest", "--method", "get", "--url", url+"old-ws?api-version=1999-01-01")
	if err == nil || !strings.Contains(stderr, "NoRegisteredProviderFound") || !strings.Contains(stderr, "--lenient-api-versions") {
		t.Errorf("unknown api-version (NoRegisteredProviderFound with the --lenient-api-versions hint): err=%v stderr=%s", err, stderr)
	}

	list := az.Run("resource", "list", "-g", "cli-rg", "--query", "[].name", "-o", "tsv")
	if !strings.Contains(list, "old-ws") || !strings.Contains(list, "new-ws") {
		t.Errorf("az resource list = %q", list)
	}
	az.Run("group", "delete", "-n", "cli-rg", "--yes")
	if out := az.Run("group", "exists", "-n", "cli-rg"); strings.TrimSpace(out) != "false" {
		t.Errorf("az group exists after delete = %q", out)
	}
}

// adminState reads the derived state of a resource through the admin API.
func adminState(t *testing.T, s *e2e.Armlet, id string) map[string]any {
	t.Helper()
	status, _, body := s.Do(t, "GET", "/_armlet/state?id="+id, "", nil)
	if status != 200 {
		t.Fatalf("admin state: %d %s", status, body)
	}
	var v struct {
		Derived map[string]any `json:"derived"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	return v.Derived
}

// TestAzureCLIResourceTypeForm: the CLI's `-g/-n/--resource-type` form,
// which sends an empty segment after the namespace
// (.../providers/Microsoft.MachineLearningServices//workspaces/ws), shows,
// updates and deletes a workspace as ARM lets it.
func TestAzureCLIResourceTypeForm(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	az := s.AzureCLI(t)
	az.Login()
	az.JSON("group", "create", "-n", "form-rg", "-l", "eastus")
	id := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/form-rg/providers/Microsoft.MachineLearningServices/workspaces/form-ws"
	az.JSON("resource", "create", "--id", id, "--api-version", "2024-04-01", "-l", "eastus", "-p", `{}`)
	form := []string{"-g", "form-rg", "-n", "form-ws", "--resource-type", "Microsoft.MachineLearningServices/workspaces", "--api-version", "2024-04-01"}
	shown := az.JSON(append([]string{"resource", "show"}, form...)...)
	if !strings.EqualFold(shown["id"].(string), id) {
		t.Fatalf("az resource show -g -n --resource-type = %v", shown)
	}
	updated := az.JSON(append([]string{"resource", "update", "--set", "tags.stage=test"}, form...)...)
	if tags, _ := updated["tags"].(map[string]any); tags["stage"] != "test" {
		t.Fatalf("az resource update -g -n --resource-type = %v", updated)
	}
	az.Run(append([]string{"resource", "delete"}, form...)...)
	if _, stderr, err := az.Try(append([]string{"resource", "show"}, form...)...); err == nil || !strings.Contains(stderr, "ResourceNotFound") {
		t.Errorf("after az resource delete: err=%v stderr=%s", err, stderr)
	}
	// The flow records name the workspace, whatever the CLI's spelling.
	flows, _ := s.FlowRecords(t, "?workspace="+id)
	var sawForm bool
	for _, f := range flows {
		if strings.Contains(f.Path, "MachineLearningServices//workspaces") && f.ResourceID != "" {
			sawForm = true
		}
	}
	if !sawForm {
		t.Errorf("no flow record of the CLI's -g/-n/--resource-type requests under %s", id)
	}
}
