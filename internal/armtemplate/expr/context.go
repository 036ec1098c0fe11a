package expr

import (
	"io"
	"strings"
	"time"
)

// Context is what an evaluation needs from its caller. The zero Context
// evaluates the built-in functions that need nothing from the caller.
// A Context caches evaluated variables, so it must not be shared between
// goroutines that evaluate at the same time.
type Context struct {
	// Parameters are the parameter values parameters() reads, looked up
	// ignoring case. A missing name is an error.
	Parameters map[string]any
	// Variables are the variable definitions variables() reads, as they
	// are in the template: a value may hold expressions, evaluated on
	// first use and cached; a variable that needs itself is an error.
	Variables map[string]any
	// Loops are the copy loops being expanded, innermost last:
	// copyIndex() reads the innermost, copyIndex('name') the one named.
	Loops []Loop
	// Functions are the caller's functions by lower-cased name; they take
	// precedence over the built-ins (policy's parameters, field, current;
	// a deployment's reference). The entry "list*" serves every call whose
	// name starts with "list" that no other entry names.
	Functions map[string]Function
	// Scope is the deployment's scope, for resourceId() and friends.
	Scope Scope
	// ResourceGroup, Subscription, Tenant, Deployment and Environment are
	// the objects resourceGroup(), subscription(), tenant(), deployment()
	// and environment() return; nil makes the function an error (not
	// available at this scope).
	ResourceGroup, Subscription, Tenant, Deployment, Environment map[string]any
	// Now is utcNow()'s clock; nil is the system clock.
	Now func() time.Time
	// Rand is newGuid()'s random source; nil is crypto/rand.
	Rand io.Reader

	vars map[string]*varState
}

// Loop is one copy loop being expanded.
type Loop struct {
	Name  string
	Index int64
}

// Scope is where a deployment runs: resourceId() fills in the
// subscription and resource group it is not given from here.
type Scope struct {
	TenantID, SubscriptionID, ResourceGroup, ManagementGroup string
}

type varState struct {
	busy bool
	done bool
	v    any
}

// Function is a function the caller plugs in, or a built-in.
type Function struct {
	// MinArgs and MaxArgs bound the argument count; MaxArgs < 0 is no
	// upper bound. A call outside them is an error naming the function.
	MinArgs, MaxArgs int
	// Lazy leaves the arguments unevaluated until Call.Arg asks for one,
	// as if() needs: only the chosen branch is evaluated.
	Lazy bool
	// Call computes the result. Errors that are not *Error are wrapped in
	// one, keeping the original for errors.As.
	Call func(c *Call) (any, error)
}

// lookup finds a function: the caller's first, then the built-ins.
func (ctx *Context) lookup(lname string) (Function, bool) {
	if ctx != nil && ctx.Functions != nil {
		if f, ok := ctx.Functions[lname]; ok {
			return f, true
		}
	}
	if f, ok := builtins[lname]; ok {
		return f, true
	}
	if ctx != nil && ctx.Functions != nil && strings.HasPrefix(lname, "list") {
		if f, ok := ctx.Functions["list*"]; ok {
			return f, true
		}
	}
	return Function{}, false
}

// variable evaluates variable name once, detecting cycles.
func (ctx *Context) variable(ev *evaluator, name string) (any, error) {
	raw, ok := lookupFold(ctx.Variables, name)
	if !ok {
		return nil, funcErr("variables", "the variable '%s' is not defined in the template", name)
	}
	key := strings.ToLower(name)
	if ctx.vars == nil {
		ctx.vars = map[string]*varState{}
	}
	st := ctx.vars[key]
	if st == nil {
		st = &varState{}
		ctx.vars[key] = st
	}
	if st.done {
		return st.v, nil
	}
	if st.busy {
		return nil, funcErr("variables", "the variable '%s' refers to itself (a circular reference)", name)
	}
	st.busy = true
	defer func() { st.busy = false }()
	tv, err := ParseValue(raw)
	if err != nil {
		return nil, err
	}
	v, err := tv.eval(ev)
	if err != nil {
		return nil, err
	}
	st.v, st.done = v, true
	return v, nil
}

func lookupFold(m map[string]any, name string) (any, bool) {
	if m == nil {
		return nil, false
	}
	return Key(m, name)
}
