# A key vault with public network access and an access policy for the
# caller, and a secret in it, as azurerm writes them; TestTerraformKeyVaultSecret
# applies it against armlet, checks that a second plan is empty and
# destroys it (azurerm deletes and purges the secret, then the vault).
#
# The provider is configured from the environment as for
# testdata/terraform/workspace: ARM_METADATA_HOSTNAME, ARM_TENANT_ID,
# ARM_SUBSCRIPTION_ID, ARM_CLIENT_ID, ARM_CLIENT_SECRET, SSL_CERT_FILE and
# HTTPS_PROXY (armlet's HTTPS proxy, through which azurerm reaches
# https://tfkvsecrets1.vault.azure.net: its availability check, its
# certificate contacts and the secret).

terraform {
  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
    }
  }
}

provider "azurerm" {
  features {}
  resource_provider_registrations = "none"
}

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "rg" {
  name     = "tf-kv"
  location = "eastus"
}

resource "azurerm_key_vault" "kv" {
  name                       = "tfkvsecrets1"
  location                   = azurerm_resource_group.rg.location
  resource_group_name        = azurerm_resource_group.rg.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  soft_delete_retention_days = 7
  rbac_authorization_enabled = false

  access_policy {
    tenant_id          = data.azurerm_client_config.current.tenant_id
    object_id          = data.azurerm_client_config.current.object_id
    secret_permissions = ["Get", "List", "Set", "Delete", "Recover", "Purge"]
  }
}

resource "azurerm_key_vault_secret" "db" {
  name         = "db-password"
  value        = "s3cr3t-from-terraform"
  content_type = "text/plain"
  key_vault_id = azurerm_key_vault.kv.id
}
