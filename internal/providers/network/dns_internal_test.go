package network

import "testing"

// TestZoneRecordName: an FQDN's record set in a private DNS zone, the
// zones Azure names after another public zone included.
func TestZoneRecordName(t *testing.T) {
	cases := []struct {
		zone, fqdn, want string
		ok               bool
	}{
		{"privatelink.api.azureml.ms", "abc.workspace.eastus.api.azureml.ms", "abc.workspace.eastus", true},
		{"privatelink.blob.core.windows.net", "acct1.blob.core.windows.net", "acct1", true},
		{"privatelink.blob.core.windows.net.", "ACCT1.blob.core.windows.net", "acct1", true},
		{"privatelink.vaultcore.azure.net", "kv1.vault.azure.net", "kv1", true},
		{"privatelink.azurecr.io", "reg1.azurecr.io", "reg1", true},
		{"privatelink.azurecr.io", "azurecr.io", "@", true},
		{"privatelink.blob.core.windows.net", "acct1.file.core.windows.net", "", false},
	}
	for _, c := range cases {
		got, ok := zoneRecordName(c.zone, c.fqdn)
		if got != c.want || ok != c.ok {
			t.Errorf("zoneRecordName(%q, %q) = %q, %v; want %q, %v", c.zone, c.fqdn, got, ok, c.want, c.ok)
		}
	}
}
