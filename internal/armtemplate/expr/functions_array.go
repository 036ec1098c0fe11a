package expr

import (
	"strings"
	"unicode/utf8"
)

// MaxRangeCount is range()'s largest count, as Azure's.
const MaxRangeCount = 10000

// Azure's array functions (several also take strings or objects):
// https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-array
func arrayFunctions(m map[string]Function) {
	m["array"] = fn(1, 1, func(c *Call) (any, error) {
		v := c.args()[0]
		if a, ok := v.([]any); ok {
			return a, nil
		}
		return []any{v}, nil
	})
	m["createarray"] = fn(0, -1, func(c *Call) (any, error) {
		return append([]any{}, c.args()...), nil
	})
	m["concat"] = fn(1, -1, concat)
	m["contains"] = fn(2, 2, contains)
	m["empty"] = fn(1, 1, func(c *Call) (any, error) { return isEmpty(c.args()[0]), nil })
	m["first"] = fn(1, 1, func(c *Call) (any, error) { return firstLast(c, true) })
	m["last"] = fn(1, 1, func(c *Call) (any, error) { return firstLast(c, false) })
	m["flatten"] = fn(1, 1, func(c *Call) (any, error) {
		a, err := c.Array(0)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, e := range a {
			inner, ok := e.([]any)
			if !ok {
				return nil, c.Errorf("every element must be an array, not '%s'.", TypeName(e))
			}
			out = append(out, inner...)
		}
		return out, c.Spend(len(out))
	})
	m["indexof"] = fn(2, 2, func(c *Call) (any, error) { return indexOf(c, false) })
	m["lastindexof"] = fn(2, 2, func(c *Call) (any, error) { return indexOf(c, true) })
	m["join"] = fn(2, 2, func(c *Call) (any, error) {
		a, err := c.Array(0)
		if err != nil {
			return nil, err
		}
		delim, err := c.String(1)
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(a))
		for i, e := range a {
			switch e.(type) {
			case []any, map[string]any:
				return nil, c.Errorf("the array's elements must be strings, integers or booleans, not '%s'.", TypeName(e))
			}
			parts[i] = String(e)
		}
		return c.result(strings.Join(parts, delim))
	})
	m["length"] = fn(1, 1, func(c *Call) (any, error) {
		switch v := c.args()[0].(type) {
		case string:
			return int64(utf8.RuneCountInString(v)), nil
		case []any:
			return int64(len(v)), nil
		case map[string]any:
			return int64(len(v)), nil
		}
		return nil, c.typeErr(0, "Array")
	})
	m["range"] = fn(2, 2, func(c *Call) (any, error) {
		start, err := c.Int(0)
		if err != nil {
			return nil, err
		}
		count, err := c.Int(1)
		if err != nil {
			return nil, err
		}
		if count < 0 || count > MaxRangeCount {
			return nil, c.Errorf("the count %d must be between 0 and %d.", count, MaxRangeCount)
		}
		if start+count > 1<<31-1 || start < -(1<<31) {
			return nil, c.Errorf("the sum of startIndex and count must be at most 2147483647.")
		}
		if err := c.Spend(int(count)); err != nil {
			return nil, err
		}
		out := make([]any, count)
		for i := range out {
			out[i] = start + int64(i)
		}
		return out, nil
	})
	m["skip"] = fn(2, 2, func(c *Call) (any, error) { return skipTake(c, true) })
	m["take"] = fn(2, 2, func(c *Call) (any, error) { return skipTake(c, false) })
	m["intersection"] = fn(2, -1, intersection)
	m["union"] = fn(2, -1, union)
}

// concat joins arrays, or the string forms of strings, integers and
// booleans.
func concat(c *Call) (any, error) {
	args := c.args()
	if _, ok := args[0].([]any); ok {
		out := []any{}
		for i, v := range args {
			a, ok := v.([]any)
			if !ok && v != nil {
				return nil, c.typeErr(i, "Array")
			}
			if err := c.Spend(len(a)); err != nil {
				return nil, err
			}
			out = append(out, a...)
		}
		return out, nil
	}
	var b strings.Builder
	for i, v := range args {
		switch v.(type) {
		case []any, map[string]any:
			return nil, c.typeErr(i, "String")
		}
		b.WriteString(String(v))
		if b.Len() > MaxStringLength {
			return nil, c.Errorf("the result would be longer than %d characters.", MaxStringLength)
		}
	}
	return c.result(b.String())
}

// contains: a substring (case-sensitive), an array element (Equal) or an
// object member name (ignoring case).
func contains(c *Call) (any, error) {
	item := c.args()[1]
	switch x := c.args()[0].(type) {
	case string:
		switch item.(type) {
		case []any, map[string]any:
			return nil, c.typeErr(1, "String")
		}
		return strings.Contains(x, String(item)), nil
	case []any:
		for _, e := range x {
			if Equal(e, item) {
				return true, nil
			}
		}
		return false, nil
	case map[string]any:
		k, ok := item.(string)
		if !ok {
			return nil, c.typeErr(1, "String")
		}
		_, found := Key(x, k)
		return found, nil
	}
	return nil, c.typeErr(0, "Array")
}

func firstLast(c *Call, first bool) (any, error) {
	switch x := c.args()[0].(type) {
	case string:
		r := []rune(x)
		if len(r) == 0 {
			return "", nil
		}
		if first {
			return string(r[0]), nil
		}
		return string(r[len(r)-1]), nil
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
		if first {
			return x[0], nil
		}
		return x[len(x)-1], nil
	}
	return nil, c.typeErr(0, "Array")
}

// indexOf finds a substring ignoring case (in characters) or an array
// element (Equal); -1 when absent.
func indexOf(c *Call, last bool) (any, error) {
	item := c.args()[1]
	switch x := c.args()[0].(type) {
	case string:
		sub, ok := item.(string)
		if !ok {
			return nil, c.typeErr(1, "String")
		}
		hay, needle := []rune(strings.ToLower(x)), []rune(strings.ToLower(sub))
		idx := int64(-1)
		for i := 0; i+len(needle) <= len(hay); i++ {
			if string(hay[i:i+len(needle)]) == string(needle) {
				idx = int64(i)
				if !last {
					break
				}
			}
		}
		return idx, nil
	case []any:
		idx := int64(-1)
		for i, e := range x {
			if Equal(e, item) {
				idx = int64(i)
				if !last {
					break
				}
			}
		}
		return idx, nil
	}
	return nil, c.typeErr(0, "Array")
}

func skipTake(c *Call, skip bool) (any, error) {
	n, err := c.Int(1)
	if err != nil {
		return nil, err
	}
	clamp := func(l int) int {
		return int(min(max(n, 0), int64(l)))
	}
	switch x := c.args()[0].(type) {
	case string:
		r := []rune(x)
		k := clamp(len(r))
		if skip {
			return string(r[k:]), nil
		}
		return string(r[:k]), nil
	case []any:
		k := clamp(len(x))
		if skip {
			return append([]any{}, x[k:]...), nil
		}
		return append([]any{}, x[:k]...), nil
	}
	return nil, c.typeErr(0, "Array")
}

// intersection keeps the elements (or members with equal values) that
// every argument has.
func intersection(c *Call) (any, error) {
	args := c.args()
	if obj, ok := args[0].(map[string]any); ok {
		out := map[string]any{}
		for k, v := range obj {
			keep := true
			for i := 1; i < len(args) && keep; i++ {
				o, ok := args[i].(map[string]any)
				if !ok {
					return nil, c.typeErr(i, "Object")
				}
				w, found := o[k]
				keep = found && Equal(v, w)
			}
			if keep {
				out[k] = v
			}
		}
		return out, nil
	}
	first, err := c.Array(0)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, v := range first {
		keep := !containsEqual(out, v)
		for i := 1; i < len(args) && keep; i++ {
			a, ok := args[i].([]any)
			if !ok {
				return nil, c.typeErr(i, "Array")
			}
			keep = containsEqual(a, v)
		}
		if keep {
			out = append(out, v)
		}
	}
	return out, nil
}

func containsEqual(a []any, v any) bool {
	for _, e := range a {
		if Equal(e, v) {
			return true
		}
	}
	return false
}

// union joins arrays without duplicates, or merges objects: a later
// member replaces an earlier one, except that two objects under the same
// name are merged in turn (arrays under one name are replaced).
func union(c *Call) (any, error) {
	args := c.args()
	if _, ok := args[0].(map[string]any); ok {
		out := map[string]any{}
		for i, v := range args {
			o, ok := v.(map[string]any)
			if !ok && v != nil {
				return nil, c.typeErr(i, "Object")
			}
			if err := c.Spend(len(o)); err != nil {
				return nil, err
			}
			out = deepMerge(out, o)
		}
		return out, nil
	}
	out := []any{}
	for i, v := range args {
		a, ok := v.([]any)
		if !ok && v != nil {
			return nil, c.typeErr(i, "Array")
		}
		if err := c.Spend(len(a) * (len(out) + 1)); err != nil {
			return nil, err
		}
		for _, e := range a {
			if !containsEqual(out, e) {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func deepMerge(dst, src map[string]any) map[string]any {
	out := make(map[string]any, len(dst)+len(src))
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if a, ok := out[k].(map[string]any); ok {
			if b, ok := v.(map[string]any); ok {
				out[k] = deepMerge(a, b)
				continue
			}
		}
		out[k] = v
	}
	return out
}
