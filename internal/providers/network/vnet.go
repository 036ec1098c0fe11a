package network

import (
	"context"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/google/uuid"
)

// Virtual networks (Microsoft.Network/virtualNetworks), with their subnets
// inline in properties.subnets.
//
// Validation, with Azure's codes:
//   - properties.addressSpace.addressPrefixes is required, each a CIDR in
//     canonical form (InvalidAddressPrefixFormat, InvalidCIDRNotation);
//   - Choice: the prefixes of one virtual network must not overlap each
//     other (400 VnetAddressSpacesOverlap). Two virtual networks may
//     overlap, even in one subscription and region, as in Azure (only
//     peering them would be refused, and armlet has no peering);
//   - every subnet has a unique name, an addressPrefix or addressPrefixes
//     inside the address space (NetcfgInvalidSubnet), IPv4 prefixes no
//     longer than /29, and no two subnets overlap
//     (NetcfgSubnetRangesOverlap);
//   - privateEndpointNetworkPolicies is Disabled (the default), Enabled,
//     NetworkSecurityGroupEnabled or RouteTableEnabled;
//     privateLinkServiceNetworkPolicies is Enabled (the default) or
//     Disabled;
//   - a PUT replaces the subnets: one it leaves out is deleted, which is
//     refused while a private endpoint is in it (InUseSubnetCannotBeDeleted,
//     Azure's wording). Choice: changing the prefixes of a subnet that holds
//     a private endpoint is refused too (400 InUseSubnetCannotBeUpdated).
//
// Deleting a virtual network with a private endpoint in one of its subnets
// is refused with InUseSubnetCannotBeDeleted.
type vnetStrategy struct{ *provider }

var (
	_ engine.Strategy        = (*vnetStrategy)(nil)
	_ engine.Renderer        = (*vnetStrategy)(nil)
	_ engine.DeleteValidator = (*vnetStrategy)(nil)
)

var (
	vnetNamePattern   = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,62}[a-zA-Z0-9_])?$`)
	subnetNamePattern = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,78}[a-zA-Z0-9_])?$`)
)

const (
	vnetNameRule   = "Virtual network names must be 1 to 64 characters long, start with a letter or a digit, end with a letter, a digit or an underscore, and contain only letters, digits, underscores, periods and hyphens."
	subnetNameRule = "Subnet names must be 1 to 80 characters long, start with a letter or a digit, end with a letter, a digit or an underscore, and contain only letters, digits, underscores, periods and hyphens."
)

// Private endpoint network policies of a subnet.
const (
	policyDisabled = "Disabled"
	policyEnabled  = "Enabled"
)

var pePolicies = []string{policyDisabled, policyEnabled, "NetworkSecurityGroupEnabled", "RouteTableEnabled"}

// subnetReadOnly are the subnet members Azure computes; a client's copy
// (from a GET-modify-PUT) is dropped.
var subnetReadOnly = []string{"provisioningState", "privateEndpoints", "ipConfigurations", "ipConfigurationProfiles",
	"resourceNavigationLinks", "serviceAssociationLinks", "purpose"}

const dataResourceGUID = "resourceGuid"

func (s *vnetStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	return s.checkVnet(ctx, desired, old)
}

// checkVnet validates and completes the virtual network desired against
// the stored old (nil on create). The subnet type uses it too, on a copy
// of the virtual network with one subnet changed.
func (s *vnetStrategy) checkVnet(ctx context.Context, desired, old *engine.Resource) error {
	props := desired.Properties
	id := desired.ID.String()
	as, err := objectAt(props, "addressSpace", "properties.addressSpace")
	if err != nil {
		return err
	}
	raw, err := stringsAt(as, "addressPrefixes", "properties.addressSpace.addressPrefixes")
	if err != nil {
		return err
	}
	if len(raw) == 0 {
		return arm.BadRequest("InvalidAddressSpace",
			"Virtual network %s must have at least one address prefix in properties.addressSpace.addressPrefixes.", id).WithTarget("properties.addressSpace.addressPrefixes")
	}
	space := make([]netip.Prefix, 0, len(raw))
	for i, r := range raw {
		p, err := parsePrefix(r, id, "properties.addressSpace.addressPrefixes")
		if err != nil {
			return err
		}
		for j, q := range space {
			if overlaps(p, q) {
				return arm.BadRequest("VnetAddressSpacesOverlap",
					"Cannot create or update virtual network %s since it has overlapping address prefixes %s and %s in its address space.", id, raw[j], raw[i]).WithTarget("properties.addressSpace.addressPrefixes")
			}
		}
		space = append(space, p)
	}
	subnets, err := arrayAt(props, "subnets", "properties.subnets")
	if err != nil {
		return err
	}
	clean := make([]any, 0, len(subnets))
	type placed struct {
		name string
		p    netip.Prefix
	}
	var all []placed
	for i, v := range subnets {
		path := "properties.subnets[" + itoa(i) + "]"
		item, ok := v.(map[string]any)
		if !ok {
			return badType(path, "a JSON object")
		}
		sn, err := s.checkSubnet(desired, item, path)
		if err != nil {
			return err
		}
		name := sn["name"].(string)
		if findNamed(clean, name) >= 0 {
			return arm.BadRequest("DuplicateResourceName",
				"Resource %s has two child resources with the same name (%s).", id, name).WithTarget(path + ".name")
		}
		for _, p := range subnetPrefixes(sn) {
			in := false
			for _, q := range space {
				if within(p, q) {
					in = true
					break
				}
			}
			if !in {
				return arm.BadRequest("NetcfgInvalidSubnet",
					"Subnet '%s' is not valid in virtual network '%s': its address prefix %s is outside the address space of the virtual network.", name, desired.ID.Name(), p).WithTarget(path + ".properties.addressPrefix")
			}
			for _, o := range all {
				if overlaps(p, o.p) {
					return arm.BadRequest("NetcfgSubnetRangesOverlap",
						"Subnet '%s' is not valid because its IP address range overlaps with that of an existing subnet '%s' in virtual network '%s'.", name, o.name, desired.ID.Name()).WithTarget(path + ".properties.addressPrefix")
				}
			}
			all = append(all, placed{name, p})
		}
		clean = append(clean, sn)
	}
	props["subnets"] = clean
	if err := checkBgpCommunities(props); err != nil {
		return err
	}
	if old != nil {
		if err := s.checkSubnetsInUse(ctx, desired, old); err != nil {
			return err
		}
	}
	var guid string
	if old != nil {
		old.GetData(dataResourceGUID, &guid)
	}
	if guid == "" {
		guid = uuid.NewString()
	}
	desired.SetData(dataResourceGUID, guid)
	delete(props, "resourceGuid")
	if _, ok := props["enableDdosProtection"]; !ok {
		props["enableDdosProtection"] = false
	}
	return nil
}

// checkSubnet validates one subnet of a virtual network body and returns
// its stored form: {name, properties}, read-only members dropped, the
// policies defaulted.
func (s *vnetStrategy) checkSubnet(vnet *engine.Resource, item map[string]any, path string) (map[string]any, error) {
	name, err := stringAt(item, "name", path+".name")
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, arm.InvalidContent(path+".name", "The value of '%s.name' is required: every subnet needs a name.", path)
	}
	if !subnetNamePattern.MatchString(name) {
		return nil, arm.BadRequest(arm.CodeInvalidResourceName, "Resource name '%s' is invalid. %s", name, subnetNameRule).WithTarget(path + ".name")
	}
	props, err := objectAt(item, "properties", path+".properties")
	if err != nil {
		return nil, err
	}
	props = engine.DeepCopy(props).(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	for _, k := range subnetReadOnly {
		delete(props, k)
	}
	owner := vnet.ID.Child("subnets", name).String()
	one, err := stringAt(props, "addressPrefix", path+".properties.addressPrefix")
	if err != nil {
		return nil, err
	}
	many, err := stringsAt(props, "addressPrefixes", path+".properties.addressPrefixes")
	if err != nil {
		return nil, err
	}
	var raw []string
	if one != "" {
		raw = append(raw, one)
	}
	raw = append(raw, many...)
	if len(raw) == 0 {
		return nil, arm.BadRequest("NetcfgInvalidSubnet",
			"Subnet '%s' is not valid in virtual network '%s': it needs an address prefix (properties.addressPrefix or properties.addressPrefixes).", name, vnet.ID.Name()).WithTarget(path + ".properties.addressPrefix")
	}
	for _, r := range raw {
		p, err := parsePrefix(r, owner, path+".properties.addressPrefix")
		if err != nil {
			return nil, err
		}
		if p.Addr().Is4() && p.Bits() > minSubnetBits {
			return nil, arm.BadRequest("NetcfgInvalidSubnet",
				"Subnet '%s' is not valid in virtual network '%s': the address prefix %s is smaller than /%d, the smallest subnet Azure supports.", name, vnet.ID.Name(), r, minSubnetBits).WithTarget(path + ".properties.addressPrefix")
		}
	}
	pol, err := stringAt(props, "privateEndpointNetworkPolicies", path+".properties.privateEndpointNetworkPolicies")
	if err != nil {
		return nil, err
	}
	switch {
	case pol == "":
		pol = policyDisabled
	case !slices.Contains(pePolicies, pol):
		return nil, arm.InvalidContent(path+".properties.privateEndpointNetworkPolicies",
			"The value '%s' of privateEndpointNetworkPolicies is not valid; it must be one of %s.", pol, strings.Join(pePolicies, ", "))
	}
	props["privateEndpointNetworkPolicies"] = pol
	pls, err := stringAt(props, "privateLinkServiceNetworkPolicies", path+".properties.privateLinkServiceNetworkPolicies")
	if err != nil {
		return nil, err
	}
	switch pls {
	case "":
		pls = policyEnabled
	case policyEnabled, policyDisabled:
	default:
		return nil, arm.InvalidContent(path+".properties.privateLinkServiceNetworkPolicies",
			"The value '%s' of privateLinkServiceNetworkPolicies is not valid; it must be Enabled or Disabled.", pls)
	}
	props["privateLinkServiceNetworkPolicies"] = pls
	return map[string]any{"name": name, "properties": props}, nil
}

// subnetPrefixes returns the parsed prefixes of a stored subnet.
func subnetPrefixes(sn map[string]any) []netip.Prefix {
	props, _ := sn["properties"].(map[string]any)
	var out []netip.Prefix
	if s, _ := props["addressPrefix"].(string); s != "" {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	many, _ := props["addressPrefixes"].([]any)
	for _, v := range many {
		s, _ := v.(string)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// subnetsOf returns the stored subnets of a virtual network.
func subnetsOf(vnet *engine.Resource) []any {
	list, _ := vnet.Properties["subnets"].([]any)
	return list
}

// subnetNamed returns the stored subnet of vnet named name (ignoring
// case), or nil.
func subnetNamed(vnet *engine.Resource, name string) map[string]any {
	list := subnetsOf(vnet)
	if i := findNamed(list, name); i >= 0 {
		sn, _ := list[i].(map[string]any)
		return sn
	}
	return nil
}

// checkSubnetsInUse refuses a change of a virtual network that removes, or
// changes the prefixes of, a subnet with a private endpoint in it.
func (s *vnetStrategy) checkSubnetsInUse(ctx context.Context, desired, old *engine.Resource) error {
	users, err := s.subnetUsers(ctx)
	if err != nil {
		return err
	}
	for _, v := range subnetsOf(old) {
		sn, _ := v.(map[string]any)
		name, _ := sn["name"].(string)
		id := old.ID.Child("subnets", name)
		in := users[id.Key()]
		if len(in) == 0 {
			continue
		}
		next := subnetNamed(desired, name)
		if next == nil {
			return inUse(id, in)
		}
		if !slices.Equal(subnetPrefixes(sn), subnetPrefixes(next)) {
			return arm.BadRequest("InUseSubnetCannotBeUpdated",
				"Subnet %s is in use by %s and its address prefixes cannot be changed. In order to change them, delete all the resources within the subnet (virtual network %s).", name, in[0].ipConfigID, desired.ID)
		}
	}
	return nil
}

// ValidateDelete refuses to delete a virtual network with a private
// endpoint in one of its subnets.
func (s *vnetStrategy) ValidateDelete(ctx context.Context, _ *engine.Request, r *engine.Resource) error {
	users, err := s.subnetUsers(ctx)
	if err != nil {
		return err
	}
	for _, v := range subnetsOf(r) {
		sn, _ := v.(map[string]any)
		name, _ := sn["name"].(string)
		id := r.ID.Child("subnets", name)
		if in := users[id.Key()]; len(in) > 0 {
			return inUse(id, in)
		}
	}
	return nil
}

// inUse is Azure's error for deleting a subnet that holds a private
// endpoint: it names the private endpoint's network interface IP
// configuration.
func inUse(subnet resourceid.ID, users []subnetUser) *arm.Error {
	return arm.BadRequest("InUseSubnetCannotBeDeleted",
		"Subnet %s is in use by %s and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.", subnet.Name(), users[0].ipConfigID)
}

// subnetUser is a private endpoint in a subnet.
type subnetUser struct {
	pe         resourceid.ID
	ipConfigID string
}

// subnetUsers maps each subnet (its ID's Key) to the private endpoints in
// it that are not gone, across all subscriptions. A private endpoint
// being deleted still counts.
func (p *provider) subnetUsers(ctx context.Context) (map[string][]subnetUser, error) {
	pes, err := p.e.ListByType(ctx, TypePrivateEndpoints)
	if err != nil {
		return nil, err
	}
	out := map[string][]subnetUser{}
	for _, r := range pes {
		st := loadPEState(r)
		if st.Subnet == "" {
			continue
		}
		sid, err := resourceid.Parse(st.Subnet)
		if err != nil {
			continue
		}
		out[sid.Key()] = append(out[sid.Key()], subnetUser{pe: r.ID, ipConfigID: st.ipConfigID(r, 0)})
	}
	return out, nil
}

// Render adds the resourceGuid, bgpCommunities.regionalCommunity, and each
// subnet's id, type, etag, provisioningState and the
// private endpoints in it.
func (s *vnetStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		return nil
	}
	var guid string
	r.GetData(dataResourceGUID, &guid)
	props["resourceGuid"] = guid
	users, err := s.subnetUsers(ctx)
	if err != nil {
		users = nil
	}
	list := subnetsOf(r)
	out := make([]any, 0, len(list))
	for _, v := range list {
		sn, _ := v.(map[string]any)
		out = append(out, renderSubnet(r, sn, users))
	}
	props["subnets"] = out
	renderBgpCommunities(props, r.Location)
	if _, ok := props["virtualNetworkPeerings"]; !ok {
		props["virtualNetworkPeerings"] = []any{}
	}
	return nil
}

// renderSubnet is the wire form of a stored subnet of vnet.
func renderSubnet(vnet *engine.Resource, sn map[string]any, users map[string][]subnetUser) map[string]any {
	name, _ := sn["name"].(string)
	id := vnet.ID.Child("subnets", name)
	props := engine.DeepCopy(sn["properties"]).(map[string]any)
	props["provisioningState"] = "Succeeded"
	if in := users[id.Key()]; len(in) > 0 {
		pes := make([]any, 0, len(in))
		for _, u := range in {
			pes = append(pes, map[string]any{"id": u.pe.String()})
		}
		props["privateEndpoints"] = pes
	}
	renderSubnetComputed(vnet, id, props, users[id.Key()])
	return map[string]any{
		"id": id.String(), "name": name, "type": TypeSubnets, "etag": vnet.ETag(), "properties": props,
	}
}

// lookupSubnet returns the live virtual network and the stored subnet an
// ID names; the error is Azure's InvalidResourceReference for a reference
// from referrer that does not resolve.
func (p *provider) lookupSubnet(ctx context.Context, subnet resourceid.ID, referrer resourceid.ID) (*engine.Resource, map[string]any, error) {
	missing := arm.BadRequest("InvalidResourceReference",
		"Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.", subnet, referrer).WithTarget("properties.subnet.id")
	if !isType(subnet, TypeSubnets) {
		return nil, nil, missing
	}
	vnet, err := p.e.Get(ctx, subnet.Parent())
	if err != nil {
		if _, ok := arm.AsError(err); ok {
			return nil, nil, missing
		}
		return nil, nil, err
	}
	if vnet.Deleting(p.e.Now()) {
		return nil, nil, missing
	}
	sn := subnetNamed(vnet, subnet.Name())
	if sn == nil {
		return nil, nil, missing
	}
	return vnet, sn, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
