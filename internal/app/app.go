// Package app assembles armlet from its parts: it opens the store, starts
// the token service, the engine and the providers, listens with TLS and
// publishes connection.json. cmd/armlet and the end-to-end tests both start
// armlet through Start.
package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/armlet/armlet/internal/activitylog"
	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/armhttp"
	"github.com/armlet/armlet/internal/blobapi"
	"github.com/armlet/armlet/internal/certs"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/fleet"
	"github.com/armlet/armlet/internal/identity"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/boltkv"
	"github.com/armlet/armlet/internal/kv/etcdkv"
	"github.com/armlet/armlet/internal/kv/memkv"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/providers/authorization"
	"github.com/armlet/armlet/internal/providers/containerregistry"
	"github.com/armlet/armlet/internal/providers/deployments"
	"github.com/armlet/armlet/internal/providers/insights"
	"github.com/armlet/armlet/internal/providers/keyvault"
	"github.com/armlet/armlet/internal/providers/machinelearning"
	"github.com/armlet/armlet/internal/providers/managedidentity"
	"github.com/armlet/armlet/internal/providers/network"
	"github.com/armlet/armlet/internal/providers/operationalinsights"
	"github.com/armlet/armlet/internal/providers/storage"
	"github.com/armlet/armlet/internal/proxy"
	"github.com/armlet/armlet/internal/registryapi"
	"github.com/armlet/armlet/internal/webui"
	"github.com/armlet/armlet/internal/workspaceapi"
	"github.com/google/uuid"
)

// ARMAudience is the audience armlet's ARM accepts first and advertises:
// the public cloud's, so clients that only change the endpoint work.
const ARMAudience = "https://management.core.windows.net/"

// AMLAudience is Azure ML's own token audience in the public cloud.
const AMLAudience = "https://ml.azure.com/"

// tokenAudiences are the resources the token service issues tokens for
// besides the ARM audiences it accepts: Azure ML's, which azure-ai-ml asks
// for before submitting a job that runs as the user (to send it along) or
// invoking a batch endpoint. In the public cloud that is AMLAudience; for a
// cloud found through ARM_CLOUD_METADATA_URL, azure-ai-ml makes it up from
// the metadata's portal URL (base + "/" here), as
// "https://ml.azure." + everything after the portal URL's second dot, with
// the slashes removed (_convert_arm_to_cli in azure/ai/ml/_azure_environments.py):
// "https://ml.azure.0.1:8443" for "https://127.0.0.1:8443".
func tokenAudiences(base string) []string {
	parts := strings.Split(base+"/", ".")
	suffix := ""
	if len(parts) > 2 {
		suffix = strings.Join(parts[2:], ".")
	}
	return []string{AMLAudience, "https://ml.azure." + strings.ReplaceAll(suffix, "/", "")}
}

// Connection is the content of <data-dir>/connection.json: everything a
// client needs to reach armlet. The keys are a stable interface.
type Connection struct {
	ARMEndpoint      string `json:"armEndpoint"`
	LoginEndpoint    string `json:"loginEndpoint"`
	ADFSEndpoint     string `json:"adfsLoginEndpoint"`
	MetadataEndpoint string `json:"metadataEndpoint"`
	Audience         string `json:"audience"`
	TenantID         string `json:"tenantId"`
	SubscriptionID   string `json:"subscriptionId"`
	ClientID         string `json:"clientId"`
	ClientSecret     string `json:"clientSecret"`
	ObjectID         string `json:"objectId"`
	CACertificate    string `json:"caCertificate"`
	// HTTPSProxy is armlet's HTTPS proxy (http://host:port) for clients'
	// HTTPS_PROXY, through which Azure's own host names that armlet serves
	// are reached (ARM, the token service, Azure ML's and key vaults' data
	// planes); empty when it is off. The virtual networks' proxies are not
	// here: they come and go with the networks (GET
	// /_armlet/network/virtualNetworks).
	HTTPSProxy string `json:"httpsProxy,omitempty"`
	// ReplicaEndpoint is this armlet's own listener when --public-url
	// names another address (a load balancer): armlet's client commands
	// use it to talk to this replica. Empty otherwise.
	ReplicaEndpoint string `json:"replicaEndpoint,omitempty"`
	// UIURL is the web UI's login link, with a one-time token.
	UIURL string `json:"uiUrl,omitempty"`
}

// ConnectionFile is the name of the connection file in the data dir.
const ConnectionFile = "connection.json"

// Server is a running armlet.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	store   kv.Store // opened and closed here; only the engine gets it whole (see Start)
	pidFile string   // the data dir's pid file, removed on Close; "" when there is none
	// blobScratch is the in-memory store's blob content directory,
	// removed on Close; "" otherwise.
	blobScratch string
	meta        kv.View // kv.SpaceArmlet: the bootstrap ids and the clock
	clock       *clock.Offset
	engine      *engine.Engine
	identity    *identity.Service
	httpServer  *http.Server
	// proxy and proxyServer are the HTTPS proxy (--proxy-listen), when on.
	proxy       *proxy.Proxy
	proxyServer *http.Server
	proxyPort   int
	// vnetProxies are the virtual networks' proxies and dns the
	// resolution they use; nil while the HTTPS proxy is off.
	vnetProxies *netmodel.VNetProxies
	dns         *vnetDNS
	listener    net.Listener
	conn        Connection
	ca          *certs.Authority
	listeners   *netmodel.Listeners
	flows       *netmodel.FlowStore
	// leadership decides whether this replica runs the time-driven work
	// (fleet.Solo unless the store is shared).
	leadership fleet.Leadership
	// boot holds the tenant and the default subscription; bootCaller is
	// the bootstrap principal as a caller.
	boot       bootstrapState
	bootCaller engine.Caller
	rbac       *authorization.RBAC
	deploys    *deployments.Provider
	// stateMu keeps imports and resets of this replica one at a time.
	stateMu sync.Mutex
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	ready   atomic.Bool
	opts    startOptions // the Options of Start, with defaults
	// ui is the web UI; uiRevision counts the changes it follows.
	ui         *webui.UI
	uiRevision atomic.Int64
	// openConns counts the connections all listeners hold open;
	// refusedConns those closed at once for --max-connections.
	openConns, refusedConns atomic.Int64
	closeOnce               sync.Once
}

// bootstrapState is persisted on first start so the tenant and the default
// subscription keep their ids.
type bootstrapState struct {
	TenantID       string `json:"tenantId"`
	SubscriptionID string `json:"subscriptionId"`
}

// armlet's own keys, in kv.SpaceArmlet (the view s.meta).
var (
	keyBootstrap = []byte("bootstrap")
	keyClock     = []byte("clock-offset")
)

// Start starts armlet as configured and returns once it is serving and
// connection.json is written. Close stops it. Options stand in for parts
// (tests only).
func Start(ctx context.Context, cfg config.Config, log *slog.Logger, options ...Option) (_ *Server, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	began := time.Now()
	s := &Server{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// Each store is assigned only once it opened: a failed Open returns a
	// nil *Store, which in s.store would be a non-nil interface that Close
	// then calls.
	switch {
	case cfg.EtcdEndpoints() != nil:
		st, err := etcdkv.Open(ctx, etcdkv.Options{
			Endpoints: cfg.EtcdEndpoints(), Prefix: cfg.EtcdPrefix,
			CAFile: cfg.EtcdCA, CertFile: cfg.EtcdCert, KeyFile: cfg.EtcdKey,
			Username: cfg.EtcdUsername, Password: cfg.EtcdPassword,
		})
		if err != nil {
			return nil, err
		}
		s.store = st
	case cfg.MemoryStore():
		s.store = memkv.New()
	default:
		st, err := openDataDirStore(dataDir, log)
		if err != nil {
			return nil, err
		}
		s.store, s.pidFile = st, filepath.Join(dataDir, pidFileName)
	}

	// From here on the store is reached through views of the declared
	// spaces (kv/keyspace.go), each handed to its owner: the engine takes
	// the store, keeps to its own tables and hands the providers theirs;
	// identity, certs and netmodel get theirs below.
	s.meta = kv.SpaceArmlet.Of(s.store)

	// Listen first: with port 0 the real address is only known now, and
	// the token service publishes it.
	tlsCfg, err := s.tlsConfig(ctx, cfg, dataDir)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	s.listener = ln
	base := "https://" + advertised(ln.Addr())
	if cfg.PublicURL != "" {
		base = cfg.PublicURL // a load balancer or name in front of this listener
	}
	s.leadership = s.newLeadership(cfg, ln.Addr(), log)
	// A replica that cannot read the election (an etcd user without the
	// election prefix) would serve but never lead, and the fleet's deletes
	// and retention would silently stop: refuse to start instead.
	if _, err := s.leadership.Leader(ctx); err != nil {
		return nil, fmt.Errorf("leader election: %w", err)
	}

	s.clock = clock.NewOffset(0)
	if err := s.restoreClock(ctx); err != nil {
		return nil, err
	}
	boot, err := s.bootstrapIDs(ctx)
	if err != nil {
		return nil, err
	}
	// No Clock: token lifetimes are on the wall clock, as clients cache them.
	s.identity, err = identity.New(ctx, identity.Options{
		Store: kv.SpaceIdentity.Of(s.store), BaseURL: base, TenantID: boot.TenantID,
		Audiences:     []string{ARMAudience, "https://management.azure.com/", base + "/"},
		IssueOnly:     append(tokenAudiences(base), keyvault.Audience, blobapi.Audience),
		TokenLifetime: cfg.TokenLifetime, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	creds, err := s.identity.Bootstrap(ctx)
	if err != nil {
		return nil, err
	}
	s.boot = boot
	s.bootCaller = engine.Caller{AppID: creds.ClientID, ObjectID: creds.ObjectID, TenantID: boot.TenantID}

	var rnd *rand.Rand
	if cfg.RandomSeed != 0 {
		rnd = rand.New(rand.NewPCG(uint64(cfg.RandomSeed), uint64(cfg.RandomSeed)^0x9e3779b97f4a7c15))
	}
	renderCache := -1 // off
	if cfg.RenderCacheMB > 0 {
		renderCache = int(cfg.RenderCacheMB) << 20
	}
	s.engine = engine.New(engine.Options{
		Store: s.store, Clock: s.clock, Registry: engine.NewRegistry(), Logger: log,
		OperationDuration: cfg.OperationDuration, LenientAPIVersions: cfg.LenientAPIVersions, Rand: rnd,
		RenderCacheBytes: renderCache,
	})
	machinelearning.Register(s.engine, machinelearning.Options{
		TenantID:              boot.TenantID,
		BaseURL:               base,
		LegacyModePropagation: machinelearning.Propagation{Min: cfg.LegacyModePropagation.Min, Max: cfg.LegacyModePropagation.Max},
	})
	network.Register(s.engine, network.Options{})
	storage.Register(s.engine, storage.Options{})
	keyvault.Register(s.engine, keyvault.Options{})
	operationalinsights.Register(s.engine, operationalinsights.Options{})
	insights.Register(s.engine, insights.Options{})
	managedidentity.Register(s.engine, managedidentity.Options{})
	containerregistry.Register(s.engine, containerregistry.Options{})
	rbac := authorization.Register(s.engine, authorization.Options{RBACMode: cfg.RBAC, Logger: log})
	s.rbac = rbac
	s.deploys = deployments.Register(s.engine, deployments.Options{Logger: log})
	for _, o := range options {
		o(&s.opts)
	}
	s.opts.defaults(s.engine)
	s.flows, err = netmodel.OpenFlows(ctx, netmodel.FlowOptions{
		Store: kv.SpaceNetModel.Of(s.store), Now: s.clock.Now, MaxRecords: int(cfg.FlowRetentionRecords), MaxAge: cfg.FlowRetention, Logger: log,
		Leading: s.leadership.Leading,
	})
	if err != nil {
		return nil, err
	}
	s.engine.AddRoute(&activitylog.Route{
		Engine: s.engine, Audience: ARMAudience, TenantID: boot.TenantID,
		Flows: func(ctx context.Context, ff netmodel.FlowFilter) ([]netmodel.Flow, error) {
			if err := s.flows.Flush(ctx); err != nil {
				return nil, err
			}
			return s.flows.List(ctx, ff)
		},
	})
	if err := s.ensureBaseline(ctx); err != nil {
		return nil, err
	}
	if cfg.SeedFile != "" {
		if err := s.loadSeed(ctx, cfg.SeedFile, s.bootCaller); err != nil {
			return nil, err
		}
	}

	vaults := s.newVaultService(base, boot.TenantID)
	blobs, err := s.newBlobService(cfg, dataDir, base+"/"+boot.TenantID, rbac)
	if err != nil {
		return nil, err
	}
	adm := &admin{s: s, bootstrapAppID: creds.ClientID, base: base}
	s.ui = s.newUI(adm, log)
	front := armhttp.Options{
		Engine: s.engine, Auth: authAdapter{s.identity}, Identity: s.identity.Routes,
		Admin: adm, Clock: s.clock, Logger: log, UI: s.ui,
		Metadata:     armhttp.Metadata{Audiences: []string{ARMAudience, base + "/"}, TenantID: boot.TenantID, LoginURL: base},
		MaxBodyBytes: cfg.MaxBodyBytes, Ready: s.ready.Load,
		Workspace: workspaceapi.New(workspaceapi.Options{Engine: s.engine, Logger: log}),
		Vault:     vaults, Blob: blobs,
		Registry:  registryapi.New(s.engine),
		PublicARM: s.opts.publicARMGate, Flows: uiCounting{s.flows, &s.uiRevision}, Authorize: rbac,
		AfterWrite: func() {
			s.listeners.Trigger()
			if s.vnetProxies != nil {
				s.vnetProxies.Trigger()
			}
			s.uiRevision.Add(1)
		},
	}
	handler := armhttp.Handler(front)
	s.deploys.SetDispatcher(innerDispatcher(armhttp.NewInner(front)))
	s.listeners = netmodel.NewListeners(netmodel.ListenerOptions{
		Source: s.opts.endpoints, Handler: handler, TLSConfig: tlsCfg.Clone(), Port: ln.Addr().(*net.TCPAddr).Port,
		Store: kv.SpaceNetModel.Of(s.store), Logger: log, Server: s.listenerServer,
	})
	s.httpServer = s.listenerServer()
	s.httpServer.Handler = handler
	s.httpServer.TLSConfig = tlsCfg
	s.httpServer.ConnContext = mainOrigin(ln)
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	// The proxies start before any listener serves: a write's AfterWrite
	// triggers the virtual network proxies.
	hosts := newProxyHosts(s.engine, vaults.dp.Serves, blobs.Serves)
	httpsProxy, err := s.startProxy(cfg.ProxyListen, handler, hosts, log)
	if err != nil {
		return nil, err
	}
	s.startVNetProxies(runCtx, handler, hosts, log)
	s.wg.Go(func() { s.flows.Run(runCtx) })
	s.wg.Go(func() { s.leadership.Lead(runCtx, s.leadTimeDrivenWork) })
	s.wg.Go(func() { fleet.Follow(runCtx, s.meta, keyClock, s.followClock) })
	s.wg.Go(func() { rbac.FollowPeers(runCtx) })
	s.wg.Go(func() { s.engine.FollowWrites(runCtx) })
	s.wg.Go(func() { s.identity.FollowPeers(runCtx) })
	s.wg.Go(func() { s.listeners.Run(runCtx) })
	s.wg.Go(func() {
		if err := s.httpServer.Serve(tls.NewListener(ln, tlsCfg)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", "err", err)
		}
	})

	caPath := cfg.CertFile
	if s.ca != nil {
		caPath = s.ca.CertPath()
	}
	s.conn = Connection{
		ARMEndpoint: base + "/", LoginEndpoint: base + "/", ADFSEndpoint: base + "/adfs",
		MetadataEndpoint: base + "/metadata/endpoints?api-version=2022-09-01",
		Audience:         ARMAudience, TenantID: boot.TenantID, SubscriptionID: boot.SubscriptionID,
		ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, ObjectID: creds.ObjectID, CACertificate: caPath,
		HTTPSProxy: httpsProxy, UIURL: s.ui.LoginURL(base),
	}
	if cfg.PublicURL != "" {
		s.conn.ReplicaEndpoint = "https://" + advertised(ln.Addr()) + "/"
	}
	if err := WriteFileAtomic(filepath.Join(dataDir, ConnectionFile), mustJSON(s.conn), 0o600); err != nil {
		return nil, err
	}
	s.ready.Store(true)
	log.Info("armlet ready", "listen", ln.Addr().String(), "startup", time.Since(began).Round(time.Millisecond))
	return s, nil
}

// tlsConfig uses --cert/--key when given, otherwise the local CA kept in
// the data dir, which on a shared store is the one CA of every replica.
func (s *Server) tlsConfig(ctx context.Context, cfg config.Config, dataDir string) (*tls.Config, error) {
	if cfg.CertFile != "" {
		return certs.StaticTLSConfig(cfg.CertFile, cfg.KeyFile)
	}
	var ca *certs.Authority
	var err error
	if kv.Shared(s.store) {
		ca, err = certs.SharedAuthority(ctx, kv.SpaceSharedCA.Of(s.store), dataDir, time.Now())
	} else {
		ca, err = certs.LoadOrCreateAuthority(dataDir, time.Now())
	}
	if err != nil {
		return nil, err
	}
	s.ca = ca
	return ca.TLSConfig(), nil
}

// advertised is the host:port clients should use: a wildcard listen
// address is reached on loopback.
func advertised(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func (s *Server) bootstrapIDs(ctx context.Context) (bootstrapState, error) {
	for {
		ent, err := s.meta.Get(ctx, keyBootstrap)
		if err == nil {
			var b bootstrapState
			if err := json.Unmarshal(ent.Value, &b); err != nil {
				return b, fmt.Errorf("corrupt bootstrap record: %w", err)
			}
			return b, nil
		}
		if !errors.Is(err, kv.ErrNotFound) {
			return bootstrapState{}, err
		}
		b := bootstrapState{TenantID: uuid.NewString(), SubscriptionID: uuid.NewString()}
		if _, err := s.meta.Txn(ctx, kv.Put(keyBootstrap, mustJSON(b)).If(kv.Absent)); err != nil && !errors.Is(err, kv.ErrConflict) {
			return bootstrapState{}, err
		}
	}
}

func (s *Server) restoreClock(ctx context.Context) error {
	d, _, err := s.storedClock(ctx)
	if err != nil {
		return err
	}
	s.clock.Set(d)
	return nil
}

// AdvanceClock moves the armlet clock forward by d and persists the offset.
// The stored offset is the fleet's: the advance applies to it under its
// revision, so that advances on several replicas add up, and the other
// replicas follow it (followClock).
func (s *Server) AdvanceClock(ctx context.Context, d time.Duration) (time.Duration, error) {
	if d < 0 {
		return 0, arm.BadRequest("InvalidDuration", "The clock cannot move backwards.")
	}
	var off time.Duration
	err := kv.Retry(ctx, func() error { // another replica may advance it meanwhile
		stored, rev, err := s.storedClock(ctx)
		if err != nil {
			return err
		}
		off = max(stored, s.clock.Offset()) + d
		_, err = s.meta.Txn(ctx, kv.Put(keyClock, []byte(off.String())).If(kv.AtRevision(rev)))
		return err
	})
	if errors.Is(err, kv.ErrConflict) {
		return 0, arm.Conflict(arm.CodeConflict, "The clock is being advanced by too many concurrent requests; retry.")
	}
	if err != nil {
		return 0, err
	}
	s.clock.Forward(off)
	s.engine.Wake()
	return off, nil
}

// storedClock returns the persisted clock offset and its revision (0, 0
// when none is stored).
func (s *Server) storedClock(ctx context.Context) (time.Duration, int64, error) {
	ent, err := s.meta.Get(ctx, keyClock)
	if errors.Is(err, kv.ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	d, err := time.ParseDuration(string(ent.Value))
	if err != nil {
		return 0, 0, fmt.Errorf("corrupt clock offset: %w", err)
	}
	return d, ent.Revision, nil
}

// followClock applies a clock offset stored by any replica.
func (s *Server) followClock(ent kv.Entry) {
	d, err := time.ParseDuration(string(ent.Value))
	if err != nil {
		s.log.Warn("ignoring a corrupt clock offset", "value", string(ent.Value))
		return
	}
	if s.clock.Forward(d) {
		s.engine.Wake()
	}
}

// storeKind names the store backend: "bbolt", "memory" or "etcd".
func (s *Server) storeKind() string {
	switch {
	case s.cfg.EtcdEndpoints() != nil:
		return "etcd"
	case s.cfg.MemoryStore():
		return "memory"
	}
	return "bbolt"
}

// newLeadership is fleet.Solo on a store of this process's own and an etcd
// election on a shared one.
func (s *Server) newLeadership(cfg config.Config, addr net.Addr, log *slog.Logger) fleet.Leadership {
	name := cfg.ReplicaName
	if name == "" {
		host, err := os.Hostname()
		if err != nil {
			host = "armlet"
		}
		name = fmt.Sprintf("%s:%d", host, addr.(*net.TCPAddr).Port)
	}
	if st, ok := s.store.(*etcdkv.Store); ok {
		return st.Election(name, cfg.LeaderLease, log)
	}
	return fleet.Solo{Name: name}
}

// leadTimeDrivenWork is what the leading replica runs: finishing due
// long-running deletes and flow retention. Job progress, legacy-mode
// propagation and operation statuses need no driver: every replica derives
// them from the shared clock when asked.
func (s *Server) leadTimeDrivenWork(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.flows.RunRetention(ctx, time.Second)
	}()
	s.engine.Run(ctx, 250*time.Millisecond)
	<-done
}

// Connection returns what connection.json holds.
func (s *Server) Connection() Connection { return s.conn }

// Addr is the main listener's address.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Engine exposes the engine to in-process tests.
func (s *Server) Engine() *engine.Engine { return s.engine }

// Identity exposes the token service to in-process tests and commands.
func (s *Server) Identity() *identity.Service { return s.identity }

// Shutdown stops accepting requests, waits for in-flight ones up to the
// configured timeout, then closes the store.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	if s.httpServer != nil {
		ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
		defer cancel()
		err = s.httpServer.Shutdown(ctx)
	}
	s.Close()
	return err
}

// Close stops armlet at once; calling it again does nothing.
func (s *Server) Close() { s.closeOnce.Do(s.close) }

func (s *Server) close() {
	if s.proxyServer != nil {
		_ = s.proxyServer.Close()
		_ = s.proxy.Close()
	}
	if s.httpServer != nil {
		_ = s.httpServer.Close()
	} else if s.listener != nil {
		_ = s.listener.Close()
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.deploys != nil {
		s.deploys.Close()
	}
	s.wg.Wait()
	if s.store != nil {
		_ = s.store.Close()
	}
	if s.pidFile != "" {
		_ = os.Remove(s.pidFile)
	}
	if s.blobScratch != "" {
		_ = os.RemoveAll(s.blobScratch)
	}
}

// pidFileName is the file in the data dir naming the process that holds
// its store, so that a second armlet can say which one does.
const pidFileName = "armlet.pid"

// dataDirLockTimeout is how long armlet waits for another process to
// release the data dir's store before it gives up.
const dataDirLockTimeout = 500 * time.Millisecond

// ErrDataDirInUse is wrapped by Start's error when another process holds
// the data dir's store.
var ErrDataDirInUse = errors.New("the data dir is in use by another armlet")

// openDataDirStore opens the bbolt store of dataDir and records this
// process in its pid file. When another process holds the store it fails
// within dataDirLockTimeout with an error wrapping ErrDataDirInUse that
// names that process.
func openDataDirStore(dataDir string, log *slog.Logger) (*boltkv.Store, error) {
	st, err := boltkv.Open(filepath.Join(dataDir, "armlet.db"), boltkv.Options{Logger: log, OpenTimeout: dataDirLockTimeout})
	if errors.Is(err, boltkv.ErrLocked) {
		holder := "another process"
		if b, rerr := os.ReadFile(filepath.Join(dataDir, pidFileName)); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = fmt.Sprintf("pid %d", pid)
			}
		}
		return nil, fmt.Errorf("%w (%s): %s; stop it, or start this one with another --data-dir", ErrDataDirInUse, holder, dataDir)
	}
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dataDir, pidFileName), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		log.Warn("writing the pid file", "err", err)
	}
	return st, nil
}

// authAdapter turns the token service's caller into the engine's.
type authAdapter struct{ id *identity.Service }

func (a authAdapter) Authenticate(ctx context.Context, authorization string) (engine.Caller, *arm.Error) {
	c, err := a.id.Authenticate(ctx, authorization)
	if err != nil {
		return engine.Caller{}, err
	}
	return engineCaller(c), nil
}

// engineCaller is the engine's view of an authenticated caller.
func engineCaller(c identity.Caller) engine.Caller {
	return engine.Caller{ObjectID: c.ObjectID, AppID: c.AppID, TenantID: c.TenantID, Name: c.Name, PrincipalType: c.PrincipalType}
}

func mustJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// WriteFileAtomic writes data to path with the given mode, whatever the
// umask: through a temporary file in the same directory (made 0600, so
// nobody else can read it meanwhile) renamed over path, so that a reader
// never sees half a file and a file that was there keeps neither its
// content nor its mode.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
