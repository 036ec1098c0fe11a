package policy

import (
	"encoding/json"
	"testing"

	"github.com/armlet/armlet/internal/arm"
)

// FuzzParse checks that no rule, however malformed, panics the parser or
// the evaluator, and that parse failures are ARM errors.
func FuzzParse(f *testing.F) {
	for _, b := range BuiltIns() {
		r, _ := json.Marshal(b.Rule)
		f.Add(string(r))
	}
	f.Add(`{"if":{"value":"[concat(toLower(field('name')),'x')]","like":"*"},"then":{"effect":"audit"}}`)
	f.Add(`{"if":{"count":{"value":"[parameters('p')]","name":"n","where":{"value":"[current('n')]","equals":1}},"less":2},"then":{"effect":"deny"}}`)
	res := map[string]any{"name": "w", "type": "Microsoft.MachineLearningServices/workspaces",
		"properties": map[string]any{"privateEndpointConnections": []any{map[string]any{}}}}
	f.Fuzz(func(t *testing.T, src string) {
		var rule any
		if json.Unmarshal([]byte(src), &rule) != nil {
			return
		}
		params := map[string]any{"p": map[string]any{"type": "Array", "defaultValue": []any{1, 2}}}
		d, err := Parse("All", params, rule)
		if err != nil {
			if _, ok := arm.AsError(err); !ok {
				t.Fatalf("not an ARM error: %v", err)
			}
			return
		}
		pv, err := d.ResolveParameters(nil)
		if err != nil {
			return
		}
		_, _, _ = d.Match(Input{Resource: res, Params: pv})
		if e, err := d.Effect(pv); err == nil {
			_, _ = d.Mutate(e, Input{Resource: res, Params: pv})
		}
	})
}
