package expr

import (
	"fmt"
	"strings"
)

// Budget bounds one evaluation's work, so a hostile expression returns an
// error instead of allocating gigabytes or spinning: every array element,
// object member and string byte a function produces is charged.
const Budget = 1 << 22

// MaxStringLength is the longest string a function may produce.
const MaxStringLength = 1 << 20

// Eval evaluates e with ctx (nil: a zero Context).
func Eval(e Expr, ctx *Context) (any, error) {
	if ctx == nil {
		ctx = &Context{}
	}
	ev := &evaluator{ctx: ctx, budget: Budget}
	v, err := e.eval(ev)
	if err != nil {
		return nil, withExpr(err, e.String())
	}
	if _, ok := v.(*lambda); ok {
		return nil, withExpr(evalErr("a lambda can only be an argument of filter, map, reduce, sort, toObject, groupBy or mapValues"), e.String())
	}
	return v, nil
}

// EvalString parses and evaluates expression text (without brackets).
func EvalString(text string, ctx *Context) (any, error) {
	e, err := Parse(text)
	if err != nil {
		return nil, err
	}
	return Eval(e, ctx)
}

// evaluator is one evaluation's state: the context, lambda variables in
// scope (innermost last) and the remaining budget.
type evaluator struct {
	ctx    *Context
	scope  []binding
	budget int
}

type binding struct {
	name string
	v    any
}

// spend charges n units of work.
func (ev *evaluator) spend(n int) error {
	if n < 0 || n > ev.budget {
		ev.budget = 0
		return evalErr("the expression needs more work than an evaluation allows (%d units)", Budget)
	}
	ev.budget -= n
	return nil
}

func (l *literal) eval(*evaluator) (any, error) { return l.v, nil }

func (m *member) eval(ev *evaluator) (any, error) {
	v, err := m.x.eval(ev)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, evalErr("The language expression property '%s' can't be evaluated: a %s has no properties.", m.name, TypeName(v))
	}
	r, ok := Key(obj, m.name)
	if !ok {
		return nil, evalErr("The language expression property '%s' doesn't exist, available properties are '%s'.", m.name, strings.Join(sortedKeys(obj), ", "))
	}
	return r, nil
}

func (x *index) eval(ev *evaluator) (any, error) {
	v, err := x.x.eval(ev)
	if err != nil {
		return nil, err
	}
	i, err := x.i.eval(ev)
	if err != nil {
		return nil, err
	}
	switch c := v.(type) {
	case map[string]any:
		name, ok := i.(string)
		if !ok {
			return nil, evalErr("an object's property must be selected with a string, not a %s", TypeName(i))
		}
		r, ok := Key(c, name)
		if !ok {
			return nil, evalErr("The language expression property '%s' doesn't exist, available properties are '%s'.", name, strings.Join(sortedKeys(c), ", "))
		}
		return r, nil
	case []any:
		n, ok := asInt(i)
		if !ok {
			return nil, evalErr("an array's element must be selected with an integer, not a %s", TypeName(i))
		}
		if n < 0 || n >= int64(len(c)) {
			return nil, evalErr("The language expression property array index '%d' is out of bounds.", n)
		}
		return c[n], nil
	}
	return nil, evalErr("a %s cannot be indexed", TypeName(v))
}

func (c *call) eval(ev *evaluator) (any, error) {
	f, ok := ev.ctx.lookup(c.lname)
	if !ok {
		return nil, unknownFunc(c.name)
	}
	if err := checkArity(c.name, f, len(c.args)); err != nil {
		return nil, err
	}
	cl := &Call{Name: c.name, ev: ev, exprs: c.args, vals: make([]any, len(c.args)), done: make([]bool, len(c.args))}
	if !f.Lazy {
		for i := range c.args {
			if _, err := cl.Arg(i); err != nil {
				return nil, err
			}
		}
	}
	v, err := f.Call(cl)
	if err != nil {
		e := AsError(err)
		if e.Function == "" && e.Err != nil {
			// A caller's plain error: give it Azure's function prefix.
			e = &Error{Pos: -1, Function: c.lname, Message: fmt.Sprintf("Unable to evaluate template language function '%s': %s", c.name, err), Err: err}
		}
		return nil, e
	}
	return v, nil
}

func checkArity(name string, f Function, n int) error {
	if n >= f.MinArgs && (f.MaxArgs < 0 || n <= f.MaxArgs) {
		return nil
	}
	var want string
	switch {
	case f.MaxArgs == f.MinArgs:
		want = fmt.Sprintf("%d", f.MinArgs)
	case f.MaxArgs < 0:
		want = fmt.Sprintf("at least %d", f.MinArgs)
	default:
		want = fmt.Sprintf("between %d and %d", f.MinArgs, f.MaxArgs)
	}
	return funcErr(strings.ToLower(name), "the function requires %s argument(s) while %d were provided. Please see https://aka.ms/arm-functions for usage details.", want, n)
}

// Call is one call of a Function: its arguments and the evaluation it is
// part of.
type Call struct {
	// Name is the function's name as written in the expression.
	Name  string
	ev    *evaluator
	exprs []Expr
	vals  []any
	done  []bool
}

// Len is the number of arguments.
func (c *Call) Len() int { return len(c.exprs) }

// Arg evaluates argument i (once; later calls return the same value).
func (c *Call) Arg(i int) (any, error) {
	if c.done[i] {
		return c.vals[i], nil
	}
	v, err := c.exprs[i].eval(c.ev)
	if err != nil {
		return nil, err
	}
	c.vals[i], c.done[i] = v, true
	return v, nil
}

// Context is the evaluation's context.
func (c *Call) Context() *Context { return c.ev.ctx }

// Errorf is an *Error in Azure's style naming the function.
func (c *Call) Errorf(format string, args ...any) error {
	return funcErr(c.Name, format, args...)
}

// Spend charges n units against the evaluation's budget, for caller
// functions that build large values.
func (c *Call) Spend(n int) error { return c.ev.spend(n) }

// args returns every argument evaluated (eager functions have them all).
func (c *Call) args() []any { return c.vals }

// ordinals name arguments in messages as Azure's do.
var ordinals = []string{"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"}

func ordinal(i int) string {
	if i < len(ordinals) {
		return ordinals[i]
	}
	return fmt.Sprintf("%dth", i+1)
}

// typeErr is the error for argument i of the wrong type.
func (c *Call) typeErr(i int, want string) error {
	return c.Errorf("the %s argument must be of type '%s', not '%s'.", ordinal(i), want, TypeName(c.vals[i]))
}

// String returns argument i, which must be a string.
func (c *Call) String(i int) (string, error) {
	v, err := c.Arg(i)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", c.typeErr(i, "String")
	}
	return s, nil
}

// Int returns argument i, which must be an integer.
func (c *Call) Int(i int) (int64, error) {
	v, err := c.Arg(i)
	if err != nil {
		return 0, err
	}
	n, ok := asInt(v)
	if !ok {
		return 0, c.typeErr(i, "Integer")
	}
	return n, nil
}

// Bool returns argument i, which must be a boolean.
func (c *Call) Bool(i int) (bool, error) {
	v, err := c.Arg(i)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, c.typeErr(i, "Boolean")
	}
	return b, nil
}

// Array returns argument i, which must be an array.
func (c *Call) Array(i int) ([]any, error) {
	v, err := c.Arg(i)
	if err != nil {
		return nil, err
	}
	a, ok := v.([]any)
	if !ok {
		return nil, c.typeErr(i, "Array")
	}
	return a, nil
}

// Object returns argument i, which must be an object.
func (c *Call) Object(i int) (map[string]any, error) {
	v, err := c.Arg(i)
	if err != nil {
		return nil, err
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, c.typeErr(i, "Object")
	}
	return o, nil
}

// strings returns every argument, each of which must be a string.
func (c *Call) strings() ([]string, error) {
	out := make([]string, c.Len())
	for i := range out {
		s, err := c.String(i)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// result charges a string result against the budget and length limit.
func (c *Call) result(s string) (any, error) {
	if len(s) > MaxStringLength {
		return nil, c.Errorf("the result would be longer than %d characters.", MaxStringLength)
	}
	if err := c.Spend(len(s)); err != nil {
		return nil, err
	}
	return s, nil
}
