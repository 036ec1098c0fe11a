// Package action names ARM requests as ARM names the permissions they need
// ("Microsoft.MachineLearningServices/workspaces/computes/write"): the one
// vocabulary RBAC checks, flow records carry and the reports group by.
//
// It imports only the resource id package.
package action

import (
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

// Verb is the last word of an ARM action string for a method: read for
// GET and HEAD, write for PUT and PATCH, delete for DELETE, action for
// POST.
func Verb(method string) string {
	switch strings.ToUpper(method) {
	case http.MethodGet, http.MethodHead:
		return "read"
	case http.MethodPut, http.MethodPatch:
		return "write"
	case http.MethodDelete:
		return "delete"
	case http.MethodPost:
		return "action"
	}
	return strings.ToLower(method)
}

// Of names an ARM request whose path parsed to p as ARM names
// the permission it needs, and returns the resource it addresses (for a
// collection or an action, the resource that holds it):
//
//	PUT    …/workspaces/w/onlineEndpoints/e          Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write
//	GET    …/workspaces/w/onlineEndpoints            Microsoft.MachineLearningServices/workspaces/onlineEndpoints/read
//	POST   …/workspaces/w/onlineEndpoints/e/listKeys Microsoft.MachineLearningServices/workspaces/onlineEndpoints/listKeys/action
//	PUT    /subscriptions/s/resourcegroups/rg        Microsoft.Resources/subscriptions/resourceGroups/write
func Of(method string, p resourceid.Path) (string, resourceid.ID) {
	if p.Tail == "" && p.ID.IsRoot() {
		return resourceid.NamespaceResources + "/" + Verb(method), p.ID
	}
	return fullType(p.ID, p.Tail) + "/" + Verb(method), p.ID
}

const (
	mlWorkspaces = "Microsoft.MachineLearningServices/workspaces"
	mlRegistries = "Microsoft.MachineLearningServices/registries"
	keyVaults    = "Microsoft.KeyVault/vaults"
)

// fullType is the resource type of id's segments followed by a segment of
// type tail (none when tail is ""), with core types spelled as ARM spells
// them in actions (Microsoft.Resources/subscriptions/resourceGroups).
func fullType(id resourceid.ID, tail string) string {
	typeAt := func(i int) string {
		if i == id.Len() {
			return tail
		}
		return id.Segment(i).Type
	}
	n := id.Len()
	if tail != "" {
		n++
	}
	j := -1
	for i := n - 1; i >= 0; i-- {
		if (resourceid.Segment{Type: typeAt(i)}).Namespaced() {
			j = i
			break
		}
	}
	var b strings.Builder
	if j < 0 {
		b.WriteString(resourceid.NamespaceResources)
		for i := range n {
			b.WriteByte('/')
			b.WriteString(coreType(typeAt(i)))
		}
		return b.String()
	}
	b.WriteString(typeAt(j))
	for i := j + 1; i < n; i++ {
		b.WriteByte('/')
		b.WriteString(typeAt(i))
	}
	return b.String()
}

func coreType(t string) string {
	for _, c := range []string{resourceid.TypeSubscriptions, resourceid.TypeResourceGroups, resourceid.TypeProviders, resourceid.TypeTenants} {
		if strings.EqualFold(t, c) {
			return c
		}
	}
	return t
}

// WorkspaceOf returns the Azure ML workspace id contains (the id itself or
// an ancestor), or "" if it lies under none.
func WorkspaceOf(id resourceid.ID) string { return ancestorOfType(id, mlWorkspaces) }

// RegistryOf returns the Azure ML registry id contains (the id itself or
// an ancestor), or "" if it lies under none.
func RegistryOf(id resourceid.ID) string { return ancestorOfType(id, mlRegistries) }

// VaultOf returns the key vault id contains (the id itself or an
// ancestor, such as a secret's vault), or "" if it lies under none.
func VaultOf(id resourceid.ID) string { return ancestorOfType(id, keyVaults) }

func ancestorOfType(id resourceid.ID, typ string) string {
	for i := range id.Len() {
		if strings.EqualFold(id.Segment(i).Type, typ) {
			return id.Prefix(i + 1).String()
		}
	}
	return ""
}

// WorkspaceChild returns the child type segment below a workspace that
// the action string op acts on ("onlineEndpoints" for
// Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write, or
// for …/onlineEndpoints/listKeys/action), or "" when op acts on the
// workspace itself or on no workspace.
func WorkspaceChild(op string) string {
	t := op
	if strings.HasSuffix(t, "/action") {
		t = strings.TrimSuffix(t, "/action")
	}
	i := strings.LastIndexByte(t, '/')
	if i < 0 {
		return ""
	}
	t = t[:i] // drop the verb or the action name
	if len(t) <= len(mlWorkspaces)+1 || !strings.EqualFold(t[:len(mlWorkspaces)+1], mlWorkspaces+"/") {
		return ""
	}
	child, _, _ := strings.Cut(t[len(mlWorkspaces)+1:], "/")
	return child
}
