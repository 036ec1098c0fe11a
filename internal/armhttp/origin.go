package armhttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/action"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/providers/machinelearning"
	"github.com/armlet/armlet/internal/registryapi"
	"github.com/armlet/armlet/internal/workspaceapi"
)

// Group ids of the private endpoints whose listeners serve something.
const (
	groupWorkspace = "amlworkspace"
	groupARM       = "ResourceManagement"
)

// isWorkspacePath reports whether a lower-cased first path segment belongs
// to the workspace endpoint.
func isWorkspacePath(first string) bool {
	for _, p := range workspaceapi.Prefixes {
		if strings.EqualFold(first, p) {
			return true
		}
	}
	return false
}

// private routes a request that arrived on a private endpoint's listener:
// it serves only what the endpoint reaches.
//
// Choice: anything else gets 404 NotFound with a message naming the
// endpoint and what it reaches, as the service behind a private endpoint
// does not know the other service's paths. The token service and the
// admin API are served only on the main listener: Entra ID is a public
// service, and armlet's admin API must stay reachable there.
func (s *server) private(r *http.Request, ep *netmodel.Endpoint, first, rest string, rt *routes) http.Handler {
	info := flowInfoFrom(r.Context())
	switch {
	case strings.EqualFold(ep.GroupID, groupWorkspace):
		info.class = netmodel.WorkspacePrivate
		if isWorkspacePath(first) {
			info.service = netmodel.ServiceWorkspace
			return rt.workspace
		}
		return s.refuseNamed(r, info, arm.NotFound("NotFound",
			"Private endpoint '%s' (group id '%s') reaches only the workspace endpoint of '%s' (paths under /%s); '%s' is not served here. "+
				"Call Azure Resource Manager on its public endpoint or through a private endpoint to a resource management private link.",
			ep.ID, ep.GroupID, ep.TargetID, strings.Join(workspaceapi.Prefixes, ", /"), r.URL.Path))
	case strings.EqualFold(ep.GroupID, machinelearning.RegistryPrivateLinkGroup):
		info.class = netmodel.RegistryPrivate
		if registryapi.IsRegistryPath(first) {
			info.service = netmodel.ServiceRegistry
			return rt.registry
		}
		return s.refuseNamed(r, info, arm.NotFound("NotFound",
			"Private endpoint '%s' (group id '%s') reaches only the registry endpoint of '%s' (paths under /registrymanagement and %s); '%s' is not served here. "+
				"Call Azure Resource Manager on its public endpoint or through a private endpoint to a resource management private link.",
			ep.ID, ep.GroupID, ep.TargetID, registryapi.AssetPrefix, r.URL.Path))
	case strings.EqualFold(ep.GroupID, groupARM):
		info.class = netmodel.ARMPrivate
		_, pattern := rt.identity.Handler(r)
		switch {
		case first == "_armlet":
			info.skip = true
			return s.refuse(arm.NotFound("NotFound", "The armlet admin API is served only on the main listener, not on private endpoint '%s'.", ep.ID))
		case isWorkspacePath(first) || registryapi.IsRegistryPath(first) || pattern != "" && first != "subscriptions" && first != "providers" && first != "tenants":
			return s.refuse(arm.NotFound("NotFound",
				"Private endpoint '%s' (group id '%s') reaches only Azure Resource Manager; '%s' is not served here. "+
					"Workspace endpoints are reached through a private endpoint to the workspace (group id '%s'), tokens from the token service on the main endpoint.",
				ep.ID, ep.GroupID, r.URL.Path, groupWorkspace))
		case first == "metadata" && rest == "endpoints" && r.Method == http.MethodGet:
			return rt.privateMetadata
		default:
			return rt.arm
		}
	default:
		info.class = netmodel.WorkspacePrivate
		return s.refuse(arm.NotFound("NotFound", "Private endpoint '%s' has group id '%s', which armlet does not serve.", ep.ID, ep.GroupID))
	}
}

// refuseNamed refuses a request a data-plane listener does not serve, but
// names it in its flow record as the ARM call it is, so the reports show
// it under its workspace or registry.
func (s *server) refuseNamed(r *http.Request, info *flowInfo, err error) http.Handler {
	if p, perr := resourceid.ParsePath(r.URL.EscapedPath()); perr == nil {
		info.target(action.Of(r.Method, p))
	}
	return s.refuse(err)
}

// refuse is a handler that answers err.
func (s *server) refuse(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.writeError(w, r, err) })
}

// flowInfo is what the handlers learn about a request for its flow
// record; the flow middleware puts one in each request's context.
type flowInfo struct {
	skip      bool
	service   netmodel.Service
	class     netmodel.PathClass
	caller    engine.Caller
	errorCode string
	// operation and resource are what the request was resolved to, set
	// once its path is parsed (empty when it never was).
	operation string
	resource  resourceid.ID
	// clientGone is set when the client went away before it was
	// answered (server.clientGone).
	clientGone bool
	// stream is set for routes whose bodies are content streamed to disk
	// (the blob data plane): the flow record keeps none of the body.
	stream bool
}

// target records what the request was resolved to.
func (fi *flowInfo) target(operation string, resource resourceid.ID) {
	fi.operation, fi.resource = operation, resource
}

type flowInfoKey struct{}

// flowInfoFrom returns the request's flowInfo, or a scratch one when no
// flow middleware runs.
func flowInfoFrom(ctx context.Context) *flowInfo {
	if fi, ok := ctx.Value(flowInfoKey{}).(*flowInfo); ok {
		return fi
	}
	return &flowInfo{}
}

// withFlowInfo returns r with a flowInfo in its context (the one already
// there, or a new one for a public ARM call) and that flowInfo.
func withFlowInfo(r *http.Request) (*http.Request, *flowInfo) {
	if fi, ok := r.Context().Value(flowInfoKey{}).(*flowInfo); ok {
		return r, fi
	}
	fi := &flowInfo{service: netmodel.ServiceARM, class: netmodel.ARMPublic}
	return r.WithContext(context.WithValue(r.Context(), flowInfoKey{}, fi)), fi
}

// flows records an observation of every request after it is answered.
// Recording is a queue send; turning it into a flow record and storing it
// happen in the recorder's writer.
func (s *server) flows(next http.Handler) http.Handler {
	if s.Flows == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := s.Clock.Now()
		var info *flowInfo
		r, info = withFlowInfo(r)
		var body *captureBody
		if r.Body != nil && r.Body != http.NoBody {
			body = &captureBody{ReadCloser: r.Body, info: info}
			r.Body = body
		}
		ctx, decisions := decision.With(r.Context())
		r = r.WithContext(ctx)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if info.skip {
			return
		}
		status := rec.status
		// A handler that found the client gone answers nothing; so does
		// one (the token service's) that stops on a cancelled context.
		if info.clientGone || !rec.wrote && errors.Is(r.Context().Err(), context.Canceled) {
			status = StatusClientClosedRequest
		}
		o := netmodel.Observation{
			Time: now, Service: info.service, Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			ContentType: r.Header.Get("Content-Type"), CallerObjectID: info.caller.ObjectID, CallerAppID: info.caller.AppID,
			Origin: netmodel.OriginFrom(r.Context()), Class: info.class, Status: status, ErrorCode: info.errorCode,
			RequestID: w.Header().Get("X-Ms-Request-Id"), Decisions: decisions.List(),
			CallerTenantID: info.caller.TenantID, CorrelationID: w.Header().Get("X-Ms-Correlation-Request-Id"),
			ClientRequestID: r.Header.Get("X-Ms-Client-Request-Id"),
			Operation:       info.operation, Resource: info.resource,
		}
		if body != nil {
			o.Body = body.buf
		}
		if info.service == netmodel.ServiceToken && o.CallerAppID == "" {
			o.CallerAppID = claimedClient(r, o.Body)
		}
		s.Flows.Record(o)
	})
}

// claimedClient is the client id a token request names (Basic auth or the
// client_id form field).
func claimedClient(r *http.Request, body []byte) string {
	if id, _, ok := r.BasicAuth(); ok {
		return id
	}
	if form, err := url.ParseQuery(string(body)); err == nil {
		return form.Get("client_id")
	}
	return ""
}

// captureBody keeps a copy of what the handler reads from the body.
// Routing decides after it is made whether the body is kept: nothing of a
// streamed body is (flowInfo.stream), so memory does not grow with it.
type captureBody struct {
	io.ReadCloser
	buf  []byte
	info *flowInfo
}

func (c *captureBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if !c.info.stream {
		c.buf = append(c.buf, p[:n]...)
	}
	return n, err
}
