package network

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// Subnets (Microsoft.Network/virtualNetworks/subnets) live only inside
// their virtual network's record (properties.subnets); this virtual type
// serves them one by one. A PUT or DELETE validates the whole virtual
// network with the subnet changed, as a virtual network PUT would, and
// saves the virtual network.
//
// Long-running shape as in Azure: PUT answers 201 (new) or 200 with the
// subnet and an Azure-AsyncOperation header; DELETE answers 202 with
// Azure-AsyncOperation and Location. Choice: the change is made at once;
// the operation only reports it done after the engine's operation
// duration, and the subnet shows provisioningState Succeeded throughout.
type subnetStrategy struct{ *provider }

var (
	_ engine.Strategy        = (*subnetStrategy)(nil)
	_ engine.VirtualStrategy = (*subnetStrategy)(nil)
)

// Validate is never called for a virtual type.
func (s *subnetStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return nil
}

// subnetMembers are the top-level members of a subnet body; only
// properties is read.
var subnetMembers = map[string]bool{"id": true, "name": true, "type": true, "etag": true, "properties": true}

func (s *subnetStrategy) ServeVirtual(ctx context.Context, req *engine.Request, vnet *engine.Resource, name string) (*engine.Response, error) {
	switch {
	case name == "" && req.Method == http.MethodGet:
		users, err := s.subnetUsers(ctx)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, v := range subnetsOf(vnet) {
			sn, _ := v.(map[string]any)
			out = append(out, renderSubnet(vnet, sn, users))
		}
		return engine.JSON(http.StatusOK, map[string]any{"value": out}), nil
	case req.Method == http.MethodGet:
		sn := subnetNamed(vnet, name)
		if sn == nil {
			return nil, s.notFound(ctx, vnet, name)
		}
		users, err := s.subnetUsers(ctx)
		if err != nil {
			return nil, err
		}
		return s.respond(http.StatusOK, vnet, renderSubnet(vnet, sn, users)), nil
	case req.Method == http.MethodPut:
		return s.put(ctx, req, vnet, name)
	case req.Method == http.MethodDelete:
		return s.delete(ctx, req, vnet, name)
	}
	return nil, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
		"The requested resource does not support http method '%s' for type '%s'.", req.Method, TypeSubnets)
}

// notFound is the engine's 404 for a subnet that does not exist (the
// engine stores no record for it, so Get answers exactly that).
func (s *subnetStrategy) notFound(ctx context.Context, vnet *engine.Resource, name string) error {
	_, err := s.e.Get(ctx, vnet.ID.Child("subnets", name))
	if err == nil {
		return arm.Internal()
	}
	return err
}

func (s *subnetStrategy) respond(status int, vnet *engine.Resource, body map[string]any) *engine.Response {
	h := http.Header{}
	h.Set("ETag", vnet.ETag())
	return &engine.Response{Status: status, Header: h, Body: body}
}

func (s *subnetStrategy) put(ctx context.Context, req *engine.Request, vnet *engine.Resource, name string) (*engine.Response, error) {
	if len(strings.TrimSpace(string(req.Body))) == 0 {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: 'the request body is required'.")
	}
	dec := json.NewDecoder(strings.NewReader(string(req.Body)))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil || body == nil {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: the content must be a JSON object.")
	}
	for k := range body {
		if !subnetMembers[k] {
			return nil, arm.UnknownMember("", k, "Subnet")
		}
	}
	vs := &vnetStrategy{s.provider}
	created := false
	desired, err := s.e.Update(ctx, vnet.ID, func(desired *engine.Resource) error {
		old := desired.Clone()
		if old.Deleting(req.Now) {
			return arm.Conflict(arm.CodeConflict, "The virtual network '%s' is being deleted and its subnets cannot be changed.", old.ID)
		}
		if err := checkPreconditions(req, old); err != nil {
			return err
		}
		list := append([]any(nil), subnetsOf(old)...)
		item := map[string]any{"name": name, "properties": body["properties"]}
		i := findNamed(list, name)
		created = i < 0
		if created {
			list = append(list, item)
		} else {
			item["name"] = list[i].(map[string]any)["name"] // keep the casing it was created with
			list[i] = item
		}
		desired.Properties["subnets"] = list
		if err := vs.checkVnet(ctx, desired, old); err != nil {
			return retarget(err)
		}
		touch(desired, req)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sn := subnetNamed(desired, name)
	id := desired.ID.Child("subnets", sn["name"].(string))
	op, err := s.e.NewResourceOperation(ctx, req, &engine.Resource{ID: id, Type: TypeSubnets, Location: desired.Location}, false, req.Now.Add(s.e.OperationDuration()))
	if err != nil {
		return nil, err
	}
	users, err := s.subnetUsers(ctx)
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	resp := s.respond(status, desired, renderSubnet(desired, sn, users))
	resp.Header.Set("Azure-AsyncOperation", asyncOperationURL(op.Header.Get("Location")))
	resp.Header.Set("Retry-After", op.Header.Get("Retry-After"))
	return resp, nil
}

func (s *subnetStrategy) delete(ctx context.Context, req *engine.Request, vnet *engine.Resource, name string) (*engine.Response, error) {
	found := false
	vnet, err := s.e.Update(ctx, vnet.ID, func(desired *engine.Resource) error {
		i := findNamed(subnetsOf(desired), name)
		if found = i >= 0; !found {
			return engine.ErrNoChange
		}
		if err := checkPreconditions(req, desired); err != nil {
			return err
		}
		id := desired.ID.Child("subnets", name)
		users, err := s.subnetUsers(ctx)
		if err != nil {
			return err
		}
		if in := users[id.Key()]; len(in) > 0 {
			return inUse(id, in)
		}
		list := append([]any(nil), subnetsOf(desired)...)
		desired.Properties["subnets"] = append(list[:i], list[i+1:]...)
		touch(desired, req)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return &engine.Response{Status: http.StatusNoContent}, nil
	}
	id := vnet.ID.Child("subnets", name)
	resp, err := s.e.NewResourceOperation(ctx, req, &engine.Resource{ID: id, Type: TypeSubnets, Location: vnet.Location}, true, req.Now.Add(s.e.OperationDuration()))
	if err != nil {
		return nil, err
	}
	resp.Header.Set("Azure-AsyncOperation", asyncOperationURL(resp.Header.Get("Location")))
	return resp, nil
}

// asyncOperationURL turns an operation's Location URL (operationResults)
// into its Azure-AsyncOperation URL (operationStatuses): the engine serves
// both for every operation.
func asyncOperationURL(location string) string {
	return strings.Replace(location, "/operationResults/", "/operationStatuses/", 1)
}

// retarget points the errors of a virtual network check made for a subnet
// request at the subnet body's members.
func retarget(err error) error {
	if ae, ok := arm.AsError(err); ok {
		if i := strings.Index(ae.Target, "].properties."); i >= 0 && strings.HasPrefix(ae.Target, "properties.subnets[") {
			ae.Target = ae.Target[i+2:]
		}
	}
	return err
}

// touch records the caller as the last modifier of r.
func touch(r *engine.Resource, req *engine.Request) {
	r.SystemData.LastModifiedAt = req.Now
	switch {
	case req.Caller.PrincipalType == "User":
		r.SystemData.LastModifiedBy, r.SystemData.LastModifiedByType = req.Caller.Name, "User"
	case req.Caller.AppID != "":
		r.SystemData.LastModifiedBy, r.SystemData.LastModifiedByType = req.Caller.AppID, "Application"
	default:
		r.SystemData.LastModifiedBy, r.SystemData.LastModifiedByType = req.Caller.ObjectID, "Application"
	}
}

// checkPreconditions applies If-Match (a subnet's ETag is its virtual
// network's).
func checkPreconditions(req *engine.Request, vnet *engine.Resource) error {
	im := req.Header.Get("If-Match")
	if im == "" || im == "*" {
		return nil
	}
	for _, part := range strings.Split(im, ",") {
		if strings.Trim(strings.TrimPrefix(strings.TrimSpace(part), "W/"), `"`) == strings.Trim(vnet.ETag(), `"`) {
			return nil
		}
	}
	return arm.PreconditionFailed(im)
}
