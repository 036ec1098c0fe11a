package authz

import "github.com/armlet/armlet/internal/arm/resourceid"

// Built-in role ids (role definition names).
const (
	RoleOwner                   = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	RoleContributor             = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	RoleReader                  = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	RoleUserAccessAdministrator = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	RoleAzureMLDataScientist    = "f6c7c914-8db3-469d-8ca1-694a8f32e121"
	RoleAzureMLComputeOperator  = "e503ece1-11d0-4e8e-8e2c-7a6c3bf38815"
	// The Storage Blob Data roles, whose data actions the blob data plane
	// checks.
	RoleStorageBlobDataReader      = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
	RoleStorageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
	RoleStorageBlobDataOwner       = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
	RoleKeyVaultSecretsUser        = "4633458b-17de-408a-b874-0445c86b69e6"
	RoleKeyVaultSecretsOfficer     = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
	RoleKeyVaultAdministrator      = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
)

// BuiltInRole is a built-in role with its description.
type BuiltInRole struct {
	Role
	Description string
}

const (
	ml    = "Microsoft.MachineLearningServices/workspaces"
	blobs = "Microsoft.Storage/storageAccounts/blobServices"
	kv    = "Microsoft.KeyVault"
)

// keyVaultActions are the actions Key Vault's data roles grant beside
// their data actions: reading the vault and its deployments, not
// changing it.
var keyVaultActions = []string{
	"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/deployments/*",
	"Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*", kv + "/checkNameAvailability/read",
	kv + "/deletedVaults/read", kv + "/locations/*/read", kv + "/vaults/*/read", kv + "/operations/read",
}

// BuiltIns returns the built-in roles armlet knows, all assignable at "/".
//
// Permissions are Azure's as published (arm-conventions.md 1.8): Owner,
// Contributor (2024-11 version), AzureML Data Scientist (2023-06 version)
// and AzureML Compute Operator were read from role JSON; Reader's "*/read"
// and User Access Administrator's "*/read", "Microsoft.Authorization/*",
// "Microsoft.Support/*" are the documented ones, not checked against a
// role JSON. Data actions of these roles are left out (Azure ML's
// built-ins grant none for the workspace data plane). The Storage Blob
// Data roles' actions and data actions are Azure's published ones. Key
// Vault Secrets User, Key Vault Secrets Officer and Key Vault
// Administrator are Azure's published definitions (security built-in
// roles, 2024): their data actions are what a vault with
// enableRbacAuthorization checks.
func BuiltIns() []BuiltInRole {
	root := []resourceid.ID{resourceid.Root}
	b := func(id, name, desc string, p Permission) BuiltInRole {
		return BuiltInRole{Role: Role{ID: id, Name: name, Permissions: []Permission{p}, AssignableScopes: root}, Description: desc}
	}
	return []BuiltInRole{
		b(RoleOwner, "Owner", "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
			Permission{Actions: []string{"*"}}),
		b(RoleContributor, "Contributor", "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
			Permission{Actions: []string{"*"}, NotActions: []string{
				"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action",
				"Microsoft.Blueprint/blueprintAssignments/write", "Microsoft.Blueprint/blueprintAssignments/delete",
				"Microsoft.Compute/galleries/share/action", "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
				"Microsoft.Resources/deploymentStacks/manageDenySetting/action", "Microsoft.Subscription/cancel/action",
				"Microsoft.Subscription/enable/action",
			}}),
		b(RoleReader, "Reader", "View all resources, but does not allow you to make any changes.",
			Permission{Actions: []string{"*/read"}}),
		b(RoleUserAccessAdministrator, "User Access Administrator", "Lets you manage user access to Azure resources.",
			Permission{Actions: []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"}}),
		b(RoleAzureMLDataScientist, "AzureML Data Scientist", "Can perform all actions within an Azure Machine Learning workspace, except for creating or deleting compute resources and modifying the workspace itself.",
			Permission{Actions: []string{ml + "/*/read", ml + "/*/action", ml + "/*/delete", ml + "/*/write"},
				NotActions: []string{ml + "/delete", ml + "/write", ml + "/computes/*/write", ml + "/computes/*/delete",
					ml + "/computes/listKeys/action", ml + "/listKeys/action", ml + "/hubs/write", ml + "/hubs/delete",
					ml + "/featurestores/write", ml + "/featurestores/delete"}}),
		b(RoleAzureMLComputeOperator, "AzureML Compute Operator", "Can access and perform CRUD operations on Machine Learning Services managed compute resources (including Notebook VMs).",
			Permission{Actions: []string{ml + "/computes/*", ml + "/notebooks/vm/*"}}),
		b(RoleStorageBlobDataReader, "Storage Blob Data Reader", "Allows for read access to Azure Storage blob containers and data",
			Permission{Actions: []string{blobs + "/containers/read", blobs + "/generateUserDelegationKey/action"},
				DataActions: []string{blobs + "/containers/blobs/read"}}),
		b(RoleStorageBlobDataContributor, "Storage Blob Data Contributor", "Allows for read, write and delete access to Azure Storage blob containers and data",
			Permission{Actions: []string{blobs + "/containers/delete", blobs + "/containers/read", blobs + "/containers/write", blobs + "/generateUserDelegationKey/action"},
				DataActions: []string{blobs + "/containers/blobs/delete", blobs + "/containers/blobs/read", blobs + "/containers/blobs/write",
					blobs + "/containers/blobs/move/action", blobs + "/containers/blobs/add/action"}}),
		b(RoleStorageBlobDataOwner, "Storage Blob Data Owner", "Allows for full access to Azure Storage blob containers and data, including assigning POSIX access control.",
			Permission{Actions: []string{blobs + "/containers/*", blobs + "/generateUserDelegationKey/action"},
				DataActions: []string{blobs + "/containers/blobs/*"}}),
		b(RoleKeyVaultSecretsUser, "Key Vault Secrets User", "Read secret contents. Only works for key vaults that use the 'Azure role-based access control' permission model.",
			Permission{DataActions: []string{kv + "/vaults/secrets/getSecret/action", kv + "/vaults/secrets/readMetadata/action"}}),
		b(RoleKeyVaultSecretsOfficer, "Key Vault Secrets Officer", "Perform any action on the secrets of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
			Permission{Actions: keyVaultActions, DataActions: []string{kv + "/vaults/secrets/*"}}),
		b(RoleKeyVaultAdministrator, "Key Vault Administrator", "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets. Cannot manage key vault resources or manage role assignments. Only works for key vaults that use the 'Azure role-based access control' permission model.",
			Permission{Actions: keyVaultActions, DataActions: []string{kv + "/vaults/*"}}),
	}
}
