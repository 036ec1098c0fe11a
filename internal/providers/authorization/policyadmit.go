package authorization

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/policy"
)

// applied is one policy assignment in force at a resource, resolved to
// the definitions it applies.
type applied struct {
	a       *engine.Resource
	members []member
}

func (ap applied) enforced() bool {
	m, _ := ap.a.Properties["enforcementMode"].(string)
	return !strings.EqualFold(m, "DoNotEnforce")
}

func (ap applied) setID() string {
	id, _ := ap.a.Properties["policyDefinitionId"].(string)
	if strings.Contains(strings.ToLower(id), "/policysetdefinitions/") {
		return id
	}
	return ""
}

// skipType reports whether policy is not evaluated on resources of typ:
// the policy objects themselves and subscriptions.
func skipType(typ string) bool {
	l := strings.ToLower(typ)
	return strings.HasPrefix(l, "microsoft.authorization/") || strings.HasPrefix(l, "microsoft.policyinsights/") ||
		strings.EqualFold(typ, "Microsoft.Resources/subscriptions")
}

// applicable returns the assignments in force at id: those at the
// tenant's root management group, at each ancestor of id and at id itself,
// less those whose notScopes contain id.
func (p *policies) applicable(ctx context.Context, tenantID string, id resourceid.ID) ([]applied, error) {
	var scopes []resourceid.ID
	if validTenantID(tenantID) {
		scopes = append(scopes, RootManagementGroup(tenantID))
	}
	segs := id.Segments()
	for i := 1; i <= len(segs); i++ {
		scopes = append(scopes, resourceid.New(segs[:i]...))
	}
	if err := p.syncGeneration(ctx); err != nil {
		return nil, err
	}
	var out []applied
	for _, scope := range scopes {
		list, err := p.assignmentsAt(ctx, scope)
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			if excluded(a, id) {
				continue
			}
			members, err := p.cachedMembers(ctx, a)
			if err != nil {
				// A definition deleted after the assignment was made: the
				// assignment no longer applies anything.
				if _, ok := arm.AsError(err); ok {
					continue
				}
				return nil, err
			}
			out = append(out, applied{a: a, members: members})
		}
	}
	return out, nil
}

func excluded(a *engine.Resource, id resourceid.ID) bool {
	list, _ := a.Properties["notScopes"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		if ns, err := resourceid.Parse(s); err == nil && ns.Contains(id) {
			return true
		}
	}
	return false
}

// cachedMembers resolves an assignment, cached for the generation (the
// assignment values come from scopeCache, so the pointer identifies the
// revision).
func (p *policies) cachedMembers(ctx context.Context, a *engine.Resource) ([]member, error) {
	p.mu.Lock()
	m, ok := p.memberCache[a]
	p.mu.Unlock()
	if ok {
		return m, nil
	}
	m, err := p.members(ctx, a)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if len(p.memberCache) > 100000 {
		clear(p.memberCache)
	}
	p.memberCache[a] = m
	p.mu.Unlock()
	return m, nil
}

// generationKey, in kv.SpacePolicy, is rewritten after every change to a
// policy definition, set definition or assignment: its revision tells
// every reader (every replica) that its caches are stale.
var generationKey = []byte("generation")

// invalidate clears the caches and bumps the generation.
func (p *policies) invalidate(ctx context.Context) {
	p.mu.Lock()
	clear(p.memberCache)
	clear(p.scopeCache)
	p.mu.Unlock()
	_, _ = p.kv.Txn(ctx, kv.Put(generationKey, []byte("1")))
}

// syncGeneration clears the caches when the generation moved since they
// were filled: one store read per evaluation.
//
// Choice: assignments are cached per scope between changes to policy
// objects, so that admission with many assignments in force costs map
// lookups rather than decoding every assignment on every write.
func (p *policies) syncGeneration(ctx context.Context) error {
	var gen int64
	ent, err := p.kv.Get(ctx, generationKey)
	switch {
	case err == nil:
		gen = ent.Revision
	case !errors.Is(err, kv.ErrNotFound):
		return err
	}
	p.mu.Lock()
	if gen != p.generation {
		clear(p.memberCache)
		clear(p.scopeCache)
		p.generation = gen
	}
	p.mu.Unlock()
	return nil
}

// assignmentsAt lists the assignments stored directly at scope, cached.
func (p *policies) assignmentsAt(ctx context.Context, scope resourceid.ID) ([]*engine.Resource, error) {
	key := scope.Key()
	p.mu.Lock()
	list, ok := p.scopeCache[key]
	p.mu.Unlock()
	if ok {
		return list, nil
	}
	list, err := p.e.List(ctx, scope, TypePolicyAssignments)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if len(p.scopeCache) > 100000 {
		clear(p.scopeCache)
	}
	p.scopeCache[key] = list
	p.mu.Unlock()
	return list, nil
}

// modes returns the definition modes that evaluate resources of typ:
// All evaluates everything, Indexed the types with tags and location
// (tracked types; not resource groups), resource provider modes nothing
// (they are data-plane modes).
func (p *policies) modes(typ string) func(mode string) bool {
	t, ok := p.e.Registry().Lookup(typ)
	indexed := ok && t.Tracked && !strings.HasPrefix(strings.ToLower(typ), "microsoft.resources/")
	return func(mode string) bool { return mode == "All" || (mode == "Indexed" && indexed) }
}

// bodyOf is r's ARM JSON body as policy sees it.
func bodyOf(r *engine.Resource) map[string]any {
	m := map[string]any{"id": r.ID.String(), "name": r.ID.Name(), "type": r.Type, "fullName": fullName(r.ID)}
	if r.Location != "" {
		m["location"] = r.Location
	}
	if r.Kind != "" {
		m["kind"] = r.Kind
	}
	tags := map[string]any{}
	for k, v := range r.Tags {
		tags[k] = v
	}
	m["tags"] = tags
	props, _ := json.Marshal(r.Properties)
	if p, ok := jsonValue(props).(map[string]any); ok {
		m["properties"] = p
	} else {
		m["properties"] = map[string]any{}
	}
	for k, raw := range r.Extra {
		m[k] = jsonValue(raw)
	}
	return m
}

// fullName is the resource's names below its resource group joined with
// "/" (policy's fullName field).
func fullName(id resourceid.ID) string {
	var names []string
	for _, s := range id.Segments() {
		if s.Namespaced() {
			names = names[:0]
		}
		names = append(names, s.Name)
	}
	return strings.Join(names, "/")
}

// applyBody writes a mutated policy body back into r.
func applyBody(r *engine.Resource, m map[string]any) {
	r.Tags = map[string]string{}
	if tags, ok := m["tags"].(map[string]any); ok {
		for k, v := range tags {
			if s, ok := v.(string); ok {
				r.Tags[k] = s
			} else {
				b, _ := json.Marshal(v)
				r.Tags[k] = string(b)
			}
		}
	}
	if props, ok := m["properties"].(map[string]any); ok {
		r.Properties = props
	}
	if loc, ok := m["location"].(string); ok {
		r.Location = loc
	}
	if kind, ok := m["kind"].(string); ok {
		r.Kind = kind
	}
	for k, v := range m {
		switch k {
		case "id", "name", "type", "fullName", "tags", "properties", "location", "kind":
			continue
		}
		b, err := json.Marshal(v)
		if err == nil {
			if r.Extra == nil {
				r.Extra = map[string]json.RawMessage{}
			}
			r.Extra[k] = b
		}
	}
}

// hit is a definition whose condition matched a resource.
type hit struct {
	ap     applied
	m      member
	effect string
	exprs  []policy.Expression
}

// admit runs Azure Policy on a PUT or PATCH: append and modify change the
// request, then deny refuses it; audit effects are recorded as decisions
// (their compliance is recorded once the write is stored).
func (p *policies) admit(ctx context.Context, req *engine.Request, desired, _ *engine.Resource) error {
	if skipType(desired.Type) {
		return nil
	}
	apps, err := p.applicable(ctx, req.Caller.TenantID, desired.ID)
	if err != nil || len(apps) == 0 {
		return err
	}
	body := policy.Normalize(bodyOf(desired))
	in := policy.Input{Resource: body, APIVersion: req.APIVersion, Normalized: true}
	action := desired.Type + "/write"
	applies := p.modes(desired.Type)
	mutated := false
	evaluated, unmatched := 0, 0
	var denies []hit
	for pass := 0; pass < 2; pass++ {
		for _, ap := range apps {
			for _, m := range ap.members {
				if !applies(m.def.Mode) {
					continue
				}
				eff, err := m.def.Effect(m.params)
				if err != nil {
					continue
				}
				mutates := eff == policy.EffectAppend || eff == policy.EffectModify
				if (pass == 0) != mutates || (pass == 1 && eff != policy.EffectDeny && eff != policy.EffectAudit) {
					continue
				}
				in.Params = m.params
				match, exprs, err := m.def.Match(in)
				if err != nil {
					continue // an evaluation error makes the policy not apply
				}
				evaluated++
				if !match {
					unmatched++
					continue
				}
				h := hit{ap: ap, m: m, effect: eff, exprs: exprs}
				outcome := "compliant"
				switch {
				case !ap.enforced():
					outcome = "nonCompliant"
				case mutates:
					changes, err := m.def.Mutate(eff, in)
					if err != nil {
						return arm.BadRequest(policy.CodeInvalidPolicyRule, "The policy '%s' could not %s the request: %v.", m.defID.Name(), eff, err)
					}
					if len(changes) > 0 {
						mutated = true
						outcome = map[string]string{policy.EffectAppend: "appended", policy.EffectModify: "modified"}[eff]
					}
				case eff == policy.EffectDeny:
					outcome = "denied"
					denies = append(denies, h)
				default:
					outcome = "nonCompliant"
				}
				decision.Record(ctx, decision.Decision{
					Kind: "policy", Outcome: outcome, Action: action, Scope: desired.ID.String(),
					Reason: h.reason(match), Refs: []string{ap.a.ID.String(), m.defID.String()},
				})
			}
		}
	}
	if unmatched > 0 {
		// Choice: policies whose condition did not match are summed up in
		// one decision rather than one each (a scope may have hundreds).
		decision.Record(ctx, decision.Decision{
			Kind: "policy", Outcome: "compliant", Action: action, Scope: desired.ID.String(),
			Reason: fmt.Sprintf("%d of %d policy evaluations did not match the request", unmatched, evaluated),
		})
	}
	if mutated {
		applyBody(desired, body)
	}
	if len(denies) > 0 {
		return denyError(desired, denies)
	}
	return nil
}

// reason says which policy matched and which expression decided.
func (h hit) reason(match bool) string {
	name, _ := h.m.defRes.Properties["displayName"].(string)
	if name == "" {
		name = h.m.defID.Name()
	}
	s := fmt.Sprintf("policy assignment '%s' applies definition '%s' (effect %s)", h.ap.a.ID.Name(), name, h.effect)
	if !h.ap.enforced() {
		s += " with enforcementMode DoNotEnforce"
	}
	if !match {
		if e, ok := decisive(h.exprs, false); ok {
			return s + "; not matched: " + describeExpr(e)
		}
		return s + "; not matched"
	}
	if e, ok := decisive(h.exprs, true); ok {
		return s + "; matched, decided by " + describeExpr(e)
	}
	return s + "; matched"
}

// decisive is the last evaluated expression with the given result: for
// a matched allOf the last condition that held, for a miss the condition
// that failed.
func decisive(exprs []policy.Expression, result bool) (policy.Expression, bool) {
	want := "False"
	if result {
		want = "True"
	}
	for i := len(exprs) - 1; i >= 0; i-- {
		if exprs[i].Result == want {
			return exprs[i], true
		}
	}
	return policy.Expression{}, false
}

func describeExpr(e policy.Expression) string {
	v, _ := json.Marshal(e.ExpressionValue)
	t, _ := json.Marshal(e.TargetValue)
	path := ""
	if e.Path != "" && !strings.EqualFold(e.Path, e.Expression) {
		path = " (" + e.Path + ")"
	}
	return fmt.Sprintf("%s '%s'%s %s %s was %s (value %s)", strings.ToLower(e.ExpressionKind), e.Expression, path, e.Operator, t, e.Result, v)
}

// denyError is Azure's refusal of a request a deny policy matched.
func denyError(r *engine.Resource, denies []hit) *arm.Error {
	type ref struct {
		Name string `json:"name"`
		ID   string `json:"id"`
	}
	type ident struct {
		PolicyAssignment    ref  `json:"policyAssignment"`
		PolicyDefinition    ref  `json:"policyDefinition"`
		PolicySetDefinition *ref `json:"policySetDefinition,omitempty"`
	}
	var ids []ident
	var infos []arm.AdditionalInfo
	for _, h := range denies {
		a := h.ap.a
		id := ident{PolicyAssignment: ref{a.ID.Name(), a.ID.String()}, PolicyDefinition: ref{h.m.defID.Name(), h.m.defID.String()}}
		info := map[string]any{
			"policyDefinitionDisplayName": h.m.defRes.Properties["displayName"],
			"policyDefinitionId":          h.m.defID.String(),
			"policyDefinitionName":        h.m.defID.Name(),
			"policyDefinitionEffect":      policy.EffectDeny,
			"policyAssignmentId":          a.ID.String(),
			"policyAssignmentName":        a.ID.Name(),
			"policyAssignmentDisplayName": a.Properties["displayName"],
			"policyAssignmentScope":       a.ID.Parent().String(),
			"policyAssignmentParameters":  nonNilMap(a.Properties["parameters"]),
			"evaluationDetails":           map[string]any{"evaluatedExpressions": h.exprs},
		}
		if set := h.ap.setID(); set != "" {
			sid, _ := resourceid.Parse(set)
			id.PolicySetDefinition = &ref{sid.Name(), set}
			info["policySetDefinitionId"] = set
			info["policySetDefinitionName"] = sid.Name()
			info["policyDefinitionReferenceId"] = h.m.refID
		}
		ids = append(ids, id)
		infos = append(infos, arm.AdditionalInfo{Type: "PolicyViolation", Info: info})
	}
	idsJSON, _ := json.Marshal(ids)
	err := arm.Errorf(http.StatusForbidden, CodeRequestDisallowedByPolicy,
		"Resource '%s' was disallowed by policy. Policy identifiers: '%s'.", r.ID.Name(), idsJSON)
	err.Target = r.ID.Name()
	err.AdditionalInfo = infos
	return err
}

func nonNilMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return maps.Clone(m)
}
