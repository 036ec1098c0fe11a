package expr

import (
	"strconv"
	"strings"
)

// Limits on expression text, so hostile input cannot exhaust the stack or
// the parser's time.
const (
	// MaxLength is the longest expression text Parse accepts, in bytes.
	MaxLength = 1 << 16
	// MaxDepth is the deepest nesting of calls and indexes Parse accepts.
	MaxDepth = 128
)

// Expr is a parsed expression. It is immutable and safe for concurrent
// evaluation.
type Expr interface {
	eval(ev *evaluator) (any, error)
	// String renders the expression back as text (normalized spacing).
	String() string
}

// literal is a string or integer literal.
type literal struct{ v any }

// call is a function call; name is as written, lname lower-cased.
type call struct {
	name, lname string
	args        []Expr
	pos         int
}

// member is x.name.
type member struct {
	x    Expr
	name string
}

// index is x[i].
type index struct{ x, i Expr }

func (l *literal) String() string {
	if s, ok := l.v.(string); ok {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return String(l.v)
}

func (c *call) String() string {
	parts := make([]string, len(c.args))
	for i, a := range c.args {
		parts[i] = a.String()
	}
	return c.name + "(" + strings.Join(parts, ", ") + ")"
}

// String writes x.name when that reads back the same, and x['name']
// otherwise: after a number ("0 .a" would read back as a fraction) or for
// a name that does not start as an identifier.
func (m *member) String() string {
	if _, number := m.x.(*literal); number && !isStringLiteral(m.x) || m.name == "" || !isIdentStart(m.name[0]) {
		return m.x.String() + "['" + strings.ReplaceAll(m.name, "'", "''") + "']"
	}
	return m.x.String() + "." + m.name
}

func isStringLiteral(e Expr) bool {
	l, ok := e.(*literal)
	if !ok {
		return false
	}
	_, s := l.v.(string)
	return s
}

func (x *index) String() string { return x.x.String() + "[" + x.i.String() + "]" }

// Parse parses expression text: the part of a string value between its
// "[" and "]". Function names ignore case; strings are single-quoted with
// ” for a quote; integers are 64-bit with an optional leading '-';
// ".name" and "[expr]" read members and elements of any value. There are
// no true/false/null literals: those are the functions true(), false()
// and null(). Errors are *Error with the byte position.
func Parse(text string) (Expr, error) {
	if len(text) > MaxLength {
		return nil, &Error{Expression: truncate(text), Pos: MaxLength, Message: "the expression is longer than " + strconv.Itoa(MaxLength) + " characters"}
	}
	p := &parser{src: text}
	e, err := p.expr(0)
	if err == nil {
		p.space()
		if p.pos < len(p.src) {
			err = p.unexpected("the end of the expression")
		}
	}
	if err != nil {
		err.(*Error).Expression = text
		return nil, err
	}
	return e, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

type parser struct {
	src string
	pos int
}

func (p *parser) space() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// unexpected is the error for the character at p.pos, saying what was
// expected there instead.
func (p *parser) unexpected(want string) *Error {
	if p.pos >= len(p.src) {
		return parseErr(p.pos, "the expression ends at position '%d' where %s was expected", p.pos, want)
	}
	return parseErr(p.pos, "the character '%c' at position '%d' is not expected: %s was expected", p.src[p.pos], p.pos, want)
}

func (p *parser) expr(depth int) (Expr, error) {
	if depth > MaxDepth {
		return nil, parseErr(p.pos, "the expression is nested more than %d levels deep", MaxDepth)
	}
	p.space()
	if p.pos >= len(p.src) {
		return nil, p.unexpected("a function call, string or integer")
	}
	var e Expr
	var err error
	switch c := p.src[p.pos]; {
	case c == '\'':
		e, err = p.str()
	case c == '-' || isDigit(c):
		e, err = p.number()
	case isIdentStart(c):
		e, err = p.call(depth)
	default:
		return nil, p.unexpected("a function call, string or integer")
	}
	if err != nil {
		return nil, err
	}
	return p.accessors(e, depth)
}

func (p *parser) str() (Expr, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for {
		i := strings.IndexByte(p.src[p.pos:], '\'')
		if i < 0 {
			return nil, parseErr(start, "the string starting at position '%d' is not terminated", start)
		}
		b.WriteString(p.src[p.pos : p.pos+i])
		p.pos += i + 1
		if p.pos < len(p.src) && p.src[p.pos] == '\'' {
			b.WriteByte('\'')
			p.pos++
			continue
		}
		return &literal{v: b.String()}, nil
	}
}

func (p *parser) number() (Expr, error) {
	start := p.pos
	if p.src[p.pos] == '-' {
		p.pos++
	}
	for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == start+1 && p.src[start] == '-' {
		return nil, p.unexpected("a digit")
	}
	if p.pos < len(p.src) && (p.src[p.pos] == '.' || isIdentStart(p.src[p.pos])) {
		return nil, p.unexpected("an integer (template expressions have no fractional literals)")
	}
	n, err := strconv.ParseInt(p.src[start:p.pos], 10, 64)
	if err != nil {
		return nil, parseErr(start, "the integer '%s' at position '%d' is out of range", p.src[start:p.pos], start)
	}
	return &literal{v: n}, nil
}

// call parses name(args) where name may be namespace.name (a template's
// user-defined function).
func (p *parser) call(depth int) (Expr, error) {
	start := p.pos
	name := p.ident()
	if p.pos < len(p.src) && p.src[p.pos] == '.' && p.pos+1 < len(p.src) && isIdentStart(p.src[p.pos+1]) {
		p.pos++
		name += "." + p.ident()
	}
	p.space()
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		return nil, p.unexpected("'(' after the function name '" + name + "'")
	}
	p.pos++
	c := &call{name: name, lname: strings.ToLower(name), pos: start}
	p.space()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
		return c, nil
	}
	for {
		a, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, a)
		p.space()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == ')' {
			p.pos++
			return c, nil
		}
		return nil, p.unexpected("',' or ')'")
	}
}

func (p *parser) accessors(e Expr, depth int) (Expr, error) {
	for {
		p.space()
		if p.pos >= len(p.src) {
			return e, nil
		}
		switch p.src[p.pos] {
		case '.':
			p.pos++
			p.space()
			if p.pos >= len(p.src) || !isIdentPart(p.src[p.pos]) {
				return nil, p.unexpected("a property name")
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
				return nil, p.unexpected("']'")
			}
			p.pos++
			e = &index{x: e, i: i}
		default:
			return e, nil
		}
		depth++
		if depth > MaxDepth {
			return nil, parseErr(p.pos, "the expression is nested more than %d levels deep", MaxDepth)
		}
	}
}

func (p *parser) ident() string {
	start := p.pos
	for p.pos < len(p.src) && isIdentPart(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c == '$' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '-' }
