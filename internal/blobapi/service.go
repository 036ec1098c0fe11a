// Package blobapi is the blob data plane of the storage accounts armlet
// holds: https://{account}.blob.core.windows.net (and the account's dfs
// host, routed to the same blob operations), reached through armlet's
// HTTPS proxy. It serves containers (create, delete, list, properties,
// metadata) and block blobs (Put Blob, Put Block, Put Block List, Get
// Block List, Get Blob with ranges, HEAD, Delete, metadata, List Blobs),
// authenticated with Shared Key, SAS or OAuth bearer tokens and checked
// against the account's network rules, as Azure Storage decides.
//
// # Sources of truth
//
//   - A container is the ARM resource
//     {account}/blobServices/default/containers/{name} (its metadata in
//     properties.metadata): one made through the data plane is listed by
//     ARM, one made through ARM is served here.
//   - Blob records, block lists and uncommitted blocks are in the blob
//     space of the store (kv.SpaceBlob); blob content is in files of the
//     content directory (Options.Dir), written durably before a request
//     is acknowledged. Deleting a container or an account (or anything
//     above one) through ARM deletes its blobs (an engine delete hook).
package blobapi

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/azurehost"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/providers/storage"
	"github.com/armlet/armlet/internal/rpkit"
)

// Audience is the token audience of Azure Storage.
const Audience = "https://storage.azure.com"

// Authorizer checks actions and data actions with Azure RBAC
// (*authorization.RBAC): Check an action (data false), CheckDataAction a
// data action, which only a role's dataActions grant (Owner's "*" actions
// read no blob).
type Authorizer interface {
	Check(ctx context.Context, caller engine.Caller, action string, scope resourceid.ID, data bool) error
	CheckDataAction(ctx context.Context, caller engine.Caller, action string, scope resourceid.ID) error
}

// Options configures the Service.
type Options struct {
	Engine *engine.Engine
	// Store is the blob space (kv.SpaceBlob).
	Store kv.View
	// Dir is the content directory; empty refuses every write of content
	// (501 NotImplemented), as on the etcd store.
	Dir string
	// Authenticate checks a bearer token for Audience.
	Authenticate func(ctx context.Context, authorization string) (engine.Caller, *arm.Error)
	// Authorize checks data actions; nil allows every authenticated
	// caller.
	Authorize Authorizer
	// Authority is the token service's URL for armlet's tenant
	// ({login}/{tenant}), which the 401 challenge names.
	Authority string
	// Now is the wall clock, for SAS validity (a SAS's times are on the
	// wall clock of whoever made it); nil is time.Now.
	Now func() time.Time
}

// Service is the blob data plane.
type Service struct {
	e         *engine.Engine
	meta      meta
	files     files
	auth      func(ctx context.Context, authorization string) (engine.Caller, *arm.Error)
	authorize Authorizer
	authority string
	now       func() time.Time
}

// New returns the blob data plane and registers the engine delete hook
// that removes the blobs of deleted containers and accounts.
func New(opts Options) *Service {
	s := &Service{
		e: opts.Engine, meta: meta{opts.Store}, files: newFiles(opts.Dir), auth: opts.Authenticate,
		authorize: opts.Authorize, authority: opts.Authority, now: opts.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.e.OnDelete(s.deleted)
	return s
}

// deleted removes the blobs below a deleted resource.
func (s *Service) deleted(ctx context.Context, r *engine.Resource) {
	if !coversContainers(r.ID) {
		return
	}
	if err := s.meta.purge(ctx, s.files, r.ID); err != nil {
		s.e.Logger().Warn("blob data plane: removing the blobs of a deleted resource", "resource", r.ID.String(), "err", err)
	}
}

// coversContainers reports whether a resource's subtree can hold blob
// containers: a container, or an account, or something above accounts.
func coversContainers(id resourceid.ID) bool {
	t := strings.ToLower(id.ResourceType())
	return t == strings.ToLower(storage.TypeContainers) || t == strings.ToLower(storage.TypeBlobServices) ||
		t == strings.ToLower(storage.TypeAccounts) || !strings.Contains(t, "/") ||
		strings.EqualFold(t, "Microsoft.Resources/resourceGroups") || strings.EqualFold(t, "Microsoft.Resources/subscriptions")
}

// AccountOf is the account a host name is the blob (or dfs) endpoint of,
// "" when it is none: {account}.blob.core.windows.net, .dfs., and the
// privatelink names they are CNAMEs of, which Azure's certificates cover
// too.
func AccountOf(host string) string {
	h := azurehost.Parse(host)
	if h.Kind != azurehost.Storage || h.Service != "blob" && h.Service != "dfs" {
		return ""
	}
	return h.Account
}

// Host reports whether host has the form of a blob data-plane host, for
// the front door to route it (and leave its body unread and unlimited).
func Host(host string) bool { return AccountOf(host) != "" }

// Serves reports whether host is the blob endpoint of an account armlet
// holds, for the proxy to decide whether to open a tunnel.
func (s *Service) Serves(ctx context.Context, host string) (bool, error) {
	name := AccountOf(host)
	if name == "" {
		return false, nil
	}
	a, err := rpkit.FindByName(ctx, s.e, storage.TypeAccounts, name)
	return a != nil, err
}

// Target is what a request was resolved to, for its flow record, also
// when it is refused.
type Target struct {
	Caller engine.Caller
	// Account is the account's ID; the root ID when not resolved.
	Account resourceid.ID
	// Operation is the data action of the request
	// ("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read").
	Operation string
	// Private is true when the request came through a private endpoint
	// to the account's blob sub-resource.
	Private bool
}

// request is one resolved request.
type request struct {
	r         *http.Request
	q         url.Values
	account   *engine.Resource
	container string // "" for account operations
	blob      string // "" for container operations
	op        op
	caller    engine.Caller
	version   string
}

func (q *request) containerID() resourceid.ID {
	return q.account.ID.Child("blobServices", "default").Child("containers", q.container)
}

// Serve answers a request for the blob endpoint host. The body is
// streamed: it is read once, by the operation, never whole in memory.
func (s *Service) Serve(ctx context.Context, host string, r *http.Request) (*engine.Response, Target, error) {
	t := Target{}
	name := AccountOf(host)
	account, err := rpkit.FindByName(ctx, s.e, storage.TypeAccounts, name)
	if err != nil {
		return nil, t, err
	}
	if account == nil {
		return nil, t, storageErr(http.StatusNotFound, CodeAccountNotFound, "The specified resource does not exist.")
	}
	t.Account = account.ID
	t.Private = privateTo(ctx, account.ID)
	q := &request{r: r, q: r.URL.Query(), account: account}
	if err := q.checkVersion(); err != nil {
		return nil, t, err
	}
	// The network rules come first, as in Storage: a request they keep
	// out learns nothing of its path or credentials. Its operation and
	// caller are still resolved, where they can be, for its flow record.
	err = q.parsePath()
	var o op
	if err == nil {
		o, err = resolve(q)
	}
	var authErr error
	if err == nil {
		q.op, t.Operation = o, o.action
		q.caller, authErr = s.authenticate(ctx, q)
		t.Caller = q.caller
	}
	switch {
	case !t.Private && publicDenied(account):
		return nil, t, versioned(networkRefused(), q.version)
	case err != nil:
		return nil, t, versioned(err, q.version)
	case authErr != nil:
		return nil, t, versioned(authErr, q.version)
	}
	resp, err := o.h(s, ctx, q)
	if resp != nil {
		if resp.Header == nil {
			resp.Header = http.Header{}
		}
		resp.Header.Set("x-ms-version", q.version)
	}
	return resp, t, versioned(err, q.version)
}

// versioned is err with the x-ms-version header Storage answers errors
// with too, once the request's version is known.
func versioned(err error, version string) error {
	ae, ok := arm.AsError(err)
	if !ok {
		return err
	}
	out := *ae
	out.Header = ae.Header.Clone()
	if out.Header == nil {
		out.Header = http.Header{}
	}
	out.Header.Set("x-ms-version", version)
	return &out
}

// parsePath splits the path into container and blob. The blob name is
// the rest of the path, unescaped once: "a%2Fb" and "a/b" are one name,
// as in Azure.
func (q *request) parsePath() error {
	p := strings.TrimPrefix(q.r.URL.Path, "/")
	c, b, _ := strings.Cut(p, "/")
	q.container, q.blob = c, b
	if c != "" && c != "$root" && !storage.ValidContainerName(c) {
		return storageErr(http.StatusBadRequest, CodeInvalidURI, "The requested URI does not represent any resource on the server.")
	}
	if c == "$root" {
		return storageErr(http.StatusBadRequest, CodeFeatureNotSupported, "armlet does not serve the root container ($root).")
	}
	if len(b) > 1024 {
		return storageErr(http.StatusBadRequest, CodeOutOfRangeInput, "The specified resource name length is not within the permissible limits.")
	}
	// A NUL byte separates the parts of the blob space's keys: a name
	// holding one could reach another blob's blocks.
	if strings.ContainsRune(b, 0) || !utf8.ValidString(b) {
		return storageErr(http.StatusBadRequest, CodeInvalidResourceName, "The specified resource name contains invalid characters.")
	}
	return nil
}

var versionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func validVersion(v string) bool { return versionRE.MatchString(v) }

// DefaultVersion is the x-ms-version armlet answers with when a request
// (an anonymous or SAS one) sends none.
const DefaultVersion = "2025-11-05"

// checkVersion accepts any well-formed x-ms-version (a date): armlet
// serves one behaviour for every version the SDKs send, and echoes the
// version back.
//
// Choice: a version that is not a date is 400 InvalidHeaderValue; a
// version of the future is accepted (Azure answers such with 400
// InvalidHeaderValue once it is unknown to it, but SDKs newer than armlet
// would then fail for no reason of their own).
func (q *request) checkVersion() error {
	v := q.r.Header.Get("x-ms-version")
	if v == "" {
		q.version = DefaultVersion
		return nil
	}
	if !validVersion(v) {
		return badHeader("x-ms-version", "The value for one of the HTTP headers is not in the correct format.")
	}
	q.version = v
	return nil
}

// privateTo reports whether the request arrived through a private
// endpoint to account's blob sub-resource.
func privateTo(ctx context.Context, account resourceid.ID) bool {
	ep := netmodel.OriginFrom(ctx).Endpoint
	return ep != nil && strings.EqualFold(ep.TargetID.String(), account.String()) && strings.EqualFold(ep.GroupID, "blob")
}

// publicDenied reports whether account refuses public requests: its
// publicNetworkAccess is Disabled, or its firewall denies by default (a
// client through armlet's proxy has no public address an ipRule could
// name, and no subnet a virtual network rule could).
func publicDenied(account *engine.Resource) bool {
	if v, _ := account.Properties["publicNetworkAccess"].(string); strings.EqualFold(v, "Disabled") {
		return true
	}
	if acls, _ := account.Properties["networkAcls"].(map[string]any); acls != nil {
		if a, _ := acls["defaultAction"].(string); strings.EqualFold(a, "Deny") {
			return true
		}
	}
	return false
}
