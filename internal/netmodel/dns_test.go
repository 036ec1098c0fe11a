package netmodel

import (
	"bytes"
	"strings"
	"testing"
)

// TestResolve: names resolved as Azure DNS answers a client in a virtual
// network, over zones, links, records and endpoints.
func TestResolve(t *testing.T) {
	const (
		rg       = "/subscriptions/s1/resourceGroups/rg/providers/"
		wsid     = "0b1f6a2c-9d3e-4f5a-8b7c-6d5e4f3a2b1c"
		wsHost   = wsid + ".workspace.eastus.api.azureml.ms"
		zoneAML  = rg + "Microsoft.Network/privateDnsZones/privatelink.api.azureml.ms"
		zoneARM  = rg + "Microsoft.Network/privateDnsZones/privatelink.azure.com"
		zoneKV   = rg + "Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net"
		zoneAPI  = rg + "Microsoft.Network/privateDnsZones/api.azureml.ms"
		zoneBlob = rg + "Microsoft.Network/privateDnsZones/privatelink.blob.core.windows.net"
		zoneML   = rg + "Microsoft.Network/privateDnsZones/azureml.ms"
	)
	vnet1, vnet2 := mustID(t, rg+"Microsoft.Network/virtualNetworks/vnet1"), mustID(t, rg+"Microsoft.Network/virtualNetworks/vnet2")
	link := func(zone, name string, vnet string, fallback bool) DNSLink {
		return DNSLink{ID: mustID(t, zone+"/virtualNetworkLinks/"+name), VirtualNetwork: mustID(t, vnet), Fallback: fallback}
	}
	wsPE := Endpoint{
		ID: mustID(t, rg+"Microsoft.Network/privateEndpoints/pe-ws"), PrivateIP: "10.0.1.4", GroupID: "amlworkspace",
		TargetID: mustID(t, ws), VirtualNetwork: vnet1,
		Addresses: []Address{{"10.0.1.4", wsHost}, {"10.0.1.5", wsid + ".workspace.eastus.cert.api.azureml.ms"}, {"10.0.1.7", "*." + wsid + ".inference.eastus.api.azureml.ms"}},
	}
	armPE := Endpoint{
		ID: mustID(t, rg+"Microsoft.Network/privateEndpoints/pe-arm"), PrivateIP: "10.0.1.8", GroupID: "ResourceManagement",
		TargetID: mustID(t, rg+"Microsoft.Authorization/resourceManagementPrivateLinks/rmpl"), VirtualNetwork: vnet1,
		Addresses: []Address{{"10.0.1.8", "management.azure.com"}},
	}
	// The same address space in vnet2: its endpoint's address is no
	// address of vnet1's.
	otherPE := wsPE
	otherPE.ID, otherPE.VirtualNetwork = mustID(t, rg+"Microsoft.Network/privateEndpoints/pe-other"), vnet2
	amlZone := DNSZone{ID: mustID(t, zoneAML), Links: []DNSLink{link(zoneAML, "l1", vnet1.String(), false)}, Records: map[string][]string{
		wsid + ".workspace.eastus": {"10.0.1.4"}, wsid + ".workspace.eastus.cert": {"10.0.1.5"}, "*." + wsid + ".inference.eastus": {"10.0.1.7"},
	}}
	armZone := DNSZone{ID: mustID(t, zoneARM), Links: []DNSLink{link(zoneARM, "l1", vnet1.String(), false)}, Records: map[string][]string{"management": {"10.0.1.8"}}}
	blobPE := Endpoint{
		ID: mustID(t, rg+"Microsoft.Network/privateEndpoints/pe-blob"), PrivateIP: "10.0.1.9", GroupID: "blob",
		TargetID: mustID(t, rg+"Microsoft.Storage/storageAccounts/acct1"), VirtualNetwork: vnet1,
		Addresses: []Address{{"10.0.1.9", "acct1.blob.core.windows.net"}},
	}
	kvPE := Endpoint{
		ID: mustID(t, rg+"Microsoft.Network/privateEndpoints/pe-kv"), PrivateIP: "10.0.1.10", GroupID: "vault",
		TargetID: mustID(t, rg+"Microsoft.KeyVault/vaults/kv1"), VirtualNetwork: vnet1,
		Addresses: []Address{{"10.0.1.10", "kv1.vault.azure.net"}},
	}
	eps := []Endpoint{wsPE, armPE, otherPE, blobPE, kvPE}
	withRecords := func(z DNSZone, recs map[string][]string) DNSZone { z.Records = recs; return z }
	withLinks := func(z DNSZone, links ...DNSLink) DNSZone { z.Links = links; return z }

	for _, tc := range []struct {
		name     string
		host     string
		vnet     string
		zones    []DNSZone
		eps      []Endpoint
		verdict  Verdict
		endpoint string // the private endpoint's name, for private
		address  string
		chain    int
		message  string // a substring of the message
	}{
		{"workspace through its zone", wsHost, "vnet1", []DNSZone{amlZone, armZone}, eps, VerdictPrivate, "pe-ws", "10.0.1.4", 2, "pe-ws"},
		{"workspace cert name", wsid + ".workspace.eastus.cert.api.azureml.ms", "vnet1", []DNSZone{amlZone}, eps, VerdictPrivate, "pe-ws", "10.0.1.5", 2, ""},
		{"the privatelink name directly", wsid + ".workspace.eastus.privatelink.api.azureml.ms", "vnet1", []DNSZone{amlZone}, eps, VerdictPrivate, "pe-ws", "10.0.1.4", 1, ""},
		{"any casing, a trailing dot", strings.ToUpper(wsHost) + ".", "vnet1", []DNSZone{amlZone}, eps, VerdictPrivate, "pe-ws", "10.0.1.4", 2, ""},
		{"inference names: no CNAME armlet knows", "ep1." + wsid + ".inference.eastus.api.azureml.ms", "vnet1", []DNSZone{amlZone}, eps, VerdictPublic, "", "", 1, "publicly"},
		{"ARM through Resource Management Private Link", "management.azure.com", "vnet1", []DNSZone{amlZone, armZone}, eps, VerdictPrivate, "pe-arm", "10.0.1.8", 2, ""},
		{"a wildcard record answers", "management.azure.com", "vnet1", []DNSZone{withRecords(armZone, map[string][]string{"*": {"10.0.1.8"}})}, eps, VerdictPrivate, "pe-arm", "10.0.1.8", 2, ""},
		{"ARM without the zone", "management.azure.com", "vnet1", []DNSZone{amlZone}, eps, VerdictPublic, "", "", 2, "publicly"},
		{"zone not linked to this vnet", wsHost, "vnet2", []DNSZone{amlZone}, eps, VerdictPublic, "", "", 2, "publicly"},
		{"no zone at all", wsHost, "vnet1", nil, eps, VerdictPublic, "", "", 2, ""},
		{"linked, no record: NXDOMAIN", wsHost, "vnet1", []DNSZone{withRecords(amlZone, nil)}, eps, VerdictNXDomain, "", "", 2, "NxDomainRedirect"},
		{"linked, no record, NxDomainRedirect", wsHost, "vnet1", []DNSZone{withLinks(withRecords(amlZone, nil), link(zoneAML, "l1", vnet1.String(), true))}, eps, VerdictPublic, "", "", 3, ""},
		{"record to no endpoint's address", wsHost, "vnet1", []DNSZone{withRecords(amlZone, map[string][]string{wsid + ".workspace.eastus": {"10.9.9.9"}})}, eps,
			VerdictUnreachable, "", "10.9.9.9", 2, "10.9.9.9"},
		{"record to another endpoint's address", "management.azure.com", "vnet1", []DNSZone{withRecords(armZone, map[string][]string{"management": {"10.0.1.4"}})}, eps,
			VerdictUnreachable, "", "10.0.1.4", 2, "not management.azure.com"},
		{"the endpoint is in another vnet", wsHost, "vnet2", []DNSZone{withLinks(amlZone, link(zoneAML, "l2", vnet2.String(), false))}, []Endpoint{wsPE},
			VerdictUnreachable, "", "10.0.1.4", 2, "no approved private endpoint"},
		{"same address, the endpoint of this vnet", wsHost, "vnet2", []DNSZone{withLinks(amlZone, link(zoneAML, "l2", vnet2.String(), false))}, eps,
			VerdictPrivate, "pe-other", "10.0.1.4", 2, ""},
		{"an endpoint not approved is not listed", wsHost, "vnet1", []DNSZone{amlZone}, nil, VerdictUnreachable, "", "10.0.1.4", 2, ""},
		{"a zone for the public name answers first", wsHost, "vnet1", []DNSZone{amlZone, {ID: mustID(t, zoneAPI), Links: []DNSLink{link(zoneAPI, "l", vnet1.String(), false)},
			Records: map[string][]string{wsid + ".workspace.eastus": {"10.0.1.4"}}}}, eps, VerdictPrivate, "pe-ws", "10.0.1.4", 1, ""},
		{"the longest linked zone answers", wsHost, "vnet1", []DNSZone{
			{ID: mustID(t, zoneML), Links: []DNSLink{link(zoneML, "l", vnet1.String(), false)}, Records: map[string][]string{wsid + ".workspace.eastus.api": {"10.9.9.9"}}},
			{ID: mustID(t, zoneAPI), Links: []DNSLink{link(zoneAPI, "l", vnet1.String(), false)}, Records: map[string][]string{wsid + ".workspace.eastus": {"10.0.1.4"}}},
		}, eps, VerdictPrivate, "pe-ws", "10.0.1.4", 1, ""},
		{"regional host: no CNAME", "eastus.api.azureml.ms", "vnet1", []DNSZone{amlZone}, eps, VerdictPublic, "", "", 1, ""},
		{"blob through its zone", "acct1.blob.core.windows.net", "vnet1", []DNSZone{{ID: mustID(t, zoneBlob), Links: []DNSLink{link(zoneBlob, "l", vnet1.String(), false)},
			Records: map[string][]string{"acct1": {"10.0.1.9"}}}}, eps, VerdictPrivate, "pe-blob", "10.0.1.9", 2, ""},
		{"dfs is not what the blob endpoint serves", "acct1.dfs.core.windows.net", "vnet1", []DNSZone{{ID: mustID(t, zoneBlob), Links: []DNSLink{link(zoneBlob, "l", vnet1.String(), false)},
			Records: map[string][]string{"acct1": {"10.0.1.9"}}}}, eps, VerdictPublic, "", "", 2, ""},
		{"key vault through privatelink.vaultcore.azure.net", "kv1.vault.azure.net", "vnet1", []DNSZone{{ID: mustID(t, zoneKV), Links: []DNSLink{link(zoneKV, "l", vnet1.String(), false)},
			Records: map[string][]string{"kv1": {"10.0.1.10"}}}}, eps, VerdictPrivate, "pe-kv", "10.0.1.10", 2, ""},
		{"key vault CNAME into privatelink.vaultcore.azure.net", "kv1.vault.azure.net", "vnet1", []DNSZone{{ID: mustID(t, zoneKV), Links: []DNSLink{link(zoneKV, "l", vnet1.String(), false)}}},
			eps, VerdictNXDomain, "", "", 2, "kv1.privatelink.vaultcore.azure.net"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Resolve(tc.host, mustID(t, rg+"Microsoft.Network/virtualNetworks/"+tc.vnet), DNSView{Zones: tc.zones, Endpoints: tc.eps})
			if r.Verdict != tc.verdict || r.Address != tc.address || len(r.Chain) != tc.chain || !strings.Contains(r.Message, tc.message) {
				t.Errorf("Resolve = %s at %q, %d steps, %q; want %s at %q, %d steps, a message with %q\n%+v",
					r.Verdict, r.Address, len(r.Chain), r.Message, tc.verdict, tc.address, tc.chain, tc.message, r.Chain)
			}
			if got := ""; tc.endpoint != "" {
				if r.Endpoint != nil {
					got = r.Endpoint.ID.Name()
				}
				if got != tc.endpoint {
					t.Errorf("endpoint %q, want %q", got, tc.endpoint)
				}
			} else if r.Endpoint != nil {
				t.Errorf("endpoint %s for verdict %s", r.Endpoint.ID, r.Verdict)
			}
			var b bytes.Buffer
			if err := WriteResolution(&b, r); err != nil || !strings.Contains(b.String(), "verdict: "+string(tc.verdict)) {
				t.Errorf("WriteResolution: %v\n%s", err, b.String())
			}
		})
	}
}
