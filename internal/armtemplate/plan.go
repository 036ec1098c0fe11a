package armtemplate

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/armtemplate/expr"
)

// Env is what evaluating a deployment needs from the system it runs in.
type Env struct {
	// Scope is where the deployment runs.
	Scope expr.Scope
	// ResourceGroup, Subscription, Tenant, Deployment and Environment are
	// what the functions of those names return (nil: not available at
	// this scope).
	ResourceGroup, Subscription, Tenant, Deployment, Environment map[string]any
	// Reference returns the live resource id as reference() shows it: its
	// properties, or with full the whole resource, read at apiVersion
	// ("" for the type's newest). Nil makes reference() an error.
	Reference func(id resourceid.ID, apiVersion string, full bool) (any, error)
	// List calls the POST action name (listKeys, listSecrets, ...) of the
	// live resource id at apiVersion with body (nil for none).
	List func(name string, id resourceid.ID, apiVersion string, body any) (any, error)
	// Now is utcNow()'s clock.
	Now func() time.Time
}

// Step is one resource of a plan: what the deployment PUTs (or, for an
// existing resource, only reads), after the steps it depends on.
type Step struct {
	Index int
	// Name is the resource's evaluated name ("vnet1/subnet1").
	Name string
	// Symbol is the symbolic name of a languageVersion 2.0 template.
	Symbol     string
	Type       string
	APIVersion string
	ID         resourceid.ID
	// Existing steps are not deployed: they name a resource the template
	// reads.
	Existing bool
	// DependsOn are the indexes of the steps this one waits for.
	DependsOn []int
	copyName  string
	raw       map[string]any
	loops     []expr.Loop
	dependsOn []string
}

// Plan is a template bound to its parameters and expanded into steps.
type Plan struct {
	Steps  []*Step
	t      *Template
	params map[string]any
	env    *Env
	vars   map[string]any
	// mu guards ctx: expr.Context caches variables and is not safe for
	// concurrent evaluations, and the steps' bodies are evaluated from
	// the goroutines that run them.
	mu  sync.Mutex
	ctx *expr.Context
	// skipped are the resource instances whose condition is false.
	skipped []*Step
}

// resourceMeta are the members of a template resource that describe the
// deployment of it rather than its body.
var resourceMeta = map[string]bool{
	"type": true, "apiversion": true, "name": true, "dependson": true, "condition": true, "copy": true,
	"resources": true, "comments": true, "scope": true, "existing": true, "metadata": true,
	"resourcegroup": true, "subscriptionid": true, "import": true,
}

// NewPlan binds the template to parameter values (from Bind) and expands
// its resources: conditions and copy counts evaluated, names and ids
// resolved, dependencies ordered and checked for cycles. Nothing in a
// resource's body is evaluated yet (Body does that when the step runs).
func (t *Template) NewPlan(params map[string]any, env *Env) (*Plan, error) {
	p := &Plan{t: t, params: params, env: env}
	vars, err := p.expandVariables()
	if err != nil {
		return nil, err
	}
	p.vars = vars
	p.ctx = p.context(nil, false)
	for i, r := range t.resources {
		symbol := ""
		if t.symbolic {
			symbol = t.names[i]
		}
		if err := p.expand(r, symbol, nil, "", nil); err != nil {
			return nil, err
		}
	}
	if len(p.Steps) > MaxResources {
		return nil, Invalid("The number of resources '%d' after copy loops exceeds the limit of '%d'", len(p.Steps), MaxResources)
	}
	if err := p.resolveDependencies(); err != nil {
		return nil, err
	}
	return p, nil
}

// context returns an evaluation context with the plan's parameters,
// variables and scope, the loops given, and reference() and list*()
// when live (a step's body or an output; Azure allows them nowhere else).
func (p *Plan) context(loops []expr.Loop, live bool) *expr.Context {
	env := p.env
	ctx := &expr.Context{
		Parameters: p.params, Variables: p.vars, Loops: loops, Scope: env.Scope,
		ResourceGroup: env.ResourceGroup, Subscription: env.Subscription, Tenant: env.Tenant,
		Deployment: env.Deployment, Environment: env.Environment, Now: env.Now,
		Functions: map[string]expr.Function{},
	}
	p.t.addUserFunctions(ctx.Functions, env.Scope)
	notHere := func(name string) expr.Function {
		return expr.Function{MinArgs: 0, MaxArgs: -1, Call: func(c *expr.Call) (any, error) {
			return nil, c.Errorf("the function '%s' can only be used in a resource's properties and in outputs", name)
		}}
	}
	if !live || env.Reference == nil {
		ctx.Functions["reference"] = notHere("reference")
		ctx.Functions["list*"] = notHere("list")
		return ctx
	}
	ctx.Functions["reference"] = expr.Function{MinArgs: 1, MaxArgs: 3, Call: func(c *expr.Call) (any, error) {
		id, err := p.referenceArg(c)
		if err != nil {
			return nil, err
		}
		apiVersion, full := "", false
		if c.Len() > 1 {
			if apiVersion, err = c.String(1); err != nil {
				return nil, err
			}
		}
		if c.Len() > 2 {
			s, err := c.String(2)
			if err != nil {
				return nil, err
			}
			full = strings.EqualFold(s, "full")
		}
		return env.Reference(id, apiVersion, full)
	}}
	ctx.Functions["list*"] = expr.Function{MinArgs: 2, MaxArgs: 3, Call: func(c *expr.Call) (any, error) {
		id, err := p.referenceArg(c)
		if err != nil {
			return nil, err
		}
		apiVersion, err := c.String(1)
		if err != nil {
			return nil, err
		}
		var body any
		if c.Len() > 2 {
			if body, err = c.Arg(2); err != nil {
				return nil, err
			}
		}
		return env.List(c.Name, id, apiVersion, body)
	}}
	return ctx
}

// referenceArg resolves the resource a call's first argument names (see
// referenceID).
func (p *Plan) referenceArg(c *expr.Call) (resourceid.ID, error) {
	ref, err := c.String(0)
	if err != nil {
		return resourceid.ID{}, err
	}
	id, err := p.referenceID(ref)
	if err != nil {
		return resourceid.ID{}, c.Errorf("%v", err)
	}
	return id, nil
}

// referenceID resolves reference()'s first argument: a resource id, a
// symbolic name (languageVersion 2.0), or a name of a resource the
// template deploys.
func (p *Plan) referenceID(ref string) (resourceid.ID, error) {
	if strings.HasPrefix(ref, "/") {
		return resourceid.Parse(ref)
	}
	for _, s := range p.Steps {
		if s.Symbol != "" && strings.EqualFold(s.Symbol, ref) || strings.EqualFold(s.Name, ref) {
			return s.ID, nil
		}
	}
	return resourceid.ID{}, fmt.Errorf("the resource '%s' is not defined in the template", ref)
}

// expandVariables evaluates the variables' copy member into variables.
func (p *Plan) expandVariables() (map[string]any, error) {
	vars := map[string]any{}
	var copies any
	for k, v := range p.t.Variables {
		if strings.EqualFold(k, "copy") {
			copies = v
			continue
		}
		vars[k] = v
	}
	if copies == nil {
		return vars, nil
	}
	base := &expr.Context{Parameters: p.params, Variables: vars, Scope: p.env.Scope,
		ResourceGroup: p.env.ResourceGroup, Subscription: p.env.Subscription, Tenant: p.env.Tenant,
		Deployment: p.env.Deployment, Environment: p.env.Environment, Functions: map[string]expr.Function{}}
	p.t.addUserFunctions(base.Functions, p.env.Scope)
	arr, ok := copies.([]any)
	if !ok {
		return nil, Invalid("The template variable 'copy' must be an array")
	}
	for _, c := range arr {
		name, v, err := expandCopy(c, base, "variables.copy")
		if err != nil {
			return nil, err
		}
		vars[name] = escape(v)
	}
	return vars, nil
}

// expandCopy evaluates one copy element {name, count, input} into its
// array of inputs.
func expandCopy(c any, base *expr.Context, where string) (string, []any, error) {
	cm, ok := c.(map[string]any)
	if !ok {
		return "", nil, Invalid("The template %s element must be an object", where)
	}
	nameV, _ := expr.Key(cm, "name")
	name, _ := nameV.(string)
	if name == "" {
		return "", nil, Invalid("The template %s element has no 'name'", where)
	}
	count, err := evalCount(cm, base, where+"."+name)
	if err != nil {
		return "", nil, err
	}
	input, ok := expr.Key(cm, "input")
	if !ok {
		return "", nil, Invalid("The template %s '%s' has no 'input'", where, name)
	}
	tree, err := expr.ParseValue(input)
	if err != nil {
		return "", nil, asInvalid(err, where+" '"+name+"'")
	}
	out := make([]any, 0, count)
	for i := range count {
		ctx := *base
		ctx.Loops = append(append([]expr.Loop(nil), base.Loops...), expr.Loop{Name: name, Index: i})
		v, err := tree.Eval(&ctx)
		if err != nil {
			return "", nil, asInvalid(err, where+" '"+name+"'")
		}
		out = append(out, v)
	}
	return name, out, nil
}

// evalCount evaluates a copy's count: an integer from 0 to 800.
func evalCount(cm map[string]any, ctx *expr.Context, where string) (int64, error) {
	raw, ok := expr.Key(cm, "count")
	if !ok {
		return 0, Invalid("The template %s has no 'count'", where)
	}
	v, err := expr.EvaluateValue(raw, ctx)
	if err != nil {
		return 0, asInvalid(err, where+" count")
	}
	n, ok := v.(int64)
	if !ok || n < 0 || n > MaxResources {
		return 0, Invalid("The template %s count '%s' is not valid: it must be an integer from 0 to %d", where, expr.String(v), MaxResources)
	}
	return n, nil
}

// escape makes evaluated values literal again where they go back into a
// tree that is evaluated: a string starting with "[" gets a second "[".
func escape(v any) any {
	switch x := v.(type) {
	case string:
		return escapeString(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = escape(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[escapeString(k)] = escape(e)
		}
		return out
	}
	return v
}

// escapeString keeps s literal in a tree: a string that starts with "["
// and ends with "]" would be read as an expression (or, "[[...]", lose
// its first "["), so it gets one more "[".
func escapeString(s string) string {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		return "[" + s
	}
	return s
}

// member reads a resource member and evaluates it with ctx.
func member(r map[string]any, name string, ctx *expr.Context) (any, bool, error) {
	raw, ok := expr.Key(r, name)
	if !ok {
		return nil, false, nil
	}
	v, err := expr.EvaluateValue(raw, ctx)
	return v, true, err
}

// expand adds the steps of one template resource: every copy instance
// whose condition holds, and their nested child resources. parent is the
// enclosing resource's step for a nested one.
func (p *Plan) expand(r map[string]any, symbol string, parent *Step, parentType string, loops []expr.Loop) error {
	where := "resource"
	if symbol != "" {
		where += " '" + symbol + "'"
	}
	count, copyName, serial, batch := int64(1), "", false, int64(0)
	if c, ok := expr.Key(r, "copy"); ok {
		cm, ok := c.(map[string]any)
		if !ok {
			return Invalid("The template %s 'copy' must be an object", where)
		}
		nv, _ := expr.Key(cm, "name")
		copyName, _ = nv.(string)
		if copyName == "" {
			return Invalid("The template %s 'copy' has no 'name'", where)
		}
		var err error
		if count, err = evalCount(cm, p.context(loops, false), where+" copy"); err != nil {
			return err
		}
		if m, ok := expr.Key(cm, "mode"); ok {
			serial = strings.EqualFold(expr.String(m), "serial")
		}
		if b, ok := expr.Key(cm, "batchSize"); ok {
			batch, _ = b.(int64)
		}
		if serial && batch <= 0 {
			batch = 1
		}
	}
	first := len(p.Steps)
	for i := range count {
		ls := loops
		if copyName != "" {
			ls = append(append([]expr.Loop(nil), loops...), expr.Loop{Name: copyName, Index: i})
		}
		ctx := p.context(ls, false)
		if cond, ok, err := member(r, "condition", ctx); err != nil {
			return asInvalid(err, where+" condition")
		} else if ok {
			b, isBool := cond.(bool)
			if !isBool {
				return Invalid("The template %s condition must be a boolean, not '%s'", where, expr.TypeName(cond))
			}
			if !b {
				// Kept aside so that dependsOn may still name it; a name
				// that cannot be evaluated leaves it out.
				if s, err := p.step(r, symbol, parent, parentType, ctx, where); err == nil {
					s.copyName = copyName
					p.skipped = append(p.skipped, s)
				}
				continue
			}
		}
		s, err := p.step(r, symbol, parent, parentType, ctx, where)
		if err != nil {
			return err
		}
		s.loops, s.copyName = ls, copyName
		if serial {
			// Each batch waits for the one before it.
			n := int64(len(p.Steps) - first)
			for j := (n/batch - 1) * batch; j >= 0 && j < (n/batch)*batch; j++ {
				s.DependsOn = append(s.DependsOn, first+int(j))
			}
		}
		p.Steps = append(p.Steps, s)
		if children, ok := expr.Key(r, "resources"); ok {
			arr, ok := children.([]any)
			if !ok {
				return Invalid("The template %s 'resources' must be an array", where)
			}
			for _, c := range arr {
				cm, ok := c.(map[string]any)
				if !ok {
					return Invalid("The template %s has a nested resource that is not an object", where)
				}
				if err := p.expand(cm, "", s, s.Type, ls); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// step evaluates what identifies one resource instance.
func (p *Plan) step(r map[string]any, symbol string, parent *Step, parentType string, ctx *expr.Context, where string) (*Step, error) {
	str := func(name string, required bool) (string, error) {
		v, ok, err := member(r, name, ctx)
		if err != nil {
			return "", asInvalid(err, where+" "+name)
		}
		s, isStr := v.(string)
		if required && (!ok || !isStr || s == "") {
			return "", Invalid("The template %s must have a '%s' string", where, name)
		}
		return s, nil
	}
	typ, err := str("type", true)
	if err != nil {
		return nil, err
	}
	name, err := str("name", true)
	if err != nil {
		return nil, err
	}
	where = fmt.Sprintf("resource '%s/%s'", typ, name)
	if parent != nil {
		if !strings.Contains(typ, ".") || !strings.Contains(typ, "/") {
			typ = parentType + "/" + typ
		}
		if strings.Count(name, "/") < strings.Count(typ, "/")-1 {
			name = parent.Name + "/" + name
		}
	}
	apiVersion, err := str("apiVersion", false)
	if err != nil {
		return nil, err
	}
	existing := false
	if v, ok, err := member(r, "existing", ctx); err != nil {
		return nil, asInvalid(err, where+" existing")
	} else if ok {
		existing, _ = v.(bool)
	}
	if apiVersion == "" && !existing {
		return nil, Invalid("The template %s must have an 'apiVersion'", where)
	}
	id, err := p.resourceID(r, typ, name, ctx, where)
	if err != nil {
		return nil, err
	}
	s := &Step{Index: len(p.Steps), Name: name, Symbol: symbol, Type: typ, APIVersion: apiVersion, ID: id, Existing: existing, raw: r}
	if parent != nil {
		s.DependsOn = append(s.DependsOn, parent.Index)
	}
	if v, ok, err := member(r, "dependsOn", ctx); err != nil {
		return nil, asInvalid(err, where+" dependsOn")
	} else if ok && v != nil {
		arr, isArr := v.([]any)
		if !isArr {
			return nil, Invalid("The template %s 'dependsOn' must be an array", where)
		}
		for _, d := range arr {
			ds, isStr := d.(string)
			if !isStr {
				return nil, Invalid("The template %s 'dependsOn' must hold strings", where)
			}
			s.dependsOn = append(s.dependsOn, ds)
		}
	}
	return s, nil
}

// resourceID is the id of a resource named name of type typ: under the
// deployment's scope, or under the resource's own scope (an extension
// resource's "scope", a nested deployment's resourceGroup and
// subscriptionId).
func (p *Plan) resourceID(r map[string]any, typ, name string, ctx *expr.Context, where string) (resourceid.ID, error) {
	scope := p.env.Scope
	base := ""
	switch {
	case scope.ResourceGroup != "":
		base = "/subscriptions/" + scope.SubscriptionID + "/resourceGroups/" + scope.ResourceGroup
	case scope.SubscriptionID != "":
		base = "/subscriptions/" + scope.SubscriptionID
	case scope.ManagementGroup != "":
		base = "/providers/Microsoft.Management/managementGroups/" + scope.ManagementGroup
	}
	if strings.EqualFold(typ, "Microsoft.Resources/deployments") {
		sub, _, err := member(r, "subscriptionId", ctx)
		if err != nil {
			return resourceid.ID{}, asInvalid(err, where+" subscriptionId")
		}
		rg, _, err := member(r, "resourceGroup", ctx)
		if err != nil {
			return resourceid.ID{}, asInvalid(err, where+" resourceGroup")
		}
		subID, rgName := scope.SubscriptionID, scope.ResourceGroup
		if s, _ := sub.(string); s != "" {
			subID, rgName = s, ""
		}
		if g, _ := rg.(string); g != "" {
			rgName = g
		}
		switch {
		case rgName != "":
			base = "/subscriptions/" + subID + "/resourceGroups/" + rgName
		case subID != "":
			base = "/subscriptions/" + subID
		}
	}
	if sc, ok, err := member(r, "scope", ctx); err != nil {
		return resourceid.ID{}, asInvalid(err, where+" scope")
	} else if ok {
		s, _ := sc.(string)
		id, err := p.scopeID(s)
		if err != nil {
			return resourceid.ID{}, Invalid("The template %s has an invalid scope '%s': %v", where, s, err)
		}
		base = strings.TrimSuffix(id.String(), "/")
	}
	if strings.EqualFold(typ, "Microsoft.Resources/resourceGroups") && scope.SubscriptionID != "" {
		return parseID("/subscriptions/"+scope.SubscriptionID+"/resourceGroups/"+url.PathEscape(name), where)
	}
	types := strings.Split(typ, "/")
	names := strings.Split(name, "/")
	if len(types) < 2 || len(names) != len(types)-1 {
		return resourceid.ID{}, Invalid("The template %s has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name", where)
	}
	var b strings.Builder
	b.WriteString(base)
	b.WriteString("/providers/")
	b.WriteString(types[0])
	for i, n := range names {
		b.WriteString("/" + types[i+1] + "/" + n)
	}
	return parseID(b.String(), where)
}

func parseID(s, where string) (resourceid.ID, error) {
	id, err := resourceid.Parse(s)
	if err != nil {
		return resourceid.ID{}, Invalid("The template %s does not make a valid resource id ('%s')", where, s)
	}
	return id, nil
}

// scopeID resolves an extension resource's scope: a resource id, a
// symbolic name, or a "type/name" of a resource the template deploys.
func (p *Plan) scopeID(s string) (resourceid.ID, error) {
	if strings.HasPrefix(s, "/") {
		return resourceid.Parse(s)
	}
	for _, st := range p.Steps {
		if strings.EqualFold(st.Symbol, s) || strings.EqualFold(st.Type+"/"+st.Name, s) || strings.EqualFold(st.Name, s) {
			return st.ID, nil
		}
	}
	return resourceid.ID{}, fmt.Errorf("the resource '%s' is not defined in the template (a scope must come before the resources in it)", s)
}

// resolveDependencies turns each step's dependsOn strings into step
// indexes and checks that the steps can be ordered.
func (p *Plan) resolveDependencies() error {
	for _, s := range p.Steps {
		for _, d := range s.dependsOn {
			found := false
			for _, o := range p.Steps {
				if o == s {
					continue
				}
				if o.matches(d) {
					s.DependsOn = append(s.DependsOn, o.Index)
					found = true
				}
			}
			if !found && !p.conditionedOut(d) {
				return Invalid("The resource '%s' is not defined in the template", d)
			}
		}
	}
	// Kahn's algorithm: what is left is a cycle.
	indeg := make([]int, len(p.Steps))
	for _, s := range p.Steps {
		indeg[s.Index] = len(s.DependsOn)
	}
	next := []int{}
	for i, n := range indeg {
		if n == 0 {
			next = append(next, i)
		}
	}
	dependents := make([][]int, len(p.Steps))
	for _, s := range p.Steps {
		for _, d := range s.DependsOn {
			dependents[d] = append(dependents[d], s.Index)
		}
	}
	seen := 0
	for len(next) > 0 {
		i := next[0]
		next = next[1:]
		seen++
		for _, d := range dependents[i] {
			if indeg[d]--; indeg[d] == 0 {
				next = append(next, d)
			}
		}
	}
	if seen < len(p.Steps) {
		for i, n := range indeg {
			if n > 0 {
				return Invalid("Circular dependency detected on resource: '%s'. Please see https://aka.ms/arm-template/#resources for usage details", p.Steps[i].ID)
			}
		}
	}
	return nil
}

// matches reports whether a dependsOn entry names the step: its id, its
// symbolic name, its copy loop, its name, its type and name, or its id
// below /providers/ ("Microsoft.Network/virtualNetworks/v/subnets/s").
func (s *Step) matches(d string) bool {
	return strings.EqualFold(d, s.ID.String()) ||
		s.Symbol != "" && strings.EqualFold(d, s.Symbol) ||
		s.copyName != "" && strings.EqualFold(d, s.copyName) ||
		strings.EqualFold(d, s.Name) ||
		strings.EqualFold(d, s.Type+"/"+s.Name) ||
		strings.HasSuffix(strings.ToLower(s.ID.String()), "/providers/"+strings.ToLower(d))
}

// conditionedOut reports whether a dependsOn entry names a resource of
// the template that is not deployed (its condition is false): the
// dependency is then dropped, as Azure does.
func (p *Plan) conditionedOut(d string) bool {
	for _, s := range p.skipped {
		if s.matches(d) {
			return true
		}
	}
	return false
}

// Body evaluates the step's resource body: every member but those that
// describe the deployment (type, name, apiVersion, dependsOn, copy,
// condition, ...), with property copy loops expanded and reference() and
// list*() reading the live resources.
func (p *Plan) Body(s *Step) (map[string]any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx := p.context(s.loops, true)
	ctx.Variables = p.vars
	body := map[string]any{}
	where := fmt.Sprintf("resource '%s'", s.ID)
	for k, raw := range s.raw {
		if resourceMeta[strings.ToLower(k)] {
			continue
		}
		if inner, ok := innerTemplate(s, k, raw); ok {
			// A nested deployment of inner scope: its template is its
			// own, evaluated by that deployment with its parameters.
			props := map[string]any{}
			for pk, pv := range raw.(map[string]any) {
				if !strings.EqualFold(pk, "template") {
					props[pk] = pv
				}
			}
			v, err := expr.EvaluateValue(props, ctx)
			if err != nil {
				return nil, asInvalid(err, where+" "+k)
			}
			v.(map[string]any)["template"] = inner
			body[k] = v
			continue
		}
		expanded, err := expandPropertyCopies(raw, ctx, where+" "+k)
		if err != nil {
			return nil, err
		}
		v, err := expr.EvaluateValue(expanded, ctx)
		if err != nil {
			return nil, asInvalid(err, where+" "+k)
		}
		body[k] = v
	}
	return body, nil
}

// innerTemplate returns the template of a nested deployment whose
// expressionEvaluationOptions.scope is inner, when member k (its
// properties) says so.
func innerTemplate(s *Step, k string, raw any) (any, bool) {
	if !strings.EqualFold(s.Type, "Microsoft.Resources/deployments") || !strings.EqualFold(k, "properties") {
		return nil, false
	}
	props, ok := raw.(map[string]any)
	if !ok {
		return nil, false
	}
	opts, _ := expr.Key(props, "expressionEvaluationOptions")
	om, _ := opts.(map[string]any)
	scope, _ := expr.Key(om, "scope")
	if sc, _ := scope.(string); !strings.EqualFold(sc, "inner") {
		return nil, false
	}
	t, ok := expr.Key(props, "template")
	return t, ok
}

// expandPropertyCopies replaces, in an unevaluated body, each object's
// "copy" array of {name, count, input} by the members it makes.
func expandPropertyCopies(v any, ctx *expr.Context, where string) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			ev, err := expandPropertyCopies(e, ctx, where)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if arr, ok := e.([]any); ok && strings.EqualFold(k, "copy") && isPropertyCopy(arr) {
				for _, c := range arr {
					name, vals, err := expandCopy(c, ctx, where+".copy")
					if err != nil {
						return nil, err
					}
					out[name] = escape(vals)
				}
				continue
			}
			ev, err := expandPropertyCopies(e, ctx, where+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	}
	return v, nil
}

func isPropertyCopy(arr []any) bool {
	for _, c := range arr {
		cm, ok := c.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := expr.Key(cm, "input"); !ok {
			return false
		}
	}
	return len(arr) > 0
}

// Outputs evaluates the template's outputs, as a deployment shows them:
// each with its type and value; a secure one without its value.
func (p *Plan) Outputs() (map[string]any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx := p.context(nil, true)
	out := map[string]any{}
	for name, o := range p.t.outputs {
		typ, _ := expr.Key(o, "type")
		ts := strings.ToLower(expr.String(typ))
		if c, ok, err := member(o, "condition", ctx); err != nil {
			return nil, asInvalid(err, "output '"+name+"' condition")
		} else if ok && c == false {
			continue
		}
		var v any
		if c, ok := expr.Key(o, "copy"); ok {
			cm, _ := c.(map[string]any)
			if cm == nil {
				return nil, Invalid("The template output '%s' copy must be an object", name)
			}
			cm = map[string]any{"name": name, "count": cm["count"], "input": cm["input"]}
			_, vals, err := expandCopy(cm, ctx, "output")
			if err != nil {
				return nil, err
			}
			v = vals
		} else {
			val, _, err := member(o, "value", ctx)
			if err != nil {
				return nil, asInvalid(err, "output '"+name+"'")
			}
			v = val
		}
		shown := map[string]any{"type": (&Parameter{Type: ts}).TypeName()}
		if ts != "securestring" && ts != "secureobject" {
			shown["value"] = v
		}
		out[name] = shown
	}
	return out, nil
}
