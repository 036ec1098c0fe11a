package expr

// Azure's object functions:
// https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-object
func objectFunctions(m map[string]Function) {
	m["createobject"] = fn(0, -1, func(c *Call) (any, error) {
		args := c.args()
		if len(args)%2 != 0 {
			return nil, c.Errorf("the function requires an even number of arguments (name, value pairs); %d were provided.", len(args))
		}
		out := make(map[string]any, len(args)/2)
		for i := 0; i < len(args); i += 2 {
			k, ok := args[i].(string)
			if !ok {
				return nil, c.typeErr(i, "String")
			}
			out[k] = args[i+1]
		}
		return out, nil
	})
	m["items"] = fn(1, 1, func(c *Call) (any, error) {
		o, err := c.Object(0)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(o))
		for _, k := range sortedKeys(o) {
			out = append(out, map[string]any{"key": k, "value": o[k]})
		}
		return out, c.Spend(len(out))
	})
	m["null"] = fn(0, 0, func(*Call) (any, error) { return nil, nil })
	m["objectkeys"] = fn(1, 1, func(c *Call) (any, error) {
		o, err := c.Object(0)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, k := range sortedKeys(o) {
			out = append(out, k)
		}
		return out, nil
	})
	m["shallowmerge"] = fn(1, 1, func(c *Call) (any, error) {
		a, err := c.Array(0)
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		for _, e := range a {
			o, ok := e.(map[string]any)
			if !ok {
				return nil, c.Errorf("every element must be an object, not '%s'.", TypeName(e))
			}
			if err := c.Spend(len(o)); err != nil {
				return nil, err
			}
			for k, v := range o {
				out[k] = v
			}
		}
		return out, nil
	})
	m["tryget"] = fn(2, -1, tryGet)
}

// tryGet follows keys (member names or array indexes) from the first
// argument; any step that is missing gives null.
func tryGet(c *Call) (any, error) {
	v := c.args()[0]
	for i, k := range c.args()[1:] {
		switch x := v.(type) {
		case map[string]any:
			name, ok := k.(string)
			if !ok {
				return nil, c.typeErr(i+1, "String")
			}
			v, _ = Key(x, name)
		case []any:
			n, ok := asInt(k)
			if !ok {
				return nil, c.typeErr(i+1, "Integer")
			}
			if n < 0 || n >= int64(len(x)) {
				return nil, nil
			}
			v = x[n]
		case nil:
			return nil, nil
		default:
			return nil, c.Errorf("a %s has no members or elements.", TypeName(v))
		}
	}
	return v, nil
}
