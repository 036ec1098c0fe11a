package expr

import (
	"strings"
	"unicode"
)

// Azure's comparison and logical functions:
// https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-comparison
// https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-logical
func logicFunctions(m map[string]Function) {
	m["coalesce"] = fn(1, -1, func(c *Call) (any, error) {
		for _, v := range c.args() {
			if v != nil {
				return v, nil
			}
		}
		return nil, nil
	})
	m["equals"] = fn(2, 2, func(c *Call) (any, error) { return Equal(c.args()[0], c.args()[1]), nil })
	m["greater"] = comparison(func(n int) bool { return n > 0 })
	m["greaterorequals"] = comparison(func(n int) bool { return n >= 0 })
	m["less"] = comparison(func(n int) bool { return n < 0 })
	m["lessorequals"] = comparison(func(n int) bool { return n <= 0 })
	m["and"] = fn(2, -1, func(c *Call) (any, error) { return allAny(c, true) })
	m["or"] = fn(2, -1, func(c *Call) (any, error) { return allAny(c, false) })
	m["not"] = fn(1, 1, func(c *Call) (any, error) {
		b, err := c.Bool(0)
		return !b, err
	})
	m["true"] = fn(0, 0, func(*Call) (any, error) { return true, nil })
	m["false"] = fn(0, 0, func(*Call) (any, error) { return false, nil })
	m["bool"] = fn(1, 1, func(c *Call) (any, error) {
		switch v := c.args()[0].(type) {
		case bool:
			return v, nil
		case string:
			switch strings.ToLower(v) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return nil, c.Errorf("the string '%s' is not a boolean.", truncate(v))
		}
		if n, ok := asInt(c.args()[0]); ok {
			return n != 0, nil
		}
		return nil, c.typeErr(0, "Boolean")
	})
	// if evaluates only the branch it returns.
	m["if"] = Function{MinArgs: 3, MaxArgs: 3, Lazy: true, Call: func(c *Call) (any, error) {
		cond, err := c.Bool(0)
		if err != nil {
			return nil, err
		}
		if cond {
			return c.Arg(1)
		}
		return c.Arg(2)
	}}
}

func allAny(c *Call, all bool) (any, error) {
	for i := range c.args() {
		b, err := c.Bool(i)
		if err != nil {
			return nil, err
		}
		if b != all {
			return !all, nil
		}
	}
	return all, nil
}

// comparison orders two integers, or two strings as .NET's invariant
// culture does (case-insensitively first, then lower case before upper:
// greater('A', 'a') is true in Azure's documentation).
func comparison(test func(int) bool) Function {
	return fn(2, 2, func(c *Call) (any, error) {
		a, b := c.args()[0], c.args()[1]
		if x, ok := asFloat(a); ok {
			y, ok := asFloat(b)
			if !ok {
				return nil, c.typeErr(1, TypeName(a))
			}
			return test(cmpFloat(x, y)), nil
		}
		x, ok := a.(string)
		if !ok {
			return nil, c.typeErr(0, "String")
		}
		y, ok := b.(string)
		if !ok {
			return nil, c.typeErr(1, "String")
		}
		return test(CompareStrings(x, y)), nil
	})
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// CompareStrings orders strings approximately as .NET's invariant culture
// does: ignoring case first, then a lower-case letter before its upper
// case.
func CompareStrings(a, b string) int {
	if n := strings.Compare(strings.ToLower(a), strings.ToLower(b)); n != 0 {
		return n
	}
	ra, rb := []rune(a), []rune(b)
	for i := range min(len(ra), len(rb)) {
		if ra[i] != rb[i] {
			if unicode.IsLower(ra[i]) {
				return -1
			}
			return 1
		}
	}
	return len(ra) - len(rb)
}
