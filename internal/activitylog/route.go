package activitylog

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
)

// APIVersion is the activity log's one api-version.
const APIVersion = "2015-04-01"

// DefaultPageSize is how many events one page holds.
const DefaultPageSize = 200

// Flows reads flow records (*netmodel.FlowStore after a Flush).
type Flows func(ctx context.Context, ff netmodel.FlowFilter) ([]netmodel.Flow, error)

// Route serves GET /subscriptions/{s}/providers/Microsoft.Insights/eventtypes/management/values
// as an engine.Route, so it is reached through the same front door,
// authentication and access checks as every ARM request.
//
// Choice: a route rather than a provider type: the activity log stores
// nothing, has no resources to PUT and no parent resource
// (eventtypes/management is not a resource in Azure either), so a type
// with a ChildLister would need a fake stored parent.
type Route struct {
	Engine   *engine.Engine
	Flows    Flows
	Audience string
	TenantID string
	// PageSize is the events per page; default DefaultPageSize.
	PageSize int
}

// ServeRoute implements engine.Route.
func (rt *Route) ServeRoute(ctx context.Context, req *engine.Request, p resourceid.Path) (*engine.Response, bool, error) {
	if p.ID.Len() != 2 || !strings.EqualFold(p.ID.Segment(0).Type, resourceid.TypeSubscriptions) ||
		!strings.EqualFold(p.ID.Segment(1).Type, "Microsoft.Insights/eventtypes") {
		return nil, false, nil
	}
	segs := p.ID.Segments()
	if !strings.EqualFold(segs[1].Name, "management") || !strings.EqualFold(p.Tail, "values") {
		return nil, true, arm.NotFound("InvalidResourceType", "The resource type 'eventtypes' in namespace 'Microsoft.Insights' serves only 'eventtypes/management/values'.")
	}
	resp, err := rt.serve(ctx, req, segs[0].Name)
	return resp, true, err
}

func (rt *Route) serve(ctx context.Context, req *engine.Request, sub string) (*engine.Response, error) {
	if req.Method != http.MethodGet {
		return nil, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
			"The requested resource does not support http method '%s' for type 'Microsoft.Insights/eventtypes/values'.", req.Method)
	}
	if v := req.APIVersion; v == "" {
		return nil, arm.BadRequest(arm.CodeMissingAPIVersion, "The api-version query parameter (?api-version=) is required for all requests.")
	} else if v != APIVersion {
		return nil, arm.BadRequest(arm.CodeInvalidAPIVersion, "The api-version '%s' is invalid. The supported versions are '%s'.", v, APIVersion)
	}
	subID := resourceid.New(resourceid.Segment{Type: resourceid.TypeSubscriptions, Name: sub})
	if _, err := rt.Engine.Get(ctx, subID); err != nil {
		if _, ok := arm.AsError(err); ok {
			return nil, arm.NotFound(arm.CodeSubscriptionNotFound, "The subscription '%s' could not be found.", sub)
		}
		return nil, err
	}
	f, err := ParseFilter(req.QueryValue("$filter"))
	if err != nil {
		return nil, err
	}
	sel, err := parseSelect(req.QueryValue("$select"))
	if err != nil {
		return nil, err
	}
	var cursor *EventData
	if tok := req.QueryValue("$skipToken"); tok != "" {
		if cursor, err = decodeToken(tok); err != nil {
			return nil, err
		}
	}
	// Flow times are arrival times; events carry them, so the flow filter
	// is the event filter's range.
	flows, err := rt.Flows(ctx, netmodel.FlowFilter{Since: f.From, Until: f.To.Add(time.Nanosecond)})
	if err != nil {
		return nil, err
	}
	o := Options{BaseURL: req.BaseURL, Audience: rt.Audience, TenantID: rt.TenantID}
	var events []EventData
	for _, fl := range flows {
		for _, e := range Events(fl, o) {
			if f.Match(e, sub) && (cursor == nil || after(*cursor, e)) {
				events = append(events, e)
			}
		}
	}
	Sort(events)
	size := rt.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	body := map[string]any{}
	if len(events) > size {
		events = events[:size]
		body["nextLink"] = nextLink(req, encodeToken(events[size-1]))
	}
	value := make([]any, 0, len(events))
	for _, e := range events {
		v, err := project(e, sel)
		if err != nil {
			return nil, err
		}
		value = append(value, v)
	}
	body["value"] = value
	return engine.JSON(http.StatusOK, body), nil
}

// parseSelect reads $select's comma-separated field names, which must be
// EventData's JSON names (case-insensitive).
func parseSelect(s string) (map[string]bool, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	known := map[string]string{}
	for _, n := range eventFields() {
		known[strings.ToLower(n)] = n
	}
	out := map[string]bool{}
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		name, ok := known[strings.ToLower(n)]
		if !ok {
			return nil, arm.BadRequest(CodeBadFilter, "The $select field '%s' is not a field of the activity log's events.", n)
		}
		out[name] = true
	}
	return out, nil
}

func eventFields() []string {
	b, _ := json.Marshal(EventData{Claims: map[string]string{"x": ""}, Properties: map[string]string{"x": ""},
		Authorization: &Authorization{}, HTTPRequest: &HTTPRequest{}, ResourceGroupName: "x", Caller: "x"})
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// project keeps the selected top-level fields of e (all when sel is nil).
func project(e EventData, sel map[string]bool) (any, error) {
	if sel == nil {
		return e, nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k := range m {
		if !sel[k] {
			delete(m, k)
		}
	}
	return m, nil
}

// The skip token is the position of the last event of a page: its time
// and order key. Later pages hold the events older than it, so events
// recorded meanwhile (newer) never shift a page.
func encodeToken(e EventData) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(e.EventTimestamp.UnixNano(), 10) + "|" + e.order))
}

func decodeToken(tok string) (*EventData, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	ns, order, ok := strings.Cut(string(b), "|")
	n, perr := strconv.ParseInt(ns, 10, 64)
	if err != nil || !ok || perr != nil {
		return nil, arm.BadRequest("InvalidSkipToken", "The $skipToken '%s' is not one armlet issued.", tok)
	}
	return &EventData{EventTimestamp: time.Unix(0, n).UTC(), order: order}, nil
}

func nextLink(req *engine.Request, token string) string {
	q := url.Values{}
	for k, v := range req.Query {
		if !strings.EqualFold(k, "$skipToken") {
			q[k] = v
		}
	}
	q.Set("$skipToken", token)
	return fmt.Sprintf("%s%s?%s", req.BaseURL, req.Path, q.Encode())
}
