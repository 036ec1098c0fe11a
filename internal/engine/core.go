package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/foldcase"
	"github.com/armlet/armlet/internal/kv"
)

// TypeResourceGroups is the canonical resource group type.
const TypeResourceGroups = "Microsoft.Resources/resourceGroups"

// TypeSubscriptions is the type of subscriptions, stored by the engine
// but not in its registry (no client creates them).
const TypeSubscriptions = "Microsoft.Resources/subscriptions"

// DefaultLocations are the regions armlet offers, as display names.
var DefaultLocations = []string{
	"East US", "East US 2", "West US", "West US 2", "West US 3", "Central US", "North Central US",
	"South Central US", "West Central US", "Canada Central", "Brazil South", "North Europe", "West Europe",
	"UK South", "France Central", "Germany West Central", "Switzerland North", "Norway East", "Sweden Central",
	"Australia East", "Southeast Asia", "East Asia", "Japan East", "Korea Central", "Central India",
	"UAE North", "South Africa North",
}

// rgNamePattern is ARM's rule for resource group names.
var rgNamePattern = regexp.MustCompile(`^[-\w._()]{1,90}$`)

type resourceGroupStrategy struct{}

func (resourceGroupStrategy) Validate(_ context.Context, _ *Request, desired, _ *Resource) error {
	if strings.HasSuffix(desired.ID.Name(), ".") {
		return arm.BadRequest("InvalidResourceGroupName", "Resource group name '%s' is invalid: it must not end with a period.", desired.ID.Name())
	}
	// Resource groups have no writable properties besides the envelope.
	desired.Properties = map[string]any{}
	return nil
}

func registerCore(e *Engine) {
	e.reg.Register(&Type{
		Name:        TypeResourceGroups,
		APIVersions: CoreAPIVersions, // every region: locationsOf
		Tracked:     true,
		NamePattern: rgNamePattern,
		NameRule:    "Resource group names can only include alphanumeric, underscore, parentheses, hyphen and period (except at the end), and be at most 90 characters long.",
		Put:         Sync,
		Delete:      Location,
		Strategy:    resourceGroupStrategy{},
	})
}

// EnsureSubscription creates a subscription if it does not exist. armlet
// has no API to create subscriptions (Azure's is the billing alias API);
// they come from the bootstrap and the seed file.
func (e *Engine) EnsureSubscription(ctx context.Context, subscriptionID, tenantID, displayName string) error {
	id := resourceid.Subscription(subscriptionID)
	r := &Resource{
		ID: id, Type: TypeSubscriptions,
		Properties: map[string]any{"displayName": displayName, "tenantId": tenantID, "state": "Enabled"},
	}
	_, err := e.tables.records.Txn(ctx, kv.Put(resourceKey(id), encodeResource(r)).If(kv.Absent))
	if errors.Is(err, kv.ErrConflict) {
		return nil
	}
	return err
}

func subscriptionBody(r *Resource) map[string]any {
	return map[string]any{
		"id":             r.ID.String(),
		"subscriptionId": r.ID.Name(),
		"tenantId":       r.Properties["tenantId"],
		"displayName":    r.Properties["displayName"],
		"state":          r.Properties["state"],
		"subscriptionPolicies": map[string]any{
			"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off",
		},
		"authorizationSource": "RoleBased",
		"managedByTenants":    []any{},
	}
}

// serveCore answers the ARM endpoints that are not plain resource CRUD.
// handled is false for requests the generic path should take.
// IsOperationStatus reports whether p is the status or result of a
// long-running operation, which the engine serves itself:
// /subscriptions/s/providers/NS/locations/l/operation{Statuses,Results}/id.
func IsOperationStatus(p resourceid.Path) bool {
	id := p.ID
	return id.Len() == 3 && isSubID(id.Segment(0)) && foldcase.HasSuffix(id.Segment(1).Type, "/locations") &&
		(strings.EqualFold(id.Segment(2).Type, "operationStatuses") || strings.EqualFold(id.Segment(2).Type, "operationResults")) && p.Tail == ""
}

func (e *Engine) serveCore(ctx context.Context, req *Request, p resourceid.Path) (*Response, bool, error) {
	id := p.ID
	tail := strings.ToLower(p.Tail)
	isSub := id.Len() == 1 && strings.EqualFold(id.Segment(0).Type, resourceid.TypeSubscriptions)
	isRG := p.ID.Len() == 2 && p.ID.ResourceGroupName() != ""
	get := req.Method == http.MethodGet

	if IsOperationStatus(p) {
		if err := e.checkNamespaceAPIVersion(req, namespaceOf(id.Segment(1).Type)); err != nil {
			return nil, true, err
		}
		resp, err := e.serveOperation(ctx, req, p.ID)
		return resp, true, err
	}

	// Everything below is answered by the ARM core and uses its versions.
	core := func(f func() (*Response, error)) (*Response, bool, error) {
		if err := e.checkAPIVersion(req.APIVersion, nil); err != nil {
			return nil, true, err
		}
		if !get && req.Method != http.MethodPost {
			return nil, true, methodNotAllowed(req.Method, "Microsoft.Resources")
		}
		resp, err := f()
		return resp, true, err
	}
	switch {
	case p.ID.IsRoot() && tail == "subscriptions" && get:
		return core(func() (*Response, error) { return e.listSubscriptions(ctx, req) })
	case p.ID.IsRoot() && tail == "tenants" && get:
		return core(func() (*Response, error) { return e.listTenants(ctx, req) })
	case p.ID.IsRoot() && tail == "providers" && get:
		return core(func() (*Response, error) { return e.listProviders(ctx, req, "") })
	case id.Len() == 1 && strings.EqualFold(id.Segment(0).Type, resourceid.TypeProviders) && p.Tail == "" && get:
		return core(func() (*Response, error) { return e.getProvider(ctx, req, "", id.Segment(0).Name) })
	case p.ID.IsRoot() && strings.HasSuffix(tail, "/operations") && get:
		resp, err := e.listOperations(req, p.Tail) // at the namespace's api-versions
		return resp, true, err
	case isSub && p.Tail == "" && (get || req.Method == http.MethodHead):
		return core(func() (*Response, error) {
			r, err := e.load(ctx, p.ID)
			if err != nil {
				return nil, err
			}
			if r == nil {
				return nil, arm.NotFound(arm.CodeSubscriptionNotFound, "The subscription '%s' could not be found.", p.ID.Name()).Wrap(ErrNotFound)
			}
			return JSON(http.StatusOK, subscriptionBody(r)), nil
		})
	case isSub && p.Tail == "":
		return nil, true, methodNotAllowed(req.Method, TypeSubscriptions)
	case isSub && tail == "providers" && get:
		return core(func() (*Response, error) { return e.listProviders(ctx, req, id.Segment(0).Name) })
	case id.Len() == 2 && isSubID(id.Segment(0)) && strings.EqualFold(id.Segment(1).Type, resourceid.TypeProviders) && p.Tail == "" && get:
		return core(func() (*Response, error) { return e.getProvider(ctx, req, id.Segment(0).Name, id.Segment(1).Name) })
	case isSub && req.Method == http.MethodPost && (strings.HasSuffix(tail, "/register") || strings.HasSuffix(tail, "/unregister")):
		return core(func() (*Response, error) { return e.registerProvider(ctx, req, id.Segment(0).Name, p.Tail) })
	case isSub && tail == "locations" && get:
		return core(func() (*Response, error) { return e.listLocations(ctx, req, p.ID) })
	case isSub && tail == "resources" && get:
		return core(func() (*Response, error) { return e.listResources(ctx, req, p.ID, "") })
	case isRG && tail == "resources" && get:
		return core(func() (*Response, error) { return e.listResources(ctx, req, p.ID, p.ID.ResourceGroupName()) })
	case isSub && strings.Contains(p.Tail, "/") && get:
		resp, err := e.listBySubscription(ctx, req, p.ID, p.Tail)
		return resp, true, err
	}
	return nil, false, nil
}

func isSubID(s resourceid.Segment) bool {
	return strings.EqualFold(s.Type, resourceid.TypeSubscriptions)
}

// checkNamespaceAPIVersion accepts any api-version of any type in ns
// (operation URLs carry the version of the request that started them).
func (e *Engine) checkNamespaceAPIVersion(req *Request, ns string) error {
	var last error
	if strings.EqualFold(ns, resourceid.NamespaceResources) {
		// The ARM core's versions, or those of a type registered in the
		// namespace (deployments, whose what-if is an operation).
		if last = e.checkAPIVersion(req.APIVersion, nil); last == nil {
			return nil
		}
		for _, t := range e.reg.TypesIn(ns) {
			if e.checkAPIVersion(req.APIVersion, t) == nil {
				return nil
			}
		}
		return last
	}
	for _, t := range e.reg.TypesIn(ns) {
		if last = e.checkAPIVersion(req.APIVersion, t); last == nil {
			return nil
		}
	}
	if last == nil {
		return invalidNamespace(http.StatusBadRequest, ns)
	}
	return last
}

func (e *Engine) listSubscriptions(ctx context.Context, req *Request) (*Response, error) {
	return e.page(ctx, req, e.tables.records, childrenPrefix(resourceid.Root, resourceid.TypeSubscriptions), func(ent kv.Entry) (any, bool, error) {
		r, err := decodeResource(ent.Value, ent.Revision)
		if err != nil {
			return nil, false, err
		}
		return subscriptionBody(r), true, nil
	})
}

func (e *Engine) listTenants(ctx context.Context, req *Request) (*Response, error) {
	seen := map[string]bool{}
	var out []any
	err := e.scanAll(ctx, e.tables.records, childrenPrefix(resourceid.Root, resourceid.TypeSubscriptions), func(ent kv.Entry) error {
		r, err := decodeResource(ent.Value, ent.Revision)
		if err != nil {
			return err
		}
		tid, _ := r.Properties["tenantId"].(string)
		if tid != "" && !seen[tid] {
			seen[tid] = true
			out = append(out, map[string]any{
				"id": "/tenants/" + tid, "tenantId": tid, "tenantCategory": "Home", "countryCode": "US",
				"displayName": "armlet", "domains": []string{"armlet.local"}, "defaultDomain": "armlet.local", "tenantType": "AAD",
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, map[string]any{"value": nonNil(out)}), nil
}

func (e *Engine) listLocations(ctx context.Context, req *Request, sub resourceid.ID) (*Response, error) {
	if _, err := e.checkAncestors(ctx, req, sub.Child("x", "x"), false); err != nil {
		return nil, err
	}
	var out []any
	for _, l := range e.allLocations() {
		name := NormalizeLocation(l)
		out = append(out, map[string]any{
			"id": sub.String() + "/locations/" + name, "name": name, "displayName": l, "regionalDisplayName": "(armlet) " + l,
			"type": "Region", "metadata": map[string]any{"regionType": "Physical", "regionCategory": "Recommended"},
		})
	}
	return JSON(http.StatusOK, map[string]any{"value": out}), nil
}

// listChildren answers GET {parent}/{collection}.
func (e *Engine) listChildren(ctx context.Context, req *Request, parentID resourceid.ID, coll string) (*Response, error) {
	fullType := parentID.ChildType(coll)
	if !parentID.IsRoot() && e.storedType(parentID) && parentID.Len() > 1 {
		// The parent must exist: a collection under a missing parent is a 404.
		if _, err := e.checkAncestors(ctx, req, parentID, false); err != nil {
			return nil, err
		}
		parent, err := e.load(ctx, parentID)
		if err != nil {
			return nil, err
		}
		if parent == nil || parent.Gone(req.Now) {
			if parentID.Len() == 2 && parentID.ResourceGroupName() != "" {
				return nil, arm.NotFound(arm.CodeResourceGroupNotFound, "Resource group '%s' could not be found.", parentID.Name()).Wrap(ErrNotFound)
			}
			return nil, notFound(parentID)
		}
		if err := e.gate(ctx, req, parent, fullType); err != nil {
			return nil, err
		}
		if pt, ok := e.reg.Lookup(parent.Type); ok {
			if cl, ok := pt.Strategy.(ChildLister); ok {
				if err := e.checkAPIVersion(req.APIVersion, pt); err != nil {
					return nil, err
				}
				if resp, handled, err := cl.ListChildren(ctx, req, parent, coll); handled {
					return resp, err
				}
			}
		}
	} else if _, err := e.checkAncestors(ctx, req, parentID.Child("x", "x"), false); err != nil {
		return nil, err
	}
	t, err := e.resolveType(req, fullType)
	if err != nil {
		return nil, err
	}
	if err := e.checkScope(ctx, req, t, parentID); err != nil {
		return nil, err
	}
	var keep func(*Resource) bool
	if lf, ok := t.Strategy.(ListFilterer); ok {
		if keep, err = lf.ListFilter(req); err != nil {
			return nil, err
		}
	}
	render, kept := e.renderEntry(ctx, req, t, keep)
	sources := append(e.inherited(req, t, parentID, render, kept), pageSource{v: e.tables.records, prefix: childrenPrefix(parentID, coll), item: render, kept: kept})
	return e.pageSources(ctx, req, sources...)
}

// inherited are the ranges of t's resources that a list at scope inherits
// from other scopes (ListInheritor), before its own.
func (e *Engine) inherited(req *Request, t *Type, scope resourceid.ID, render func(kv.Entry) (any, bool, error), kept keptLookup) []pageSource {
	li, ok := t.Strategy.(ListInheritor)
	if !ok {
		return nil
	}
	var out []pageSource
	for _, s := range li.InheritedScopes(req, scope) {
		out = append(out, pageSource{v: e.tables.records, prefix: childrenPrefix(s, t.Name), item: render, kept: kept})
	}
	return out
}

// keptLookup answers a list item from the rendered-body cache by its
// record's key and revision alone, when the kept body is still right.
type keptLookup func(key []byte, revision int64) (json.RawMessage, bool)

// renderEntry decodes a stored record for a list, skipping deleted ones.
// keep, when set, says whether to list the record's resource (its
// resource group still exists, it passes the list's filters). With the
// rendered-body cache on, an item is the body kept for the record when
// that is still right (rendered.go): decoded only when keep must see it.
// kept, nil when no item may come from the cache, finds such a body
// without the record's value, so that a page can scan keys only and read
// the values of the others.
func (e *Engine) renderEntry(ctx context.Context, req *Request, t *Type, keep func(*Resource) bool) (render func(kv.Entry) (any, bool, error), kept keptLookup) {
	var writes int64
	keeping := e.rendered != nil
	if keeping {
		writes, keeping = e.keptWrites(ctx) // before the list's scan
	}
	if keeping && keep == nil && t != nil {
		// A kept body is never one of a resource gone since it was
		// rendered: its time-driven changes bound it.
		kept = func(key []byte, revision int64) (json.RawMessage, bool) {
			return e.keptBody(req, key, revision, writes)
		}
	}
	return func(ent kv.Entry) (any, bool, error) {
		if kept != nil {
			if body, ok := kept(ent.Key, ent.Revision); ok {
				return body, true, nil
			}
		}
		r, err := decodeResource(ent.Value, ent.Revision)
		if err != nil {
			return nil, false, err
		}
		if r.Gone(req.Now) || (keep != nil && !keep(r)) {
			return nil, false, nil
		}
		rt := t
		if rt == nil {
			var ok bool
			if rt, ok = e.reg.Lookup(r.Type); !ok {
				return nil, false, nil
			}
		}
		if keeping {
			body, err := e.listedBody(ctx, req, rt, ent, r, writes)
			return body, err == nil, err
		}
		body, err := rt.render(ctx, r, req.APIVersion, req.Now)
		if err != nil {
			return nil, false, err
		}
		return body, true, nil
	}, kept
}

// groupAlive memoises, for one list request, whether each resource group
// exists and is not deleted.
func (e *Engine) groupAlive(ctx context.Context, req *Request) func(*Resource) bool {
	cache := map[string]bool{}
	return func(r *Resource) bool {
		rg := r.ID.ResourceGroupName()
		if rg == "" {
			return true
		}
		key := strings.ToLower(rg)
		if v, ok := cache[key]; ok {
			return v
		}
		g, err := e.load(ctx, resourceid.ResourceGroup(r.ID.SubscriptionID(), rg))
		alive := err == nil && g != nil && !g.Gone(req.Now)
		cache[key] = alive
		return alive
	}
}

// listBySubscription answers GET /subscriptions/s/providers/NS/type: the
// type's resources in the subscription.
func (e *Engine) listBySubscription(ctx context.Context, req *Request, sub resourceid.ID, coll string) (*Response, error) {
	if _, err := e.checkAncestors(ctx, req, sub.Child("x", "x"), false); err != nil {
		return nil, err
	}
	t, err := e.resolveType(req, coll)
	if err != nil {
		return nil, err
	}
	if err := e.checkScope(ctx, req, t, sub); err != nil {
		return nil, err
	}
	alive := e.groupAlive(ctx, req)
	var keep func(*Resource) bool
	if lf, ok := t.Strategy.(ListFilterer); ok {
		if keep, err = lf.ListFilter(req); err != nil {
			return nil, err
		}
	}
	// keep is set: every item is decoded, none answered by key alone.
	render, _ := e.renderEntry(ctx, req, t, func(r *Resource) bool { return alive(r) && (keep == nil || keep(r)) })
	// Inherited resources first, then those of an extension type stored at
	// the subscription itself (policy definitions, policy assignments),
	// which the type index (top-level resources in resource groups) does
	// not hold, then the index.
	sources := append(e.inherited(req, t, sub, render, nil),
		pageSource{v: e.tables.records, prefix: childrenPrefix(sub, t.Name), item: render},
		pageSource{v: e.tables.byType, prefix: typeIndexPrefix(sub.Name(), t.Name), item: e.viaIndex(ctx, render)})
	return e.pageSources(ctx, req, sources...)
}

// listResources answers the generic /resources lists (top-level resources
// of every type), with the $filter forms clients use most.
func (e *Engine) listResources(ctx context.Context, req *Request, scope resourceid.ID, rg string) (*Response, error) {
	if _, err := e.checkAncestors(ctx, req, scope.Child("x", "x"), false); err != nil {
		return nil, err
	}
	match, err := parseResourceFilter(req.QueryValue("$filter"))
	if err != nil {
		return nil, err
	}
	alive := e.groupAlive(ctx, req)
	return e.page(ctx, req, e.tables.byGroup, groupIndexPrefix(scope.SubscriptionID(), rg), e.viaIndex(ctx, func(ent kv.Entry) (any, bool, error) {
		r, err := decodeResource(ent.Value, ent.Revision)
		if err != nil {
			return nil, false, err
		}
		if r.Gone(req.Now) || !alive(r) || !match(r) {
			return nil, false, nil
		}
		item := map[string]any{"id": r.ID.String(), "name": r.ID.Name(), "type": r.Type, "location": r.Location, "tags": nonNilTags(r.Tags)}
		if r.Kind != "" {
			item["kind"] = r.Kind
		}
		for _, k := range []string{"sku", "identity", "managedBy"} {
			if v, ok := r.Extra[k]; ok {
				item[k] = v
			}
		}
		if strings.Contains(req.QueryValue("$expand"), "createdTime") {
			item["createdTime"] = r.SystemData.CreatedAt
			item["changedTime"] = r.SystemData.LastModifiedAt
		}
		if strings.Contains(req.QueryValue("$expand"), "provisioningState") {
			item["provisioningState"] = r.ProvisioningState(req.Now)
		}
		return item, true, nil
	}))
}

// parseResourceFilter supports "resourceType eq 'X'", "name eq 'X'",
// "location eq 'X'", "tagName eq 'k' [and tagValue eq 'v']" and
// "substringof('x', name)", joined with "and".
func parseResourceFilter(f string) (func(*Resource) bool, error) {
	if strings.TrimSpace(f) == "" {
		return func(*Resource) bool { return true }, nil
	}
	clause := regexp.MustCompile(`(?i)^\s*(?:(resourceType|name|location|tagName|tagValue|resourceGroup)\s+eq\s+'([^']*)'|substringof\(\s*'([^']*)'\s*,\s*name\s*\))\s*$`)
	var preds []func(*Resource) bool
	var tagName string
	for _, part := range regexp.MustCompile(`(?i)\s+and\s+`).Split(f, -1) {
		m := clause.FindStringSubmatch(part)
		if m == nil {
			return nil, arm.BadRequest("InvalidFilterInQueryString", "Invalid $filter '%s' specified in the query string.", f)
		}
		field, val, sub := strings.ToLower(m[1]), m[2], m[3]
		switch field {
		case "resourcetype":
			preds = append(preds, func(r *Resource) bool { return strings.EqualFold(r.Type, val) })
		case "name":
			preds = append(preds, func(r *Resource) bool { return strings.EqualFold(r.ID.Name(), val) })
		case "location":
			preds = append(preds, func(r *Resource) bool { return r.Location == NormalizeLocation(val) })
		case "resourcegroup":
			preds = append(preds, func(r *Resource) bool { return strings.EqualFold(r.ID.ResourceGroupName(), val) })
		case "tagname":
			tagName = val
			preds = append(preds, func(r *Resource) bool { return hasTag(r.Tags, val) })
		case "tagvalue":
			name := tagName
			preds = append(preds, func(r *Resource) bool { return tagValue(r.Tags, name) == val })
		default:
			preds = append(preds, func(r *Resource) bool {
				return strings.Contains(strings.ToLower(r.ID.Name()), strings.ToLower(sub))
			})
		}
	}
	return func(r *Resource) bool {
		for _, p := range preds {
			if !p(r) {
				return false
			}
		}
		return true
	}, nil
}

func hasTag(tags map[string]string, name string) bool {
	for k := range tags {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func tagValue(tags map[string]string, name string) string {
	for k, v := range tags {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func nonNilTags(t map[string]string) map[string]string {
	if t == nil {
		return map[string]string{}
	}
	return t
}

func nonNil(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

// viaIndex turns an index entry (whose value names a record) into the
// record, then calls f.
func (e *Engine) viaIndex(ctx context.Context, f func(kv.Entry) (any, bool, error)) func(kv.Entry) (any, bool, error) {
	return func(idx kv.Entry) (any, bool, error) {
		ent, ok, err := e.indexed(ctx, idx)
		if !ok || err != nil {
			return nil, false, err
		}
		return f(ent)
	}
}

// indexed reads the record an index entry names; ok is false when it is
// gone (the index entry of a resource mid-delete).
func (e *Engine) indexed(ctx context.Context, idx kv.Entry) (ent kv.Entry, ok bool, err error) {
	key, err := refKey(idx.Value)
	if err != nil {
		return kv.Entry{}, false, err
	}
	ent, err = e.tables.records.Get(ctx, key)
	if errors.Is(err, kv.ErrNotFound) {
		return kv.Entry{}, false, nil
	}
	return ent, err == nil, err
}

// Paging: $top caps a page (default and maximum below); $skipToken
// carries the last key returned, so each page is one ordered range read.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// page answers one page of the entries of v under prefix, item turning
// each into a list element (or skipping it). The $skipToken is the full
// key (with the space's prefix) of the page before's last item, as it
// always was, so nextLinks handed out before stay valid.
func (e *Engine) page(ctx context.Context, req *Request, v kv.View, prefix []byte, item func(kv.Entry) (any, bool, error)) (*Response, error) {
	return e.pageSources(ctx, req, pageSource{v: v, prefix: prefix, item: item})
}

// pageSource is one range a list pages over.
type pageSource struct {
	v      kv.View
	prefix []byte
	item   func(kv.Entry) (any, bool, error)
	// kept, when set, answers items from kept bodies by key and revision:
	// the range is then scanned for keys first, and read with its values
	// only when kept does not answer every item (pageSource.scan).
	kept keptLookup
}

// pageSources answers one page of a list made of several ranges, one after
// the other (a type's resources inherited from other scopes, then its
// own). The $skipToken names the range it continues by its full key, so
// the ranges' full prefixes (space and prefix) must not overlap.
func (e *Engine) pageSources(ctx context.Context, req *Request, sources ...pageSource) (*Response, error) {
	top := defaultPageSize
	if s := req.QueryValue("$top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, arm.BadRequest("InvalidTopInQueryString", "The value '%s' of query parameter '$top' is invalid: it must be a positive integer.", s)
		}
		top = min(n, maxPageSize)
	}
	start := 0
	var after []byte
	if tok := req.QueryValue("$skipToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		start = slices.IndexFunc(sources, func(s pageSource) bool {
			return strings.HasPrefix(string(raw), s.v.Space().Prefix()+string(s.prefix))
		})
		if err != nil || start < 0 {
			return nil, arm.BadRequest("InvalidSkipToken", "The value of query parameter '$skipToken' is invalid.")
		}
		after = raw[len(sources[start].v.Space().Prefix()):]
	}
	items := make([]any, 0, min(top, 64))
	var last []byte // the key of the last item listed, in lastSrc's space
	var lastSrc pageSource
	more := false
sources:
	for i := start; i < len(sources); i++ {
		src := sources[i]
		if i > start {
			after = nil
		}
		for {
			need := top - len(items)
			ents, kept, err := src.scan(ctx, after, need+1)
			if err != nil {
				return nil, err
			}
			for i, ent := range ents {
				if len(items) == top {
					more = true
					break sources
				}
				after = ent.Key
				var v any
				ok := true
				if kept != nil {
					v = kept[i]
				} else if v, ok, err = src.item(ent); err != nil {
					return nil, err
				}
				if ok {
					items = append(items, v)
					last, lastSrc = ent.Key, src
				}
			}
			if len(ents) < need+1 {
				break // this range is exhausted
			}
		}
	}
	next := ""
	if more {
		full := append([]byte(lastSrc.v.Space().Prefix()), last...)
		next = nextLink(req, base64.RawURLEncoding.EncodeToString(full))
	}
	return JSON(http.StatusOK, pageBody(items, next)), nil
}

// scan reads up to limit entries of the range after the key after. When
// src.kept answers every entry but the last (which only tells whether more
// follow) from a keys-only scan, it returns those bodies too, and the
// entries carry no values; otherwise it scans again with the values, in
// one read (reading each missing value on its own costs more, and more so
// when a commit holds the readers up).
func (src pageSource) scan(ctx context.Context, after []byte, limit int) (ents []kv.Entry, kept []any, err error) {
	if src.kept != nil {
		if ents, err = src.v.ScanKeys(ctx, src.prefix, after, limit); err != nil {
			return nil, nil, err
		}
		kept = make([]any, len(ents))
		for i, ent := range ents {
			if i == limit-1 {
				break
			}
			body, ok := src.kept(ent.Key, ent.Revision)
			if !ok {
				kept = nil
				break
			}
			kept[i] = body
		}
		if kept != nil {
			return ents, kept, nil
		}
	}
	ents, err = src.v.Scan(ctx, src.prefix, after, limit)
	return ents, nil, err
}

func nextLink(req *Request, token string) string {
	q := url.Values{}
	for k, v := range req.Query {
		if strings.EqualFold(k, "$skipToken") || strings.EqualFold(k, "$skip") {
			continue
		}
		q[k] = v
	}
	q.Set("$skipToken", token)
	return req.BaseURL + req.Path + "?" + q.Encode()
}

// scanAll calls f for every entry of v under prefix.
func (e *Engine) scanAll(ctx context.Context, v kv.View, prefix []byte, f func(kv.Entry) error) error {
	return scanPages(ctx, v.Scan, prefix, f)
}

// scanPages calls f for every entry scan returns under prefix, a page at
// a time (scan is a kv.View's Scan or ScanKeys).
func scanPages(ctx context.Context, scan func(ctx context.Context, prefix, after []byte, limit int) ([]kv.Entry, error),
	prefix []byte, f func(kv.Entry) error) error {
	var after []byte
	for {
		ents, err := scan(ctx, prefix, after, 256)
		if err != nil {
			return err
		}
		for _, ent := range ents {
			if err := f(ent); err != nil {
				return err
			}
			after = ent.Key
		}
		if len(ents) < 256 {
			return nil
		}
	}
}

// Provider registration. A subscription starts registered with every
// namespace armlet serves (so clients work without a registration step);
// unregister and register change that as in Azure, and a write to an
// unregistered namespace gets 409 MissingSubscriptionRegistration, which
// azcore answers by registering on its own.
type registration struct {
	State string    `json:"state"`
	Until time.Time `json:"until,omitzero"` // when a transitional state ends
}

func registrationKey(sub, ns string) []byte {
	return []byte(strings.ToLower(sub) + sep + strings.ToLower(ns))
}

func (e *Engine) registrationState(ctx context.Context, sub, ns string, now time.Time) (string, error) {
	ent, err := e.tables.registrations.Get(ctx, registrationKey(sub, ns))
	if errors.Is(err, kv.ErrNotFound) {
		return "Registered", nil
	}
	if err != nil {
		return "", err
	}
	var reg registration
	if err := json.Unmarshal(ent.Value, &reg); err != nil {
		return "", err
	}
	if !reg.Until.IsZero() && !now.Before(reg.Until) {
		switch reg.State {
		case "Registering":
			return "Registered", nil
		case "Unregistering":
			return "NotRegistered", nil
		}
	}
	return reg.State, nil
}

func (e *Engine) checkRegistered(ctx context.Context, req *Request, id resourceid.ID, t *Type) error {
	ns := namespaceOf(t.Name)
	sub := id.SubscriptionID()
	if sub == "" || strings.EqualFold(ns, resourceid.NamespaceResources) {
		return nil
	}
	state, err := e.registrationState(ctx, sub, ns, req.Now)
	if err != nil {
		return err
	}
	if state == "Registered" {
		return nil
	}
	msg := "The subscription is not registered to use namespace '" + ns + "'. See https://aka.ms/rps-not-found for how to register subscriptions."
	if state == "NotRegistered" || state == "Unregistered" {
		msg = "The subscription registration is in '" + state + "' state. The subscription must be registered to use namespace '" + ns + "'. See https://aka.ms/rps-not-found for how to register subscriptions."
	}
	err409 := arm.Conflict(arm.CodeMissingSubscriptionReg, "%s", msg)
	err409.Details = []*arm.Error{{Code: arm.CodeMissingSubscriptionReg, Target: ns, Message: msg}}
	return err409
}

func (e *Engine) providerBody(ctx context.Context, sub, ns string, now time.Time) (map[string]any, error) {
	var types []any
	for _, t := range e.reg.TypesIn(ns) {
		locs := t.Locations
		if _, declared := e.reg.nsLocations[strings.ToLower(ns)]; len(locs) == 0 && (t.Tracked || declared) {
			locs = e.locationsOf(t)
		}
		types = append(types, map[string]any{
			"resourceType": typeAfterNamespace(t.Name), "locations": nonNilStrings(locs),
			"apiVersions": t.APIVersions, "defaultApiVersion": t.APIVersions[0], "capabilities": "None",
		})
	}
	body := map[string]any{"namespace": ns, "resourceTypes": nonNil(types), "registrationPolicy": "RegistrationRequired"}
	if sub != "" {
		state, err := e.registrationState(ctx, sub, ns, now)
		if err != nil {
			return nil, err
		}
		body["id"] = "/subscriptions/" + sub + "/providers/" + ns
		body["registrationState"] = state
	} else {
		body["id"] = "/providers/" + ns
	}
	return body, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (e *Engine) listProviders(ctx context.Context, req *Request, sub string) (*Response, error) {
	if sub != "" {
		if _, err := e.checkAncestors(ctx, req, resourceid.Subscription(sub).Child("x", "x"), false); err != nil {
			return nil, err
		}
	}
	var out []any
	for _, ns := range e.reg.Namespaces() {
		body, err := e.providerBody(ctx, sub, ns, req.Now)
		if err != nil {
			return nil, err
		}
		out = append(out, body)
	}
	return JSON(http.StatusOK, map[string]any{"value": nonNil(out)}), nil
}

func (e *Engine) getProvider(ctx context.Context, req *Request, sub, ns string) (*Response, error) {
	if sub != "" {
		if _, err := e.checkAncestors(ctx, req, resourceid.Subscription(sub).Child("x", "x"), false); err != nil {
			return nil, err
		}
	}
	canon, ok := e.reg.Namespace(ns)
	if !ok {
		return nil, invalidNamespace(http.StatusNotFound, ns)
	}
	body, err := e.providerBody(ctx, sub, canon, req.Now)
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, body), nil
}

func (e *Engine) registerProvider(ctx context.Context, req *Request, sub, tail string) (*Response, error) {
	if _, err := e.checkAncestors(ctx, req, resourceid.Subscription(sub).Child("x", "x"), false); err != nil {
		return nil, err
	}
	i := strings.LastIndexByte(tail, '/')
	ns, verb := tail[:i], strings.ToLower(tail[i+1:])
	canon, ok := e.reg.Namespace(ns)
	if !ok {
		return nil, arm.NotFound("NamespaceNotFound", "The resource namespace '%s' is invalid.", ns)
	}
	reg := registration{State: "Registering", Until: req.Now.Add(e.opDur)}
	if verb == "unregister" {
		reg.State = "Unregistering"
	}
	if _, err := e.tables.registrations.Txn(ctx, kv.Put(registrationKey(sub, canon), rawJSON(reg))); err != nil {
		return nil, err
	}
	body, err := e.providerBody(ctx, sub, canon, req.Now)
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, body), nil
}

// pageBody is a list page: {"value": items, "nextLink": next} (no nextLink
// when next is empty). Items that are all rendered JSON already (kept
// bodies) are joined as they are rather than decoded and encoded again.
func pageBody(items []any, next string) any {
	raw := make([]json.RawMessage, 0, len(items))
	size := 0
	for _, it := range items {
		b, ok := it.(json.RawMessage)
		if !ok {
			body := map[string]any{"value": items}
			if next != "" {
				body["nextLink"] = next
			}
			return body
		}
		raw = append(raw, b)
		size += len(b) + 1
	}
	out := make([]byte, 0, size+len(next)+32)
	out = append(out, `{"value":[`...)
	for i, b := range raw {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	out = append(out, ']')
	if next != "" {
		link, _ := json.Marshal(next) // a string always encodes
		out = append(append(out, `,"nextLink":`...), link...)
	}
	return json.RawMessage(append(out, '}'))
}
