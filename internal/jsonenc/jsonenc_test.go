package jsonenc

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// same fails t unless Marshal(v) gives json.Marshal(v)'s bytes, or an
// error when it errs.
func same(t *testing.T, name string, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	got, err := Marshal(v)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%s: error %v, encoding/json's %v", name, err, wantErr)
	}
	if err != nil {
		if err.Error() != wantErr.Error() {
			t.Errorf("%s: error %q, encoding/json's %q", name, err, wantErr)
		}
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", name, got, want)
	}
}

func TestMarshalAsEncodingJSON(t *testing.T) {
	deep := any("x")
	for range 1200 {
		deep = []any{deep}
	}
	tests := []struct {
		name string
		v    any
	}{
		{"null", nil},
		{"scalars", []any{true, false, "s", 1.5, json.Number("12"), json.Number(""), 7, int64(-3)}},
		{"escapes", "q\" b\\ <a href='x'>&amp;</a> \b\f\n\r\t \x00\x01\x1f \x7f"},
		{"unicode", "héllo ✓ 𝄞 \u2028 \u2029 end"},
		{"invalid UTF-8", "a\xffb\xc3(c\xe2\x28\xa1"},
		{"floats", []any{0.0, -0.0, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, -2.5e-10, 5e300, math.SmallestNonzeroFloat64}},
		{"NaN", []any{math.NaN()}},
		{"infinity", map[string]any{"a": math.Inf(1)}},
		{"bad number", json.Number("1.2.3")},
		{"numbers", []any{json.Number("-0"), json.Number("0.5e+10"), json.Number("1E-2"), json.Number("01"), json.Number("-"), json.Number("1e")}},
		{"keys sorted and escaped", map[string]any{"b": 1.0, "a": map[string]any{"z": nil, "<&>": "v", "": []any{}}, "A": []any(nil), "é": map[string]any(nil)}},
		{"many keys", func() map[string]any {
			m := map[string]any{}
			for i := range 40 {
				m[strings.Repeat("k", i%7)+string(rune('a'+i%26))+string(rune('0'+i%10))] = float64(i)
			}
			return m
		}()},
		{"string maps and slices", map[string]any{"tags": map[string]string{"z": "<1>", "a": "2"}, "names": []string{"x", "\u2028"}, "none": map[string]string(nil), "nil list": []string(nil)}},
		{"raw compact", map[string]json.RawMessage{"a": json.RawMessage(`{"x":[1,2,{"y":"z"}]}`), "n": nil}},
		{"raw to compact", json.RawMessage(" { \"a\" : [ 1 , 2 ] }\n")},
		{"raw to escape", json.RawMessage(`{"a":"<b>&\u2028","c":"` + "\u2028" + `"}`)},
		{"raw invalid", json.RawMessage(`{"a":`)},
		{"other types", map[string]any{"t": time.Date(2026, 12, 6, 10, 0, 0, 5, time.UTC), "u": uint8(3), "f32": float32(0.1), "p": &struct{ A int }{1}}},
		{"deep", deep},
	}
	for _, tt := range tests {
		same(t, tt.name, tt.v)
	}
}

func TestMarshalCycle(t *testing.T) {
	m := map[string]any{}
	m["self"] = m
	if _, err := Marshal(m); err == nil {
		t.Fatal("a map holding itself encoded")
	}
}

// FuzzMarshal checks every JSON document, decoded as armlet decodes
// bodies (numbers as json.Number) and as plain encoding/json does, against
// encoding/json's encoding of the same value.
func FuzzMarshal(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `null`, `{"a":[1,"<b>",true,null,{"c":1.5e300}],"\u2028":"\ud800"}`, `"\u0000\u001f\u007f"`, `-0.0e-7`, `[1e21,1e-7,123456789012345678901234567890]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var plain any
		if json.Unmarshal(b, &plain) != nil {
			// Not JSON: as a raw message it must still match.
			same(t, "raw", json.RawMessage(b))
			return
		}
		same(t, "plain", plain)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var numbers any
		if err := dec.Decode(&numbers); err == nil {
			same(t, "numbers", numbers)
		}
		same(t, "raw", json.RawMessage(b))
	})
}

func BenchmarkMarshal(b *testing.B) {
	var v any
	body := `{"location":"eastus","tags":{"team":"ml","env":"dev"},"properties":{"friendlyName":"bench workspace","description":"created by armlet bench","publicNetworkAccess":"Enabled","v1LegacyMode":false,"workspaceId":"8c3e1a8e-4a0a-4c5b-9f1e-0d3f2b5e6a7c","discoveryUrl":"https://eastus.api.azureml.ms/discovery","storageAccount":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa","managedNetwork":{"isolationMode":"Disabled","outboundRules":{}},"notebookInfo":{"resourceId":"abc","fqdn":"ml-abc.notebooks.azure.net"},"hbiWorkspace":false,"mlFlowTrackingUri":"azureml://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/x"}}`
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		b.Fatal(err)
	}
	b.Run("jsonenc", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			buf, _ = Append(buf[:0], v)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(v)
		}
	})
}

// FuzzAppendString checks AppendString against Marshal on any string,
// invalid UTF-8 included, with the special bytes at every offset of the
// eight-byte words it skips.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain ascii of some length", "a\"b\\c<d>e&f\x00g\x1fh\x7f", "\u2028\u2029\xff\xfe", "0123456\n89abcdef<", "été 東京 😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for pad := range 8 { // the same bytes at each alignment
			in := strings.Repeat("x", pad) + s
			want, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			if got := AppendString(nil, in); !bytes.Equal(got, want) {
				t.Fatalf("AppendString(%q) = %s, want %s", in, got, want)
			}
		}
	})
}

func BenchmarkAppendString(b *testing.B) {
	s := "/subscriptions/cb9d4776-8fbf-4384-92f0-991770570a35/resourceGroups/budget-rg/providers/Microsoft.MachineLearningServices/workspaces/budget-ws"
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}
