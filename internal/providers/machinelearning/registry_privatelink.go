package machinelearning

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// A registry is a private link target (engine.PrivateLinkRecorder) with
// the one group id amlregistry. Unlike a workspace's, its connections are
// no child resources: the registry keeps them (Internal.Data) and shows
// them inline as properties.registryPrivateEndpointConnections, where a
// PUT of the registry approves or rejects them.

// registryConnection is one private endpoint's connection to a registry.
type registryConnection struct {
	Name            string `json:"name"`
	PrivateEndpoint string `json:"privateEndpoint"`
	Status          string `json:"status"`
	Description     string `json:"description"`
	ActionsRequired string `json:"actionsRequired"`
}

func loadRegistryConnections(r *engine.Resource) []registryConnection {
	var out []registryConnection
	r.GetData(dataRegistryConns, &out)
	return out
}

// PrivateLinkGroups: a registry serves one group, amlregistry.
func (s *registryStrategy) PrivateLinkGroups() []string {
	return []string{RegistryPrivateLinkGroup}
}

// PrivateLinkFQDNs are, for each region of the registry (its location
// first), {name}.registry.{region}.api.azureml.ms, the member named after
// the region.
//
// Choice: Azure documents the zone (privatelink.api.azureml.ms) but not
// the registry's names in it; these name the registry and each region its
// assets are replicated to, in the zone of Azure ML's API hosts.
func (s *registryStrategy) PrivateLinkFQDNs(r *engine.Resource, _ string) []engine.PrivateLinkFQDN {
	name := strings.ToLower(r.ID.Name())
	primary := engine.NormalizeLocation(r.Location)
	regions := []string{primary}
	list, _ := r.Properties["regionDetails"].([]any)
	for _, rg := range list {
		if region := regionOf(rg); region != "" && region != primary {
			regions = append(regions, region)
		}
	}
	out := make([]engine.PrivateLinkFQDN, 0, len(regions))
	for _, region := range regions {
		out = append(out, engine.PrivateLinkFQDN{FQDN: name + ".registry." + region + ".api.azureml.ms", Member: region})
	}
	return out
}

// RecordConnection creates or updates the registry's connection name for
// the private endpoint pe, with state as given (the private endpoint's
// side is authoritative).
func (s *registryStrategy) RecordConnection(ctx context.Context, target resourceid.ID, name string, pe resourceid.ID, state engine.PrivateLinkState, _ engine.Caller) error {
	status, err := connectionStatus.check("status", state.Status)
	if err != nil || status == nil {
		return arm.BadRequest(arm.CodeBadRequest, "RecordConnection: status '%s' is not one of Pending, Approved, Rejected, Disconnected, Timeout.", state.Status)
	}
	actions := state.ActionsRequired
	if actions == "" {
		actions = "None"
	}
	c := registryConnection{Name: name, PrivateEndpoint: pe.String(), Status: status.(string), Description: state.Description, ActionsRequired: actions}
	_, err = s.e.Update(ctx, target, func(r *engine.Resource) error {
		conns := loadRegistryConnections(r)
		i := connectionIndex(conns, name)
		if i < 0 {
			// A seeded connection of this endpoint under another name.
			i = slices.IndexFunc(conns, func(o registryConnection) bool { return strings.EqualFold(o.PrivateEndpoint, c.PrivateEndpoint) })
		}
		if i < 0 {
			conns = append(conns, c)
		} else {
			conns[i] = c
		}
		r.SetData(dataRegistryConns, conns)
		return nil
	})
	if errors.Is(err, engine.ErrNotFound) {
		return arm.NotFound(arm.CodeResourceNotFound, "The registry '%s' was not found.", target)
	}
	return err
}

func connectionIndex(conns []registryConnection, name string) int {
	for i, c := range conns {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

// ConnectionState reads the registry's connection name, when it belongs
// to pe.
func (s *registryStrategy) ConnectionState(ctx context.Context, target resourceid.ID, name string, pe resourceid.ID) (engine.PrivateLinkState, bool) {
	r, err := s.e.Get(ctx, target)
	if err != nil || r.Deleting(s.e.Now()) {
		return engine.PrivateLinkState{}, false
	}
	conns := loadRegistryConnections(r)
	i := connectionIndex(conns, name)
	if i < 0 || !strings.EqualFold(conns[i].PrivateEndpoint, pe.String()) {
		return engine.PrivateLinkState{}, false
	}
	c := conns[i]
	return engine.PrivateLinkState{Status: c.Status, Description: c.Description, ActionsRequired: c.ActionsRequired}, true
}

// RemoveConnections drops, from every registry, the connections whose
// private endpoint lies at or beneath scope.
func (s *registryStrategy) RemoveConnections(ctx context.Context, scope resourceid.ID, _ engine.Caller) error {
	registries, err := s.e.ListByType(ctx, TypeRegistries)
	if err != nil {
		return err
	}
	gone := func(c registryConnection) bool {
		pe, err := resourceid.Parse(c.PrivateEndpoint)
		return err == nil && scope.Contains(pe)
	}
	for _, reg := range registries {
		_, err := s.e.Update(ctx, reg.ID, func(r *engine.Resource) error {
			conns := loadRegistryConnections(r)
			kept := conns[:0:0]
			for _, c := range conns {
				if !gone(c) {
					kept = append(kept, c)
				}
			}
			if len(kept) == len(conns) {
				return engine.ErrNoChange
			}
			r.SetData(dataRegistryConns, kept)
			return nil
		})
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			return err
		}
	}
	return nil
}

// approveConnections applies the connection states a registry PUT sends
// (checked against registryConnectionSchema) to the connections desired
// holds (see the Choice on registryStrategy). An import (a seed file)
// records the connections it lists that the registry does not hold.
//
// Choice: a seeded connection needs privateEndpoint.id; its name is the
// last segment of its id (else the private endpoint's name), its state
// Approved "Auto-Approved" unless given. The private endpoint, seeded
// after the registry, keeps it and its state.
func approveConnections(desired *engine.Resource, sent []any, importing bool) error {
	conns := loadRegistryConnections(desired)
	for i, item := range sent {
		at := "properties.registryPrivateEndpointConnections[" + strconv.Itoa(i) + "]"
		m, _ := item.(map[string]any)
		props, _ := m["properties"].(map[string]any)
		pe, _ := props["privateEndpoint"].(map[string]any)
		peID, _ := pe["id"].(string)
		id, _ := m["id"].(string)
		name := id[strings.LastIndex(id, "/")+1:]
		j := -1
		for k, c := range conns {
			if name != "" && strings.EqualFold(c.Name, name) || name == "" && peID != "" && strings.EqualFold(c.PrivateEndpoint, peID) {
				j = k
				break
			}
		}
		if j < 0 && importing && peID != "" {
			if name == "" {
				name = peID[strings.LastIndex(peID, "/")+1:]
			}
			if err := checkArmID(at+".properties.privateEndpoint.id", peID, typePrivateEndpoints); err != nil {
				return err
			}
			conns = append(conns, registryConnection{Name: name, PrivateEndpoint: peID, Status: "Approved", Description: "Auto-Approved", ActionsRequired: "None"})
			j = len(conns) - 1
		}
		if j < 0 {
			what := "'" + name + "'"
			if name == "" {
				what = "of private endpoint '" + peID + "'"
			}
			return arm.BadRequest(codeConnectionNotFound,
				"Registry '%s' has no private endpoint connection %s. Connections are made by creating a private endpoint to the registry; a registry update only approves or rejects them.",
				desired.ID.Name(), what).WithTarget(at)
		}
		st, _ := props["registryPrivateLinkServiceConnectionState"].(map[string]any)
		if st == nil {
			continue
		}
		c := &conns[j]
		if to, ok := st["status"].(string); ok {
			if err := checkStatusChange(c.Name, c.Status, to); err != nil && !importing {
				if ae, ok := arm.AsError(err); ok {
					ae.Target = at + ".properties.registryPrivateLinkServiceConnectionState.status"
				}
				return err
			}
			c.Status = to
		}
		if d, ok := st["description"].(string); ok {
			c.Description = d
		}
		c.ActionsRequired = "None"
		if a, ok := st["actionsRequired"].(string); ok {
			c.ActionsRequired = a
		}
	}
	if len(conns) > 0 {
		desired.SetData(dataRegistryConns, conns)
	}
	return nil
}
