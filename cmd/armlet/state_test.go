package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// TestStateRedactsSecrets: `armlet state` prints no stored secret of a
// v2 datastore, a workspace connection, an online endpoint, a compute or
// the workspace itself, and prints them with --show-secrets.
func TestStateRedactsSecrets(t *testing.T) {
	const operationDuration = 10 * time.Millisecond
	a := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.OperationDuration = operationDuration }))
	dir := a.DataDir
	getenv := func(k string) string { return map[string]string{"ARMLET_DATA_DIR": dir}[k] }
	ctx := context.Background()
	c, _, err := clientFlags("test", nil, getenv, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rg := "/subscriptions/" + a.Conn.SubscriptionID + "/resourceGroups/rg"
	ws := rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	const api = "?api-version=2024-04-01"
	put := func(id, body string) {
		t.Helper()
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		version := api
		if id == rg {
			version = "?api-version=2021-04-01"
		}
		if _, err := c.send(ctx, "PUT", id+version, v); err != nil {
			t.Fatalf("PUT %s: %v", id, err)
		}
		time.Sleep(3 * operationDuration)
	}
	put(rg, `{"location":"eastus"}`)
	put(ws, `{"location":"eastus","properties":{"v1LegacyMode":false}}`)
	put(ws+"/datastores/blob1", `{"properties":{"datastoreType":"AzureBlob","accountName":"acct","containerName":"c",
		"credentials":{"credentialsType":"AccountKey","secrets":{"secretsType":"AccountKey","key":"LEAK-datastore-key"}}}}`)
	put(ws+"/connections/pat1", `{"properties":{"category":"Git","authType":"PAT","target":"https://example.com/repo",
		"credentials":{"pat":"LEAK-connection-pat"}}}`)
	put(ws+"/connections/sp1", `{"properties":{"category":"AzureOpenAI","authType":"ServicePrincipal","target":"https://example.com",
		"credentials":{"clientId":"cid","tenantId":"tid","clientSecret":"LEAK-connection-clientSecret"}}}`)
	put(ws+"/onlineEndpoints/ep1", `{"location":"eastus","identity":{"type":"SystemAssigned"},
		"properties":{"authMode":"Key","keys":{"primaryKey":"LEAK-endpoint-primary","secondaryKey":"LEAK-endpoint-secondary"}}}`)
	put(ws+"/computes/vm1", `{"location":"eastus","properties":{"computeType":"VirtualMachine",
		"resourceId":"`+rg+`/providers/Microsoft.Compute/virtualMachines/vm1",
		"properties":{"address":"10.0.0.9","sshPort":22,"administratorAccount":{"username":"azureuser","password":"LEAK-vm-password"}}}}`)
	keys, err := c.send(ctx, "POST", ws+"/listKeys"+api, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wsKeys map[string]any
	if err := json.Unmarshal(keys, &wsKeys); err != nil {
		t.Fatal(err)
	}
	storageKey, _ := wsKeys["userStorageKey"].(string)
	if storageKey == "" {
		t.Fatalf("listKeys = %s", keys)
	}

	tests := []struct {
		id      string
		secrets []string
		// stored are the secrets kept in the internal state, which
		// --show-secrets prints (the others are only shown by listKeys).
		stored []string
	}{
		{ws + "/datastores/blob1", []string{"LEAK-datastore-key"}, []string{"LEAK-datastore-key"}},
		{ws + "/connections/pat1", []string{"LEAK-connection-pat"}, []string{"LEAK-connection-pat"}},
		{ws + "/connections/sp1", []string{"LEAK-connection-clientSecret"}, []string{"LEAK-connection-clientSecret"}},
		{ws + "/onlineEndpoints/ep1", []string{"LEAK-endpoint-primary", "LEAK-endpoint-secondary"}, []string{"LEAK-endpoint-primary"}},
		{ws + "/computes/vm1", []string{"LEAK-vm-password"}, nil},
		{ws, []string{storageKey}, []string{storageKey}},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if code := run(ctx, []string{"state", tt.id}, getenv, &out, &out); code != 0 {
			t.Fatalf("state %s = %d %s", tt.id, code, out.String())
		}
		for _, s := range tt.secrets {
			if strings.Contains(out.String(), s) {
				t.Errorf("state %s prints %s:\n%s", tt.id, s, out.String())
			}
		}
		if len(tt.stored) > 0 && !strings.Contains(out.String(), `"[REDACTED]"`) {
			t.Errorf("state %s shows no redaction marker:\n%s", tt.id, out.String())
		}
		out.Reset()
		if code := run(ctx, []string{"state", "--show-secrets", tt.id}, getenv, &out, &out); code != 0 {
			t.Fatalf("state --show-secrets %s = %d %s", tt.id, code, out.String())
		}
		for _, s := range tt.stored {
			if !strings.Contains(out.String(), s) {
				t.Errorf("state --show-secrets %s does not print %s:\n%s", tt.id, s, out.String())
			}
		}
	}
}
