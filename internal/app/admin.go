package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/identity"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/providers/keyvault"
	"github.com/armlet/armlet/internal/providers/machinelearning"
	"github.com/armlet/armlet/internal/providers/storage"
	"github.com/armlet/armlet/internal/report"
	"github.com/google/uuid"
)

// admin serves /_armlet/ (except health) to the bootstrap principal:
//
//	GET  /_armlet/fleet                 this replica and the fleet's leader:
//	                                    {"replica", "leader", "leading", "store"}
//	GET  /_armlet/clock                 {"now", "offset"}
//	POST /_armlet/clock/advance         {"duration":"45m"} -> {"now", "offset"}
//	GET  /_armlet/principals            the service principals
//	POST /_armlet/principals            {"name":"x"} -> {"clientId","clientSecret","objectId","tenantId","name"}
//	DELETE /_armlet/principals/{id}     delete the principal whose object id or client id is id
//	                                    (its tokens stop working at once) -> the principal;
//	                                    404 for an unknown one, 400 for an id that is no GUID,
//	                                    409 for the bootstrap principal
//	GET  /_armlet/export                the whole state as a seed file (Seed): subscriptions and
//	                                    resources with their internal state, secrets in clear;
//	                                    principals too with includePrincipals=true
//	POST /_armlet/import                body: a seed or export file; applies it as --seed does
//	                                    at start (existing resources are skipped), all or nothing
//	                                    -> {"subscriptions","principals","resources"}, each
//	                                    {"created":[ids],"skipped":[ids]}
//	POST /_armlet/reset                 {"confirm":true}: delete every resource, keep the
//	                                    principals, the CA, the signing key, the tenant and the
//	                                    default subscription's id, the clock and the flow
//	                                    records -> {"deleted": n}; any other body is 400
//	                                    naming "confirm"
//	GET  /_armlet/state?id=RESOURCE_ID  the resource, its internal state and derived state
//	                                    (a workspace's effective v1LegacyMode), with secrets
//	                                    shown as "[REDACTED]" unless showSecrets=true
//	GET  /_armlet/network/endpoints     the private endpoint listeners {"value": [...]}
//	GET  /_armlet/network/virtualNetworks  the virtual network proxies {"value": [{virtualNetworkId,
//	                                    httpsProxy, listenAddress}]}
//	GET  /_armlet/network/resolve?host=H&virtualNetworkId=ID
//	                                    H resolved as Azure DNS answers inside the virtual network
//	                                    (netmodel.Resolution: the chain and the verdict); 400 for a
//	                                    host that is no host name or an id that is no virtual
//	                                    network's, 404 for a virtual network that does not exist
//	GET  /_armlet/flows                 flow records {"value": [...]}, oldest first; filters
//	                                    workspace (resource id prefix), class, since, until
//	                                    (RFC 3339, or a duration back from now such as 1h), limit
//	GET  /_armlet/reports/exposure      the exposure report; filters workspace, since, until,
//	                                    principal (the caller's object or app id, or a principal's name)
//	GET  /_armlet/reports/access        the access report: per principal, each request's outcome
//	                                    and decision trail, with the principal's name; filters principal
//	                                    (object or app id, or name), since, until, deniedOnly=true
//	GET  /_armlet/ui/resources          the resources the web UI draws (webui.go)
//	GET  /_armlet/ui/revision           a revision that changes with state, flows and clock
//	POST /_armlet/ui/login              a new web UI login link {"uiUrl"}
type admin struct {
	s              *Server
	bootstrapAppID string
	base           string // the advertised base URL, for UI login links
}

func (a *admin) ServeAdmin(ctx context.Context, caller engine.Caller, r *http.Request, body []byte) (*engine.Response, error) {
	if !strings.EqualFold(caller.AppID, a.bootstrapAppID) {
		return nil, arm.Errorf(http.StatusForbidden, arm.CodeAuthorizationFailed,
			"The client '%s' with object id '%s' does not have authorization to use the armlet admin API '%s'; only the bootstrap principal (connection.json) does.",
			caller.AppID, caller.ObjectID, r.URL.Path)
	}
	route := r.Method + " " + strings.TrimSuffix(r.URL.Path, "/")
	if id, ok := strings.CutPrefix(route, "DELETE /_armlet/principals/"); ok {
		return a.deletePrincipal(ctx, id)
	}
	switch route {
	case "GET /_armlet/ui/resources", "GET /_armlet/ui/revision", "POST /_armlet/ui/login":
		return a.serveUI(ctx, route)
	case "GET /_armlet/fleet":
		leader, err := a.s.leadership.Leader(ctx)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, map[string]any{
			"replica": a.s.leadership.ID(), "leader": leader, "leading": a.s.leadership.Leading(), "store": a.s.storeKind(),
		}), nil
	case "GET /_armlet/clock":
		return a.clockBody(), nil
	case "POST /_armlet/clock/advance":
		var in struct {
			Duration string `json:"duration"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, arm.InvalidContent("duration", "The body must be {\"duration\": \"45m\"}: %v.", err)
		}
		d, err := time.ParseDuration(in.Duration)
		if err != nil || d < 0 {
			return nil, arm.InvalidContent("duration", "The duration '%s' is not a non-negative duration such as 90s, 45m or 2h.", in.Duration)
		}
		if _, err := a.s.AdvanceClock(ctx, d); err != nil {
			return nil, err
		}
		return a.clockBody(), nil
	case "GET /_armlet/principals":
		ps, err := a.s.identity.ListPrincipals(ctx)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, map[string]any{"value": ps}), nil
	case "POST /_armlet/principals":
		var in struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, arm.InvalidContent("name", "The body must be {\"name\": \"...\"}: %v.", err)
		}
		creds, err := a.s.identity.CreatePrincipal(ctx, in.Name)
		if err != nil {
			if errors.Is(err, identity.ErrInvalidName) {
				return nil, arm.InvalidContent("name", "%v", err)
			}
			return nil, err
		}
		return engine.JSON(http.StatusCreated, creds), nil
	case "GET /_armlet/export":
		withPrincipals, err := boolQuery(r, "includePrincipals")
		if err != nil {
			return nil, err
		}
		seed, err := a.s.exportState(ctx, withPrincipals)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, seed), nil
	case "POST /_armlet/import":
		res, err := a.s.importSeed(ctx, body, caller)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, res), nil
	case "POST /_armlet/reset":
		var in struct {
			Confirm bool `json:"confirm"`
		}
		if err := json.Unmarshal(body, &in); err != nil || !in.Confirm {
			return nil, arm.InvalidContent("confirm",
				"A reset deletes every resource of armlet (subscriptions but the default one, resource groups, workspaces, role and policy assignments and definitions); send {\"confirm\": true} to do it.")
		}
		res, err := a.s.resetState(ctx)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, res), nil
	case "GET /_armlet/state":
		raw := r.URL.Query().Get("id")
		id, err := resourceid.Parse(raw)
		if err != nil || id.IsRoot() {
			return nil, arm.BadRequest("InvalidResourceId", "The query parameter 'id' must be a resource id: %q.", raw)
		}
		show, err := boolQuery(r, "showSecrets")
		if err != nil {
			return nil, err
		}
		out, err := a.s.engine.Describe(ctx, id, r.URL.Query().Get("api-version"))
		if err != nil {
			return nil, err
		}
		if show {
			return engine.JSON(http.StatusOK, out), nil
		}
		redacted, err := redactSecrets(out)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, redacted), nil
	case "GET /_armlet/network/endpoints":
		return engine.JSON(http.StatusOK, map[string]any{"value": a.s.listeners.List()}), nil
	case "GET /_armlet/network/virtualNetworks":
		list := []netmodel.VNetProxy{}
		if a.s.vnetProxies != nil {
			list = a.s.vnetProxies.List()
		}
		return engine.JSON(http.StatusOK, map[string]any{"value": list}), nil
	case "GET /_armlet/network/resolve":
		return a.adminResolve(ctx, r)
	case "GET /_armlet/flows":
		flows, err := a.flows(ctx, r, true)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, map[string]any{"value": flows, "droppedFlowRecords": a.s.flows.Dropped()}), nil
	case "GET /_armlet/reports/exposure":
		flows, err := a.flows(ctx, r, false)
		if err != nil {
			return nil, err
		}
		if ids, ok, err := a.principalFilter(ctx, r); err != nil {
			return nil, err
		} else if ok {
			flows = flowsOf(flows, ids)
		}
		exposure, err := report.BuildExposure(flows, isV2Child, func(ws string) (*report.WorkspaceSettings, error) {
			return a.workspaceSettings(ctx, ws)
		}, a.s.clock.Now())
		if err != nil {
			return nil, err
		}
		exposure.DroppedFlowRecords = a.s.flows.Dropped()
		return engine.JSON(http.StatusOK, exposure), nil
	case "GET /_armlet/reports/access":
		flows, err := a.flows(ctx, r, false)
		if err != nil {
			return nil, err
		}
		if ids, ok, err := a.principalFilter(ctx, r); err != nil {
			return nil, err
		} else if ok {
			flows = flowsOf(flows, ids)
		}
		var f report.AccessFilter
		if f.DeniedOnly, err = boolQuery(r, "deniedOnly"); err != nil {
			return nil, err
		}
		names, err := a.principalNames(ctx)
		if err != nil {
			return nil, err
		}
		rep := report.BuildAccess(flows, f, a.s.clock.Now())
		for i, p := range rep.Principals {
			rep.Principals[i].Name = names[strings.ToLower(p.ObjectID)]
		}
		rep.DroppedFlowRecords = a.s.flows.Dropped()
		return engine.JSON(http.StatusOK, rep), nil
	}
	return nil, arm.NotFound("NotFound", "No admin endpoint for %s.", route)
}

// deletePrincipal deletes the principal whose object id or client id is
// id, and returns it.
func (a *admin) deletePrincipal(ctx context.Context, id string) (*engine.Response, error) {
	if _, err := uuid.Parse(id); err != nil || strings.Contains(id, "/") {
		return nil, arm.BadRequest("InvalidPrincipalId", "'%s' is neither an object id nor a client id: both are GUIDs.", id)
	}
	p, err := a.s.identity.FindPrincipal(ctx, id)
	if err == nil {
		err = a.s.identity.DeletePrincipal(ctx, p.ClientID)
	}
	switch {
	case errors.Is(err, identity.ErrPrincipalNotFound):
		return nil, arm.NotFound("PrincipalNotFound", "No service principal has the object id or client id '%s'.", id)
	case errors.Is(err, identity.ErrBootstrapPrincipal):
		return nil, arm.Conflict("BootstrapPrincipalCannotBeDeleted",
			"The principal '%s' is the bootstrap principal: armlet's administrator (connection.json) and Owner at '/'; it cannot be deleted.", id)
	case err != nil:
		return nil, err
	}
	return engine.JSON(http.StatusOK, p), nil
}

// boolQuery reads an optional true/false query parameter (any casing of
// its value); absent is false.
func boolQuery(r *http.Request, name string) (bool, error) {
	switch v := strings.ToLower(r.URL.Query().Get(name)); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, arm.BadRequest("InvalidQueryParameterValue", "The query parameter '%s' is '%s'; it must be true or false.", name, v)
	}
}

// redactSecrets is the state view with the value of every secret-looking
// member replaced by netmodel.Redacted (netmodel.RedactJSON, the test the
// flow records use): the stored datastore secrets and connection
// credentials, workspace and endpoint keys, a Kubernetes compute's token,
// and any secret a rendered resource still shows. The view is made of
// typed values (the engine's Internal, times), so it goes through JSON
// first.
//
// Choice: the test is by name and errs towards hiding (a datastore's
// whole credentials object is hidden, credentialsType included);
// showSecrets=true shows everything.
func redactSecrets(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return netmodel.RedactJSON(generic), nil
}

// flows reads the flow records the query selects, after storing those
// still queued.
func (a *admin) flows(ctx context.Context, r *http.Request, withClassAndLimit bool) ([]netmodel.Flow, error) {
	q := r.URL.Query()
	now := a.s.clock.Now()
	var ff netmodel.FlowFilter
	ff.Resource = q.Get("workspace")
	var err error
	if ff.Since, err = parseInstant(q.Get("since"), now); err != nil {
		return nil, arm.BadRequest("InvalidQueryParameterValue", "The query parameter 'since' %v.", err)
	}
	if ff.Until, err = parseInstant(q.Get("until"), now); err != nil {
		return nil, arm.BadRequest("InvalidQueryParameterValue", "The query parameter 'until' %v.", err)
	}
	if withClassAndLimit {
		c := netmodel.PathClass(strings.ToLower(q.Get("class")))
		if c != "" && !slices.Contains(netmodel.PathClasses, c) {
			names := make([]string, len(netmodel.PathClasses))
			for i, pc := range netmodel.PathClasses {
				names[i] = string(pc)
			}
			return nil, arm.BadRequest("InvalidQueryParameterValue",
				"The query parameter 'class' is '%s'; it must be one of %s.", q.Get("class"), strings.Join(names, ", "))
		}
		ff.Class = c
		if l := q.Get("limit"); l != "" {
			if ff.Limit, err = strconv.Atoi(l); err != nil || ff.Limit < 0 {
				return nil, arm.BadRequest("InvalidQueryParameterValue", "The query parameter 'limit' is '%s'; it must be a non-negative integer.", l)
			}
		}
	}
	if err := a.s.flows.Flush(ctx); err != nil {
		return nil, err
	}
	return a.s.flows.List(ctx, ff)
}

// parseInstant reads an RFC 3339 time, or a duration back from now.
func parseInstant(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("is '%s'; it must be an RFC 3339 time or a duration back from now such as 1h", s)
}

// registrySettings reads a registry's isolation settings: its
// publicNetworkAccess, its approved private endpoint connections and
// whether its subscription's tenant refuses public ARM.
func (a *admin) registrySettings(ctx context.Context, reg *engine.Resource) (*report.WorkspaceSettings, error) {
	st := &report.WorkspaceSettings{Exists: true, PublicNetworkAccess: "Enabled",
		ApprovedPrivateEndpoints: machinelearning.ApprovedRegistryConnections(reg)}
	if machinelearning.RegistryRefusesPublicAccess(reg) {
		st.PublicNetworkAccess = "Disabled"
	}
	sub, err := a.s.engine.Get(ctx, resourceid.Subscription(reg.ID.SubscriptionID()))
	if err != nil {
		return st, nil
	}
	if tenant, _ := sub.Properties["tenantId"].(string); tenant != "" {
		if st.PublicARMDisabled, _, err = a.s.opts.publicARM(ctx, tenant); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (a *admin) clockBody() *engine.Response {
	return engine.JSON(http.StatusOK, map[string]any{
		"now":    a.s.clock.Now(),
		"offset": a.s.clock.Offset().String(),
	})
}

// workspaceSettings reads the current isolation settings of the workspace
// (or registry) with resource ID id for the exposure report.
func (a *admin) workspaceSettings(ctx context.Context, id string) (*report.WorkspaceSettings, error) {
	rid, err := resourceid.Parse(id)
	if err != nil {
		return &report.WorkspaceSettings{}, nil
	}
	ws, err := a.s.engine.Get(ctx, rid)
	if _, isARM := arm.AsError(err); isARM {
		return &report.WorkspaceSettings{}, nil // deleted
	}
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(ws.Type, machinelearning.TypeRegistries) {
		return a.registrySettings(ctx, ws)
	}
	if strings.EqualFold(ws.Type, storage.TypeAccounts) || strings.EqualFold(ws.Type, keyvault.TypeVaults) {
		// A data plane's subject: only its public network access decides
		// the path of the next calls (its private endpoints keep their
		// connections on their side).
		st := &report.WorkspaceSettings{Exists: true}
		st.PublicNetworkAccess, _ = ws.Properties["publicNetworkAccess"].(string)
		return st, nil
	}
	now := a.s.clock.Now()
	st := &report.WorkspaceSettings{Exists: true}
	st.V1LegacyMode, _ = machinelearning.EffectiveLegacyMode(ws, now)
	st.PublicNetworkAccess, _ = ws.Properties["publicNetworkAccess"].(string)
	conns, err := a.s.engine.List(ctx, rid, "privateEndpointConnections")
	if err != nil {
		return nil, err
	}
	for _, c := range conns {
		if machinelearning.ConnectionStatus(c) == "Approved" {
			st.ApprovedPrivateEndpoints++
		}
	}
	if tenant, _ := ws.Properties["tenantId"].(string); tenant != "" {
		if st.PublicARMDisabled, _, err = a.s.opts.publicARM(ctx, tenant); err != nil {
			return nil, err
		}
	}
	return st, nil
}
