package authorization

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/jsonbody"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/kv/memkv"
	"github.com/armlet/armlet/internal/providers/machinelearning"
)

// pnaAlias is the alias the built-in public network access policies read.
const pnaAlias = "Microsoft.MachineLearningServices/workspaces/publicNetworkAccess"

// seenRule is an audit policy that matches every value of the alias but
// one nobody sends, so that its decision on every write names the value
// the policy engine read (describeExpr's "(value ...)").
const seenRule = `{"if":{"field":"` + pnaAlias + `","notEquals":"fuzz-never-sent"},"then":{"effect":"audit"}}`

var seenValue = regexp.MustCompile(`decided by field '` + regexp.QuoteMeta(pnaAlias) + `' .* \(value (.*)\)$`)

// bodyEnv is the real admission path without HTTP: an engine with the
// Machine Learning provider and this one, the seenRule policy assigned at
// the resource group, and the front door's body check in front.
type bodyEnv struct {
	e   *engine.Engine
	clk *clock.Offset
}

func newBodyEnv(t testing.TB) *bodyEnv {
	t.Helper()
	clk := clock.NewOffset(0)
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: engine.NewRegistry()})
	machinelearning.Register(e, machinelearning.Options{TenantID: tenantA})
	Register(e, Options{})
	if err := e.EnsureSubscription(context.Background(), subA, tenantA, "test"); err != nil {
		t.Fatal(err)
	}
	v := &bodyEnv{e: e, clk: clk}
	for _, r := range []struct{ path, version, body string }{
		{rgA, "2021-04-01", `{"location":"eastus"}`},
		{"/subscriptions/" + subA + "/providers/Microsoft.Authorization/policyDefinitions/seen", polVer,
			`{"properties":{"mode":"Indexed","policyRule":` + seenRule + `}}`},
		{rgA + "/providers/Microsoft.Authorization/policyAssignments/seen", polVer,
			`{"properties":{"policyDefinitionId":"/subscriptions/` + subA + `/providers/Microsoft.Authorization/policyDefinitions/seen"}}`},
	} {
		if resp, _, err := v.serve(http.MethodPut, r.path, r.version, r.body); err != nil || resp.Status != http.StatusCreated {
			t.Fatalf("PUT %s: %v %v", r.path, resp, err)
		}
	}
	return v
}

// serve checks body as the front door does (jsonbody.Check), then sends
// the request to the engine; it returns the policy decisions taken.
func (v *bodyEnv) serve(method, path, version, body string) (*engine.Response, []decision.Decision, error) {
	if err := jsonbody.Check([]byte(body)); err != nil {
		return nil, nil, err
	}
	ctx, decisions := decision.With(context.Background())
	req := &engine.Request{
		Method: method, Path: path, APIVersion: version, Query: url.Values{"api-version": {version}}, Body: []byte(body),
		Header: http.Header{}, BaseURL: enginetest.BaseURL, Now: v.clk.Now(),
		Caller: engine.Caller{ObjectID: enginetest.DefaultCaller.ObjectID, TenantID: tenantA, PrincipalType: "ServicePrincipal"},
	}
	resp, err := v.e.Serve(ctx, req)
	return resp, decisions.List(), err
}

// pnaBody builds a workspace body from fuzz bytes: up to four spellings
// of publicNetworkAccess, three bytes each: a case mask over its letters
// (two bytes), then a value (bits 0-1), whether to write its first letter
// as a \u escape (bit 2), whether to spell an s as the long s, which
// folds to s (bit 3), and whether to put it in a second object named
// "Properties" (bit 4). No bytes is the one plain spelling.
func pnaBody(spec []byte, location bool) string {
	values := []string{"Enabled", "Disabled", "enabled", "DISABLED"}
	var props, second []string
	for i := 0; i == 0 || (i < 4 && 3*i+2 < len(spec)); i++ {
		var b [3]byte
		if 3*i+2 < len(spec) {
			copy(b[:], spec[3*i:])
		}
		mask := uint16(b[0]) | uint16(b[1])<<8
		var name strings.Builder
		for j, r := range "publicNetworkAccess" {
			if mask&(1<<(j%16)) != 0 {
				r ^= 0x20 // the other case of an ASCII letter
			}
			switch {
			case j == 0 && b[2]&4 != 0:
				fmt.Fprintf(&name, `\u%04x`, r)
			case j == 17 && b[2]&8 != 0:
				name.WriteString("ſ")
			default:
				name.WriteRune(r)
			}
		}
		member := fmt.Sprintf(`"%s":%q`, name.String(), values[b[2]&3])
		if b[2]&16 != 0 {
			second = append(second, member)
		} else {
			props = append(props, member)
		}
	}
	var parts []string
	if location {
		parts = append(parts, `"location":"eastus"`)
	}
	parts = append(parts, `"properties":{`+strings.Join(props, ",")+`}`)
	if len(second) > 0 {
		parts = append(parts, `"Properties":{`+strings.Join(second, ",")+`}`)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// FuzzPolicySeesWhatIsStored writes a workspace with a PUT and then a
// PATCH whose bodies spell publicNetworkAccess in random cases, with
// escapes and case-folding letters, once or several times: each body is
// either refused with 400 InvalidRequestContent, or the value Azure
// Policy evaluated for the alias is the value the workspace then has
// (ignoring case, as policy compares). A body the policy read one way
// and the provider stored another would let a Deny policy be bypassed.
func FuzzPolicySeesWhatIsStored(f *testing.F) {
	for _, s := range [][2][]byte{
		{nil, nil},
		{{0, 0, 1, 1, 0, 0}, {0, 0, 0}},      // the issue: Disabled and PublicNetworkAccess Enabled
		{{1, 0, 0}, {0, 0, 1}},               // one spelling each, the PATCH's differing from the PUT's
		{{0, 0, 1}, {0, 0, 4}},               // an escaped first letter
		{{0, 0, 1, 0, 0, 8}, {0, 0, 9}},      // the long s
		{{0, 0, 1, 0, 0, 16}, {0, 0, 16}},    // a second "Properties"
		{{255, 255, 3, 0, 0, 1}, {7, 0, 10}}, // all upper case, then mixed
	} {
		f.Add(s[0], s[1])
	}
	v := newBodyEnv(f)
	n := 0
	f.Fuzz(func(t *testing.T, put, patch []byte) {
		// A few names, reused: the store stays small however long the
		// fuzzer runs, and a PUT is as often an update as a create.
		n++
		path := wsPath(fmt.Sprintf("ws%d", n%8))
		for _, step := range []struct {
			method, body string
		}{{http.MethodPut, pnaBody(put, true)}, {http.MethodPatch, pnaBody(patch, false)}} {
			resp, decisions, err := v.serve(step.method, path, "2024-04-01", step.body)
			v.clk.Advance(2 * time.Second) // past the workspace's creation
			if err != nil {
				ae, ok := arm.AsError(err)
				if !ok || ae.Status != http.StatusBadRequest || ae.Code != arm.CodeInvalidRequestContent {
					t.Fatalf("%s %s: %v, want a 400 InvalidRequestContent or success", step.method, step.body, err)
				}
				if step.method == http.MethodPut {
					return // nothing to PATCH
				}
				continue
			}
			if resp.Status >= 300 {
				t.Fatalf("%s %s: status %d", step.method, step.body, resp.Status)
			}
			evaluated, ok := policySaw(decisions)
			if !ok {
				t.Fatalf("%s %s: no policy decision names the value read: %+v", step.method, step.body, decisions)
			}
			got, _, err := v.serve(http.MethodGet, path, "2024-04-01", "")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(got.Body)
			var stored struct {
				Properties struct {
					PublicNetworkAccess any `json:"publicNetworkAccess"`
				} `json:"properties"`
			}
			_ = json.Unmarshal(b, &stored)
			es, _ := evaluated.(string)
			ss, _ := stored.Properties.PublicNetworkAccess.(string)
			if es == "" || !strings.EqualFold(es, ss) {
				t.Fatalf("%s %s: policy evaluated %v, the workspace has %v", step.method, step.body, evaluated, stored.Properties.PublicNetworkAccess)
			}
		}
	})
}

// policySaw returns the value of the alias the seen policy's decision
// names.
func policySaw(decisions []decision.Decision) (any, bool) {
	for _, d := range decisions {
		m := seenValue.FindStringSubmatch(d.Reason)
		if d.Kind != "policy" || m == nil {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(m[1]), &v); err != nil {
			return nil, false
		}
		return v, true
	}
	return nil, false
}
