package policy

import (
	"encoding/json"
	"testing"

	"github.com/armlet/armlet/internal/arm"
)

func obj(t testing.TB, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

const wsBody = `{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1",
 "name":"ws1","type":"Microsoft.MachineLearningServices/workspaces","location":"eastus","kind":"Default",
 "tags":{"Env":"prod","owner":"team-a"},
 "properties":{"publicNetworkAccess":"Enabled","hbiWorkspace":false,"v1LegacyMode":false,"friendlyName":"WS 12",
   "privateEndpointConnections":[{"properties":{"privateLinkServiceConnectionState":{"status":"Pending"}}},
                                 {"properties":{"privateLinkServiceConnectionState":{"status":"Approved"}}}],
   "managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound"},"encryption":{"status":"Disabled"}}}`

func TestOperators(t *testing.T) {
	const pna = "Microsoft.MachineLearningServices/workspaces/publicNetworkAccess"
	cases := []struct {
		name string
		cond string
		want bool
	}{
		{"equals ignores case", `{"field":"` + pna + `","equals":"enabled"}`, true},
		{"equals false", `{"field":"` + pna + `","equals":"Disabled"}`, false},
		{"equals missing", `{"field":"Microsoft.MachineLearningServices/workspaces/primaryUserAssignedIdentity","equals":"x"}`, false},
		{"notEquals", `{"field":"` + pna + `","notEquals":"Disabled"}`, true},
		{"notEquals missing", `{"field":"Microsoft.MachineLearningServices/workspaces/primaryUserAssignedIdentity","notEquals":"x"}`, true},
		{"equals bool", `{"field":"Microsoft.MachineLearningServices/workspaces/hbiWorkspace","equals":false}`, true},
		{"equals bool string", `{"field":"Microsoft.MachineLearningServices/workspaces/v1LegacyMode","equals":"false"}`, true},
		{"like", `{"field":"name","like":"WS*"}`, true},
		{"like no", `{"field":"name","like":"x*"}`, false},
		{"notLike", `{"field":"name","notLike":"x*"}`, true},
		{"match", `{"value":"[field('name')]","match":"ws#"}`, true},
		{"match case", `{"value":"WS1","match":"ws#"}`, false},
		{"matchInsensitively", `{"value":"WS1","matchInsensitively":"ws#"}`, true},
		{"match letter", `{"field":"location","match":"????us"}`, true},
		{"notMatch", `{"field":"name","notMatch":"ws##"}`, true},
		{"notMatchInsensitively", `{"value":"WS1","notMatchInsensitively":"ws#"}`, false},
		{"matchInsensitively other letter", `{"value":"WX1","matchInsensitively":"ws#"}`, false},
		{"in a nested array", `{"field":"name","in":[["ws1"]]}`, false},
		{"equals the whole tag map", `{"field":"tags","equals":{"env":"PROD","OWNER":"team-a"}}`, true},
		{"equals part of the tag map", `{"field":"tags","equals":{"env":"prod"}}`, false},
		{"number in a string greater", `{"value":"10","greater":9}`, true},
		{"contains", `{"field":"location","contains":"EAST"}`, true},
		{"notContains", `{"field":"location","notContains":"west"}`, true},
		{"contains missing", `{"field":"Microsoft.MachineLearningServices/workspaces/primaryUserAssignedIdentity","contains":"x"}`, false},
		{"notContains missing", `{"field":"Microsoft.MachineLearningServices/workspaces/primaryUserAssignedIdentity","notContains":"x"}`, true},
		{"in", `{"field":"location","in":["westus","EastUS"]}`, true},
		{"notIn", `{"field":"location","notIn":["westus"]}`, true},
		{"notin lower case operator", `{"field":"location","notin":["eastus"]}`, false},
		{"containsKey", `{"field":"tags","containsKey":"env"}`, true},
		{"notContainsKey", `{"field":"tags","notContainsKey":"cost"}`, true},
		{"tag value", `{"field":"tags['env']","equals":"PROD"}`, true},
		{"tag dot", `{"field":"tags.owner","equals":"team-a"}`, true},
		{"tag missing exists", `{"field":"tags['cost']","exists":false}`, true},
		{"exists", `{"field":"` + pna + `","exists":"true"}`, true},
		{"exists false", `{"field":"Microsoft.MachineLearningServices/workspaces/primaryUserAssignedIdentity","exists":true}`, false},
		{"less", `{"value":"[length(field('name'))]","less":4}`, true},
		{"lessOrEquals", `{"value":3,"lessOrEquals":3}`, true},
		{"greater", `{"value":"2022-05-01","greater":"2021-10-01"}`, true},
		{"greaterOrEquals", `{"value":2,"greaterOrEquals":3}`, false},
		{"type", `{"field":"type","equals":"microsoft.machinelearningservices/WORKSPACES"}`, true},
		{"kind", `{"field":"kind","equals":"default"}`, true},
		{"nested alias", `{"field":"Microsoft.MachineLearningServices/workspaces/managedNetwork.isolationMode","equals":"AllowOnlyApprovedOutbound"}`, true},
		{"encryption", `{"field":"Microsoft.MachineLearningServices/workspaces/encryption.status","notEquals":"enabled"}`, true},
		{"allOf", `{"allOf":[{"field":"name","equals":"ws1"},{"field":"location","equals":"westus"}]}`, false},
		{"anyOf", `{"anyOf":[{"field":"name","equals":"x"},{"field":"location","equals":"eastus"}]}`, true},
		{"not", `{"not":{"field":"name","equals":"x"}}`, true},
		{"array alias all", `{"field":"Microsoft.MachineLearningServices/workspaces/privateEndpointConnections[*].privateLinkServiceConnectionState.status","equals":"Approved"}`, false},
		{"count where", `{"count":{"field":"Microsoft.MachineLearningServices/workspaces/privateEndpointConnections[*]","where":{"field":"Microsoft.MachineLearningServices/workspaces/privateEndpointConnections[*].privateLinkServiceConnectionState.status","equals":"Approved"}},"equals":1}`, true},
		{"count all", `{"count":{"field":"Microsoft.MachineLearningServices/workspaces/privateEndpointConnections[*]"},"equals":2}`, true},
		// field() of a [*] alias is the array of every value it reaches.
		{"field of an array alias", `{"value":"[length(field('Microsoft.MachineLearningServices/workspaces/privateEndpointConnections[*].privateLinkServiceConnectionState.status'))]","equals":2}`, true},
		// Inside a count, only the counted [*] path is the current element:
		// the same names without [*] are still the whole array.
		{"count where the whole array", `{"count":{"field":"Microsoft.MachineLearningServices/workspaces/privateEndpointConnections[*]","where":{"value":"[length(field('Microsoft.MachineLearningServices/workspaces/privateEndpointConnections'))]","equals":2}},"equals":2}`, true},
		{"value count", `{"count":{"value":["a","b","eastus"],"name":"l","where":{"value":"[current('l')]","equals":"[field('location')]"}},"greater":0}`, true},
		{"concat toLower", `{"value":"[concat(toLower(field('name')), '-', parameters('suffix'))]","equals":"ws1-x"}`, true},
		{"parameter list", `{"field":"location","in":"[parameters('locations')]"}`, true},
		{"requestContext", `{"value":"[requestContext().apiVersion]","greaterOrEquals":"2021-07-01"}`, true},
		{"escaped bracket literal", `{"value":"[[x]","equals":"[[x]"}`, true},
	}
	res := obj(t, wsBody)
	params := `{"suffix":{"type":"String"},"locations":{"type":"Array","defaultValue":["eastus"]}}`
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rule := obj(t, `{"if":`+c.cond+`,"then":{"effect":"audit"}}`)
			d, err := Parse("Indexed", obj(t, params), rule)
			if err != nil {
				t.Fatal(err)
			}
			pv, err := d.ResolveParameters(map[string]any{"suffix": map[string]any{"value": "x"}})
			if err != nil {
				t.Fatal(err)
			}
			got, exprs, err := d.Match(Input{Resource: res, Params: pv, APIVersion: "2023-04-01"})
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("got %v, want %v; evaluated %+v", got, c.want, exprs)
			}
			if len(exprs) == 0 {
				t.Fatal("no expression recorded")
			}
		})
	}
}

func TestBuiltInPublicNetworkAccess(t *testing.T) {
	b, ok := FindBuiltIn("438C38D2-3772-465a-a9cc-7a6666a275ce")
	if !ok {
		t.Fatal("built-in missing")
	}
	d, err := Parse(b.Mode, b.Parameters, b.Rule)
	if err != nil {
		t.Fatal(err)
	}
	pv, err := d.ResolveParameters(map[string]any{"effect": map[string]any{"value": "Deny"}})
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := d.Effect(pv); e != EffectDeny {
		t.Fatalf("effect %q", e)
	}
	def, _ := d.ResolveParameters(nil)
	if e, _ := d.Effect(def); e != EffectAudit {
		t.Fatalf("default effect %q", e)
	}
	for _, c := range []struct {
		props string
		typ   string
		want  bool
	}{
		{`{"publicNetworkAccess":"Enabled"}`, "Microsoft.MachineLearningServices/workspaces", true},
		{`{}`, "Microsoft.MachineLearningServices/workspaces", true},
		{`{"publicNetworkAccess":"Disabled"}`, "Microsoft.MachineLearningServices/workspaces", false},
		{`{"publicNetworkAccess":"disabled"}`, "Microsoft.MachineLearningServices/workspaces", false},
		{`{"publicNetworkAccess":"Enabled"}`, "Microsoft.Storage/storageAccounts", false},
	} {
		res := obj(t, `{"name":"w","type":"`+c.typ+`","properties":`+c.props+`}`)
		got, exprs, err := d.Match(Input{Resource: res, Params: pv})
		if err != nil || got != c.want {
			t.Fatalf("%s %s: got %v %v, want %v (%+v)", c.typ, c.props, got, err, c.want, exprs)
		}
		if c.want {
			last := exprs[len(exprs)-1]
			if last.Path != "properties.publicNetworkAccess" || last.Result != "True" {
				t.Fatalf("deciding expression %+v", last)
			}
		}
	}
}

func TestAllBuiltInsParse(t *testing.T) {
	for _, b := range BuiltIns() {
		d, err := Parse(b.Mode, b.Parameters, b.Rule)
		if err != nil {
			t.Fatalf("%s: %v", b.Name, err)
		}
		if _, err := d.ResolveParameters(nil); err != nil {
			t.Fatalf("%s defaults: %v", b.Name, err)
		}
	}
}

func TestModifyAndAppend(t *testing.T) {
	b, _ := FindBuiltIn("a10ee784-7409-4941-b091-663697637c0f")
	d, err := Parse(b.Mode, b.Parameters, b.Rule)
	if err != nil {
		t.Fatal(err)
	}
	pv, _ := d.ResolveParameters(nil)
	res := obj(t, wsBody)
	ch, err := d.Mutate(EffectModify, Input{Resource: res, Params: pv, APIVersion: "2023-04-01"})
	if err != nil || len(ch) != 1 {
		t.Fatalf("changes %v %v", ch, err)
	}
	if res["properties"].(map[string]any)["publicNetworkAccess"] != "Disabled" {
		t.Fatalf("not modified: %v", res["properties"])
	}
	// An old api-version does not know the property: the condition skips it.
	res = obj(t, wsBody)
	if ch, err := d.Mutate(EffectModify, Input{Resource: res, Params: pv, APIVersion: "2020-01-01"}); err != nil || len(ch) != 0 {
		t.Fatalf("changes at old api-version: %v %v", ch, err)
	}
	rule := obj(t, `{"if":{"field":"type","equals":"Microsoft.MachineLearningServices/workspaces"},"then":{"effect":"modify","details":{"roleDefinitionIds":["x"],"operations":[
		{"operation":"add","field":"tags['Env']","value":"dev"},
		{"operation":"add","field":"tags['cost']","value":"[parameters('cc')]"},
		{"operation":"addOrReplace","field":"tags['owner']","value":"team-b"},
		{"operation":"remove","field":"Microsoft.MachineLearningServices/workspaces/hbiWorkspace"}]}}}`)
	d, err = Parse("Indexed", obj(t, `{"cc":{"type":"String","defaultValue":"42"}}`), rule)
	if err != nil {
		t.Fatal(err)
	}
	pv, _ = d.ResolveParameters(nil)
	res = obj(t, wsBody)
	ch, err = d.Mutate(EffectModify, Input{Resource: res, Params: pv})
	if err != nil || len(ch) != 3 {
		t.Fatalf("changes %+v %v", ch, err)
	}
	tags := res["tags"].(map[string]any)
	if tags["Env"] != "prod" || tags["cost"] != "42" || tags["owner"] != "team-b" {
		t.Fatalf("tags %v", tags)
	}
	if _, ok := res["properties"].(map[string]any)["hbiWorkspace"]; ok {
		t.Fatal("hbiWorkspace not removed")
	}
	rule = obj(t, `{"if":{"field":"tags['env']","exists":false},"then":{"effect":"append","details":[{"field":"tags['env']","value":"dev"}]}}`)
	d, err = Parse("Indexed", nil, rule)
	if err != nil {
		t.Fatal(err)
	}
	res = obj(t, `{"name":"x","tags":{}}`)
	if ch, err := d.Mutate(EffectAppend, Input{Resource: res}); err != nil || len(ch) != 1 || res["tags"].(map[string]any)["env"] != "dev" {
		t.Fatalf("append: %v %v %v", ch, res, err)
	}
}

func TestRelated(t *testing.T) {
	b, _ := FindBuiltIn("7f40cee6-e933-4d0f-a782-b96615e0f4a6")
	d, err := Parse(b.Mode, b.Parameters, b.Rule)
	if err != nil {
		t.Fatal(err)
	}
	res := obj(t, wsBody)
	in := Input{Resource: res}
	r := d.Related()
	if name, _ := r.NameOf(in); name != "ws1" || r.Type != "Microsoft.MachineLearningServices/workspaces" {
		t.Fatalf("related %q %q", r.Type, name)
	}
	if ok, _ := r.Satisfies(res, in); ok {
		t.Fatal("encryption disabled satisfies")
	}
	res["properties"].(map[string]any)["encryption"] = map[string]any{"status": "Enabled"}
	if ok, _ := r.Satisfies(res, in); !ok {
		t.Fatal("encryption enabled does not satisfy")
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, params, rule, code string
	}{
		{"unknown operator", ``, `{"if":{"field":"name","equalz":"x"},"then":{"effect":"deny"}}`, CodeInvalidPolicyRule},
		{"two operators", ``, `{"if":{"field":"name","equals":"x","like":"y"},"then":{"effect":"deny"}}`, CodeInvalidPolicyRule},
		{"no operand", ``, `{"if":{"equals":"x"},"then":{"effect":"deny"}}`, CodeInvalidPolicyRule},
		{"unknown alias", ``, `{"if":{"field":"Microsoft.MachineLearningServices/workspaces/nope","equals":"x"},"then":{"effect":"deny"}}`, CodeInvalidPolicyAlias},
		{"unknown field", ``, `{"if":{"field":"properties.publicNetworkAccess","equals":"x"},"then":{"effect":"deny"}}`, CodeInvalidPolicyAlias},
		{"unknown alias in field()", ``, `{"if":{"value":"[field('Microsoft.X/y/z')]","equals":"x"},"then":{"effect":"deny"}}`, CodeInvalidPolicyAlias},
		{"bad effect", ``, `{"if":{"field":"name","equals":"x"},"then":{"effect":"explode"}}`, CodeInvalidPolicyEffect},
		{"bad allowed effect", `{"effect":{"type":"String","allowedValues":["Audit","Boom"]}}`, `{"if":{"field":"name","equals":"x"},"then":{"effect":"[parameters('effect')]"}}`, CodeInvalidPolicyEffect},
		{"missing effect", ``, `{"if":{"field":"name","equals":"x"},"then":{}}`, CodeInvalidPolicyRule},
		{"missing then", ``, `{"if":{"field":"name","equals":"x"}}`, CodeInvalidPolicyRule},
		{"missing if", ``, `{"then":{"effect":"deny"}}`, CodeInvalidPolicyRule},
		{"empty allOf", ``, `{"if":{"allOf":[]},"then":{"effect":"deny"}}`, CodeInvalidPolicyRule},
		{"in needs array", ``, `{"if":{"field":"name","in":"x"},"then":{"effect":"deny"}}`, CodeInvalidPolicyRule},
		{"bad expression", ``, `{"if":{"value":"[concat('a']","equals":"x"},"then":{"effect":"deny"}}`, CodeInvalidPolicyRule},
		// The code follows the error, not the words the expression quotes.
		{"bad expression quoting an alias error", ``, `{"if":{"value":"[concat('is not a known alias']","equals":"x"},"then":{"effect":"deny"}}`, CodeInvalidPolicyRule},
		{"unknown function", ``, `{"if":{"value":"[explode()]","equals":"x"},"then":{"effect":"deny"}}`, CodeInvalidPolicyRule},
		{"undefined parameter", ``, `{"if":{"field":"name","equals":"[parameters('nope')]"},"then":{"effect":"deny"}}`, CodeUndefinedParameter},
		{"bad parameter type", `{"p":{"type":"Strange"}}`, `{"if":{"field":"name","equals":"x"},"then":{"effect":"deny"}}`, CodeInvalidPolicyParameters},
		{"default not allowed", `{"p":{"type":"String","allowedValues":["a"],"defaultValue":"b"}}`, `{"if":{"field":"name","equals":"x"},"then":{"effect":"deny"}}`, CodeInvalidPolicyParameters},
		{"modify without operations", ``, `{"if":{"field":"name","equals":"x"},"then":{"effect":"modify","details":{}}}`, CodeInvalidPolicyRule},
		{"modify bad operation", ``, `{"if":{"field":"name","equals":"x"},"then":{"effect":"modify","details":{"operations":[{"operation":"set","field":"tags['a']","value":"b"}]}}}`, CodeInvalidPolicyRule},
		{"count without star", ``, `{"if":{"count":{"field":"Microsoft.MachineLearningServices/workspaces/publicNetworkAccess"},"equals":0},"then":{"effect":"deny"}}`, CodeInvalidPolicyRule},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var params any
			if c.params != "" {
				params = obj(t, c.params)
			}
			var rule any
			if err := json.Unmarshal([]byte(c.rule), &rule); err != nil {
				t.Fatal(err)
			}
			_, err := Parse("All", params, rule)
			ae, ok := arm.AsError(err)
			if !ok || ae.Code != c.code || ae.Status != 400 {
				t.Fatalf("got %v, want %s", err, c.code)
			}
		})
	}
}

func TestAssignmentParameters(t *testing.T) {
	b, _ := FindBuiltIn("438c38d2-3772-465a-a9cc-7a6666a275ce")
	d, _ := Parse(b.Mode, b.Parameters, b.Rule)
	for _, bad := range []map[string]any{
		{"effect": map[string]any{"value": "Explode"}},
		{"nope": map[string]any{"value": "x"}},
		{"effect": "Deny"},
		{"effect": map[string]any{"value": 3}},
	} {
		if _, err := d.ResolveParameters(bad); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}
