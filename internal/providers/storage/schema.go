package storage

import "github.com/armlet/armlet/internal/rpkit"

// The account's body, transcribed from the 2025-08-01 REST spec
// (StorageAccountCreateParameters and StorageAccountPropertiesCreateParameters,
// with StorageAccountProperties' read-only members accepted and dropped).
// Members armlet keeps but does not interpret are Any.

var (
	skuNames = []string{
		"Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS",
		"Standard_GZRS", "Standard_RAGZRS", "StandardV2_LRS", "StandardV2_GRS", "StandardV2_ZRS", "StandardV2_GZRS",
		"PremiumV2_LRS", "PremiumV2_ZRS",
	}
	kinds = []string{"Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage"}

	identityTypes = rpkit.Enum("IdentityType", "None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned")

	encryptionService = rpkit.Object("EncryptionService", rpkit.Members{
		"enabled":         rpkit.Bool(),
		"keyType":         rpkit.Enum("KeyType", "Service", "Account"),
		"lastEnabledTime": rpkit.String().ReadOnly(),
	})

	ipRule = rpkit.Object("IPRule", rpkit.Members{
		"value":  rpkit.String(),
		"action": rpkit.Enum("Action", "Allow"),
	}).Required("value")

	networkRuleSet = rpkit.Object("NetworkRuleSet", rpkit.Members{
		"bypass":        rpkit.String(), // flags: "AzureServices, Logging"
		"defaultAction": rpkit.Enum("DefaultAction", "Allow", "Deny"),
		"ipRules":       rpkit.ArrayOf(ipRule),
		"ipv6Rules":     rpkit.ArrayOf(ipRule),
		"virtualNetworkRules": rpkit.ArrayOf(rpkit.Object("VirtualNetworkRule", rpkit.Members{
			"id":     rpkit.ID("Microsoft.Network/virtualNetworks/subnets"),
			"action": rpkit.Enum("Action", "Allow"),
			"state":  rpkit.String().ReadOnly(),
		}).Required("id")),
		"resourceAccessRules": rpkit.ArrayOf(rpkit.Object("ResourceAccessRule", rpkit.Members{
			"tenantId": rpkit.String(), "resourceId": rpkit.String(),
		})),
	}).Required("defaultAction")

	accountProperties = rpkit.Object("StorageAccountPropertiesCreateParameters", rpkit.Members{
		"accessTier":                            rpkit.Enum("AccessTier", "Hot", "Cool", "Premium", "Cold", "Smart"),
		"allowBlobPublicAccess":                 rpkit.Bool(),
		"allowCrossTenantReplication":           rpkit.Bool(),
		"allowSharedKeyAccess":                  rpkit.Bool(),
		"allowSharedKeyAccessForServices":       rpkit.Any(),
		"allowedCopyScope":                      rpkit.Enum("AllowedCopyScope", "PrivateLink", "AAD"),
		"azureFilesIdentityBasedAuthentication": rpkit.Any(),
		"customDomain": rpkit.Object("CustomDomain", rpkit.Members{
			"name": rpkit.String(), "useSubDomainName": rpkit.Bool(),
		}).Required("name"),
		"dataCollaborationPolicyProperties": rpkit.Any(),
		"defaultToOAuthAuthentication":      rpkit.Bool(),
		"dnsEndpointType":                   rpkit.Enum("DnsEndpointType", "Standard", "AzureDnsZone"),
		"dualStackEndpointPreference":       rpkit.Any(),
		"enableExtendedGroups":              rpkit.Bool(),
		"encryption": rpkit.Object("Encryption", rpkit.Members{
			"keySource":                       rpkit.Enum("KeySource", "Microsoft.Storage", "Microsoft.Keyvault"),
			"requireInfrastructureEncryption": rpkit.Bool(),
			"services": rpkit.Object("EncryptionServices", rpkit.Members{
				"blob": encryptionService, "file": encryptionService, "queue": encryptionService, "table": encryptionService,
			}),
			"keyvaultproperties": rpkit.Any(),
			"identity":           rpkit.Any(),
		}),
		"geoPriorityReplicationStatus":   rpkit.Any(),
		"immutableStorageWithVersioning": rpkit.Any(),
		"isHnsEnabled":                   rpkit.Bool(),
		"isLocalUserEnabled":             rpkit.Bool(),
		"isNfsV3Enabled":                 rpkit.Bool(),
		"isSftpEnabled":                  rpkit.Bool(),
		"keyPolicy": rpkit.Object("KeyPolicy", rpkit.Members{
			"keyExpirationPeriodInDays": rpkit.Int(),
		}).Required("keyExpirationPeriodInDays"),
		"largeFileSharesState":     rpkit.Enum("LargeFileSharesState", "Disabled", "Enabled"),
		"minimumTlsVersion":        rpkit.Enum("MinimumTlsVersion", "TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"),
		"networkAcls":              networkRuleSet,
		"publicNetworkAccess":      rpkit.Enum("PublicNetworkAccess", "Enabled", "Disabled", "SecuredByPerimeter"),
		"routingPreference":        rpkit.Any(),
		"sasPolicy":                rpkit.Any(),
		"supportsHttpsTrafficOnly": rpkit.Bool(),

		"accountMigrationInProgress":        rpkit.Any().ReadOnly(),
		"blobRestoreStatus":                 rpkit.Any().ReadOnly(),
		"creationTime":                      rpkit.Any().ReadOnly(),
		"failoverInProgress":                rpkit.Any().ReadOnly(),
		"geoReplicationStats":               rpkit.Any().ReadOnly(),
		"isSkuConversionBlocked":            rpkit.Any().ReadOnly(),
		"keyCreationTime":                   rpkit.Any().ReadOnly(),
		"lastGeoFailoverTime":               rpkit.Any().ReadOnly(),
		"primaryEndpoints":                  rpkit.Any().ReadOnly(),
		"primaryLocation":                   rpkit.Any().ReadOnly(),
		"privateEndpointConnections":        rpkit.Any().ReadOnly(),
		"provisioningState":                 rpkit.Any().ReadOnly(),
		"secondaryEndpoints":                rpkit.Any().ReadOnly(),
		"secondaryLocation":                 rpkit.Any().ReadOnly(),
		"statusOfPrimary":                   rpkit.Any().ReadOnly(),
		"statusOfSecondary":                 rpkit.Any().ReadOnly(),
		"storageAccountSkuConversionStatus": rpkit.Any().ReadOnly(),
	})

	containerProperties = rpkit.Object("ContainerProperties", rpkit.Members{
		"publicAccess":                   rpkit.Enum("PublicAccess", "Container", "Blob", "None"),
		"metadata":                       rpkit.MapOf(rpkit.String()),
		"defaultEncryptionScope":         rpkit.String(),
		"denyEncryptionScopeOverride":    rpkit.Bool(),
		"immutableStorageWithVersioning": rpkit.Any(),
		"enableNfsV3RootSquash":          rpkit.Bool(),
		"enableNfsV3AllSquash":           rpkit.Bool(),

		"version":                rpkit.Any().ReadOnly(),
		"deleted":                rpkit.Any().ReadOnly(),
		"deletedTime":            rpkit.Any().ReadOnly(),
		"remainingRetentionDays": rpkit.Any().ReadOnly(),
		"lastModifiedTime":       rpkit.Any().ReadOnly(),
		"leaseStatus":            rpkit.Any().ReadOnly(),
		"leaseState":             rpkit.Any().ReadOnly(),
		"leaseDuration":          rpkit.Any().ReadOnly(),
		"immutabilityPolicy":     rpkit.Any().ReadOnly(),
		"legalHold":              rpkit.Any().ReadOnly(),
		"hasLegalHold":           rpkit.Any().ReadOnly(),
		"hasImmutabilityPolicy":  rpkit.Any().ReadOnly(),
		"provisioningState":      rpkit.Any().ReadOnly(), // armlet's own exports carry it
	})
)
