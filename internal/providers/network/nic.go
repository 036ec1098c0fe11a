package network

import (
	"context"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// Network interfaces (Microsoft.Network/networkInterfaces) exist in armlet
// only as the interfaces of private endpoints: a virtual type rendered from
// the private endpoint that owns it (same resource group, its state holds
// the interface's name and addresses). It appears when the private
// endpoint is created and disappears when its delete completes.
//
// Clients can read them. A PUT or DELETE of a private endpoint's interface
// is refused with Azure's 400 CannotModifyNicAttachedToPrivateEndpoint.
// Choice: a PUT of any other interface is refused with 400
// NetworkInterfaceNotSupported (armlet makes no stand-alone interfaces); a
// DELETE of one that does not exist answers 204.
//
// Choice (limit): the lists of network interfaces (per resource group, per
// subscription, /resources) do not show them; GET by ID does.
type nicStrategy struct{ *provider }

var (
	_ engine.Strategy        = (*nicStrategy)(nil)
	_ engine.VirtualStrategy = (*nicStrategy)(nil)
)

// Validate is never called for a virtual type.
func (s *nicStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return nil
}

func (s *nicStrategy) ServeVirtual(ctx context.Context, req *engine.Request, rg *engine.Resource, name string) (*engine.Response, error) {
	pes, err := s.e.List(ctx, rg.ID, TypePrivateEndpoints)
	if err != nil {
		return nil, err
	}
	if name == "" {
		out := []any{}
		for _, pe := range pes {
			out = append(out, renderNIC(pe))
		}
		return engine.JSON(http.StatusOK, map[string]any{"value": out}), nil
	}
	var owner *engine.Resource
	for _, pe := range pes {
		if strings.EqualFold(loadPEState(pe).NIC, name) {
			owner = pe
			break
		}
	}
	id := rg.ID.Child(TypeNetworkInterfaces, name)
	switch req.Method {
	case http.MethodGet:
		if owner == nil {
			_, err := s.e.Get(ctx, id) // no record: the engine's own 404
			if err == nil {
				err = arm.Internal()
			}
			return nil, err
		}
		h := http.Header{}
		h.Set("ETag", owner.ETag())
		return &engine.Response{Status: http.StatusOK, Header: h, Body: renderNIC(owner)}, nil
	case http.MethodPut, http.MethodDelete, http.MethodPatch:
		if owner != nil {
			return nil, arm.BadRequest("CannotModifyNicAttachedToPrivateEndpoint",
				"Network interface %s is attached to private endpoint %s and cannot be modified by the user. It is created and deleted with the private endpoint.", loadPEState(owner).nicID(owner), owner.ID)
		}
		if req.Method == http.MethodDelete {
			return &engine.Response{Status: http.StatusNoContent}, nil
		}
		return nil, arm.BadRequest("NetworkInterfaceNotSupported",
			"armlet does not create network interfaces on request: they are made by private endpoints (Microsoft.Network/privateEndpoints). Create a private endpoint instead of %s.", id)
	}
	return nil, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
		"The requested resource does not support http method '%s' for type '%s'.", req.Method, TypeNetworkInterfaces)
}

// renderNIC is the wire form of the network interface of the private
// endpoint pe.
func renderNIC(pe *engine.Resource) map[string]any {
	st := loadPEState(pe)
	id := st.nicID(pe)
	var group string
	if len(st.Connections) > 0 {
		group = st.Connections[0].GroupID
	}
	configs := make([]any, 0, len(st.IPs))
	for i, a := range st.IPs {
		name := "privateEndpointIpConfig." + a.Config
		configs = append(configs, map[string]any{
			"id": st.ipConfigID(pe, i), "name": name, "etag": pe.ETag(),
			"type": TypeNetworkInterfaces + "/ipConfigurations",
			"properties": map[string]any{
				"provisioningState":         "Succeeded",
				"privateIPAddress":          a.IP,
				"privateIPAllocationMethod": "Dynamic",
				"privateIPAddressVersion":   "IPv4",
				"subnet":                    map[string]any{"id": st.Subnet},
				"primary":                   i == 0,
				"privateLinkConnectionProperties": map[string]any{
					"groupId": group, "requiredMemberName": a.Member, "fqdns": []any{a.FQDN},
				},
			},
		})
	}
	return map[string]any{
		"id": id.String(), "name": st.NIC, "type": TypeNetworkInterfaces, "location": pe.Location,
		"tags": map[string]string{}, "etag": pe.ETag(), "kind": "Regular",
		"properties": map[string]any{
			"provisioningState":           "Succeeded",
			"resourceGuid":                st.NICGUID,
			"ipConfigurations":            configs,
			"privateEndpoint":             map[string]any{"id": pe.ID.String()},
			"dnsSettings":                 map[string]any{"dnsServers": []any{}, "appliedDnsServers": []any{}},
			"macAddress":                  "",
			"enableAcceleratedNetworking": false,
			"enableIPForwarding":          false,
			"disableTcpStateTracking":     false,
			"vnetEncryptionSupported":     false,
			"nicType":                     "Standard",
			"hostedWorkloads":             []any{},
			"tapConfigurations":           []any{},
		},
	}
}
