package deployments

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/armtemplate"
	"github.com/armlet/armlet/internal/armtemplate/expr"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
)

// whatIf answers POST {deployment}/whatIf: the changes the deployment
// would make, read as its caller, nothing made. It answers 202 with a
// Location where the result is, as Azure does.
//
// Each resource of the template is Create (absent), NoChange or Modify
// (with the delta of the members the template sets: Create where the
// resource lacks one, Modify where it differs), or Unsupported when its
// body needs what only the deployment would make (a reference() to a
// resource not there yet). In Complete mode, each top-level resource of
// the resource group the template does not name is Delete.
//
// Choice: members the template does not set are not compared (Azure
// reports those the provider would reset as Delete or NoEffect, which
// needs each provider's defaults); arrays are compared whole.
func (p *Provider) whatIf(ctx context.Context, req *engine.Request, id resourceid.ID) (*engine.Response, error) {
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil || body == nil {
		return nil, arm.BadRequest(arm.CodeInvalidRequestContent, "The request content is not a valid deployment what-if.")
	}
	props, _ := body["properties"].(map[string]any)
	c, err := p.check(ctx, id, props, req.Caller, req.BaseURL)
	if err != nil {
		return nil, err
	}
	rn := &run{p: p, id: id, caller: req.Caller, baseURL: req.BaseURL, origin: netmodel.OriginFrom(ctx)}
	// Bind again with the live functions, as the deployment would.
	env, err := p.env(ctx, id, req.Caller, req.BaseURL, c.template, rn)
	if err != nil {
		return nil, err
	}
	plan, err := c.template.NewPlan(c.params, env)
	if err != nil {
		return nil, err
	}
	changes := []any{}
	named := map[string]bool{}
	for _, s := range plan.Steps {
		named[s.ID.Key()] = true
		if s.Existing {
			continue
		}
		changes = append(changes, rn.change(ctx, plan, s))
	}
	if strings.EqualFold(canonicalMode(props["mode"]), "Complete") && id.Parent().ResourceGroupName() != "" {
		extra, err := rn.unnamed(ctx, named)
		if err != nil {
			return nil, err
		}
		for _, r := range extra {
			changes = append(changes, map[string]any{"resourceId": r["id"], "changeType": "Delete", "before": r})
		}
	}
	result := map[string]any{"status": stateSucceeded, "properties": map[string]any{"changes": changes}}
	return p.e.NewActionOperation(ctx, req, &engine.Resource{ID: id, Type: TypeDeployments, Location: "global"}, result, req.Now)
}

// change is one resource's what-if change.
func (rn *run) change(ctx context.Context, plan *armtemplate.Plan, s *armtemplate.Step) map[string]any {
	out := map[string]any{"resourceId": s.ID.String()}
	desired, err := plan.Body(s)
	if err != nil {
		out["changeType"] = "Unsupported"
		out["unsupportedReason"] = asARM(err).Message
		return out
	}
	after := map[string]any{"apiVersion": s.APIVersion, "id": s.ID.String(), "type": s.Type, "name": s.ID.Name()}
	for k, v := range desired {
		after[k] = v
	}
	out["after"] = after
	current, err := rn.get(ctx, s.ID, s.APIVersion)
	if isNotFound(err) {
		out["changeType"] = "Create"
		return out
	}
	if err != nil {
		out["changeType"] = "Unsupported"
		out["unsupportedReason"] = asARM(err).Message
		return out
	}
	before := map[string]any{"apiVersion": s.APIVersion}
	for k, v := range current {
		before[k] = v
	}
	out["before"] = before
	var delta []any
	diff("", desired, current, &delta)
	if len(delta) == 0 {
		out["changeType"] = "NoChange"
		return out
	}
	out["changeType"] = "Modify"
	out["delta"] = delta
	return out
}

// diff appends to delta the members want sets that have differs from.
func diff(path string, want, have any, delta *[]any) {
	wm, wok := want.(map[string]any)
	hm, hok := have.(map[string]any)
	if wok && hok {
		keys := make([]string, 0, len(wm))
		for k := range wm {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			hv, ok := expr.Key(hm, k)
			if !ok {
				*delta = append(*delta, map[string]any{"path": sub, "propertyChangeType": "Create", "after": wm[k]})
				continue
			}
			diff(sub, wm[k], hv, delta)
		}
		return
	}
	if !same(want, have) {
		*delta = append(*delta, map[string]any{"path": path, "propertyChangeType": "Modify", "before": have, "after": want})
	}
}

// same compares JSON values as Azure's what-if does: numbers by value,
// strings ignoring case (resource ids and enums come back in the
// provider's casing).
func same(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return strings.EqualFold(as, bs)
	}
	return expr.Equal(expr.Normalize(a), expr.Normalize(b))
}

// unnamed lists the top-level resources of the deployment's resource
// group that named does not hold, as the caller reads them.
func (rn *run) unnamed(ctx context.Context, named map[string]bool) ([]map[string]any, error) {
	rg := rn.id.Parent()
	resp, err := rn.p.dispatch(ctx, Request{
		Caller: rn.caller, Method: http.MethodGet, ID: rg, Tail: "resources", APIVersion: "2021-04-01",
		BaseURL: rn.baseURL, Deployment: rn.id,
	})
	if err != nil {
		return nil, err
	}
	var list struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(mustJSON(resp.Body), &list); err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, r := range list.Value {
		idStr, _ := r["id"].(string)
		id, err := resourceid.Parse(idStr)
		if err != nil || named[id.Key()] || strings.EqualFold(id.ResourceType(), TypeDeployments) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
