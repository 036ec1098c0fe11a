package policy

import "strings"

// aliases maps a lower-cased alias to the property path it reads in a
// resource's ARM JSON body. "[*]" marks an array whose every member the
// rest of the path applies to.
//
// Choice: Azure derives aliases from each provider's swagger; armlet keeps
// the Machine Learning aliases its built-in definitions and common custom
// policies use (arm-conventions.md section 1.10). The nesting of the
// compute aliases follows the ARM body of a compute: computeType and
// disableLocalAuth sit in properties, the compute-specific members in
// properties.properties.
var aliases = lowerKeys(func() map[string]string {
	const ws = "Microsoft.MachineLearningServices/workspaces"
	return map[string]string{
		ws + "/publicNetworkAccess":                         "properties.publicNetworkAccess",
		ws + "/allowPublicAccessWhenBehindVnet":             "properties.allowPublicAccessWhenBehindVnet",
		ws + "/hbiWorkspace":                                "properties.hbiWorkspace",
		ws + "/encryption":                                  "properties.encryption",
		ws + "/encryption.status":                           "properties.encryption.status",
		ws + "/encryption.keyVaultProperties.keyIdentifier": "properties.encryption.keyVaultProperties.keyIdentifier",
		ws + "/managedNetwork.isolationMode":                "properties.managedNetwork.isolationMode",
		ws + "/v1LegacyMode":                                "properties.v1LegacyMode",
		ws + "/primaryUserAssignedIdentity":                 "properties.primaryUserAssignedIdentity",
		ws + "/imageBuildCompute":                           "properties.imageBuildCompute",
		ws + "/keyVault":                                    "properties.keyVault",
		ws + "/storageAccount":                              "properties.storageAccount",
		ws + "/applicationInsights":                         "properties.applicationInsights",
		ws + "/containerRegistry":                           "properties.containerRegistry",
		ws + "/systemDatastoresAuthMode":                    "properties.systemDatastoresAuthMode",
		ws + "/sku.name":                                    "sku.name",
		ws + "/sku.tier":                                    "sku.tier",
		ws + "/privateEndpointConnections":                  "properties.privateEndpointConnections",
		ws + "/privateEndpointConnections[*]":               "properties.privateEndpointConnections[*]",
		ws + "/privateEndpointConnections[*].privateLinkServiceConnectionState.status": "properties.privateEndpointConnections[*].properties.privateLinkServiceConnectionState.status",
		ws + "/privateEndpointConnections/privateLinkServiceConnectionState.status":    "properties.privateLinkServiceConnectionState.status",
		ws + "/computes/computeType":                            "properties.computeType",
		ws + "/computes/disableLocalAuth":                       "properties.disableLocalAuth",
		ws + "/computes/computeLocation":                        "properties.computeLocation",
		ws + "/computes/subnet.id":                              "properties.properties.subnet.id",
		ws + "/computes/idleTimeBeforeShutdown":                 "properties.properties.idleTimeBeforeShutdown",
		ws + "/computes/osImageMetadata.isLatestOsImageVersion": "properties.properties.osImageMetadata.isLatestOsImageVersion",
		ws + "/computes/enableNodePublicIp":                     "properties.properties.enableNodePublicIp",
		ws + "/onlineEndpoints/publicNetworkAccess":             "properties.publicNetworkAccess",
		ws + "/onlineEndpoints/authMode":                        "properties.authMode",
		ws + "/outboundRules[*]":                                "properties.managedNetwork.outboundRules[*]",
	}
}())

// lowerKeys returns m with its keys lower-cased (aliases match ignoring
// case).
func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// plainFields are the fields that need no alias, with their paths.
var plainFields = map[string]string{
	"type":                            "type",
	"name":                            "name",
	"fullname":                        "fullName",
	"kind":                            "kind",
	"location":                        "location",
	"id":                              "id",
	"tags":                            "tags",
	"identity.type":                   "identity.type",
	"identity.userassignedidentities": "identity.userAssignedIdentities",
}

// seg is one step of a property path: a member name, then, when star is
// set, every element of the array that member holds.
type seg struct {
	name string
	star bool
}

// fieldPath is a resolved field: its path in the ARM body as text (for
// evaluation details) and as steps.
type fieldPath struct {
	text string
	segs []seg
}

func parsePath(p string) []seg {
	var out []seg
	for part := range strings.SplitSeq(p, ".") {
		s := seg{name: part}
		if strings.HasSuffix(part, "[*]") {
			s = seg{name: strings.TrimSuffix(part, "[*]"), star: true}
		}
		out = append(out, s)
	}
	return out
}

// resolveField returns the property path of a field as a policy rule
// writes it, or ok=false for an unknown alias or field.
func resolveField(field string) (fieldPath, bool) {
	lf := strings.ToLower(strings.TrimSpace(field))
	if p, ok := plainFields[lf]; ok {
		return fieldPath{text: p, segs: parsePath(p)}, true
	}
	if tag, ok := tagName(field); ok {
		return fieldPath{text: "tags." + tag, segs: []seg{{name: "tags"}, {name: tag}}}, true
	}
	if p, ok := aliases[lf]; ok {
		return fieldPath{text: p, segs: parsePath(p)}, true
	}
	return fieldPath{}, false
}

// tagName recognises tags['k'], tags[k] and tags.k.
func tagName(field string) (string, bool) {
	f := strings.TrimSpace(field)
	if len(f) < 5 || !strings.EqualFold(f[:4], "tags") {
		return "", false
	}
	rest := f[4:]
	switch {
	case strings.HasPrefix(rest, "['") && strings.HasSuffix(rest, "']") && len(rest) > 4:
		return rest[2 : len(rest)-2], true
	case strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") && len(rest) > 2:
		return rest[1 : len(rest)-1], true
	case strings.HasPrefix(rest, ".") && len(rest) > 1:
		return rest[1:], true
	}
	return "", false
}

// Aliases returns the known aliases (lower-cased), for error messages.
func knownAliasesFor(prefix string) []string {
	var out []string
	lp := strings.ToLower(prefix)
	for a := range aliases {
		if strings.HasPrefix(a, lp) {
			out = append(out, a)
		}
	}
	return out
}
