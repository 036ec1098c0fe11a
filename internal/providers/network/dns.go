package network

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// Private DNS: Microsoft.Network/privateDnsZones (location "global"), their
// virtualNetworkLinks and A record sets, and the privateDnsZoneGroups of a
// private endpoint that write A records into zones.
//
// Long-running shapes: zones and links answer PUT 201/200 with
// Azure-AsyncOperation and DELETE 202 with Azure-AsyncOperation and
// Location (as Azure private DNS does); record sets are synchronous.
//
// Choice: deleting a zone deletes its links and record sets with it (armlet
// does not refuse it while links exist).

func registerDNS(p *provider) {
	reg := p.e.Registry()
	reg.Register(&engine.Type{
		Name: TypePrivateDNSZones, APIVersions: DNSAPIVersions, Tracked: true, Locations: []string{"global"},
		NamePattern: zoneNamePattern, NameRule: zoneNameRule,
		Put: engine.AsyncOperation, Delete: engine.AsyncOperation,
		ETagInBody: true, Strategy: &zoneStrategy{p},
	})
	reg.Register(&engine.Type{
		Name: TypeVirtualNetworkLink, APIVersions: DNSAPIVersions,
		NamePattern: vnetNamePattern, NameRule: vnetNameRule,
		Put: engine.AsyncOperation, Delete: engine.AsyncOperation,
		ETagInBody: true, Strategy: &linkStrategy{p},
	})
	reg.Register(&engine.Type{
		Name: TypeSOARecords, APIVersions: DNSAPIVersions,
		Put: engine.Sync, Delete: engine.Sync, Strategy: &soaStrategy{p},
	})
	reg.Register(&engine.Type{
		Name: TypeARecords, APIVersions: DNSAPIVersions,
		NamePattern: recordNamePattern, NameRule: recordNameRule,
		Put: engine.Sync, Delete: engine.Sync,
		ETagInBody: true, Strategy: &aRecordStrategy{p},
	})
}

var (
	zoneNamePattern   = regexp.MustCompile(`^(?i)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	recordNamePattern = regexp.MustCompile(`^(@|(\*\.)?[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)*)$`)
)

const (
	zoneNameRule   = "A private DNS zone name must be a DNS name with at least two labels, such as privatelink.api.azureml.ms."
	recordNameRule = "A record set name is '@' or a relative DNS name (labels of letters, digits, hyphens and underscores, optionally starting with '*.')."
)

// zoneStrategy: private DNS zones. Properties are all read-only.
type zoneStrategy struct{ *provider }

var (
	_ engine.Strategy = (*zoneStrategy)(nil)
	_ engine.Renderer = (*zoneStrategy)(nil)
)

func (s *zoneStrategy) Validate(_ context.Context, _ *engine.Request, desired, _ *engine.Resource) error {
	desired.Properties = map[string]any{}
	return nil
}

// Render adds the zone's counts.
func (s *zoneStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		return nil
	}
	records, _ := s.e.List(ctx, r.ID, "A")
	links, _ := s.e.List(ctx, r.ID, "virtualNetworkLinks")
	registration := 0
	for _, l := range links {
		if b, _ := l.Properties["registrationEnabled"].(bool); b {
			registration++
		}
	}
	props["maxNumberOfRecordSets"] = 25000
	props["numberOfRecordSets"] = len(records) + 1 // and the SOA record
	props["maxNumberOfVirtualNetworkLinks"] = 1000
	props["numberOfVirtualNetworkLinks"] = len(links)
	props["maxNumberOfVirtualNetworkLinksWithRegistration"] = 100
	props["numberOfVirtualNetworkLinksWithRegistration"] = registration
	props["internalId"] = "armlet:" + r.ID.Key()
	return nil
}

// linkStrategy: virtualNetworkLinks. properties.virtualNetwork.id must name
// an existing virtual network (400 InvalidResourceReference); a zone links
// a virtual network once (Choice: 409 Conflict for a second link);
// registrationEnabled defaults to false. location defaults to "global".
type linkStrategy struct{ *provider }

var _ engine.Strategy = (*linkStrategy)(nil)

func (s *linkStrategy) Validate(ctx context.Context, _ *engine.Request, desired, _ *engine.Resource) error {
	props := desired.Properties
	vnet, ok, err := refID(props, "virtualNetwork", "properties.virtualNetwork")
	if err != nil {
		return err
	}
	if !ok {
		return arm.InvalidContent("properties.virtualNetwork", "The value of 'properties.virtualNetwork.id' is required.")
	}
	v, err := s.e.Get(ctx, vnet)
	if err != nil || !isType(vnet, TypeVirtualNetworks) {
		if _, isARM := arm.AsError(err); err != nil && !isARM {
			return err
		}
		return arm.BadRequest("InvalidResourceReference",
			"Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists.", vnet, desired.ID).WithTarget("properties.virtualNetwork.id")
	}
	reg, err := boolAt(props, "registrationEnabled", "properties.registrationEnabled", false)
	if err != nil {
		return err
	}
	others, err := s.e.List(ctx, desired.ID.Parent(), "virtualNetworkLinks")
	if err != nil {
		return err
	}
	for _, o := range others {
		ref, _ := o.Properties["virtualNetwork"].(map[string]any)
		if id, _ := ref["id"].(string); strings.EqualFold(id, v.ID.String()) && !o.ID.Equal(desired.ID) {
			return arm.Conflict(arm.CodeConflict,
				"The virtual network %s is already linked to the private DNS zone %s by link %s.", v.ID, desired.ID.Parent().Name(), o.ID.Name())
		}
	}
	resolution, err := stringAt(props, "resolutionPolicy", "properties.resolutionPolicy")
	if err != nil {
		return err
	}
	out := map[string]any{"virtualNetwork": map[string]any{"id": v.ID.String()}, "registrationEnabled": reg, "virtualNetworkLinkState": "Completed"}
	if resolution != "" {
		out["resolutionPolicy"] = resolution
	}
	desired.Properties = out
	if desired.Location == "" {
		desired.Location = "global"
	}
	return nil
}

// aRecordStrategy: A record sets. properties.aRecords [{ipv4Address}] (each
// a valid IPv4 address), ttl (default 3600), metadata; fqdn and
// isAutoRegistered are read-only. Record sets a privateDnsZoneGroup writes
// carry the group as their owner (Internal.Data), so the group's delete
// removes exactly them.
type aRecordStrategy struct{ *provider }

var (
	_ engine.Strategy = (*aRecordStrategy)(nil)
	_ engine.Renderer = (*aRecordStrategy)(nil)
	_ engine.Importer = (*aRecordStrategy)(nil)
)

const dataOwner = "owner"

// recordOwnerArg is the ImportArg of upsertRecord's imports: the zone
// group writing the record set.
type recordOwnerArg string

func (s *aRecordStrategy) Validate(_ context.Context, _ *engine.Request, desired, _ *engine.Resource) error {
	props := desired.Properties
	ttl, err := intAt(props, "ttl", "properties.ttl", 3600)
	if err != nil {
		return err
	}
	list, err := arrayAt(props, "aRecords", "properties.aRecords")
	if err != nil {
		return err
	}
	records := make([]any, 0, len(list))
	for i, v := range list {
		path := "properties.aRecords[" + itoa(i) + "]"
		o, ok := v.(map[string]any)
		if !ok {
			return badType(path, "a JSON object")
		}
		ip, err := stringAt(o, "ipv4Address", path+".ipv4Address")
		if err != nil {
			return err
		}
		a, perr := netip.ParseAddr(ip)
		if perr != nil || !a.Is4() {
			return arm.InvalidContent(path+".ipv4Address", "The value '%s' of '%s.ipv4Address' is not a valid IPv4 address.", ip, path)
		}
		records = append(records, map[string]any{"ipv4Address": a.String()})
	}
	out := map[string]any{"ttl": ttl, "aRecords": records}
	if md, err := objectAt(props, "metadata", "properties.metadata"); err != nil {
		return err
	} else if md != nil {
		out["metadata"] = md
	}
	desired.Properties = out
	return nil
}

// Import stores a record set a zone group writes.
func (s *aRecordStrategy) Import(ctx context.Context, req *engine.Request, r *engine.Resource) error {
	if err := s.Validate(ctx, req, r, nil); err != nil {
		return err
	}
	if owner, _ := req.ImportArg.(recordOwnerArg); owner != "" {
		r.SetData(dataOwner, string(owner))
	}
	return nil
}

func (s *aRecordStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		return nil
	}
	zone := r.ID.Parent().Name()
	name := r.ID.Name()
	if name == "@" {
		props["fqdn"] = zone + "."
	} else {
		props["fqdn"] = name + "." + zone + "."
	}
	props["isAutoRegistered"] = false
	delete(props, "provisioningState") // record sets have none
	return nil
}

// recordOwner is the zone group that wrote a record set, or "".
func recordOwner(r *engine.Resource) string {
	var owner string
	r.GetData(dataOwner, &owner)
	return owner
}

// zoneRecordName is the record set name an FQDN gets in a private DNS
// zone: Azure's privatelink zones stand for the public zone without the
// "privatelink." label, so privatelink.api.azureml.ms holds
// "{wsid}.workspace.eastus" for {wsid}.workspace.eastus.api.azureml.ms.
// A few zones stand for another public zone (zoneAliases). ok is false
// when the FQDN is not under the zone.
func zoneRecordName(zone, fqdn string) (string, bool) {
	zone = strings.ToLower(strings.TrimSuffix(zone, "."))
	fqdn = strings.ToLower(strings.TrimSuffix(fqdn, "."))
	suffixes := []string{strings.TrimPrefix(zone, "privatelink."), zone}
	if alias, ok := zoneAliases[zone]; ok {
		suffixes = append(suffixes, alias)
	}
	for _, suffix := range suffixes {
		if fqdn == suffix {
			return "@", true
		}
		if strings.HasSuffix(fqdn, "."+suffix) {
			return strings.TrimSuffix(fqdn, "."+suffix), true
		}
	}
	return "", false
}

// zoneAliases are the private DNS zones Azure recommends for a public
// zone that is not the zone's name without "privatelink." (Azure's private
// endpoint DNS zone table): a key vault's {name}.vault.azure.net has its A
// record in privatelink.vaultcore.azure.net.
var zoneAliases = map[string]string{
	"privatelink.vaultcore.azure.net": "vault.azure.net",
}

// sameJSON reports whether a and b encode to the same JSON.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// upsertRecord writes the A record set zone/A/name with ips, owned by the
// zone group owner.
func (p *provider) upsertRecord(ctx context.Context, zone resourceid.ID, name string, ips []string, owner resourceid.ID, caller engine.Caller) error {
	id := zone.Child("A", name)
	records := make([]any, 0, len(ips))
	for _, ip := range ips {
		records = append(records, map[string]any{"ipv4Address": ip})
	}
	update := func(r *engine.Resource) error {
		var had string
		r.GetData(dataOwner, &had)
		if had == owner.String() && fmt.Sprint(r.Properties["ttl"]) == "10" && sameJSON(r.Properties["aRecords"], records) {
			return engine.ErrNoChange // as it is (a zone group imported after its records)
		}
		r.Properties["aRecords"] = records
		r.Properties["ttl"] = 10
		r.SetData(dataOwner, owner.String())
		r.SystemData.LastModifiedAt = p.e.Now()
		return nil
	}
	_, err := p.e.Update(ctx, id, update)
	if !errors.Is(err, engine.ErrNotFound) {
		return err // nil when updated
	}
	body := map[string]any{"properties": map[string]any{"ttl": 10, "aRecords": records}}
	imported, err := p.e.ImportWith(ctx, id, body, DNSAPIVersions[0], caller, recordOwnerArg(owner.String()))
	if err != nil || imported {
		return err
	}
	_, err = p.e.Update(ctx, id, update) // created meanwhile: update it
	return err
}
