package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/armhttp"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/providers/keyvault"
	"github.com/armlet/armlet/internal/proxy"
)

// vaultService serves key vault data planes for the front door
// (armhttp.VaultService): the keyvault provider's DataPlane, with tokens
// checked for Key Vault's audience.
type vaultService struct{ dp *keyvault.DataPlane }

func (v vaultService) ServeVault(ctx context.Context, host string, r *http.Request, body []byte) (*engine.Response, armhttp.VaultTarget, error) {
	resp, t, err := v.dp.Serve(ctx, host, r, body)
	return resp, armhttp.VaultTarget{Caller: t.Caller, Vault: t.Vault, Operation: t.Operation}, err
}

// newVaultService returns the key vault data plane, authenticating with
// the token service for keyvault.Audience and authorizing with Azure RBAC's
// data actions; its challenge names the token service's authority for
// armlet's tenant.
func (s *Server) newVaultService(base, tenant string) vaultService {
	auth := func(ctx context.Context, authorization string) (engine.Caller, *arm.Error) {
		c, err := s.identity.AuthenticateAudience(ctx, authorization, []string{keyvault.Audience})
		if err != nil {
			return engine.Caller{}, err
		}
		return engineCaller(c), nil
	}
	return vaultService{keyvault.NewDataPlane(s.engine, auth, s.rbac.CheckDataAction, base+"/"+tenant)}
}

// startProxy listens on addr and serves armlet's HTTPS proxy there: the
// hosts it serves (Azure Resource Manager's, Entra ID's token service's and
// the data planes of the vaults armlet holds) go
// to handler, with certificates from the local CA. It returns the
// proxy's URL for connection.json. Without the local CA (--cert and
// --key) there is nothing to sign certificates with, and no proxy.
func (s *Server) startProxy(addr string, handler http.Handler, vaults vaultService, log *slog.Logger) (string, error) {
	if addr == "" {
		return "", nil
	}
	if s.ca == nil {
		log.Warn("no HTTPS proxy: it needs armlet's own CA to sign certificates for Azure's host names, and --cert/--key replace it", "proxy-listen", addr)
		return "", nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s (--proxy-listen): %w", addr, err)
	}
	p := proxy.New(proxy.Options{
		Certificate: func(host string) (*tls.Certificate, error) { return s.ca.Leaf(nil, host) },
		Serves: func(ctx context.Context, host string) (bool, error) {
			if armhttp.ServesAzureHost(host) {
				return true, nil
			}
			return vaults.dp.Serves(ctx, host)
		},
		Handler: handler,
		Logger:  log,
	})
	srv := &http.Server{
		Handler: p, ReadHeaderTimeout: s.cfg.ReadHeaderTimeout, IdleTimeout: s.cfg.IdleTimeout,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		// Requests through the proxy are public: they arrive on no
		// private endpoint's listener.
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			return netmodel.WithOrigin(ctx, netmodel.Origin{Listener: advertised(ln.Addr())})
		},
	}
	s.proxy, s.proxyServer = p, srv
	s.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("proxy stopped", "err", err)
		}
	})
	return "http://" + advertised(ln.Addr()), nil
}
