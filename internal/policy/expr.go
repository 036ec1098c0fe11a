package policy

import (
	"fmt"
	"strings"

	"github.com/armlet/armlet/internal/armtemplate/expr"
)

// template is a string value that may hold a template language
// expression (see expr.IsExpression); "[[" escapes a literal "[".
type template struct {
	raw any
	e   expr.Expr // nil for a literal
}

// policyFunctions are the functions policy adds to the template
// language, for checking rules before evaluation (the evaluating ones are
// bound to an env: env.exprContext).
var policyFunctions = &expr.Context{Functions: map[string]expr.Function{
	"parameters": {MinArgs: 1, MaxArgs: 1}, "field": {MinArgs: 1, MaxArgs: 1},
	"current": {MinArgs: 0, MaxArgs: 1}, "requestcontext": {MinArgs: 0, MaxArgs: 0},
}}

// parseTemplate parses v when it is an expression string; other values
// are literals. params says which parameters exist (nil: do not check).
func parseTemplate(v any, params map[string]Parameter) (template, error) {
	s, ok := v.(string)
	if !ok || len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return template{raw: normalize(v)}, nil
	}
	if strings.HasPrefix(s, "[[") {
		return template{raw: s[1:]}, nil
	}
	e, err := expr.Parse(s[1 : len(s)-1])
	if err != nil {
		return template{}, err
	}
	if err := checkExpr(e, params); err != nil {
		return template{}, err
	}
	return template{raw: v, e: e}, nil
}

// checkExpr checks function names and argument counts, and that literal
// parameter names are declared and literal field names are aliases.
func checkExpr(e expr.Expr, params map[string]Parameter) error {
	if err := expr.Check(e, policyFunctions); err != nil {
		return err
	}
	return expr.Calls(e, func(name string, args []expr.Expr) error {
		if len(args) == 0 {
			return nil
		}
		lit, ok := expr.Literal(args[0])
		s, isStr := lit.(string)
		if !ok || !isStr {
			return nil
		}
		switch strings.ToLower(name) {
		case "parameters":
			if _, ok := lookupParam(params, s); !ok && params != nil {
				return &undefinedParam{name: s}
			}
		case "field":
			if _, ok := resolveField(s); !ok {
				return &unknownAlias{field: s}
			}
		}
		return nil
	})
}

type undefinedParam struct{ name string }

func (u *undefinedParam) Error() string {
	return fmt.Sprintf("the parameter '%s' is not defined in the policy definition", u.name)
}

type unknownAlias struct{ field string }

func (u *unknownAlias) Error() string {
	return fmt.Sprintf("the field '%s' is not a known alias", u.field)
}

func lookupParam(params map[string]Parameter, name string) (Parameter, bool) {
	if p, ok := params[name]; ok {
		return p, true
	}
	for k, p := range params {
		if strings.EqualFold(k, name) {
			return p, true
		}
	}
	return Parameter{}, false
}

// exprContext is the template language context of en: policy's
// functions bound to the resource, parameters and count frames.
func (en *env) exprContext() *expr.Context {
	if en.ectx != nil {
		return en.ectx
	}
	en.ectx = &expr.Context{Functions: map[string]expr.Function{
		"parameters": {MinArgs: 1, MaxArgs: 1, Call: func(c *expr.Call) (any, error) {
			name, err := c.String(0)
			if err != nil {
				return nil, err
			}
			v, ok := en.param(name)
			if !ok {
				return nil, c.Errorf("the parameter '%s' has no value.", name)
			}
			return v, nil
		}},
		"field": {MinArgs: 1, MaxArgs: 1, Call: func(c *expr.Call) (any, error) {
			name, err := c.String(0)
			if err != nil {
				return nil, err
			}
			fp, ok := resolveField(name)
			if !ok {
				return nil, &unknownAlias{field: name}
			}
			vals, star := en.resolve(fp)
			if star {
				return vals, nil
			}
			return vals[0], nil
		}},
		"current": {MinArgs: 0, MaxArgs: 1, Call: func(c *expr.Call) (any, error) {
			name := ""
			if c.Len() > 0 {
				var err error
				if name, err = c.String(0); err != nil {
					return nil, err
				}
			}
			return en.current(name)
		}},
		"requestcontext": {MinArgs: 0, MaxArgs: 0, Call: func(*expr.Call) (any, error) {
			return map[string]any{"apiVersion": en.apiVersion}, nil
		}},
	}}
	return en.ectx
}

// value evaluates t; numbers come back in policy's float64 form.
func (t template) value(en *env) (any, error) {
	if t.e == nil {
		return t.raw, nil
	}
	v, err := expr.Eval(t.e, en.exprContext())
	if err != nil {
		return nil, err
	}
	return normalize(v), nil
}
