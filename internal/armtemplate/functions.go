package armtemplate

import (
	"strings"

	"github.com/armlet/armlet/internal/armtemplate/expr"
)

// udf is a user-defined function of a template ("functions": namespaces
// of members, as Bicep's func compiles to).
type udf struct {
	name   string
	params []string
	output any // the output's value, unevaluated
}

// maxUDFDepth bounds nested calls of user-defined functions, which Azure
// does not let recurse.
const maxUDFDepth = 32

func (t *Template) parseFunctions(m map[string]any) error {
	v, ok := expr.Key(m, "functions")
	if !ok || v == nil {
		return nil
	}
	nss, ok := v.([]any)
	if !ok {
		return Invalid("The template 'functions' must be an array")
	}
	t.udfs = map[string]udf{}
	for _, n := range nss {
		nm, _ := n.(map[string]any)
		nsv, _ := expr.Key(nm, "namespace")
		ns, _ := nsv.(string)
		membersV, _ := expr.Key(nm, "members")
		members, _ := membersV.(map[string]any)
		if ns == "" || members == nil {
			return Invalid("A template function namespace must have a 'namespace' and 'members'")
		}
		for name, f := range members {
			fm, _ := f.(map[string]any)
			full := ns + "." + name
			outV, _ := expr.Key(fm, "output")
			out, _ := outV.(map[string]any)
			value, ok := expr.Key(out, "value")
			if !ok {
				return Invalid("The template function '%s' has no output value", full)
			}
			if _, err := expr.ParseValue(value); err != nil {
				return asInvalid(err, "function '"+full+"'")
			}
			u := udf{name: full, output: value}
			psV, _ := expr.Key(fm, "parameters")
			ps, _ := psV.([]any)
			for _, p := range ps {
				pm, _ := p.(map[string]any)
				pn, _ := expr.Key(pm, "name")
				s, _ := pn.(string)
				if s == "" {
					return Invalid("A parameter of template function '%s' has no name", full)
				}
				u.params = append(u.params, s)
			}
			t.udfs[strings.ToLower(full)] = u
		}
	}
	return nil
}

// addUserFunctions adds the template's user-defined functions to fns.
// Each evaluates its output with its own arguments as parameters() and
// nothing else of the template (Azure gives them no variables, template
// parameters, reference() or list*()), only the other user-defined
// functions.
func (t *Template) addUserFunctions(fns map[string]expr.Function, scope expr.Scope) {
	depth := 0
	for key, u := range t.udfs {
		fns[key] = expr.Function{MinArgs: len(u.params), MaxArgs: len(u.params), Call: func(c *expr.Call) (any, error) {
			if depth >= maxUDFDepth {
				return nil, c.Errorf("user-defined functions nest deeper than %d calls (a function may not call itself)", maxUDFDepth)
			}
			args := map[string]any{}
			for i, p := range u.params {
				v, err := c.Arg(i)
				if err != nil {
					return nil, err
				}
				args[p] = v
			}
			depth++
			defer func() { depth-- }()
			return expr.EvaluateValue(u.output, &expr.Context{Parameters: args, Functions: fns, Scope: scope})
		}}
	}
}
