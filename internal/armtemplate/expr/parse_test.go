package expr

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`concat('it''s', '')`, `concat('it''s', '')`},
		{`  concat ( 'a' ,	'b' )  `, `concat('a', 'b')`},
		{`parameters('a')[0].b['c']`, `parameters('a')[0].b['c']`},
		{`concat(parameters('a'), '-x')[0].b`, `concat(parameters('a'), '-x')[0].b`},
		{`add(-5, 3)`, `add(-5, 3)`},
		{`ns.fn('x')`, `ns.fn('x')`},
		{`f(g(h(i())))`, `f(g(h(i())))`},
		{"x(\n'a'\r\n)", `x('a')`},
	} {
		e, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := e.String(); got != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		pos  int
		want string
	}{
		{``, 0, "a function call, string or integer was expected"},
		{`concat('a'`, 10, "',' or ')' was expected"},
		{`concat('a' 'b')`, 11, "the character ''' at position '11' is not expected: ',' or ')' was expected"},
		{`'abc`, 0, "the string starting at position '0' is not terminated"},
		{`true`, 4, "'(' after the function name 'true' was expected"},
		{`null`, 4, "'(' after the function name 'null' was expected"},
		{`a().`, 4, "a property name was expected"},
		{`a()[1`, 5, "']' was expected"},
		{`a() b()`, 4, "the end of the expression was expected"},
		{`99999999999999999999`, 0, "out of range"},
		{`-`, 1, "a digit was expected"},
		{`1.5`, 1, "no fractional literals"},
		{`#`, 0, "the character '#' at position '0'"},
		{strings.Repeat("f(", 200) + strings.Repeat(")", 200), -1, "nested more than 128 levels"},
		{strings.Repeat("a()", MaxLength), MaxLength, "longer than"},
	} {
		_, err := Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%.40q): no error", tc.in)
			continue
		}
		e := err.(*Error)
		if !strings.Contains(e.Message, tc.want) {
			t.Errorf("Parse(%.40q): %q, want %q", tc.in, e.Message, tc.want)
		}
		if tc.pos >= 0 && e.Pos != tc.pos {
			t.Errorf("Parse(%.40q): position %d, want %d", tc.in, e.Pos, tc.pos)
		}
	}
}

func TestTree(t *testing.T) {
	ctx := testContext()
	body := mustJSON(`{
		"name": "[concat('vm', copyIndex())]",
		"literal": "[[not an expression]",
		"plain": "text [with] brackets",
		"n": 3,
		"list": ["[add(1, 2)]", "x", {"deep": "[parameters('mixed')]"}],
		"[concat('key', '1')]": "[variables('prefix')]",
		"static": {"a": [1, 2.5, "[[x", "[[y]"]}
	}`)
	got, err := EvaluateValue(body, ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"key1":"pre-Value","list":[3,"x",{"deep":"Value"}],"literal":"[not an expression]","n":3,"name":"vm5","plain":"text [with] brackets","static":{"a":[1,2.5,"[[x","[y]"]}}`
	if g := compactJSON(got); g != want {
		t.Errorf("got %s\nwant %s", g, want)
	}
	tr, err := ParseValue(mustJSON(`{"a": {"b": ["x", "[div(1, 0)]"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.Eval(ctx)
	if e, ok := err.(*Error); !ok || e.Path != "a.b[1]" || e.Expression != "div(1, 0)" {
		t.Errorf("error %#v, want one at a.b[1] in div(1, 0)", err)
	}
	if _, err := ParseValue(map[string]any{"x": []any{"[concat(]"}}); err == nil || err.(*Error).Path != "x[0]" {
		t.Errorf("parse error %v, want one at x[0]", err)
	}
	lit, _ := ParseValue(mustJSON(`{"a": ["[[b", 1]}`))
	if !lit.IsLiteral() {
		t.Error("a tree without expressions is not literal")
	}
}

// A caller's function: eager or lazy, its plain errors wrapped with
// Azure's prefix and kept for errors.As; list* served by one entry.
func TestPluggedFunctions(t *testing.T) {
	ctx := testContext()
	calls := 0
	ctx.Functions = map[string]Function{
		"reference": {MinArgs: 1, MaxArgs: 3, Call: func(c *Call) (any, error) {
			id, err := c.String(0)
			if err != nil {
				return nil, err
			}
			return map[string]any{"id": id, "state": "ok"}, nil
		}},
		"list*": {MinArgs: 2, MaxArgs: 3, Call: func(c *Call) (any, error) {
			return map[string]any{"fn": c.Name}, nil
		}},
		"lazyfirst": {MinArgs: 1, MaxArgs: -1, Lazy: true, Call: func(c *Call) (any, error) {
			calls++
			return c.Arg(0)
		}},
		"fail": {MinArgs: 0, MaxArgs: 0, Call: func(c *Call) (any, error) {
			return nil, errPlain
		}},
	}
	runCasesCtx(t, ctx, []evalCase{
		{`reference('x').state`, `"ok"`},
		{`listKeys('id', '2020-01-01').fn`, `"listKeys"`},
		{`lazyFirst('a', div(1, 0))`, `"a"`},
	})
	_, err := EvalString(`fail()`, ctx)
	if err == nil || !strings.Contains(err.Error(), "Unable to evaluate template language function 'fail': plain") {
		t.Errorf("error %v", err)
	}
	if e := AsError(err); e.Err != errPlain {
		t.Errorf("the caller's error is not kept: %#v", e)
	}
}

type plainErr struct{}

func (plainErr) Error() string { return "plain" }

var errPlain error = plainErr{}

func runCasesCtx(t *testing.T, ctx *Context, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		got, err := EvalString(tc.expr, ctx)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if g, w := compactJSON(got), compactJSON(mustJSON(tc.want)); g != w {
			t.Errorf("%s = %s, want %s", tc.expr, g, w)
		}
	}
}

func TestCheck(t *testing.T) {
	ctx := &Context{Functions: map[string]Function{"field": {MinArgs: 1, MaxArgs: 1}}}
	for in, want := range map[string]string{
		`concat(field('a'), parameters('b'))`: "",
		`concat(nosuch('a'))`:                 "The template function 'nosuch' is not valid",
		`field('a', 'b')`:                     "'field': the function requires 1 argument(s) while 2 were provided",
		`if(true(), 1)`:                       "'if': the function requires 3 argument(s) while 2 were provided",
	} {
		e, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		err = Check(e, ctx)
		if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("Check(%s) = %v, want %q", in, err, want)
		}
	}
	var names []string
	e, _ := Parse(`a(b('x'), c()[d()].e)`)
	_ = Calls(e, func(name string, args []Expr) error {
		names = append(names, name)
		return nil
	})
	if strings.Join(names, ",") != "a,b,c,d" {
		t.Errorf("Calls visited %v", names)
	}
	if v, ok := Literal(e.(*call).args[0].(*call).args[0]); !ok || v != "x" {
		t.Errorf("Literal = %v, %v", v, ok)
	}
}
