// Package armtemplate evaluates ARM deployment templates: it checks a
// template and its parameters, expands its resources (copy loops,
// conditions, nested child resources) into a plan of steps in dependency
// order, and evaluates each step's body and the outputs when the
// deployment reaches them, with the expression language of package expr.
//
// It knows nothing of how resources are made: the deployments provider
// runs the plan, and plugs in what evaluation needs from the live system
// (reference(), list*(), resourceGroup()) through Env.
package armtemplate

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/armtemplate/expr"
)

// Azure's template limits
// (https://learn.microsoft.com/azure/azure-resource-manager/templates/best-practices#template-limits).
const (
	MaxParameters = 256
	MaxVariables  = 256
	MaxResources  = 800
	MaxOutputs    = 64
)

// CodeInvalidTemplate is ARM's error code for a template or parameters
// that cannot be deployed.
const CodeInvalidTemplate = "InvalidTemplate"

// Template is a parsed deployment template.
type Template struct {
	// Raw is the template as sent, normalized (expr.Normalize).
	Raw map[string]any
	// Parameters are the declared parameters, in declaration order.
	Parameters []*Parameter
	// Variables are the variable definitions, unevaluated; a "copy"
	// member is expanded into variables by Bind.
	Variables map[string]any
	resources []map[string]any
	// symbolic is true for languageVersion 2.0 templates, whose resources
	// are an object keyed by symbolic name.
	symbolic bool
	names    []string // symbolic names, in order, when symbolic
	outputs  map[string]map[string]any
	// udfs are the user-defined functions by lower-cased
	// "namespace.name".
	udfs map[string]udf
}

// templateMembers are the top-level members a template may have.
var templateMembers = map[string]bool{
	"$schema": true, "contentversion": true, "apiprofile": true, "parameters": true, "variables": true,
	"functions": true, "resources": true, "outputs": true, "metadata": true, "definitions": true,
	"languageversion": true,
}

// Invalid returns ARM's 400 InvalidTemplate error with the message Azure
// wraps validation failures in.
func Invalid(format string, args ...any) *arm.Error {
	return arm.Errorf(http.StatusBadRequest, CodeInvalidTemplate,
		"Deployment template validation failed: '%s'.", fmt.Sprintf(format, args...))
}

// Parse checks the structure of a template, a decoded JSON object.
func Parse(raw any) (*Template, error) {
	m, ok := expr.Normalize(raw).(map[string]any)
	if !ok {
		return nil, arm.Errorf(http.StatusBadRequest, CodeInvalidTemplate,
			"The template must be a JSON object, not %s.", expr.TypeName(raw))
	}
	t := &Template{Raw: m, Variables: map[string]any{}, outputs: map[string]map[string]any{}}
	for k := range m {
		if !templateMembers[strings.ToLower(k)] {
			return nil, arm.Errorf(http.StatusBadRequest, CodeInvalidTemplate,
				"Could not find member '%s' on object of type 'Template'. Path '%s'.", k, k)
		}
	}
	if err := t.parseFunctions(m); err != nil {
		return nil, err
	}
	if err := t.parseParameters(m); err != nil {
		return nil, err
	}
	if v, ok := expr.Key(m, "variables"); ok && v != nil {
		vars, ok := v.(map[string]any)
		if !ok {
			return nil, Invalid("The template 'variables' must be an object")
		}
		if len(vars) > MaxVariables {
			return nil, Invalid("The number of template variables '%d' exceeds the limit of '%d'", len(vars), MaxVariables)
		}
		t.Variables = vars
	}
	if err := t.parseResources(m); err != nil {
		return nil, err
	}
	if v, ok := expr.Key(m, "outputs"); ok && v != nil {
		outs, ok := v.(map[string]any)
		if !ok {
			return nil, Invalid("The template 'outputs' must be an object")
		}
		if len(outs) > MaxOutputs {
			return nil, Invalid("The number of template outputs '%d' exceeds the limit of '%d'", len(outs), MaxOutputs)
		}
		for name, o := range outs {
			om, ok := o.(map[string]any)
			if !ok {
				return nil, Invalid("The template output '%s' must be an object", name)
			}
			if _, ok := expr.Key(om, "type"); !ok {
				return nil, Invalid("The template output '%s' has no 'type'", name)
			}
			t.outputs[name] = om
		}
	}
	return t, nil
}

// parseResources reads the resources member: an array, or in
// languageVersion 2.0 an object keyed by symbolic name.
func (t *Template) parseResources(m map[string]any) error {
	v, _ := expr.Key(m, "resources")
	switch rs := v.(type) {
	case nil:
	case []any:
		for i, r := range rs {
			rm, ok := r.(map[string]any)
			if !ok {
				return Invalid("The template resource at index '%d' must be an object", i)
			}
			t.resources = append(t.resources, rm)
		}
	case map[string]any:
		t.symbolic = true
		for _, k := range slices.Sorted(maps.Keys(rs)) {
			rm, ok := rs[k].(map[string]any)
			if !ok {
				return Invalid("The template resource '%s' must be an object", k)
			}
			t.names = append(t.names, k)
			t.resources = append(t.resources, rm)
		}
	default:
		return Invalid("The template 'resources' must be an array")
	}
	if len(t.resources) > MaxResources {
		return Invalid("The number of template resources '%d' exceeds the limit of '%d'", len(t.resources), MaxResources)
	}
	return nil
}

// asInvalid turns an expression error into ARM's InvalidTemplate, naming
// where in the template it is.
func asInvalid(err error, where string) error {
	if err == nil {
		return nil
	}
	if ae, ok := arm.AsError(err); ok {
		return ae
	}
	e := expr.AsError(err)
	if e.Path != "" {
		where += "." + e.Path
	}
	return Invalid("The template %s is not valid: %s", where, e.Error())
}
