// Package workspaceapi is the data plane each Azure ML workspace serves
// itself (aml-arm.md section 7): discovery, v1 run history, v1 datastores
// and models, and the v2 "remaining operations" (run metrics and
// artifacts). It is reachable publicly only while the workspace's
// publicNetworkAccess is Enabled, and through the workspace's approved
// private endpoints always.
package workspaceapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
)

// Prefixes are the first path segments the workspace endpoint serves (the
// main listener routes them here instead of to ARM).
var Prefixes = []string{"discovery", "history", "modelmanagement", "datastore", "artifact", "mlflow", "metric"}

// Options configures the service.
type Options struct {
	Engine *engine.Engine
	Logger *slog.Logger
}

// Service answers workspace data-plane requests.
type Service struct {
	opts Options
}

// New returns a Service.
func New(opts Options) *Service { return &Service{opts: opts} }

// Request is one authenticated data-plane call.
type Request struct {
	Method  string
	Path    string // escaped URL path as received
	Query   url.Values
	Header  http.Header
	Body    []byte
	Caller  engine.Caller
	Origin  netmodel.Origin
	BaseURL string // scheme and host the client used
	Now     time.Time
}

// Serve answers one request.
func (s *Service) Serve(ctx context.Context, req *Request) (*engine.Response, error) {
	return nil, arm.NotFound("NotFound", "The workspace endpoint is not built yet.")
}
