package expr

import (
	"strconv"
	"strings"
)

// Tree is a JSON value whose strings and property names may hold
// expressions, parsed once and evaluable many times (a resource body in
// a copy loop).
type Tree struct {
	n node
}

// node is one parsed JSON value.
type node interface {
	eval(ev *evaluator, path string) (any, error)
}

type litNode struct{ v any }

type exprNode struct {
	e    Expr
	text string
}

type arrayNode []node

type objectNode []memberNode

type memberNode struct {
	key node // a *litNode with a string, or an *exprNode
	val node
}

// IsExpression reports whether s is an expression string: it starts with
// "[" and ends with "]", and does not start with "[[" (an escaped literal
// whose value is s without its first "[").
func IsExpression(s string) bool {
	return len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' && s[1] != '['
}

// ParseValue parses every expression in v, a JSON value: strings and
// object member names that are expressions (see IsExpression), in nested
// arrays and objects too. Other values are literals, normalized (see
// Normalize); "[[...]" strings (escaped literals) lose their first "[".
func ParseValue(v any) (*Tree, error) {
	n, err := parseNode(v, "")
	if err != nil {
		return nil, err
	}
	return &Tree{n: n}, nil
}

func parseNode(v any, path string) (node, error) {
	switch x := v.(type) {
	case string:
		return parseString(x, path)
	case []string, map[string]string:
		return parseNode(Normalize(x), path)
	case []any:
		out := make(arrayNode, len(x))
		allLit := true
		for i, e := range x {
			n, err := parseNode(e, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			out[i] = n
			_, lit := n.(*litNode)
			allLit = allLit && lit
		}
		if allLit {
			lits := make([]any, len(out))
			for i, n := range out {
				lits[i] = n.(*litNode).v
			}
			return &litNode{v: lits}, nil
		}
		return out, nil
	case map[string]any:
		out := make(objectNode, 0, len(x))
		allLit := true
		for _, k := range sortedKeys(x) {
			p := joinPath(path, k)
			kn, err := parseString(k, p)
			if err != nil {
				return nil, err
			}
			vn, err := parseNode(x[k], p)
			if err != nil {
				return nil, err
			}
			_, kl := kn.(*litNode)
			_, vl := vn.(*litNode)
			allLit = allLit && kl && vl
			out = append(out, memberNode{key: kn, val: vn})
		}
		if allLit {
			return &litNode{v: literalObject(out)}, nil
		}
		return out, nil
	}
	return &litNode{v: Normalize(v)}, nil
}

// literalObject rebuilds an object whose members are all literal (member
// names may have lost a "[" escape).
func literalObject(ms objectNode) map[string]any {
	m := make(map[string]any, len(ms))
	for _, mb := range ms {
		m[mb.key.(*litNode).v.(string)] = mb.val.(*litNode).v
	}
	return m
}

func parseString(s, path string) (node, error) {
	if strings.HasPrefix(s, "[[") && strings.HasSuffix(s, "]") {
		return &litNode{v: s[1:]}, nil
	}
	if !IsExpression(s) {
		return &litNode{v: s}, nil
	}
	text := s[1 : len(s)-1]
	e, err := Parse(text)
	if err != nil {
		pe := *err.(*Error)
		pe.Path = path
		return nil, &pe
	}
	return &exprNode{e: e, text: text}, nil
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// Eval evaluates every expression in the tree with ctx (nil: a zero
// Context). Errors are *Error with Path set to the member at fault.
func (t *Tree) Eval(ctx *Context) (any, error) {
	if ctx == nil {
		ctx = &Context{}
	}
	return t.eval(&evaluator{ctx: ctx, budget: Budget})
}

func (t *Tree) eval(ev *evaluator) (any, error) { return t.n.eval(ev, "") }

// IsLiteral reports whether the tree holds no expression.
func (t *Tree) IsLiteral() bool {
	_, ok := t.n.(*litNode)
	return ok
}

// Expr returns the tree's expression when the whole value is one
// expression string.
func (t *Tree) Expr() (Expr, bool) {
	e, ok := t.n.(*exprNode)
	if !ok {
		return nil, false
	}
	return e.e, true
}

// Walk calls fn for every expression in the tree.
func (t *Tree) Walk(fn func(e Expr) error) error { return walkNode(t.n, fn) }

func walkNode(n node, fn func(Expr) error) error {
	switch x := n.(type) {
	case *exprNode:
		return fn(x.e)
	case arrayNode:
		for _, e := range x {
			if err := walkNode(e, fn); err != nil {
				return err
			}
		}
	case objectNode:
		for _, m := range x {
			if err := walkNode(m.key, fn); err != nil {
				return err
			}
			if err := walkNode(m.val, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// EvaluateValue parses and evaluates every expression in v (see
// ParseValue and Tree.Eval).
func EvaluateValue(v any, ctx *Context) (any, error) {
	t, err := ParseValue(v)
	if err != nil {
		return nil, err
	}
	return t.Eval(ctx)
}

func (l *litNode) eval(*evaluator, string) (any, error) { return l.v, nil }

func (x *exprNode) eval(ev *evaluator, path string) (any, error) {
	v, err := x.e.eval(ev)
	if err == nil {
		if _, ok := v.(*lambda); ok {
			err = evalErr("a lambda can only be an argument of filter, map, reduce, sort, toObject, groupBy or mapValues")
		}
	}
	if err != nil {
		e := *AsError(withExpr(err, x.text).(*Error))
		if e.Path == "" {
			e.Path = path
		}
		return nil, &e
	}
	return v, nil
}

func (a arrayNode) eval(ev *evaluator, path string) (any, error) {
	out := make([]any, len(a))
	for i, n := range a {
		v, err := n.eval(ev, path+"["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (o objectNode) eval(ev *evaluator, path string) (any, error) {
	out := make(map[string]any, len(o))
	for _, m := range o {
		k, err := m.key.eval(ev, path)
		if err != nil {
			return nil, err
		}
		name, ok := k.(string)
		if !ok {
			return nil, &Error{Pos: -1, Path: path, Message: "a property name expression must evaluate to a string, not a " + TypeName(k)}
		}
		p := joinPath(path, name)
		v, err := m.val.eval(ev, p)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}
