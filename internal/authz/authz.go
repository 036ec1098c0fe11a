// Package authz evaluates Azure RBAC: role definitions with permissions
// (actions, notActions, dataActions, notDataActions, with wildcards),
// role assignments at scopes, and scope inheritance. It is pure: callers
// load the assignments and roles and keep them cached.
//
// A principal may perform an action at a scope when some assignment of the
// principal at that scope or an ancestor (the tenant root "/", a
// subscription, a resource group, a parent resource) names a role one of
// whose permissions matches the action in actions (dataActions for data
// actions) and not in the same permission's notActions (notDataActions).
// Deny assignments are not modelled.
package authz

import (
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

// Permission is one entry of a role definition's permissions.
type Permission struct {
	Actions        []string `json:"actions"`
	NotActions     []string `json:"notActions"`
	DataActions    []string `json:"dataActions"`
	NotDataActions []string `json:"notDataActions"`
}

// Role is a role definition.
type Role struct {
	// ID is the role definition's id (a GUID; the name of its resource).
	ID          string
	Name        string
	Permissions []Permission
	// AssignableScopes are the scopes (and their descendants) where the
	// role may be assigned; "/" for every scope.
	AssignableScopes []resourceid.ID
}

// Assignment is a role assignment.
type Assignment struct {
	// ID is the assignment's resource id.
	ID          string
	Scope       resourceid.ID
	PrincipalID string
	// RoleID is the GUID of the role definition it assigns.
	RoleID string
}

// Decision is the result of an evaluation.
type Decision struct {
	Allowed bool
	// Assignment and Role allowed the action (when Allowed).
	Assignment Assignment
	Role       Role
	// Action and Scope are what was evaluated; when denied, Action is the
	// missing permission.
	Action string
	Scope  resourceid.ID
	Data   bool
}

// Match reports whether an action matches a permission pattern. Matching
// ignores case; "*" matches any run of characters, "/" included
// ("*/read" matches every read, "Microsoft.X/workspaces/*/write" matches
// ".../workspaces/computes/write" and ".../workspaces/a/b/write").
//
// Choice: a "/*/" inside a pattern also matches a single "/", so
// ".../workspaces/computes/*/write" matches ".../workspaces/computes/write".
// Azure documents that AzureML Data Scientist, whose notActions hold
// ".../computes/*/write" and no ".../computes/write", cannot create
// computes; only this reading gives that result.
func Match(pattern, action string) bool {
	if glob(pattern, "", action) {
		return true
	}
	for i := strings.Index(pattern, "/*/"); i >= 0; {
		// The pattern with this "/*/" read as "/".
		if glob(pattern[:i+1], pattern[i+3:], action) {
			return true
		}
		j := strings.Index(pattern[i+1:], "/*/")
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// glob matches a against the pattern p1+p2, ignoring ASCII case, where
// "*" matches any run of characters. It does not allocate: it runs on
// every request.
func glob(p1, p2, a string) bool {
	n := len(p1) + len(p2)
	at := func(k int) byte {
		if k < len(p1) {
			return p1[k]
		}
		return p2[k-len(p1)]
	}
	pi, ai := 0, 0
	star, mark := -1, 0
	for ai < len(a) {
		switch {
		case pi < n && at(pi) == '*':
			star, mark = pi, ai
			pi++
		case pi < n && lowerASCII(at(pi)) == lowerASCII(a[ai]):
			pi++
			ai++
		case star >= 0:
			pi = star + 1
			mark++
			ai = mark
		default:
			return false
		}
	}
	for pi < n && at(pi) == '*' {
		pi++
	}
	return pi == n
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

func matchAny(patterns []string, action string) bool {
	for _, p := range patterns {
		if Match(p, action) {
			return true
		}
	}
	return false
}

// Allows reports whether the role grants action (a data action when data).
func (r Role) Allows(action string, data bool) bool {
	for _, p := range r.Permissions {
		allow, deny := p.Actions, p.NotActions
		if data {
			allow, deny = p.DataActions, p.NotDataActions
		}
		if matchAny(allow, action) && !matchAny(deny, action) {
			return true
		}
	}
	return false
}

// Assignable reports whether the role may be assigned at scope: scope is
// one of its assignableScopes or lies beneath one.
func (r Role) Assignable(scope resourceid.ID) bool {
	for _, s := range r.AssignableScopes {
		if s.Contains(scope) {
			return true
		}
	}
	return false
}

// Evaluate decides whether principal may perform action at scope, given
// the principal's assignments (others are ignored) and a role lookup.
// Assignments whose role is unknown grant nothing.
func Evaluate(assignments []Assignment, role func(id string) (Role, bool), principal, action string, scope resourceid.ID, data bool) Decision {
	d := Decision{Action: action, Scope: scope, Data: data}
	for _, a := range assignments {
		if !strings.EqualFold(a.PrincipalID, principal) || !a.Scope.Contains(scope) {
			continue
		}
		r, ok := role(a.RoleID)
		if !ok || !r.Allows(action, data) {
			continue
		}
		d.Allowed, d.Assignment, d.Role = true, a, r
		return d
	}
	return d
}
