package authorization

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/policy"
)

// Azure Policy resource types.
const (
	TypePolicyDefinitions    = Namespace + "/policyDefinitions"
	TypePolicySetDefinitions = Namespace + "/policySetDefinitions"
	TypePolicyAssignments    = Namespace + "/policyAssignments"
)

// PolicyAPIVersions are the api-versions of the policy types: 2021-06-01
// (the Azure CLI 2.45 and armpolicy v0.9.0 for definitions and set
// definitions), 2022-06-01 (armpolicy v0.9.0 for assignments) and
// 2023-04-01, with the older stable ones clients still send.
var PolicyAPIVersions = []string{"2023-04-01", "2022-06-01", "2021-06-01", "2020-09-01", "2019-09-01", "2019-06-01", "2019-01-01", "2018-05-01", "2018-03-01"}

// Error codes of Azure Policy.
//
// Choice: PolicyDefinitionNotFound and PolicySetDefinitionNotFound are
// Azure's codes for a missing definition; InvalidPolicyScope (a policy
// object at a scope it cannot live at), BuiltInPolicyDefinitionReadOnly,
// InvalidNotScopes, InvalidEnforcementMode and
// PolicyDefinitionOutOfScope are armlet's own, Azure's codes for these
// cases not being documented.
const (
	codeDefinitionNotFound    = "PolicyDefinitionNotFound"
	codeSetDefinitionNotFound = "PolicySetDefinitionNotFound"
	codeInvalidPolicyScope    = "InvalidPolicyScope"
	codeBuiltInReadOnly       = "BuiltInPolicyDefinitionReadOnly"
	codeInvalidNotScopes      = "InvalidNotScopes"
	codeInvalidEnforcement    = "InvalidEnforcementMode"
	codeDefinitionOutOfScope  = "PolicyDefinitionOutOfScope"
	// CodeRequestDisallowedByPolicy is a deny effect's refusal.
	CodeRequestDisallowedByPolicy = "RequestDisallowedByPolicy"
)

// policies is the shared state of the Azure Policy types: the engine and
// a cache of parsed definitions keyed by ID and revision.
type policies struct {
	e     *engine.Engine
	kv    kv.View // kv.SpacePolicy: the generation and the compliance states
	mu    sync.Mutex
	cache map[string]*policy.Definition
	// memberCache caches resolved assignments by ID and revision,
	// scopeCache the assignments stored at each scope; both hold for the
	// store generation (policyadmit.go).
	memberCache map[*engine.Resource][]member
	scopeCache  map[string][]*engine.Resource
	generation  int64
}

// newPolicies returns empty caches over e and the policy space.
func newPolicies(e *engine.Engine) *policies {
	return &policies{e: e, kv: e.Space(kv.SpacePolicy), cache: map[string]*policy.Definition{},
		memberCache: map[*engine.Resource][]member{}, scopeCache: map[string][]*engine.Resource{}}
}

func registerPolicy(e *engine.Engine) *policies {
	p := newPolicies(e)
	// PolicyDefinitions_CreateOrUpdate lists 201 only, an update too, and
	// armpolicy accepts nothing else.
	e.Registry().Register(&engine.Type{Name: TypePolicyDefinitions, APIVersions: PolicyAPIVersions,
		Put: engine.Sync, Delete: engine.Sync, UpdatedStatus: http.StatusCreated, Strategy: &definitionStrategy{p: p}})
	e.Registry().Register(&engine.Type{Name: TypePolicySetDefinitions, APIVersions: PolicyAPIVersions,
		Put: engine.Sync, Delete: engine.Sync, Strategy: &setDefinitionStrategy{p: p}})
	// Azure answers 201 to every policy assignment PUT, a create or not
	// (PolicyAssignments_Create lists 201 only), and the Azure CLI's
	// `az policy assignment create` refuses a 200. A DELETE answers the
	// deleted assignment.
	e.Registry().Register(&engine.Type{Name: TypePolicyAssignments, APIVersions: PolicyAPIVersions,
		Put: engine.Sync, Delete: engine.Sync, UpdatedStatus: http.StatusCreated, DeleteBody: true, Strategy: &assignmentStrategy{p: p}})
	registerPolicyInsights(e, p)
	e.AddAdmitter(p.admit)
	e.OnWrite(p.recordCompliance)
	e.OnDelete(p.forget)
	return p
}

// ImportBuiltInPolicies stores the built-in Machine Learning policy
// definitions at /providers/Microsoft.Authorization/policyDefinitions/
// {guid}; ones already stored are left as they are.
func ImportBuiltInPolicies(ctx context.Context, e *engine.Engine) error {
	for _, b := range policy.BuiltIns() {
		id := resourceid.New(resourceid.Segment{Type: TypePolicyDefinitions, Name: b.Name})
		body := map[string]any{"properties": map[string]any{
			"displayName": b.DisplayName, "description": b.Description, "policyType": "BuiltIn", "mode": b.Mode,
			"metadata":   map[string]any{"version": b.Version, "category": "Machine Learning"},
			"parameters": b.Parameters, "policyRule": b.Rule,
		}}
		if _, err := e.Import(ctx, id, body, PolicyAPIVersions[0], engine.Caller{}); err != nil {
			return fmt.Errorf("built-in policy %s: %w", b.Name, err)
		}
	}
	return nil
}

// definitionScope checks the scope of a definition or set definition:
// the root (built-ins, read-only), a subscription, or the caller's tenant
// root management group.
func definitionScope(req *engine.Request, scope resourceid.ID, kind string) error {
	switch {
	case scope.IsRoot():
		if req.Method != http.MethodGet && req.Method != http.MethodHead && !req.Importing() {
			return arm.Errorf(http.StatusForbidden, codeBuiltInReadOnly,
				"Built-in policy %ss at '/providers/%s/...' are read-only; create custom ones at a subscription or management group.", kind, Namespace)
		}
		return nil
	case scope.Len() == 1 && strings.EqualFold(scope.Last().Type, resourceid.TypeSubscriptions):
		return nil
	case scope.Len() == 1 && strings.EqualFold(scope.Last().Type, TypeManagementGroups):
		return managementGroupScope(req, scope)
	}
	return arm.BadRequest(codeInvalidPolicyScope,
		"Policy %ss can be defined at a subscription or a management group only; '%s' is neither.", kind, scope)
}

// managementGroupScope admits the caller's tenant root management group
// only (armlet keeps no management group hierarchy).
func managementGroupScope(req *engine.Request, scope resourceid.ID) error {
	if req.Importing() || strings.EqualFold(scope.Name(), req.Caller.TenantID) {
		return nil
	}
	return arm.NotFound(codeManagementGroupMissing, "The management group '%s' could not be found. armlet knows only the tenant root management group, whose id is the tenant id.", scope.Name())
}

// definitionStrategy serves policyDefinitions.
//
// Choice: a custom definition's policyType is always Custom (whatever a
// client sends is overwritten); mode defaults to Indexed. Modes other
// than All and Indexed (the data-plane modes such as
// Microsoft.MachineLearningServices.v2.Data) are stored but never
// evaluated by armlet's ARM.
type definitionStrategy struct{ p *policies }

var (
	_ engine.ScopeChecker  = (*definitionStrategy)(nil)
	_ engine.Importer      = (*definitionStrategy)(nil)
	_ engine.ListInheritor = (*definitionStrategy)(nil)
)

func (s *definitionStrategy) CheckScope(_ context.Context, req *engine.Request, scope resourceid.ID) error {
	return definitionScope(req, scope, "definition")
}

// InheritedScopes: a list at a subscription or management group shows the
// built-in definitions too, first, as Azure does (`az policy definition
// list` shows them with the custom ones).
func (s *definitionStrategy) InheritedScopes(_ *engine.Request, scope resourceid.ID) []resourceid.ID {
	return builtInScope(scope)
}

// builtInScope is the root, where built-ins are stored, for a list at any
// other scope.
func builtInScope(scope resourceid.ID) []resourceid.ID {
	if scope.IsRoot() {
		return nil
	}
	return []resourceid.ID{resourceid.New()}
}

func (s *definitionStrategy) Validate(_ context.Context, _ *engine.Request, desired, _ *engine.Resource) error {
	if err := refuseEnvelope(desired); err != nil {
		return err
	}
	desired.Properties["policyType"] = "Custom"
	_, err := parseDefinition(desired)
	return err
}

func (s *definitionStrategy) Import(_ context.Context, _ *engine.Request, r *engine.Resource) error {
	_, err := parseDefinition(r)
	return err
}

// refuseEnvelope drops location and refuses tags on policy objects
// (they are proxy resources).
func refuseEnvelope(r *engine.Resource) error {
	if len(r.Tags) > 0 {
		return arm.InvalidContent("tags", "Policy resources do not take tags.")
	}
	r.Location = ""
	if r.Properties == nil {
		r.Properties = map[string]any{}
	}
	return nil
}

func parseDefinition(r *engine.Resource) (*policy.Definition, error) {
	mode, _ := r.Properties["mode"].(string)
	switch {
	case mode == "":
		mode = "Indexed"
	case strings.EqualFold(mode, "all"):
		mode = "All"
	case strings.EqualFold(mode, "indexed"):
		mode = "Indexed"
	case !strings.HasPrefix(strings.ToLower(mode), "microsoft."):
		return nil, arm.BadRequest(policy.CodeInvalidPolicyRule, "The policy definition mode '%s' is not valid. The supported modes are 'All', 'Indexed' and resource provider modes such as 'Microsoft.MachineLearningServices.v2.Data'.", mode)
	}
	r.Properties["mode"] = mode
	rule, ok := r.Properties["policyRule"]
	if !ok {
		return nil, arm.BadRequest(policy.CodeInvalidPolicyRule, "The policy definition '%s' has no policyRule.", r.ID.Name())
	}
	d, err := policy.Parse(mode, r.Properties["parameters"], rule)
	if err != nil {
		if ae, ok := arm.AsError(err); ok {
			ae.Message = fmt.Sprintf("The policy definition '%s' is invalid. %s", r.ID.Name(), ae.Message)
		}
		return nil, err
	}
	return d, nil
}

// definition returns the parsed definition at id (a policyDefinitions
// ID), from the cache when its revision is unchanged; nil when it does
// not exist.
func (p *policies) definition(ctx context.Context, id resourceid.ID) (*engine.Resource, *policy.Definition, error) {
	r, err := p.e.Get(ctx, id)
	if err != nil || r == nil {
		return nil, nil, ignoreNotFound(err)
	}
	key := fmt.Sprintf("%s@%d", id.Key(), r.Revision)
	p.mu.Lock()
	d, ok := p.cache[key]
	p.mu.Unlock()
	if ok {
		return r, d, nil
	}
	d, err = parseDefinition(r.Clone())
	if err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	if len(p.cache) > 10000 {
		clear(p.cache)
	}
	p.cache[key] = d
	p.mu.Unlock()
	return r, d, nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, engine.ErrNotFound) {
		return nil
	}
	return err
}

// setDefinitionStrategy serves policySetDefinitions (initiatives): a
// list of member definitions whose parameters take the set's parameters
// through template expressions.
type setDefinitionStrategy struct{ p *policies }

var (
	_ engine.ScopeChecker  = (*setDefinitionStrategy)(nil)
	_ engine.ListInheritor = (*setDefinitionStrategy)(nil)
)

func (s *setDefinitionStrategy) CheckScope(_ context.Context, req *engine.Request, scope resourceid.ID) error {
	return definitionScope(req, scope, "set definition")
}

// InheritedScopes: built-in set definitions are listed with custom ones.
func (s *setDefinitionStrategy) InheritedScopes(_ *engine.Request, scope resourceid.ID) []resourceid.ID {
	return builtInScope(scope)
}

func (s *setDefinitionStrategy) Validate(ctx context.Context, req *engine.Request, desired, _ *engine.Resource) error {
	if err := refuseEnvelope(desired); err != nil {
		return err
	}
	desired.Properties["policyType"] = "Custom"
	_, err := s.p.setMembers(ctx, desired, nil)
	return err
}

// member is one definition a set (or an assignment of a single
// definition) applies.
type member struct {
	defID  resourceid.ID
	refID  string
	defRes *engine.Resource
	def    *policy.Definition
	// params are the member's parameter values, resolved.
	params map[string]any
}

// setMembers resolves a set definition's members. With setValues nil it
// only validates (member parameters are checked against the set's
// declared parameters); otherwise it resolves every member's parameter
// values from the set's values.
func (p *policies) setMembers(ctx context.Context, set *engine.Resource, setValues map[string]any) ([]member, error) {
	declared, err := policy.ParseParameters(set.Properties["parameters"])
	if err != nil {
		return nil, err
	}
	list, ok := set.Properties["policyDefinitions"].([]any)
	if !ok || len(list) == 0 {
		return nil, arm.BadRequest("InvalidPolicySetDefinition", "The policy set definition '%s' needs 'policyDefinitions', a non-empty array.", set.ID.Name())
	}
	var out []member
	for i, raw := range list {
		m, _ := raw.(map[string]any)
		idStr, _ := m["policyDefinitionId"].(string)
		id, err := resourceid.Parse(idStr)
		if err != nil || !strings.EqualFold(id.ResourceType(), TypePolicyDefinitions) {
			return nil, arm.BadRequest("InvalidPolicySetDefinition", "policyDefinitions[%d].policyDefinitionId '%s' is not a policy definition ID.", i, idStr)
		}
		res, def, err := p.definition(ctx, id)
		if err != nil {
			return nil, err
		}
		if def == nil {
			return nil, arm.NotFound(codeDefinitionNotFound, "The policy definition '%s' could not be found.", id.Name())
		}
		ref, _ := m["policyDefinitionReferenceId"].(string)
		if ref == "" {
			ref = fmt.Sprintf("%s_%d", id.Name(), i)
			m["policyDefinitionReferenceId"] = ref
		}
		pv, _ := m["parameters"].(map[string]any)
		values := map[string]any{}
		for name, v := range pv {
			vo, _ := v.(map[string]any)
			if setValues == nil {
				if err := policy.CheckTemplate(vo["value"], declared, fmt.Sprintf("policyDefinitions[%d].parameters.%s", i, name)); err != nil {
					return nil, err
				}
				continue
			}
			val, err := policy.EvalTemplate(vo["value"], setValues)
			if err != nil {
				return nil, arm.BadRequest(policy.CodeInvalidPolicyParameters, "policyDefinitions[%d].parameters.%s: %v.", i, name, err)
			}
			values[name] = map[string]any{"value": val}
		}
		mb := member{defID: res.ID, refID: ref, defRes: res, def: def}
		if setValues != nil {
			if mb.params, err = def.ResolveParameters(values); err != nil {
				return nil, err
			}
		}
		out = append(out, mb)
	}
	return out, nil
}

// assignmentStrategy serves policyAssignments at the tenant root
// management group, a subscription, a resource group or a resource.
//
// Choice: the referenced definition must exist and be defined at an
// ancestor of the assignment's scope (built-ins anywhere); otherwise 404
// PolicyDefinitionNotFound or 400 PolicyDefinitionOutOfScope. notScopes
// must be resource IDs (400 InvalidNotScopes); enforcementMode is Default
// or DoNotEnforce, any case (400 InvalidEnforcementMode). A top-level
// location and identity are kept as sent.
type assignmentStrategy struct{ p *policies }

var (
	_ engine.ScopeChecker = (*assignmentStrategy)(nil)
	_ engine.Renderer     = (*assignmentStrategy)(nil)
)

func (s *assignmentStrategy) CheckScope(_ context.Context, req *engine.Request, scope resourceid.ID) error {
	if scope.IsRoot() {
		return arm.BadRequest(codeInvalidPolicyScope, "Policy assignments cannot be created at the root scope '/'; assign at a management group, subscription, resource group or resource.")
	}
	if scope.Len() == 1 && strings.EqualFold(scope.Last().Type, TypeManagementGroups) {
		return managementGroupScope(req, scope)
	}
	if !strings.EqualFold(scope.Segments()[0].Type, resourceid.TypeSubscriptions) {
		return arm.BadRequest(codeInvalidPolicyScope, "The scope '%s' is not a management group, subscription, resource group or resource.", scope)
	}
	return nil
}

func (s *assignmentStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	props, _ := body["properties"].(map[string]any)
	if props != nil {
		props["scope"] = r.ID.Parent().String()
	}
	return nil
}

func (s *assignmentStrategy) Validate(ctx context.Context, _ *engine.Request, desired, _ *engine.Resource) error {
	if len(desired.Tags) > 0 {
		return arm.InvalidContent("tags", "Policy assignments do not take tags.")
	}
	if desired.Properties == nil {
		desired.Properties = map[string]any{}
	}
	delete(desired.Properties, "scope")
	mode, _ := desired.Properties["enforcementMode"].(string)
	switch {
	case mode == "" || strings.EqualFold(mode, "Default"):
		desired.Properties["enforcementMode"] = "Default"
	case strings.EqualFold(mode, "DoNotEnforce"):
		desired.Properties["enforcementMode"] = "DoNotEnforce"
	default:
		return arm.BadRequest(codeInvalidEnforcement, "The enforcement mode '%s' is not valid; it is 'Default' or 'DoNotEnforce'.", mode)
	}
	if ns, ok := desired.Properties["notScopes"]; ok && ns != nil {
		list, ok := ns.([]any)
		if !ok {
			return arm.BadRequest(codeInvalidNotScopes, "notScopes must be an array of resource IDs.")
		}
		for _, v := range list {
			str, _ := v.(string)
			if _, err := resourceid.Parse(str); err != nil || str == "" || str == "/" {
				return arm.BadRequest(codeInvalidNotScopes, "The not scope '%v' is not a valid scope: it must be the ID of a management group, subscription, resource group or resource.", v)
			}
		}
	}
	_, err := s.p.members(ctx, desired)
	return err
}

// members resolves an assignment to the definitions it applies, with
// their parameter values.
func (p *policies) members(ctx context.Context, a *engine.Resource) ([]member, error) {
	idStr, _ := a.Properties["policyDefinitionId"].(string)
	if idStr == "" {
		return nil, arm.BadRequest("InvalidPolicyAssignment", "The policy assignment '%s' needs properties.policyDefinitionId.", a.ID.Name())
	}
	defID, err := resourceid.Parse(idStr)
	if err != nil {
		return nil, arm.BadRequest("InvalidPolicyAssignment", "The policyDefinitionId '%s' is not a resource ID.", idStr)
	}
	scope := a.ID.Parent()
	if !defID.Parent().IsRoot() && !inScope(defID.Parent(), scope) {
		return nil, arm.BadRequest(codeDefinitionOutOfScope, "The policy definition '%s' is defined at '%s', which does not contain the assignment scope '%s'.", defID, defID.Parent(), scope)
	}
	values, _ := a.Properties["parameters"].(map[string]any)
	switch {
	case strings.EqualFold(defID.ResourceType(), TypePolicyDefinitions):
		res, def, err := p.definition(ctx, defID)
		if err != nil {
			return nil, err
		}
		if def == nil {
			return nil, arm.NotFound(codeDefinitionNotFound, "The policy definition '%s' could not be found.", defID.Name())
		}
		params, err := def.ResolveParameters(values)
		if err != nil {
			return nil, err
		}
		return []member{{defID: res.ID, defRes: res, def: def, params: params}}, nil
	case strings.EqualFold(defID.ResourceType(), TypePolicySetDefinitions):
		set, err := p.e.Get(ctx, defID)
		if err != nil || set == nil {
			if err := ignoreNotFound(err); err != nil {
				return nil, err
			}
			return nil, arm.NotFound(codeSetDefinitionNotFound, "The policy set definition '%s' could not be found.", defID.Name())
		}
		declared, err := policy.ParseParameters(set.Properties["parameters"])
		if err != nil {
			return nil, err
		}
		setValues, err := policy.ResolveParameters(declared, values)
		if err != nil {
			return nil, err
		}
		return p.setMembers(ctx, set, setValues)
	}
	return nil, arm.BadRequest("InvalidPolicyAssignment", "The policyDefinitionId '%s' is neither a policy definition nor a policy set definition.", idStr)
}

// inScope reports whether scope is at or below ancestor. The tenant root
// management group contains every subscription of the tenant (armlet has
// one tenant per caller).
func inScope(ancestor, scope resourceid.ID) bool {
	if ancestor.Len() == 1 && strings.EqualFold(ancestor.Last().Type, TypeManagementGroups) {
		return true
	}
	return ancestor.Contains(scope)
}

// jsonValue decodes raw JSON keeping numbers as json.Number.
func jsonValue(raw json.RawMessage) any {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	return v
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}
