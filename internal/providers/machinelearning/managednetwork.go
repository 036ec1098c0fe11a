package machinelearning

import (
	"context"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/google/uuid"
)

// The workspace managed virtual network (docs/azure-ml-arm.md 2.2): the workspace's
// properties.managedNetwork, its outbound rules, also served one by one at
// W/outboundRules/{ruleName}, and the POST W/provisionManagedNetwork
// action.
//
// # One source of truth
//
// Outbound rules are stored only inside the workspace record, in
// properties.managedNetwork.outboundRules. W/outboundRules is a virtual
// type (engine.VirtualStrategy): the engine checks the api-version, the
// name, the workspace and its gates, then outboundRuleStrategy answers
// from, and writes to, the workspace record. So the workspace GET and the
// outboundRules GET always show the same rules, a workspace PUT or PATCH
// that changes the rules is seen at once through outboundRules and the
// other way round, and deleting the workspace deletes its rules.
//
// # Time
//
// What changes over time is kept in the workspace's Internal.Data
// (managedNetworkState) and derived at render time: when the network
// becomes Active (the end of the first provisionManagedNetwork), when
// Spark becomes ready, and the rules with an operation under way.
type outboundRuleStrategy struct {
	e *engine.Engine
}

// TypeOutboundRules is the type of a workspace's outbound rules.
const TypeOutboundRules = TypeWorkspaces + "/outboundRules"

// ruleNamePattern is the spec's rule for outbound rule names (the URL's
// ruleName and, in armlet, the keys of managedNetwork.outboundRules).
var ruleNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$`)

const ruleNameRule = "Outbound rule names must be 3 to 33 characters long, start with a letter or a digit, and contain only letters, digits, underscores (_) and hyphens (-)."

// Managed network vocabulary.
const (
	isolationDisabled = "Disabled"
	isolationInternet = "AllowInternetOutbound"
	isolationApproved = "AllowOnlyApprovedOutbound"

	ruleFQDN            = "FQDN"
	rulePrivateEndpoint = "PrivateEndpoint"
	ruleServiceTag      = "ServiceTag"

	categoryRequired = "Required"
	categoryUser     = "UserDefined"

	statusActive       = "Active"
	statusInactive     = "Inactive"
	statusProvisioning = "Provisioning"
	statusDeleting     = "Deleting"

	// ruleStatusesAPIVersion is the first api-version whose RuleStatus
	// has Provisioning, Deleting and Failed (2024-04-01 has only Active
	// and Inactive).
	ruleStatusesAPIVersion = "2025-04-01"

	dataManagedNetwork = "managedNetwork" // managedNetworkState
)

func registerManagedNetwork(e *engine.Engine, _ Options) {
	e.Registry().Register(&engine.Type{
		Name:        TypeOutboundRules,
		APIVersions: apiVersionsOf(TypeOutboundRules, V2APIVersions),
		NamePattern: ruleNamePattern,
		NameRule:    ruleNameRule,
		Put:         engine.Location,
		Delete:      engine.Location,
		Strategy:    &outboundRuleStrategy{e: e},
	})
}

var (
	_ engine.Strategy        = (*outboundRuleStrategy)(nil)
	_ engine.VirtualStrategy = (*outboundRuleStrategy)(nil)
)

// managedNetworkState is the time-driven state of a workspace's managed
// network, kept in Internal.Data.
type managedNetworkState struct {
	// ActiveAt is when the network is (or becomes) provisioned; zero until
	// provisionManagedNetwork is called.
	ActiveAt time.Time `json:"activeAt,omitzero"`
	// SparkAt is when Spark is (or becomes) ready: provisionManagedNetwork
	// with includeSpark.
	SparkAt time.Time `json:"sparkAt,omitzero"`
	// Pending holds the rules with an operation under way, by lower-cased
	// name.
	Pending map[string]rulePending `json:"pending,omitempty"`
}

// rulePending is an operation under way on one rule.
type rulePending struct {
	Name  string    `json:"name"`
	State string    `json:"state"` // statusProvisioning or statusDeleting
	Until time.Time `json:"until"`
	// Rule is, for a delete, the rule as it was: shown until Until.
	Rule map[string]any `json:"rule,omitempty"`
}

func loadNetworkState(r *engine.Resource) managedNetworkState {
	var st managedNetworkState
	r.GetData(dataManagedNetwork, &st)
	return st
}

func (st managedNetworkState) active(now time.Time) bool {
	return !st.ActiveAt.IsZero() && !now.Before(st.ActiveAt)
}

func (st managedNetworkState) sparkReady(now time.Time) bool {
	return !st.SparkAt.IsZero() && !now.Before(st.SparkAt)
}

// prune drops the operations that ended by now.
func (st *managedNetworkState) prune(now time.Time) {
	for k, p := range st.Pending {
		if !now.Before(p.Until) {
			delete(st.Pending, k)
		}
	}
}

func (st *managedNetworkState) setPending(p rulePending) {
	if st.Pending == nil {
		st.Pending = map[string]rulePending{}
	}
	st.Pending[strings.ToLower(p.Name)] = p
}

// managedNetworkOf returns r's properties.managedNetwork, or nil.
func managedNetworkOf(props map[string]any) map[string]any {
	mn, _ := props["managedNetwork"].(map[string]any)
	return mn
}

func isolationModeOf(mn map[string]any) string {
	if m, _ := mn["isolationMode"].(string); m != "" {
		return m
	}
	return isolationDisabled
}

func rulesOf(mn map[string]any) map[string]any {
	rules, _ := mn["outboundRules"].(map[string]any)
	return rules
}

// lookupFold finds a member of m by name ignoring case, returning its key.
func lookupFold(m map[string]any, name string) (string, any, bool) {
	if v, ok := m[name]; ok {
		return name, v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return k, v, true
		}
	}
	return "", nil, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return keys
}

// completeManagedNetwork checks and completes the managed network of a
// workspace PUT, PATCH or seed import (desired, already checked against
// the schema) against the stored workspace old (nil on create).
//
// Choice: a PUT that omits managedNetwork, or sends it without
// isolationMode or without outboundRules, keeps the stored value of what
// it omits (so a client that does not know the managed network does not
// erase it); a PATCH merges (RFC 7396), so it adds or changes the rules it
// names and removes those it sets to null.
func (s *workspaceStrategy) completeManagedNetwork(req *engine.Request, desired, old *engine.Resource) error {
	var oldMN map[string]any
	if old != nil {
		oldMN = managedNetworkOf(old.Properties)
	}
	mn := managedNetworkOf(desired.Properties)
	patch := req.Method == http.MethodPatch
	if mn == nil {
		if oldMN == nil {
			return nil
		}
		if patch && isolationModeOf(oldMN) != isolationDisabled {
			// A PATCH that sets managedNetwork to null.
			return backToDisabled(isolationModeOf(oldMN))
		}
		mn = engine.DeepCopy(oldMN).(map[string]any)
		desired.Properties["managedNetwork"] = mn
	}
	if _, ok := mn["isolationMode"]; !ok && oldMN != nil {
		mn["isolationMode"] = isolationModeOf(oldMN)
	}
	if _, ok := mn["outboundRules"]; !ok && oldMN != nil && rulesOf(oldMN) != nil {
		mn["outboundRules"] = engine.DeepCopy(rulesOf(oldMN))
	}
	var nulled []string
	if patch {
		nulled = nulledRules(req.Body)
	}
	return applyManagedNetwork(desired, old, nulled, req.Now, s.e.OperationDuration())
}

// applyManagedNetwork validates desired's managed network against old and
// completes it: isolation mode default and change rules, the required
// rules, user rules' checks and category, networkId, and the rules'
// provisioning state in Internal.Data. nulled names the rules a PATCH set
// to null.
//
// Choice: every failure is 400 UserError (Azure ML's code for requests its
// configuration refuses) with the member as target and the rule named.
func applyManagedNetwork(desired, old *engine.Resource, nulled []string, now time.Time, opDur time.Duration) error {
	mn := managedNetworkOf(desired.Properties)
	var oldMN map[string]any
	if old != nil {
		oldMN = managedNetworkOf(old.Properties)
	}
	mode := isolationModeOf(mn)
	mn["isolationMode"] = mode
	if oldMode := isolationModeOf(oldMN); oldMode != isolationDisabled && mode == isolationDisabled {
		return backToDisabled(oldMode)
	}
	oldRules := rulesOf(oldMN)
	required := requiredRules(desired, mode)
	for _, name := range nulled {
		if key, v, ok := lookupFold(oldRules, name); ok && categoryOf(v) == categoryRequired {
			return requiredRuleError(key, "deleted")
		}
	}
	rules, err := mergeRules(rulesOf(mn), oldRules, required, mode)
	if err != nil {
		return err
	}
	mn["outboundRules"] = rules
	delete(mn, "status") // derived at render time

	id := ""
	if oldMN != nil {
		id, _ = oldMN["networkId"].(string)
	}
	if id == "" {
		id = uuid.NewString()
	}
	mn["networkId"] = id

	st := loadNetworkState(desired)
	st.prune(now)
	for name, rule := range rules {
		key, ov, had := lookupFold(oldRules, name)
		if p, ok := st.Pending[strings.ToLower(name)]; ok && p.State == statusDeleting {
			delete(st.Pending, strings.ToLower(name)) // re-created
			had = false
		}
		if !had || key != name || !sameRule(ov, rule) {
			st.setPending(rulePending{Name: name, State: statusProvisioning, Until: now.Add(opDur)})
		}
	}
	desired.SetData(dataManagedNetwork, st)
	return nil
}

// mergeRules checks the rules sent (sent) against the stored ones (old)
// and returns the rules to store: the user's rules, with category
// UserDefined, and the required ones.
//
// Choice: category is read-only for clients: armlet sets UserDefined on
// every rule a client writes and Required on the rules it derives (see
// requiredRules); a category sent is ignored. A required rule sent back
// unchanged (a GET-modify-PUT round trip) passes; a changed one is
// refused; an omitted one is kept. A rule that was Required but no longer
// is (the isolation mode or a linked resource changed) is dropped even if
// sent back.
func mergeRules(sent, old, required map[string]any, mode string) (map[string]any, error) {
	out := make(map[string]any, len(sent)+len(required))
	seen := map[string]string{}
	for _, name := range sortedKeys(sent) {
		path := "properties.managedNetwork.outboundRules." + name
		if prev, dup := seen[strings.ToLower(name)]; dup {
			return nil, arm.BadRequest(arm.CodeUserError, "The outbound rules '%s' and '%s' have the same name; rule names are case-insensitive.", prev, name).WithTarget(path)
		}
		seen[strings.ToLower(name)] = name
		rule, _ := sent[name].(map[string]any)
		if _, req, ok := lookupFold(required, name); ok {
			if !matchesRequired(rule, req.(map[string]any)) {
				return nil, requiredRuleError(name, "changed")
			}
			continue
		}
		if _, ov, ok := lookupFold(old, name); ok && categoryOf(ov) == categoryRequired {
			continue
		}
		if err := checkUserRule(path, name, rule, mode); err != nil {
			return nil, err
		}
		rule["category"] = categoryUser
		out[name] = rule
	}
	for name, r := range required {
		out[name] = r
	}
	return out, nil
}

// checkUserRule checks one rule a client wrote (already checked against
// the schema).
//
// Choice: a workspace whose isolation mode is Disabled has no outbound
// rules; FQDN rules need AllowOnlyApprovedOutbound (the mode with a
// firewall), while PrivateEndpoint and ServiceTag rules are accepted in
// both other modes.
func checkUserRule(path, name string, rule map[string]any, mode string) error {
	if !ruleNamePattern.MatchString(name) {
		return arm.BadRequest(arm.CodeUserError, "The outbound rule name '%s' is invalid. %s", name, ruleNameRule).WithTarget(path)
	}
	typ, _ := rule["type"].(string)
	if mode == isolationDisabled {
		return arm.BadRequest(arm.CodeUserError,
			"The outbound rule '%s' cannot be added: the workspace's managed network isolationMode is Disabled. Set properties.managedNetwork.isolationMode to AllowInternetOutbound or AllowOnlyApprovedOutbound first.",
			name).WithTarget(path)
	}
	missing := func(member string) error {
		return arm.BadRequest(arm.CodeUserError, "The %s outbound rule '%s' needs '%s'.", typ, name, "destination."+member).WithTarget(path + ".destination." + member)
	}
	switch typ {
	case ruleFQDN:
		if mode != isolationApproved {
			return arm.BadRequest(arm.CodeUserError,
				"The outbound rule '%s' is of type FQDN, which is only allowed when the managed network isolationMode is AllowOnlyApprovedOutbound (it is %s).",
				name, mode).WithTarget(path + ".type")
		}
		if d, _ := rule["destination"].(string); strings.TrimSpace(d) == "" {
			return arm.BadRequest(arm.CodeUserError, "The FQDN outbound rule '%s' needs a 'destination' (a fully qualified domain name).", name).WithTarget(path + ".destination")
		}
	case rulePrivateEndpoint:
		d, _ := rule["destination"].(map[string]any)
		for _, m := range []string{"serviceResourceId", "subresourceTarget"} {
			if s, _ := d[m].(string); strings.TrimSpace(s) == "" {
				return missing(m)
			}
		}
	case ruleServiceTag:
		d, _ := rule["destination"].(map[string]any)
		for _, m := range []string{"serviceTag", "protocol", "portRanges"} {
			if s, _ := d[m].(string); strings.TrimSpace(s) == "" {
				return missing(m)
			}
		}
	}
	return nil
}

func backToDisabled(from string) *arm.Error {
	return arm.BadRequest(arm.CodeUserError,
		"The managed network isolationMode cannot be changed from %s back to Disabled: once a workspace has a managed virtual network it keeps it.", from).
		WithTarget("properties.managedNetwork.isolationMode")
}

func requiredRuleError(name, verb string) *arm.Error {
	return arm.BadRequest(arm.CodeUserError,
		"The outbound rule '%s' is a Required rule of the managed network and cannot be %s.", name, verb).
		WithTarget("properties.managedNetwork.outboundRules." + name)
}

func categoryOf(rule any) string {
	m, _ := rule.(map[string]any)
	c, _ := m["category"].(string)
	return c
}

// sameRule compares the type and destination of two stored rules.
func sameRule(a, b any) bool {
	am, _ := a.(map[string]any)
	bm, _ := b.(map[string]any)
	return reflect.DeepEqual(am["type"], bm["type"]) && reflect.DeepEqual(am["destination"], bm["destination"])
}

// matchesRequired reports whether a rule sent with a required rule's name
// is that rule: same type, and every destination member sent equal
// (strings ignoring case).
func matchesRequired(sent, req map[string]any) bool {
	if t, _ := sent["type"].(string); !strings.EqualFold(t, req["type"].(string)) {
		return false
	}
	switch d := sent["destination"].(type) {
	case nil:
		return true
	case string:
		rd, _ := req["destination"].(string)
		return strings.EqualFold(d, rd)
	case map[string]any:
		rd, _ := req["destination"].(map[string]any)
		for k, v := range d {
			rv, ok := rd[k]
			if !ok {
				return false
			}
			vs, ok1 := v.(string)
			rs, ok2 := rv.(string)
			if ok1 && ok2 {
				if !strings.EqualFold(vs, rs) {
					return false
				}
			} else if !reflect.DeepEqual(v, rv) {
				return false
			}
		}
		return true
	}
	return false
}

// requiredRules are the rules armlet adds to a managed network, with
// category Required; clients can neither change nor delete them.
//
// Choice (Azure's exact set and names are not published in a form armlet
// can follow; this is modelled on what the portal and `az ml workspace
// outbound-rule list` show):
//   - in both AllowInternetOutbound and AllowOnlyApprovedOutbound, a
//     PrivateEndpoint rule to each linked resource the workspace names:
//     storageAccount (sub-resources blob and file), keyVault (vault) and
//     containerRegistry (registry), with sparkEnabled true; named
//     "__SYS_PE_{resource name}_{sub-resource}";
//   - in AllowOnlyApprovedOutbound only, ServiceTag rules (TCP, action
//     Allow) to AzureActiveDirectory (ports 80, 443), AzureMachineLearning
//     (443, 8787, 18881), BatchNodeManagement.{region} (443),
//     AzureResourceManager (443) and AzureFrontDoor.FirstParty (443),
//     named "__SYS_ST_{service tag, '.' as '_'}".
//
// The "__SYS_" prefix cannot match the rule name pattern, so a client's
// rule never takes a required rule's name. Required rules follow the
// workspace: changing containerRegistry or the isolation mode changes
// them at once.
func requiredRules(ws *engine.Resource, mode string) map[string]any {
	out := map[string]any{}
	if mode == isolationDisabled {
		return out
	}
	pe := func(prop string, subresources ...string) {
		id, _ := ws.Properties[prop].(string)
		rid, err := resourceid.Parse(id)
		if id == "" || err != nil {
			return
		}
		for _, sub := range subresources {
			out["__SYS_PE_"+rid.Name()+"_"+sub] = map[string]any{
				"type":     rulePrivateEndpoint,
				"category": categoryRequired,
				"destination": map[string]any{
					"serviceResourceId": id,
					"subresourceTarget": sub,
					"sparkEnabled":      true,
				},
			}
		}
	}
	pe("storageAccount", "blob", "file")
	pe("keyVault", "vault")
	pe("containerRegistry", "registry")
	if mode != isolationApproved {
		return out
	}
	region := strings.ToLower(strings.ReplaceAll(ws.Location, " ", ""))
	for _, tag := range []struct{ tag, ports string }{
		{"AzureActiveDirectory", "80, 443"},
		{"AzureMachineLearning", "443, 8787, 18881"},
		{"BatchNodeManagement." + region, "443"},
		{"AzureResourceManager", "443"},
		{"AzureFrontDoor.FirstParty", "443"},
	} {
		out["__SYS_ST_"+strings.ReplaceAll(tag.tag, ".", "_")] = map[string]any{
			"type":     ruleServiceTag,
			"category": categoryRequired,
			"destination": map[string]any{
				"serviceTag": tag.tag,
				"protocol":   "TCP",
				"portRanges": tag.ports,
				"action":     "Allow",
			},
		}
	}
	return out
}

// nulledRules returns the names of the rules a PATCH body sets to null
// (properties.managedNetwork.outboundRules.{name}: null).
func nulledRules(body []byte) []string {
	mn, _ := memberFold(patchProperties(body), "managedNetwork").(map[string]any)
	rules, _ := memberFold(mn, "outboundRules").(map[string]any)
	var out []string
	for k, v := range rules {
		if v == nil {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func memberFold(m map[string]any, name string) any {
	_, v, _ := lookupFold(m, name)
	return v
}

// renderManagedNetwork completes the rendered managed network of workspace
// r (props is the rendered, copied properties object): its status, and
// each rule's status. Rules being deleted are shown until their operation
// ends.
func renderManagedNetwork(r *engine.Resource, props map[string]any, apiVersion string, now time.Time) {
	mn := managedNetworkOf(props)
	if mn == nil {
		return
	}
	st := loadNetworkState(r)
	status := statusInactive
	if st.active(now) {
		status = statusActive
	}
	mn["status"] = map[string]any{"status": status, "sparkReady": st.sparkReady(now)}
	mn["outboundRules"] = renderRules(st, rulesOf(mn), apiVersion, now)
}

// renderRules returns the rules as a client sees them now.
//
// Choice: a rule's status is Active once the managed network is
// provisioned and the rule's own operation (PUT of the rule, or the
// workspace write that added or changed it) has ended, Inactive otherwise.
// At api-versions from 2025-04-01 on, which have them, a rule shows
// Provisioning while its operation runs and Deleting while its DELETE
// runs; older api-versions (2024-04-01 semantics) show Inactive while it
// is provisioned and its last status while it is deleted. A
// PrivateEndpoint rule's destination.sparkStatus is Active when the rule
// is Active, sparkEnabled is true and Spark is ready.
func renderRules(st managedNetworkState, stored map[string]any, apiVersion string, now time.Time) map[string]any {
	out := make(map[string]any, len(stored))
	newStatuses := atLeast(apiVersion, ruleStatusesAPIVersion)
	settled := statusInactive
	if st.active(now) {
		settled = statusActive
	}
	show := func(name string, rule map[string]any, pending string) {
		rule = engine.DeepCopy(rule).(map[string]any)
		if rule == nil {
			rule = map[string]any{} // a stored rule that is not an object: its status only
		}
		status := settled
		switch {
		case pending == statusProvisioning && newStatuses:
			status = statusProvisioning
		case pending == statusProvisioning:
			status = statusInactive
		case pending == statusDeleting && newStatuses:
			status = statusDeleting
		}
		rule["status"] = status
		if d, ok := rule["destination"].(map[string]any); ok && rule["type"] == rulePrivateEndpoint {
			spark := statusInactive
			if enabled, _ := d["sparkEnabled"].(bool); enabled && status == statusActive && st.sparkReady(now) {
				spark = statusActive
			}
			d["sparkStatus"] = spark
		}
		out[name] = rule
	}
	for name, v := range stored {
		rule, _ := v.(map[string]any)
		pending := ""
		if p, ok := st.Pending[strings.ToLower(name)]; ok && now.Before(p.Until) && p.State == statusProvisioning {
			pending = statusProvisioning
		}
		show(name, rule, pending)
	}
	for _, p := range st.Pending {
		if p.State != statusDeleting || !now.Before(p.Until) || p.Rule == nil {
			continue
		}
		if _, _, ok := lookupFold(stored, p.Name); !ok {
			show(p.Name, p.Rule, statusDeleting)
		}
	}
	return out
}

// Validate is never called: the engine hands every request on outbound
// rules to ServeVirtual.
func (s *outboundRuleStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return arm.Internal()
}

// ServeVirtual answers W/outboundRules (GET, one page) and
// W/outboundRules/{ruleName} (GET, PUT, DELETE) from the workspace ws.
//
// PUT and DELETE are Location long-running operations (202 with Location
// and Retry-After), as the SDK expects (PUT final-state-via location):
// the change is written to the workspace at once, the workspace shows
// provisioningState Updating and the rule its operation's status (see
// renderRules) until the operation ends; polling the Location gives 202
// until then, and then the rule (PUT) or 204 (DELETE).
//
// Choice: rule names match ignoring case and keep the casing they were
// created with. A DELETE of a rule that does not exist answers 204. A
// workspace without a managed network (or with isolationMode Disabled)
// lists no rules and refuses PUTs with 400 UserError. PATCH is not
// supported (405), as in the spec.
func (s *outboundRuleStrategy) ServeVirtual(ctx context.Context, req *engine.Request, ws *engine.Resource, name string) (*engine.Response, error) {
	if resp, handled, err := s.serveProjectRules(ctx, req, ws, name); handled {
		return resp, err
	}
	switch {
	case name == "":
		return s.list(ws, req)
	case req.Method == http.MethodGet:
		return s.get(ws, req, name)
	case req.Method == http.MethodPut:
		return s.put(ctx, ws, req, name)
	case req.Method == http.MethodDelete:
		return s.delete(ctx, ws, req, name)
	}
	return nil, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
		"The requested resource does not support http method '%s' for type '%s'.", req.Method, TypeOutboundRules)
}

// ruleBody is the OutboundRuleBasicResource of one rendered rule.
func ruleBody(ws *engine.Resource, name string, rule any) map[string]any {
	return map[string]any{
		"id":         ws.ID.Child("outboundRules", name).String(),
		"name":       name,
		"type":       TypeOutboundRules,
		"properties": rule,
	}
}

// view is the rules of ws as a client sees them now.
func view(ws *engine.Resource, req *engine.Request) map[string]any {
	mn := managedNetworkOf(ws.Properties)
	if mn == nil {
		return map[string]any{}
	}
	return renderRules(loadNetworkState(ws), rulesOf(mn), req.APIVersion, req.Now)
}

func (s *outboundRuleStrategy) list(ws *engine.Resource, req *engine.Request) (*engine.Response, error) {
	rules := view(ws, req)
	items := make([]any, 0, len(rules))
	for _, name := range sortedKeys(rules) {
		items = append(items, ruleBody(ws, name, rules[name]))
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": items}), nil
}

func (s *outboundRuleStrategy) get(ws *engine.Resource, req *engine.Request, name string) (*engine.Response, error) {
	key, rule, ok := lookupFold(view(ws, req), name)
	if !ok {
		return nil, ruleNotFound(ws, name)
	}
	return engine.JSON(http.StatusOK, ruleBody(ws, key, rule)), nil
}

func ruleNotFound(ws *engine.Resource, name string) *arm.Error {
	return arm.NotFound(arm.CodeResourceNotFound,
		"The outbound rule '%s' of workspace '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix", name, ws.ID.Name())
}

// ruleResourceSchema is OutboundRuleBasicResource: properties required;
// the read-only envelope members a GET shows are accepted and ignored.
var ruleResourceSchema = object("OutboundRuleBasicResource", map[string]*field{
	"properties": outboundRule,
	"id":         str().ro(),
	"name":       str().ro(),
	"type":       str().ro(),
	"systemData": anyJSON().ro(),
}, "properties")

// decodeRule reads and checks the body of a rule PUT.
func decodeRule(req *engine.Request) (map[string]any, error) {
	if strings.TrimSpace(string(req.Body)) == "" {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: 'the request body is required'.")
	}
	raw, err := decode(req.Body)
	if err != nil {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: '%v'.", err)
	}
	gateVersion := req.APIVersion
	if isPreview(gateVersion) {
		gateVersion = ""
	}
	if err := ruleResourceSchema.gate("", raw, gateVersion, ""); err != nil {
		return nil, err
	}
	v, err := ruleResourceSchema.check("", raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: 'the content must be a JSON object'.")
	}
	rule, ok := m["properties"].(map[string]any)
	if !ok {
		return nil, requiredMissing("", "properties")
	}
	return rule, nil
}

// put creates or replaces one rule.
func (s *outboundRuleStrategy) put(ctx context.Context, ws *engine.Resource, req *engine.Request, name string) (*engine.Response, error) {
	rule, err := decodeRule(req)
	if err != nil {
		return nil, err
	}
	end := req.Now.Add(s.e.OperationDuration())
	key := name
	err = s.update(ctx, ws, end, func(desired, current *engine.Resource) error {
		key = name
		mn := managedNetworkOf(desired.Properties)
		if isolationModeOf(mn) == isolationDisabled {
			return arm.BadRequest(arm.CodeUserError,
				"The workspace '%s' has no managed network (its managedNetwork.isolationMode is Disabled), so it has no outbound rules. Set properties.managedNetwork.isolationMode to AllowInternetOutbound or AllowOnlyApprovedOutbound first.",
				desired.ID.Name()).WithTarget("properties.managedNetwork.isolationMode")
		}
		rules := rulesOf(mn)
		if rules == nil {
			rules = map[string]any{}
			mn["outboundRules"] = rules
		}
		if k, _, ok := lookupFold(rules, name); ok {
			key = k
		}
		rules[key] = engine.DeepCopy(rule)
		if err := applyManagedNetwork(desired, current, nil, req.Now, s.e.OperationDuration()); err != nil {
			return err
		}
		// The rule was written: it provisions until the operation ends
		// even when it did not change.
		st := loadNetworkState(desired)
		st.setPending(rulePending{Name: key, State: statusProvisioning, Until: end})
		desired.SetData(dataManagedNetwork, st)
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := &engine.Resource{ID: ws.ID.Child("outboundRules", key), Type: TypeOutboundRules, Location: ws.Location}
	return s.e.NewResourceOperation(ctx, req, r, false, end)
}

// delete removes one rule; Required rules cannot be deleted.
func (s *outboundRuleStrategy) delete(ctx context.Context, ws *engine.Resource, req *engine.Request, name string) (*engine.Response, error) {
	end := req.Now.Add(s.e.OperationDuration())
	key, found := "", false
	err := s.update(ctx, ws, end, func(desired, _ *engine.Resource) error {
		key, found = "", false
		rules := rulesOf(managedNetworkOf(desired.Properties))
		k, v, ok := lookupFold(rules, name)
		if !ok {
			return nil
		}
		key, found = k, true
		if categoryOf(v) == categoryRequired {
			return requiredRuleError(k, "deleted")
		}
		delete(rules, k)
		st := loadNetworkState(desired)
		st.prune(req.Now)
		st.setPending(rulePending{Name: k, State: statusDeleting, Until: end, Rule: v.(map[string]any)})
		desired.SetData(dataManagedNetwork, st)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return &engine.Response{Status: http.StatusNoContent}, nil
	}
	r := &engine.Resource{ID: ws.ID.Child("outboundRules", key), Type: TypeOutboundRules, Location: ws.Location}
	return s.e.NewResourceOperation(ctx, req, r, true, end)
}

// update applies change to a copy (desired) of the workspace ws as stored
// now (current) and saves it, marked Updating until end (engine.Update:
// change runs again on a fresh read when another writer got there first,
// so it sets anew whatever it records). A change that leaves the
// workspace as it was is not saved.
func (s *outboundRuleStrategy) update(ctx context.Context, ws *engine.Resource, end time.Time, change func(desired, current *engine.Resource) error) error {
	_, err := s.e.Update(ctx, ws.ID, func(desired *engine.Resource) error {
		current := desired.Clone()
		if err := change(desired, current); err != nil {
			return err
		}
		if reflect.DeepEqual(desired.Properties, current.Properties) && reflect.DeepEqual(desired.Internal.Data, current.Internal.Data) {
			return engine.ErrNoChange
		}
		desired.Internal.Provisioning = &engine.Transition{State: "Updating", Until: end}
		return nil
	})
	return err
}

// provisionOptions is ManagedNetworkProvisionOptions.
var provisionOptions = object("ManagedNetworkProvisionOptions", map[string]*field{
	"includeSpark": boolean(),
})

// provisionManagedNetwork answers POST W/provisionManagedNetwork (body
// optional: {includeSpark}): a Location long-running operation whose
// result is {sparkReady, status: "Active"}. When it ends the managed
// network's status is Active (and sparkReady true when Spark was
// included) and its rules become Active.
//
// Choice: a workspace without a managed network (isolationMode Disabled)
// refuses with 400 UserError. Provisioning an Active network again is
// accepted (and can add Spark); Spark, once ready, stays ready.
func (s *workspaceStrategy) provisionManagedNetwork(ctx context.Context, req *engine.Request, r *engine.Resource) (*engine.Response, error) {
	includeSpark := false
	if strings.TrimSpace(string(req.Body)) != "" {
		m, err := provisionOptions.checkBody(req.Body)
		if err != nil {
			return nil, err
		}
		includeSpark, _ = m["includeSpark"].(bool)
	}
	if isolationModeOf(managedNetworkOf(r.Properties)) == isolationDisabled {
		return nil, arm.BadRequest(arm.CodeUserError,
			"The workspace '%s' has no managed network to provision: its managedNetwork.isolationMode is Disabled.", r.ID.Name()).
			WithTarget("properties.managedNetwork.isolationMode")
	}
	end := req.Now.Add(s.e.OperationDuration())
	sparkReady := includeSpark
	_, err := s.e.Update(ctx, r.ID, func(w *engine.Resource) error {
		st := loadNetworkState(w)
		st.prune(req.Now)
		if st.ActiveAt.IsZero() || st.ActiveAt.After(end) {
			st.ActiveAt = end
		}
		if includeSpark && (st.SparkAt.IsZero() || st.SparkAt.After(end)) {
			st.SparkAt = end
		}
		sparkReady = !st.SparkAt.IsZero()
		w.SetData(dataManagedNetwork, st)
		w.Internal.Provisioning = &engine.Transition{State: "Updating", Until: end}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.e.NewActionOperation(ctx, req, r, map[string]any{"sparkReady": sparkReady, "status": statusActive}, end)
}

// changesAfter is the first time after now at which the managed network
// renders otherwise by time alone (it turns active or Spark-ready, a
// rule's operation ends); zero if none is pending.
func (st managedNetworkState) changesAfter(now time.Time) time.Time {
	var t time.Time
	for _, at := range []time.Time{st.ActiveAt, st.SparkAt} {
		if now.Before(at) {
			t = engine.Earliest(t, at)
		}
	}
	for _, p := range st.Pending {
		if now.Before(p.Until) {
			t = engine.Earliest(t, p.Until)
		}
	}
	return t
}
