// Package containerregistry is armlet's Microsoft.ContainerRegistry
// resource provider: container registries with their admin credentials
// and private endpoints, as an Azure ML workspace's registry needs them.
// It serves no registry data plane (no images are pushed or pulled).
package containerregistry

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
)

// Resource types of the provider.
const (
	Namespace         = "Microsoft.ContainerRegistry"
	TypeRegistries    = Namespace + "/registries"
	typeConnections   = TypeRegistries + "/privateEndpointConnections"
	typeLinkResources = TypeRegistries + "/privateLinkResources"
)

// APIVersions are the registry api-versions armlet accepts, newest first:
// 2025-11-01 is what Terraform's azurerm and armcontainerregistry v2
// send, and the stable versions before it.
var APIVersions = []string{
	"2025-11-01", "2025-04-01", "2023-07-01", "2023-01-01-preview", "2022-12-01", "2021-09-01",
	"2019-05-01", "2017-10-01",
}

// Options configures the provider.
type Options struct{}

// provider is the state the strategy and the name check share.
type provider struct{ e *engine.Engine }

// Register adds the registry type and the checkNameAvailability route.
func Register(e *engine.Engine, _ Options) {
	p := &provider{e: e}
	e.Registry().Register(&engine.Type{
		Name: TypeRegistries, APIVersions: APIVersions, Tracked: true,
		NamePattern: registryName,
		NameRule:    "Registry names may contain only alpha numeric characters and must be between 5 and 50 characters.",
		// Registries_Create is long-running (200, 201); an update
		// answers at once; Registries_Delete answers 200.
		Put: engine.AsyncOperation, SyncUpdate: true, Delete: engine.Sync,
		Strategy: &registryStrategy{p},
	})
	e.AddRoute(rpkit.NameAvailability{Type: TypeRegistries, Invalid: nameInvalid, Taken: p.nameTaken, InvalidReason: "Invalid"}.Route(e))
}

var registryName = regexp.MustCompile(`^[a-zA-Z0-9]{5,50}$`)

func nameInvalid(name string) string {
	if registryName.MatchString(name) {
		return ""
	}
	return "Registry names may contain only alpha numeric characters and must be between 5 and 50 characters."
}

// nameInUse is Azure's 409 AlreadyInUse text; registry host names are
// lower case.
func nameInUse(name string) string {
	return "The registry DNS name " + strings.ToLower(name) + ".azurecr.io is already in use. " +
		"You can check if the name is already claimed using following API: https://docs.microsoft.com/en-us/rest/api/containerregistry/registries/checknameavailability"
}

// takenBy returns the live registry named name (ignoring case) in any
// subscription, or nil.
func (p *provider) takenBy(ctx context.Context, name string) (*engine.Resource, error) {
	return rpkit.FindByName(ctx, p.e, TypeRegistries, name)
}

func (p *provider) nameTaken(ctx context.Context, name string) (string, error) {
	r, err := p.takenBy(ctx, name)
	if err != nil || r == nil {
		return "", err
	}
	return "The registry " + name + " is already in use.", nil
}

var (
	skuNames      = []string{"Basic", "Standard", "Premium", "Classic"}
	identityTypes = rpkit.Enum("ResourceIdentityType", "SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned", "None")
	status        = func(name string) *rpkit.Schema { return rpkit.Enum(name, "enabled", "disabled") }

	registryProperties = rpkit.Object("RegistryProperties", rpkit.Members{
		"adminUserEnabled":                 rpkit.Bool(),
		"anonymousPullEnabled":             rpkit.Bool(),
		"dataEndpointEnabled":              rpkit.Bool(),
		"encryption":                       rpkit.Any(),
		"networkRuleBypassAllowedForTasks": rpkit.Bool(),
		"networkRuleBypassOptions":         rpkit.Enum("NetworkRuleBypassOptions", "AzureServices", "None"),
		"networkRuleSet": rpkit.Object("NetworkRuleSet", rpkit.Members{
			"defaultAction": rpkit.Enum("DefaultAction", "Allow", "Deny"),
			"ipRules": rpkit.ArrayOf(rpkit.Object("IPRule", rpkit.Members{
				"value": rpkit.String(), "action": rpkit.Enum("Action", "Allow"),
			}).Required("value")),
		}).Required("defaultAction"),
		"policies": rpkit.Object("Policies", rpkit.Members{
			"quarantinePolicy":                 rpkit.Object("QuarantinePolicy", rpkit.Members{"status": status("PolicyStatus")}),
			"trustPolicy":                      rpkit.Object("TrustPolicy", rpkit.Members{"type": rpkit.Enum("TrustPolicyType", "Notary"), "status": status("PolicyStatus")}),
			"retentionPolicy":                  rpkit.Object("RetentionPolicy", rpkit.Members{"days": rpkit.Int(), "status": status("PolicyStatus"), "lastUpdatedTime": rpkit.Any().ReadOnly()}),
			"exportPolicy":                     rpkit.Object("ExportPolicy", rpkit.Members{"status": status("ExportPolicyStatus")}),
			"azureADAuthenticationAsArmPolicy": rpkit.Object("AzureADAuthenticationAsArmPolicy", rpkit.Members{"status": status("AzureADAuthenticationAsArmPolicyStatus")}),
		}),
		"publicNetworkAccess": rpkit.Enum("PublicNetworkAccess", "Enabled", "Disabled"),
		"zoneRedundancy":      rpkit.Enum("ZoneRedundancy", "Enabled", "Disabled"),
		"roleAssignmentMode":  rpkit.Enum("RoleAssignmentMode", "LegacyRegistryPermissions", "AbacRepositoryPermissions"),

		"loginServer":                rpkit.Any().ReadOnly(),
		"creationDate":               rpkit.Any().ReadOnly(),
		"provisioningState":          rpkit.Any().ReadOnly(),
		"status":                     rpkit.Any().ReadOnly(),
		"dataEndpointHostNames":      rpkit.Any().ReadOnly(),
		"privateEndpointConnections": rpkit.Any().ReadOnly(),
	})
)

// registryStrategy serves Microsoft.ContainerRegistry/registries.
//
// sku ({name: Basic|Standard|Premium}) is required; names are 5 to 50
// letters and digits (400 InvalidResourceName) and global, compared
// ignoring case as the host names are (409 AlreadyInUse with Azure's
// text). A create gets loginServer {name}.azurecr.io (lower case),
// creationDate, the defaults Azure shows (admin user, anonymous pull and
// data endpoints off, public access on, Azure services bypass, the
// policies off but export) and, with adminUserEnabled, two passwords made
// once and kept. An update keeps the properties it omits.
//
// listCredentials answers the admin user and its passwords while the
// admin user is enabled, and is 400 UnAuthorizedForCredentialOperations
// otherwise, as in Azure; regenerateCredential ({"name": "password" |
// "password2"}) replaces one.
//
// Choice: the network rule set, data endpoints and zone redundancy are
// Premium's (400 otherwise); private endpoints are not refused on the
// lower tiers, which Azure does (a capability cannot refuse).
type registryStrategy struct{ *provider }

var (
	_ engine.Strategy          = (*registryStrategy)(nil)
	_ engine.Renderer          = (*registryStrategy)(nil)
	_ engine.Actioner          = (*registryStrategy)(nil)
	_ engine.ChildLister       = (*registryStrategy)(nil)
	_ engine.PrivateLinkTarget = (*registryStrategy)(nil)
	_ engine.AccessKeyHolder   = (*registryStrategy)(nil)
)

// registryData is what a registry keeps beside its body.
type registryData struct {
	Passwords [2]string `json:"passwords"`
}

const (
	dataKey       = "registry"
	passwordBytes = 39 // 52 characters of base64
)

func badRequest(target, format string, args ...any) *arm.Error {
	return arm.BadRequest(arm.CodeBadRequest, format, args...).WithTarget(target)
}

func (s *registryStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if err := rpkit.CheckEnvelope(desired, "Registry", "sku", "identity"); err != nil {
		return err
	}
	sku, err := checkSku(desired)
	if err != nil {
		return err
	}
	if old == nil {
		if taken, err := s.takenBy(ctx, desired.ID.Name()); err != nil {
			return err
		} else if taken != nil {
			return arm.Conflict("AlreadyInUse", "%s", nameInUse(desired.ID.Name()))
		}
	}
	sent, err := registryProperties.CheckObject("properties", desired.Properties)
	if err != nil {
		return err
	}
	props := rpkit.Updated(old, map[string]any{
		"adminUserEnabled": false, "anonymousPullEnabled": false, "dataEndpointEnabled": false,
		"encryption": map[string]any{"status": "disabled"}, "networkRuleBypassOptions": "AzureServices",
		"networkRuleBypassAllowedForTasks": false, "publicNetworkAccess": "Enabled", "zoneRedundancy": "Disabled",
		"roleAssignmentMode": "LegacyRegistryPermissions",
		"policies": map[string]any{
			"quarantinePolicy":                 map[string]any{"status": "disabled"},
			"trustPolicy":                      map[string]any{"type": "Notary", "status": "disabled"},
			"retentionPolicy":                  map[string]any{"days": json.Number("7"), "status": "disabled"},
			"exportPolicy":                     map[string]any{"status": "enabled"},
			"azureADAuthenticationAsArmPolicy": map[string]any{"status": "enabled"},
		},
	}, sent)
	if sku != "Premium" {
		for _, k := range []string{"networkRuleSet", "dataEndpointEnabled", "zoneRedundancy"} {
			if v, ok := sent[k]; ok && v != false && v != "Disabled" {
				return badRequest("properties."+k, "The property '%s' needs the Premium sku; registry '%s' is %s.", k, desired.ID.Name(), sku)
			}
		}
	}
	desired.Properties = props
	if err := rpkit.CompleteIdentity(ctx, s.e, req, desired, identityTypes); err != nil {
		return err
	}
	var data registryData
	if !desired.GetData(dataKey, &data) || data.Passwords[0] == "" {
		desired.SetData(dataKey, registryData{Passwords: [2]string{rpkit.NewKey(passwordBytes), rpkit.NewKey(passwordBytes)}})
	}
	return nil
}

// checkSku reads the required sku, gives it its tier and returns its
// name.
func checkSku(desired *engine.Resource) (string, error) {
	name, ok, err := rpkit.SkuName(desired, skuNames)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", arm.InvalidContent("sku.name", "Error converting value %q to type 'SkuName': the allowed values are '%s'. Path 'sku.name'.",
			name, strings.Join(skuNames, "', '"))
	}
	desired.Extra["sku"], _ = json.Marshal(map[string]string{"name": name, "tier": name})
	return name, nil
}

// Render adds the login server, the data endpoints and the private
// endpoint connections.
func (s *registryStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	props := body["properties"].(map[string]any)
	host := strings.ToLower(r.ID.Name())
	props["loginServer"] = host + ".azurecr.io"
	props["creationDate"] = r.SystemData.CreatedAt.UTC().Format(time.RFC3339Nano)
	hosts := []any{}
	if on, _ := props["dataEndpointEnabled"].(bool); on {
		hosts = append(hosts, host+"."+r.Location+".data.azurecr.io")
	}
	props["dataEndpointHostNames"] = hosts
	conns, err := rpkit.PrivateEndpointConnections(ctx, s.e, r, typeConnections)
	if err != nil {
		return err
	}
	props["privateEndpointConnections"] = conns
	return nil
}

// Action serves listCredentials and regenerateCredential.
func (s *registryStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	op := strings.ToLower(name)
	if op != "listcredentials" && op != "regeneratecredential" {
		return nil, engine.UnknownAction(TypeRegistries, name)
	}
	if on, _ := r.Properties["adminUserEnabled"].(bool); !on {
		return nil, arm.BadRequest("UnAuthorizedForCredentialOperations",
			"Cannot perform credential operations for %s as admin user is disabled. Kindly enable admin user as per docs: https://docs.microsoft.com/azure/container-registry/container-registry-authentication#admin-account", r.ID)
	}
	if op == "regeneratecredential" {
		var err error
		if r, err = s.regenerate(ctx, req, r); err != nil {
			return nil, err
		}
	}
	var data registryData
	r.GetData(dataKey, &data)
	return engine.JSON(http.StatusOK, map[string]any{
		"username": r.ID.Name(),
		"passwords": []any{
			map[string]any{"name": "password", "value": data.Passwords[0]},
			map[string]any{"name": "password2", "value": data.Passwords[1]},
		},
	}), nil
}

var regenerateParameters = rpkit.Object("RegenerateCredentialParameters", rpkit.Members{
	"name": rpkit.Enum("PasswordName", "password", "password2"),
}).Required("name")

// regenerate replaces the password the body names.
func (s *registryStrategy) regenerate(ctx context.Context, req *engine.Request, r *engine.Resource) (*engine.Resource, error) {
	in, err := regenerateParameters.CheckBody(req.Body)
	if err != nil {
		return nil, err
	}
	i := 0
	if in["name"] == "password2" {
		i = 1
	}
	return s.e.Update(ctx, r.ID, func(cur *engine.Resource) error {
		var data registryData
		cur.GetData(dataKey, &data)
		data.Passwords[i] = rpkit.NewKey(passwordBytes)
		cur.SetData(dataKey, data)
		return nil
	})
}

// ListChildren serves privateLinkResources and an empty replications
// list (geo-replication is not served; azurerm reads the list).
func (s *registryStrategy) ListChildren(_ context.Context, _ *engine.Request, r *engine.Resource, child string) (*engine.Response, bool, error) {
	switch strings.ToLower(child) {
	case "privatelinkresources":
		members := []string{"registry", "registry_data_" + r.Location}
		return rpkit.PrivateLinkResources(r, typeLinkResources, []rpkit.LinkGroup{{ID: "registry", Members: members, Zones: []string{"privatelink.azurecr.io"}}}), true, nil
	case "replications":
		return engine.JSON(http.StatusOK, map[string]any{"value": []any{}}), true, nil
	}
	return nil, false, nil
}

// PrivateLinkGroups: a registry serves one group, registry.
func (s *registryStrategy) PrivateLinkGroups() []string { return []string{"registry"} }

// PrivateLinkFQDNs: the login server and the regional data endpoint, as
// Azure gives a registry's private endpoint; both have their A records in
// privatelink.azurecr.io.
func (s *registryStrategy) PrivateLinkFQDNs(r *engine.Resource, _ string) []engine.PrivateLinkFQDN {
	host := strings.ToLower(r.ID.Name())
	return []engine.PrivateLinkFQDN{
		{FQDN: host + ".azurecr.io", Member: "registry"},
		{FQDN: host + "." + r.Location + ".data.azurecr.io", Member: "registry_data_" + r.Location},
	}
}

// AccessKeys are the admin user's two passwords while the admin user is
// enabled, none otherwise: what an Azure ML workspace linked to the
// registry hands out as its containerRegistryCredentials.
func (s *registryStrategy) AccessKeys(r *engine.Resource) []string {
	if on, _ := r.Properties["adminUserEnabled"].(bool); !on {
		return nil
	}
	var data registryData
	if !r.GetData(dataKey, &data) || data.Passwords[0] == "" {
		return nil
	}
	return data.Passwords[:]
}
