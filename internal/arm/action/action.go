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
	segs := p.ID.Segments()
	if p.Tail == "" {
		if len(segs) == 0 {
			return resourceid.NamespaceResources + "/" + Verb(method), p.ID
		}
		return fullType(segs) + "/" + Verb(method), p.ID
	}
	return fullType(append(segs, resourceid.Segment{Type: p.Tail})) + "/" + Verb(method), p.ID
}

const (
	mlWorkspaces = "Microsoft.MachineLearningServices/workspaces"
	mlRegistries = "Microsoft.MachineLearningServices/registries"
	keyVaults    = "Microsoft.KeyVault/vaults"
)

// fullType is the resource type of segs with core types spelled as ARM
// spells them in actions (Microsoft.Resources/subscriptions/resourceGroups).
func fullType(segs []resourceid.Segment) string {
	j := -1
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i].Namespaced() {
			j = i
			break
		}
	}
	var b strings.Builder
	if j < 0 {
		b.WriteString(resourceid.NamespaceResources)
		for _, s := range segs {
			b.WriteByte('/')
			b.WriteString(coreType(s.Type))
		}
		return b.String()
	}
	b.WriteString(segs[j].Type)
	for _, s := range segs[j+1:] {
		b.WriteByte('/')
		b.WriteString(s.Type)
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
	segs := id.Segments()
	for i, s := range segs {
		if strings.EqualFold(s.Type, typ) {
			return resourceid.New(segs[:i+1]...).String()
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
