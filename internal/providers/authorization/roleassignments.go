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

// Role based access control types.
const (
	TypeRoleAssignments = Namespace + "/roleAssignments"
	TypeRoleDefinitions = Namespace + "/roleDefinitions"
)

// RoleAssignmentAPIVersions are the api-versions of roleAssignments: 2022-04-01
// (armauthorization/v2), 2020-04-01-preview (the Azure CLI 2.45) and the
// other published ones, newest first.
var RoleAssignmentAPIVersions = []string{
	"2022-04-01", "2022-01-01-preview", "2020-10-01-preview", "2020-08-01-preview", "2020-04-01-preview",
	"2020-03-01-preview", "2018-09-01-preview", "2018-01-01-preview", "2017-10-01-preview", "2015-07-01",
}

// RoleDefinitionAPIVersions are the api-versions of roleDefinitions:
// 2022-04-01 (armauthorization/v2), 2018-01-01-preview (the Azure CLI 2.45)
// and the other published ones, newest first.
var RoleDefinitionAPIVersions = []string{
	"2022-05-01-preview", "2022-04-01", "2018-01-01-preview", "2015-07-01",
}

// guidPattern is the name rule of role assignments and role definitions.
var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

const guidRule = "The role assignment name must be a GUID."

// Role assignment property names.
const (
	propRoleDefinitionID = "roleDefinitionId"
	propPrincipalID      = "principalId"
	propPrincipalType    = "principalType"
	propDescription      = "description"
	propCondition        = "condition"
	propConditionVersion = "conditionVersion"
	propDelegatedMI      = "delegatedManagedIdentityResourceId"
	propCreatedOn        = "createdOn"
	propUpdatedOn        = "updatedOn"
	propCreatedBy        = "createdBy"
	propUpdatedBy        = "updatedBy"
)

var principalTypes = []string{"User", "Group", "ServicePrincipal", "ForeignGroup", "Device"}

// roleAssignmentStrategy serves Microsoft.Authorization/roleAssignments at any
// scope: /{scope}/providers/Microsoft.Authorization/roleAssignments/{guid},
// where scope is the tenant root "/", a subscription, a resource group or a
// resource. The engine stores them under their scope; the collection GET is
// answered here (ServeScope), with Azure's $filter forms.
//
// Choice: principalId is not looked up in the directory (armlet has none
// to speak of for users and groups); any GUID is accepted. principalType
// defaults to ServicePrincipal, the only kind of principal armlet issues
// tokens to.
//
// Choice: an unknown role definition is 400 RoleDefinitionDoesNotExist; a
// custom role assigned outside its assignableScopes is 400
// RoleDefinitionNotAssignableAtScope (Azure's code for the latter is not
// documented).
type roleAssignmentStrategy struct {
	e    *engine.Engine
	rbac *RBAC
}

var (
	_ engine.Strategy    = (*roleAssignmentStrategy)(nil)
	_ engine.Renderer    = (*roleAssignmentStrategy)(nil)
	_ engine.ScopeServer = (*roleAssignmentStrategy)(nil)
)

// Validate checks a PUT: a properties.scope in the body is the URI's scope,
// the role exists and is assignable at the scope, the principal is a GUID,
// no other assignment at the scope gives the
// same role to the same principal, and an existing assignment keeps its
// role and principal.
func (s *roleAssignmentStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	const objType = "RoleAssignmentProperties"
	desired.Location, desired.Tags, desired.Kind = "", nil, ""
	for k := range desired.Extra {
		return arm.UnknownMember("", k, "RoleAssignmentCreateParameters")
	}
	in := map[string]any{}
	for k, v := range desired.Properties {
		key := ""
		for _, p := range []string{propRoleDefinitionID, propPrincipalID, propPrincipalType, propDescription, propCondition,
			propConditionVersion, propDelegatedMI, propCreatedOn, propUpdatedOn, propCreatedBy, propUpdatedBy, propScope, "provisioningState"} {
			if strings.EqualFold(k, p) {
				key = p
			}
		}
		if key == "" {
			return arm.UnknownMember("properties", k, objType)
		}
		in[key] = v
	}
	str := func(name string, required bool) (string, error) {
		v, ok := in[name]
		if !ok || v == nil {
			if required {
				return "", arm.InvalidContent("properties."+name, "Required property '%s' not found in JSON. Path 'properties'.", name)
			}
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", arm.InvalidContent("properties."+name, "Error converting value %s to type 'System.String'. Path 'properties.%s'.", describe(v), name)
		}
		return s, nil
	}
	roleDefID, err := str(propRoleDefinitionID, true)
	if err != nil {
		return err
	}
	principal, err := str(propPrincipalID, true)
	if err != nil {
		return err
	}
	if !guidPattern.MatchString(principal) {
		return arm.BadRequest("InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
	}
	ptype, err := str(propPrincipalType, false)
	if err != nil {
		return err
	}
	if ptype == "" {
		ptype = "ServicePrincipal"
	}
	canonType := ""
	for _, t := range principalTypes {
		if strings.EqualFold(t, ptype) {
			canonType = t
		}
	}
	if canonType == "" {
		return arm.InvalidContent("properties."+propPrincipalType, "The principal type '%s' is not valid. Valid values are '%s'.", ptype, strings.Join(principalTypes, "', '"))
	}
	scope := desired.ID.Parent()
	if err := checkBodyScope(in[propScope], scope, desired.ID.Name()); err != nil {
		return err
	}
	role, err := s.rbac.resolveRole(ctx, roleDefID)
	if err != nil {
		return err
	}
	if !role.Assignable(scope) {
		return arm.BadRequest("RoleDefinitionNotAssignableAtScope",
			"The role definition '%s' ('%s') is not assignable at scope '%s': its assignable scopes are '%s'.",
			role.ID, role.Name, scope, joinIDs(role.AssignableScopes))
	}
	if old != nil {
		oldRole, _ := old.Properties[propRoleDefinitionID].(string)
		oldPrincipal, _ := old.Properties[propPrincipalID].(string)
		if !strings.EqualFold(oldPrincipal, principal) || !strings.EqualFold(lastName(oldRole), role.ID) {
			return arm.Conflict("RoleAssignmentUpdateNotPermitted",
				"Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
		}
	} else {
		existing, err := s.e.List(ctx, scope, TypeRoleAssignments)
		if err != nil {
			return err
		}
		for _, r := range existing {
			a := toAssignment(r)
			if !strings.EqualFold(r.ID.Name(), desired.ID.Name()) && strings.EqualFold(a.PrincipalID, principal) && strings.EqualFold(a.RoleID, role.ID) {
				return arm.Conflict("RoleAssignmentExists", "The role assignment already exists.")
			}
		}
	}
	props := map[string]any{
		propRoleDefinitionID: roleDefID, propPrincipalID: principal, propPrincipalType: canonType,
		propScope: scope.String(), propUpdatedOn: req.Now.UTC().Format(time.RFC3339Nano), propUpdatedBy: req.Caller.ObjectID,
	}
	if old != nil {
		props[propCreatedOn], props[propCreatedBy] = old.Properties[propCreatedOn], old.Properties[propCreatedBy]
	} else {
		props[propCreatedOn], props[propCreatedBy] = props[propUpdatedOn], req.Caller.ObjectID
	}
	keepImportedStamps(req, props, in)
	for _, p := range []string{propDescription, propCondition, propConditionVersion, propDelegatedMI} {
		v, err := str(p, false)
		if err != nil {
			return err
		}
		if v != "" {
			props[p] = v
		}
	}
	desired.Properties = props
	return nil
}

// checkBodyScope refuses a body whose properties.scope names another scope
// than the request URI: Azure answers 400 InvalidCreateRoleAssignmentRequest
// (the text reported in MicrosoftDocs/azure-docs#62786 and #27254). The
// scope is where the assignment is stored and checked, so a body may never
// move it elsewhere. The comparison is on parsed resource ids, ignoring case
// ("resourcegroups" matches "resourceGroups"); a value that is no resource
// id at all mismatches too, as in #27254. An absent, null or empty scope is
// accepted (clients that build the body from scratch leave it out, the
// read-only member of 2022-04-01); a non-string is the usual conversion
// error.
func checkBodyScope(v any, scope resourceid.ID, name string) error {
	if v == nil {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return arm.InvalidContent("properties."+propScope, "Error converting value %s to type 'System.String'. Path 'properties.%s'.", describe(v), propScope)
	}
	if s == "" {
		return nil
	}
	if id, err := resourceid.Parse(s); err == nil && id.Equal(scope) {
		return nil
	}
	return arm.BadRequest("InvalidCreateRoleAssignmentRequest",
		"The request to create role assignment '%s' is not valid. Role assignment scope '%s' must match the scope specified on the URI '%s'.",
		name, s, scope)
}

// Render gives the assignment Azure's shape: properties with scope and the
// created/updated fields, no provisioningState and no systemData.
func (s *roleAssignmentStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	props, _ := body["properties"].(map[string]any)
	delete(props, "provisioningState")
	for _, p := range []string{propDescription, propCondition, propConditionVersion, propDelegatedMI} {
		if _, ok := props[p]; !ok {
			props[p] = nil
		}
	}
	props[propScope] = r.ID.Parent().String()
	delete(body, "systemData")
	return nil
}

// ServeScope answers collection GETs; items are the engine's.
//
// Filters ($filter, terms joined with "and"): atScope() lists the
// assignments at the scope and above it; principalId eq '{id}' and
// assignedTo('{id}') keep the principal's. Without atScope() the list also
// holds the assignments at and above the scope.
//
// Choice: lists never include assignments below the scope (Azure's
// subscription-wide list does); armlet has no group membership, so
// assignedTo is principalId.
func (s *roleAssignmentStrategy) ServeScope(ctx context.Context, req *engine.Request, scope resourceid.ID, name string) (*engine.Response, bool, error) {
	if name != "" {
		return nil, false, nil
	}
	principal, err := parseAssignmentFilter(req.QueryValue("$filter"))
	if err != nil {
		return nil, true, err
	}
	var out []any
	for _, anc := range ancestors(scope) {
		rs, err := s.e.List(ctx, anc, TypeRoleAssignments)
		if err != nil {
			return nil, true, err
		}
		for _, r := range rs {
			if principal != "" && !strings.EqualFold(toAssignment(r).PrincipalID, principal) {
				continue
			}
			body, err := s.e.Render(ctx, req, r)
			if err != nil {
				return nil, true, err
			}
			out = append(out, body)
		}
	}
	if out == nil {
		out = []any{}
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out}), true, nil
}

var (
	filterPrincipal  = regexp.MustCompile(`(?i)^principalId\s+eq\s+'([^']*)'$`)
	filterAssignedTo = regexp.MustCompile(`(?i)^assignedTo\('([^']*)'\)$`)
	filterAtScope    = regexp.MustCompile(`(?i)^atScope\(\)$`)
	filterAnd        = regexp.MustCompile(`(?i)\s+and\s+`)
)

// parseAssignmentFilter returns the principal a role assignment $filter
// asks for ("" for any).
func parseAssignmentFilter(f string) (principal string, err error) {
	f = strings.TrimSpace(f)
	if f == "" {
		return "", nil
	}
	for _, term := range filterAnd.Split(f, -1) {
		term = strings.TrimSpace(term)
		switch {
		case filterAtScope.MatchString(term):
		case filterPrincipal.MatchString(term):
			principal = filterPrincipal.FindStringSubmatch(term)[1]
		case filterAssignedTo.MatchString(term):
			principal = filterAssignedTo.FindStringSubmatch(term)[1]
		default:
			return "", arm.BadRequest("InvalidFilter",
				"The filter '%s' is not supported. Supported filters are atScope(), principalId eq '{objectId}' and assignedTo('{objectId}').", f)
		}
	}
	return principal, nil
}

// ancestors returns the root, each ancestor of id and id itself, from the
// root down.
func ancestors(id resourceid.ID) []resourceid.ID {
	segs := id.Segments()
	out := make([]resourceid.ID, 0, len(segs)+1)
	out = append(out, resourceid.Root)
	for i := 1; i <= len(segs); i++ {
		out = append(out, resourceid.New(segs[:i]...))
	}
	return out
}

// toAssignment reads a stored role assignment.
func toAssignment(r *engine.Resource) authz.Assignment {
	principal, _ := r.Properties[propPrincipalID].(string)
	role, _ := r.Properties[propRoleDefinitionID].(string)
	return authz.Assignment{ID: r.ID.String(), Scope: r.ID.Parent(), PrincipalID: principal, RoleID: strings.ToLower(lastName(role))}
}

// lastName is the last path segment of an id string.
func lastName(id string) string {
	return id[strings.LastIndexByte(id, '/')+1:]
}

func joinIDs(ids []resourceid.ID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, "', '")
}
