package authorization

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/policy"
)

// TypePolicyStates is Microsoft.PolicyInsights' compliance view. Its only
// item is "latest"; its actions are queryResults, summarize and
// triggerEvaluation. The Authorization provider serves it because the
// states it answers are the Azure Policy evaluations this package makes.
const TypePolicyStates = "Microsoft.PolicyInsights/policyStates"

// PolicyInsightsAPIVersions: 2019-10-01 is what armpolicyinsights v0.8.0
// and the Azure CLI 2.45 send.
var PolicyInsightsAPIVersions = []string{"2019-10-01", "2018-04-04"}

// Compliance states.
const (
	Compliant    = "Compliant"
	NonCompliant = "NonCompliant"
)

// stateRow is one policy state: the compliance of one resource with one
// definition of one assignment, as queryResults returns it.
type stateRow struct {
	Timestamp                   time.Time      `json:"timestamp"`
	ResourceID                  string         `json:"resourceId"`
	PolicyAssignmentID          string         `json:"policyAssignmentId"`
	PolicyDefinitionID          string         `json:"policyDefinitionId"`
	IsCompliant                 bool           `json:"isCompliant"`
	SubscriptionID              string         `json:"subscriptionId"`
	ResourceType                string         `json:"resourceType"`
	ResourceLocation            string         `json:"resourceLocation"`
	ResourceGroup               string         `json:"resourceGroup"`
	ResourceTags                string         `json:"resourceTags"`
	PolicyAssignmentName        string         `json:"policyAssignmentName"`
	PolicyAssignmentOwner       string         `json:"policyAssignmentOwner"`
	PolicyAssignmentParameters  string         `json:"policyAssignmentParameters"`
	PolicyAssignmentScope       string         `json:"policyAssignmentScope"`
	PolicyDefinitionName        string         `json:"policyDefinitionName"`
	PolicyDefinitionAction      string         `json:"policyDefinitionAction"`
	PolicyDefinitionCategory    string         `json:"policyDefinitionCategory"`
	PolicySetDefinitionID       string         `json:"policySetDefinitionId"`
	PolicySetDefinitionName     string         `json:"policySetDefinitionName"`
	PolicyDefinitionReferenceID string         `json:"policyDefinitionReferenceId"`
	ComplianceState             string         `json:"complianceState"`
	PolicyEvaluationDetails     map[string]any `json:"policyEvaluationDetails,omitempty"`
}

// statePrefix is where the compliance states live in kv.SpacePolicy.
const statePrefix = "state/"

func subStatePrefix(sub string) string { return statePrefix + strings.ToLower(sub) + "/" }

func resourceStatePrefix(id resourceid.ID) string {
	return subStatePrefix(id.SubscriptionID()) + id.Key() + "|"
}

func registerPolicyInsights(e *engine.Engine, p *policies) {
	e.Registry().Register(&engine.Type{Name: TypePolicyStates, APIVersions: PolicyInsightsAPIVersions,
		Put: engine.Sync, Delete: engine.Sync, Strategy: &statesStrategy{p: p}})
}

// recordCompliance evaluates a stored resource against every assignment
// in force and stores its policy states (the write observer). Writes of
// policy objects clear the caches instead.
func (p *policies) recordCompliance(ctx context.Context, req *engine.Request, r *engine.Resource) {
	if strings.HasPrefix(strings.ToLower(r.Type), "microsoft.authorization/policy") {
		p.invalidate(ctx)
		return
	}
	if skipType(r.Type) || r.ID.SubscriptionID() == "" {
		return
	}
	// Compliance is recorded on a best-effort basis: the write itself is
	// stored and answered; a failure here leaves the previous states until
	// the next write or triggerEvaluation.
	_ = p.evaluate(ctx, req.Caller.TenantID, req.APIVersion, r, req.Now)
}

// evaluate computes and stores r's policy states.
func (p *policies) evaluate(ctx context.Context, tenantID, apiVersion string, r *engine.Resource, now time.Time) error {
	apps, err := p.applicable(ctx, tenantID, r.ID)
	if err != nil {
		return err
	}
	if len(apps) == 0 {
		// Nothing applies: only the states of assignments gone since go.
		return p.storeStates(ctx, r.ID, nil)
	}
	body := policy.Normalize(bodyOf(r))
	tags, _ := json.Marshal(r.Tags)
	applies := p.modes(r.Type)
	var rows []stateRow
	for _, ap := range apps {
		for _, m := range ap.members {
			if !applies(m.def.Mode) {
				continue
			}
			eff, err := m.def.Effect(m.params)
			if err != nil || eff == policy.EffectDisabled {
				continue
			}
			in := policy.Input{Resource: body, Params: m.params, APIVersion: apiVersion, Normalized: true}
			match, exprs, err := m.def.Match(in)
			if err != nil {
				continue
			}
			compliant := !match
			if match && (eff == policy.EffectAuditIfNotExists || eff == policy.EffectDeployIfNotExists) {
				compliant, err = p.relatedExists(ctx, m.def.Related(), r, in)
				if err != nil {
					return err
				}
			}
			rows = append(rows, p.row(ap, m, eff, r, string(tags), compliant, exprs, now))
		}
	}
	return p.storeStates(ctx, r.ID, rows)
}

// relatedExists looks for the related resource an auditIfNotExists
// definition names: r itself when the types and names match, r's
// children of that type, or resources of that type in r's resource group.
func (p *policies) relatedExists(ctx context.Context, rel *policy.Related, r *engine.Resource, in policy.Input) (bool, error) {
	if rel == nil {
		return true, nil
	}
	name, err := rel.NameOf(in)
	if err != nil {
		return false, nil
	}
	var candidates []*engine.Resource
	switch {
	case strings.EqualFold(rel.Type, r.Type):
		candidates = []*engine.Resource{r}
		if rg := r.ID.ResourceGroupName(); rg != "" && r.ID.IsTopLevel() {
			list, err := p.e.List(ctx, r.ID.Parent(), rel.Type)
			if err != nil {
				return false, err
			}
			candidates = list
		}
	case strings.HasPrefix(strings.ToLower(rel.Type), strings.ToLower(r.Type)+"/"):
		list, err := p.e.List(ctx, r.ID, rel.Type[strings.LastIndexByte(rel.Type, '/')+1:])
		if err != nil {
			return false, err
		}
		candidates = list
	case r.ID.ResourceGroupName() != "":
		list, err := p.e.List(ctx, resourceid.ResourceGroup(r.ID.SubscriptionID(), r.ID.ResourceGroupName()), rel.Type)
		if err != nil {
			return false, err
		}
		candidates = list
	}
	for _, c := range candidates {
		if name != "" && !strings.EqualFold(c.ID.Name(), name) {
			continue
		}
		body := bodyOf(c)
		if c.ID.Equal(r.ID) {
			body = in.Resource
		}
		ok, err := rel.Satisfies(body, in)
		if err == nil && ok {
			return true, nil
		}
	}
	return false, nil
}

func (p *policies) row(ap applied, m member, eff string, r *engine.Resource, tags string, compliant bool, exprs []policy.Expression, now time.Time) stateRow {
	params, _ := json.Marshal(nonNilMap(ap.a.Properties["parameters"]))
	cat := ""
	if md, ok := m.defRes.Properties["metadata"].(map[string]any); ok {
		cat, _ = md["category"].(string)
	}
	row := stateRow{
		Timestamp: now.UTC(), ResourceID: r.ID.String(), PolicyAssignmentID: ap.a.ID.String(),
		PolicyDefinitionID: m.defID.String(), IsCompliant: compliant, SubscriptionID: r.ID.SubscriptionID(),
		ResourceType: r.Type, ResourceLocation: strings.ToLower(strings.ReplaceAll(r.Location, " ", "")),
		ResourceGroup: r.ID.ResourceGroupName(), ResourceTags: tags,
		PolicyAssignmentName: ap.a.ID.Name(), PolicyAssignmentOwner: "tbd", PolicyAssignmentParameters: string(params),
		PolicyAssignmentScope: ap.a.ID.Parent().String(), PolicyDefinitionName: m.defID.Name(),
		PolicyDefinitionAction: strings.ToLower(eff), PolicyDefinitionCategory: cat,
		PolicyDefinitionReferenceID: m.refID, ComplianceState: Compliant,
	}
	if !compliant {
		row.ComplianceState = NonCompliant
		row.PolicyEvaluationDetails = map[string]any{"evaluatedExpressions": exprs}
	}
	if set := ap.setID(); set != "" {
		sid, _ := resourceid.Parse(set)
		row.PolicySetDefinitionID, row.PolicySetDefinitionName = set, sid.Name()
	}
	return row
}

// storeStates replaces the states of id with rows.
//
// Choice: a state's timestamp is when it was last evaluated to something
// different; a re-evaluation that changes nothing leaves the stored row
// (and its timestamp) as it was, so writes with many assignments in force
// do not rewrite every row.
func (p *policies) storeStates(ctx context.Context, id resourceid.ID, rows []stateRow) error {
	st := p.kv
	prefix := []byte(resourceStatePrefix(id))
	old, err := st.Scan(ctx, prefix, nil, 0)
	if err != nil {
		return err
	}
	ops := map[string]kv.Op{}
	oldValues := map[string][]byte{}
	for _, o := range old {
		ops[string(o.Key)] = kv.Delete(o.Key)
		oldValues[string(o.Key)] = o.Value
	}
	for _, row := range rows {
		key := string(prefix) + strings.ToLower(row.PolicyAssignmentID) + "|" + strings.ToLower(row.PolicyDefinitionReferenceID) + "|" + strings.ToLower(row.PolicyDefinitionID)
		b, err := json.Marshal(row)
		if err != nil {
			return err
		}
		if sameState(oldValues[key], b) {
			delete(ops, key)
			continue
		}
		ops[key] = kv.Put([]byte(key), b)
	}
	if len(ops) == 0 {
		return nil
	}
	list := make([]kv.Op, 0, len(ops))
	for _, op := range ops {
		list = append(list, op)
	}
	// Transactions stay under the engine's limit of 100 operations (an
	// etcd store allows 128 by default): compliance is best effort, so a
	// resource under many assignments is stored in several batches.
	for len(list) > 0 {
		n := min(len(list), maxStateOpsPerTxn)
		if _, err := st.Txn(ctx, list[:n]...); err != nil {
			return err
		}
		list = list[n:]
	}
	return nil
}

// maxStateOpsPerTxn bounds the policy-state writes of one transaction.
const maxStateOpsPerTxn = 90

// sameState reports whether two marshalled rows differ only in their
// timestamp (the first member).
func sameState(old, cur []byte) bool {
	rest := func(b []byte) []byte {
		i := bytes.Index(b, []byte(`",`))
		if i < 0 {
			return nil
		}
		return b[i:]
	}
	r := rest(old)
	return r != nil && bytes.Equal(r, rest(cur))
}

// forget drops the policy states of a deleted resource and its subtree
// (the delete hook).
func (p *policies) forget(ctx context.Context, r *engine.Resource) {
	if strings.HasPrefix(strings.ToLower(r.Type), "microsoft.authorization/policy") {
		p.invalidate(ctx)
		return
	}
	if r.ID.SubscriptionID() == "" {
		return
	}
	st := p.kv
	base := subStatePrefix(r.ID.SubscriptionID()) + r.ID.Key()
	for _, prefix := range []string{base + "|", base + "/"} {
		ents, err := st.Scan(ctx, []byte(prefix), nil, 0)
		if err != nil || len(ents) == 0 {
			continue
		}
		ops := make([]kv.Op, len(ents))
		for i, e := range ents {
			ops[i] = kv.Delete(e.Key)
		}
		_, _ = st.Txn(ctx, ops...)
	}
}

// statesStrategy answers /{scope}/providers/Microsoft.PolicyInsights/
// policyStates/latest/{queryResults,summarize,triggerEvaluation} at a
// subscription or a resource group.
//
// Choice: only the "latest" states are kept ("default", the history,
// answers the same rows); $filter takes conditions on complianceState,
// isCompliant, resourceType, resourceId, policyAssignmentId,
// policyDefinitionId, policyDefinitionAction and resourceGroup joined
// with "and"; anything else is 400 InvalidFilterInQueryString (armlet's
// code). triggerEvaluation re-evaluates synchronously and answers 202
// without a Location: the evaluation is complete when the answer arrives.
type statesStrategy struct{ p *policies }

var (
	_ engine.ScopeActioner = (*statesStrategy)(nil)
	_ engine.ScopeChecker  = (*statesStrategy)(nil)
)

func (s *statesStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return statesReadOnly()
}

// statesReadOnly refuses PUT, PATCH and DELETE: policy states have no
// such operations (armpolicyinsights has none).
func statesReadOnly() error {
	return arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "Policy states are read-only; query them with POST .../policyStates/latest/queryResults.")
}

func (s *statesStrategy) CheckScope(_ context.Context, req *engine.Request, scope resourceid.ID) error {
	if req.Method == http.MethodDelete {
		return statesReadOnly()
	}
	if scope.SubscriptionID() == "" || scope.Len() > 2 {
		return arm.BadRequest(codeInvalidPolicyScope, "Policy states are served at a subscription or a resource group; '%s' is neither.", scope)
	}
	return nil
}

func (s *statesStrategy) ScopeAction(ctx context.Context, req *engine.Request, id resourceid.ID, name string) (*engine.Response, error) {
	which := strings.ToLower(id.Name())
	if which != "latest" && which != "default" {
		return nil, arm.BadRequest("InvalidPolicyStatesResource", "The policy states resource '%s' is not valid; it is 'latest' or 'default'.", id.Name())
	}
	scope := id.Parent()
	switch strings.ToLower(name) {
	case "queryresults":
		rows, err := s.rows(ctx, req, scope)
		if err != nil {
			return nil, err
		}
		ctxURL := req.BaseURL + "/providers/Microsoft.PolicyInsights/policyStates/$metadata#latest"
		value := make([]any, 0, len(rows))
		for _, r := range rows {
			b, _ := json.Marshal(r)
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			m["@odata.id"] = nil
			m["@odata.context"] = ctxURL + "/$entity"
			value = append(value, m)
		}
		return engine.JSON(http.StatusOK, map[string]any{"@odata.context": ctxURL, "@odata.count": len(value), "value": value}), nil
	case "summarize":
		if which != "latest" {
			return nil, arm.BadRequest("InvalidPolicyStatesSummaryResource", "Only the 'latest' policy states can be summarized.")
		}
		rows, err := s.rows(ctx, req, scope)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, summarize(req, rows)), nil
	case "triggerevaluation":
		if err := s.p.reevaluate(ctx, req, scope); err != nil {
			return nil, err
		}
		return &engine.Response{Status: http.StatusAccepted}, nil
	}
	return nil, engine.UnknownAction(TypePolicyStates, name)
}

// rows returns the states under scope that pass req's $filter, leaving
// out those of deleted assignments.
func (s *statesStrategy) rows(ctx context.Context, req *engine.Request, scope resourceid.ID) ([]stateRow, error) {
	keep, err := parseStatesFilter(req.QueryValue("$filter"))
	if err != nil {
		return nil, err
	}
	ents, err := s.p.kv.Scan(ctx, []byte(subStatePrefix(scope.SubscriptionID())), nil, 0)
	if err != nil {
		return nil, err
	}
	live := map[string]bool{}
	var out []stateRow
	for _, e := range ents {
		var r stateRow
		if err := json.Unmarshal(e.Value, &r); err != nil {
			return nil, err
		}
		if rg := scope.ResourceGroupName(); rg != "" && !strings.EqualFold(rg, r.ResourceGroup) {
			continue
		}
		alive, seen := live[strings.ToLower(r.PolicyAssignmentID)]
		if !seen {
			aid, err := resourceid.Parse(r.PolicyAssignmentID)
			alive = err == nil
			if alive {
				_, gerr := s.p.e.Get(ctx, aid)
				alive = gerr == nil
			}
			live[strings.ToLower(r.PolicyAssignmentID)] = alive
		}
		if alive && keep(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

var filterTerm = regexp.MustCompile(`(?i)^\s*(\w+)\s+(eq|ne)\s+(?:'((?:[^']|'')*)'|(true|false))\s*$`)

// parseStatesFilter parses the $filter forms policy states take.
func parseStatesFilter(f string) (func(stateRow) bool, error) {
	if strings.TrimSpace(f) == "" {
		return func(stateRow) bool { return true }, nil
	}
	var preds []func(stateRow) bool
	for term := range strings.SplitSeq(regexp.MustCompile(`(?i)\s+and\s+`).ReplaceAllString(f, "\x00"), "\x00") {
		m := filterTerm.FindStringSubmatch(term)
		if m == nil {
			return nil, arm.BadRequest("InvalidFilterInQueryString", "The $filter '%s' is not supported: use conditions such as complianceState eq 'NonCompliant' joined with 'and'.", f)
		}
		field, ne := strings.ToLower(m[1]), strings.EqualFold(m[2], "ne")
		want := strings.ReplaceAll(m[3], "''", "'")
		if m[4] != "" {
			want = strings.ToLower(m[4])
		}
		var get func(stateRow) string
		switch field {
		case "compliancestate":
			get = func(r stateRow) string { return r.ComplianceState }
		case "iscompliant":
			get = func(r stateRow) string {
				if r.IsCompliant {
					return "true"
				}
				return "false"
			}
		case "resourcetype":
			get = func(r stateRow) string { return r.ResourceType }
		case "resourceid":
			get = func(r stateRow) string { return r.ResourceID }
		case "policyassignmentid":
			get = func(r stateRow) string { return r.PolicyAssignmentID }
		case "policydefinitionid":
			get = func(r stateRow) string { return r.PolicyDefinitionID }
		case "policydefinitionaction":
			get = func(r stateRow) string { return r.PolicyDefinitionAction }
		case "resourcegroup":
			get = func(r stateRow) string { return r.ResourceGroup }
		default:
			return nil, arm.BadRequest("InvalidFilterInQueryString", "The $filter field '%s' is not supported.", m[1])
		}
		preds = append(preds, func(r stateRow) bool { return strings.EqualFold(get(r), want) != ne })
	}
	return func(r stateRow) bool {
		for _, p := range preds {
			if !p(r) {
				return false
			}
		}
		return true
	}, nil
}

// summarize is the latest/summarize answer for rows.
func summarize(req *engine.Request, rows []stateRow) map[string]any {
	details := func(rs []stateRow) (nonCompliantResources int, details []any) {
		comp, non := map[string]bool{}, map[string]bool{}
		for _, r := range rs {
			k := strings.ToLower(r.ResourceID)
			if r.ComplianceState == NonCompliant {
				non[k] = true
			} else {
				comp[k] = true
			}
		}
		for k := range non {
			delete(comp, k)
		}
		return len(non), []any{
			map[string]any{"complianceState": "compliant", "count": len(comp)},
			map[string]any{"complianceState": "noncompliant", "count": len(non)},
		}
	}
	nonPolicies := func(rs []stateRow) int {
		set := map[string]bool{}
		for _, r := range rs {
			if r.ComplianceState == NonCompliant {
				set[strings.ToLower(r.PolicyAssignmentID+"|"+r.PolicyDefinitionID+"|"+r.PolicyDefinitionReferenceID)] = true
			}
		}
		return len(set)
	}
	byAssignment := map[string][]stateRow{}
	var order []string
	for _, r := range rows {
		k := strings.ToLower(r.PolicyAssignmentID)
		if _, ok := byAssignment[k]; !ok {
			order = append(order, k)
		}
		byAssignment[k] = append(byAssignment[k], r)
	}
	slices.Sort(order)
	assignments := []any{}
	for _, k := range order {
		rs := byAssignment[k]
		byDef := map[string][]stateRow{}
		var defOrder []string
		for _, r := range rs {
			dk := strings.ToLower(r.PolicyDefinitionID + "|" + r.PolicyDefinitionReferenceID)
			if _, ok := byDef[dk]; !ok {
				defOrder = append(defOrder, dk)
			}
			byDef[dk] = append(byDef[dk], r)
		}
		defs := []any{}
		for _, dk := range defOrder {
			drs := byDef[dk]
			n, d := details(drs)
			defs = append(defs, map[string]any{
				"policyDefinitionId": drs[0].PolicyDefinitionID, "policyDefinitionReferenceId": drs[0].PolicyDefinitionReferenceID,
				"effect": drs[0].PolicyDefinitionAction, "policyDefinitionGroupNames": []any{},
				"results": map[string]any{"nonCompliantResources": n, "resourceDetails": d},
			})
		}
		n, d := details(rs)
		assignments = append(assignments, map[string]any{
			"policyAssignmentId": rs[0].PolicyAssignmentID, "policySetDefinitionId": rs[0].PolicySetDefinitionID,
			"results":           map[string]any{"nonCompliantResources": n, "nonCompliantPolicies": nonPolicies(rs), "resourceDetails": d},
			"policyDefinitions": defs, "policyGroups": []any{},
		})
	}
	n, d := details(rows)
	ctxURL := req.BaseURL + "/providers/Microsoft.PolicyInsights/policyStates/$metadata#summary"
	return map[string]any{
		"@odata.context": ctxURL, "@odata.count": 1,
		"value": []any{map[string]any{
			"@odata.id": nil, "@odata.context": ctxURL + "/$entity",
			"results": map[string]any{
				"queryResultsUri":       req.BaseURL + req.Path[:strings.LastIndex(req.Path, "/")] + "/queryResults?api-version=" + req.APIVersion + "&$filter=complianceState eq 'NonCompliant'",
				"nonCompliantResources": n, "nonCompliantPolicies": nonPolicies(rows), "resourceDetails": d,
				"policyDetails": []any{}, "policyGroupDetails": []any{},
			},
			"policyAssignments": assignments,
		}},
	}
}

// reevaluate evaluates every resource under scope (a subscription or a
// resource group) again (triggerEvaluation).
func (p *policies) reevaluate(ctx context.Context, req *engine.Request, scope resourceid.ID) error {
	sub := scope.SubscriptionID()
	var groups []*engine.Resource
	if rg := scope.ResourceGroupName(); rg != "" {
		g, err := p.e.Get(ctx, scope)
		if err != nil {
			return err
		}
		groups = []*engine.Resource{g}
	} else {
		list, err := p.e.List(ctx, resourceid.Subscription(sub), "resourceGroups")
		if err != nil {
			return err
		}
		groups = list
	}
	var walk func(r *engine.Resource, children []*engine.Type) error
	types := p.allTypes()
	walk = func(r *engine.Resource, _ []*engine.Type) error {
		if err := p.evaluate(ctx, req.Caller.TenantID, req.APIVersion, r, req.Now); err != nil {
			return err
		}
		for _, t := range types {
			var seg string
			switch {
			case r.ID.Len() == 2 && strings.Count(t.Name, "/") == 1:
				seg = t.Name
			case strings.HasPrefix(strings.ToLower(t.Name), strings.ToLower(r.Type)+"/") && strings.Count(t.Name, "/") == strings.Count(r.Type, "/")+1:
				seg = t.Name[strings.LastIndexByte(t.Name, '/')+1:]
			default:
				continue
			}
			kids, err := p.e.List(ctx, r.ID, seg)
			if err != nil {
				return err
			}
			for _, k := range kids {
				if err := walk(k, nil); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, g := range groups {
		if err := walk(g, nil); err != nil {
			return err
		}
	}
	decision.Record(ctx, decision.Decision{Kind: "policy", Outcome: "allowed", Action: TypePolicyStates + "/triggerEvaluation/action",
		Scope: scope.String(), Reason: "every resource under the scope was evaluated again"})
	return nil
}

// allTypes are the registered types policy evaluates.
func (p *policies) allTypes() []*engine.Type {
	var out []*engine.Type
	reg := p.e.Registry()
	for _, ns := range reg.Namespaces() {
		for _, t := range reg.TypesIn(ns) {
			if !skipType(t.Name) && !strings.EqualFold(ns, "Microsoft.Resources") {
				out = append(out, t)
			}
		}
	}
	return out
}
