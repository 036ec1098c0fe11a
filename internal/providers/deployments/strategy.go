package deployments

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/armtemplate"
	"github.com/armlet/armlet/internal/engine"
	"github.com/google/uuid"
)

// strategy checks a deployment's PUT and shows its run.
type strategy struct{ p *Provider }

var (
	_ engine.Strategy        = (*strategy)(nil)
	_ engine.Renderer        = (*strategy)(nil)
	_ engine.DeleteValidator = (*strategy)(nil)
	_ engine.Actioner        = (*strategy)(nil)
	_ engine.ScopeChecker    = (*strategy)(nil)
)

// CheckScope allows the scopes Azure deploys at: a resource group, a
// subscription, the tenant ("/") and a management group, of which armlet
// has one, the tenant's root management group (whose id is the tenant's).
func (s *strategy) CheckScope(_ context.Context, req *engine.Request, scope resourceid.ID) error {
	switch {
	case scope.IsRoot(), scope.Len() == 1 && scope.SubscriptionID() != "", scope.Len() == 2 && scope.ResourceGroupName() != "":
		return nil
	case scope.Len() == 1 && strings.EqualFold(scope.Last().Type, typeManagementGroups):
		if !strings.EqualFold(scope.Name(), req.Caller.TenantID) {
			return arm.NotFound("ManagementGroupNotFound",
				"The management group '%s' was not found. armlet has no management group hierarchy: the only management group is the root management group of your tenant, whose id is the tenant id '%s'.",
				scope.Name(), req.Caller.TenantID)
		}
		return nil
	}
	return arm.BadRequest("InvalidDeploymentScope", "A deployment cannot be made at '%s': deploy at a resource group, a subscription, a management group or the tenant.", scope)
}

const typeManagementGroups = "Microsoft.Management/managementGroups"

// Validate checks the template and its parameters (nothing is made when
// they are wrong), refuses to replace a deployment that is still running,
// and records a new run: Accepted, its parameters as Azure shows them
// (secure ones without their values), the template's hash.
func (s *strategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if old != nil {
		if st := stateOf(old); !terminal(st.Status) {
			return arm.Conflict("DeploymentActive", "Unable to edit or replace deployment '%s': previous deployment from '%s' is still active (current provisioning state is %s). Please see https://aka.ms/arm-deploy for usage details.",
				desired.ID.Name(), st.Started.UTC().Format(time.RFC3339), st.Status)
		}
	}
	scope := desired.ID.Parent()
	if scope.ResourceGroupName() == "" && desired.Location == "" {
		return arm.BadRequest("InvalidDeploymentLocation", "The deployment location is required for a deployment at subscription scope.")
	}
	for k := range desired.Extra {
		return arm.UnknownMember("", k, "Deployment")
	}
	c, err := s.p.check(ctx, desired.ID, desired.Properties, req.Caller, req.BaseURL)
	if err != nil {
		return err
	}
	props := desired.Properties
	mode := props["mode"]
	debug := props["debugSetting"]
	onError := props["onErrorDeployment"]
	desired.Properties = map[string]any{
		"templateHash": c.hash,
		"parameters":   c.template.ShownParameters(c.params),
		"mode":         canonicalMode(mode),
		"providers":    providers(c.plan),
		"dependencies": dependencies(c.plan),
	}
	if debug != nil {
		desired.Properties["debugSetting"] = debug
	}
	if onError != nil {
		rollback, err := s.p.rollbackTarget(ctx, desired.ID, onError)
		if err != nil {
			return err
		}
		desired.Properties["onErrorDeployment"] = rollback
	}
	given, _ := props["parameters"].(map[string]any)
	setState(desired, state{
		Status: stateAccepted, OperationID: newOperationID(), CorrelationID: correlationID(req),
		Started: req.Now, Template: mustJSON(props["template"]), Parameters: given,
	})
	return nil
}

// rollbackTarget checks a deployment's onErrorDeployment and names the
// deployment it redeploys on failure: the one given (SpecificDeployment),
// or the last that succeeded in the resource group (LastSuccessful).
// Azure allows it for resource group deployments only, and the earlier
// deployment must exist and have succeeded.
func (p *Provider) rollbackTarget(ctx context.Context, id resourceid.ID, v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, arm.InvalidContent("properties.onErrorDeployment", "The 'onErrorDeployment' must be an object.")
	}
	if id.Parent().ResourceGroupName() == "" {
		return nil, arm.BadRequest("InvalidOnErrorDeployment", "Rollback on error ('onErrorDeployment') is available only for deployments at resource group scope.")
	}
	typ, _ := m["type"].(string)
	name, _ := m["deploymentName"].(string)
	switch {
	case strings.EqualFold(typ, "SpecificDeployment"):
		if name == "" {
			return nil, arm.InvalidContent("properties.onErrorDeployment.deploymentName", "The 'deploymentName' of an onErrorDeployment of type 'SpecificDeployment' is required.")
		}
		r, err := p.e.Get(ctx, id.Parent().Child(TypeDeployments, name))
		if err != nil || stateOf(r).Status != stateSucceeded || strings.EqualFold(name, id.Name()) {
			return nil, arm.BadRequest("InvalidOnErrorDeployment", "The deployment '%s' to redeploy on error does not exist in the deployment history or did not succeed.", name)
		}
		return map[string]any{"type": "SpecificDeployment", "deploymentName": r.ID.Name()}, nil
	case strings.EqualFold(typ, "LastSuccessful"):
		all, err := p.e.List(ctx, id.Parent(), TypeDeployments)
		if err != nil {
			return nil, err
		}
		var last *engine.Resource
		for _, r := range all {
			st := stateOf(r)
			if st.Status == stateSucceeded && !strings.EqualFold(r.ID.Name(), id.Name()) && (last == nil || st.Ended.After(stateOf(last).Ended)) {
				last = r
			}
		}
		if last == nil {
			return nil, arm.BadRequest("InvalidOnErrorDeployment", "No earlier deployment in resource group '%s' succeeded, so none can be redeployed on error.", id.Parent().ResourceGroupName())
		}
		return map[string]any{"type": "LastSuccessful", "deploymentName": last.ID.Name()}, nil
	}
	return nil, arm.InvalidContent("properties.onErrorDeployment.type", "The onErrorDeployment type '%s' is not valid: it must be 'LastSuccessful' or 'SpecificDeployment'.", typ)
}

func canonicalMode(v any) string {
	if s, _ := v.(string); strings.EqualFold(s, "Complete") {
		return "Complete"
	}
	return "Incremental"
}

func correlationID(req *engine.Request) string {
	if req.Header != nil {
		if id := req.Header.Get("X-Ms-Correlation-Request-Id"); id != "" {
			return id
		}
	}
	return uuid.NewString()
}

// providers lists the namespaces and types a plan deploys, as Azure shows
// them.
func providers(plan *armtemplate.Plan) []any {
	byNS := map[string][]string{}
	var order []string
	for _, s := range plan.Steps {
		ns, typ, _ := strings.Cut(s.Type, "/")
		if _, ok := byNS[ns]; !ok {
			order = append(order, ns)
		}
		seen := false
		for _, t := range byNS[ns] {
			seen = seen || strings.EqualFold(t, typ)
		}
		if !seen {
			byNS[ns] = append(byNS[ns], typ)
		}
	}
	out := []any{}
	for _, ns := range order {
		types := []any{}
		for _, t := range byNS[ns] {
			types = append(types, map[string]any{"resourceType": t, "locations": []any{}})
		}
		out = append(out, map[string]any{"namespace": ns, "resourceTypes": types})
	}
	return out
}

// dependencies lists each step that waits for others, as Azure shows them.
func dependencies(plan *armtemplate.Plan) []any {
	out := []any{}
	for _, s := range plan.Steps {
		if len(s.DependsOn) == 0 {
			continue
		}
		deps := []any{}
		for _, d := range s.DependsOn {
			o := plan.Steps[d]
			deps = append(deps, map[string]any{"id": o.ID.String(), "resourceType": o.Type, "resourceName": o.Name})
		}
		out = append(out, map[string]any{"id": s.ID.String(), "resourceType": s.Type, "resourceName": s.Name, "dependsOn": deps})
	}
	return out
}

// Render shows the run's state.
func (s *strategy) Render(_ context.Context, r *engine.Resource, body map[string]any, _ string, now time.Time) error {
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		body["properties"] = props
	}
	stateOf(r).render(props, now)
	delete(body, "systemData")
	return nil
}

// ValidateDelete refuses to delete a running deployment.
func (s *strategy) ValidateDelete(_ context.Context, _ *engine.Request, r *engine.Resource) error {
	if st := stateOf(r); !terminal(st.Status) {
		return arm.Conflict("DeploymentActive", "The deployment '%s' cannot be deleted while it is running (current provisioning state is %s); cancel it first.", r.ID.Name(), st.Status)
	}
	return nil
}

// Action answers the actions of an existing deployment the route does
// not (none: the route answers them all, since validate needs no
// deployment).
func (s *strategy) Action(_ context.Context, _ *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	return nil, engine.UnknownAction(r.Type, name)
}

// action answers POST {deployment}/{name}: validate and whatIf (nothing
// made), cancel and exportTemplate.
func (p *Provider) action(ctx context.Context, req *engine.Request, id resourceid.ID, name string) (*engine.Response, error) {
	if err := p.checkVersion(req); err != nil {
		return nil, err
	}
	switch strings.ToLower(name) {
	case "validate":
		return p.validate(ctx, req, id)
	case "cancel":
		return p.cancel(ctx, id)
	case "whatif":
		return p.whatIf(ctx, req, id)
	case "exporttemplate":
		r, err := p.e.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		var t any
		_ = json.Unmarshal(stateOf(r).Template, &t)
		return engine.JSON(http.StatusOK, map[string]any{"template": t}), nil
	}
	return nil, engine.UnknownAction(TypeDeployments, name)
}

// validate checks a deployment as its PUT would and makes nothing.
func (p *Provider) validate(ctx context.Context, req *engine.Request, id resourceid.ID) (*engine.Response, error) {
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil || body == nil {
		return nil, arm.BadRequest(arm.CodeInvalidRequestContent, "The request content is not a valid deployment.")
	}
	props, _ := body["properties"].(map[string]any)
	if id.Parent().ResourceGroupName() == "" {
		if loc, _ := body["location"].(string); loc == "" {
			return nil, arm.BadRequest("InvalidDeploymentLocation", "The deployment location is required for a deployment at subscription scope.")
		}
	} else if _, err := p.e.Get(ctx, id.Parent()); err != nil {
		return nil, err
	}
	c, err := p.check(ctx, id, props, req.Caller, req.BaseURL)
	if err != nil {
		return nil, err
	}
	validated := []any{}
	for _, s := range c.plan.Steps {
		validated = append(validated, map[string]any{"id": s.ID.String()})
	}
	return engine.JSON(http.StatusOK, map[string]any{
		"id": id.String(), "name": id.Name(), "type": TypeDeployments,
		"properties": map[string]any{
			"templateHash": c.hash, "parameters": c.template.ShownParameters(c.params),
			"mode": canonicalMode(props["mode"]), "provisioningState": stateSucceeded,
			"timestamp": req.Now.UTC().Format(time.RFC3339Nano), "duration": "PT0S",
			"correlationId": correlationID(req), "providers": providers(c.plan), "dependencies": dependencies(c.plan),
			"validatedResources": validated,
		},
	}), nil
}

// cancel stops a running deployment: what it made stays.
func (p *Provider) cancel(ctx context.Context, id resourceid.ID) (*engine.Response, error) {
	_, err := p.e.Update(ctx, id, func(r *engine.Resource) error {
		st := stateOf(r)
		if terminal(st.Status) {
			return arm.Conflict("DeploymentCannotBeCancelled", "The deployment '%s' cannot be cancelled: its provisioning state is '%s'.", id.Name(), st.Status)
		}
		st.Status, st.Ended = stateCanceled, p.e.Now()
		setState(r, st)
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if c := p.running[id.Key()]; c != nil {
		c()
	}
	p.mu.Unlock()
	return &engine.Response{Status: http.StatusNoContent}, nil
}
