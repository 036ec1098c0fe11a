package policy

import (
	"encoding/json"
	"strings"
)

// BuiltIn is a built-in policy definition: served read-only at
// /providers/Microsoft.Authorization/policyDefinitions/{Name}.
type BuiltIn struct {
	Name        string // the definition's GUID
	DisplayName string
	Description string
	Mode        string
	Version     string
	Parameters  map[string]any
	Rule        map[string]any
}

// effectParam is the usual "effect" parameter of a built-in.
func effectParam(def string, allowed ...string) map[string]any {
	av := make([]any, len(allowed))
	for i, a := range allowed {
		av[i] = a
	}
	return map[string]any{"effect": map[string]any{
		"type":          "String",
		"metadata":      map[string]any{"displayName": "Effect", "description": "Enable or disable the execution of the policy"},
		"allowedValues": av,
		"defaultValue":  def,
	}}
}

func mustObject(s string) map[string]any {
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic("policy: bad built-in rule: " + err.Error())
	}
	return v
}

// BuiltIns returns the built-in Machine Learning definitions armlet
// evaluates (arm-conventions.md section 1.9): the ones whose rules ARM
// evaluates on workspaces and computes. The deployIfNotExists and
// data-plane definitions are not served.
func BuiltIns() []BuiltIn {
	const ws = "Microsoft.MachineLearningServices/workspaces"
	return []BuiltIn{
		{
			Name:        "438c38d2-3772-465a-a9cc-7a6666a275ce",
			DisplayName: "Azure Machine Learning workspaces should disable public network access",
			Description: "Disabling public network access improves security by ensuring that the machine learning workspaces aren't exposed on the public internet. Create private endpoints to limit exposure of your workspaces.",
			Mode:        "Indexed", Version: "2.0.0",
			Parameters: effectParam("Audit", "Audit", "Deny", "Disabled"),
			Rule: mustObject(`{"if":{"allOf":[{"field":"type","equals":"` + ws + `"},
				{"anyOf":[{"field":"` + ws + `/publicNetworkAccess","exists":"false"},
				          {"field":"` + ws + `/publicNetworkAccess","notEquals":"Disabled"}]}]},
				"then":{"effect":"[parameters('effect')]"}}`),
		},
		{
			Name:        "a10ee784-7409-4941-b091-663697637c0f",
			DisplayName: "Configure Azure Machine Learning Workspaces to disable public network access",
			Description: "Disable public network access for Azure Machine Learning Workspaces so that your workspaces aren't accessible over the public internet.",
			Mode:        "Indexed", Version: "1.0.2",
			Parameters: effectParam("Modify", "Modify", "Disabled"),
			Rule: mustObject(`{"if":{"allOf":[{"field":"type","equals":"` + ws + `"},
				{"field":"` + ws + `/publicNetworkAccess","notEquals":"Disabled"}]},
				"then":{"effect":"[parameters('effect')]","details":{
				  "roleDefinitionIds":["/providers/microsoft.authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"],
				  "conflictEffect":"audit",
				  "operations":[{"condition":"[greaterOrEquals(requestContext().apiVersion, '2021-07-01')]",
				    "operation":"addOrReplace","field":"` + ws + `/publicNetworkAccess","value":"Disabled"}]}}}`),
		},
		{
			Name:        "45e05259-1eb5-4f70-9574-baf73e9d219b",
			DisplayName: "Azure Machine Learning workspaces should use private link",
			Description: "Azure Private Link lets you connect your virtual network to Azure services without a public IP address at the source or destination. By mapping private endpoints to Azure Machine Learning workspaces, data leakage risks are reduced.",
			Mode:        "Indexed", Version: "1.0.0",
			Parameters: effectParam("Audit", "Audit", "Disabled"),
			Rule: mustObject(`{"if":{"allOf":[{"field":"type","equals":"` + ws + `"},
				{"count":{"field":"` + ws + `/privateEndpointConnections[*]",
				  "where":{"field":"` + ws + `/privateEndpointConnections[*].privateLinkServiceConnectionState.status","equals":"Approved"}},
				 "less":1}]},
				"then":{"effect":"[parameters('effect')]"}}`),
		},
		{
			Name:        "ba769a63-b8cc-4b2d-abf6-ac33c7204be8",
			DisplayName: "Azure Machine Learning workspaces should be encrypted with a customer-managed key",
			Description: "Manage encryption at rest of Azure Machine Learning workspace data with customer-managed keys.",
			Mode:        "Indexed", Version: "1.1.0",
			Parameters: effectParam("Audit", "Audit", "Deny", "Disabled"),
			Rule: mustObject(`{"if":{"allOf":[{"field":"type","equals":"` + ws + `"},
				{"not":{"field":"kind","equals":"project"}},
				{"not":{"field":"` + ws + `/encryption.status","equals":"enabled"}}]},
				"then":{"effect":"[parameters('effect')]"}}`),
		},
		{
			Name:        "7f40cee6-e933-4d0f-a782-b96615e0f4a6",
			DisplayName: "Azure Machine Learning workspaces should be encrypted with the use of a customer-managed key",
			Description: "Manage encryption at rest of Azure Machine Learning workspace data with customer-managed keys.",
			Mode:        "Indexed", Version: "1.0.0",
			Parameters: effectParam("AuditIfNotExists", "AuditIfNotExists", "Disabled"),
			Rule: mustObject(`{"if":{"allOf":[{"field":"type","equals":"` + ws + `"},
				{"not":{"field":"kind","equals":"project"}}]},
				"then":{"effect":"[parameters('effect')]","details":{"type":"` + ws + `","name":"[field('name')]",
				  "existenceCondition":{"allOf":[{"field":"` + ws + `/encryption.status","equals":"Enabled"}]}}}}`),
		},
		{
			Name:        "e413671a-dd10-4cc1-a943-45b598596cb7",
			DisplayName: "Azure Machine Learning workspaces should enable V1LegacyMode to support network isolation backward compatibility",
			Description: "Azure ML is making a transition to a new V2 API platform on Azure Resource Manager; V1LegacyMode keeps the V1 network isolation behaviour.",
			Mode:        "Indexed", Version: "1.0.0",
			Parameters: effectParam("Audit", "Audit", "Deny", "Disabled"),
			Rule: mustObject(`{"if":{"allOf":[{"field":"type","equals":"` + ws + `"},
				{"field":"` + ws + `/v1LegacyMode","notEquals":true}]},
				"then":{"effect":"[parameters('effect')]"}}`),
		},
		{
			Name:        "e96a9a5f-07ca-471b-9bc5-6a0f33cbd68f",
			DisplayName: "Azure Machine Learning Computes should have local authentication methods disabled",
			Description: "Disabling local authentication methods improves security by ensuring that Machine Learning Computes require Azure Active Directory identities exclusively for authentication.",
			Mode:        "All", Version: "2.1.0",
			Parameters: effectParam("Audit", "Audit", "Deny", "Disabled"),
			Rule: mustObject(`{"if":{"allOf":[{"field":"type","equals":"` + ws + `/computes"},
				{"field":"` + ws + `/computes/computeType","in":["ComputeInstance","AmlCompute"]},
				{"field":"` + ws + `/computes/disableLocalAuth","notEquals":true}]},
				"then":{"effect":"[parameters('effect')]"}}`),
		},
		{
			Name:        "a6f9a2d0-cff7-4855-83ad-4cd750666512",
			DisplayName: "Configure Azure Machine Learning Computes to disable local authentication methods",
			Description: "Disable location authentication methods so that your Machine Learning Computes require Azure Active Directory identities exclusively for authentication.",
			Mode:        "All", Version: "2.1.0",
			Parameters: effectParam("Modify", "Modify", "Disabled"),
			Rule: mustObject(`{"if":{"allOf":[{"field":"type","equals":"` + ws + `/computes"},
				{"field":"` + ws + `/computes/computeType","in":["ComputeInstance","AmlCompute"]},
				{"field":"` + ws + `/computes/disableLocalAuth","notEquals":true}]},
				"then":{"effect":"[parameters('effect')]","details":{
				  "roleDefinitionIds":["/providers/microsoft.authorization/roleDefinitions/f58310d9-a9f6-439a-9e8d-f62e7b41a168"],
				  "conflictEffect":"audit",
				  "operations":[{"operation":"addOrReplace","field":"` + ws + `/computes/disableLocalAuth","value":true}]}}}`),
		},
		{
			Name:        "679ddf89-ab8f-48a5-9029-e76054077449",
			DisplayName: "Azure Machine Learning Compute Instance should have idle shutdown.",
			Description: "Having an idle shutdown schedule reduces cost by shutting down computes that are idle after a pre-determined period of activity.",
			Mode:        "All", Version: "1.0.0",
			Parameters: effectParam("Audit", "Audit", "Deny", "Disabled"),
			Rule: mustObject(`{"if":{"allOf":[{"field":"type","equals":"` + ws + `/computes"},
				{"field":"` + ws + `/computes/computeType","equals":"ComputeInstance"},
				{"anyOf":[{"field":"` + ws + `/computes/idleTimeBeforeShutdown","exists":false},
				          {"value":"[empty(field('` + ws + `/computes/idleTimeBeforeShutdown'))]","equals":true}]}]},
				"then":{"effect":"[parameters('effect')]"}}`),
		},
	}
}

// FindBuiltIn returns the built-in named name (a GUID, any case).
func FindBuiltIn(name string) (BuiltIn, bool) {
	for _, b := range BuiltIns() {
		if strings.EqualFold(b.Name, name) {
			return b, true
		}
	}
	return BuiltIn{}, false
}
