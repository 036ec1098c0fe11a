package machinelearning

import "regexp"

// workspaceNamePattern is the spec's rule for workspace names.
var workspaceNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$`)

const workspaceNameRule = "Workspace names must be 3 to 33 characters long, start with a letter or a digit, and contain only letters, digits, underscores (_) and hyphens (-)."

// Resource types that workspace properties refer to.
const (
	typeStorageAccounts   = "Microsoft.Storage/storageAccounts"
	typeKeyVaults         = "Microsoft.KeyVault/vaults"
	typeAppInsights       = "Microsoft.Insights/components"
	typeContainerRegistry = "Microsoft.ContainerRegistry/registries"
	typeUserIdentities    = "Microsoft.ManagedIdentity/userAssignedIdentities"
	typeSubnets           = "Microsoft.Network/virtualNetworks/subnets"
)

// connectionStatus is the AML side's private link connection state enum.
var connectionStatus = enum("PrivateEndpointServiceConnectionStatus", "Pending", "Approved", "Rejected", "Disconnected", "Timeout")

// Outbound rules of a managed network (discriminated by "type").
var (
	ruleCategory = enum("RuleCategory", "Required", "Recommended", "UserDefined", "Dependency")
	ruleStatus   = enum("RuleStatus", "Inactive", "Active", "Provisioning", "Deleting", "Failed")

	outboundRule = func() *field {
		common := func(name string, dest *field) *field {
			return object(name, map[string]*field{
				"type":             enum("RuleType", "FQDN", "PrivateEndpoint", "ServiceTag"),
				"category":         ruleCategory,
				"status":           ruleStatus.ro(),
				"destination":      dest,
				"errorInformation": str().ro().from("2025-04-01"),
				"parentRuleNames":  arrayOf(str()).ro().from("2025-04-01"),
			}, "type")
		}
		return &field{kind: kUnion, typeName: "OutboundRule", discriminator: "type", discType: "RuleType", variants: map[string]*field{
			"FQDN": common("FqdnOutboundRule", str()),
			"PrivateEndpoint": common("PrivateEndpointOutboundRule", object("PrivateEndpointDestination", map[string]*field{
				"serviceResourceId": armID(""),
				"subresourceTarget": str(),
				"sparkEnabled":      boolean(),
				"sparkStatus":       ruleStatus.ro(),
			})),
			"ServiceTag": common("ServiceTagOutboundRule", object("ServiceTagDestination", map[string]*field{
				"serviceTag":      str(),
				"protocol":        str(),
				"portRanges":      str(),
				"action":          enum("RuleAction", "Allow", "Deny"),
				"addressPrefixes": arrayOf(str()).ro(),
			})),
		}}
	}()

	managedNetworkSettings = object("ManagedNetworkSettings", map[string]*field{
		"isolationMode": enum("IsolationMode", "Disabled", "AllowInternetOutbound", "AllowOnlyApprovedOutbound"),
		"networkId":     str().ro(),
		"outboundRules": mapOf(outboundRule),
		"status": object("ManagedNetworkProvisionStatus", map[string]*field{
			"sparkReady": boolean(),
			"status":     enum("ManagedNetworkStatus", "Inactive", "Active"),
		}).ro(),
		"firewallSku":             enum("FirewallSku", "Basic", "Standard").from("2024-10-01"),
		"firewallPublicIpAddress": str().ro().from("2025-04-01"),
		"managedNetworkKind":      enum("ManagedNetworkKind", "V1", "V2").from("2025-04-01"),
		"enableFirewallLog":       boolean().from("2025-09-01"),
		"enableNetworkMonitor":    boolean().from("2025-09-01"),
	})

	encryptionProperty = object("EncryptionProperty", map[string]*field{
		"status": enum("EncryptionStatus", "Enabled", "Disabled"),
		"keyVaultProperties": object("EncryptionKeyVaultProperties", map[string]*field{
			"keyVaultArmId":    armID(typeKeyVaults),
			"keyIdentifier":    str(),
			"identityClientId": str(),
		}, "keyVaultArmId", "keyIdentifier"),
		"identity": object("IdentityForCmk", map[string]*field{
			"userAssignedIdentity": armID(typeUserIdentities),
		}),
		// Choice: no model of any version has these three, but
		// azure-ai-ml's own workspace template (workspace_base.json)
		// sends them, usually empty, and Azure takes that template:
		// accepted as strings and kept, at every version (since the
		// namespace's first).
		"cosmosDbArmId":       str().from(PreviewAPIVersions[0]),
		"storageAccountArmId": str().from(PreviewAPIVersions[0]),
		"searchAccountArmId":  str().from(PreviewAPIVersions[0]),
	}, "status", "keyVaultProperties")
)

// workspaceProperties is WorkspaceProperties of api-version 2024-04-01
// plus what 2024-10-01 to 2025-09-01 add (docs/azure-ml-arm.md
// sections 1.3 and 3).
//
// Choice: the api-version that introduced each property (its since) is
// known for v1LegacyMode (2022-05-01) and the 2024-10-01/2025 additions;
// for the others it is armlet's estimate: publicNetworkAccess 2022-05-01
// (2021-07-01 responses lack it), managedNetwork and featureStoreSettings
// 2023-10-01, the hub/project and serverless properties 2024-04-01.
// Properties older than 2022 are treated as known to every api-version.
// A request at a stable api-version that sends a property its version
// does not have gets the "Could not find member" error; responses at that
// version omit it.
var workspaceProperties = object("WorkspaceProperties", map[string]*field{
	"allowPublicAccessWhenBehindVnet": boolean(),
	"applicationInsights":             armID(typeAppInsights),
	"associatedWorkspaces":            arrayOf(str()).from("2024-04-01"),
	"containerRegistry":               armID(typeContainerRegistry),
	"description":                     str(),
	"discoveryUrl":                    str().ro(),
	"enableDataIsolation":             boolean().from("2024-04-01"),
	"encryption":                      encryptionProperty,
	"featureStoreSettings": object("FeatureStoreSettings", map[string]*field{
		"computeRuntime": object("ComputeRuntimeDto", map[string]*field{
			"sparkRuntimeVersion": str(),
		}),
		"offlineStoreConnectionName": str(),
		"onlineStoreConnectionName":  str(),
	}).from("2023-10-01"),
	"friendlyName":                str(),
	"hbiWorkspace":                boolean(),
	"hubResourceId":               armID(TypeWorkspaces).from("2024-04-01"),
	"imageBuildCompute":           str(),
	"keyVault":                    armID(typeKeyVaults),
	"managedNetwork":              managedNetworkSettings.from("2023-10-01"),
	"mlFlowTrackingUri":           str().ro(),
	"notebookInfo":                str().ro(),
	"primaryUserAssignedIdentity": armID(typeUserIdentities),
	"privateEndpointConnections":  str().ro(),
	"privateLinkCount":            str().ro(),
	"provisioningState":           str().ro(),
	"publicNetworkAccess":         enum("PublicNetworkAccess", "Enabled", "Disabled").from("2022-05-01"),
	"serverlessComputeSettings": object("ServerlessComputeSettings", map[string]*field{
		"serverlessComputeCustomSubnet": armID(typeSubnets),
		"serverlessComputeNoPublicIP":   boolean(),
	}).from("2024-04-01"),
	"serviceManagedResourcesSettings": object("ServiceManagedResourcesSettings", map[string]*field{
		"cosmosDb": object("CosmosDbSettings", map[string]*field{
			"collectionsThroughput": integer(),
		}),
	}),
	"serviceProvisionedResourceGroup": str().ro(),
	"sharedPrivateLinkResources": arrayOf(object("SharedPrivateLinkResource", map[string]*field{
		"name": str(),
		"properties": object("SharedPrivateLinkResourceProperty", map[string]*field{
			"groupId":               str(),
			"privateLinkResourceId": armID(""),
			"requestMessage":        str(),
			"status":                connectionStatus,
		}),
	})),
	"storageAccount":    armID(typeStorageAccounts),
	"storageHnsEnabled": boolean().ro(),
	"tenantId":          str().ro(),
	"v1LegacyMode":      boolean().from(LegacyModeAPIVersion),
	"workspaceHubConfig": object("WorkspaceHubConfig", map[string]*field{
		"additionalWorkspaceStorageAccounts": arrayOf(str()),
		"defaultWorkspaceResourceGroup":      str(),
	}).from("2024-04-01"),
	"workspaceId":                    str().ro(),
	"enableServiceSideCMKEncryption": boolean().from("2025-04-01"),
	"provisionNetworkNow":            boolean().from("2025-04-01"),
	"systemDatastoresAuthMode":       enum("SystemDatastoresAuthMode", "AccessKey", "Identity", "UserDelegationSAS").from("2025-04-01"),
})

// immutableProperties cannot change after creation, by PUT or PATCH.
var immutableProperties = []string{"storageAccount", "keyVault", "hbiWorkspace"}

// workspaceUpdateProperties is WorkspacePropertiesUpdateParameters: the
// properties a PATCH may change (docs/azure-ml-arm.md section 3, plus 2025's
// systemDatastoresAuthMode). Encryption may only change its key.
var workspaceUpdateProperties = func() *field {
	f := object("WorkspacePropertiesUpdateParameters", map[string]*field{})
	for _, name := range []string{
		"description", "friendlyName", "imageBuildCompute", "serviceManagedResourcesSettings",
		"primaryUserAssignedIdentity", "serverlessComputeSettings", "publicNetworkAccess",
		"applicationInsights", "containerRegistry", "featureStoreSettings", "managedNetwork",
		"enableDataIsolation", "v1LegacyMode", "systemDatastoresAuthMode",
	} {
		f.fields[name] = workspaceProperties.fields[name]
	}
	f.fields["encryption"] = object("EncryptionUpdateProperties", map[string]*field{
		"keyVaultProperties": object("EncryptionKeyVaultUpdateProperties", map[string]*field{
			"keyIdentifier": str(),
		}),
	})
	return f
}()

// skuSchema and identitySchema check the workspace's top-level sku and
// identity members.
var (
	skuSchema = object("Sku", map[string]*field{
		"name":     str(),
		"tier":     enum("SkuTier", "Free", "Basic", "Standard", "Premium"),
		"size":     str(),
		"family":   str(),
		"capacity": integer(),
	}, "name")
	identitySchema = object("ManagedServiceIdentity", map[string]*field{
		"type":                   enum("ManagedServiceIdentityType", "None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"),
		"userAssignedIdentities": mapOf(object("UserAssignedIdentity", map[string]*field{"principalId": str().ro(), "clientId": str().ro()})),
		"principalId":            str().ro(),
		"tenantId":               str().ro(),
	}, "type")
)
