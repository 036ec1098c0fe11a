package network

import (
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// typeDelegations is the type of a subnet's delegations.
const typeDelegations = TypeSubnets + "/delegations"

// delegationActions are the actions a delegation lets its service take
// on the subnet, by service, as Azure lists them (availableDelegations).
// Choice: a service not listed here gets the one action every delegation
// grants, Microsoft.Network/virtualNetworks/subnets/action.
var delegationActions = map[string][]string{
	"Microsoft.Sql/managedInstances": {
		"Microsoft.Network/virtualNetworks/subnets/join/action",
		"Microsoft.Network/virtualNetworks/subnets/prepareNetworkPolicies/action",
		"Microsoft.Network/virtualNetworks/subnets/unprepareNetworkPolicies/action",
	},
	"Microsoft.Web/serverFarms":                   {"Microsoft.Network/virtualNetworks/subnets/action"},
	"Microsoft.ContainerInstance/containerGroups": {"Microsoft.Network/virtualNetworks/subnets/action"},
}

// renderSubnetComputed adds the members Azure computes for a subnet:
// ipConfigurations (of the private endpoints' network interfaces in it,
// [] when none) and resourceNavigationLinks ([]: armlet has no service
// that links one); each delegation's id, type, actions and
// provisioningState, and the subnet's purpose; each service endpoint's
// locations and provisioningState.
func renderSubnetComputed(vnet *engine.Resource, subnet resourceid.ID, props map[string]any, users []subnetUser) {
	configs := make([]any, 0, len(users))
	for _, u := range users {
		if u.ipConfigID != "" {
			configs = append(configs, map[string]any{"id": u.ipConfigID})
		}
	}
	props["ipConfigurations"] = configs
	if _, ok := props["resourceNavigationLinks"]; !ok {
		props["resourceNavigationLinks"] = []any{}
	}
	if list, ok := props["delegations"].([]any); ok {
		for _, v := range list {
			d, ok := v.(map[string]any)
			if !ok {
				continue
			}
			name, _ := d["name"].(string)
			d["id"] = subnet.String() + "/delegations/" + name
			d["type"] = typeDelegations
			dp, _ := d["properties"].(map[string]any)
			if dp == nil {
				dp = map[string]any{}
				d["properties"] = dp
			}
			service, _ := dp["serviceName"].(string)
			actions := delegationActions[service]
			if actions == nil {
				actions = []string{"Microsoft.Network/virtualNetworks/subnets/action"}
			}
			out := make([]any, len(actions))
			for i, a := range actions {
				out[i] = a
			}
			dp["actions"] = out
			dp["provisioningState"] = "Succeeded"
			// Choice: a delegated subnet's purpose is its first
			// delegation's service (Azure's values are not documented).
			if _, ok := props["purpose"]; !ok && service != "" {
				props["purpose"] = service
			}
		}
	}
	if list, ok := props["serviceEndpoints"].([]any); ok {
		for _, v := range list {
			se, ok := v.(map[string]any)
			if !ok {
				continue
			}
			// Choice: a service endpoint covers the virtual network's
			// region (Azure adds its paired region for Storage).
			if _, ok := se["locations"]; !ok {
				se["locations"] = []any{vnet.Location}
			}
			se["provisioningState"] = "Succeeded"
		}
	}
}
