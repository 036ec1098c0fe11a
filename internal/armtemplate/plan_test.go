package armtemplate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/armtemplate/expr"
)

func testEnv() *Env {
	return &Env{
		Scope:         expr.Scope{TenantID: "t", SubscriptionID: "s", ResourceGroup: "rg"},
		ResourceGroup: map[string]any{"id": "/subscriptions/s/resourceGroups/rg", "name": "rg", "location": "eastus"},
		Reference: func(id resourceid.ID, apiVersion string, full bool) (any, error) {
			return map[string]any{"ref": id.Name()}, nil
		},
	}
}

func plan(t *testing.T, tmpl string, params map[string]any) (*Plan, error) {
	t.Helper()
	var raw any
	if err := json.Unmarshal([]byte(tmpl), &raw); err != nil {
		t.Fatal(err)
	}
	tp, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	env := testEnv()
	values, err := tp.Bind(params, &expr.Context{Scope: env.Scope, ResourceGroup: env.ResourceGroup})
	if err != nil {
		return nil, err
	}
	return tp.NewPlan(values, env)
}

// summary is "name<-dep,dep" per step, for table tests.
func summary(p *Plan) string {
	var parts []string
	for _, s := range p.Steps {
		var deps []string
		for _, d := range s.DependsOn {
			deps = append(deps, p.Steps[d].Name)
		}
		e := ""
		if s.Existing {
			e = "(existing)"
		}
		parts = append(parts, s.Name+e+"<-"+strings.Join(deps, ","))
	}
	return strings.Join(parts, " ")
}

// TestPlan checks how a template's resources become steps: copy loops
// (parallel and serial with batchSize), conditions, nested children,
// dependsOn in each of its forms, existing and symbolic resources.
func TestPlan(t *testing.T) {
	vnet := `{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":%q%s}`
	tests := []struct {
		name, resources, want string
	}{
		{"parallel copy", fmt.Sprintf(`[`+vnet+`]`, "[concat('v', copyIndex())]", `,"copy":{"name":"vs","count":3}`), "v0<- v1<- v2<-"},
		{"serial copy in batches of two", fmt.Sprintf(`[`+vnet+`]`, "[concat('v', copyIndex(1))]", `,"copy":{"name":"vs","count":5,"mode":"serial","batchSize":2}`), "v1<- v2<- v3<-v1,v2 v4<-v1,v2 v5<-v3,v4"},
		{"condition", fmt.Sprintf(`[`+vnet+`,`+vnet+`]`, "a", `,"condition":"[equals(1, 2)]"`, "b", `,"dependsOn":["a"]`), "b<-"},
		{"nested child and dependsOn by id, type/name and copy name", fmt.Sprintf(`[`+vnet+`,`+vnet+`]`, "a",
			`,"resources":[{"type":"subnets","apiVersion":"2023-09-01","name":"s1"}]`, "b",
			`,"dependsOn":["[resourceId('Microsoft.Network/virtualNetworks', 'a')]","Microsoft.Network/virtualNetworks/a/subnets/s1"]`), "a<- a/s1<-a b<-a,a/s1"},
		{"existing", `[{"type":"Microsoft.Storage/storageAccounts","apiVersion":"2023-05-01","name":"st","existing":true}]`, "st(existing)<-"},
		{"symbolic names", `{"net":{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"n1"},
			"sub":{"type":"Microsoft.Network/virtualNetworks/subnets","apiVersion":"2023-09-01","name":"n1/s","dependsOn":["net"]}}`, "n1<- n1/s<-n1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := plan(t, `{"resources":`+tt.resources+`}`, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(p); got != tt.want {
				t.Errorf("steps = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestBodyAndOutputs checks a step's body (property copy, reference) and
// the outputs (copy, secure values left out).
func TestBodyAndOutputs(t *testing.T) {
	p, err := plan(t, `{
		"parameters":{"n":{"type":"int","defaultValue":2},"pw":{"type":"securestring"}},
		"variables":{"copy":[{"name":"names","count":"[parameters('n')]","input":"[concat('[x', copyIndex('names'))]"}]},
		"resources":[{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"v","location":"[resourceGroup().location]",
			"properties":{"copy":[{"name":"subnets","count":"[parameters('n')]","input":{"name":"[concat('s', copyIndex('subnets'))]"}}],
			"ref":"[reference('v').ref]","names":"[variables('names')]"}}],
		"outputs":{"o":{"type":"array","copy":{"count":2,"input":"[copyIndex()]"}},"secret":{"type":"securestring","value":"[parameters('pw')]"}}
	}`, map[string]any{"pw": map[string]any{"value": "hidden"}})
	if err != nil {
		t.Fatal(err)
	}
	body, err := p.Body(p.Steps[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"location":"eastus","properties":{"names":["[x0","[x1"],"ref":"v","subnets":[{"name":"s0"},{"name":"s1"}]}}`
	if got, _ := json.Marshal(body); string(got) != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	out, err := p.Outputs()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(out); string(got) != `{"o":{"type":"Array","value":[0,1]},"secret":{"type":"SecureString"}}` {
		t.Errorf("outputs = %s", got)
	}
}

// TestRefusals checks the InvalidTemplate errors of templates and
// parameters.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name, tmpl string
		params     map[string]any
		say        string
	}{
		{"unknown member", `{"resourcez":[]}`, nil, "Could not find member 'resourcez'"},
		{"parameter type", `{"parameters":{"n":{"type":"int"}}}`, map[string]any{"n": map[string]any{"value": "x"}}, "Expected a value of type 'Integer'"},
		{"not allowed", `{"parameters":{"n":{"type":"string","allowedValues":["a"]}}}`, map[string]any{"n": map[string]any{"value": "b"}}, "not part of the allowed value(s)"},
		{"too long", `{"parameters":{"n":{"type":"string","maxLength":2}}}`, map[string]any{"n": map[string]any{"value": "abc"}}, "less than or equal to '2'"},
		{"unknown parameter", `{}`, map[string]any{"x": map[string]any{"value": 1}}, "not present in the original template"},
		{"segment lengths", `{"resources":[{"type":"Microsoft.Network/virtualNetworks/subnets","apiVersion":"x","name":"s"}]}`, nil, "incorrect segment lengths"},
		{"variable cycle", `{"variables":{"a":"[variables('b')]","b":"[variables('a')]"},"resources":[{"type":"Microsoft.Network/virtualNetworks","apiVersion":"x","name":"[variables('a')]"}]}`, nil, "circular"},
		{"reference in a name", `{"resources":[{"type":"Microsoft.Network/virtualNetworks","apiVersion":"x","name":"[reference('y').z]"}]}`, nil, "can only be used"},
	}
	for _, tt := range tests {
		_, err := plan(t, tt.tmpl, tt.params)
		if err == nil || !strings.Contains(err.Error(), tt.say) {
			t.Errorf("%s: %v, want an error saying %q", tt.name, err, tt.say)
		}
	}
}

// TestNestedDeploymentScopes checks a nested deployment's body: with
// inner scope its template is left for it to evaluate with the
// parameters passed; with outer scope (the default) the template's
// expressions are the parent's.
func TestNestedDeploymentScopes(t *testing.T) {
	p, err := plan(t, `{"parameters":{"n":{"type":"string","defaultValue":"outer"}},"resources":[
		{"type":"Microsoft.Resources/deployments","apiVersion":"2022-09-01","name":"inner",
		 "properties":{"mode":"Incremental","expressionEvaluationOptions":{"scope":"inner"},
		   "parameters":{"n":{"value":"[concat(parameters('n'), '-passed')]"}},
		   "template":{"parameters":{"n":{"type":"string"}},"outputs":{"o":{"type":"string","value":"[parameters('n')]"}}}}},
		{"type":"Microsoft.Resources/deployments","apiVersion":"2022-09-01","name":"outer",
		 "properties":{"mode":"Incremental","template":{"outputs":{"o":{"type":"string","value":"[parameters('n')]"}}}}}]}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		step int
		want string
	}{
		{0, `{"properties":{"expressionEvaluationOptions":{"scope":"inner"},"mode":"Incremental","parameters":{"n":{"value":"outer-passed"}},"template":{"outputs":{"o":{"type":"string","value":"[parameters('n')]"}},"parameters":{"n":{"type":"string"}}}}}`},
		{1, `{"properties":{"mode":"Incremental","template":{"outputs":{"o":{"type":"string","value":"outer"}}}}}`},
	} {
		body, err := p.Body(p.Steps[tt.step])
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(body); string(got) != tt.want {
			t.Errorf("step %d body = %s, want %s", tt.step, got, tt.want)
		}
		if !strings.HasSuffix(p.Steps[tt.step].ID.String(), "/resourceGroups/rg/providers/Microsoft.Resources/deployments/"+p.Steps[tt.step].Name) {
			t.Errorf("step %d id = %s", tt.step, p.Steps[tt.step].ID)
		}
	}
}

// TestUserDefinedFunctions checks a template's functions (as Bicep's func
// compiles): called with their namespace, their arguments as parameters(),
// calling one another, and no recursion.
func TestUserDefinedFunctions(t *testing.T) {
	p, err := plan(t, `{"functions":[{"namespace":"naming","members":{
			"prefixed":{"parameters":[{"name":"n","type":"string"}],"output":{"type":"string","value":"[concat('app-', parameters('n'))]"}},
			"twice":{"parameters":[{"name":"n","type":"string"}],"output":{"type":"string","value":"[concat(naming.prefixed(parameters('n')), '-', naming.prefixed(parameters('n')))]"}},
			"loop":{"parameters":[],"output":{"type":"string","value":"[naming.loop()]"}}}}],
		"resources":[{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"[naming.twice('x')]"}]}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Steps[0].Name; got != "app-x-app-x" {
		t.Errorf("name = %s", got)
	}
	_, err = plan(t, `{"functions":[{"namespace":"n","members":{"loop":{"parameters":[],"output":{"type":"string","value":"[n.loop()]"}}}}],
		"resources":[{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"[n.loop()]"}]}`, nil)
	if err == nil || !strings.Contains(err.Error(), "deeper than") {
		t.Errorf("a recursive function: %v", err)
	}
}
