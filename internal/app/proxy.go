package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/armhttp"
	"github.com/armlet/armlet/internal/blobapi"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
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
	return resp, armhttp.VaultTarget{Caller: t.Caller, Vault: t.Vault, Operation: t.Operation, Private: t.Private}, err
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

// BlobDir is the directory of the data dir that holds blob content on the
// bbolt store.
const BlobDir = "blobs"

// newBlobService returns the blob data plane. Its content lives in the
// data dir's blobs directory on the bbolt store; with the in-memory store
// in a scratch directory of the data dir removed at Close (the records go
// with the process, so must the content); on etcd nowhere: content writes
// are refused (blobapi.Options.Dir).
//
// Choice: no blob content on etcd. Replicas share their state through
// etcd, whose values are limited to 1.5 MiB and whose whole database to a
// few GiB by default: blob content chunked into it would crowd out the
// resources every replica needs, and content kept on one replica's disk
// would not be there for the others. The containers (ARM resources) and
// everything but content writes are served.
func (s *Server) newBlobService(cfg config.Config, dataDir, authority string, authz blobapi.Authorizer) (*blobapi.Service, error) {
	dir := ""
	switch {
	case cfg.EtcdEndpoints() != nil:
	case cfg.MemoryStore():
		d, err := os.MkdirTemp(dataDir, "blobs-memory-")
		if err != nil {
			return nil, fmt.Errorf("blob content directory: %w", err)
		}
		s.blobScratch, dir = d, d
	default:
		dir = filepath.Join(dataDir, BlobDir)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("blob content directory: %w", err)
		}
		// Uploads cut short by a crash left their temporary files.
		stale, _ := filepath.Glob(filepath.Join(dir, ".upload-*"))
		for _, f := range stale {
			_ = os.Remove(f)
		}
	}
	auth := func(ctx context.Context, authorization string) (engine.Caller, *arm.Error) {
		c, err := s.identity.AuthenticateAudience(ctx, authorization, []string{blobapi.Audience})
		if err != nil {
			return engine.Caller{}, err
		}
		return engineCaller(c), nil
	}
	return blobapi.New(blobapi.Options{
		Engine: s.engine, Store: kv.SpaceBlob.Of(s.store), Dir: dir,
		Authenticate: auth, Authorize: authz, Authority: authority,
	}), nil
}

// startProxy listens on addr and serves armlet's HTTPS proxy there: the
// hosts it serves (proxyHosts: Azure Resource Manager's, Entra ID's token
// service's, Azure ML's and the data planes of the vaults and storage
// accounts armlet holds) go
// to handler, with certificates from the local CA. It returns the
// proxy's URL for connection.json. Without the local CA (--cert and
// --key) there is nothing to sign certificates with, and no proxy.
func (s *Server) startProxy(addr string, handler http.Handler, hosts *proxyHosts, log *slog.Logger) (string, error) {
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
	opts := s.tunnelTimeouts()
	opts.Certificate = func(host string) (*tls.Certificate, error) { return s.ca.Leaf(nil, host) }
	opts.Serves, opts.Handler, opts.Logger = hosts.Serves, handler, log
	p := proxy.New(opts)
	srv := &http.Server{
		Handler: p, ReadHeaderTimeout: s.cfg.ReadHeaderTimeout, IdleTimeout: s.cfg.IdleTimeout,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		// Requests through the proxy are public: they arrive on no
		// private endpoint's listener.
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			return netmodel.WithOrigin(ctx, netmodel.Origin{Listener: advertised(ln.Addr())})
		},
	}
	s.proxy, s.proxyServer, s.proxyPort = p, srv, ln.Addr().(*net.TCPAddr).Port
	s.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("proxy stopped", "err", err)
		}
	})
	return "http://" + advertised(ln.Addr()), nil
}

// tunnelTimeouts are the timeouts of the requests inside proxy tunnels:
// the listeners' (--read-header-timeout, --read-timeout, --idle-timeout).
func (s *Server) tunnelTimeouts() proxy.Options {
	return proxy.Options{
		ReadHeaderTimeout: orDefault(s.cfg.ReadHeaderTimeout, config.DefaultReadHeaderTimeout),
		ReadTimeout:       orDefault(s.cfg.ReadTimeout, config.DefaultReadTimeout),
		IdleTimeout:       orDefault(s.cfg.IdleTimeout, config.DefaultIdleTimeout),
	}
}
