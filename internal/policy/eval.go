package policy

import (
	"fmt"
	"strings"

	"github.com/armlet/armlet/internal/armtemplate/expr"
)

// Input is what a definition is evaluated against.
type Input struct {
	// Resource is the resource's ARM JSON body: id, name, type, location,
	// kind, tags, properties and the other top-level members.
	Resource map[string]any
	// Params are the parameter values, keyed by lower-cased name, as
	// ResolveParameters returns them.
	Params map[string]any
	// APIVersion is the request's api-version (requestContext().apiVersion).
	APIVersion string
	// Normalized says Resource was returned by Normalize, so evaluations
	// need not normalize it again (one resource, many definitions).
	Normalized bool
}

// Normalize returns a copy of an ARM JSON body in the form the evaluator
// reads (numbers as float64), for Input.Normalized.
func Normalize(body map[string]any) map[string]any {
	m, _ := normalize(body).(map[string]any)
	return m
}

// Expression is one evaluated leaf condition, as Azure reports it in
// evaluationDetails.evaluatedExpressions.
type Expression struct {
	Result          string `json:"result"`
	ExpressionKind  string `json:"expressionKind"`
	Expression      string `json:"expression"`
	Path            string `json:"path,omitempty"`
	ExpressionValue any    `json:"expressionValue,omitempty"`
	TargetValue     any    `json:"targetValue"`
	Operator        string `json:"operator"`
}

type frame struct {
	prefix  []seg // count field path; nil for a value count
	name    string
	element any
}

type env struct {
	res        map[string]any
	params     map[string]any
	apiVersion string
	frames     []frame
	trace      *[]Expression
	ectx       *expr.Context // built on first use by exprContext
}

func newEnv(in Input, trace *[]Expression) *env {
	res := in.Resource
	if !in.Normalized {
		res, _ = normalize(in.Resource).(map[string]any)
	}
	return &env{res: res, params: in.Params, apiVersion: in.APIVersion, trace: trace}
}

func (en *env) param(name string) (any, bool) {
	v, ok := en.params[strings.ToLower(name)]
	return v, ok
}

func (en *env) current(name string) (any, error) {
	for i := len(en.frames) - 1; i >= 0; i-- {
		f := en.frames[i]
		if name == "" || strings.EqualFold(f.name, name) {
			return f.element, nil
		}
	}
	return nil, fmt.Errorf("current('%s') is used outside a count that names it", name)
}

// resolve reads a field: one value (nil when missing), or with star set
// every value an array path reaches.
func (en *env) resolve(fp fieldPath) ([]any, bool) {
	one, many, star := en.resolveOne(fp)
	if star {
		return many, true
	}
	return []any{one}, false
}

// resolveOne is resolve without allocating for paths without "[*]".
func (en *env) resolveOne(fp fieldPath) (one any, many []any, star bool) {
	root, segs := any(en.res), fp.segs
	for i := len(en.frames) - 1; i >= 0; i-- {
		f := en.frames[i]
		if f.prefix != nil && hasPrefix(fp.segs, f.prefix) {
			root, segs = f.element, fp.segs[len(f.prefix):]
			break
		}
	}
	if hasStar(segs) {
		return nil, walk(root, segs), true
	}
	for _, s := range segs {
		obj, ok := root.(map[string]any)
		if !ok {
			return nil, nil, false
		}
		root = getKey(obj, s.name)
	}
	return root, nil, false
}

func hasPrefix(segs, prefix []seg) bool {
	if len(segs) < len(prefix) {
		return false
	}
	for i, p := range prefix {
		if !strings.EqualFold(segs[i].name, p.name) || segs[i].star != p.star {
			return false
		}
	}
	return true
}

func hasStar(segs []seg) bool {
	for _, s := range segs {
		if s.star {
			return true
		}
	}
	return false
}

func walk(v any, segs []seg) []any {
	if len(segs) == 0 {
		return []any{v}
	}
	s := segs[0]
	obj, _ := v.(map[string]any)
	var next any
	if obj != nil {
		next = getKey(obj, s.name)
	}
	if !s.star {
		if obj == nil && hasStar(segs) {
			return nil
		}
		return walk(next, segs[1:])
	}
	arr, _ := next.([]any)
	var out []any
	for _, e := range arr {
		out = append(out, walk(e, segs[1:])...)
	}
	return out
}

type node interface {
	eval(en *env) (bool, error)
}

type logicalNode struct {
	all  bool
	kids []node
}

func (l *logicalNode) eval(en *env) (bool, error) {
	for _, k := range l.kids {
		r, err := k.eval(en)
		if err != nil {
			return false, err
		}
		if r != l.all {
			return r, nil
		}
	}
	return l.all, nil
}

type notNode struct{ n node }

func (n *notNode) eval(en *env) (bool, error) {
	r, err := n.n.eval(en)
	return !r, err
}

type countNode struct {
	text  string
	field *fieldPath
	value *template
	name  string
	where node
}

func (c *countNode) eval(en *env) (float64, error) {
	var elems []any
	var prefix []seg
	if c.field != nil {
		arrPath := append([]seg(nil), c.field.segs...)
		arrPath[len(arrPath)-1].star = false
		vals, _ := en.resolve(fieldPath{segs: arrPath})
		for _, v := range vals {
			if arr, ok := v.([]any); ok {
				elems = append(elems, arr...)
			}
		}
		prefix = c.field.segs
	} else {
		v, err := c.value.value(en)
		if err != nil {
			return 0, err
		}
		switch x := normalize(v).(type) {
		case []any:
			elems = x
		case nil:
		default:
			return 0, fmt.Errorf("the count value '%s' is a %s, not an array", c.text, kindOf(x))
		}
	}
	if c.where == nil {
		return float64(len(elems)), nil
	}
	n := 0
	saved := en.trace
	en.trace = nil // conditions inside where are not reported one by one
	defer func() { en.trace = saved }()
	for _, e := range elems {
		en.frames = append(en.frames, frame{prefix: prefix, name: c.name, element: e})
		r, err := c.where.eval(en)
		en.frames = en.frames[:len(en.frames)-1]
		if err != nil {
			return 0, err
		}
		if r {
			n++
		}
	}
	return float64(n), nil
}

type leaf struct {
	kind      string // Field, Value, Count
	text      string
	path      fieldPath
	fieldExpr *template
	value     *template
	count     *countNode
	op        string
	opName    string
	target    template
}

// Choice: a field condition on an array alias ("[*]") outside a count is
// true when every member satisfies it, and true for an empty array
// (Azure documents the first; the empty case is armlet's reading).
func (l *leaf) eval(en *env) (bool, error) {
	target, err := l.target.value(en)
	if err != nil {
		return false, err
	}
	if l.target.e != nil {
		target = normalize(target)
	}
	var lhs any
	var result bool
	switch {
	case l.count != nil:
		n, err := l.count.eval(en)
		if err != nil {
			return false, err
		}
		lhs = n
		result = apply(l.op, n, target)
	case l.value != nil:
		v, err := l.value.value(en)
		if err != nil {
			return false, err
		}
		lhs = normalize(v)
		result = apply(l.op, lhs, target)
	default:
		fp := l.path
		if l.fieldExpr != nil {
			v, err := l.fieldExpr.value(en)
			if err != nil {
				return false, err
			}
			p, ok := resolveField(toString(v))
			if !ok {
				return false, &unknownAlias{field: toString(v)}
			}
			fp = p
		}
		one, vals, star := en.resolveOne(fp)
		if star {
			lhs = vals
			result = true
			for _, v := range vals {
				if !apply(l.op, v, target) {
					result = false
					break
				}
			}
		} else {
			lhs = one
			result = apply(l.op, lhs, target)
		}
	}
	if en.trace != nil {
		r := "False"
		if result {
			r = "True"
		}
		*en.trace = append(*en.trace, Expression{
			Result: r, ExpressionKind: l.kind, Expression: l.text, Path: l.path.text,
			ExpressionValue: lhs, TargetValue: target, Operator: l.opName,
		})
	}
	return result, nil
}

// apply evaluates one operator.
func apply(op string, lhs, target any) bool {
	switch op {
	case "equals":
		return equalValues(lhs, target)
	case "notequals":
		return !equalValues(lhs, target)
	case "like":
		s, ok := lhs.(string)
		return ok && likeMatch(s, toString(target))
	case "notlike":
		s, ok := lhs.(string)
		return !ok || !likeMatch(s, toString(target))
	case "match", "matchinsensitively":
		s, ok := lhs.(string)
		return ok && matchPattern(s, toString(target), op == "matchinsensitively")
	case "notmatch", "notmatchinsensitively":
		s, ok := lhs.(string)
		return !ok || !matchPattern(s, toString(target), op == "notmatchinsensitively")
	case "contains":
		return lhs != nil && containsValue(lhs, target)
	case "notcontains":
		return lhs == nil || !containsValue(lhs, target)
	case "in", "notin":
		arr, _ := target.([]any)
		in := false
		for _, a := range arr {
			if equalValues(lhs, a) {
				in = true
				break
			}
		}
		return in == (op == "in")
	case "containskey":
		obj, ok := lhs.(map[string]any)
		return ok && hasKey(obj, toString(target))
	case "notcontainskey":
		obj, ok := lhs.(map[string]any)
		return !ok || !hasKey(obj, toString(target))
	case "less", "lessorequals", "greater", "greaterorequals":
		c, ok := compareValues(lhs, target)
		if !ok {
			return false
		}
		switch op {
		case "less":
			return c < 0
		case "lessorequals":
			return c <= 0
		case "greater":
			return c > 0
		}
		return c >= 0
	case "exists":
		want := equalValues(target, true)
		return (lhs != nil) == want
	}
	return false
}

// Match evaluates the rule's "if" against in. expressions are the leaf
// conditions evaluated, in order.
func (d *Definition) Match(in Input) (match bool, expressions []Expression, err error) {
	trace := make([]Expression, 0, 4)
	en := newEnv(in, &trace)
	match, err = d.cond.eval(en)
	if err != nil {
		return false, trace, err
	}
	return match, trace, nil
}

// Effect returns the effect for the given parameter values.
func (d *Definition) Effect(params map[string]any) (string, error) {
	v, err := d.effect.value(&env{params: params})
	if err != nil {
		return "", err
	}
	e, ok := canonicalEffect(toString(v))
	if !ok {
		return "", fmt.Errorf("the effect '%s' is not valid", toString(v))
	}
	return e, nil
}

// Change is one change append or modify made to a resource.
type Change struct {
	Operation string `json:"operation"`
	Field     string `json:"field"`
	Value     any    `json:"value,omitempty"`
}

// Choice: "add" leaves a property or tag that already has a value
// unchanged (addOrReplace replaces it); append sets a missing property,
// leaves one that is set, and adds to an array alias ("[*]").
//
// Mutate applies the definition's append or modify details to
// in.Resource, in place, and returns the changes made. Operations whose
// condition is false are skipped.
func (d *Definition) Mutate(effect string, in Input) ([]Change, error) {
	en := newEnv(in, nil)
	en.res = in.Resource // mutate the caller's map
	var changes []Change
	switch effect {
	case EffectAppend:
		for _, a := range d.appends {
			v, err := a.value.value(en)
			if err != nil {
				return nil, err
			}
			if set(in.Resource, a.path.segs, v, "append") {
				changes = append(changes, Change{Operation: "append", Field: a.field, Value: v})
			}
		}
	case EffectModify:
		for _, op := range d.modifyOps {
			if op.cond != nil {
				c, err := op.cond.value(en)
				if err != nil {
					return nil, err
				}
				if b, _ := c.(bool); !b {
					continue
				}
			}
			var v any
			if op.operation != "remove" {
				var err error
				if v, err = op.value.value(en); err != nil {
					return nil, err
				}
			}
			if set(in.Resource, op.path.segs, v, op.operation) {
				changes = append(changes, Change{Operation: op.operation, Field: op.field, Value: v})
			}
		}
	}
	return changes, nil
}

// set changes the member at segs; it reports whether anything changed.
func set(obj map[string]any, segs []seg, v any, mode string) bool {
	for i, s := range segs {
		key := s.name
		for k := range obj {
			if strings.EqualFold(k, s.name) {
				key = k
				break
			}
		}
		last := i == len(segs)-1
		if s.star {
			if !last || mode == "remove" {
				return false // changes inside array members are not supported
			}
			arr, _ := obj[key].([]any)
			if add, ok := v.([]any); ok {
				arr = append(arr, add...)
			} else {
				arr = append(arr, v)
			}
			obj[key] = arr
			return true
		}
		if last {
			cur, exists := obj[key]
			switch mode {
			case "remove":
				if !exists {
					return false
				}
				delete(obj, key)
				return true
			case "add", "append":
				if exists && cur != nil {
					return false
				}
			}
			if exists && equalValues(cur, v) {
				return false
			}
			obj[key] = v
			return true
		}
		next, ok := obj[key].(map[string]any)
		if !ok {
			if mode == "remove" {
				return false
			}
			next = map[string]any{}
			obj[key] = next
		}
		obj = next
	}
	return false
}

// Related returns the related-resource details of an auditIfNotExists
// definition, or nil.
func (d *Definition) Related() *Related { return d.related }

// NameOf evaluates the related resource's name, "" when not given.
func (r *Related) NameOf(in Input) (string, error) {
	if r.Name.raw == nil {
		return "", nil
	}
	v, err := r.Name.value(newEnv(in, nil))
	return toString(v), err
}

// Satisfies reports whether a related resource (its ARM body) meets the
// existence condition, which may use field() of the evaluated resource
// through in.
func (r *Related) Satisfies(related map[string]any, in Input) (bool, error) {
	if r.cond == nil {
		return true, nil
	}
	en := newEnv(Input{Resource: related, Params: in.Params, APIVersion: in.APIVersion}, nil)
	return r.cond.eval(en)
}
