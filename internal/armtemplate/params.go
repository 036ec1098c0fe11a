package armtemplate

import (
	"maps"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/armtemplate/expr"
)

// Parameter is one declared template parameter.
type Parameter struct {
	Name string
	// Type is Azure's type name as declared, lower-cased: string,
	// securestring, int, bool, object, secureobject or array.
	Type          string
	Default       any // unevaluated; nil when hasDefault is false
	hasDefault    bool
	AllowedValues []any
	MinValue      *int64
	MaxValue      *int64
	MinLength     *int64
	MaxLength     *int64
	Nullable      bool
}

// Secure reports whether the parameter's value must never be shown.
func (p *Parameter) Secure() bool { return p.Type == "securestring" || p.Type == "secureobject" }

// TypeName is the parameter's type as Azure shows it in a deployment's
// parameters ("String", "SecureString", "Int").
func (p *Parameter) TypeName() string {
	switch p.Type {
	case "securestring":
		return "SecureString"
	case "secureobject":
		return "SecureObject"
	}
	return strings.ToUpper(p.Type[:1]) + p.Type[1:]
}

var parameterTypes = []string{"string", "securestring", "int", "bool", "object", "secureobject", "array"}

var parameterMembers = map[string]bool{
	"type": true, "defaultvalue": true, "allowedvalues": true, "minvalue": true, "maxvalue": true,
	"minlength": true, "maxlength": true, "metadata": true, "nullable": true,
}

func (t *Template) parseParameters(m map[string]any) error {
	v, ok := expr.Key(m, "parameters")
	if !ok || v == nil {
		return nil
	}
	ps, ok := v.(map[string]any)
	if !ok {
		return Invalid("The template 'parameters' must be an object")
	}
	if len(ps) > MaxParameters {
		return Invalid("The number of template parameters '%d' exceeds the limit of '%d'", len(ps), MaxParameters)
	}
	for _, name := range slices.Sorted(maps.Keys(ps)) {
		pm, ok := ps[name].(map[string]any)
		if !ok {
			return Invalid("The template parameter '%s' must be an object", name)
		}
		p := &Parameter{Name: name}
		for k, v := range pm {
			lk := strings.ToLower(k)
			if !parameterMembers[lk] {
				return Invalid("The template parameter '%s' has an unknown member '%s'", name, k)
			}
			switch lk {
			case "type":
				s, _ := v.(string)
				p.Type = strings.ToLower(s)
			case "defaultvalue":
				p.Default, p.hasDefault = v, true
			case "allowedvalues":
				arr, ok := v.([]any)
				if !ok {
					return Invalid("The 'allowedValues' of template parameter '%s' must be an array", name)
				}
				p.AllowedValues = arr
			case "minvalue", "maxvalue", "minlength", "maxlength":
				n, ok := v.(int64)
				if !ok {
					return Invalid("The '%s' of template parameter '%s' must be an integer", k, name)
				}
				switch lk {
				case "minvalue":
					p.MinValue = &n
				case "maxvalue":
					p.MaxValue = &n
				case "minlength":
					p.MinLength = &n
				default:
					p.MaxLength = &n
				}
			case "nullable":
				p.Nullable, _ = v.(bool)
			}
		}
		if !slices.Contains(parameterTypes, p.Type) {
			return Invalid("The template parameter '%s' has an invalid type '%v'; it must be one of %s",
				name, pm["type"], strings.Join(parameterTypes, ", "))
		}
		if p.hasDefault {
			if _, err := expr.ParseValue(p.Default); err != nil {
				return asInvalid(err, "parameter '"+name+"' defaultValue")
			}
		}
		t.Parameters = append(t.Parameters, p)
	}
	return nil
}

// Bind checks the parameter values of a deployment (its
// properties.parameters: {"name": {"value": v}}) against the template's
// declarations and returns every parameter's value, defaults evaluated
// with base (the scope functions; parameters bound so far are added).
// Unknown, missing and ill-typed values are InvalidTemplate errors.
func (t *Template) Bind(given map[string]any, base *expr.Context) (map[string]any, error) {
	values := map[string]any{}
	for name, v := range given {
		p := t.parameter(name)
		if p == nil {
			declared := make([]string, len(t.Parameters))
			for i, p := range t.Parameters {
				declared[i] = p.Name
			}
			return nil, Invalid("The template parameters '%s' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '%s'",
				name, strings.Join(declared, ", "))
		}
		pv, ok := expr.Normalize(v).(map[string]any)
		if !ok {
			return nil, Invalid("The value of deployment parameter '%s' must be an object with a 'value'", name)
		}
		if _, ok := expr.Key(pv, "reference"); ok {
			return nil, Invalid("The deployment parameter '%s' is a Key Vault reference; armlet takes parameter values inline only", name)
		}
		val, ok := expr.Key(pv, "value")
		if !ok {
			return nil, Invalid("The value of deployment parameter '%s' is null. Please specify the value or use the parameter reference", name)
		}
		values[strings.ToLower(p.Name)] = val
	}
	ctx := *base
	ctx.Parameters = map[string]any{}
	for k, v := range values {
		ctx.Parameters[k] = v
	}
	// Defaults may refer to other parameters: evaluate them in rounds
	// until none is left or a round makes no progress.
	pending := []*Parameter{}
	for _, p := range t.Parameters {
		if _, ok := values[strings.ToLower(p.Name)]; !ok {
			pending = append(pending, p)
		}
	}
	for len(pending) > 0 {
		var next []*Parameter
		var lastErr error
		for _, p := range pending {
			if !p.hasDefault {
				if p.Nullable {
					values[strings.ToLower(p.Name)] = nil
					ctx.Parameters[strings.ToLower(p.Name)] = nil
					continue
				}
				return nil, Invalid("The value for the template parameter '%s' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details", p.Name)
			}
			v, err := expr.EvaluateValue(p.Default, &ctx)
			if err != nil {
				next, lastErr = append(next, p), err
				continue
			}
			values[strings.ToLower(p.Name)] = v
			ctx.Parameters[strings.ToLower(p.Name)] = v
		}
		if len(next) == len(pending) {
			return nil, asInvalid(lastErr, "parameter '"+next[0].Name+"' defaultValue")
		}
		pending = next
	}
	for _, p := range t.Parameters {
		if err := p.check(values[strings.ToLower(p.Name)]); err != nil {
			return nil, err
		}
	}
	return values, nil
}

func (t *Template) parameter(name string) *Parameter {
	for _, p := range t.Parameters {
		if strings.EqualFold(p.Name, name) {
			return p
		}
	}
	return nil
}

// check validates a bound value against the declaration.
func (p *Parameter) check(v any) error {
	if v == nil && p.Nullable {
		return nil
	}
	want := map[string]string{"string": "String", "securestring": "String", "int": "Integer", "bool": "Boolean",
		"object": "Object", "secureobject": "Object", "array": "Array"}[p.Type]
	if got := expr.TypeName(v); got != want && !(want == "Integer" && got == "Float" && isWhole(v)) {
		return Invalid("Template parameter '%s' was provided an invalid value. Expected a value of type '%s', but received a value of type '%s'", p.Name, want, got)
	}
	if len(p.AllowedValues) > 0 {
		allowed := false
		for _, a := range p.AllowedValues {
			if allowedEqual(a, v) {
				allowed = true
				break
			}
		}
		if !allowed {
			parts := make([]string, len(p.AllowedValues))
			for i, a := range p.AllowedValues {
				parts[i] = expr.String(a)
			}
			return Invalid("The provided value '%s' for the template parameter '%s' is not valid. The parameter value is not part of the allowed value(s): '%s'",
				expr.String(v), p.Name, strings.Join(parts, ","))
		}
	}
	if n, ok := v.(int64); ok {
		if p.MinValue != nil && n < *p.MinValue {
			return Invalid("The provided value '%d' for the template parameter '%s' is not valid. The value is less than the minimum value of '%d'", n, p.Name, *p.MinValue)
		}
		if p.MaxValue != nil && n > *p.MaxValue {
			return Invalid("The provided value '%d' for the template parameter '%s' is not valid. The value exceeds the maximum value of '%d'", n, p.Name, *p.MaxValue)
		}
	}
	length := int64(-1)
	switch x := v.(type) {
	case string:
		length = int64(len(x))
	case []any:
		length = int64(len(x))
	}
	if length >= 0 {
		if p.MinLength != nil && length < *p.MinLength {
			return Invalid("The provided value for the template parameter '%s' is not valid. Length of the value should be greater than or equal to '%d'", p.Name, *p.MinLength)
		}
		if p.MaxLength != nil && length > *p.MaxLength {
			return Invalid("The provided value for the template parameter '%s' is not valid. Length of the value should be less than or equal to '%d'", p.Name, *p.MaxLength)
		}
	}
	return nil
}

func isWhole(v any) bool {
	f, ok := v.(float64)
	return ok && f == float64(int64(f))
}

// allowedEqual compares a value with an allowed value; strings ignore
// case (Choice: Azure's documentation does not say; armlet is lenient).
func allowedEqual(a, v any) bool {
	as, aok := a.(string)
	vs, vok := v.(string)
	if aok && vok {
		return strings.EqualFold(as, vs)
	}
	return expr.Equal(a, v)
}

// ShownParameters is a deployment's properties.parameters as Azure shows
// them: each with its type and value, a secure one without its value.
func (t *Template) ShownParameters(values map[string]any) map[string]any {
	out := map[string]any{}
	for _, p := range t.Parameters {
		v := map[string]any{"type": p.TypeName()}
		if !p.Secure() {
			v["value"] = values[strings.ToLower(p.Name)]
		}
		out[p.Name] = v
	}
	return out
}
