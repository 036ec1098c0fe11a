package machinelearning

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
)

// The location-based operations of the namespace, at
// /subscriptions/{s}/providers/Microsoft.MachineLearningServices/locations/{l}/...:
//
//   - GET usages (ListUsagesResult): the cores the subscription's computes
//     in the region use, against their limits, in the example's shape
//     (Usage/list.json): the number of clusters, the total dedicated
//     cluster vCPUs, then per VM family the subscription's usage and the
//     family's usage by each workspace and by each compute that has some.
//   - GET quotas (ListWorkspaceQuotas): per VM family the subscription's
//     limit (vmFamily/quotas) and each workspace's of the region
//     (workspaces/quotas), as Quota/list.json.
//   - POST updateQuotas (QuotaUpdateParameters → UpdateWorkspaceQuotasResult,
//     200): sets workspace quotas, each item answered with its status.
//   - GET vmSizes (vmsizes.go).
//
// They take the api-versions of workspaces. A region the namespace is not
// offered in gets ARM's 400 NoRegisteredProviderFound; a subscription
// armlet does not hold, 404 SubscriptionNotFound.
//
// Choice: a cluster's cores are its VM size's vCPUs times its current node
// count (dedicated priority only; low-priority nodes use no dedicated
// quota), a compute instance's its size's vCPUs unless it is stopped;
// other compute types, and sizes outside the catalogue, use none.
// "Clusters" counts the AmlComputes and ComputeInstances of the region.
//
// Choice: the subscription's limits are fixed: 100 clusters, 100 dedicated
// vCPUs in total and 24 per VM family in every region (Azure's defaults
// vary by subscription and are raised through support requests, which
// armlet does not have). A workspace's quota for a family is its family's
// limit until updateQuotas sets it.
//
// Choice: usages, quotas and updateQuotas answer one page (no nextLink).
// The stored quotas are not part of `armlet export`; a deleted workspace
// loses its quotas.
const (
	clusterLimit          = 100
	regionalDedicatedVCPU = 100
	familyVCPULimit       = 24
)

// Quota update statuses (QuotaUpdateStatus).
const (
	quotaSuccess            = "Success"
	quotaFailure            = "Failure"
	quotaInvalidFamily      = "InvalidVMFamilyName"
	quotaExceedsSubLimit    = "InvalidQuotaExceedsSubscriptionLimit"
	quotaBelowClusterMinimu = "InvalidQuotaBelowClusterMinimum"
)

// locationRoute serves the location-based operations.
type locationRoute struct {
	e  *engine.Engine
	kv kv.View // kv.SpaceMLQuotas
}

var _ engine.Route = (*locationRoute)(nil)

// ServeRoute answers GET .../locations/{l}/{usages,quotas,vmSizes} and
// POST .../locations/{l}/updateQuotas; other methods on them are 405.
func (rt *locationRoute) ServeRoute(ctx context.Context, req *engine.Request, p resourceid.Path) (*engine.Response, bool, error) {
	if p.ID.Len() != 2 {
		return nil, false, nil
	}
	segs := [2]resourceid.Segment{p.ID.Segment(0), p.ID.Segment(1)}
	if !strings.EqualFold(segs[0].Type, resourceid.TypeSubscriptions) ||
		!strings.EqualFold(segs[1].Type, Namespace+"/locations") {
		return nil, false, nil
	}
	op, method := "", http.MethodGet
	for _, o := range []string{"usages", "quotas", "vmSizes", "updateQuotas"} {
		if strings.EqualFold(p.Tail, o) {
			op = o
		}
	}
	if op == "" {
		return nil, false, nil
	}
	if op == "updateQuotas" {
		method = http.MethodPost
	}
	if req.Method != method {
		return nil, true, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
			"The requested resource does not support http method '%s' for type '%s'.", req.Method, Namespace+"/locations/"+op)
	}
	resp, err := rt.serve(ctx, req, segs[0].Name, segs[1].Name, op)
	return resp, true, err
}

func (rt *locationRoute) serve(ctx context.Context, req *engine.Request, sub, location, op string) (*engine.Response, error) {
	if err := rt.e.CheckAPIVersion(req.APIVersion, TypeWorkspaces); err != nil {
		return nil, err
	}
	loc, err := mlLocation(location, req.APIVersion, "locations/"+op)
	if err != nil {
		return nil, err
	}
	if _, err := rt.e.Get(ctx, resourceid.Subscription(sub)); err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			err = arm.NotFound(arm.CodeSubscriptionNotFound, "The subscription '%s' could not be found.", sub).Wrap(err)
		}
		return nil, err
	}
	switch op {
	case "vmSizes":
		return listVMSizes(), nil
	case "usages":
		return rt.usages(ctx, req, sub, loc)
	case "quotas":
		return rt.quotas(ctx, req, sub, loc)
	}
	return rt.updateQuotas(ctx, req, sub, loc)
}

// regionWorkspaces are the live workspaces of subscription sub in loc.
func (rt *locationRoute) regionWorkspaces(ctx context.Context, req *engine.Request, sub, loc string) ([]*engine.Resource, error) {
	all, err := rt.e.ListByType(ctx, TypeWorkspaces)
	if err != nil {
		return nil, err
	}
	var out []*engine.Resource
	for _, ws := range all {
		if strings.EqualFold(ws.ID.SubscriptionID(), sub) && ws.Location == loc && !ws.Deleting(req.Now) {
			out = append(out, ws)
		}
	}
	return out, nil
}

// computeCores returns the VM family and dedicated cores a compute uses
// at now (ok false for computes that are no cluster or instance of a
// catalogue size).
func computeCores(c *engine.Resource, now time.Time) (family string, cores int, ok bool) {
	ct, _ := c.Properties["computeType"].(string)
	inner, _ := c.Properties["properties"].(map[string]any)
	size, _ := inner["vmSize"].(string)
	vm, known := lookupVMSize(size)
	if !known {
		return "", 0, false
	}
	switch ct {
	case computeAmlCompute:
		if prio, _ := inner["vmPriority"].(string); prio != "" && !strings.EqualFold(prio, "Dedicated") {
			return vm.family, 0, true
		}
		var st scaleState
		c.GetData(dataScale, &st)
		return vm.family, vm.vCPUs * st.current(now), true
	case computeInstance:
		var st instanceState
		c.GetData(dataInstance, &st)
		if s := st.state(now); s == "Stopped" {
			return vm.family, 0, true
		}
		return vm.family, vm.vCPUs, true
	}
	return "", 0, false
}

// coreUse is what one compute uses.
type coreUse struct {
	compute *engine.Resource
	family  string
	cores   int
}

// regionUse lists the computes of the region's workspaces that count
// (clusters and instances), by workspace in workspace order.
func (rt *locationRoute) regionUse(ctx context.Context, req *engine.Request, workspaces []*engine.Resource, loc string) (map[string][]coreUse, int, error) {
	out := map[string][]coreUse{}
	clusters := 0
	for _, ws := range workspaces {
		computes, err := rt.e.List(ctx, ws.ID, "computes")
		if err != nil {
			return nil, 0, err
		}
		for _, c := range computes {
			if c.Deleting(req.Now) || (c.Location != "" && c.Location != loc) {
				continue
			}
			family, cores, ok := computeCores(c, req.Now)
			if !ok {
				continue
			}
			clusters++
			out[strings.ToLower(ws.ID.String())] = append(out[strings.ToLower(ws.ID.String())], coreUse{c, family, cores})
		}
	}
	return out, clusters, nil
}

// storedQuotas are the workspace quotas of a subscription and region:
// limits by lower-cased workspace id and VM family.
type storedQuotas map[string]map[string]int64

func quotaKey(sub, loc string) []byte { return []byte(strings.ToLower(sub) + "\x00" + loc) }

func (rt *locationRoute) loadQuotas(ctx context.Context, sub, loc string) (storedQuotas, int64, error) {
	ent, err := rt.kv.Get(ctx, quotaKey(sub, loc))
	if errors.Is(err, kv.ErrNotFound) {
		return storedQuotas{}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	q := storedQuotas{}
	if err := json.Unmarshal(ent.Value, &q); err != nil {
		return nil, 0, err
	}
	return q, ent.Revision, nil
}

// limit is a workspace's quota for family.
func (q storedQuotas) limit(ws *engine.Resource, family string) int64 {
	if l, ok := q[strings.ToLower(ws.ID.String())][family]; ok {
		return l
	}
	return familyVCPULimit
}

// quotaEntry is a ResourceQuota (and, with currentValue, a Usage).
func quotaEntry(id, typ, name string, limit int64, wsLocation string) map[string]any {
	m := map[string]any{
		"id": id, "type": Namespace + "/" + typ, "limit": limit, "unit": "Count",
		"name": map[string]any{"value": name, "localizedValue": name},
	}
	if wsLocation != "" {
		m["amlWorkspaceLocation"] = wsLocation
	}
	return m
}

// usageEntry is a Usage.
func usageEntry(id, typ, name string, current, limit int64, wsLocation string) map[string]any {
	m := quotaEntry(id, typ, name, limit, wsLocation)
	m["currentValue"] = current
	return m
}

// regionQuotas returns the region's workspaces and their stored quotas.
func (rt *locationRoute) regionQuotas(ctx context.Context, req *engine.Request, sub, loc string) ([]*engine.Resource, storedQuotas, error) {
	workspaces, err := rt.regionWorkspaces(ctx, req, sub, loc)
	if err != nil {
		return nil, nil, err
	}
	q, _, err := rt.loadQuotas(ctx, sub, loc)
	return workspaces, q, err
}

func (rt *locationRoute) usages(ctx context.Context, req *engine.Request, sub, loc string) (*engine.Response, error) {
	workspaces, q, err := rt.regionQuotas(ctx, req, sub, loc)
	if err != nil {
		return nil, err
	}
	use, clusters, err := rt.regionUse(ctx, req, workspaces, loc)
	if err != nil {
		return nil, err
	}
	subID := resourceid.Subscription(sub).String()
	total := 0
	byFamily := map[string]int{}
	for _, list := range use {
		for _, u := range list {
			total += u.cores
			byFamily[u.family] += u.cores
		}
	}
	out := []any{
		usageEntry(subID+"/usages", "totalCores/usages", "Clusters", int64(clusters), clusterLimit, ""),
		usageEntry(subID+"/usages", "dedicatedCores/usages", "Total Cluster Dedicated Regional vCPUs", int64(total), regionalDedicatedVCPU, ""),
	}
	for _, family := range vmFamilies() {
		name, seg := familyQuotaName(family)
		out = append(out, usageEntry(subID+"/usages/"+seg, "vmFamily/usages", name, int64(byFamily[family]), familyVCPULimit, ""))
		if byFamily[family] == 0 {
			continue
		}
		for _, ws := range workspaces {
			wsCores := 0
			var computes []any
			limit := q.limit(ws, family)
			for _, u := range use[strings.ToLower(ws.ID.String())] {
				if u.family != family {
					continue
				}
				wsCores += u.cores
				computes = append(computes, usageEntry(u.compute.ID.String()+"/usages/"+seg, "workspaces/computes/usages", name, int64(u.cores), limit, loc))
			}
			if computes == nil {
				continue
			}
			out = append(out, usageEntry(ws.ID.String()+"/usages/"+seg, "workspaces/usages", name, int64(wsCores), limit, loc))
			out = append(out, computes...)
		}
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out}), nil
}

func (rt *locationRoute) quotas(ctx context.Context, req *engine.Request, sub, loc string) (*engine.Response, error) {
	workspaces, q, err := rt.regionQuotas(ctx, req, sub, loc)
	if err != nil {
		return nil, err
	}
	subID := resourceid.Subscription(sub).String()
	var out []any
	for _, family := range vmFamilies() {
		name, seg := familyQuotaName(family)
		out = append(out, quotaEntry(subID+"/quotas/"+seg, "vmFamily/quotas", name, familyVCPULimit, ""))
		for _, ws := range workspaces {
			out = append(out, quotaEntry(ws.ID.String()+"/quotas/"+seg, "workspaces/quotas", name, q.limit(ws, family), loc))
		}
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out}), nil
}

// quotaItem is one checked QuotaBaseProperties of an update.
type quotaItem struct {
	raw       string // the id as sent
	workspace resourceid.ID
	segment   string // the quota name in the id
	limit     int64
}

// parseQuotaUpdate checks a QuotaUpdateParameters body.
//
// Choice: value is required; each item needs id, the resource ID of a
// workspace quota ({workspace}/quotas/{quota name}) in the request's
// subscription, and limit, a whole number from 0; type, when sent, must be
// Microsoft.MachineLearningServices/workspaces/quotas and unit Count;
// location, when sent, must be the request's. Anything else is 400
// InvalidRequestContent (or UserError for a location or subscription
// mismatch) naming the member, and nothing is updated.
func parseQuotaUpdate(body []byte, sub, loc string) ([]quotaItem, error) {
	v, err := decode(body)
	if err != nil {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: %v.", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, conversion("", v, "QuotaUpdateParameters")
	}
	var list []any
	for k, mv := range m {
		switch {
		case strings.EqualFold(k, "location"):
			s, _ := mv.(string)
			if s == "" || engine.NormalizeLocation(s) != loc {
				return nil, arm.BadRequest(arm.CodeUserError, "The location '%v' of the request body must be the location of the request URI, '%s'.", mv, loc).WithTarget("location")
			}
		case strings.EqualFold(k, "value"):
			if list, ok = mv.([]any); !ok {
				return nil, conversion("value", mv, "QuotaBaseProperties[]")
			}
		default:
			return nil, arm.InvalidContent(k, "Could not find member '%s' on object of type 'QuotaUpdateParameters'. Path '%s'.", k, k)
		}
	}
	if list == nil {
		return nil, arm.InvalidContent("value", "The request content must list the quotas to update in 'value'.")
	}
	items := make([]quotaItem, 0, len(list))
	for i, raw := range list {
		path := "value[" + strconv.Itoa(i) + "]"
		im, ok := raw.(map[string]any)
		if !ok {
			return nil, conversion(path, raw, "QuotaBaseProperties")
		}
		var it quotaItem
		hasLimit := false
		for k, fv := range im {
			target := path + "." + k
			switch strings.ToLower(k) {
			case "id":
				it.raw, _ = fv.(string)
				id, err := resourceid.Parse(it.raw)
				if err != nil || id.Len() < 2 || !strings.EqualFold(id.Last().Type, "quotas") ||
					!strings.EqualFold(id.Parent().ResourceType(), TypeWorkspaces) {
					return nil, arm.InvalidContent(target, "The value '%v' of '%s' is not the resource ID of a workspace quota ('.../workspaces/{workspace}/quotas/{name}').", fv, target)
				}
				if !strings.EqualFold(id.SubscriptionID(), sub) {
					return nil, arm.BadRequest(arm.CodeUserError, "The quota '%s' is not in subscription '%s'.", it.raw, sub).WithTarget(target)
				}
				it.workspace, it.segment = id.Parent(), id.Name()
			case "limit":
				n, ok := fv.(json.Number)
				l, err := strconv.ParseInt(string(n), 10, 64)
				if !ok || err != nil || l < 0 {
					return nil, arm.InvalidContent(target, "The value '%v' of '%s' must be a whole number of vCPUs, 0 or more.", fv, target)
				}
				it.limit, hasLimit = l, true
			case "type":
				if s, _ := fv.(string); !strings.EqualFold(s, TypeWorkspaces+"/quotas") {
					return nil, arm.InvalidContent(target, "The value '%v' of '%s' must be '%s/quotas'.", fv, target, TypeWorkspaces)
				}
			case "unit":
				if s, _ := fv.(string); !strings.EqualFold(s, "Count") {
					return nil, arm.InvalidContent(target, "The value '%v' of '%s' must be 'Count'.", fv, target)
				}
			default:
				return nil, arm.InvalidContent(target, "Could not find member '%s' on object of type 'QuotaBaseProperties'. Path '%s'.", k, target)
			}
		}
		if it.raw == "" {
			return nil, arm.InvalidContent(path+".id", "The quota to update needs its 'id'.")
		}
		if !hasLimit {
			return nil, arm.InvalidContent(path+".limit", "The quota to update needs its 'limit'.")
		}
		items = append(items, it)
	}
	return items, nil
}

// familyOfQuota finds the VM family whose quota name is segment.
func familyOfQuota(segment string) (string, bool) {
	for _, f := range vmFamilies() {
		if _, seg := familyQuotaName(f); strings.EqualFold(seg, segment) {
			return f, true
		}
	}
	return "", false
}

// updateQuotas answers POST updateQuotas: each item's status, in order;
// the items that succeed are stored together.
//
// Choice: an item's status is InvalidVMFamilyName for a quota name of no
// catalogue family, Failure for a workspace that does not exist (or is
// not in the request's region), InvalidQuotaExceedsSubscriptionLimit for a
// limit above the family's subscription limit,
// InvalidQuotaBelowClusterMinimum for a limit below the vCPUs the
// workspace's clusters of the family use now, Success otherwise. The
// answer is 200 whatever the statuses.
func (rt *locationRoute) updateQuotas(ctx context.Context, req *engine.Request, sub, loc string) (*engine.Response, error) {
	items, err := parseQuotaUpdate(req.Body, sub, loc)
	if err != nil {
		return nil, err
	}
	workspaces, err := rt.regionWorkspaces(ctx, req, sub, loc)
	if err != nil {
		return nil, err
	}
	use, _, err := rt.regionUse(ctx, req, workspaces, loc)
	if err != nil {
		return nil, err
	}
	byID := map[string]*engine.Resource{}
	for _, ws := range workspaces {
		byID[strings.ToLower(ws.ID.String())] = ws
	}
	set := storedQuotas{}
	out := make([]any, len(items))
	for i, it := range items {
		wsKey := strings.ToLower(it.workspace.String())
		family, known := familyOfQuota(it.segment)
		status := quotaSuccess
		switch {
		case !known:
			status = quotaInvalidFamily
		case byID[wsKey] == nil:
			status = quotaFailure
		case it.limit > familyVCPULimit:
			status = quotaExceedsSubLimit
		default:
			used := 0
			for _, u := range use[wsKey] {
				if u.family == family {
					used += u.cores
				}
			}
			if it.limit < int64(used) {
				status = quotaBelowClusterMinimu
			}
		}
		if status == quotaSuccess {
			if set[wsKey] == nil {
				set[wsKey] = map[string]int64{}
			}
			set[wsKey][family] = it.limit
		}
		out[i] = map[string]any{"id": it.raw, "type": TypeWorkspaces + "/quotas", "limit": it.limit, "unit": "Count", "status": status}
	}
	if len(set) > 0 {
		if err := rt.storeQuotas(ctx, sub, loc, set, byID); err != nil {
			return nil, err
		}
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out}), nil
}

// storeQuotas merges set into the stored quotas of sub and loc, dropping
// those of workspaces no longer in the region (live holds those that are).
func (rt *locationRoute) storeQuotas(ctx context.Context, sub, loc string, set storedQuotas, live map[string]*engine.Resource) error {
	return kv.Retry(ctx, func() error {
		q, rev, err := rt.loadQuotas(ctx, sub, loc)
		if err != nil {
			return err
		}
		for ws := range q {
			if live[ws] == nil {
				delete(q, ws)
			}
		}
		for ws, limits := range set {
			if q[ws] == nil {
				q[ws] = map[string]int64{}
			}
			for f, l := range limits {
				q[ws][f] = l
			}
		}
		b, err := json.Marshal(q)
		if err != nil {
			return err
		}
		cond := kv.Absent
		if rev != 0 {
			cond = kv.AtRevision(rev)
		}
		_, err = rt.kv.Txn(ctx, kv.Put(quotaKey(sub, loc), b).If(cond))
		return err
	})
}

// workspaceDeleted drops a deleted workspace's quotas (an engine delete
// hook), so that a workspace made again under the same name, or after
// `armlet reset`, starts from the family limits.
func (rt *locationRoute) workspaceDeleted(ctx context.Context, r *engine.Resource) {
	if !strings.EqualFold(r.Type, TypeWorkspaces) {
		return
	}
	sub, loc, wsKey := r.ID.SubscriptionID(), r.Location, strings.ToLower(r.ID.String())
	err := kv.Retry(ctx, func() error {
		q, rev, err := rt.loadQuotas(ctx, sub, loc)
		if err != nil || q[wsKey] == nil {
			return err
		}
		delete(q, wsKey)
		op := kv.Delete(quotaKey(sub, loc)).If(kv.AtRevision(rev))
		if len(q) > 0 {
			b, err := json.Marshal(q)
			if err != nil {
				return err
			}
			op = kv.Put(quotaKey(sub, loc), b).If(kv.AtRevision(rev))
		}
		_, err = rt.kv.Txn(ctx, op)
		return err
	})
	if err != nil {
		rt.e.Logger().Warn("dropping a deleted workspace's quotas failed", "workspace", r.ID.String(), "err", err)
	}
}
