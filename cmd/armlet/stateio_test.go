package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// TestExportImportResetCommands drives `armlet export`, `armlet reset` and
// `armlet import` as a user would: export to a file (written 0600, even
// over a file that was 0644), reset refused without --yes (exit 2, saying
// why) and done with it, import of the file bringing the resource group
// back, and the usage errors.
func TestExportImportResetCommands(t *testing.T) {
	a := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.InMemory = false }))
	getenv := func(k string) string { return map[string]string{"ARMLET_DATA_DIR": a.DataDir}[k] }
	ctx := context.Background()
	c, _, err := clientFlags("test", nil, getenv, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rg := "/subscriptions/" + a.Conn.SubscriptionID + "/resourceGroups/cli-rg"
	if _, err := c.send(ctx, "PUT", rg+"?api-version=2021-04-01", map[string]any{"location": "eastus"}); err != nil {
		t.Fatal(err)
	}
	exists := func() bool {
		_, err := c.send(ctx, "GET", rg+"?api-version=2021-04-01", nil)
		return err == nil
	}
	runOK := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if code := run(ctx, args, getenv, &out, &out); code != 0 {
			t.Fatalf("armlet %s = %d: %s", strings.Join(args, " "), code, out.String())
		}
		return out.String()
	}

	file := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := runOK("export", "--file", file, "--include-principals"); !strings.Contains(out, "0600") || !strings.Contains(out, file) {
		t.Errorf("export --file printed %q", out)
	}
	info, err := os.Stat(file)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the export file: %v, mode %v, want 0600", err, info.Mode().Perm())
	}
	raw, _ := os.ReadFile(file)
	if !strings.Contains(string(raw), rg) || !strings.Contains(string(raw), `"subscriptions"`) {
		t.Fatalf("the export file does not hold the resource group:\n%s", raw)
	}
	if out := runOK("export"); !strings.Contains(out, rg) {
		t.Errorf("export to stdout: %s", out)
	}

	var out bytes.Buffer
	if code := run(ctx, []string{"reset"}, getenv, &out, &out); code != 2 || !strings.Contains(out.String(), "--yes") || !strings.Contains(out.String(), "every resource") {
		t.Fatalf("reset without --yes = %d %q, want 2 saying why", code, out.String())
	}
	if !exists() {
		t.Fatal("reset without --yes deleted the resource group")
	}
	if out := runOK("reset", "--yes"); !strings.Contains(out, `"deleted": 1`) {
		t.Errorf("reset --yes printed %s", out)
	}
	if exists() {
		t.Fatal("the resource group survived reset --yes")
	}
	var res struct{ Resources struct{ Created []string } }
	if err := json.Unmarshal([]byte(runOK("import", file)), &res); err != nil || len(res.Resources.Created) != 1 || res.Resources.Created[0] != rg {
		t.Fatalf("import printed %+v (%v)", res, err)
	}
	if !exists() {
		t.Fatal("the resource group is not back after the import")
	}

	for _, tt := range []struct {
		args []string
		code int
		text string
	}{
		{[]string{"import"}, 2, "usage: armlet import FILE"},
		{[]string{"import", file, "extra"}, 2, "usage: armlet import FILE"},
		{[]string{"import", filepath.Join(t.TempDir(), "missing.json")}, 1, "missing.json"},
		{[]string{"export", "--fil", file}, 2, "did you mean --file"},
		{[]string{"reset", "--yes", "now"}, 2, `unexpected argument "now"`},
		{[]string{"imprt"}, 2, `did you mean "import"`},
	} {
		out.Reset()
		if code := run(ctx, tt.args, getenv, &out, &out); code != tt.code || !strings.Contains(out.String(), tt.text) {
			t.Errorf("armlet %s = %d %q, want %d with %q", strings.Join(tt.args, " "), code, out.String(), tt.code, tt.text)
		}
	}
	out.Reset()
	if code := run(ctx, []string{"help"}, getenv, &out, &out); code != 0 {
		t.Fatalf("help = %d", code)
	}
	for _, cmd := range []string{"armlet export", "armlet import FILE", "armlet reset --yes", "armlet principal delete ID"} {
		if !strings.Contains(out.String(), cmd) {
			t.Errorf("armlet help does not list %q", cmd)
		}
	}
}

// TestPrincipalDeleteCommand: `armlet principal delete ID` deletes a
// principal by client id and prints it; an unknown one, the bootstrap
// principal and a missing ID are refused.
func TestPrincipalDeleteCommand(t *testing.T) {
	a := e2e.Start(t)
	getenv := func(k string) string { return map[string]string{"ARMLET_DATA_DIR": a.DataDir}[k] }
	ctx := context.Background()
	var out bytes.Buffer
	if code := run(ctx, []string{"principal", "create", "--name", "temp"}, getenv, &out, &out); code != 0 {
		t.Fatalf("principal create = %d %s", code, out.String())
	}
	var p struct{ ClientID string }
	if err := json.Unmarshal(out.Bytes(), &p); err != nil || p.ClientID == "" {
		t.Fatalf("principal create printed %s", out.String())
	}
	for _, tt := range []struct {
		args []string
		code int
		text string
	}{
		{[]string{"principal", "delete", p.ClientID}, 0, `"name": "temp"`},
		{[]string{"principal", "delete", p.ClientID}, 1, "PrincipalNotFound"},
		{[]string{"principal", "delete", a.Conn.ClientID}, 1, "BootstrapPrincipalCannotBeDeleted"},
		{[]string{"principal", "delete"}, 2, "usage: armlet principal delete ID"},
		{[]string{"principal", "remove", p.ClientID}, 2, "principal delete ID"},
	} {
		out.Reset()
		if code := run(ctx, tt.args, getenv, &out, &out); code != tt.code || !strings.Contains(out.String(), tt.text) {
			t.Errorf("armlet %s = %d %q, want %d with %q", strings.Join(tt.args, " "), code, out.String(), tt.code, tt.text)
		}
	}
}
