package keyvault

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/engine"
)

// accessPolicyStrategy serves PUT {vault}/accessPolicies/{add|replace|remove}
// (Vaults_UpdateAccessPolicy): a virtual type over the vault's
// properties.accessPolicies, which it changes in place, answering 200 with
// the policies sent.
//
//   - add merges each policy into the entry of the same tenantId, objectId
//     and applicationId (permissions added, none twice, ignoring case), or
//     appends it;
//   - replace sets the vault's policies to those sent;
//   - remove takes each policy's permissions away from its entry, and drops
//     an entry left with none.
//
// Other verbs are 405, another operation kind 400 BadRequest.
type accessPolicyStrategy struct{ *provider }

var (
	_ engine.Strategy        = (*accessPolicyStrategy)(nil)
	_ engine.VirtualStrategy = (*accessPolicyStrategy)(nil)
)

// Validate is not called: the engine hands every request of a virtual
// type to ServeVirtual.
func (s *accessPolicyStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return nil
}

func (s *accessPolicyStrategy) ServeVirtual(ctx context.Context, req *engine.Request, vault *engine.Resource, name string) (*engine.Response, error) {
	if name == "" || req.Method != http.MethodPut {
		return nil, methodNotAllowed(req.Method, TypeAccessPolicies)
	}
	kind := strings.ToLower(name)
	if kind != "add" && kind != "replace" && kind != "remove" {
		return nil, badRequest("operationKind", "The operation kind '%s' is not one of 'add', 'replace', 'remove'.", name)
	}
	in, err := accessPolicyParameters.CheckBody(req.Body)
	if err != nil {
		return nil, err
	}
	sent := in["properties"].(map[string]any)["accessPolicies"].([]any)
	if err := checkPolicies("properties.accessPolicies", sent); err != nil {
		return nil, err
	}
	updated, err := s.e.Update(ctx, vault.ID, func(v *engine.Resource) error {
		cur, _ := v.Properties["accessPolicies"].([]any)
		next := applyPolicies(kind, engine.DeepCopy(cur).([]any), sent)
		if len(next) > maxAccessPolicies {
			return badRequest("properties.accessPolicies", "A vault can have at most %d access policies.", maxAccessPolicies)
		}
		v.Properties["accessPolicies"] = next
		v.SystemData.LastModifiedBy, v.SystemData.LastModifiedByType = req.Caller.AppID, "Application"
		v.SystemData.LastModifiedAt = req.Now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, map[string]any{
		"id":         updated.ID.String() + "/accessPolicies/" + kind,
		"name":       kind,
		"type":       TypeAccessPolicies,
		"location":   updated.Location,
		"properties": map[string]any{"accessPolicies": sent},
	}), nil
}

// applyPolicies returns cur changed by the policies sent under kind.
func applyPolicies(kind string, cur, sent []any) []any {
	if kind == "replace" {
		return sent
	}
	for _, p := range sent {
		policy := p.(map[string]any)
		i := slices.IndexFunc(cur, func(c any) bool { return samePrincipal(c.(map[string]any), policy) })
		switch {
		case i < 0 && kind == "add":
			cur = append(cur, policy)
		case i < 0:
		case kind == "add":
			mergePermissions(cur[i].(map[string]any), policy, true)
		default:
			if mergePermissions(cur[i].(map[string]any), policy, false) {
				cur = slices.Delete(cur, i, i+1)
			}
		}
	}
	return cur
}

// samePrincipal reports whether two policies are for the same tenant,
// object and application.
func samePrincipal(a, b map[string]any) bool {
	for _, k := range []string{"tenantId", "objectId", "applicationId"} {
		x, _ := a[k].(string)
		y, _ := b[k].(string)
		if !strings.EqualFold(x, y) {
			return false
		}
	}
	return true
}

// mergePermissions adds (or takes away) from's permissions to into's and
// reports whether into is left with none.
func mergePermissions(into, from map[string]any, add bool) (empty bool) {
	have, _ := into["permissions"].(map[string]any)
	if have == nil {
		have = map[string]any{}
		into["permissions"] = have
	}
	given, _ := from["permissions"].(map[string]any)
	for category, list := range given {
		cur, _ := have[category].([]any)
		for _, p := range list.([]any) {
			i := slices.IndexFunc(cur, func(c any) bool { return strings.EqualFold(c.(string), p.(string)) })
			switch {
			case add && i < 0:
				cur = append(cur, p)
			case !add && i >= 0:
				cur = slices.Delete(cur, i, i+1)
			}
		}
		have[category] = cur
	}
	for _, list := range have {
		if l, _ := list.([]any); len(l) > 0 {
			return false
		}
	}
	return true
}
