package network

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// A subnet's PrepareNetworkPolicies and UnprepareNetworkPolicies (POST
// .../subnets/{s}/PrepareNetworkPolicies and .../UnprepareNetworkPolicies):
// a service that a subnet is delegated to (Azure SQL Managed Instance in
// Azure's example) asks Azure to apply, or remove, the network intent
// policies it needs on the subnet. Both are long-running operations whose
// final state is read at Location (x-ms-long-running-operation, final-state-via
// location): 202 with Location and Azure-AsyncOperation, then an empty 200.
//
// Azure checks the subnet exists (404 as for a GET of it) and the body: a
// PrepareNetworkPoliciesRequest (serviceName, networkIntentPolicyConfigurations
// of {networkIntentPolicyName, sourceNetworkIntentPolicy}) or an
// UnprepareNetworkPoliciesRequest (serviceName).
//
// Choice: armlet has no network intent policies, and no member of a subnet
// shows them in Azure either; the operations check the subnet and the body
// and complete, changing nothing a client can read. Whether Azure refuses a
// service the subnet is not delegated to is not documented; armlet does not.
var _ engine.VirtualActioner = (*subnetStrategy)(nil)

// Subnet actions (their path segments, matched ignoring case).
const (
	actionPrepareNetworkPolicies   = "PrepareNetworkPolicies"
	actionUnprepareNetworkPolicies = "UnprepareNetworkPolicies"
)

// VirtualAction answers the subnet's actions.
func (s *subnetStrategy) VirtualAction(ctx context.Context, req *engine.Request, vnet *engine.Resource, name, action string) (*engine.Response, error) {
	var check func(map[string]any) error
	switch {
	case strings.EqualFold(action, actionPrepareNetworkPolicies):
		check = checkPrepareNetworkPolicies
	case strings.EqualFold(action, actionUnprepareNetworkPolicies):
		check = checkUnprepareNetworkPolicies
	default:
		return nil, engine.UnknownAction(TypeSubnets, action)
	}
	sn := subnetNamed(vnet, name)
	if sn == nil {
		return nil, s.notFound(ctx, vnet, name)
	}
	if vnet.Deleting(req.Now) {
		return nil, arm.Conflict(arm.CodeConflict, "The virtual network '%s' is being deleted and its subnets cannot be changed.", vnet.ID)
	}
	body, err := actionBody(req.Body)
	if err != nil {
		return nil, err
	}
	if err := check(body); err != nil {
		return nil, err
	}
	id := vnet.ID.Child("subnets", sn["name"].(string))
	return s.e.NewActionOperation(ctx, req, &engine.Resource{ID: id, Type: TypeSubnets, Location: vnet.Location}, nil, req.Now.Add(s.e.OperationDuration()))
}

// actionBody decodes a required JSON object body.
func actionBody(raw []byte) (map[string]any, error) {
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: 'the request body is required'.")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil || body == nil || dec.More() {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: the content must be a JSON object.")
	}
	return body, nil
}

// checkMembers refuses a member of m that is not one of allowed.
func checkMembers(m map[string]any, parent, typeName string, allowed ...string) error {
	for k := range m {
		known := false
		for _, a := range allowed {
			known = known || strings.EqualFold(k, a)
		}
		if !known {
			return arm.UnknownMember(parent, k, typeName)
		}
	}
	return nil
}

// checkPrepareNetworkPolicies checks a PrepareNetworkPoliciesRequest.
func checkPrepareNetworkPolicies(body map[string]any) error {
	if err := checkMembers(body, "", "PrepareNetworkPoliciesRequest", "serviceName", "networkIntentPolicyConfigurations"); err != nil {
		return err
	}
	if _, err := stringAt(body, "serviceName", "serviceName"); err != nil {
		return err
	}
	configs, err := arrayAt(body, "networkIntentPolicyConfigurations", "networkIntentPolicyConfigurations")
	if err != nil {
		return err
	}
	for i, c := range configs {
		path := "networkIntentPolicyConfigurations[" + itoa(i) + "]"
		item, ok := c.(map[string]any)
		if !ok {
			return badType(path, "a JSON object")
		}
		if err := checkMembers(item, path, "NetworkIntentPolicyConfiguration", "networkIntentPolicyName", "sourceNetworkIntentPolicy"); err != nil {
			return err
		}
		if _, err := stringAt(item, "networkIntentPolicyName", path+".networkIntentPolicyName"); err != nil {
			return err
		}
		src, err := objectAt(item, "sourceNetworkIntentPolicy", path+".sourceNetworkIntentPolicy")
		if err != nil {
			return err
		}
		// NetworkIntentPolicy is a Resource with an etag.
		if err := checkMembers(src, path+".sourceNetworkIntentPolicy", "NetworkIntentPolicy", "id", "name", "type", "location", "tags", "etag"); err != nil {
			return err
		}
		for _, k := range []string{"id", "location"} {
			if _, err := stringAt(src, k, path+".sourceNetworkIntentPolicy."+k); err != nil {
				return err
			}
		}
		if _, err := objectAt(src, "tags", path+".sourceNetworkIntentPolicy.tags"); err != nil {
			return err
		}
	}
	return nil
}

// checkUnprepareNetworkPolicies checks an UnprepareNetworkPoliciesRequest.
func checkUnprepareNetworkPolicies(body map[string]any) error {
	if err := checkMembers(body, "", "UnprepareNetworkPoliciesRequest", "serviceName"); err != nil {
		return err
	}
	_, err := stringAt(body, "serviceName", "serviceName")
	return err
}
