// Package policy is armlet's Azure Policy language: it parses policy
// definitions (parameters and policyRule) and evaluates them against a
// resource's ARM JSON body. It is pure: no store, no clock, no HTTP.
//
// A rule's "if" is a tree of allOf, anyOf, not and leaf conditions; a leaf
// compares a field (type, name, location, kind, tags, tags['k'] or an
// alias from the alias table), a value (a template expression) or a count
// with one operator. Evaluation records every leaf it evaluated (Azure's
// evaluationDetails.evaluatedExpressions).
//
// Where Azure's behaviour is unknown the package makes a choice; each is
// documented in a comment starting "Choice:".
package policy

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm"

	"github.com/armlet/armlet/internal/armtemplate/expr"
)

// Error codes of bad policy definitions.
//
// Choice: InvalidPolicyRule, InvalidPolicyAlias and
// InvalidPolicyParameters are codes seen from Azure for these cases;
// InvalidPolicyEffect and UndefinedPolicyParameter are armlet's own where
// Azure's code was not found.
const (
	CodeInvalidPolicyRule       = "InvalidPolicyRule"
	CodeInvalidPolicyAlias      = "InvalidPolicyAlias"
	CodeInvalidPolicyEffect     = "InvalidPolicyEffect"
	CodeInvalidPolicyParameters = "InvalidPolicyParameters"
	CodeUndefinedParameter      = "UndefinedPolicyParameter"
)

// Effects, as armlet names them (lower camel case, as Azure reports
// policyDefinitionEffect).
const (
	EffectDisabled          = "disabled"
	EffectAudit             = "audit"
	EffectDeny              = "deny"
	EffectAppend            = "append"
	EffectModify            = "modify"
	EffectAuditIfNotExists  = "auditIfNotExists"
	EffectDeployIfNotExists = "deployIfNotExists"
	EffectDenyAction        = "denyAction"
	EffectManual            = "manual"
)

var effects = []string{EffectDisabled, EffectAudit, EffectDeny, EffectAppend, EffectModify,
	EffectAuditIfNotExists, EffectDeployIfNotExists, EffectDenyAction, EffectManual}

// canonicalEffect returns the canonical name of an effect, ignoring case.
func canonicalEffect(s string) (string, bool) {
	for _, e := range effects {
		if strings.EqualFold(e, s) {
			return e, true
		}
	}
	return "", false
}

// Parameter is one parameter a definition declares.
type Parameter struct {
	Type          string
	AllowedValues []any
	DefaultValue  any
	HasDefault    bool
}

var paramTypes = []string{"string", "array", "object", "boolean", "integer", "float", "datetime"}

// Definition is a parsed policy definition.
type Definition struct {
	Mode       string
	Parameters map[string]Parameter
	cond       node
	effect     template
	// append details, modify operations, auditIfNotExists details.
	appends   []fieldValue
	modifyOps []modifyOp
	related   *Related
}

// Related is an auditIfNotExists definition's related resources: those of
// Type (under the evaluated resource when Type is a child type of it,
// else in its resource group) whose Name matches, when given, and that
// satisfy the existence condition.
type Related struct {
	Type string
	Name template
	cond node
}

type fieldValue struct {
	field string
	path  fieldPath
	value template
}

type modifyOp struct {
	operation string // addOrReplace, add, remove
	fieldValue
	cond *template
}

func ruleError(format string, args ...any) *arm.Error {
	return arm.Errorf(http.StatusBadRequest, CodeInvalidPolicyRule, "The policy rule is invalid: "+format, args...)
}

// Parse parses a definition's mode, parameters (the "parameters" object of
// its properties; nil for none) and policyRule. Every error is a 400
// *arm.Error naming what is wrong.
func Parse(mode string, parameters, rule any) (*Definition, error) {
	declared, err := ParseParameters(parameters)
	if err != nil {
		return nil, err
	}
	d := &Definition{Mode: mode, Parameters: declared}
	r, ok := normalize(rule).(map[string]any)
	if !ok {
		return nil, ruleError("the policyRule must be a JSON object with 'if' and 'then'.")
	}
	for k := range r {
		if !strings.EqualFold(k, "if") && !strings.EqualFold(k, "then") {
			return nil, ruleError("the policyRule has an unknown member '%s'; it takes 'if' and 'then'.", k)
		}
	}
	ifv, thenv := getKey(r, "if"), getKey(r, "then")
	if ifv == nil {
		return nil, ruleError("the policyRule has no 'if' condition.")
	}
	then, ok := thenv.(map[string]any)
	if !ok {
		return nil, ruleError("the policyRule has no 'then' object.")
	}
	p := &parser{params: d.Parameters}
	c, err := p.condition(ifv, "if", 0)
	if err != nil {
		return nil, err
	}
	d.cond = c
	ev := getKey(then, "effect")
	if ev == nil {
		return nil, ruleError("'then.effect' is required.")
	}
	d.effect, err = p.template(ev, "then.effect")
	if err != nil {
		return nil, err
	}
	var possible []string
	if d.effect.e == nil {
		e, ok := canonicalEffect(toString(ev))
		if !ok {
			return nil, arm.BadRequest(CodeInvalidPolicyEffect, "The policy effect '%s' is not valid. The supported effects are '%s'.", toString(ev), strings.Join(effects, ", "))
		}
		possible = []string{e}
	} else {
		// An effect from a parameter: every allowed value must be an effect.
		possible = slices.Clone(effects)
		if name, args, ok := expr.AsCall(d.effect.e); ok && strings.EqualFold(name, "parameters") && len(args) == 1 {
			if lv, ok := expr.Literal(args[0]); ok {
				prm, _ := lookupParam(d.Parameters, toString(lv))
				if len(prm.AllowedValues) > 0 {
					possible = nil
					for _, a := range prm.AllowedValues {
						e, ok := canonicalEffect(toString(a))
						if !ok {
							return nil, arm.BadRequest(CodeInvalidPolicyEffect, "The policy effect '%s' allowed by parameter '%s' is not valid. The supported effects are '%s'.", toString(a), toString(lv), strings.Join(effects, ", "))
						}
						possible = append(possible, e)
					}
				}
			}
		}
	}
	details := getKey(then, "details")
	for _, e := range possible {
		switch e {
		case EffectAppend:
			if err := p.appendDetails(d, details); err != nil {
				return nil, err
			}
		case EffectModify:
			if err := p.modifyDetails(d, details); err != nil {
				return nil, err
			}
		case EffectAuditIfNotExists, EffectDeployIfNotExists:
			if err := p.relatedDetails(d, details); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

func parseParameter(name string, raw any) (Parameter, error) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return Parameter{}, arm.BadRequest(CodeInvalidPolicyParameters, "The policy parameter '%s' must be a JSON object.", name)
	}
	p := Parameter{Type: toString(getKey(obj, "type"))}
	if !slices.ContainsFunc(paramTypes, func(t string) bool { return strings.EqualFold(t, p.Type) }) {
		return Parameter{}, arm.BadRequest(CodeInvalidPolicyParameters, "The policy parameter '%s' has type '%s'; the supported types are '%s'.", name, p.Type, strings.Join(paramTypes, ", "))
	}
	if av := getKey(obj, "allowedValues"); av != nil {
		arr, ok := av.([]any)
		if !ok {
			return Parameter{}, arm.BadRequest(CodeInvalidPolicyParameters, "The allowedValues of policy parameter '%s' must be an array.", name)
		}
		p.AllowedValues = arr
	}
	if hasKey(obj, "defaultValue") {
		p.DefaultValue, p.HasDefault = getKey(obj, "defaultValue"), true
		if err := p.check(name, p.DefaultValue); err != nil {
			return Parameter{}, err
		}
	}
	return p, nil
}

// check validates a value for the parameter: its type and allowed values.
func (p Parameter) check(name string, v any) error {
	v = normalize(v)
	ok := true
	switch strings.ToLower(p.Type) {
	case "string", "datetime":
		_, ok = v.(string)
	case "array":
		_, ok = v.([]any)
	case "object":
		_, ok = v.(map[string]any)
	case "boolean":
		_, ok = v.(bool)
	case "integer", "float":
		_, ok = v.(float64)
	}
	if !ok {
		return arm.BadRequest(CodeInvalidPolicyParameters, "The value '%s' of policy parameter '%s' is not of the expected type '%s'.", toString(v), name, p.Type)
	}
	if len(p.AllowedValues) > 0 && !slices.ContainsFunc(p.AllowedValues, func(a any) bool { return equalValues(a, v) }) {
		return arm.BadRequest(CodeInvalidPolicyParameters, "The value '%s' of policy parameter '%s' is not allowed. The allowed values are '%s'.", toString(v), name, toString(p.AllowedValues))
	}
	return nil
}

// ResolveParameters checks an assignment's parameter values
// ({"name":{"value":v}}) against d and returns every parameter's value,
// defaults filled in.
func (d *Definition) ResolveParameters(values map[string]any) (map[string]any, error) {
	return ResolveParameters(d.Parameters, values)
}

// ParseParameters parses a "parameters" declaration object (of a
// definition or a set definition).
func ParseParameters(raw any) (map[string]Parameter, error) {
	out := map[string]Parameter{}
	if raw == nil {
		return out, nil
	}
	obj, ok := normalize(raw).(map[string]any)
	if !ok {
		return nil, arm.BadRequest(CodeInvalidPolicyParameters, "The policy parameters must be a JSON object.")
	}
	for name, r := range obj {
		p, err := parseParameter(name, r)
		if err != nil {
			return nil, err
		}
		out[name] = p
	}
	return out, nil
}

// ResolveParameters checks parameter values ({"name":{"value":v}})
// against the declared parameters and returns every parameter's value,
// keyed by lower-cased name, defaults filled in.
func ResolveParameters(declared map[string]Parameter, values map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for name, raw := range values {
		p, ok := lookupParam(declared, name)
		if !ok {
			return nil, arm.BadRequest(CodeUndefinedParameter, "The policy parameter '%s' is not defined in the policy definition.", name)
		}
		obj, ok := normalize(raw).(map[string]any)
		if !ok || !hasKey(obj, "value") {
			return nil, arm.BadRequest(CodeInvalidPolicyParameters, "The policy parameter '%s' must be an object with a 'value'.", name)
		}
		v := getKey(obj, "value")
		if err := p.check(name, v); err != nil {
			return nil, err
		}
		out[strings.ToLower(name)] = normalize(v)
	}
	for name, p := range declared {
		if _, ok := out[strings.ToLower(name)]; ok {
			continue
		}
		if !p.HasDefault {
			return nil, arm.BadRequest(CodeInvalidPolicyParameters, "The policy parameter '%s' has no value and no default value.", name)
		}
		out[strings.ToLower(name)] = normalize(p.DefaultValue)
	}
	return out, nil
}

// CheckTemplate parses v, which may be a template expression using only
// the declared parameters (a set definition's values for its members'
// parameters).
func CheckTemplate(v any, declared map[string]Parameter, where string) error {
	p := &parser{params: declared}
	_, err := p.template(v, where)
	return err
}

// EvalTemplate evaluates v, which may be a template expression, with the
// given parameter values (lower-cased names).
func EvalTemplate(v any, values map[string]any) (any, error) {
	t, err := parseTemplate(v, nil)
	if err != nil {
		return nil, err
	}
	return t.value(&env{params: values})
}

type parser struct {
	params map[string]Parameter
}

func (p *parser) template(v any, where string) (template, error) {
	t, err := parseTemplate(v, p.params)
	if err != nil {
		return template{}, p.exprError(err, where)
	}
	return t, nil
}

// exprError is the 400 for a template expression that does not parse or
// check: an unknown alias and an undefined parameter have codes of their
// own.
func (p *parser) exprError(err error, where string) error {
	var alias *unknownAlias
	if errors.As(err, &alias) {
		return arm.BadRequest(CodeInvalidPolicyAlias, "The policy rule is invalid at '%s': %s.", where, err)
	}
	var param *undefinedParam
	if errors.As(err, &param) {
		return arm.BadRequest(CodeUndefinedParameter, "The policy rule is invalid at '%s': %s.", where, err)
	}
	return ruleError("at '%s': %s.", where, err)
}

// operators maps each operator, lower-cased, to its name in evaluation
// details.
var operators = map[string]string{
	"equals": "Equals", "notequals": "NotEquals", "like": "Like", "notlike": "NotLike",
	"match": "Match", "matchinsensitively": "MatchInsensitively", "notmatch": "NotMatch",
	"notmatchinsensitively": "NotMatchInsensitively", "contains": "Contains", "notcontains": "NotContains",
	"in": "In", "notin": "NotIn", "containskey": "ContainsKey", "notcontainskey": "NotContainsKey",
	"less": "Less", "lessorequals": "LessOrEquals", "greater": "Greater", "greaterorequals": "GreaterOrEquals",
	"exists": "Exists",
}

func (p *parser) condition(v any, where string, depth int) (node, error) {
	if depth > 64 {
		return nil, ruleError("the condition at '%s' is nested too deeply.", where)
	}
	obj, ok := v.(map[string]any)
	if !ok || len(obj) == 0 {
		return nil, ruleError("the condition at '%s' must be a non-empty JSON object.", where)
	}
	for _, logical := range []string{"allOf", "anyOf"} {
		if hasKey(obj, logical) {
			if len(obj) != 1 {
				return nil, ruleError("the condition at '%s' has '%s' and other members.", where, logical)
			}
			arr, ok := getKey(obj, logical).([]any)
			if !ok || len(arr) == 0 {
				return nil, ruleError("'%s' at '%s' must be a non-empty array of conditions.", logical, where)
			}
			var kids []node
			for i, c := range arr {
				n, err := p.condition(c, fmt.Sprintf("%s.%s[%d]", where, logical, i), depth+1)
				if err != nil {
					return nil, err
				}
				kids = append(kids, n)
			}
			return &logicalNode{all: logical == "allOf", kids: kids}, nil
		}
	}
	if hasKey(obj, "not") {
		if len(obj) != 1 {
			return nil, ruleError("the condition at '%s' has 'not' and other members.", where)
		}
		n, err := p.condition(getKey(obj, "not"), where+".not", depth+1)
		if err != nil {
			return nil, err
		}
		return &notNode{n: n}, nil
	}
	l := &leaf{}
	var opKeys []string
	for k, val := range obj {
		lk := strings.ToLower(k)
		switch lk {
		case "field":
			s, ok := val.(string)
			if !ok {
				return nil, ruleError("'field' at '%s' must be a string.", where)
			}
			l.kind, l.text = "Field", s
			if fp, ok := resolveField(s); ok {
				l.path = fp
			} else if strings.HasPrefix(s, "[") {
				t, err := p.template(s, where+".field")
				if err != nil {
					return nil, err
				}
				l.fieldExpr = &t
			} else {
				return nil, unknownAliasError(s, where)
			}
		case "value":
			t, err := p.template(val, where+".value")
			if err != nil {
				return nil, err
			}
			l.kind, l.text, l.value = "Value", toString(val), &t
		case "count":
			c, err := p.count(val, where+".count", depth)
			if err != nil {
				return nil, err
			}
			l.kind, l.count = "Count", c
			l.text = c.text
		default:
			name, ok := operators[lk]
			if !ok {
				return nil, ruleError("the condition at '%s' has an unknown operator '%s'. The supported operators are %s.", where, k, operatorList())
			}
			t, err := p.template(val, where+"."+k)
			if err != nil {
				return nil, err
			}
			l.op, l.opName, l.target = lk, name, t
			opKeys = append(opKeys, k)
		}
	}
	kinds := 0
	for _, b := range []bool{l.path.segs != nil || l.fieldExpr != nil, l.value != nil, l.count != nil} {
		if b {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, ruleError("the condition at '%s' must have exactly one of 'field', 'value' or 'count'.", where)
	}
	if len(opKeys) != 1 {
		return nil, ruleError("the condition at '%s' must have exactly one operator; it has %d.", where, len(opKeys))
	}
	if l.target.e == nil {
		switch l.op {
		case "in", "notin":
			if _, ok := l.target.raw.([]any); !ok {
				return nil, ruleError("the operator '%s' at '%s' takes an array.", opKeys[0], where)
			}
		case "exists":
			if _, ok := l.target.raw.(bool); !ok && !strings.EqualFold(toString(l.target.raw), "true") && !strings.EqualFold(toString(l.target.raw), "false") {
				return nil, ruleError("the operator 'exists' at '%s' takes true or false.", where)
			}
		}
	}
	return l, nil
}

func operatorList() string {
	names := make([]string, 0, len(operators))
	for _, n := range operators {
		names = append(names, "'"+strings.ToLower(n[:1])+n[1:]+"'")
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func unknownAliasError(field, where string) error {
	msg := fmt.Sprintf("The policy rule is invalid at '%s': the field '%s' is neither a resource property (type, name, fullName, kind, location, id, tags, tags['name'], identity.type) nor a known alias.", where, field)
	if i := strings.LastIndex(field, "/"); i > 0 {
		if known := knownAliasesFor(field[:i+1]); len(known) > 0 {
			slices.Sort(known)
			if len(known) > 8 {
				known = append(known[:8], "...")
			}
			msg += fmt.Sprintf(" Known aliases of type '%s': '%s'.", field[:i], strings.Join(known, "', '"))
		}
	}
	return arm.BadRequest(CodeInvalidPolicyAlias, "%s", msg)
}

func (p *parser) count(v any, where string, depth int) (*countNode, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, ruleError("'count' at '%s' must be an object.", where)
	}
	c := &countNode{}
	switch {
	case hasKey(obj, "field"):
		s := toString(getKey(obj, "field"))
		fp, ok := resolveField(s)
		if !ok {
			return nil, unknownAliasError(s, where)
		}
		if len(fp.segs) == 0 || !fp.segs[len(fp.segs)-1].star {
			return nil, ruleError("the count at '%s' needs an array alias ending in '[*]'; '%s' is not one.", where, s)
		}
		c.field, c.text = &fp, s
	case hasKey(obj, "value"):
		t, err := p.template(getKey(obj, "value"), where+".value")
		if err != nil {
			return nil, err
		}
		c.value, c.text = &t, toString(getKey(obj, "value"))
		c.name = toString(getKey(obj, "name"))
	default:
		return nil, ruleError("'count' at '%s' must have 'field' or 'value'.", where)
	}
	for k := range obj {
		switch strings.ToLower(k) {
		case "field", "value", "name", "where":
		default:
			return nil, ruleError("'count' at '%s' has an unknown member '%s'.", where, k)
		}
	}
	if w := getKey(obj, "where"); w != nil {
		n, err := p.condition(w, where+".where", depth+1)
		if err != nil {
			return nil, err
		}
		c.where = n
	}
	return c, nil
}

func (p *parser) fieldValue(raw any, where string) (fieldValue, error) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return fieldValue{}, ruleError("'%s' must be an object with 'field' and 'value'.", where)
	}
	f := toString(getKey(obj, "field"))
	fp, ok := resolveField(f)
	if !ok {
		return fieldValue{}, unknownAliasError(f, where)
	}
	t, err := p.template(getKey(obj, "value"), where+".value")
	if err != nil {
		return fieldValue{}, err
	}
	return fieldValue{field: f, path: fp, value: t}, nil
}

func (p *parser) appendDetails(d *Definition, details any) error {
	arr, ok := details.([]any)
	if !ok || len(arr) == 0 {
		return ruleError("the append effect needs 'then.details', a non-empty array of {field, value}.")
	}
	for i, raw := range arr {
		fv, err := p.fieldValue(raw, fmt.Sprintf("then.details[%d]", i))
		if err != nil {
			return err
		}
		d.appends = append(d.appends, fv)
	}
	return nil
}

func (p *parser) modifyDetails(d *Definition, details any) error {
	obj, ok := details.(map[string]any)
	if !ok {
		return ruleError("the modify effect needs 'then.details' with 'operations'.")
	}
	ops, ok := getKey(obj, "operations").([]any)
	if !ok || len(ops) == 0 {
		return ruleError("the modify effect needs 'then.details.operations', a non-empty array.")
	}
	for i, raw := range ops {
		where := fmt.Sprintf("then.details.operations[%d]", i)
		m, ok := raw.(map[string]any)
		if !ok {
			return ruleError("'%s' must be an object.", where)
		}
		op := toString(getKey(m, "operation"))
		var canon string
		for _, o := range []string{"addOrReplace", "add", "remove"} {
			if strings.EqualFold(o, op) {
				canon = o
			}
		}
		if canon == "" {
			return ruleError("'%s.operation' is '%s'; it must be 'addOrReplace', 'add' or 'remove'.", where, op)
		}
		mo := modifyOp{operation: canon}
		if canon == "remove" {
			f := toString(getKey(m, "field"))
			fp, ok := resolveField(f)
			if !ok {
				return unknownAliasError(f, where)
			}
			mo.fieldValue = fieldValue{field: f, path: fp}
		} else {
			fv, err := p.fieldValue(m, where)
			if err != nil {
				return err
			}
			mo.fieldValue = fv
		}
		if c := getKey(m, "condition"); c != nil {
			t, err := p.template(c, where+".condition")
			if err != nil {
				return err
			}
			mo.cond = &t
		}
		d.modifyOps = append(d.modifyOps, mo)
	}
	return nil
}

func (p *parser) relatedDetails(d *Definition, details any) error {
	obj, ok := details.(map[string]any)
	if !ok || toString(getKey(obj, "type")) == "" {
		return ruleError("the auditIfNotExists and deployIfNotExists effects need 'then.details.type'.")
	}
	r := &Related{Type: toString(getKey(obj, "type"))}
	if n := getKey(obj, "name"); n != nil {
		t, err := p.template(n, "then.details.name")
		if err != nil {
			return err
		}
		r.Name = t
	}
	if c := getKey(obj, "existenceCondition"); c != nil {
		n, err := p.condition(c, "then.details.existenceCondition", 0)
		if err != nil {
			return err
		}
		r.cond = n
	}
	d.related = r
	return nil
}
