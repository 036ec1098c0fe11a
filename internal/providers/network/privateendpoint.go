package network

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/google/uuid"
)

// Private endpoints (Microsoft.Network/privateEndpoints).
//
// A PUT needs properties.subnet.id (an existing subnet of a virtual network
// in the private endpoint's region: 400 InvalidResourceReference
// otherwise) and exactly one connection, in privateLinkServiceConnections
// (automatic approval) or manualPrivateLinkServiceConnections (the
// target's owner approves), each {name, properties: {privateLinkServiceId,
// groupIds: [one group id], requestMessage}}. The target must exist and
// offer the group id. The targets are the types whose strategy is an
// engine.PrivateLinkTarget, found by type through the engine: a workspace
// offers amlworkspace, a
// Microsoft.Authorization/resourceManagementPrivateLinks offers
// ResourceManagement; armlet connects to nothing else.
//
// Choice, errors: a target that does not exist is 400
// InvalidResourceReference (as for the subnet); a group id the target does
// not offer is 400 PrivateEndpointBadRequest ("Call to {type} failed..."),
// the way Azure passes on the target provider's refusal; any other target
// type is 400 PrivateLinkServiceNotSupported; no connection, or more than
// one, is 400 InvalidPrivateEndpointConnections.
//
// Choice, network policies: a private endpoint created with an api-version
// before 2022-07-01 in a subnet whose privateEndpointNetworkPolicies is not
// Disabled is refused (400
// PrivateEndpointCannotBeCreatedInSubnetThatHasNetworkPoliciesEnabled,
// Azure's code from before network policies for private endpoints became
// generally available); newer api-versions accept any policy.
//
// Choice, updates: the subnet, the connection (name, target, group id,
// automatic or manual) and customNetworkInterfaceName cannot change (400
// PropertyChangeNotAllowed); tags and requestMessage can. The connection
// state is never reset by an update.
//
// On create the private endpoint gets a network interface
// ({name}.nic.{guid}, or customNetworkInterfaceName) and one private IP
// per FQDN its target gives (PrivateLinkFQDNs; Choice: Azure gives a
// workspace's private endpoint several addresses; armlet gives each FQDN
// its own), the lowest free addresses of the subnet after Azure's
// reserved ones.
//
// The handshake: a connection to a target that records connections
// (engine.PrivateLinkRecorder: a workspace) creates the target's
// privateEndpointConnection {peName}.{guid} (Approved "Auto-Approved" on the
// automatic path; Pending with the requestMessage on the manual path) and
// the private endpoint shows that record's state. Choice: a connection to
// any other target (a resourceManagementPrivateLink) keeps its state on
// the private endpoint: Approved "Auto-Approved" on the automatic path,
// Pending for ever on the manual one (armlet has no approval API for it);
// it shows Disconnected once the target is gone.
type peStrategy struct{ *provider }

var (
	_ engine.Strategy = (*peStrategy)(nil)
	_ engine.Renderer = (*peStrategy)(nil)
	_ engine.Restorer = (*peStrategy)(nil)
)

var peNamePattern = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,78}[a-zA-Z0-9_])?$`)

const peNameRule = "Names must be 1 to 80 characters long, start with a letter or a digit, end with a letter, a digit or an underscore, and contain only letters, digits, underscores, periods and hyphens."

// policiesAPIVersion is the first api-version whose private endpoints may
// be created in subnets with network policies enabled.
const policiesAPIVersion = "2022-07-01"

// Connection states.
const (
	statusApproved     = "Approved"
	statusPending      = "Pending"
	statusDisconnected = "Disconnected"
	autoApproved       = "Auto-Approved"
)

const (
	dataPE     = "privateEndpoint"
	autoKey    = "privateLinkServiceConnections"
	manualKey  = "manualPrivateLinkServiceConnections"
	nicSegment = ".nic."
)

// peState is what a private endpoint keeps off the wire.
type peState struct {
	// Subnet is the subnet's ID as the client sent it (the subnet's
	// casing).
	Subnet string `json:"subnet"`
	// NIC is the network interface's name; NICGUID its resourceGuid.
	NIC     string `json:"nic"`
	NICGUID string `json:"nicGuid"`
	// IPs are the private addresses, the first being the primary.
	IPs         []ipAssignment `json:"ips"`
	Connections []peConnection `json:"connections"`
}

// ipAssignment is one private IP of the network interface and the FQDN it
// serves.
type ipAssignment struct {
	IP     string `json:"ip"`
	FQDN   string `json:"fqdn"`
	Member string `json:"member"`
	// Config is the GUID in the IP configuration's name.
	Config string `json:"config"`
}

// peConnection is one private link service connection.
type peConnection struct {
	Name    string `json:"name"`
	Manual  bool   `json:"manual,omitempty"`
	Target  string `json:"target"`
	GroupID string `json:"groupId"`
	// Remote is the name of the target's privateEndpointConnection, for a
	// target that records connections (engine.PrivateLinkRecorder).
	Remote string `json:"remote,omitempty"`
	// Status and Description hold the state of a connection with no other
	// side (resourceManagementPrivateLinks).
	Status      string `json:"status,omitempty"`
	Description string `json:"description,omitempty"`
}

func loadPEState(r *engine.Resource) peState {
	var st peState
	r.GetData(dataPE, &st)
	return st
}

func (st peState) nicID(pe *engine.Resource) resourceid.ID {
	return resourceid.ResourceGroup(pe.ID.SubscriptionID(), pe.ID.ResourceGroupName()).Child(TypeNetworkInterfaces, st.NIC)
}

func (st peState) ipConfigID(pe *engine.Resource, i int) string {
	if i >= len(st.IPs) {
		return st.nicID(pe).String()
	}
	return st.nicID(pe).String() + "/ipConfigurations/privateEndpointIpConfig." + st.IPs[i].Config
}

// requestedConnection is one connection of a PUT body.
type requestedConnection struct {
	name, groupID, message string
	target                 resourceid.ID
	manual                 bool
	body                   map[string]any // stored form
}

func (s *peStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	props := desired.Properties
	subnet, ok, err := refID(props, "subnet", "properties.subnet")
	if err != nil {
		return err
	}
	if !ok {
		return arm.InvalidContent("properties.subnet", "The value of 'properties.subnet.id' is required: a private endpoint is created in a subnet.")
	}
	conn, err := readConnections(props, desired.ID.Name())
	if err != nil {
		return err
	}
	nicName, err := stringAt(props, "customNetworkInterfaceName", "properties.customNetworkInterfaceName")
	if err != nil {
		return err
	}
	for _, k := range []string{"networkInterfaces", "customDnsConfigs", "ipConfigurations"} {
		delete(props, k)
	}
	props["subnet"] = map[string]any{"id": subnet.String()}
	delete(props, autoKey)
	delete(props, manualKey)
	key := autoKey
	if conn.manual {
		key = manualKey
	}
	props[key] = []any{conn.body}
	if old != nil {
		return s.update(desired, old, subnet, conn, nicName)
	}

	vnet, sn, err := s.lookupSubnet(ctx, subnet, desired.ID)
	if err != nil {
		return err
	}
	if vnet.Location != desired.Location {
		return arm.BadRequest("InvalidResourceReference",
			"Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.", subnet, desired.ID).WithTarget("properties.subnet.id")
	}
	subnetID := vnet.ID.Child("subnets", sn["name"].(string))
	if pol, _ := sn["properties"].(map[string]any)["privateEndpointNetworkPolicies"].(string); pol != policyDisabled && apiBefore(req.APIVersion, policiesAPIVersion) {
		return arm.BadRequest("PrivateEndpointCannotBeCreatedInSubnetThatHasNetworkPoliciesEnabled",
			"Private endpoint %s cannot be created in a subnet %s since it has private endpoint network policies enabled.", desired.ID, subnetID).WithTarget("properties.subnet.id")
	}
	target, tgt, fqdns, err := s.checkTarget(ctx, desired, conn)
	if err != nil {
		return err
	}

	// Everything is checked: claim the addresses, then tell the target.
	var prefixes []netip.Prefix
	for _, p := range subnetPrefixes(sn) {
		if p.Addr().Is4() {
			prefixes = append(prefixes, p)
		}
	}
	ips, err := s.claimIPs(ctx, subnetID, prefixes, desired.ID, len(fqdns), req.Now)
	if err != nil {
		return err
	}
	st := peState{Subnet: subnetID.String(), NIC: nicName, NICGUID: uuid.NewString()}
	if st.NIC == "" {
		st.NIC = desired.ID.Name() + nicSegment + uuid.NewString()
	}
	for i, f := range fqdns {
		st.IPs = append(st.IPs, ipAssignment{IP: ips[i], FQDN: f.FQDN, Member: f.Member, Config: uuid.NewString()})
	}
	c := peConnection{Name: conn.name, Manual: conn.manual, Target: target.String(), GroupID: conn.groupID}
	status, description := statusApproved, autoApproved
	if conn.manual {
		status, description = statusPending, conn.message
	}
	if rec, ok := tgt.(engine.PrivateLinkRecorder); ok {
		c.Remote = remoteName(desired.ID)
		// An import (a seed or export file) may have given the target
		// its connection already, in the state the file says: it stays.
		if _, kept := rec.ConnectionState(ctx, target, c.Remote, desired.ID); !kept || !req.Importing() {
			err = rec.RecordConnection(ctx, target, c.Remote, desired.ID,
				engine.PrivateLinkState{Status: status, Description: description, Preexisting: req.Importing()}, req.Caller)
		}
		if err != nil {
			s.releaseIPs(ctx, subnetID, desired.ID, ips)
			return err
		}
	} else {
		c.Status, c.Description = status, description
	}
	st.Connections = []peConnection{c}
	desired.SetData(dataPE, st)
	return nil
}

// Restore gives an imported private endpoint back the addresses its
// exported state names: Validate claimed the lowest free ones of the
// subnet, and made holds those. Restore claims the exported ones and
// releases the others Validate claimed.
//
// Choice: when an exported address is taken (another private endpoint
// holds it in the armlet imported into), the endpoint keeps the
// addresses Validate gave it, with the rest of its exported state (its
// network interface's name and ids).
func (s *peStrategy) Restore(ctx context.Context, req *engine.Request, r, made *engine.Resource) error {
	st, fresh := loadPEState(r), loadPEState(made)
	want, have := assignedIPs(st), assignedIPs(fresh)
	if slices.Equal(want, have) {
		return nil
	}
	subnet, err := resourceid.Parse(fresh.Subnet)
	if err != nil {
		return err
	}
	ok := false
	if strings.EqualFold(st.Subnet, fresh.Subnet) && len(want) == len(have) {
		if ok, err = s.claimExact(ctx, subnet, r.ID, want, req.Now); err != nil {
			return err
		}
	}
	if !ok {
		st.Subnet, st.IPs = fresh.Subnet, fresh.IPs
		r.SetData(dataPE, st)
		return nil
	}
	var unused []string
	for _, ip := range have {
		if !slices.Contains(want, ip) {
			unused = append(unused, ip)
		}
	}
	s.releaseIPs(ctx, subnet, r.ID, unused)
	return nil
}

// assignedIPs are the addresses of st, in order.
func assignedIPs(st peState) []string {
	out := make([]string, len(st.IPs))
	for i, a := range st.IPs {
		out[i] = a.IP
	}
	return out
}

// remoteName is the name of the target's privateEndpointConnection for
// the private endpoint pe: {peName}.{guid}, as Azure names them. Choice:
// the GUID is derived from the private endpoint's ID, so a retried request
// finds the connection it made.
func remoteName(pe resourceid.ID) string {
	return pe.Name() + "." + uuid.NewSHA1(uuid.NameSpaceURL, []byte(pe.Key())).String()
}

// readConnections reads the one connection of a private endpoint body;
// peName names a connection the body leaves unnamed.
func readConnections(props map[string]any, peName string) (requestedConnection, error) {
	var found []requestedConnection
	for _, key := range []string{autoKey, manualKey} {
		list, err := arrayAt(props, key, "properties."+key)
		if err != nil {
			return requestedConnection{}, err
		}
		for i, v := range list {
			path := fmt.Sprintf("properties.%s[%d]", key, i)
			item, ok := v.(map[string]any)
			if !ok {
				return requestedConnection{}, badType(path, "a JSON object")
			}
			c, err := readConnection(item, path, peName)
			if err != nil {
				return requestedConnection{}, err
			}
			c.manual = key == manualKey
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		return requestedConnection{}, arm.BadRequest("InvalidPrivateEndpointConnections",
			"A private endpoint must have exactly one connection, in properties.privateLinkServiceConnections (automatic approval) or properties.manualPrivateLinkServiceConnections (manual approval); this one has %d.", len(found)).WithTarget("properties." + autoKey)
	}
	return found[0], nil
}

func readConnection(item map[string]any, path, peName string) (requestedConnection, error) {
	var c requestedConnection
	name, err := stringAt(item, "name", path+".name")
	if err != nil {
		return c, err
	}
	if _, given := item["name"]; !given {
		// The name is optional (Azure's create examples omit it). Choice:
		// an unnamed connection takes the private endpoint's name.
		name = peName
	}
	if name == "" || !peNamePattern.MatchString(name) {
		return c, arm.BadRequest(arm.CodeInvalidResourceName, "Resource name '%s' is invalid. %s", name, peNameRule).WithTarget(path + ".name")
	}
	props, err := objectAt(item, "properties", path+".properties")
	if err != nil {
		return c, err
	}
	if props == nil {
		props = map[string]any{}
	}
	target, err := stringAt(props, "privateLinkServiceId", path+".properties.privateLinkServiceId")
	if err != nil {
		return c, err
	}
	if target == "" {
		return c, arm.InvalidContent(path+".properties.privateLinkServiceId", "The value of '%s.properties.privateLinkServiceId' is required.", path)
	}
	if c.target, err = parseTargetID(target, path+".properties.privateLinkServiceId"); err != nil {
		return c, err
	}
	groups, err := stringsAt(props, "groupIds", path+".properties.groupIds")
	if err != nil {
		return c, err
	}
	if len(groups) != 1 {
		return c, arm.InvalidContent(path+".properties.groupIds", "The value of '%s.properties.groupIds' must list exactly one group id.", path)
	}
	if c.message, err = stringAt(props, "requestMessage", path+".properties.requestMessage"); err != nil {
		return c, err
	}
	c.name, c.groupID = name, groups[0]
	stored := map[string]any{"privateLinkServiceId": target, "groupIds": []any{groups[0]}}
	if c.message != "" {
		stored["requestMessage"] = c.message
	}
	c.body = map[string]any{"name": name, "properties": stored}
	return c, nil
}

// checkTarget resolves the connection's target, its capability and its
// FQDNs.
func (s *peStrategy) checkTarget(ctx context.Context, pe *engine.Resource, c requestedConnection) (resourceid.ID, engine.PrivateLinkTarget, []engine.PrivateLinkFQDN, error) {
	path := "properties." + autoKey + "[0].properties"
	if c.manual {
		path = "properties." + manualKey + "[0].properties"
	}
	var tgt engine.PrivateLinkTarget
	ok := !c.target.IsRoot()
	if ok {
		tgt, ok = engine.Capability[engine.PrivateLinkTarget](s.e.Registry(), c.target.ResourceType())
	}
	if !ok {
		return resourceid.ID{}, nil, nil, arm.BadRequest("PrivateLinkServiceNotSupported",
			"The resource %s of type '%s' cannot be the target of a private endpoint in armlet: it connects only to %s.", c.target, c.target.ResourceType(), s.supportedTargets()).WithTarget(path + ".privateLinkServiceId")
	}
	t, err := s.e.Get(ctx, c.target)
	if err == nil && t.Deleting(s.e.Now()) {
		err = arm.NotFound(arm.CodeResourceNotFound, "deleting")
	}
	if err != nil {
		if _, ok := arm.AsError(err); !ok {
			return resourceid.ID{}, nil, nil, err
		}
		return resourceid.ID{}, nil, nil, arm.BadRequest("InvalidResourceReference",
			"Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists.", c.target, pe.ID).WithTarget(path + ".privateLinkServiceId")
	}
	groups := tgt.PrivateLinkGroups()
	if !slices.ContainsFunc(groups, func(g string) bool { return strings.EqualFold(g, c.groupID) }) {
		return resourceid.ID{}, nil, nil, arm.BadRequest("PrivateEndpointBadRequest",
			"Call to %s failed. Error message: The group id '%s' is not supported; the supported group id is '%s'.", c.target.ResourceType(), c.groupID, strings.Join(groups, "', '")).WithTarget(path + ".groupIds")
	}
	return t.ID, tgt, tgt.PrivateLinkFQDNs(t, c.groupID), nil
}

// supportedTargets names the private link target types and their group
// ids, for messages: "A (group id a) and B (group id b)".
func (s *peStrategy) supportedTargets() string {
	var names []string
	for _, t := range engine.Implementing[engine.PrivateLinkTarget](s.e.Registry()) {
		groups := t.Strategy.(engine.PrivateLinkTarget).PrivateLinkGroups()
		names = append(names, t.Name+" (group id "+strings.Join(groups, ", ")+")")
	}
	switch len(names) {
	case 0:
		return "no type"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// update checks a PUT over an existing private endpoint.
func (s *peStrategy) update(desired, old *engine.Resource, subnet resourceid.ID, conn requestedConnection, nicName string) error {
	st := loadPEState(old)
	change := func(what string) error {
		return arm.BadRequest(arm.CodePropertyChangeNotAllow,
			"Changing property '%s' of private endpoint %s is not allowed.", what, desired.ID).WithTarget("properties." + what)
	}
	if !strings.EqualFold(subnet.String(), st.Subnet) {
		return change("subnet.id")
	}
	if len(st.Connections) == 1 {
		c := st.Connections[0]
		if !strings.EqualFold(c.Name, conn.name) || !strings.EqualFold(c.Target, conn.target.String()) ||
			!strings.EqualFold(c.GroupID, conn.groupID) || c.Manual != conn.manual {
			return change(autoKey)
		}
	}
	if nicName != "" && !strings.EqualFold(nicName, st.NIC) {
		return change("customNetworkInterfaceName")
	}
	if oldName, _ := old.Properties["customNetworkInterfaceName"].(string); oldName != "" {
		desired.Properties["customNetworkInterfaceName"] = oldName
	}
	return nil
}

// apiBefore reports whether api-version v is older than since (by date).
func apiBefore(v, since string) bool {
	if len(v) > 10 {
		v = v[:10]
	}
	return v < since
}

// connectionState is the privateLinkServiceConnectionState of c, a
// connection of the private endpoint pe, now: for a target that records
// connections (a workspace), the target's (Disconnected when its record is
// gone); for any other (a resource management private link), as stored
// (Disconnected when the target is gone).
func connectionState(ctx context.Context, e *engine.Engine, pe *engine.Resource, c peConnection) engine.PrivateLinkState {
	disconnected := engine.PrivateLinkState{Status: statusDisconnected, Description: "The connection was removed by the owner of the target resource.", ActionsRequired: "None"}
	target, err := resourceid.Parse(c.Target)
	if err != nil {
		return disconnected
	}
	if c.Remote == "" {
		if _, err := e.Get(ctx, target); err != nil {
			return disconnected
		}
		return engine.PrivateLinkState{Status: c.Status, Description: c.Description, ActionsRequired: "None"}
	}
	rec, ok := engine.Capability[engine.PrivateLinkRecorder](e.Registry(), target.ResourceType())
	if !ok {
		return disconnected
	}
	st, ok := rec.ConnectionState(ctx, target, c.Remote, pe.ID)
	if !ok {
		return disconnected
	}
	return st
}

// Render adds the network interface, the DNS configurations and each
// connection's id, type, etag and current state.
func (s *peStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		return nil
	}
	st := loadPEState(r)
	props["networkInterfaces"] = []any{map[string]any{"id": st.nicID(r).String()}}
	dns := make([]any, 0, len(st.IPs))
	for _, a := range st.IPs {
		dns = append(dns, map[string]any{"fqdn": a.FQDN, "ipAddresses": []any{a.IP}})
	}
	props["customDnsConfigs"] = dns
	props["ipConfigurations"] = []any{}
	props["applicationSecurityGroups"] = orEmpty(props["applicationSecurityGroups"])
	props["customNetworkInterfaceName"] = orString(props["customNetworkInterfaceName"])
	for _, key := range []string{autoKey, manualKey} {
		list, _ := props[key].([]any)
		out := make([]any, 0, len(list))
		for _, v := range list {
			item, _ := v.(map[string]any)
			name, _ := item["name"].(string)
			cp, _ := item["properties"].(map[string]any)
			for _, c := range st.Connections {
				if strings.EqualFold(c.Name, name) {
					cp["privateLinkServiceConnectionState"] = connectionState(ctx, s.e, r, c).Map()
				}
			}
			cp["provisioningState"] = "Succeeded"
			if _, ok := cp["requestMessage"]; !ok && key == manualKey {
				cp["requestMessage"] = ""
			}
			out = append(out, map[string]any{
				"id": r.ID.String() + "/" + key + "/" + name, "name": name, "type": typeConnectionsOfPLS,
				"etag": r.ETag(), "properties": cp,
			})
		}
		props[key] = out
	}
	return nil
}

func orEmpty(v any) any {
	if v == nil {
		return []any{}
	}
	return v
}

func orString(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// systemCaller is the principal of the requests the network provider makes
// itself, through the engine (to delete the other sides of a private
// endpoint).
func systemCaller() engine.Caller {
	return engine.Caller{ObjectID: "Microsoft.Network", AppID: "Microsoft.Network", Name: "Microsoft.Network", PrincipalType: "ServicePrincipal"}
}

// systemRequest is a request of systemCaller (engine.SystemRequest).
func systemRequest(e *engine.Engine, method string, id resourceid.ID, apiVersion string) *engine.Request {
	return e.SystemRequest(method, id, apiVersion, systemCaller())
}
