package azurehost_test

import (
	"testing"

	"github.com/armlet/armlet/internal/azurehost"
)

const wsid = "0b1f6a2c-9d3e-4f5a-8b7c-6d5e4f3a2b1c"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		host   string
		want   azurehost.Host
		public string
		cname  string
	}{
		{"management.azure.com", azurehost.Host{Kind: azurehost.Management}, "management.azure.com", "management.privatelink.azure.com"},
		{"Management.Azure.com.", azurehost.Host{Kind: azurehost.Management}, "management.azure.com", "management.privatelink.azure.com"},
		{"management.core.windows.net", azurehost.Host{Kind: azurehost.Management}, "management.core.windows.net", ""},
		{"management.privatelink.azure.com", azurehost.Host{Kind: azurehost.Management, PrivateLink: true}, "management.azure.com", ""},
		{"login.microsoftonline.com", azurehost.Host{Kind: azurehost.Login}, "login.microsoftonline.com", ""},
		{"eastus.api.azureml.ms", azurehost.Host{Kind: azurehost.Regional, Region: "eastus"}, "eastus.api.azureml.ms", ""},
		{wsid + ".workspace.eastus.api.azureml.ms", azurehost.Host{Kind: azurehost.Workspace, WorkspaceID: wsid, Region: "eastus"},
			wsid + ".workspace.eastus.api.azureml.ms", wsid + ".workspace.eastus.privatelink.api.azureml.ms"},
		{wsid + ".workspace.eastus.cert.api.azureml.ms", azurehost.Host{Kind: azurehost.Workspace, WorkspaceID: wsid, Region: "eastus", Cert: true},
			wsid + ".workspace.eastus.cert.api.azureml.ms", wsid + ".workspace.eastus.cert.privatelink.api.azureml.ms"},
		{wsid + ".workspace.eastus.privatelink.api.azureml.ms", azurehost.Host{Kind: azurehost.Workspace, WorkspaceID: wsid, Region: "eastus", PrivateLink: true},
			wsid + ".workspace.eastus.api.azureml.ms", ""},
		{wsid + ".workspace.eastus.cert.privatelink.api.azureml.ms", azurehost.Host{Kind: azurehost.Workspace, WorkspaceID: wsid, Region: "eastus", Cert: true, PrivateLink: true},
			wsid + ".workspace.eastus.cert.api.azureml.ms", ""},
		{"acct1.blob.core.windows.net", azurehost.Host{Kind: azurehost.Storage, Account: "acct1", Service: "blob"}, "acct1.blob.core.windows.net", "acct1.privatelink.blob.core.windows.net"},
		{"acct1.privatelink.dfs.core.windows.net", azurehost.Host{Kind: azurehost.Storage, Account: "acct1", Service: "dfs", PrivateLink: true}, "acct1.dfs.core.windows.net", ""},
		{"kv-1.vault.azure.net", azurehost.Host{Kind: azurehost.Vault, Vault: "kv-1"}, "kv-1.vault.azure.net", "kv-1.privatelink.vaultcore.azure.net"},
		{"kv-1.privatelink.vaultcore.azure.net", azurehost.Host{Kind: azurehost.Vault, Vault: "kv-1", PrivateLink: true}, "kv-1.vault.azure.net", ""},
		// Not Azure's, or not a shape armlet knows.
		{"graph.microsoft.com", azurehost.Host{}, "graph.microsoft.com", ""},
		{"not-a-guid.workspace.eastus.api.azureml.ms", azurehost.Host{}, "not-a-guid.workspace.eastus.api.azureml.ms", ""},
		{"a.b.api.azureml.ms", azurehost.Host{}, "a.b.api.azureml.ms", ""},
		{"evil.com.blob.core.windows.net.attacker.io", azurehost.Host{}, "evil.com.blob.core.windows.net.attacker.io", ""},
		{"x.blob.core.windows.net", azurehost.Host{}, "x.blob.core.windows.net", ""}, // account names are 3 to 24 characters
	} {
		got := azurehost.Parse(tc.host)
		tc.want.Name = got.Name
		if got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.host, got, tc.want)
		}
		if p := got.Public(); p != tc.public {
			t.Errorf("Parse(%q).Public() = %q, want %q", tc.host, p, tc.public)
		}
		cname, ok := got.PrivateLinkCNAME()
		if cname != tc.cname || ok != (tc.cname != "") {
			t.Errorf("Parse(%q).PrivateLinkCNAME() = %q %v, want %q", tc.host, cname, ok, tc.cname)
		}
	}
}
