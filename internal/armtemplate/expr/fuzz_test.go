package expr

import (
	"testing"
	"time"
)

// FuzzParse parses and evaluates arbitrary expression text: it must never
// panic, hang or allocate without bound; every error must be an *Error.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`concat(parameters('a'), '-x')[0].b`,
		`padLeft('x', 65536, 'y')`,
		`map(range(0, 10000), lambda('x', range(0, 10000)))`,
		`reduce(range(0, 10000), '', lambda('a', 'b', concat(lambdaVariables('a'), lambdaVariables('a'), 'x')))`,
		`format('{0,65536}{0,65536}', 'a')`,
		`json(string(parameters('o')))`,
		`union(parameters('arr'), parameters('arr'))`,
		`cidrSubnet('::/0', 128, 5)`,
		`dateTimeAdd(utcNow(), 'P9999999Y')`,
		`variables('v')`,
		`if(true(), 'a', nosuch())`,
		`sort(parameters('arr'), lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b'))))`,
		`uniqueString(guid('a'), string(copyIndex()))`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		ctx := &Context{
			Parameters: map[string]any{"a": []any{map[string]any{"b": "c"}}, "o": map[string]any{"k": int64(1)}, "arr": []any{int64(3), int64(1), int64(2)}},
			Variables:  map[string]any{"v": "[variables('w')]", "w": "[concat('x', parameters('a')[0].b)]"},
			Loops:      []Loop{{Name: "l", Index: 1}},
			Now:        func() time.Time { return time.Unix(0, 0) },
		}
		e, err := Parse(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("parse error %T", err)
			}
			return
		}
		if _, err := Eval(e, ctx); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("eval error %T", err)
			}
		}
		if _, err := Parse(e.String()); err != nil {
			t.Fatalf("String() of a parsed expression does not parse: %q: %v", e.String(), err)
		}
	})
}
