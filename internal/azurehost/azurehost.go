// Package azurehost reads Azure's public host names: what a name is for
// (Azure Resource Manager, a workspace's data plane, a storage account's
// blob service, ...) and the privatelink name Azure's public DNS answers
// it with as a CNAME. armlet's HTTPS proxies route tunnels by it and the
// virtual network resolver (netmodel.Resolve) follows the CNAME.
//
// The shapes, for the public cloud:
//
//	management.azure.com                                   Resource Manager; CNAME management.privatelink.azure.com
//	login.microsoftonline.com, login.windows.net           Entra ID's token service; no CNAME
//	{region}.api.azureml.ms                                Azure ML's regional front door (discovery, the data plane by path)
//	{wsid}.workspace.{region}.api.azureml.ms               one workspace's data plane;
//	                                                       CNAME {wsid}.workspace.{region}.privatelink.api.azureml.ms
//	{wsid}.workspace.{region}.cert.api.azureml.ms          the same, its "cert" name;
//	                                                       CNAME {wsid}.workspace.{region}.cert.privatelink.api.azureml.ms
//	{account}.{blob|dfs|file|queue|table|web}.core.windows.net
//	                                                       a storage service; CNAME {account}.privatelink.{svc}.core.windows.net
//	{vault}.vault.azure.net                                a key vault; CNAME {vault}.privatelink.vaultcore.azure.net
//
// The privatelink names themselves parse as the same kinds, with
// PrivateLink set (a client may use them directly).
package azurehost

import (
	"regexp"
	"strings"
)

// Kind is what a host name is for.
type Kind string

// The kinds of host armlet knows.
const (
	Unknown    Kind = ""
	Management Kind = "management"
	Login      Kind = "login"
	// Regional is {region}.api.azureml.ms.
	Regional Kind = "regional"
	// Workspace is {wsid}.workspace.{region}[.cert].api.azureml.ms.
	Workspace Kind = "workspace"
	Storage   Kind = "storage"
	Vault     Kind = "vault"
)

// Host is a parsed host name.
type Host struct {
	// Name is the host name as given, lower case, without a trailing dot.
	Name string
	Kind Kind
	// WorkspaceID is the workspace's workspaceId (Workspace), lower case.
	WorkspaceID string
	// Region is the Azure ML region (Regional, Workspace).
	Region string
	// Cert is the "cert" form of a workspace name.
	Cert bool
	// Account is a storage account's name and Service its service ("blob",
	// "dfs", ...) (Storage); Vault a key vault's name (Vault).
	Account, Service, Vault string
	// PrivateLink reports that Name is the privatelink name itself.
	PrivateLink bool
}

var (
	label       = `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`
	regionRe    = regexp.MustCompile(`^[a-z0-9]{2,40}$`)
	workspaceRe = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.workspace\.([a-z0-9]{2,40})(\.cert)?(\.privatelink)?\.api\.azureml\.ms$`)
	storageRe   = regexp.MustCompile(`^([a-z0-9]{3,24})\.(privatelink\.)?(blob|dfs|file|queue|table|web)\.core\.windows\.net$`)
	vaultRe     = regexp.MustCompile(`^(` + label + `)\.vault\.azure\.net$`)
	vaultPrivRe = regexp.MustCompile(`^(` + label + `)\.privatelink\.vaultcore\.azure\.net$`)
)

// Parse reads host (any casing, with or without a trailing dot; no port).
// A name armlet does not know has Kind Unknown.
func Parse(host string) Host {
	h := Host{Name: strings.ToLower(strings.TrimSuffix(host, "."))}
	n := h.Name
	switch {
	case n == "management.azure.com" || n == "management.core.windows.net":
		h.Kind = Management
	case n == "management.privatelink.azure.com":
		h.Kind, h.PrivateLink = Management, true
	case n == "login.microsoftonline.com" || n == "login.windows.net":
		h.Kind = Login
	case workspaceRe.MatchString(n):
		m := workspaceRe.FindStringSubmatch(n)
		h.Kind, h.WorkspaceID, h.Region, h.Cert, h.PrivateLink = Workspace, m[1], m[2], m[3] != "", m[4] != ""
	case strings.HasSuffix(n, ".api.azureml.ms") && regionRe.MatchString(strings.TrimSuffix(n, ".api.azureml.ms")):
		h.Kind, h.Region = Regional, strings.TrimSuffix(n, ".api.azureml.ms")
	case storageRe.MatchString(n):
		m := storageRe.FindStringSubmatch(n)
		h.Kind, h.Account, h.PrivateLink, h.Service = Storage, m[1], m[2] != "", m[3]
	case vaultRe.MatchString(n):
		h.Kind, h.Vault = Vault, vaultRe.FindStringSubmatch(n)[1]
	case vaultPrivRe.MatchString(n):
		h.Kind, h.Vault, h.PrivateLink = Vault, vaultPrivRe.FindStringSubmatch(n)[1], true
	}
	return h
}

// Public is the public name a privatelink name stands for (Name itself
// for a public name): the name a private endpoint's customDnsConfigs and
// certificates carry.
func (h Host) Public() string {
	if !h.PrivateLink {
		return h.Name
	}
	switch h.Kind {
	case Management:
		return "management.azure.com"
	case Workspace:
		return strings.Replace(h.Name, ".privatelink.api.azureml.ms", ".api.azureml.ms", 1)
	case Storage:
		return h.Account + "." + h.Service + ".core.windows.net"
	case Vault:
		return h.Vault + ".vault.azure.net"
	}
	return h.Name
}

// PrivateLinkCNAME is the name Azure's public DNS answers the public name
// with (a CNAME into the service's privatelink zone), and whether there is
// one. A privatelink name has none: it is the end of the public chain.
//
// Choice: the regional {region}.api.azureml.ms and the token service's
// names have none: Azure's private endpoints for workspaces list only the
// workspace's own names (and notebooks and inference), so discovery stays
// public, and Entra ID has no private link.
//
// management.core.windows.net (an old alias of ARM's audience, not a name
// ARM's private link covers) has none either.
func (h Host) PrivateLinkCNAME() (string, bool) {
	if h.PrivateLink {
		return "", false
	}
	switch h.Kind {
	case Management:
		if h.Name == "management.azure.com" {
			return "management.privatelink.azure.com", true
		}
	case Workspace:
		return strings.TrimSuffix(h.Name, ".api.azureml.ms") + ".privatelink.api.azureml.ms", true
	case Storage:
		return h.Account + ".privatelink." + h.Service + ".core.windows.net", true
	case Vault:
		return h.Vault + ".privatelink.vaultcore.azure.net", true
	}
	return "", false
}
