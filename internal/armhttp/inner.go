package armhttp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
)

// InnerRequest is a request ARM makes on a caller's behalf while it runs
// an ARM template deployment: one resource of the template, sent as if
// the deployment's caller had sent it, from inside ARM.
type InnerRequest struct {
	Caller     engine.Caller
	Method     string
	ID         resourceid.ID
	Tail       string // an action or collection below ID ("listKeys"), or ""
	APIVersion string
	Body       []byte
	// BaseURL is the deployment request's, for the URLs in answers.
	BaseURL string
	// Deployment is the deployment making the request, for its flow
	// record.
	Deployment resourceid.ID
	// CorrelationID is the deployment's.
	CorrelationID string
	// Record says whether to keep a flow record (writes and actions; the
	// deployment's reads of the resources it waits for are not the
	// caller's operations).
	Record bool
	// Origin is how the deployment's own request arrived: the flow record
	// says the resource's request travelled that way (it did, inside the
	// deployment's body).
	Origin netmodel.Origin
}

// Inner serves a deployment's requests through what a client's request
// to ARM goes through, less the network: RBAC for the caller, the engine
// (Azure Policy, the v1LegacyMode gate, api-version and body checks), the
// write hooks, and a flow record of the class the deployment's own
// request had (arm-public or arm-private), naming the deployment.
type Inner struct{ s *server }

// NewInner returns the inner request server of the ARM front door opts
// describes (the Options given to Handler).
func NewInner(opts Options) *Inner { return &Inner{s: &server{Options: opts}} }

// Serve serves one inner request.
func (in *Inner) Serve(ctx context.Context, r InnerRequest) (resp *engine.Response, err error) {
	s := in.s
	p := resourceid.Path{ID: r.ID, Tail: r.Tail}
	class := netmodel.ARMPublic
	if r.Origin.Private() {
		class = netmodel.ARMPrivate
	}
	info := &flowInfo{service: netmodel.ServiceARM, class: class, caller: r.Caller}
	ctx = context.WithValue(netmodel.WithOrigin(ctx, r.Origin), flowInfoKey{}, info)
	ctx, decisions := decision.With(ctx)
	now := s.Clock.Now()
	if r.Record && s.Flows != nil {
		defer func() {
			status := http.StatusOK
			if resp != nil {
				status = resp.Status
			}
			code := ""
			if ae, ok := arm.AsError(err); ok {
				status, code = ae.Status, ae.Code
			} else if err != nil {
				status = http.StatusInternalServerError
			}
			path := r.ID.String()
			if r.Tail != "" {
				path += "/" + r.Tail
			}
			s.Flows.Record(netmodel.Observation{
				Time: now, Service: netmodel.ServiceARM, Method: r.Method, Path: (&url.URL{Path: path}).EscapedPath(),
				RawQuery: url.Values{"api-version": {r.APIVersion}}.Encode(), ContentType: "application/json",
				Body: r.Body, CallerObjectID: r.Caller.ObjectID, CallerAppID: r.Caller.AppID,
				CallerTenantID: r.Caller.TenantID, CorrelationID: r.CorrelationID, Class: class, Origin: r.Origin,
				Status: status, ErrorCode: code, Decisions: decisions.List(),
				Operation: info.operation, Resource: info.resource, Deployment: r.Deployment.String(),
			})
		}()
	}
	if err := s.authorizeARM(ctx, r.Caller, r.Method, p); err != nil {
		return nil, err
	}
	if len(r.Body) > 0 {
		if err := checkBody(r.Body); err != nil {
			return nil, err
		}
		if !json.Valid(r.Body) {
			return nil, arm.BadRequest(arm.CodeInvalidRequestContent, "The request content is not valid JSON.")
		}
	}
	req := &engine.Request{
		Method: r.Method, Path: p.ID.String(), Query: url.Values{"api-version": {r.APIVersion}}, Header: http.Header{},
		Body: r.Body, Caller: r.Caller, BaseURL: r.BaseURL, Now: now, APIVersion: r.APIVersion,
	}
	if r.CorrelationID != "" {
		req.Header.Set("x-ms-correlation-request-id", r.CorrelationID)
	}
	resp, err = s.Engine.ServePath(ctx, req, p)
	if err == nil {
		s.written(r.Method, p)
	}
	return resp, err
}
