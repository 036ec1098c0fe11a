// Package armhttp is armlet's HTTP front door: it routes requests to the
// token service, the metadata and admin endpoints and the ARM engine,
// authenticates ARM calls, and is the one place where results and errors
// become HTTP responses.
//
// # Handler chain
//
// Outermost first: panic recovery, request ids and access log, the flow
// recorder, body size limit, then the router, which refuses a malformed
// query string on every route (checkQuery). ARM routes then authenticate
// the bearer token, parse the path once, check Azure RBAC
// (Options.Authorize) on the parsed path, check the body (checkBody), and
// have the engine serve that same parsed path (it checks the
// api-version). Workspace endpoint routes resolve the request once into a
// workspaceapi.Target, check RBAC on it, check the body unless the target
// keeps it as raw content, and serve it. Whatever does not parse or
// resolve is refused, never let through unchecked.
//
// # Clients that go away
//
// A request whose client has gone before it is answered (an HTTP/2 stream
// reset, a closed connection: the request context is cancelled; over
// HTTP/1.1 also a body that ends early) is answered with nothing, logged
// at debug level only and recorded with status 499.
//
// # Origins
//
// Where a request arrived is in its context (netmodel.OriginFrom), put
// there by the listener, never taken from the request. On the main
// (public) listener the router serves ARM, the token service, the admin
// API and the workspace endpoint (paths whose first segment is one of
// workspaceapi.Prefixes). On a private endpoint's listener it serves only
// what the endpoint reaches: the workspace endpoint for group id
// "amlworkspace", ARM for "ResourceManagement" (private ARM). A request
// that came through armlet's HTTPS proxy (proxy.HostFrom) goes to the
// service of the host its tunnel was opened for, whatever its path: ARM,
// the token service, Azure ML's data plane, a key vault's (Options.Vault)
// or a storage account's blob data plane (Options.Blob); one that a virtual network's proxy sent through a
// private endpoint is served as that endpoint's listener serves it.
//
// # The blob data plane
//
// Blob requests are the one route whose bodies are not read here: the
// blob service streams them to disk, so they bypass the body size limit
// (limitBody; the service applies Storage's limits), are not read whole
// (adapt), and their flow records keep no body. Their errors are written
// in Storage's XML form (blobapi.ErrorXML) by writeError, the one place
// errors become HTTP, which picks the form by the service the request
// was routed to.
package armhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/action"
	"github.com/armlet/armlet/internal/arm/jsonbody"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/azurehost"
	"github.com/armlet/armlet/internal/blobapi"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/identity"
	"github.com/armlet/armlet/internal/jsonenc"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/providers/machinelearning"
	"github.com/armlet/armlet/internal/proxy"
	"github.com/armlet/armlet/internal/registryapi"
	"github.com/armlet/armlet/internal/workspaceapi"
)

// Authenticator checks the Authorization header of an ARM request.
type Authenticator interface {
	Authenticate(ctx context.Context, authorization string) (engine.Caller, *arm.Error)
}

// Options configures the HTTP front door.
type Options struct {
	Engine *engine.Engine
	Auth   Authenticator
	// Identity registers the token service's routes.
	Identity func(mux *http.ServeMux)
	// Admin serves /_armlet/ (except health); it receives authenticated
	// callers only.
	Admin  AdminHandler
	Clock  clock.Clock
	Logger *slog.Logger
	// Metadata describes the endpoints /metadata/endpoints advertises.
	Metadata Metadata
	// MaxBodyBytes limits request bodies (413 beyond).
	MaxBodyBytes int64
	// Ready reports whether startup has finished (for /_armlet/health).
	Ready func() bool
	// Workspace serves the workspace endpoint (nil answers 404).
	Workspace WorkspaceService
	// Vault serves the key vault data planes that requests reach through
	// armlet's HTTPS proxy (nil answers 404).
	Vault VaultService
	// Blob serves the blob data planes of storage accounts that requests
	// reach through armlet's HTTPS proxy (nil answers 404).
	Blob BlobService
	// Registry resolves the Azure ML registries' data plane (nil answers
	// 404); the engine serves the ARM paths it resolves to.
	Registry *registryapi.Service
	// PublicARM, when set, is asked before an ARM request that arrived
	// publicly is served; an error refuses the request and is sent. The
	// admin API and the token service are never refused.
	PublicARM func(ctx context.Context, caller engine.Caller) error
	// Flows, when set, receives an observation of every request except
	// /_armlet/health and the admin API.
	Flows FlowRecorder
	// Authorize, when set, checks every ARM request with Azure RBAC after
	// authentication (and the public ARM gate); its error refuses the
	// request and is sent. Provider metadata and operation status reads
	// are exempt (rbacExempt).
	Authorize Authorizer
	// AfterWrite, when set, is called after each successful ARM write
	// (PUT, PATCH, DELETE, POST), for work that follows state changes.
	AfterWrite func()
	// UI, when set, serves the main listener's requests it claims (the web
	// UI: a browser's GET / and /ui/...); it authenticates them itself and
	// they get no flow record. Private endpoint listeners never reach it.
	UI UIService
}

// UIService is the web UI (*webui.UI).
type UIService interface {
	http.Handler
	Claims(r *http.Request) bool
}

// WorkspaceService answers workspace endpoint requests
// (*workspaceapi.Service): Resolve parses a request once into the target
// that is authorized, Serve serves exactly that target.
type WorkspaceService interface {
	Resolve(ctx context.Context, req *workspaceapi.Request) (*workspaceapi.Target, error)
	Serve(ctx context.Context, t *workspaceapi.Target) (*engine.Response, error)
}

// VaultService answers a key vault's data plane (*keyvault.DataPlane):
// host is the vault's host name the proxy tunnel was opened for. It
// authenticates the request itself (Key Vault's audience and challenge)
// and returns who called and the vault it resolved, for the flow record,
// also with an error.
type VaultService interface {
	ServeVault(ctx context.Context, host string, r *http.Request, body []byte) (*engine.Response, VaultTarget, error)
}

// VaultTarget is what a vault data-plane request was resolved to.
type VaultTarget struct {
	Caller engine.Caller
	Vault  resourceid.ID // the root ID when the vault was not resolved
	// Operation names the request for flow records
	// ("Microsoft.KeyVault/vaults/secrets/read").
	Operation string
	// Private is true when the request came through a private endpoint to
	// the vault (group id "vault"): its flow record's class is
	// keyvault-private.
	Private bool
}

// BlobService answers a storage account's blob data plane
// (*blobapi.Service): host is the account's blob (or dfs) host name the
// proxy tunnel was opened for. It authenticates and authorizes the
// request itself (Shared Key, SAS, or OAuth with RBAC), reads the body as
// a stream, and returns the target for the flow record, also with an
// error.
type BlobService interface {
	Serve(ctx context.Context, host string, r *http.Request) (*engine.Response, blobapi.Target, error)
}

// FlowRecorder takes flow observations (*netmodel.FlowStore); Record must
// not hold the request up.
type FlowRecorder interface {
	Record(o netmodel.Observation)
}

// AdminHandler answers authenticated /_armlet/ requests.
type AdminHandler interface {
	ServeAdmin(ctx context.Context, caller engine.Caller, r *http.Request, body []byte) (*engine.Response, error)
}

// Handler returns the root handler.
func Handler(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{Options: opts, shared: newSharedHeaders()}
	rt := &routes{
		identity: http.NewServeMux(),
		health:   http.HandlerFunc(s.health), admin: s.adapt(s.admin),
		metadata: s.adapt(s.metadata), privateMetadata: s.adapt(s.privateMetadata),
		arm: s.adapt(s.arm), workspace: s.adapt(s.workspace), vault: s.adapt(s.vault),
		registry: s.adapt(s.registry), blob: http.HandlerFunc(s.blob),
	}
	if opts.Identity != nil {
		opts.Identity(rt.identity)
	}
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// One read of a shared store's write marker serves every kept
		// value the request uses (the public-ARM memo, its kept body).
		if s.Engine != nil && s.Engine.SharedStore() {
			r = r.WithContext(engine.WithReadFence(r.Context(), new(engine.ReadFence)))
		}
		collapseLeadingSlashes(r)
		h := s.route(r, rt)
		// Checked here, after routing has classified the request for its
		// flow record and before any handler reads the query, so that every
		// route of every listener refuses a malformed query the same way.
		if err := checkQuery(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
	return s.recoverer(s.requestIDs(s.flows(s.limitBody(root))))
}

// routes are the handlers the root handler routes to.
type routes struct {
	identity                                                 *http.ServeMux
	health, admin, metadata, arm, workspace, vault, registry http.Handler
	// blob streams its bodies: it is not adapted.
	blob http.Handler
	// privateMetadata is /metadata/endpoints on a Resource Management
	// private endpoint's listener.
	privateMetadata http.Handler
}

// route picks the handler of a request by its first path segment and
// notes in its flowInfo what the request is for. ARM paths are open-ended
// and case-insensitive, which ServeMux patterns cannot share with the
// token service's "/{tenant}/..." routes, hence the switch.
func (s *server) route(r *http.Request, rt *routes) http.Handler {
	info := flowInfoFrom(r.Context())
	first, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	first = strings.ToLower(first)
	if host, tunnelled := proxy.HostFrom(r.Context()); tunnelled {
		// Through the proxy, a request is for the host its tunnel was
		// opened for, and only what that host serves.
		return s.tunnelled(r, host, first, rest, rt)
	}
	if first == "_armlet" && rest == "health" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		info.skip = true
		return rt.health
	}
	if ep := netmodel.OriginFrom(r.Context()).Endpoint; ep != nil {
		return s.private(r, ep, first, rest, rt)
	}
	if s.UI != nil && s.UI.Claims(r) {
		info.skip = true
		return s.UI
	}
	switch {
	case first == "_armlet":
		info.skip = true
		return rt.admin
	case first == "metadata":
		info.class = netmodel.ARMPublic
		if rest == "endpoints" && r.Method == http.MethodGet {
			return rt.metadata
		}
		return rt.arm
	case first == "" || first == "subscriptions" || first == "providers" || first == "tenants":
		info.class = netmodel.ARMPublic
		return rt.arm
	case isWorkspacePath(first):
		info.service, info.class = netmodel.ServiceWorkspace, netmodel.WorkspacePublic
		return rt.workspace
	case registryapi.IsRegistryPath(first):
		info.service, info.class = netmodel.ServiceRegistry, netmodel.RegistryPublic
		return rt.registry
	default:
		info.class = netmodel.ARMPublic
		if _, pattern := rt.identity.Handler(r); pattern != "" {
			info.service = netmodel.ServiceToken
			return rt.identity // the mux sets the {tenant} path value
		}
		return rt.arm
	}
}

// managementHost and loginHost report whether host is one of Azure
// Resource Manager's or Entra ID's token service's names, which armlet
// serves through its HTTPS proxy beside the key vaults'.
func managementHost(host string) bool {
	return host == "management.azure.com" || host == "management.core.windows.net"
}

func loginHost(host string) bool {
	return host == "login.microsoftonline.com" || host == "login.windows.net"
}

// ServesAzureHost reports whether the front door serves host (lower case)
// for a proxy tunnel without asking a provider: ARM's and the token
// service's names.
func ServesAzureHost(host string) bool { return managementHost(host) || loginHost(host) }

// tunnelled routes a request that came through armlet's HTTPS proxy for
// host: ARM's host serves what armlet's main listener serves of ARM (not
// the admin API, the UI, the token service or the data planes, which have
// hosts of their own), Entra ID's the token service, any other a key
// vault's data plane.
//
// A tunnel a virtual network's proxy sent through a private endpoint
// (netmodel.OriginFrom(ctx).Endpoint) is served as the endpoint's own
// listener serves it (private): ARM's host through a Resource Management
// private endpoint, a workspace's through the workspace's.
//
// Azure ML's hosts ({region}.api.azureml.ms, and a workspace's own
// {wsid}.workspace.{region}[.cert][.privatelink].api.azureml.ms) serve the
// workspace data plane (workspaceapi's paths); a workspace's own host
// serves that workspace only (workspaceapi.Request.HostWorkspaceID), the
// regional host the registries' data plane too.
func (s *server) tunnelled(r *http.Request, host, first, rest string, rt *routes) http.Handler {
	info := flowInfoFrom(r.Context())
	h := azurehost.Parse(host)
	if ep := netmodel.OriginFrom(r.Context()).Endpoint; ep != nil && (h.Kind == azurehost.Management || h.Kind == azurehost.Workspace) {
		return s.private(r, ep, first, rest, rt)
	}
	switch {
	case h.Kind == azurehost.Workspace || h.Kind == azurehost.Regional:
		switch {
		case isWorkspacePath(first):
			info.service, info.class = netmodel.ServiceWorkspace, netmodel.WorkspacePublic
			return rt.workspace
		case h.Kind == azurehost.Regional && registryapi.IsRegistryPath(first):
			info.service, info.class = netmodel.ServiceRegistry, netmodel.RegistryPublic
			return rt.registry
		}
		info.class = netmodel.WorkspacePublic
		return s.refuse(arm.NotFound(arm.CodeInvalidRequestURI, "'%s' serves the Azure ML data plane only; '%s' is not one of its paths.", host, r.URL.Path))
	case managementHost(host):
		info.class = netmodel.ARMPublic
		switch {
		case first == "metadata" && rest == "endpoints" && r.Method == http.MethodGet:
			return rt.metadata
		case first == "" || first == "subscriptions" || first == "providers" || first == "tenants":
			return rt.arm
		}
		return s.refuse(arm.NotFound("NotFound", "'%s' serves Azure Resource Manager only; '%s' is not one of its paths.", host, r.URL.Path))
	case loginHost(host):
		info.service, info.class = netmodel.ServiceToken, netmodel.ARMPublic
		if _, pattern := rt.identity.Handler(r); pattern != "" {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rt.identity.ServeHTTP(w, r.WithContext(identity.WithAuthority(r.Context(), "https://"+host)))
			})
		}
		return s.refuse(arm.NotFound("NotFound", "'%s' serves the token service only; '%s' is not one of its paths.", host, r.URL.Path))
	}
	if blobapi.Host(host) {
		info.service, info.class, info.stream = netmodel.ServiceBlob, netmodel.StoragePublic, true
		return rt.blob
	}
	info.service, info.class = netmodel.ServiceKeyVault, netmodel.KeyVaultPublic
	return rt.vault
}

// checkQuery refuses a query string that does not parse: Go's
// r.URL.Query() silently drops malformed pairs ("$skipToken=%%%x"), so a
// request would be served as if they had not been sent, where Azure's
// front door answers 400.
//
// Choice: 400 InvalidRequestUri (armlet's code for a request URI it cannot
// read; Azure's code and text for this case are not known), with the parse
// error. A semicolon is no separator in ARM's query strings (ASP.NET splits
// on '&' only) but a character of the value; Go's parser refuses it, so it
// is escaped to %3B first and reaches the handlers as part of its value.
//
// A parameter given twice, in the same or another casing, is refused too:
// ARM reads parameter names ignoring case, so which value counts would be
// a guess (ASP.NET would join them with a comma, which no parameter
// accepts), and the engine, RBAC and the handlers must read one value.
func checkQuery(r *http.Request) error {
	if strings.Contains(r.URL.RawQuery, ";") {
		r.URL.RawQuery = strings.ReplaceAll(r.URL.RawQuery, ";", "%3B")
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return arm.BadRequest(arm.CodeInvalidRequestURI, "The request URI '%s' is not valid: the query string is malformed (%v).",
			r.URL.EscapedPath(), err)
	}
	seen := make(map[string]string, len(q))
	for name, vs := range q {
		other, dup := seen[strings.ToLower(name)]
		if len(vs) > 1 || dup {
			if !dup {
				other = name
			}
			return arm.BadRequest(arm.CodeInvalidRequestURI,
				"The request URI '%s' is not valid: the query parameter '%s' is given more than once ('%s' and '%s'); parameter names are case-insensitive.",
				r.URL.EscapedPath(), name, other, name)
		}
		seen[strings.ToLower(name)] = name
	}
	return nil
}

// collapseLeadingSlashes turns "//x" into "/x": clients that join an
// endpoint ending in "/" with a path starting with "/" send both.
func collapseLeadingSlashes(r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "//") {
		return
	}
	r.URL.Path = "/" + strings.TrimLeft(r.URL.Path, "/")
	if r.URL.RawPath != "" {
		r.URL.RawPath = "/" + strings.TrimLeft(r.URL.RawPath, "/")
	}
}

type server struct {
	Options
	shared sharedHeaders
}

// handlerFunc is what every route returns: a response or an error. The
// adapter writes both.
type handlerFunc func(w http.ResponseWriter, r *http.Request, body []byte) (*engine.Response, error)

// adapt reads the body and writes the handler's result: the one place
// where results and errors become HTTP.
func (s *server) adapt(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			// HTTP/1.1 does not cancel the request context while the body
			// is being read: a connection closed mid-body shows only as
			// the body ending early.
			if errors.Is(err, io.ErrUnexpectedEOF) {
				s.clientGone(r, err)
				return
			}
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				s.writeError(w, r, arm.Errorf(http.StatusRequestEntityTooLarge, arm.CodeRequestTooLarge,
					"The request content size exceeds the maximum allowed size of %d bytes.", mbe.Limit))
				return
			}
			s.writeError(w, r, arm.BadRequest(arm.CodeInvalidRequestContent, "The request content could not be read: %v.", err))
			return
		}
		resp, err := h(w, r, body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeResponse(w, resp)
	}
}

func (s *server) writeResponse(w http.ResponseWriter, resp *engine.Response) {
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if resp.Body == nil {
		if resp.Status != http.StatusNoContent {
			w.Header().Set("Content-Length", "0")
		}
		w.WriteHeader(resp.Status)
		return
	}
	if st, ok := resp.Body.(engine.StreamBody); ok {
		s.writeStream(w, resp.Status, st)
		return
	}
	if raw, ok := resp.Body.(engine.RawBody); ok {
		ct := raw.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Length", strconv.Itoa(len(raw.Data)))
		w.WriteHeader(resp.Status)
		_, _ = w.Write(raw.Data)
		return
	}
	b, ok := resp.Body.(json.RawMessage)
	if !ok {
		var err error
		if b, err = jsonenc.Marshal(resp.Body); err != nil {
			s.Logger.Error("encoding response", "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(b)
}

// writeStream copies a streamed body to the client; a failure past the
// headers can only cut the response short (the client sees fewer bytes
// than Content-Length), and is logged.
func (s *server) writeStream(w http.ResponseWriter, status int, st engine.StreamBody) {
	if st.Reader != nil {
		defer st.Reader.Close()
	}
	ct := st.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.FormatInt(st.Size, 10))
	w.WriteHeader(status)
	if st.Reader == nil {
		return
	}
	if _, err := io.Copy(w, st.Reader); err != nil {
		s.Logger.Warn("streaming a response body", "err", err)
	}
}

// writeError writes an ARM error body. Errors that are not *arm.Error are
// internal: logged in full, shown generically. A request whose client has
// gone (its context cancelled: an HTTP/2 stream reset, a closed
// connection) gets nothing, whatever the error: the failure is most likely
// the cancellation itself, and there is no one to answer.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		s.clientGone(r, err)
		return
	}
	ae, ok := arm.AsError(err)
	defer func() { flowInfoFrom(r.Context()).errorCode = ae.FinestCode() }()
	if !ok {
		s.Logger.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = arm.Internal()
		if isUnavailable(err) {
			ae = arm.Errorf(http.StatusServiceUnavailable, arm.CodeStorageUnavailable,
				"The request could not be completed because armlet's store does not accept writes: %v.", err)
		}
	}
	for k, vs := range ae.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if flowInfoFrom(r.Context()).service == netmodel.ServiceBlob {
		w.Header().Set("X-Ms-Error-Code", ae.Code)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(ae.Status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(blobapi.ErrorXML(ae, w.Header().Get("X-Ms-Request-Id"), time.Now()))
		}
		return
	}
	b, _ := json.Marshal(map[string]any{"error": ae})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(ae.Status)
	_, _ = w.Write(b)
}

// StatusClientClosedRequest is the status flow records give a request
// whose client went away before it was answered (nginx's 499): nothing is
// sent.
const StatusClientClosedRequest = 499

// clientGone notes that the client of r went away before it was answered:
// its flow record says 499 and nothing is written. Not an error of
// armlet's, so it is logged at debug level only.
func (s *server) clientGone(r *http.Request, err error) {
	flowInfoFrom(r.Context()).clientGone = true
	s.Logger.Debug("client went away", "method", r.Method, "path", r.URL.Path, "err", err)
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil && !s.Ready() {
		s.writeError(w, r, arm.Errorf(http.StatusServiceUnavailable, "NotReady", "armlet is starting."))
		return
	}
	s.writeResponse(w, engine.JSON(http.StatusOK, map[string]any{"status": "ok"}))
}

// baseURL is the scheme and host the client used, so links stay on the
// listener (public or private) the request arrived on.
func baseURL(r *http.Request) string { return "https://" + r.Host }

func (s *server) authenticate(r *http.Request) (engine.Caller, error) {
	caller, aerr := s.Auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
	if aerr != nil {
		return engine.Caller{}, aerr
	}
	flowInfoFrom(r.Context()).caller = caller
	return caller, nil
}

func (s *server) arm(w http.ResponseWriter, r *http.Request, body []byte) (*engine.Response, error) {
	caller, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 && (r.Method == http.MethodPut || r.Method == http.MethodPatch) {
		if ct := r.Header.Get("Content-Type"); ct != "" && !strings.Contains(strings.ToLower(ct), "json") {
			return nil, arm.Errorf(http.StatusUnsupportedMediaType, arm.CodeUnsupportedMediaType,
				"The content media type '%s' is not supported. Only 'application/json' is supported.", ct)
		}
	}
	if s.PublicARM != nil && !netmodel.OriginFrom(r.Context()).Private() {
		if err := s.PublicARM(r.Context(), caller); err != nil {
			return nil, err
		}
	}
	// The one parse of the path: RBAC checks what the engine then serves.
	p, err := engine.ParsePath(r.URL.EscapedPath())
	if err != nil {
		return nil, err
	}
	if err := s.authorizeARM(r.Context(), caller, r.Method, p); err != nil {
		return nil, err
	}
	req, err := s.engineRequest(r, caller, r.URL.EscapedPath(), baseURL(r), body)
	if err != nil {
		return nil, err
	}
	return s.serveEngine(r.Context(), req, p)
}

// engineRequest checks the body of an ARM request whose path RBAC has
// allowed (relaxNames, checkBody) and makes the engine's request: path is
// the escaped ARM path, baseURL what the engine puts before its links.
func (s *server) engineRequest(r *http.Request, caller engine.Caller, path, baseURL string, body []byte) (*engine.Request, error) {
	body = relaxNames(body)
	if err := checkBody(body); err != nil {
		return nil, err
	}
	query := r.URL.Query()
	return &engine.Request{
		Method: r.Method, Path: path, Query: query, Header: r.Header, Body: body, Caller: caller,
		BaseURL: baseURL, Now: s.Clock.Now(), APIVersion: engine.QueryValue(query, "api-version"),
	}, nil
}

// serveEngine has the engine serve req at the parsed path p and tells the
// write hooks of a success.
func (s *server) serveEngine(ctx context.Context, req *engine.Request, p resourceid.Path) (*engine.Response, error) {
	resp, err := s.Engine.ServePath(ctx, req, p)
	if err == nil {
		s.written(req.Method, p)
	}
	return resp, err
}

// written tells the hooks of a successful ARM request that changed
// something (any method but GET and HEAD).
func (s *server) written(method string, p resourceid.Path) {
	if method == http.MethodGet || method == http.MethodHead {
		return
	}
	if s.Authorize != nil {
		s.Authorize.Written(method, p)
	}
	if s.AfterWrite != nil {
		s.AfterWrite()
	}
}

// workspace serves the workspace endpoint with the same bearer tokens as
// ARM, checked with RBAC like ARM requests (Options.Authorize, as data
// plane operations).
func (s *server) workspace(w http.ResponseWriter, r *http.Request, body []byte) (*engine.Response, error) {
	caller, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	if s.Workspace == nil {
		return nil, arm.NotFound("NotFound", "No workspace endpoint at '%s'.", r.URL.Path)
	}
	// The one parse of the request: RBAC checks the target the service
	// then serves.
	var hostWS string
	if host, tunnelled := proxy.HostFrom(r.Context()); tunnelled {
		hostWS = azurehost.Parse(host).WorkspaceID
	}
	t, err := s.Workspace.Resolve(r.Context(), &workspaceapi.Request{
		Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header, Body: body,
		Caller: caller, Origin: netmodel.OriginFrom(r.Context()), HostWorkspaceID: hostWS, BaseURL: baseURL(r), Now: s.Clock.Now(),
	})
	if err != nil {
		return nil, err
	}
	if err := s.authorizeWorkspace(r.Context(), caller, t); err != nil {
		return nil, err
	}
	if !t.RawBody() {
		if err := checkBody(body); err != nil {
			return nil, err
		}
	}
	return s.Workspace.Serve(r.Context(), t)
}

// registry serves an Azure ML registry's data plane: discovery, answered
// here, and the regional asset API, whose ARM path RBAC checks and the
// engine serves as it serves ARM (registryapi). Unlike ARM, it is not
// subject to the public ARM gate: it is the registry's own endpoint, whose
// network rules registryapi.Service.Resolve applies.
func (s *server) registry(w http.ResponseWriter, r *http.Request, body []byte) (*engine.Response, error) {
	caller, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	if s.Registry == nil {
		return nil, arm.NotFound("NotFound", "No registry endpoint at '%s'.", r.URL.Path)
	}
	t, err := s.Registry.Resolve(r.Context(), r.Method, r.URL.EscapedPath(), engine.QueryValue(r.URL.Query(), "api-version"),
		baseURL(r), netmodel.OriginFrom(r.Context()))
	if err != nil {
		// Refused, but named in its flow record as the operation it is,
		// so the reports show it under its registry.
		switch {
		case t != nil && t.Discovery:
			flowInfoFrom(r.Context()).target(t.Action, t.Scope)
		case t != nil:
			flowInfoFrom(r.Context()).target(action.Of(r.Method, t.Path))
		}
		return nil, err
	}
	if t.Discovery {
		flowInfoFrom(r.Context()).target(t.Action, t.Scope)
		if s.Authorize != nil {
			if err := s.Authorize.Check(r.Context(), caller, t.Action, t.Scope, false); err != nil {
				return nil, err
			}
		}
		return registryapi.Discovery(t), nil
	}
	if err := s.authorizeARM(r.Context(), caller, r.Method, t.Path); err != nil {
		return nil, err
	}
	req, err := s.engineRequest(r, caller, t.EscapedPath, t.BaseURL, body)
	if err != nil {
		return nil, err
	}
	if t.TemporaryDataReference {
		return machinelearning.TemporaryDataReference(r.Context(), s.Engine, t.Path.ID, req)
	}
	req.APIVersion, req.LocationPut = t.APIVersion, t.LocationPut
	resp, err := s.serveEngine(r.Context(), req, t.Path)
	if err != nil {
		return nil, err
	}
	return resp, t.AssetIDs(resp)
}

// vault serves a key vault's data plane, reached by the vault's host name
// through armlet's HTTPS proxy. The service authenticates (Key Vault has
// an audience and a challenge of its own); the flow record gets the
// caller and the vault it resolved, and the class keyvault-private when
// the request came through a private endpoint to the vault.
func (s *server) vault(w http.ResponseWriter, r *http.Request, body []byte) (*engine.Response, error) {
	host, _ := proxy.HostFrom(r.Context())
	if s.Vault == nil {
		return nil, arm.NotFound("NotFound", "armlet serves no data plane at '%s'.", host)
	}
	resp, target, err := s.Vault.ServeVault(r.Context(), host, r, body)
	info := flowInfoFrom(r.Context())
	info.caller = target.Caller
	if target.Private {
		info.class = netmodel.KeyVaultPrivate
	}
	if !target.Vault.IsRoot() {
		info.target(target.Operation, target.Vault)
	}
	return resp, err
}

// blob serves a storage account's blob data plane, reached by the
// account's host name through armlet's HTTPS proxy. The service reads the
// body as a stream and authenticates; the flow record gets the caller,
// the account and the data action, and the class storage-private when the
// request came through a private endpoint to the account's blob
// sub-resource.
// blobBodyTime is how long a blob request's body of n bytes may take to
// arrive: a minute, and a second more per MiB.
//
// Choice: Storage's own limits are not published; a body must come at an
// average of 1 MiB/s once its first minute is over, so a client cannot
// hold a tunnel open by sending slowly, and a real upload over a slow
// link still completes. An unauthenticated request's body is never read
// (the server closes the connection after a refusal of a body over 256
// KiB), so the longer deadline serves authenticated uploads only.
func blobBodyTime(n int64) time.Duration {
	return time.Minute + time.Duration(n>>20)*time.Second
}

func (s *server) blob(w http.ResponseWriter, r *http.Request) {
	host, _ := proxy.HostFrom(r.Context())
	if s.Blob == nil {
		s.writeError(w, r, arm.NotFound("ResourceNotFound", "armlet serves no data plane at '%s'.", host))
		return
	}
	if r.ContentLength > 0 {
		// The tunnel's --read-timeout bounds every request; blob content
		// may be larger than that allows at a slow link's pace.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(blobBodyTime(r.ContentLength)))
	}
	resp, t, err := s.Blob.Serve(r.Context(), host, r)
	info := flowInfoFrom(r.Context())
	info.caller = t.Caller
	if t.Private {
		info.class = netmodel.StoragePrivate
	}
	if !t.Account.IsRoot() {
		info.target(t.Operation, t.Account)
	}
	// ARM's response headers are not Storage's: a blob's Cache-Control is
	// its own.
	for _, h := range []string{"Cache-Control", "x-ms-ratelimit-remaining-subscription-reads", "x-ms-ratelimit-remaining-subscription-writes",
		"x-ms-ratelimit-remaining-subscription-deletes"} {
		w.Header().Del(h)
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			s.clientGone(r, err)
			return
		}
		s.writeError(w, r, err)
		return
	}
	s.writeResponse(w, resp)
}

func (s *server) admin(w http.ResponseWriter, r *http.Request, body []byte) (*engine.Response, error) {
	caller, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	if s.Admin == nil {
		return nil, arm.NotFound("NotFound", "No admin endpoint at '%s'.", r.URL.Path)
	}
	if err := checkBody(body); err != nil {
		return nil, err
	}
	return s.Admin.ServeAdmin(r.Context(), caller, r, body)
}

// checkBody refuses a JSON request body that repeats a member name in an
// object (ignoring case) or exceeds jsonbody's structural limits, so that
// Azure Policy, the engine, the providers, the workspace data plane and
// the admin API all read one interpretation of it and no body decodes into
// more than jsonbody.MaxValues values. Every route but the token service
// (form-encoded) and artifact content uploads (raw bytes) reads its body
// as JSON whatever the Content-Type, so every other body is checked; a
// body that is not JSON at all passes for its handler to refuse in its
// own words. It runs once the request is authenticated and authorized, as
// ARM validates content only for callers allowed to send it.
func checkBody(body []byte) error {
	if len(body) == 0 {
		return nil
	}
	return jsonbody.Check(body)
}

// relaxNames quotes the unquoted member names of a body that is not JSON
// only for them (jsonbody.QuoteNames), as Azure's reader accepts them.
func relaxNames(body []byte) []byte {
	if len(body) == 0 || json.Valid(body) {
		return body
	}
	if fixed, ok := jsonbody.QuoteNames(body); ok && json.Valid(fixed) {
		return fixed
	}
	return body
}

// recoverer turns a panic into a 500 ARM error instead of a dropped
// connection.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				s.writeError(w, r, arm.Internal())
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// requestIDs sets ARM's request, correlation and client request ids and
// logs each request as one line: at info level, except health probes and
// the web UI's data calls (at debug), with the caller once authenticated.
func (s *server) requestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var info *flowInfo
		r, info = withFlowInfo(r)
		reqID := newRequestID()
		corr := r.Header.Get("X-Ms-Correlation-Request-Id")
		if corr == "" {
			corr = newRequestID()
		}
		// Canonical keys set directly: Set would canonicalize each again.
		h := w.Header()
		h["X-Ms-Request-Id"] = []string{reqID}
		h["X-Ms-Correlation-Request-Id"] = []string{corr}
		h["X-Ms-Routing-Request-Id"] = []string{"ARMLET:" + start.UTC().Format("20060102T150405Z") + ":" + reqID}
		if c := r.Header.Get("X-Ms-Client-Request-Id"); c != "" {
			h["X-Ms-Client-Request-Id"] = []string{c}
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h["X-Ms-Ratelimit-Remaining-Subscription-Reads"] = s.shared.reads
		case http.MethodDelete:
			h["X-Ms-Ratelimit-Remaining-Subscription-Deletes"] = s.shared.deletes
		default:
			h["X-Ms-Ratelimit-Remaining-Subscription-Writes"] = s.shared.writes
		}
		h["Cache-Control"] = s.shared.noCache
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		// Health probes and the web UI's data calls (it polls) log at
		// debug level.
		if info.skip && (strings.HasSuffix(r.URL.Path, "/health") || strings.HasPrefix(r.URL.Path, "/ui/api/")) {
			level = slog.LevelDebug
		}
		if s.Logger.Enabled(r.Context(), level) {
			s.Logger.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)),
				slog.String("caller", info.caller.AppID), slog.String("correlation", corr))
		}
	})
}

// statusRecorder notes the status a handler answers with, and whether it
// answered at all.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote && code >= 200 {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if host, ok := proxy.HostFrom(r.Context()); ok && blobapi.Host(host) {
			// Blob content streams to disk under Storage's own limits.
			next.ServeHTTP(w, r)
			return
		}
		if s.MaxBodyBytes > 0 {
			if r.ContentLength > s.MaxBodyBytes {
				s.writeError(w, r, arm.Errorf(http.StatusRequestEntityTooLarge, arm.CodeRequestTooLarge,
					"The request content size exceeds the maximum allowed size of %d bytes.", s.MaxBodyBytes))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, s.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}
