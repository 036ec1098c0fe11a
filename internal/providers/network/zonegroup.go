package network

import (
	"context"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// Private DNS zone groups (Microsoft.Network/privateEndpoints/
// privateDnsZoneGroups): properties.privateDnsZoneConfigs, 1 to 5 items
// {name, properties: {privateDnsZoneId}}, each an existing private DNS zone
// (400 InvalidResourceReference), no zone twice. For every FQDN of the
// private endpoint's customDnsConfigs that falls under a zone (see
// zoneRecordName) the group writes an A record set (ttl 10) with the FQDN's
// address into that zone; each config then shows them in its read-only
// recordSets. A PUT that drops a zone removes the records it wrote there;
// deleting the group or its private endpoint removes all of them.
//
// Choice: a private endpoint has at most one zone group (400
// PrivateDnsZoneGroupLimitReached for a second name), as in Azure.
type zoneGroupStrategy struct{ *provider }

var (
	_ engine.Strategy = (*zoneGroupStrategy)(nil)
	_ engine.Renderer = (*zoneGroupStrategy)(nil)
)

const maxZoneConfigs = 5

// zoneRecord is one record set a zone group writes.
type zoneRecord struct {
	zone resourceid.ID
	name string
	fqdn string
	ips  []string
}

func (s *zoneGroupStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	pe, err := s.e.Get(ctx, desired.ID.Parent())
	if err != nil {
		return err
	}
	others, err := s.e.List(ctx, pe.ID, "privateDnsZoneGroups")
	if err != nil {
		return err
	}
	for _, o := range others {
		if !o.ID.Equal(desired.ID) {
			return arm.BadRequest("PrivateDnsZoneGroupLimitReached",
				"Private endpoint %s already has the private DNS zone group %s; a private endpoint can have only one.", pe.ID, o.ID.Name())
		}
	}
	list, err := arrayAt(desired.Properties, "privateDnsZoneConfigs", "properties.privateDnsZoneConfigs")
	if err != nil {
		return err
	}
	if len(list) == 0 || len(list) > maxZoneConfigs {
		return arm.InvalidContent("properties.privateDnsZoneConfigs",
			"A private DNS zone group needs 1 to %d items in properties.privateDnsZoneConfigs; this one has %d.", maxZoneConfigs, len(list))
	}
	configs := make([]any, 0, len(list))
	var zones []resourceid.ID
	for i, v := range list {
		path := "properties.privateDnsZoneConfigs[" + itoa(i) + "]"
		item, ok := v.(map[string]any)
		if !ok {
			return badType(path, "a JSON object")
		}
		name, err := stringAt(item, "name", path+".name")
		if err != nil {
			return err
		}
		props, err := objectAt(item, "properties", path+".properties")
		if err != nil {
			return err
		}
		zid, err := stringAt(props, "privateDnsZoneId", path+".properties.privateDnsZoneId")
		if err != nil {
			return err
		}
		if zid == "" {
			return arm.InvalidContent(path+".properties.privateDnsZoneId", "The value of '%s.properties.privateDnsZoneId' is required.", path)
		}
		zoneID, err := parseTargetID(zid, path+".properties.privateDnsZoneId")
		if err != nil {
			return err
		}
		zone, err := s.e.Get(ctx, zoneID)
		if err != nil || !isType(zoneID, TypePrivateDNSZones) {
			if _, isARM := arm.AsError(err); err != nil && !isARM {
				return err
			}
			return arm.BadRequest("InvalidResourceReference",
				"Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists.", zoneID, desired.ID).WithTarget(path + ".properties.privateDnsZoneId")
		}
		if name == "" {
			name = strings.ReplaceAll(zone.ID.Name(), ".", "-")
		}
		if findNamed(configs, name) >= 0 {
			return arm.BadRequest("DuplicateResourceName", "Resource %s has two private DNS zone configs with the same name (%s).", desired.ID, name).WithTarget(path + ".name")
		}
		for _, z := range zones {
			if z.Equal(zone.ID) {
				return arm.BadRequest("DuplicatePrivateDnsZoneIds", "Private DNS zone %s is named twice in private DNS zone group %s.", zone.ID, desired.ID).WithTarget(path + ".properties.privateDnsZoneId")
			}
		}
		zones = append(zones, zone.ID)
		configs = append(configs, map[string]any{"name": name, "properties": map[string]any{"privateDnsZoneId": zone.ID.String()}})
	}
	desired.Properties = map[string]any{"privateDnsZoneConfigs": configs}

	// Everything is checked: write the records, and remove the ones an
	// earlier version of the group wrote into zones it no longer names.
	for _, rec := range groupRecords(pe, configs) {
		if err := s.upsertRecord(ctx, rec.zone, rec.name, rec.ips, desired.ID, req.Caller); err != nil {
			return err
		}
	}
	if old != nil {
		var dropped []resourceid.ID
		for _, z := range configZones(old.Properties) {
			kept := false
			for _, n := range zones {
				kept = kept || n.Equal(z)
			}
			if !kept {
				dropped = append(dropped, z)
			}
		}
		for _, z := range dropped {
			if err := s.removeRecords(ctx, z, desired.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// configZones returns the zone IDs of stored zone configs.
func configZones(props map[string]any) []resourceid.ID {
	list, _ := props["privateDnsZoneConfigs"].([]any)
	var out []resourceid.ID
	for _, v := range list {
		item, _ := v.(map[string]any)
		p, _ := item["properties"].(map[string]any)
		s, _ := p["privateDnsZoneId"].(string)
		if id, err := resourceid.Parse(s); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// groupRecords lists the record sets a zone group of pe with the given
// stored configs writes.
func groupRecords(pe *engine.Resource, configs []any) []zoneRecord {
	st := loadPEState(pe)
	var out []zoneRecord
	for _, v := range configs {
		item, _ := v.(map[string]any)
		p, _ := item["properties"].(map[string]any)
		s, _ := p["privateDnsZoneId"].(string)
		zone, err := resourceid.Parse(s)
		if err != nil {
			continue
		}
		for _, a := range st.IPs {
			name, ok := zoneRecordName(zone.Name(), a.FQDN)
			if !ok {
				continue
			}
			out = append(out, zoneRecord{zone: zone, name: name, fqdn: a.FQDN, ips: []string{a.IP}})
		}
	}
	return out
}

// Render adds each config's read-only recordSets.
func (s *zoneGroupStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		return nil
	}
	pe, err := s.e.Get(ctx, r.ID.Parent())
	if err != nil {
		return nil
	}
	configs, _ := props["privateDnsZoneConfigs"].([]any)
	records := groupRecords(pe, configs)
	for _, v := range configs {
		item, _ := v.(map[string]any)
		p, _ := item["properties"].(map[string]any)
		zid, _ := p["privateDnsZoneId"].(string)
		sets := []any{}
		for _, rec := range records {
			if !strings.EqualFold(rec.zone.String(), zid) {
				continue
			}
			ips := make([]any, 0, len(rec.ips))
			for _, ip := range rec.ips {
				ips = append(ips, ip)
			}
			sets = append(sets, map[string]any{
				"recordType": "A", "recordSetName": rec.name, "fqdn": rec.name + "." + rec.zone.Name(),
				"ttl": 10, "ipAddresses": ips, "provisioningState": "Succeeded",
			})
		}
		p["recordSets"] = sets
		item["id"] = r.ID.String() + "/privateDnsZoneConfigs/" + item["name"].(string)
	}
	return nil
}

// removeRecords deletes the record sets of zone that a zone group at or
// beneath owner wrote.
func (p *provider) removeRecords(ctx context.Context, zone resourceid.ID, owner resourceid.ID) error {
	records, err := p.e.List(ctx, zone, "A")
	if err != nil {
		return err
	}
	for _, rec := range records {
		o, err := resourceid.Parse(recordOwner(rec))
		if err != nil || !owner.Contains(o) {
			continue
		}
		if _, err := p.e.ServePath(ctx, systemRequest(p.e, "DELETE", rec.ID, DNSAPIVersions[0]), resourceid.Path{ID: rec.ID}); err != nil {
			return err
		}
	}
	return nil
}
