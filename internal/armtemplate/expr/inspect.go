package expr

// Calls calls fn for every function call in e, outer calls first, with
// the name as written and the argument expressions; an error from fn
// stops the walk and is returned.
func Calls(e Expr, fn func(name string, args []Expr) error) error {
	switch x := e.(type) {
	case *call:
		if err := fn(x.name, x.args); err != nil {
			return err
		}
		for _, a := range x.args {
			if err := Calls(a, fn); err != nil {
				return err
			}
		}
	case *member:
		return Calls(x.x, fn)
	case *index:
		if err := Calls(x.x, fn); err != nil {
			return err
		}
		return Calls(x.i, fn)
	}
	return nil
}

// Literal returns e's value when e is a string or integer literal.
func Literal(e Expr) (any, bool) {
	l, ok := e.(*literal)
	if !ok {
		return nil, false
	}
	return l.v, true
}

// Check reports, before any evaluation, a call of a function that does
// not exist or with an argument count it does not take: the errors
// evaluation would give. ctx supplies the caller's functions (nil: the
// built-ins only).
func Check(e Expr, ctx *Context) error {
	err := Calls(e, func(name string, args []Expr) error {
		f, ok := ctx.lookup(lower(name))
		if !ok {
			return unknownFunc(name)
		}
		return checkArity(name, f, len(args))
	})
	if err != nil {
		return withExpr(err, e.String())
	}
	return nil
}

// AsCall returns the function name (as written) and argument expressions
// when e is a function call with nothing read from its result.
func AsCall(e Expr) (name string, args []Expr, ok bool) {
	c, ok := e.(*call)
	if !ok {
		return "", nil, false
	}
	return c.name, c.args, true
}
