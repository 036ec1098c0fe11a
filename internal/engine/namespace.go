package engine

import (
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

// What a provider declares of its namespace as a whole, besides its types:
// the regions it is offered in and the description of its operations
// (GET /providers/{ns}/operations). Both are set while the provider
// registers, before the engine serves, like the types themselves.

// OperationsFunc returns a namespace's operations list, the "value" of
// GET /providers/{ns}/operations (OperationListResult), for req (already
// checked: its api-version is one of the namespace's).
type OperationsFunc func(req *Request) []any

// SetLocations makes locs (display names) the regions of every type of ns
// that does not list its own (Type.Locations): those a tracked resource of
// ns may be created in and the provider's registration shows. The
// subscription's locations and those of resource groups are the engine's
// (Options.Locations) together with every namespace's.
func (g *Registry) SetLocations(ns string, locs []string) {
	if g.nsLocations == nil {
		g.nsLocations = map[string][]string{}
	}
	g.nsLocations[strings.ToLower(ns)] = locs
}

// SetOperations makes f answer GET /providers/{ns}/operations in place of
// the list the engine derives from the registered types.
func (g *Registry) SetOperations(ns string, f OperationsFunc) {
	if g.nsOperations == nil {
		g.nsOperations = map[string]OperationsFunc{}
	}
	g.nsOperations[strings.ToLower(ns)] = f
}

// locationsOf returns the regions t accepts and its registration shows:
// its own, else its namespace's, else the engine's. Resource groups take
// every region any namespace offers, so that a canary region a provider
// offers (eastus2euap) can hold a group for its resources.
func (e *Engine) locationsOf(t *Type) []string {
	if len(t.Locations) > 0 {
		return t.Locations
	}
	if t.Name == TypeResourceGroups {
		return e.allLocations()
	}
	if l := e.reg.nsLocations[strings.ToLower(namespaceOf(t.Name))]; len(l) > 0 {
		return l
	}
	return e.locs
}

// allLocations is the engine's regions followed by those only some
// namespace offers, in namespace order, each once.
func (e *Engine) allLocations() []string {
	out := append([]string(nil), e.locs...)
	seen := map[string]bool{}
	for _, l := range out {
		seen[NormalizeLocation(l)] = true
	}
	for _, ns := range e.reg.Namespaces() {
		for _, l := range e.reg.nsLocations[strings.ToLower(ns)] {
			if n := NormalizeLocation(l); !seen[n] {
				seen[n] = true
				out = append(out, l)
			}
		}
	}
	return out
}

// listOperations answers GET /providers/{ns}/operations. A resource
// provider answers it at its own api-versions (any of the namespace's
// types'); only Microsoft.Resources' own list takes the ARM core's.
func (e *Engine) listOperations(req *Request, tail string) (*Response, error) {
	ns := tail[:len(tail)-len("/operations")]
	canon, ok := e.reg.Namespace(ns)
	if !ok {
		return nil, invalidNamespace(http.StatusBadRequest, ns)
	}
	var err error
	if strings.EqualFold(canon, resourceid.NamespaceResources) {
		err = e.checkAPIVersion(req.APIVersion, nil)
	} else {
		err = e.checkNamespaceAPIVersion(req, canon)
	}
	if err != nil {
		return nil, err
	}
	if f := e.reg.nsOperations[strings.ToLower(canon)]; f != nil {
		return JSON(http.StatusOK, map[string]any{"value": nonNil(f(req))}), nil
	}
	var out []any
	for _, t := range e.reg.TypesIn(canon) {
		for _, verb := range []string{"read", "write", "delete"} {
			out = append(out, map[string]any{
				"name":    t.Name + "/" + verb,
				"display": map[string]any{"provider": canon, "resource": typeAfterNamespace(t.Name), "operation": verb},
			})
		}
	}
	return JSON(http.StatusOK, map[string]any{"value": nonNil(out)}), nil
}
