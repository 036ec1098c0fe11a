package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// expr is a parsed template language expression: the part of a string
// value between "[" and "]" (parameters('effect'), concat(...)).
type expr interface {
	eval(env *env) (any, error)
}

type lit struct{ v any }

type call struct {
	name string
	args []expr
}

// member is x.name (requestContext().apiVersion).
type member struct {
	x    expr
	name string
}

// index is x[i].
type index struct {
	x, i expr
}

// functions lists the template functions armlet evaluates, with their
// arity (-1: one or more).
var functions = map[string]int{
	"parameters": 1, "field": 1, "current": -1, "concat": -1, "tolower": 1, "toupper": 1,
	"empty": 1, "length": 1, "requestcontext": 0, "if": 3, "equals": 2, "not": 1,
	"and": -1, "or": -1, "contains": 2, "startswith": 2, "endswith": 2, "split": 2,
	"string": 1, "int": 1, "bool": 1, "padleft": -1, "trim": 1, "first": 1, "last": 1,
	"substring": -1, "replace": 3, "greater": 2, "greaterorequals": 2, "less": 2, "lessorequals": 2,
}

// template is a string value that may hold an expression. A string that
// starts with "[" and ends with "]" is an expression; "[[" escapes a
// literal "[".
type template struct {
	raw any
	e   expr // nil for a literal
}

// parseTemplate parses v when it is an expression string; other values
// are literals. ref says which parameters exist (nil: do not check).
func parseTemplate(v any, params map[string]Parameter) (template, error) {
	s, ok := v.(string)
	if !ok || len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return template{raw: normalize(v)}, nil
	}
	if strings.HasPrefix(s, "[[") {
		return template{raw: s[1:]}, nil
	}
	p := &exprParser{src: s[1 : len(s)-1]}
	e, err := p.parse()
	if err != nil {
		return template{}, fmt.Errorf("the language expression '%s' is not valid: %w", s, err)
	}
	if err := checkExpr(e, params); err != nil {
		return template{}, fmt.Errorf("the language expression '%s' is not valid: %w", s, err)
	}
	return template{raw: v, e: e}, nil
}

func checkExpr(e expr, params map[string]Parameter) error {
	switch x := e.(type) {
	case *call:
		if n, ok := functions[strings.ToLower(x.name)]; !ok {
			return fmt.Errorf("the template function '%s' is not known", x.name)
		} else if (n >= 0 && len(x.args) != n) || (n < 0 && len(x.args) == 0 && !strings.EqualFold(x.name, "current")) {
			return fmt.Errorf("the template function '%s' takes %d arguments, got %d", x.name, n, len(x.args))
		}
		for _, a := range x.args {
			if err := checkExpr(a, params); err != nil {
				return err
			}
		}
		switch strings.ToLower(x.name) {
		case "parameters":
			if l, ok := x.args[0].(*lit); ok && params != nil {
				name, _ := l.v.(string)
				if _, ok := lookupParam(params, name); !ok {
					return &undefinedParam{name: name}
				}
			}
		case "field":
			if l, ok := x.args[0].(*lit); ok {
				name, _ := l.v.(string)
				if _, ok := resolveField(name); !ok {
					return &unknownAlias{field: name}
				}
			}
		}
	case *member:
		return checkExpr(x.x, params)
	case *index:
		if err := checkExpr(x.x, params); err != nil {
			return err
		}
		return checkExpr(x.i, params)
	}
	return nil
}

type undefinedParam struct{ name string }

func (u *undefinedParam) Error() string {
	return fmt.Sprintf("the parameter '%s' is not defined in the policy definition", u.name)
}

type unknownAlias struct{ field string }

func (u *unknownAlias) Error() string {
	return fmt.Sprintf("the field '%s' is not a known alias", u.field)
}

func lookupParam(params map[string]Parameter, name string) (Parameter, bool) {
	if p, ok := params[name]; ok {
		return p, true
	}
	for k, p := range params {
		if strings.EqualFold(k, name) {
			return p, true
		}
	}
	return Parameter{}, false
}

type exprParser struct {
	src string
	pos int
}

func (p *exprParser) parse() (expr, error) {
	e, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("unexpected '%s' at position %d", p.src[p.pos:], p.pos)
	}
	return e, nil
}

func (p *exprParser) space() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func (p *exprParser) expr(depth int) (expr, error) {
	if depth > 32 {
		return nil, fmt.Errorf("expression nested too deeply")
	}
	p.space()
	if p.pos >= len(p.src) {
		return nil, fmt.Errorf("unexpected end of expression")
	}
	var e expr
	c := p.src[p.pos]
	switch {
	case c == '\'':
		var b strings.Builder
		p.pos++
		for {
			if p.pos >= len(p.src) {
				return nil, fmt.Errorf("unterminated string")
			}
			if p.src[p.pos] == '\'' {
				if p.pos+1 < len(p.src) && p.src[p.pos+1] == '\'' {
					b.WriteByte('\'')
					p.pos += 2
					continue
				}
				p.pos++
				break
			}
			b.WriteByte(p.src[p.pos])
			p.pos++
		}
		e = &lit{v: b.String()}
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.pos
		p.pos++
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
		}
		n, err := strconv.ParseInt(p.src[start:p.pos], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number '%s'", p.src[start:p.pos])
		}
		e = &lit{v: float64(n)}
	case isIdent(c):
		name := p.ident()
		p.space()
		switch strings.ToLower(name) {
		case "true", "false":
			if p.pos >= len(p.src) || p.src[p.pos] != '(' {
				e = &lit{v: strings.EqualFold(name, "true")}
			}
		case "null":
			if p.pos >= len(p.src) || p.src[p.pos] != '(' {
				e = &lit{v: nil}
			}
		}
		if e == nil {
			if p.pos >= len(p.src) || p.src[p.pos] != '(' {
				return nil, fmt.Errorf("expected '(' after '%s'", name)
			}
			p.pos++
			cl := &call{name: name}
			p.space()
			if p.pos < len(p.src) && p.src[p.pos] == ')' {
				p.pos++
			} else {
				for {
					a, err := p.expr(depth + 1)
					if err != nil {
						return nil, err
					}
					cl.args = append(cl.args, a)
					p.space()
					if p.pos >= len(p.src) {
						return nil, fmt.Errorf("unterminated call to '%s'", name)
					}
					if p.src[p.pos] == ',' {
						p.pos++
						continue
					}
					if p.src[p.pos] == ')' {
						p.pos++
						break
					}
					return nil, fmt.Errorf("unexpected '%c' at position %d", p.src[p.pos], p.pos)
				}
			}
			e = cl
		}
	default:
		return nil, fmt.Errorf("unexpected '%c' at position %d", c, p.pos)
	}
	for {
		p.space()
		if p.pos >= len(p.src) {
			return e, nil
		}
		switch p.src[p.pos] {
		case '.':
			p.pos++
			if p.pos >= len(p.src) || !isIdent(p.src[p.pos]) {
				return nil, fmt.Errorf("expected a property name at position %d", p.pos)
			}
			e = &member{x: e, name: p.ident()}
		case '[':
			p.pos++
			i, err := p.expr(depth + 1)
			if err != nil {
				return nil, err
			}
			p.space()
			if p.pos >= len(p.src) || p.src[p.pos] != ']' {
				return nil, fmt.Errorf("expected ']' at position %d", p.pos)
			}
			p.pos++
			e = &index{x: e, i: i}
		default:
			return e, nil
		}
	}
}

func isIdent(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func (p *exprParser) ident() string {
	start := p.pos
	for p.pos < len(p.src) && (isIdent(p.src[p.pos]) || (p.src[p.pos] >= '0' && p.src[p.pos] <= '9')) {
		p.pos++
	}
	return p.src[start:p.pos]
}

func (l *lit) eval(*env) (any, error) { return l.v, nil }

func (m *member) eval(en *env) (any, error) {
	v, err := m.x.eval(en)
	if err != nil {
		return nil, err
	}
	if obj, ok := v.(map[string]any); ok {
		return getKey(obj, m.name), nil
	}
	return nil, fmt.Errorf("the property '%s' cannot be read from a %s", m.name, kindOf(v))
}

func (x *index) eval(en *env) (any, error) {
	v, err := x.x.eval(en)
	if err != nil {
		return nil, err
	}
	i, err := x.i.eval(en)
	if err != nil {
		return nil, err
	}
	switch c := v.(type) {
	case map[string]any:
		return getKey(c, toString(i)), nil
	case []any:
		n, ok := toNumber(i)
		if !ok || n < 0 || int(n) >= len(c) {
			return nil, fmt.Errorf("index %v is out of range", i)
		}
		return c[int(n)], nil
	}
	return nil, fmt.Errorf("a %s cannot be indexed", kindOf(v))
}

func (c *call) eval(en *env) (any, error) {
	args := make([]any, len(c.args))
	fn := strings.ToLower(c.name)
	if fn == "if" {
		cond, err := c.args[0].eval(en)
		if err != nil {
			return nil, err
		}
		if b, _ := cond.(bool); b {
			return c.args[1].eval(en)
		}
		return c.args[2].eval(en)
	}
	for i, a := range c.args {
		v, err := a.eval(en)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	str := func(i int) string { return toString(args[i]) }
	switch fn {
	case "parameters":
		v, ok := en.param(str(0))
		if !ok {
			return nil, fmt.Errorf("the parameter '%s' has no value", str(0))
		}
		return v, nil
	case "field":
		fp, ok := resolveField(str(0))
		if !ok {
			return nil, &unknownAlias{field: str(0)}
		}
		vals, star := en.resolve(fp)
		if star {
			return vals, nil
		}
		return vals[0], nil
	case "current":
		name := ""
		if len(args) > 0 {
			name = str(0)
		}
		return en.current(name)
	case "requestcontext":
		return map[string]any{"apiVersion": en.apiVersion}, nil
	case "concat":
		if arr, ok := args[0].([]any); ok {
			out := append([]any(nil), arr...)
			for _, a := range args[1:] {
				more, _ := a.([]any)
				out = append(out, more...)
			}
			return out, nil
		}
		var b strings.Builder
		for i := range args {
			b.WriteString(str(i))
		}
		return b.String(), nil
	case "tolower":
		return strings.ToLower(str(0)), nil
	case "toupper":
		return strings.ToUpper(str(0)), nil
	case "trim":
		return strings.TrimSpace(str(0)), nil
	case "string":
		return str(0), nil
	case "int":
		n, ok := toNumber(args[0])
		if !ok {
			f, err := strconv.ParseFloat(str(0), 64)
			if err != nil {
				return nil, fmt.Errorf("'%s' is not an integer", str(0))
			}
			n = f
		}
		return float64(int64(n)), nil
	case "bool":
		b, ok := args[0].(bool)
		if !ok {
			return strings.EqualFold(str(0), "true"), nil
		}
		return b, nil
	case "empty":
		return isEmpty(args[0]), nil
	case "length":
		switch v := args[0].(type) {
		case string:
			return float64(len(v)), nil
		case []any:
			return float64(len(v)), nil
		case map[string]any:
			return float64(len(v)), nil
		case nil:
			return float64(0), nil
		}
		return nil, fmt.Errorf("length() takes a string, array or object")
	case "equals":
		return equalValues(args[0], args[1]), nil
	case "not":
		b, _ := args[0].(bool)
		return !b, nil
	case "and", "or":
		all := fn == "and"
		for _, a := range args {
			b, _ := a.(bool)
			if all && !b {
				return false, nil
			}
			if !all && b {
				return true, nil
			}
		}
		return all, nil
	case "contains":
		return containsValue(args[0], args[1]), nil
	case "startswith":
		return strings.HasPrefix(strings.ToLower(str(0)), strings.ToLower(str(1))), nil
	case "endswith":
		return strings.HasSuffix(strings.ToLower(str(0)), strings.ToLower(str(1))), nil
	case "split":
		var out []any
		for p := range strings.SplitSeq(str(0), str(1)) {
			out = append(out, p)
		}
		return out, nil
	case "first", "last":
		switch v := args[0].(type) {
		case []any:
			if len(v) == 0 {
				return nil, nil
			}
			if fn == "first" {
				return v[0], nil
			}
			return v[len(v)-1], nil
		case string:
			if v == "" {
				return "", nil
			}
			if fn == "first" {
				return v[:1], nil
			}
			return v[len(v)-1:], nil
		}
		return nil, nil
	case "padleft":
		s := str(0)
		n, _ := toNumber(args[1])
		pad := "0"
		if len(args) > 2 {
			pad = str(2)
		}
		for len(s) < int(n) && pad != "" && int(n) < 1<<16 {
			s = pad[:1] + s
		}
		return s, nil
	case "substring":
		s := str(0)
		start, _ := toNumber(args[1])
		end := float64(len(s))
		if len(args) > 2 {
			l, _ := toNumber(args[2])
			end = start + l
		}
		if start < 0 || end > float64(len(s)) || start > end {
			return nil, fmt.Errorf("substring out of range")
		}
		return s[int(start):int(end)], nil
	case "replace":
		return strings.ReplaceAll(str(0), str(1), str(2)), nil
	case "greater", "greaterorequals", "less", "lessorequals":
		return apply(fn, args[0], args[1]), nil
	}
	return nil, fmt.Errorf("the template function '%s' is not known", c.name)
}

// value evaluates t.
func (t template) value(en *env) (any, error) {
	if t.e == nil {
		return t.raw, nil
	}
	return t.e.eval(en)
}
