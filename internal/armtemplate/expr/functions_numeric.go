package expr

import (
	"math"
	"strconv"
	"strings"
)

// Azure's numeric functions, with Azure's integer semantics (div
// truncates toward zero; div and mod by zero are errors):
// https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-numeric
func numericFunctions(m map[string]Function) {
	m["add"] = arith(func(a, b int64) (int64, string) { return a + b, "" })
	m["sub"] = arith(func(a, b int64) (int64, string) { return a - b, "" })
	m["mul"] = arith(func(a, b int64) (int64, string) { return a * b, "" })
	m["div"] = arith(func(a, b int64) (int64, string) {
		if b == 0 {
			return 0, "the divisor must not be zero."
		}
		return a / b, ""
	})
	m["mod"] = arith(func(a, b int64) (int64, string) {
		if b == 0 {
			return 0, "the divisor must not be zero."
		}
		return a % b, ""
	})
	m["int"] = fn(1, 1, func(c *Call) (any, error) {
		switch v := c.args()[0].(type) {
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return nil, c.Errorf("the string '%s' is not an integer.", truncate(v))
			}
			return n, nil
		case float64:
			if math.IsNaN(v) || math.Abs(v) >= 1<<63 {
				return nil, c.Errorf("the number %v is out of the range of an integer.", v)
			}
			return int64(v), nil
		}
		if n, ok := asInt(c.args()[0]); ok {
			return n, nil
		}
		return nil, c.typeErr(0, "Integer")
	})
	m["float"] = fn(1, 1, func(c *Call) (any, error) {
		if s, ok := c.args()[0].(string); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, c.Errorf("the string '%s' is not a number.", truncate(s))
			}
			return f, nil
		}
		if f, ok := asFloat(c.args()[0]); ok {
			return f, nil
		}
		return nil, c.typeErr(0, "Float")
	})
	m["max"] = fn(1, -1, func(c *Call) (any, error) { return minMax(c, 1) })
	m["min"] = fn(1, -1, func(c *Call) (any, error) { return minMax(c, -1) })
	m["copyindex"] = fn(0, 2, copyIndex)
}

// arith is a two-integer function; op returns a message for an error.
func arith(op func(a, b int64) (int64, string)) Function {
	return fn(2, 2, func(c *Call) (any, error) {
		a, err := c.Int(0)
		if err != nil {
			return nil, err
		}
		b, err := c.Int(1)
		if err != nil {
			return nil, err
		}
		r, msg := op(a, b)
		if msg != "" {
			return nil, c.Errorf("%s", msg)
		}
		return r, nil
	})
}

// minMax takes integers, or one array of them; sign 1 is max.
func minMax(c *Call, sign int) (any, error) {
	vals := c.args()
	if a, ok := vals[0].([]any); ok && len(vals) == 1 {
		if len(a) == 0 {
			return nil, c.Errorf("the array must not be empty.")
		}
		vals = a
	}
	var best any
	var bf float64
	for _, v := range vals {
		f, ok := asFloat(v)
		if !ok {
			return nil, c.Errorf("the values must be integers, not '%s'.", TypeName(v))
		}
		if best == nil || cmpFloat(f, bf) == sign {
			best, bf = v, f
		}
	}
	return best, nil
}

// copyIndex([loopName], [offset]) reads Context.Loops.
func copyIndex(c *Call) (any, error) {
	args := c.args()
	name, offset := "", int64(0)
	named := false
	if len(args) > 0 {
		if s, ok := args[0].(string); ok {
			name, named = s, true
			args = args[1:]
		}
	}
	if len(args) > 1 {
		return nil, c.Errorf("the function takes a loop name and an offset, in that order.")
	}
	if len(args) == 1 {
		n, ok := asInt(args[0])
		if !ok {
			return nil, c.Errorf("the offset must be an integer, not '%s'.", TypeName(args[0]))
		}
		offset = n
	}
	loops := c.Context().Loops
	for i := len(loops) - 1; i >= 0; i-- {
		if !named || strings.EqualFold(loops[i].Name, name) {
			return loops[i].Index + offset, nil
		}
	}
	if named {
		return nil, c.Errorf("the copy loop '%s' is not being expanded here.", name)
	}
	return nil, c.Errorf("the function can only be used in a copy loop.")
}
