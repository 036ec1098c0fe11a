// Package workspaceapi is the data plane each Azure ML workspace serves
// itself (docs/azure-ml-arm.md section 7): discovery, v1 run history, v1 datastores
// and models, and the v2 "remaining operations" (run metrics and
// artifacts). It is reachable publicly only while the workspace's
// publicNetworkAccess is Enabled, and through the workspace's approved
// private endpoints always.
//
// # Paths
//
// S is /subscriptions/{sub}/resourceGroups/{rg}/providers/
// Microsoft.MachineLearningServices/workspaces/{ws}; literal segments match
// ignoring case, a trailing slash is ignored, query parameters such as
// api-version are accepted and not checked.
//
//	GET    /discovery                                         regional service URIs
//	GET    /discovery/workspaces/{workspaceId}                the same, for one workspace
//	GET    /history/v1.0 S /experiments                       list experiments
//	GET    /history/v1.0 S /experiments/{name}                get
//	POST   /history/v1.0 S /experiments/{name}                create (or get)
//	PUT    /history/v1.0 S /experiments/{name}                create or update description, tags
//	GET    /history/v1.0 S /experiments/{name}/runs           list runs
//	GET    /history/v1.0 S /experiments/{name}/runs/{runId}   get run
//	PATCH  /history/v1.0 S /experiments/{name}/runs/{runId}   create or update run (PUT too)
//	GET    /history/v1.0 S /experiments/{name}/runs/{runId}/details
//	GET    /history/v1.0 S /experimentids/{id}[/runs/{runId}[/details]]
//	GET    /history/v1.0 S /runs/{runId}[/details]            run by id (PATCH too)
//	GET    /datastore/v1.0 S /datastores                      list
//	POST   /datastore/v1.0 S /datastores                      create (409 if it exists)
//	GET    /datastore/v1.0 S /datastores/{name}               get (PUT create or update, DELETE)
//	GET    /datastore/v1.0 S /default                         the default datastore
//	PUT    /datastore/v1.0 S /default/{name}                  set the default (also PUT /default {name})
//	POST   /modelmanagement/v1.0 S /models                    register a model (a new version)
//	GET    /modelmanagement/v1.0 S /models?name=N             list, filtered by name
//	GET    /modelmanagement/v1.0 S /models/{name:version}     get (DELETE too)
//	POST   /metric/v2.0 S /runs/{runId}/batchsync             log metrics (also /batch)
//	GET    /metric/v2.0 S /runs/{runId}/full                  every metric of a run (POST too)
//	POST   /artifact/v2.0 S /artifacts/{origin}/{container}/batch/metadata  create empty artifacts
//	POST   /artifact/v2.0 S /artifacts/batch/metadata         get artifacts by id
//	POST   /artifact/v2.0 S /artifacts/{origin}/{container}/content?path=P  upload content
//	GET    /artifact/v2.0 S /artifacts/{origin}/{container}/content?path=P  download content
//	GET    /artifact/v2.0 S /artifacts/{origin}/{container}/metadata?path=P (DELETE too)
//	GET    /artifact/v2.0 S /artifacts/{origin}/{container}/contentinfo?path=P
//	GET    /artifact/v2.0 S /artifacts/{origin}/{container}[?path=prefix]   list
//
// The paths are those of azureml-core's and promptflow's REST clients and of
// the Run History and Artifact 2019-09-30 specifications. An unknown path
// gets 404 InvalidRequestUri, a known path with another method 405
// MethodNotAllowed, a body that is not the JSON expected 400 UserError.
//
// # Storage
//
// Records live in the space kv.SpaceWorkspaceData ("w\0"), the view of
// which the engine hands the service, keyed by the workspace's
// properties.workspaceId (a GUID made when the workspace is created):
// {workspaceId}\0{kind}\0{key}. A workspace deleted and created
// again with the same name has a new workspaceId, so it never sees the old
// records; deleting a workspace also purges them (Engine.OnDelete).
//
// Choice: v1 datastores are records of this service, separate from the v2
// ARM datastores (Microsoft.MachineLearningServices/workspaces/datastores):
// the v1 service kept its own store, and armlet does not try to keep two
// schemas in step.
package workspaceapi

import (
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
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
	e    *engine.Engine
	kv   kv.View // kv.SpaceWorkspaceData: every record of the service
	log  *slog.Logger
}

// New returns a Service. It registers an Engine.OnDelete hook that purges
// a deleted workspace's records.
func New(opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: opts, e: opts.Engine, kv: opts.Engine.Space(kv.SpaceWorkspaceData), log: opts.Logger}
	s.e.OnDelete(s.purgeDeleted)
	return s
}

// Request is one authenticated data-plane call.
type Request struct {
	Method string
	Path   string // escaped URL path as received
	Query  url.Values
	Header http.Header
	Body   []byte
	Caller engine.Caller
	Origin netmodel.Origin
	// HostWorkspaceID is the workspaceId of the workspace host the
	// request came to ({wsid}.workspace.{region}.api.azureml.ms, through
	// armlet's HTTPS proxy); "" for any other host. Such a host serves
	// that workspace only.
	HostWorkspaceID string
	BaseURL         string // scheme and host the client used
	Now             time.Time
}

// queryValue returns the first value of a query parameter, matching the
// name ignoring case as the .NET services do.
func (r *Request) queryValue(name string) string {
	for k, v := range r.Query {
		if len(v) > 0 && equalFold(k, name) {
			return v[0]
		}
	}
	return ""
}
