package engine

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/jsonbody"
)

// FuzzMergePatch checks RFC 7396 properties of MergePatch on arbitrary JSON
// documents: no panic; applying the same patch twice gives what applying it
// once gave (idempotence); a non-object patch replaces the target; null
// members of an object patch are absent from the result; and the result
// holds every non-null member of the patch, merged recursively, and no
// other spelling of its name (names match ignoring case).
func FuzzMergePatch(f *testing.F) {
	seeds := [][2]string{
		{`{"a":"b","c":{"d":"e","f":"g"}}`, `{"a":"z","c":{"f":null}}`},
		{`{"a":["b"]}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`},
		{`{"a":"foo"}`, `null`},
		{`{"e":null}`, `{"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`},
		{`null`, `{"properties":{"v1LegacyMode":false},"tags":{}}`},
		{`{"properties":{"publicNetworkAccess":"Disabled","PUBLICNETWORKACCESS":"x"}}`, `{"properties":{"PublicNetworkAccess":"Enabled"}}`},
		{`{"a":{"B":1,"b":2},"A":3}`, `{"A":{"b":null}}`},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, targetJS, patchJS string) {
		var target, patch any
		if json.Unmarshal([]byte(targetJS), &target) != nil || json.Unmarshal([]byte(patchJS), &patch) != nil {
			return
		}
		if jsonbody.Check([]byte(patchJS)) != nil {
			return // the front door refuses it: MergePatch never sees it
		}
		once := MergePatch(fuzzCopy(target), fuzzCopy(patch))
		twice := MergePatch(MergePatch(fuzzCopy(target), fuzzCopy(patch)), fuzzCopy(patch))
		if !reflect.DeepEqual(once, twice) {
			t.Fatalf("not idempotent: once %s, twice %s", js(once), js(twice))
		}
		// Patching the result again with the same patch changes nothing.
		if again := MergePatch(fuzzCopy(once), fuzzCopy(patch)); !reflect.DeepEqual(again, once) {
			t.Fatalf("patch of the result changed it: %s -> %s", js(once), js(again))
		}
		checkPatched(t, "$", once, patch)
	})
}

// checkPatched asserts what RFC 7396 says result must hold after patch.
func checkPatched(t *testing.T, path string, result, patch any) {
	p, ok := patch.(map[string]any)
	if !ok {
		if !reflect.DeepEqual(result, patch) {
			t.Fatalf("%s: non-object patch %s did not replace: got %s", path, js(patch), js(result))
		}
		return
	}
	r, ok := result.(map[string]any)
	if !ok {
		t.Fatalf("%s: object patch gave a non-object %s", path, js(result))
	}
	for k, v := range p {
		for rk := range r {
			if rk != k && strings.EqualFold(rk, k) {
				t.Fatalf("%s: %q of the patch left %q beside it", path, k, rk)
			}
		}
		got, present := r[k]
		if v == nil {
			if present {
				t.Fatalf("%s.%s: null in the patch but present in the result: %s", path, k, js(got))
			}
			continue
		}
		if !present {
			t.Fatalf("%s.%s: missing from the result", path, k)
		}
		checkPatched(t, path+"."+k, got, v)
	}
}

func fuzzCopy(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// fuzzAPIVersionFormat restates ARM's api-version syntax independently of
// apiVersionFormat.
var fuzzAPIVersionFormat = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}(-(preview|alpha|beta|rc|privatepreview))?$`)

// FuzzAPIVersion checks the api-version parser (checkAPIVersion) with the
// ARM core and with a provider type, strict and lenient: never a panic;
// nil exactly for a listed version (any case), or in lenient mode for any
// well-formed one; otherwise a 400 *arm.Error with the code for the case.
func FuzzAPIVersion(f *testing.F) {
	for _, s := range []string{"", "2024-04-01", "2024-04-01-PREVIEW", "2024-4-1", "latest", "2019-01-01",
		"2021-04-01", "2025-13-45-rc", "２０２４-04-01", "2024-04-01-preview\x00", "2024-04-01-"} {
		f.Add(s)
	}
	typ := &Type{Name: "Example.Fuzz/widgets", APIVersions: []string{"2024-04-01", "2023-01-01-preview"}}
	strict := New(Options{Registry: NewRegistry()})
	lenient := New(Options{Registry: NewRegistry(), LenientAPIVersions: true})
	f.Fuzz(func(t *testing.T, v string) {
		wellFormed := fuzzAPIVersionFormat.MatchString(strings.ToLower(v))
		for _, tc := range []struct {
			name string
			e    *Engine
			t    *Type
		}{{"core", strict, nil}, {"type", strict, typ}, {"lenient core", lenient, nil}, {"lenient type", lenient, typ}} {
			versions := CoreAPIVersions
			if tc.t != nil {
				versions = tc.t.APIVersions
			}
			listed := false
			for _, s := range versions {
				listed = listed || strings.EqualFold(s, v)
			}
			err := tc.e.checkAPIVersion(v, tc.t)
			wantOK := listed || (tc.e.lenient && wellFormed)
			if wantOK != (err == nil) {
				t.Fatalf("%s: checkAPIVersion(%q) = %v, want ok %v", tc.name, v, err, wantOK)
			}
			if err == nil {
				continue
			}
			ae, ok := arm.AsError(err)
			if !ok || ae.Status != http.StatusBadRequest {
				t.Fatalf("%s: checkAPIVersion(%q) = %#v, want a 400 *arm.Error", tc.name, v, err)
			}
			want := arm.CodeInvalidAPIVersion
			switch {
			case v == "":
				want = arm.CodeMissingAPIVersion
			case tc.t != nil && wellFormed:
				want = arm.CodeNoRegisteredProvider
			}
			if ae.Code != want {
				t.Fatalf("%s: checkAPIVersion(%q) code %s, want %s", tc.name, v, ae.Code, want)
			}
		}
	})
}
