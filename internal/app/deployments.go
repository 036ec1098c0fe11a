package app

import (
	"context"

	"github.com/armlet/armlet/internal/armhttp"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/providers/deployments"
)

// innerDispatcher sends a deployment's requests through the ARM front
// door's inner server, so that each resource of a template is checked
// and recorded as its caller's own request.
func innerDispatcher(in *armhttp.Inner) deployments.Dispatcher {
	return func(ctx context.Context, r deployments.Request) (*engine.Response, error) {
		return in.Serve(ctx, armhttp.InnerRequest{
			Caller: r.Caller, Method: r.Method, ID: r.ID, Tail: r.Tail, APIVersion: r.APIVersion, Body: r.Body,
			BaseURL: r.BaseURL, Deployment: r.Deployment, CorrelationID: r.CorrelationID, Record: r.Record, Origin: r.Origin,
		})
	}
}
