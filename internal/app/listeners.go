package app

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/providers/authorization"
	"github.com/armlet/armlet/internal/providers/machinelearning"
	"github.com/armlet/armlet/internal/providers/network"
)

// Option adjusts how Start assembles armlet; tests use them to stand in
// for providers.
type Option func(*startOptions)

type startOptions struct {
	endpoints netmodel.EndpointSource
	publicARM func(ctx context.Context, tenantID string) (disabled bool, refusal error, err error)
}

// WithEndpointSource replaces the network provider as the source of the
// approved private endpoints that get listeners.
func WithEndpointSource(f netmodel.EndpointSource) Option {
	return func(o *startOptions) { o.endpoints = f }
}

// WithPublicARMCheck replaces authorization.PublicARMDisabled as the test
// of whether a tenant's ARM refuses public requests.
func WithPublicARMCheck(f func(ctx context.Context, tenantID string) (disabled bool, refusal error, err error)) Option {
	return func(o *startOptions) { o.publicARM = f }
}

func (o *startOptions) defaults(e *engine.Engine) {
	if o.endpoints == nil {
		o.endpoints = func(ctx context.Context) ([]netmodel.Endpoint, error) { return network.ApprovedEndpoints(ctx, e) }
	}
	if o.publicARM == nil {
		// Asked on every public ARM request: the answer is kept until the
		// next write.
		type answer struct {
			disabled bool
			refusal  error
		}
		memo := engine.NewMemo[answer](e)
		o.publicARM = func(ctx context.Context, tenantID string) (bool, error, error) {
			a, err := memo.Get(ctx, tenantID, func() (answer, error) {
				disabled, refusal, err := authorization.PublicARMDisabled(ctx, e, tenantID)
				return answer{disabled, refusal}, err
			})
			return a.disabled, a.refusal, err
		}
	}
}

// publicARMGate refuses ARM requests that arrive publicly while the
// caller's tenant has public ARM disabled.
func (o *startOptions) publicARMGate(ctx context.Context, caller engine.Caller) error {
	disabled, refusal, err := o.publicARM(ctx, caller.TenantID)
	if err != nil {
		return err
	}
	if !disabled {
		return nil
	}
	if refusal == nil {
		refusal = arm.Errorf(http.StatusForbidden, "PublicNetworkAccessDisabled",
			"Public network access to Azure Resource Manager is disabled for tenant '%s' by a private link association; "+
				"call it through a private endpoint to its resource management private link.", caller.TenantID)
	}
	return refusal
}

// isV2Child is the exposure report's test for operations v1 legacy mode
// keeps off ARM.
func isV2Child(child string) bool { return machinelearning.IsV2Child(child) }

// listenerServer is the http.Server settings every listener shares: the
// timeouts of the configuration and one limit on open connections over all
// listeners.
//
// Choice: a connection beyond --max-connections is closed as soon as it is
// accepted rather than left waiting in the kernel's backlog, so that the
// clients already connected keep being served and the process keeps file
// descriptors for its store; the client sees the connection reset or closed
// and can retry. Idle connections that never send a request are closed
// after --read-header-timeout (the TLS handshake is bounded by it too).
func (s *Server) listenerServer() *http.Server {
	max := s.cfg.MaxConnections
	if max <= 0 {
		max = config.DefaultMaxConnections
	}
	return &http.Server{
		ReadHeaderTimeout: orDefault(s.cfg.ReadHeaderTimeout, config.DefaultReadHeaderTimeout),
		ReadTimeout:       orDefault(s.cfg.ReadTimeout, config.DefaultReadTimeout),
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       orDefault(s.cfg.IdleTimeout, config.DefaultIdleTimeout),
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnState: func(c net.Conn, state http.ConnState) {
			switch state {
			case http.StateNew:
				if s.openConns.Add(1) > max {
					s.refusedConns.Add(1)
					_ = c.Close() // the server then reports StateClosed
				}
			case http.StateClosed, http.StateHijacked:
				s.openConns.Add(-1)
			}
		},
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// OpenConnections is how many connections the listeners hold open, and
// RefusedConnections how many were closed at once for --max-connections
// (for tests and the bench).
func (s *Server) OpenConnections() int64    { return s.openConns.Load() }
func (s *Server) RefusedConnections() int64 { return s.refusedConns.Load() }

// mainOrigin marks requests on the main listener as public.
func mainOrigin(ln net.Listener) func(context.Context, net.Conn) context.Context {
	o := netmodel.Origin{Listener: advertised(ln.Addr())}
	return func(ctx context.Context, _ net.Conn) context.Context { return netmodel.WithOrigin(ctx, o) }
}

// Listeners is the private endpoint listeners, for in-process tests.
func (s *Server) Listeners() *netmodel.Listeners { return s.listeners }

// Flows is the flow record store, for in-process tests.
func (s *Server) Flows() *netmodel.FlowStore { return s.flows }

// ServeMain serves r as the main listener would, with no socket and no
// TLS: for in-process measurements of the request path (the allocation
// budget of a GET).
func (s *Server) ServeMain(w http.ResponseWriter, r *http.Request) {
	s.httpServer.Handler.ServeHTTP(w, r.WithContext(s.httpServer.ConnContext(r.Context(), nil)))
}
