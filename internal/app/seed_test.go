package app_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// TestSeedLegacyModeMigration checks rule L3: workspaces imported from a
// seed file without v1LegacyMode get true when they have a private
// endpoint connection (listed inline, or made by a private endpoint the
// seed file lists) and false otherwise; a restart with the same seed file
// changes nothing.
func TestSeedLegacyModeMigration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const sub = "11111111-2222-3333-4444-555555555555"
	rg := "/subscriptions/" + sub + "/resourceGroups/legacy"
	ws := rg + "/providers/Microsoft.MachineLearningServices/workspaces/"
	seed := map[string]any{
		"subscriptions": []any{map[string]any{"subscriptionId": sub, "displayName": "legacy"}},
		"resources": []any{
			map[string]any{"id": ws + "with-pe", "location": "eastus", "properties": map[string]any{
				"privateEndpointConnections": []any{map[string]any{
					"name": "pe1",
					"properties": map[string]any{
						"privateEndpoint":                   map[string]any{"id": rg + "/providers/Microsoft.Network/privateEndpoints/pe1"},
						"privateLinkServiceConnectionState": map[string]any{"status": "Approved", "description": "Auto-Approved"},
					},
				}},
			}},
			map[string]any{"id": ws + "without-pe", "location": "eastus", "properties": map[string]any{}},
			map[string]any{"id": rg, "location": "eastus"},
			map[string]any{"id": ws + "via-endpoint", "location": "eastus", "properties": map[string]any{}},
			map[string]any{"id": rg + "/providers/Microsoft.Network/virtualNetworks/vnet", "location": "eastus", "properties": map[string]any{
				"addressSpace": map[string]any{"addressPrefixes": []any{"10.0.0.0/16"}},
				"subnets":      []any{map[string]any{"name": "pe", "properties": map[string]any{"addressPrefix": "10.0.1.0/24"}}},
			}},
			map[string]any{"id": rg + "/providers/Microsoft.Network/privateEndpoints/pe2", "location": "eastus", "properties": map[string]any{
				"subnet": map[string]any{"id": rg + "/providers/Microsoft.Network/virtualNetworks/vnet/subnets/pe"},
				"privateLinkServiceConnections": []any{map[string]any{"name": "ws", "properties": map[string]any{
					"privateLinkServiceId": ws + "via-endpoint", "groupIds": []any{"amlworkspace"},
				}}},
			}},
		},
	}
	b, _ := json.Marshal(seed)
	path := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	for range 2 { // the second start re-applies the seed to existing state
		s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.SeedFile = path; c.InMemory = false; c.DataDir = dataDir }))
		for name, want := range map[string]string{"with-pe": `"v1LegacyMode":true`, "without-pe": `"v1LegacyMode":false`, "via-endpoint": `"v1LegacyMode":true`} {
			st, _, body := s.Do(t, "GET", ws+name+"?api-version=2024-04-01", "", nil)
			if st != 200 || !strings.Contains(body, want) {
				t.Errorf("%s: %d %s, want %s", name, st, body, want)
			}
		}
		st, _, body := s.Do(t, "GET", ws+"with-pe/privateEndpointConnections?api-version=2024-04-01", "", nil)
		if st != 200 || !strings.Contains(body, `"Approved"`) {
			t.Errorf("seeded connection: %d %s", st, body)
		}
		s.Close()
	}
}
