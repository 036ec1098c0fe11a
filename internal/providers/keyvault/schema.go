package keyvault

import "github.com/armlet/armlet/internal/rpkit"

// The vault's body, transcribed from the 2026-02-01 REST spec
// (VaultCreateOrUpdateParameters, VaultProperties), read-only members
// accepted and dropped.

// permissions: Key Vault answers each permission as it was sent ("Get"
// from the portal, "get" from the CLI), so the values are checked
// ignoring case and kept.
func permissions(name string, values ...string) *rpkit.Schema {
	return rpkit.ArrayOf(rpkit.Enum(name, values...).KeepCase())
}

var (
	accessPolicyEntry = rpkit.Object("AccessPolicyEntry", rpkit.Members{
		"tenantId":      rpkit.String(),
		"objectId":      rpkit.String(),
		"applicationId": rpkit.String(),
		"permissions": rpkit.Object("Permissions", rpkit.Members{
			"keys": permissions("KeyPermissions", "all", "encrypt", "decrypt", "wrapKey", "unwrapKey", "sign", "verify", "get",
				"list", "create", "update", "import", "delete", "backup", "restore", "recover", "purge", "release", "rotate",
				"getrotationpolicy", "setrotationpolicy"),
			"secrets": permissions("SecretPermissions", "all", "get", "list", "set", "delete", "backup", "restore", "recover", "purge"),
			"certificates": permissions("CertificatePermissions", "all", "get", "list", "delete", "create", "import", "update",
				"managecontacts", "getissuers", "listissuers", "setissuers", "deleteissuers", "manageissuers", "recover", "purge",
				"backup", "restore"),
			"storage": permissions("StoragePermissions", "all", "get", "list", "delete", "set", "update", "regeneratekey",
				"recover", "purge", "backup", "restore", "setsas", "listsas", "getsas", "deletesas"),
		}),
	}).Required("tenantId", "objectId", "permissions")

	vaultProperties = rpkit.Object("VaultProperties", rpkit.Members{
		"tenantId": rpkit.String(),
		"sku": rpkit.Object("Sku", rpkit.Members{
			"family": rpkit.Enum("SkuFamily", "A"),
			"name":   rpkit.Enum("SkuName", "standard", "premium"),
		}).Required("family", "name"),
		"accessPolicies":               rpkit.ArrayOf(accessPolicyEntry),
		"enabledForDeployment":         rpkit.Bool(),
		"enabledForDiskEncryption":     rpkit.Bool(),
		"enabledForTemplateDeployment": rpkit.Bool(),
		"enableSoftDelete":             rpkit.Bool(),
		"softDeleteRetentionInDays":    rpkit.Int(),
		"enableRbacAuthorization":      rpkit.Bool(),
		"createMode":                   rpkit.Enum("CreateMode", "recover", "default"),
		"enablePurgeProtection":        rpkit.Bool(),
		"networkAcls": rpkit.Object("NetworkRuleSet", rpkit.Members{
			"bypass":        rpkit.Enum("NetworkRuleBypassOptions", "AzureServices", "None"),
			"defaultAction": rpkit.Enum("NetworkRuleAction", "Allow", "Deny"),
			"ipRules":       rpkit.ArrayOf(rpkit.Object("IPRule", rpkit.Members{"value": rpkit.String()}).Required("value")),
			"virtualNetworkRules": rpkit.ArrayOf(rpkit.Object("VirtualNetworkRule", rpkit.Members{
				"id":                               rpkit.ID("Microsoft.Network/virtualNetworks/subnets"),
				"ignoreMissingVnetServiceEndpoint": rpkit.Bool(),
			}).Required("id")),
		}),
		"publicNetworkAccess": rpkit.Enum("PublicNetworkAccess", "Enabled", "Disabled", "SecuredByPerimeter"),

		"vaultUri":                   rpkit.Any().ReadOnly(),
		"hsmPoolResourceId":          rpkit.Any().ReadOnly(),
		"privateEndpointConnections": rpkit.Any().ReadOnly(),
		"provisioningState":          rpkit.Any().ReadOnly(),
	}).Required("tenantId", "sku")

	accessPolicyParameters = rpkit.Object("VaultAccessPolicyParameters", rpkit.Members{
		"properties": rpkit.Object("VaultAccessPolicyProperties", rpkit.Members{
			"accessPolicies": rpkit.ArrayOf(accessPolicyEntry),
		}).Required("accessPolicies"),
		"id": rpkit.Any().ReadOnly(), "name": rpkit.Any().ReadOnly(), "type": rpkit.Any().ReadOnly(), "location": rpkit.Any().ReadOnly(),
	}).Required("properties")

	deletedVaultProperties = rpkit.Object("DeletedVaultProperties", rpkit.Members{
		"vaultId":                rpkit.ID(TypeVaults),
		"location":               rpkit.String(),
		"deletionDate":           rpkit.String(),
		"scheduledPurgeDate":     rpkit.String(),
		"tags":                   rpkit.MapOf(rpkit.String()),
		"purgeProtectionEnabled": rpkit.Bool(),
		"provisioningState":      rpkit.Any().ReadOnly(), // armlet's own exports carry it
	}).Required("vaultId", "location", "deletionDate", "scheduledPurgeDate")
)
