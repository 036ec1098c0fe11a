package authorization

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/authz"
	"github.com/armlet/armlet/internal/engine"
)

// Role definition property names.
const (
	propRoleName         = "roleName"
	propRoleType         = "type"
	propAssignableScopes = "assignableScopes"
	propPermissions      = "permissions"
)

// Role types.
const (
	BuiltInRole = "BuiltInRole"
	CustomRole  = "CustomRole"
)

// builtInCreatedOn is when the built-in roles say they were created.
// Choice: one fixed date for all of them.
var builtInCreatedOn = time.Date(2015, 2, 2, 21, 55, 9, 0, time.UTC)

// roleDefinitionStrategy serves Microsoft.Authorization/roleDefinitions at any
// scope. The built-in roles (authz.BuiltIns) are not stored: GET answers
// them at every scope, with the id under the scope's subscription
// (/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/
// {guid}) or, outside any subscription, at the root. Custom roles are
// stored by the engine where they were PUT.
//
// Choice: custom roles are PUT at the tenant root or at a subscription,
// their name is a GUID, and a GET of a custom role's GUID at any scope
// finds it (Azure's role ids are tenant-wide). A role name must be unique
// among built-in and custom roles (409 RoleDefinitionWithSameNameExists).
// Built-in roles cannot be written or deleted (403
// BuiltInRoleCannotBeModified; Azure's code is not documented). Deleting
// a custom role leaves its assignments in place, granting nothing.
type roleDefinitionStrategy struct {
	e    *engine.Engine
	rbac *RBAC
}

var (
	_ engine.Strategy    = (*roleDefinitionStrategy)(nil)
	_ engine.Renderer    = (*roleDefinitionStrategy)(nil)
	_ engine.ScopeServer = (*roleDefinitionStrategy)(nil)
)

// Validate checks a custom role's PUT.
func (s *roleDefinitionStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	scope := desired.ID.Parent()
	if !scope.IsRoot() && !(scope.Len() == 1 && scope.SubscriptionID() != "") {
		return arm.BadRequest(codeInvalidScope, "Custom role definitions are created at the tenant root '/' or at a subscription; '%s' is neither.", scope)
	}
	desired.Location, desired.Tags, desired.Kind = "", nil, ""
	for k := range desired.Extra {
		return arm.UnknownMember("", k, "RoleDefinition")
	}
	in := map[string]any{}
	for k, v := range desired.Properties {
		key := ""
		for _, p := range []string{propRoleName, propRoleType, propDescription, propAssignableScopes, propPermissions,
			propCreatedOn, propUpdatedOn, propCreatedBy, propUpdatedBy, "provisioningState"} {
			if strings.EqualFold(k, p) {
				key = p
			}
		}
		if key == "" {
			return arm.UnknownMember("properties", k, "RoleDefinitionProperties")
		}
		in[key] = v
	}
	name, _ := in[propRoleName].(string)
	if strings.TrimSpace(name) == "" {
		return arm.InvalidContent("properties."+propRoleName, "Required property '%s' not found in JSON or empty. Path 'properties'.", propRoleName)
	}
	desc, _ := in[propDescription].(string)
	role, err := parseRole(desired.ID.Name(), name, in[propPermissions], in[propAssignableScopes])
	if err != nil {
		return err
	}
	for _, b := range authz.BuiltIns() {
		if strings.EqualFold(b.Name, name) {
			return sameName(name)
		}
	}
	customs, err := s.rbac.customRoles(ctx)
	if err != nil {
		return err
	}
	for _, c := range customs {
		if strings.EqualFold(c.Name, name) && !strings.EqualFold(c.ID, role.ID) {
			return sameName(name)
		}
	}
	scopes := make([]any, len(role.AssignableScopes))
	for i, sc := range role.AssignableScopes {
		scopes[i] = sc.String()
	}
	perms := make([]any, len(role.Permissions))
	for i, p := range role.Permissions {
		perms[i] = map[string]any{"actions": nonNil(p.Actions), "notActions": nonNil(p.NotActions),
			"dataActions": nonNil(p.DataActions), "notDataActions": nonNil(p.NotDataActions)}
	}
	now := req.Now.UTC().Format(time.RFC3339Nano)
	props := map[string]any{propRoleName: name, propRoleType: CustomRole, propDescription: desc,
		propAssignableScopes: scopes, propPermissions: perms, propUpdatedOn: now, propUpdatedBy: req.Caller.ObjectID,
		propCreatedOn: now, propCreatedBy: req.Caller.ObjectID}
	if old != nil {
		props[propCreatedOn], props[propCreatedBy] = old.Properties[propCreatedOn], old.Properties[propCreatedBy]
	}
	keepImportedStamps(req, props, in)
	desired.Properties = props
	return nil
}

// keepImportedStamps keeps, for an import (a seed or export file), the
// createdOn, createdBy, updatedOn and updatedBy its body gives (in): an
// imported role definition or assignment was made when and by whom the
// file says, not now by the importer.
func keepImportedStamps(req *engine.Request, props, in map[string]any) {
	if !req.Importing() {
		return
	}
	for _, p := range []string{propCreatedOn, propCreatedBy, propUpdatedOn, propUpdatedBy} {
		if v, ok := in[p].(string); ok && v != "" {
			props[p] = v
		}
	}
}

func sameName(name string) *arm.Error {
	return arm.Conflict("RoleDefinitionWithSameNameExists", "A role definition cannot be updated with a name that already exists. Role name: '%s'.", name)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// parseRole reads a role's permissions and assignable scopes from JSON
// values.
func parseRole(id, name string, permissions, assignable any) (authz.Role, error) {
	role := authz.Role{ID: strings.ToLower(id), Name: name}
	list, ok := permissions.([]any)
	if !ok || len(list) == 0 {
		return role, arm.InvalidContent("properties."+propPermissions, "The property 'permissions' must be a non-empty array of {actions, notActions, dataActions, notDataActions}.")
	}
	for i, p := range list {
		obj, ok := p.(map[string]any)
		if !ok {
			return role, arm.InvalidContent("properties."+propPermissions, "permissions[%d] must be an object.", i)
		}
		var perm authz.Permission
		for k, v := range obj {
			var dst *[]string
			switch strings.ToLower(k) {
			case "actions":
				dst = &perm.Actions
			case "notactions":
				dst = &perm.NotActions
			case "dataactions":
				dst = &perm.DataActions
			case "notdataactions":
				dst = &perm.NotDataActions
			default:
				return role, arm.UnknownMember("properties.permissions", k, "Permission")
			}
			arr, _ := v.([]any)
			if v != nil && arr == nil {
				return role, arm.InvalidContent("properties."+propPermissions, "permissions[%d].%s must be an array of strings.", i, k)
			}
			for _, a := range arr {
				s, ok := a.(string)
				if !ok || strings.TrimSpace(s) == "" {
					return role, arm.InvalidContent("properties."+propPermissions, "permissions[%d].%s must be an array of non-empty strings.", i, k)
				}
				*dst = append(*dst, s)
			}
		}
		role.Permissions = append(role.Permissions, perm)
	}
	scopes, ok := assignable.([]any)
	if !ok || len(scopes) == 0 {
		return role, arm.InvalidContent("properties."+propAssignableScopes, "The property 'assignableScopes' must be a non-empty array of scopes.")
	}
	for _, v := range scopes {
		s, _ := v.(string)
		id, err := resourceid.Parse(s)
		if err != nil {
			return role, arm.BadRequest("InvalidAssignableScope", "The assignable scope '%v' is not a valid scope.", v)
		}
		role.AssignableScopes = append(role.AssignableScopes, id)
	}
	return role, nil
}

// Render drops provisioningState and systemData, which role definitions do
// not have.
func (s *roleDefinitionStrategy) Render(_ context.Context, _ *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	if props, ok := body["properties"].(map[string]any); ok {
		delete(props, "provisioningState")
	}
	delete(body, "systemData")
	return nil
}

// ServeScope answers built-in roles at any scope, custom roles by GUID at
// any scope, and the collection with $filter (roleName eq '…', type eq
// 'BuiltInRole'|'CustomRole'). Writes of custom roles are the engine's.
func (s *roleDefinitionStrategy) ServeScope(ctx context.Context, req *engine.Request, scope resourceid.ID, name string) (*engine.Response, bool, error) {
	if name != "" {
		if b, ok := builtIn(name); ok {
			if req.Method != http.MethodGet && req.Method != http.MethodHead {
				return nil, true, arm.Errorf(http.StatusForbidden, "BuiltInRoleCannotBeModified", "The built-in role '%s' cannot be modified or deleted.", b.Name)
			}
			return engine.JSON(http.StatusOK, builtInBody(b, scope)), true, nil
		}
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			return nil, false, nil
		}
		r, err := s.rbac.findCustom(ctx, name)
		if err != nil {
			return nil, true, err
		}
		if r == nil {
			return nil, true, roleNotFound(name)
		}
		body, err := s.e.Render(ctx, req, r)
		return engine.JSON(http.StatusOK, body), true, err
	}
	byName, byType, err := parseDefinitionFilter(req.QueryValue("$filter"))
	if err != nil {
		return nil, true, err
	}
	out := []any{}
	if byType == "" || strings.EqualFold(byType, BuiltInRole) {
		for _, b := range authz.BuiltIns() {
			if byName == "" || strings.EqualFold(b.Name, byName) {
				out = append(out, builtInBody(b, scope))
			}
		}
	}
	if byType == "" || strings.EqualFold(byType, CustomRole) {
		rs, err := s.rbac.customRecords(ctx)
		if err != nil {
			return nil, true, err
		}
		for _, r := range rs {
			role := toRole(r)
			if (byName != "" && !strings.EqualFold(role.Name, byName)) || !role.Assignable(scope) {
				continue
			}
			body, err := s.e.Render(ctx, req, r)
			if err != nil {
				return nil, true, err
			}
			out = append(out, body)
		}
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out}), true, nil
}

func roleNotFound(guid string) *arm.Error {
	return arm.NotFound("RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist.", guid)
}

var (
	filterRoleName = regexp.MustCompile(`(?i)^roleName\s+eq\s+'(.*)'$`)
	filterRoleType = regexp.MustCompile(`(?i)^type\s+eq\s+'([^']*)'$`)
)

func parseDefinitionFilter(f string) (name, typ string, err error) {
	f = strings.TrimSpace(f)
	switch {
	case f == "":
	case filterRoleName.MatchString(f):
		name = filterRoleName.FindStringSubmatch(f)[1]
	case filterRoleType.MatchString(f):
		typ = filterRoleType.FindStringSubmatch(f)[1]
	default:
		return "", "", arm.BadRequest("InvalidFilter", "The filter '%s' is not supported. Supported filters are roleName eq '{name}' and type eq 'BuiltInRole|CustomRole'.", f)
	}
	return name, typ, nil
}

func builtIn(guid string) (authz.BuiltInRole, bool) {
	for _, b := range authz.BuiltIns() {
		if strings.EqualFold(b.ID, guid) {
			return b, true
		}
	}
	return authz.BuiltInRole{}, false
}

// roleDefinitionID is a role's id as served at scope: under the scope's
// subscription, else at the root.
func roleDefinitionID(guid string, scope resourceid.ID) string {
	base := resourceid.Root
	if sub := scope.SubscriptionID(); sub != "" {
		base = resourceid.Subscription(sub)
	}
	return base.Child(TypeRoleDefinitions, guid).String()
}

func builtInBody(b authz.BuiltInRole, scope resourceid.ID) map[string]any {
	p := b.Permissions[0]
	created := builtInCreatedOn.Format(time.RFC3339Nano)
	return map[string]any{
		"id": roleDefinitionID(b.ID, scope), "name": b.ID, "type": TypeRoleDefinitions,
		"properties": map[string]any{
			propRoleName: b.Name, propRoleType: BuiltInRole, propDescription: b.Description,
			propAssignableScopes: []string{"/"},
			propPermissions: []any{map[string]any{"actions": nonNil(p.Actions), "notActions": nonNil(p.NotActions),
				"dataActions": nonNil(p.DataActions), "notDataActions": nonNil(p.NotDataActions)}},
			propCreatedOn: created, propUpdatedOn: created, propCreatedBy: nil, propUpdatedBy: nil,
		},
	}
}

// toRole reads a stored custom role.
func toRole(r *engine.Resource) authz.Role {
	name, _ := r.Properties[propRoleName].(string)
	role, _ := parseRole(r.ID.Name(), name, jsonAny(r.Properties[propPermissions]), jsonAny(r.Properties[propAssignableScopes]))
	return role
}

// jsonAny turns the typed slices Validate stores ([]any of maps with
// []string) into the []any form parseRole reads, as after a store round
// trip.
func jsonAny(v any) any {
	switch t := v.(type) {
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = jsonAny(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = jsonAny(x)
		}
		return out
	}
	return v
}
