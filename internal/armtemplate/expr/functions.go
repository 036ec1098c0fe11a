package expr

// builtins are the built-in functions by lower-cased name. Built once by
// init and never changed: callers add functions through Context.
var builtins map[string]Function

func init() {
	builtins = map[string]Function{}
	for _, register := range []func(map[string]Function){
		stringFunctions, arrayFunctions, objectFunctions, logicFunctions,
		numericFunctions, dateFunctions, cidrFunctions, lambdaFunctions,
		deploymentFunctions,
	} {
		register(builtins)
	}
}

// fn is an eager Function.
func fn(minArgs, maxArgs int, call func(c *Call) (any, error)) Function {
	return Function{MinArgs: minArgs, MaxArgs: maxArgs, Call: call}
}

// Builtin reports whether name (any case) is a built-in function.
func Builtin(name string) bool {
	_, ok := builtins[lower(name)]
	return ok
}
