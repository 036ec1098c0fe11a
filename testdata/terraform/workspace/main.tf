# An Azure ML workspace with a managed network, an FQDN outbound rule, a
# compute cluster and a private endpoint with its private DNS zone, as a
# platform team writes it for azurerm; TestTerraform applies it against
# armlet, checks that a second plan is empty and destroys it.
#
# The provider is configured from the environment: ARM_METADATA_HOSTNAME
# (armlet's host:port), ARM_TENANT_ID, ARM_SUBSCRIPTION_ID, ARM_CLIENT_ID,
# ARM_CLIENT_SECRET, and SSL_CERT_FILE for armlet's CA.
#
# Not yet here (armlet does not serve them yet): the storage account, key
# vault and application insights the workspace names (given as ids), a
# storage container and a blob datastore.

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

variable "prefix" {
  type    = string
  default = "tf"
}

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "rg" {
  name     = "${var.prefix}-ml"
  location = "eastus"
}

locals {
  rg_id = azurerm_resource_group.rg.id
}

resource "azurerm_machine_learning_workspace" "ws" {
  name                          = "${var.prefix}-ws"
  location                      = azurerm_resource_group.rg.location
  resource_group_name           = azurerm_resource_group.rg.name
  application_insights_id       = "${local.rg_id}/providers/Microsoft.Insights/components/${var.prefix}ai"
  key_vault_id                  = "${local.rg_id}/providers/Microsoft.KeyVault/vaults/${var.prefix}kv"
  storage_account_id            = "${local.rg_id}/providers/Microsoft.Storage/storageAccounts/${var.prefix}sa"
  public_network_access_enabled = false

  identity {
    type = "SystemAssigned"
  }

  managed_network {
    isolation_mode = "AllowOnlyApprovedOutbound"
  }
}

resource "azurerm_machine_learning_workspace_network_outbound_rule_fqdn" "pypi" {
  name             = "pypi"
  workspace_id     = azurerm_machine_learning_workspace.ws.id
  destination_fqdn = "pypi.org"
}

resource "azurerm_machine_learning_compute_cluster" "cpu" {
  name                          = "cpu"
  location                      = azurerm_resource_group.rg.location
  machine_learning_workspace_id = azurerm_machine_learning_workspace.ws.id
  vm_priority                   = "Dedicated"
  vm_size                       = "STANDARD_DS2_V2"

  identity {
    type = "SystemAssigned"
  }

  scale_settings {
    min_node_count                       = 0
    max_node_count                       = 2
    scale_down_nodes_after_idle_duration = "PT30S"
  }
}

resource "azurerm_virtual_network" "vnet" {
  name                = "${var.prefix}-vnet"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.20.0.0/16"]
}

resource "azurerm_subnet" "pe" {
  name                 = "pe"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.20.1.0/24"]
}

resource "azurerm_private_dns_zone" "ml" {
  name                = "privatelink.api.azureml.ms"
  resource_group_name = azurerm_resource_group.rg.name
}

resource "azurerm_private_dns_zone_virtual_network_link" "ml" {
  name                = "vnet"
  private_dns_zone_id = azurerm_private_dns_zone.ml.id
  virtual_network_id  = azurerm_virtual_network.vnet.id
}

resource "azurerm_private_endpoint" "ws" {
  name                = "${var.prefix}-ws-pe"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  subnet_id           = azurerm_subnet.pe.id

  private_service_connection {
    name                           = "ws"
    private_connection_resource_id = azurerm_machine_learning_workspace.ws.id
    subresource_names              = ["amlworkspace"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "default"
    private_dns_zone_ids = [azurerm_private_dns_zone.ml.id]
  }
}

output "workspace_id" {
  value = azurerm_machine_learning_workspace.ws.id
}

output "private_ip" {
  value = azurerm_private_endpoint.ws.private_service_connection[0].private_ip_address
}
