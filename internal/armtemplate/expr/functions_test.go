package expr

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// testContext has the parameters Azure's documentation examples use.
func testContext() *Context {
	return &Context{
		Parameters: map[string]any{
			"dogs": mustJSON(`[{"name":"Evie","age":5,"interests":["Ball","Frisbee"]},
				{"name":"Casper","age":3,"interests":["Other dogs"]},
				{"name":"Indy","age":2,"interests":["Butter"]},
				{"name":"Kira","age":8,"interests":["Rubs"]}]`),
			"firstObject":  mustJSON(`{"one":"a","two":"b","three":"c1"}`),
			"secondObject": mustJSON(`{"three":"c2","four":"d","five":"e"}`),
			"firstArray":   mustJSON(`["one","two","three"]`),
			"secondArray":  mustJSON(`["three","four"]`),
			"objectToTest": mustJSON(`{"null1":null,"null2":null,"string":"default","int":1,"object":{"first":"default"},"array":[1]}`),
			"Mixed":        "Value",
		},
		Variables: map[string]any{
			"prefix": "[concat('pre', '-', parameters('mixed'))]",
			"full":   "[concat(variables('prefix'), '-x')]",
			"loopA":  "[variables('loopB')]",
			"loopB":  "[variables('loopA')]",
			"nested": map[string]any{"a": "[variables('prefix')]", "[variables('prefix')]": 1},
		},
		Loops: []Loop{{Name: "outer", Index: 2}, {Name: "inner", Index: 5}},
		Scope: Scope{SubscriptionID: "00000000-0000-0000-0000-000000000001", ResourceGroup: "rg1", ManagementGroup: "mg1"},
		ResourceGroup: map[string]any{
			"id":   "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1",
			"name": "rg1", "location": "westus",
		},
		Now:  func() time.Time { return time.Date(2019, 3, 5, 17, 53, 18, 0, time.UTC) },
		Rand: bytes.NewReader(make([]byte, 64)),
	}
}

func mustJSON(s string) any {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		panic(err)
	}
	return Normalize(v)
}

type evalCase struct {
	expr string
	want string // JSON of the result
}

func runCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		got, err := EvalString(tc.expr, testContext())
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		want := compactJSON(mustJSON(tc.want))
		if g := compactJSON(got); g != want {
			t.Errorf("%s = %s, want %s", tc.expr, g, want)
		}
	}
}

// Examples of https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-string
func TestStringFunctions(t *testing.T) {
	runCases(t, []evalCase{
		{`base64('one, two, three')`, `"b25lLCB0d28sIHRocmVl"`},
		{`base64ToString('b25lLCB0d28sIHRocmVl')`, `"one, two, three"`},
		{`base64ToJson('eyJvbmUiOiAiYSIsICJ0d28iOiAiYiJ9')`, `{"one":"a","two":"b"}`},
		{`concat('prefix', '-', 'x')`, `"prefix-x"`},
		{`concat('a', 1, true())`, `"a1True"`},
		{`contains('OneTwoThree', 'e')`, `true`},
		{`contains('OneTwoThree', 'z')`, `false`},
		{`contains('OneTwoThree', 'two')`, `false`},
		{`dataUri('Hello')`, `"data:text/plain;charset=utf8;base64,SGVsbG8="`},
		{`dataUriToString('data:;base64,SGVsbG8sIFdvcmxkIQ==')`, `"Hello, World!"`},
		{`empty('')`, `true`},
		{`endsWith('abcdef', 'ef')`, `true`},
		{`endsWith('abcdef', 'F')`, `true`},
		{`endsWith('abcdef', 'e')`, `false`},
		{`startsWith('abcdef', 'ab')`, `true`},
		{`startsWith('abcdef', 'A')`, `true`},
		{`startsWith('abcdef', 'e')`, `false`},
		{`first('One Two Three')`, `"O"`},
		{`last('One Two Three')`, `"e"`},
		{`format('{0}, {1}. Formatted number: {2:N0}', 'Hello', 'User', 8175133)`, `"Hello, User. Formatted number: 8,175,133"`},
		{`format('{0:N2}|{1,5}|{1,-5}|{2:D4}|{2:X}|{{x}}', json('1234.5'), 'ab', 255)`, `"1,234.50|   ab|ab   |0255|FF|{x}"`},
		{`indexOf('test', 't')`, `0`},
		{`indexOf('abcdef', 'CD')`, `2`},
		{`indexOf('abcdef', 'z')`, `-1`},
		{`lastIndexOf('test', 't')`, `3`},
		{`lastIndexOf('abcdef', 'AB')`, `0`},
		{`lastIndexOf('abcdef', 'z')`, `-1`},
		{`join(createArray('one', 'two', 'three'), ',')`, `"one,two,three"`},
		{`join(createArray('one', 'two', 'three'), ';')`, `"one;two;three"`},
		{`json('{"a": "b"}')`, `{"a":"b"}`},
		{`json('null')`, `null`},
		{`json('"demo"')`, `"demo"`},
		{`json('1.5')`, `1.5`},
		{`json('[1, 2]')[1]`, `2`},
		{`length('One Two Three')`, `13`},
		{`padLeft('123', 10, '0')`, `"0000000123"`},
		{`padLeft(123, 5)`, `"  123"`},
		{`padLeft('123456', 3, '0')`, `"123456"`},
		{`replace('123-123-1234', '-', '')`, `"1231231234"`},
		{`replace('123-123-1234', '1234', 'xxxx')`, `"123-123-xxxx"`},
		{`skip('one two three', 4)`, `"two three"`},
		{`skip('abc', 10)`, `""`},
		{`split('one,two,three', ',')`, `["one","two","three"]`},
		{`split('one;two,three', createArray(',', ';'))`, `["one","two","three"]`},
		{`split('a,,b', ',')`, `["a","","b"]`},
		{`string(json('{"valueA":10,"valueB":"Example Text"}'))`, `"{\"valueA\":10,\"valueB\":\"Example Text\"}"`},
		{`string(createArray('a', 'b', 'c'))`, `"[\"a\",\"b\",\"c\"]"`},
		{`string(5)`, `"5"`},
		{`string(true())`, `"True"`},
		{`substring('hello there', 1, 3)`, `"ell"`},
		{`substring('hello there', 6)`, `"there"`},
		{`take('one two three', 2)`, `"on"`},
		{`toLower('One Two Three')`, `"one two three"`},
		{`toUpper('One Two Three')`, `"ONE TWO THREE"`},
		{`trim('    one two three   ')`, `"one two three"`},
		{`uri('http://contoso.com/resources/', 'nested/azuredeploy.json')`, `"http://contoso.com/resources/nested/azuredeploy.json"`},
		{`uri('http://contoso.com/resources/azuredeploy.json', 'nested/azuredeploy.json')`, `"http://contoso.com/resources/nested/azuredeploy.json"`},
		{`uriComponent('http://contoso.com/resources/nested/azuredeploy.json')`, `"http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json"`},
		{`uriComponentToString('http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json')`, `"http://contoso.com/resources/nested/azuredeploy.json"`},
		{`length(uniqueString('a'))`, `13`},
		{`newGuid()`, `"00000000-0000-4000-8000-000000000000"`},
	})
}

// Examples of https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-array
func TestArrayFunctions(t *testing.T) {
	runCases(t, []evalCase{
		{`array(1)`, `[1]`},
		{`array('efgh')`, `["efgh"]`},
		{`array(json('{"a":"b","c":"d"}'))`, `[{"a":"b","c":"d"}]`},
		{`array(createArray(1))`, `[1]`},
		{`concat(createArray('1-1', '1-2', '1-3'), createArray('2-1', '2-2', '2-3'))`, `["1-1","1-2","1-3","2-1","2-2","2-3"]`},
		{`contains(parameters('firstArray'), 'three')`, `true`},
		{`contains(parameters('firstArray'), 'four')`, `false`},
		{`createArray('a', 'b', 'c')`, `["a","b","c"]`},
		{`createArray(1, 2, 3)`, `[1,2,3]`},
		{`createArray(parameters('firstObject'))`, `[{"one":"a","two":"b","three":"c1"}]`},
		{`createArray()`, `[]`},
		{`empty(createArray())`, `true`},
		{`empty(json('{}'))`, `true`},
		{`empty(null())`, `true`},
		{`first(parameters('firstArray'))`, `"one"`},
		{`last(parameters('firstArray'))`, `"three"`},
		{`first(createArray())`, `null`},
		{`flatten(createArray(createArray('one', 'two'), createArray('three'), createArray('four', 'five')))`, `["one","two","three","four","five"]`},
		{`indexOf(createArray('one', 'two', 'three'), 'two')`, `1`},
		{`indexOf(createArray(1, 2, 3), 4)`, `-1`},
		{`indexOf(createArray(1, createArray(2), 3), createArray(2))`, `1`},
		{`lastIndexOf(createArray('one', 'two', 'one'), 'one')`, `2`},
		{`intersection(parameters('firstArray'), parameters('secondArray'))`, `["three"]`},
		{`intersection(createArray('one', 'two', 'three'), createArray('two', 'three'))`, `["two","three"]`},
		{`length(parameters('firstArray'))`, `3`},
		{`length(parameters('firstObject'))`, `3`},
		{`max(createArray(0, 3, 2, 5, 4))`, `5`},
		{`max(0, 3, 2, 5, 4)`, `5`},
		{`min(createArray(0, 3, 2, 5, 4))`, `0`},
		{`min(0, 3, 2, 5, 4)`, `0`},
		{`range(1, 5)`, `[1,2,3,4,5]`},
		{`range(5, 0)`, `[]`},
		{`skip(parameters('firstArray'), 2)`, `["three"]`},
		{`skip(parameters('firstArray'), -1)`, `["one","two","three"]`},
		{`take(parameters('firstArray'), 2)`, `["one","two"]`},
		{`take(parameters('firstArray'), 10)`, `["one","two","three"]`},
		{`union(parameters('firstArray'), parameters('secondArray'))`, `["one","two","three","four"]`},
	})
}

// Examples of https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-object
func TestObjectFunctions(t *testing.T) {
	runCases(t, []evalCase{
		{`contains(parameters('firstObject'), 'ONE')`, `true`},
		{`contains(parameters('firstObject'), 'a')`, `false`},
		{`createObject('intProp', 1, 'stringProp', 'abc', 'boolProp', true(), 'arrayProp', createArray('a', 'b', 'c'), 'objectProp', createObject('key1', 'value1'))`,
			`{"intProp":1,"stringProp":"abc","boolProp":true,"arrayProp":["a","b","c"],"objectProp":{"key1":"value1"}}`},
		{`intersection(json('{"one":"a","two":"b","three":"c"}'), json('{"one":"a","two":"z","three":"c"}'))`, `{"one":"a","three":"c"}`},
		{`items(json('{"item002":{"enabled":false,"displayName":"Sample item 2","number":200},"item001":{"enabled":true,"displayName":"Example item 1","number":300}}'))`,
			`[{"key":"item001","value":{"enabled":true,"displayName":"Example item 1","number":300}},{"key":"item002","value":{"enabled":false,"displayName":"Sample item 2","number":200}}]`},
		{`null()`, `null`},
		{`objectKeys(json('{"a":1,"b":2}'))`, `["a","b"]`},
		{`shallowMerge(createArray(json('{"one":"a"}'), json('{"two":"b"}'), json('{"two":"c"}')))`, `{"one":"a","two":"c"}`},
		{`shallowMerge(createArray(json('{"one":"a","nested":{"a":1,"nested":{"c":3}}}'), json('{"two":"b","nested":{"b":2}}')))`, `{"one":"a","nested":{"b":2},"two":"b"}`},
		{`union(parameters('firstObject'), parameters('secondObject'))`, `{"one":"a","two":"b","three":"c2","four":"d","five":"e"}`},
		{`union(json('{"property":{"one":"a","two":"b","three":"c1"},"nestedArray":[1,2]}'), json('{"property":{"three":"c2","four":"d","five":"e"},"nestedArray":[3,4]}'))`,
			`{"property":{"one":"a","two":"b","three":"c2","four":"d","five":"e"},"nestedArray":[3,4]}`},
		{`tryGet(parameters('firstObject'), 'two')`, `"b"`},
		{`tryGet(parameters('firstObject'), 'missing')`, `null`},
		{`tryGet(parameters('dogs'), 0, 'interests', 1)`, `"Frisbee"`},
		{`tryGet(parameters('dogs'), 9)`, `null`},
	})
}

// Examples of template-functions-comparison, -logical and -numeric.
func TestLogicAndNumericFunctions(t *testing.T) {
	runCases(t, []evalCase{
		{`coalesce(parameters('objectToTest').null1, parameters('objectToTest').null2, parameters('objectToTest').string)`, `"default"`},
		{`coalesce(parameters('objectToTest').null1, parameters('objectToTest').null2, parameters('objectToTest').int)`, `1`},
		{`coalesce(parameters('objectToTest').null1, parameters('objectToTest').null2, parameters('objectToTest').object)`, `{"first":"default"}`},
		{`coalesce(parameters('objectToTest').null1, parameters('objectToTest').null2, parameters('objectToTest').array)`, `[1]`},
		{`coalesce(parameters('objectToTest').null1, parameters('objectToTest').null2)`, `null`},
		{`equals(1, 1)`, `true`},
		{`equals('a', 'a')`, `true`},
		{`equals('a', 'A')`, `false`},
		{`equals(createArray('a', 'b'), createArray('a', 'b'))`, `true`},
		{`equals(json('{"a":"b"}'), json('{"a":"b"}'))`, `true`},
		{`equals(json('1.0'), 1)`, `true`},
		{`greater(10, 5)`, `true`},
		{`greater('A', 'a')`, `true`},
		{`greaterOrEquals(10, 5)`, `true`},
		{`greaterOrEquals('A', 'a')`, `true`},
		{`less(10, 5)`, `false`},
		{`less('A', 'a')`, `false`},
		{`lessOrEquals(10, 5)`, `false`},
		{`lessOrEquals('A', 'a')`, `false`},
		{`less('2021-07-01', '2022-01-01')`, `true`},
		{`and(true(), false())`, `false`},
		{`or(true(), false())`, `true`},
		{`not(true())`, `false`},
		{`bool('true')`, `true`},
		{`bool('False')`, `false`},
		{`bool(0)`, `false`},
		{`bool(1)`, `true`},
		{`if(equals('a', 'a'), 'yes', 'no')`, `"yes"`},
		{`if(equals('a', 'b'), 'yes', 'no')`, `"no"`},
		{`if(true(), 'ok', div(1, 0))`, `"ok"`},
		{`add(5, 3)`, `8`},
		{`sub(7, 3)`, `4`},
		{`mul(5, 3)`, `15`},
		{`div(8, 3)`, `2`},
		{`div(-8, 3)`, `-2`},
		{`mod(7, 3)`, `1`},
		{`int('4')`, `4`},
		{`int(json('4.7'))`, `4`},
		{`float('1.5')`, `1.5`},
		{`add(9223372036854775807, 0)`, `9223372036854775807`},
		{`copyIndex()`, `5`},
		{`copyIndex(1)`, `6`},
		{`copyIndex('OUTER')`, `2`},
		{`copyIndex('outer', 10)`, `12`},
	})
}

// Examples of template-functions-lambda.
func TestLambdaFunctions(t *testing.T) {
	runCases(t, []evalCase{
		{`filter(parameters('dogs'), lambda('dog', greaterOrEquals(lambdaVariables('dog').age, 5)))`,
			`[{"name":"Evie","age":5,"interests":["Ball","Frisbee"]},{"name":"Kira","age":8,"interests":["Rubs"]}]`},
		{`filter(range(0, 10), lambda('i', lessOrEquals(lambdaVariables('i'), 3)))`, `[0,1,2,3]`},
		{`map(parameters('dogs'), lambda('dog', lambdaVariables('dog').name))`, `["Evie","Casper","Indy","Kira"]`},
		{`map(parameters('dogs'), lambda('dog', 'i', concat(string(lambdaVariables('i')), lambdaVariables('dog').name)))`, `["0Evie","1Casper","2Indy","3Kira"]`},
		{`map(range(0, 2), lambda('x', map(range(0, 2), lambda('y', add(lambdaVariables('x'), lambdaVariables('y'))))))`, `[[0,1],[1,2]]`},
		{`reduce(map(parameters('dogs'), lambda('dog', lambdaVariables('dog').age)), 0, lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next'))))`, `18`},
		{`reduce(createArray(1, 3, 5), 10, lambda('cur', 'next', mod(add(lambdaVariables('cur'), lambdaVariables('next')), 3)))`, `1`},
		{`map(sort(parameters('dogs'), lambda('a', 'b', less(lambdaVariables('a').age, lambdaVariables('b').age))), lambda('d', lambdaVariables('d').name))`, `["Indy","Casper","Evie","Kira"]`},
		{`toObject(parameters('dogs'), lambda('entry', lambdaVariables('entry').name), lambda('entry', lambdaVariables('entry').age))`, `{"Evie":5,"Casper":3,"Indy":2,"Kira":8}`},
		{`toObject(createArray('a'), lambda('x', lambdaVariables('x')))`, `{"a":"a"}`},
		{`groupBy(createArray('foo', 'bar', 'baz'), lambda('x', substring(lambdaVariables('x'), 0, 1)))`, `{"f":["foo"],"b":["bar","baz"]}`},
		{`mapValues(json('{"foo":"foo","bar":"bar"}'), lambda('val', toUpper(lambdaVariables('val'))))`, `{"foo":"FOO","bar":"BAR"}`},
	})
}

// Examples of template-functions-cidr and template-functions-date.
func TestCIDRAndDateFunctions(t *testing.T) {
	runCases(t, []evalCase{
		{`parseCidr('10.144.0.0/20')`, `{"network":"10.144.0.0","netmask":"255.255.240.0","broadcast":"10.144.15.255","firstUsable":"10.144.0.1","lastUsable":"10.144.15.254","cidr":20}`},
		{`parseCidr('fdad:3236:5555::/48')`, `{"network":"fdad:3236:5555::","netmask":"ffff:ffff:ffff::","firstUsable":"fdad:3236:5555::","lastUsable":"fdad:3236:5555:ffff:ffff:ffff:ffff:ffff","cidr":48}`},
		{`map(range(0, 3), lambda('i', cidrSubnet('10.144.0.0/20', 24, lambdaVariables('i'))))`, `["10.144.0.0/24","10.144.1.0/24","10.144.2.0/24"]`},
		{`cidrSubnet('fdad:3236:5555::/48', 52, 3)`, `"fdad:3236:5555:3000::/52"`},
		{`map(range(0, 3), lambda('i', cidrHost('10.144.3.0/24', lambdaVariables('i'))))`, `["10.144.3.1","10.144.3.2","10.144.3.3"]`},
		{`cidrHost('fdad:3236:5555:3000::/52', 0)`, `"fdad:3236:5555:3000::1"`},
		{`dateTimeAdd('2020-04-07 14:53:14Z', 'P3Y')`, `"2023-04-07T14:53:14Z"`},
		{`dateTimeAdd('2020-04-07 14:53:14Z', '-PT9H')`, `"2020-04-07T05:53:14Z"`},
		{`dateTimeAdd('2020-04-07 14:53:14Z', 'PT1H30M', 'yyyy-MM-dd HH:mm')`, `"2020-04-07 16:23"`},
		{`dateTimeAdd('2020-01-31T00:00:00Z', 'P1W1DT0.5S')`, `"2020-02-08T00:00:00.5Z"`},
		{`dateTimeFromEpoch(1683040573)`, `"2023-05-02T15:16:13Z"`},
		{`dateTimeToEpoch('2023-05-02T15:16:13Z')`, `1683040573`},
		{`dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y'))`, `1583430798`},
		{`utcNow()`, `"20190305T175318Z"`},
		{`utcNow('u')`, `"2019-03-05 17:53:18Z"`},
		{`utcNow('d')`, `"3/5/2019"`},
		{`utcNow('yyyy-MM-dd''T''hh tt')`, `"2019-03-05T05 PM"`},
	})
}

// Deployment functions: https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource
func TestDeploymentFunctions(t *testing.T) {
	runCases(t, []evalCase{
		{`parameters('MIXED')`, `"Value"`},
		{`variables('full')`, `"pre-Value-x"`},
		{`variables('nested')`, `{"a":"pre-Value","pre-Value":1}`},
		{`resourceGroup().location`, `"westus"`},
		{`resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'default')`,
			`"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default"`},
		{`resourceId('otherRG', 'Microsoft.Storage/storageAccounts', 'sa')`,
			`"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/otherRG/providers/Microsoft.Storage/storageAccounts/sa"`},
		{`resourceId('sub2', 'rg2', 'Microsoft.Storage/storageAccounts', 'sa')`,
			`"/subscriptions/sub2/resourceGroups/rg2/providers/Microsoft.Storage/storageAccounts/sa"`},
		{`subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c')`,
			`"/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"`},
		{`subscriptionResourceId('sub2', 'Microsoft.Resources/resourceGroups', 'rg')`, `"/subscriptions/sub2/providers/Microsoft.Resources/resourceGroups/rg"`},
		{`tenantResourceId('Microsoft.Authorization/policyDefinitions', 'p1')`, `"/providers/Microsoft.Authorization/policyDefinitions/p1"`},
		{`extensionResourceId(resourceGroup().id, 'Microsoft.Authorization/locks', 'lock1')`,
			`"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.Authorization/locks/lock1"`},
		{`managementGroupResourceId('Microsoft.Authorization/policyDefinitions', 'p1')`, `"/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Authorization/policyDefinitions/p1"`},
		{`managementGroupResourceId('mg2', 'Microsoft.Authorization/policyDefinitions', 'p1')`, `"/providers/Microsoft.Management/managementGroups/mg2/providers/Microsoft.Authorization/policyDefinitions/p1"`},
	})
}

func TestFunctionNamesIgnoreCase(t *testing.T) {
	runCases(t, []evalCase{
		{`CONCAT('a', ToLower('B'))`, `"ab"`},
		{`uniquestring('aaa')`, `"zavj67f3en4hc"`},
		{`UNIQUESTRING('aaa')`, `"zavj67f3en4hc"`},
		{`Parameters('firstObject').ONE`, `"a"`},
		{`parameters('firstObject')['TWO']`, `"b"`},
	})
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`nosuch(1)`, "The template function 'nosuch' is not valid"},
		{`concat()`, "'concat': the function requires at least 1 argument(s) while 0 were provided"},
		{`substring('a', 1, 2, 3)`, "'substring': the function requires between 2 and 3 argument(s) while 4 were provided"},
		{`add(1, 'a')`, "'add': the second argument must be of type 'Integer', not 'String'"},
		{`toLower(1)`, "'toLower': the first argument must be of type 'String', not 'Integer'"},
		{`div(1, 0)`, "'div': the divisor must not be zero"},
		{`mod(1, 0)`, "'mod': the divisor must not be zero"},
		{`substring('abc', 2, 5)`, "The index and length parameters must refer to a location within the string"},
		{`substring('abc', -1)`, "The index parameter cannot be less than zero"},
		{`range(0, 10001)`, "'range': the count 10001 must be between 0 and 10000"},
		{`padLeft('a', 100000000)`, "'padLeft': the total length 100000000 is greater than"},
		{`padLeft('a', 3, 'xy')`, "single character"},
		{`parameters('missing')`, "the parameter 'missing' is not defined"},
		{`variables('missing')`, "the variable 'missing' is not defined"},
		{`variables('loopA')`, "circular reference"},
		{`parameters('firstObject').missing`, "The language expression property 'missing' doesn't exist, available properties are 'one, three, two'"},
		{`parameters('firstArray')[3]`, "array index '3' is out of bounds"},
		{`'abc'.x`, "a String has no properties"},
		{`json('{')`, "'json': the argument '{' is not valid JSON"},
		{`base64ToString('%%')`, "not a valid base64 string"},
		{`createObject('a')`, "even number of arguments"},
		{`resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet')`, "requires 2 resource name argument(s) while 1 were provided"},
		{`subscription()`, "'subscription': the function is not available at this deployment's scope"},
		{`lambda('x', lambdaVariables('x'))`, "a lambda can only be an argument"},
		{`lambdaVariables('x')`, "the lambda variable 'x' is not defined"},
		{`map(createArray(1), 'x')`, "must be of type 'Lambda'"},
		{`filter(createArray(1), lambda('x', 1))`, "the lambda must return a boolean"},
		{`copyIndex('nope')`, "the copy loop 'nope' is not being expanded here"},
		{`cidrSubnet('10.0.0.0/24', 16, 0)`, "the new CIDR 16 must be between 24 and 32"},
		{`cidrHost('10.0.0.0/30', 2)`, "host index 2 is out of the range"},
		{`parseCidr('10.0.0.0')`, "not a valid CIDR network"},
		{`dateTimeAdd('2020-01-01', 'P1X')`, "not a valid ISO 8601 duration"},
		{`not('x')`, "'not': the first argument must be of type 'Boolean'"},
		{`greater(1, 'a')`, "'greater': the second argument must be of type 'Integer', not 'String'"},
		{`format('{3}', 1)`, "does not name one of the 1 argument(s)"},
		{`replace('a', '', 'b')`, "must not be empty"},
		{`map(range(0, 10000), lambda('x', range(0, 10000)))`, "more work than an evaluation allows"},
	} {
		_, err := EvalString(tc.expr, testContext())
		if err == nil {
			t.Errorf("%s: no error, want %q", tc.expr, tc.want)
			continue
		}
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("%s: error %T is not *Error", tc.expr, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want it to contain %q", tc.expr, err, tc.want)
		}
		if e.Expression == "" {
			t.Errorf("%s: error has no expression text", tc.expr)
		}
	}
}
