package expr

import (
	"slices"
	"strings"
)

// lambda is lambda('a', 'b', body): a value only the lambda functions
// accept.
type lambda struct {
	params []string
	body   Expr
}

// Azure's lambda functions:
// https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-lambda
func lambdaFunctions(m map[string]Function) {
	m["lambda"] = Function{MinArgs: 2, MaxArgs: -1, Lazy: true, Call: func(c *Call) (any, error) {
		l := &lambda{body: c.exprs[len(c.exprs)-1]}
		for i := range c.Len() - 1 {
			s, err := c.String(i)
			if err != nil {
				return nil, err
			}
			l.params = append(l.params, s)
		}
		return l, nil
	}}
	m["lambdavariables"] = fn(1, 1, func(c *Call) (any, error) {
		name, err := c.String(0)
		if err != nil {
			return nil, err
		}
		for i := len(c.ev.scope) - 1; i >= 0; i-- {
			if strings.EqualFold(c.ev.scope[i].name, name) {
				return c.ev.scope[i].v, nil
			}
		}
		return nil, c.Errorf("the lambda variable '%s' is not defined here.", name)
	})
	m["filter"] = fn(2, 2, func(c *Call) (any, error) {
		a, l, err := arrayLambda(c, 1, 1, 2)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for i, e := range a {
			keep, err := c.applyBool(l, e, int64(i))
			if err != nil {
				return nil, err
			}
			if keep {
				out = append(out, e)
			}
		}
		return out, nil
	})
	m["map"] = fn(2, 2, func(c *Call) (any, error) {
		a, l, err := arrayLambda(c, 1, 1, 2)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(a))
		for i, e := range a {
			if out[i], err = c.apply(l, e, int64(i)); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
	m["reduce"] = fn(3, 3, func(c *Call) (any, error) {
		a, l, err := arrayLambda(c, 2, 2, 3)
		if err != nil {
			return nil, err
		}
		acc := c.args()[1]
		for i, e := range a {
			if acc, err = c.apply(l, acc, e, int64(i)); err != nil {
				return nil, err
			}
		}
		return acc, nil
	})
	m["sort"] = fn(2, 2, func(c *Call) (any, error) {
		a, l, err := arrayLambda(c, 1, 2, 2)
		if err != nil {
			return nil, err
		}
		out := slices.Clone(a)
		var sortErr error
		// The lambda says whether its first argument sorts before its
		// second; a stable sort keeps equal elements in order.
		slices.SortStableFunc(out, func(x, y any) int {
			if sortErr != nil {
				return 0
			}
			less, err := c.applyBool(l, x, y)
			if err != nil {
				sortErr = err
				return 0
			}
			if less {
				return -1
			}
			if more, err := c.applyBool(l, y, x); err != nil {
				sortErr = err
			} else if more {
				return 1
			}
			return 0
		})
		return out, sortErr
	})
	m["toobject"] = fn(2, 3, func(c *Call) (any, error) {
		a, keyFn, err := arrayLambda(c, 1, 1, 1)
		if err != nil {
			return nil, err
		}
		var valFn *lambda
		if c.Len() > 2 {
			if valFn, err = lambdaArg(c, 2, 1, 1); err != nil {
				return nil, err
			}
		}
		out := map[string]any{}
		for _, e := range a {
			k, err := c.apply(keyFn, e)
			if err != nil {
				return nil, err
			}
			name, ok := k.(string)
			if !ok {
				return nil, c.Errorf("the key lambda must return a string, not '%s'.", TypeName(k))
			}
			v := e
			if valFn != nil {
				if v, err = c.apply(valFn, e); err != nil {
					return nil, err
				}
			}
			out[name] = v
		}
		return out, nil
	})
	m["groupby"] = fn(2, 2, func(c *Call) (any, error) {
		a, l, err := arrayLambda(c, 1, 1, 1)
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for _, e := range a {
			k, err := c.apply(l, e)
			if err != nil {
				return nil, err
			}
			name, ok := k.(string)
			if !ok {
				return nil, c.Errorf("the lambda must return a string, not '%s'.", TypeName(k))
			}
			group, _ := out[name].([]any)
			out[name] = append(group, e)
		}
		return out, nil
	})
	m["mapvalues"] = fn(2, 2, func(c *Call) (any, error) {
		o, err := c.Object(0)
		if err != nil {
			return nil, err
		}
		l, err := lambdaArg(c, 1, 1, 1)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(o))
		for _, k := range sortedKeys(o) {
			if out[k], err = c.apply(l, o[k]); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// arrayLambda reads an array (argument 0) and the lambda at li taking
// between minP and maxP parameters.
func arrayLambda(c *Call, li, minP, maxP int) ([]any, *lambda, error) {
	a, err := c.Array(0)
	if err != nil {
		return nil, nil, err
	}
	l, err := lambdaArg(c, li, minP, maxP)
	return a, l, err
}

func lambdaArg(c *Call, i, minP, maxP int) (*lambda, error) {
	l, ok := c.args()[i].(*lambda)
	if !ok {
		return nil, c.typeErr(i, "Lambda")
	}
	if len(l.params) < minP || len(l.params) > maxP {
		return nil, c.Errorf("the lambda must take between %d and %d parameter(s), not %d.", minP, maxP, len(l.params))
	}
	return l, nil
}

// apply calls l with as many of args as it has parameters (the trailing
// index is optional for filter, map and reduce).
func (c *Call) apply(l *lambda, args ...any) (any, error) {
	if err := c.Spend(1); err != nil {
		return nil, err
	}
	ev := c.ev
	n := len(ev.scope)
	for i, p := range l.params {
		ev.scope = append(ev.scope, binding{name: p, v: args[i]})
	}
	defer func() { ev.scope = ev.scope[:n] }()
	v, err := l.body.eval(ev)
	if err != nil {
		return nil, err
	}
	if _, ok := v.(*lambda); ok {
		return nil, c.Errorf("a lambda cannot return a lambda.")
	}
	return v, nil
}

func (c *Call) applyBool(l *lambda, args ...any) (bool, error) {
	v, err := c.apply(l, args...)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, c.Errorf("the lambda must return a boolean, not '%s'.", TypeName(v))
	}
	return b, nil
}
