package jsonbody

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
)

func TestCheck(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	many := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat("0,", n), ",") + "]" }
	tests := []struct {
		name, body string
		// wantTarget is the error's target; "-" means no error.
		wantTarget, wantInMessage string
	}{
		{"empty", ``, "-", ""},
		{"spaces", " \n\t", "-", ""},
		{"plain object", `{"location":"eastus","properties":{"publicNetworkAccess":"Disabled"}}`, "-", ""},
		{"same name in different objects", `{"a":{"a":1},"b":[{"a":1},{"A":2}]}`, "-", ""},
		{"scalar body", `"ws"`, "-", ""},
		{"the issue's body", `{"properties":{"publicNetworkAccess":"Disabled","PublicNetworkAccess":"Enabled"}}`,
			"properties.PublicNetworkAccess", "'PublicNetworkAccess' at 'properties.PublicNetworkAccess' repeats the member 'publicNetworkAccess'"},
		{"exact duplicate at the top", `{"location":"eastus","location":"westus"}`, "location", "repeats the member 'location'"},
		{"duplicate inside an array", `{"rules":[{"name":"a"},{"name":"b","NAME":"c"}]}`, "rules[1].NAME", "repeats the member 'name'"},
		{"duplicate in a top-level array", `[1,{"x":1,"X":2}]`, "[1].X", ""},
		{"escaped spelling", `{"publicNetworkAccess":1,"public\u004eetworkAccess":2}`, "publicNetworkAccess", "repeats the member 'publicNetworkAccess'"},
		{"escaped identical", `{"a":1,"\u0061":2}`, "a", ""},
		// The long s folds to s and the Kelvin sign to k, as in strings.EqualFold.
		{"unicode folding", `{"publicNetworkAccess":1,"publicNetworkAcceſs":2}`, "publicNetworkAcceſs", ""},
		{"kelvin", `{"kind":1,"\u212Aind":2}`, "\u212Aind", ""},
		{"name needing quotes", `{"tags":{"a.b":"1","A.B":"2"}}`, "tags['A.B']", ""},
		{"many members, late duplicate", `{` + members(40) + `,"M7":0}`, "M7", "repeats the member 'm7'"},
		{"many members, no duplicate", `{` + members(40) + `}`, "-", ""},
		{"depth at the limit", deep(MaxDepth), "-", ""},
		{"depth over the limit", `{"a":` + deep(MaxDepth) + `}`, "a" + strings.Repeat("[0]", MaxDepth-1), "deeper than 64 levels"},
		{"values at the limit", many(MaxValues - 1), "-", ""},
		{"values over the limit", many(MaxValues), "[99999]", "more than 100000 JSON values"},
		{"the issue's managedBy", `{"location":"eastus","managedBy":` + many(200000) + `}`, "managedBy[99997]", "more than 100000"},
		{"huge number", `{"n":1e400,"N":1}`, "N", ""},
		// Not JSON: left to the handler, after what came before was checked.
		{"syntax error after a duplicate", `{"a":1,"A":2,`, "A", ""},
		{"syntax error", `{"a":1,"a"`, "a", ""},
		{"syntax error only", `{"location":"eastus",`, "-", ""},
		{"form body", `grant_type=client_credentials&a=a`, "-", ""},
		{"trailing value checked", `{"a":1} {"b":1,"B":2}`, "B", ""},
		{"trailing garbage", `{"a":1} x`, "-", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check([]byte(tt.body))
			if tt.wantTarget == "-" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			ae, ok := arm.AsError(err)
			if !ok {
				t.Fatalf("Check = %v, want an *arm.Error", err)
			}
			if ae.Status != 400 || ae.Code != arm.CodeInvalidRequestContent || ae.Target != tt.wantTarget {
				t.Errorf("Check = %d %s target %q (%s), want 400 %s target %q", ae.Status, ae.Code, ae.Target, ae.Message,
					arm.CodeInvalidRequestContent, tt.wantTarget)
			}
			if !strings.Contains(ae.Message, tt.wantInMessage) {
				t.Errorf("message %q lacks %q", ae.Message, tt.wantInMessage)
			}
		})
	}
}

func members(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"m` + string(rune('0'+i%10)) + strings.Repeat("x", i/10) + `":0`
	}
	return strings.Join(parts, ",")
}

func TestFoldKey(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"publicNetworkAccess", "PUBLICNETWORKACCESS", true},
		{"kind", "\u212Aind", true},
		{"s", "ſ", true},
		{"ß", "ẞ", true},
		{"ss", "ß", false},
		{"a", "b", false},
		{"", "", true},
		{"\xff", "\ufffd", true},
		{"Straße", "STRASSE", false},
		{"Σ", "σ", true},
		{"ς", "σ", true},
	}
	for _, tt := range tests {
		if got := FoldKey(tt.a) == FoldKey(tt.b); got != tt.same || got != strings.EqualFold(tt.a, tt.b) {
			t.Errorf("FoldKey(%q) == FoldKey(%q) is %v, want %v (EqualFold %v)", tt.a, tt.b, got, tt.same, strings.EqualFold(tt.a, tt.b))
		}
	}
}

// FuzzCheck compares Check, with small limits, against a recursive
// reading of the same tokens, and FoldKey against strings.EqualFold on
// every pair of member names in the body.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`{"properties":{"publicNetworkAccess":"Disabled","PublicNetworkAccess":"Enabled"}}`,
		`{"a":[{"b":1},{"B":2,"b":3}],"c":[[[[[1]]]]]}`,
		`{"kind":"x","\u212Aind":"y"}`,
		`[0,0,0,0,0,0,0,0,0,0,0,0]`,
		`{"a":1} {"A":2,"a":3}`,
		`{"m0":0,"m1":0,"m2":0,"m3":0,"m4":0,"m5":0,"m6":0,"m7":0,"m8":0,"m9":0,"m10":0,"m11":0,"m12":0,"m13":0,"m14":0,"m15":0,"m16":0,"M3":1}`,
		`{"x":{"y":{"z":{"w":{}}}}}`,
		`{"a":1,"b":`,
	} {
		f.Add(s)
	}
	const maxDepth, maxValues = 4, 30
	f.Fuzz(func(t *testing.T, body string) {
		got := check([]byte(body), maxDepth, maxValues)
		want, names := reference([]byte(body), maxDepth, maxValues)
		gotTarget, wantTarget := "-", "-"
		if ae, ok := arm.AsError(got); ok {
			gotTarget = ae.Target
		} else if got != nil {
			t.Fatalf("check returned %T %v", got, got)
		}
		if want != nil {
			wantTarget = *want
		}
		if gotTarget != wantTarget {
			t.Fatalf("check(%q) target %q (%v), reference %q", body, gotTarget, got, wantTarget)
		}
		if got == nil && json.Valid([]byte(body)) && Check([]byte(body)) != nil {
			t.Fatalf("Check refuses %q, which passes smaller limits", body)
		}
		for i := 0; i < len(names) && i < 20; i++ {
			for j := i + 1; j < len(names) && j < 20; j++ {
				if (FoldKey(names[i]) == FoldKey(names[j])) != strings.EqualFold(names[i], names[j]) {
					t.Fatalf("FoldKey and EqualFold disagree on %q, %q", names[i], names[j])
				}
			}
		}
	})
}

// reference is check written the plain way: a recursive descent over the
// tokens with a FoldKey set per object. It returns the target of the
// first violation (nil for none) and every member name read.
func reference(body []byte, maxDepth, maxValues int) (*string, []string) {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var names []string
	values := 0
	type step struct {
		name  string
		index int
		array bool
	}
	var path []step
	render := func() *string {
		var fs []frame
		for _, s := range path {
			fs = append(fs, frame{object: !s.array, key: s.name, index: s.index})
		}
		p := pathOf(fs)
		return &p
	}
	var value func(tok json.Token, depth int) (*string, bool)
	value = func(tok json.Token, depth int) (*string, bool) {
		values++
		if values > maxValues {
			return render(), false
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return nil, true
		}
		if depth >= maxDepth {
			return render(), false
		}
		seen := map[string]bool{}
		for i := 0; ; i++ {
			t, err := dec.Token()
			if err != nil {
				return nil, false
			}
			if t == json.Delim('}') || t == json.Delim(']') {
				return nil, true
			}
			if d == '{' {
				name := t.(string)
				names = append(names, name)
				path = append(path, step{name: name})
				if seen[FoldKey(name)] {
					return render(), false
				}
				seen[FoldKey(name)] = true
				if t, err = dec.Token(); err != nil {
					return nil, false
				}
			} else {
				path = append(path, step{index: i, array: true})
			}
			if v, ok := value(t, depth+1); !ok {
				return v, false
			}
			path = path[:len(path)-1]
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, names
		}
		if v, ok := value(tok, 0); !ok {
			return v, names
		}
	}
}

// TestQuoteNames checks the quoting of unquoted member names the Azure CLI
// sends, and that strings and values are left alone.
func TestQuoteNames(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"properties": {"mode": "Incremental", template:{"a": [1, {b: "x,{c:"}]}}}`, `{"properties": {"mode": "Incremental", "template":{"a": [1, {"b": "x,{c:"}]}}}`},
		{`{"a": true}`, `{"a": true}`},
		{`{"a": "\"{b: 1}"}`, `{"a": "\"{b: 1}"}`},
		{`[true, {x1_$: null}]`, `[true, {"x1_$": null}]`},
	}
	for _, tt := range tests {
		got, changed := QuoteNames([]byte(tt.in))
		if string(got) != tt.want || changed != (tt.in != tt.want) {
			t.Errorf("QuoteNames(%s) = %s, %v; want %s", tt.in, got, changed, tt.want)
		}
	}
}

// FuzzQuoteNames checks that quoting names never fails on any input, that
// valid JSON is left as it is, and that what it changes keeps every byte
// of the input in order (it only adds quotes).
func FuzzQuoteNames(f *testing.F) {
	for _, s := range []string{`{template:{"a":1}}`, `{"a":"{b:1}"}`, `[{x:[{y:2}]}]`, `{a`, `"\"`, `{}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		out, changed := QuoteNames([]byte(body))
		if json.Valid([]byte(body)) && changed {
			t.Fatalf("valid JSON %q changed to %q", body, out)
		}
		if strings.ReplaceAll(string(out), `"`, "") != strings.ReplaceAll(body, `"`, "") {
			t.Fatalf("QuoteNames(%q) = %q: more than quotes changed", body, out)
		}
	})
}
