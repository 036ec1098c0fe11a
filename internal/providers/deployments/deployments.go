// Package deployments is armlet's Microsoft.Resources/deployments: ARM
// template deployments at resource group and subscription scope. A PUT
// checks the template (package armtemplate) and answers at once; the
// deployment then runs in the background, each resource of the template
// sent through the ARM front door as its caller's own request (RBAC,
// Azure Policy, the v1LegacyMode gate, flow records), independent
// resources in parallel, each waited for until its provisioningState is
// terminal.
package deployments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/armtemplate"
	"github.com/armlet/armlet/internal/armtemplate/expr"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/google/uuid"
)

// Resource types served by this package.
const (
	TypeDeployments       = "Microsoft.Resources/deployments"
	TypeOperations        = TypeDeployments + "/operations"
	TypeOperationStatuses = TypeDeployments + "/operationStatuses"
)

// APIVersions are the api-versions of Microsoft.Resources/deployments
// armlet accepts, newest first: the Azure CLI 2.x sends 2022-09-01 to
// 2024-11-01, azure-ai-ml 1.4 sends 2020-06-01 (azure-mgmt-resource).
var APIVersions = []string{
	"2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01", "2022-09-01", "2021-04-01",
	"2021-01-01", "2020-10-01", "2020-08-01", "2020-06-01", "2019-10-01", "2019-08-01", "2019-07-01",
	"2019-05-10", "2019-05-01", "2019-03-01", "2018-05-01", "2018-02-01",
}

// Request is a request of a deployment's, served as its caller's.
type Request struct {
	Caller     engine.Caller
	Method     string
	ID         resourceid.ID
	Tail       string
	APIVersion string
	Body       []byte
	BaseURL    string
	Deployment resourceid.ID
	// CorrelationID is the deployment's.
	CorrelationID string
	// Record asks for a flow record (writes and actions).
	Record bool
	// Origin is how the deployment's own request arrived: its resources'
	// requests are recorded as having travelled the same way.
	Origin netmodel.Origin
}

// Dispatcher serves a deployment's requests as ARM's front door serves a
// client's (RBAC, the engine, the write hooks, a flow record).
type Dispatcher func(ctx context.Context, r Request) (*engine.Response, error)

// Options configures the provider.
type Options struct {
	Logger *slog.Logger
	// PollInterval is how often a running deployment reads a resource it
	// waits for (default 50 ms of real time).
	PollInterval time.Duration
	// Parallelism bounds the resources of one deployment in flight at
	// once (default 256: Azure documents no bound below a template's 800
	// resources).
	Parallelism int
}

// Provider holds the deployments being run by this replica.
type Provider struct {
	e        *engine.Engine
	opts     Options
	dispatch Dispatcher

	mu      sync.Mutex
	running map[string]context.CancelFunc // by deployment id key
	ctx     context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// Register adds the deployments types to e's registry and its route;
// SetDispatcher must be called before the first request.
func Register(e *engine.Engine, opts Options) *Provider {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 50 * time.Millisecond
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 256
	}
	ctx, stop := context.WithCancel(context.Background())
	p := &Provider{e: e, opts: opts, running: map[string]context.CancelFunc{}, ctx: ctx, stop: stop}
	e.Registry().Register(&engine.Type{
		Name: TypeDeployments, APIVersions: APIVersions,
		Put: engine.Sync, CreatedStatus: http.StatusCreated, UpdatedStatus: http.StatusCreated,
		Delete:   engine.Location,
		Strategy: &strategy{p: p},
	})
	e.AddRoute(p)
	return p
}

// SetDispatcher sets how the deployments send their resources.
func (p *Provider) SetDispatcher(d Dispatcher) { p.dispatch = d }

// Close cancels the running deployments (they stay as they are: Running)
// and waits for their goroutines.
func (p *Provider) Close() {
	p.stop()
	p.wg.Wait()
}

// storing marks the context of the engine PUT the route makes, so that
// the route lets the engine store the deployment.
type storing struct{}

// ServeRoute answers the requests the engine cannot: a PUT (stored by the
// engine, then run), the deployment's POST actions, its operations and
// its operation status. GET, list and DELETE of deployments are the
// engine's.
func (p *Provider) ServeRoute(ctx context.Context, req *engine.Request, path resourceid.Path) (*engine.Response, bool, error) {
	if ctx.Value(storing{}) != nil {
		return nil, false, nil
	}
	if canon, ok := canonical(path); ok {
		// The older form of the path, without /providers/, which the
		// Azure CLI's operation commands use: served as the other.
		resp, handled, err := p.ServeRoute(ctx, req, canon)
		if handled {
			return resp, true, err
		}
		resp, err = p.e.ServePath(ctx, req, canon)
		return resp, true, err
	}
	id := path.ID
	switch {
	case strings.EqualFold(id.ResourceType(), TypeDeployments) && path.Tail == "" && req.Method == http.MethodPut:
		resp, err := p.put(ctx, req, path)
		return resp, true, err
	case strings.EqualFold(id.ResourceType(), TypeDeployments) && path.Tail != "" && req.Method == http.MethodPost:
		resp, err := p.action(ctx, req, id, path.Tail)
		return resp, true, err
	case strings.EqualFold(id.ResourceType(), TypeDeployments) && strings.EqualFold(path.Tail, "operations") && req.Method == http.MethodGet:
		resp, err := p.operations(ctx, req, id, "")
		return resp, true, err
	case strings.EqualFold(id.ResourceType(), TypeOperations) && path.Tail == "" && req.Method == http.MethodGet:
		resp, err := p.operations(ctx, req, id.Parent(), id.Name())
		return resp, true, err
	case strings.EqualFold(id.ResourceType(), TypeOperationStatuses) && path.Tail == "" && req.Method == http.MethodGet:
		resp, err := p.status(ctx, req, id.Parent(), id.Name())
		return resp, true, err
	}
	return nil, false, nil
}

// canonical rewrites a path in the form Azure also serves deployments at,
// /subscriptions/{s}/resourcegroups/{rg}/deployments/{name}[/...] (no
// providers segment), into the /providers/Microsoft.Resources form; ok is
// false for every other path.
func canonical(path resourceid.Path) (resourceid.Path, bool) {
	for i := range path.ID.Len() {
		sg := path.ID.Segment(i)
		if sg.Namespaced() {
			return path, false
		}
		if strings.EqualFold(sg.Type, "deployments") && i > 0 {
			segs := path.ID.Segments()
			segs[i].Type = TypeDeployments
			return resourceid.Path{ID: resourceid.New(segs...), Tail: path.Tail}, true
		}
	}
	if path.Tail != "" && strings.EqualFold(path.Tail, "deployments") && !path.ID.IsRoot() {
		return resourceid.Path{ID: path.ID, Tail: "providers/" + TypeDeployments}, true
	}
	return path, false
}

// checkVersion checks a request's api-version against the type's.
func (p *Provider) checkVersion(req *engine.Request) error {
	return p.e.CheckAPIVersion(req.APIVersion, TypeDeployments)
}

// put stores the deployment through the engine (the strategy checks the
// template) and starts it.
func (p *Provider) put(ctx context.Context, req *engine.Request, path resourceid.Path) (*engine.Response, error) {
	resp, err := p.e.ServePath(context.WithValue(ctx, storing{}, true), req, path)
	if err != nil {
		return nil, err
	}
	r, err := p.e.Get(ctx, path.ID)
	if err != nil {
		return nil, err
	}
	st := stateOf(r)
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	resp.Header.Set("Azure-AsyncOperation", fmt.Sprintf("%s%s/operationStatuses/%s?api-version=%s",
		req.BaseURL, r.ID, st.OperationID, req.APIVersion))
	p.start(r.ID, req.Caller, req.BaseURL, netmodel.OriginFrom(ctx))
	return resp, nil
}

// deploymentBody is what a deployment's PUT (and validate) holds.
type deploymentBody struct {
	Location   string         `json:"location"`
	Tags       map[string]any `json:"tags"`
	Properties struct {
		Template          json.RawMessage `json:"template"`
		TemplateLink      json.RawMessage `json:"templateLink"`
		Parameters        map[string]any  `json:"parameters"`
		ParametersLink    json.RawMessage `json:"parametersLink"`
		Mode              string          `json:"mode"`
		DebugSetting      map[string]any  `json:"debugSetting"`
		OnErrorDeployment map[string]any  `json:"onErrorDeployment"`
		ExpressionOptions map[string]any  `json:"expressionEvaluationOptions"`
		ValidationLevel   string          `json:"validationLevel"`
	} `json:"properties"`
}

// checked is a deployment's template, bound and planned.
type checked struct {
	template *armtemplate.Template
	params   map[string]any
	plan     *armtemplate.Plan
	hash     string
}

// check reads and checks a deployment's properties: the template inline,
// its parameters bound, its resources planned. Nothing is made.
func (p *Provider) check(ctx context.Context, id resourceid.ID, props map[string]any, caller engine.Caller, baseURL string) (*checked, error) {
	if props == nil {
		return nil, arm.InvalidContent("properties", "The request content must have 'properties'.")
	}
	if _, ok := props["templateLink"]; ok {
		return nil, arm.BadRequest("InvalidTemplateLink", "The template link cannot be followed: armlet runs offline and takes templates inline only ('properties.template'); compile Bicep with 'bicep build' and send the JSON.")
	}
	if _, ok := props["parametersLink"]; ok {
		return nil, arm.BadRequest("InvalidParametersLink", "The parameters link cannot be followed: armlet runs offline and takes parameters inline only ('properties.parameters').")
	}
	mode, _ := props["mode"].(string)
	if mode == "" {
		return nil, arm.InvalidContent("properties.mode", "The deployment 'mode' is required: 'Incremental' or 'Complete'.")
	}
	if !strings.EqualFold(mode, "Incremental") && !strings.EqualFold(mode, "Complete") {
		return nil, arm.InvalidContent("properties.mode", "The deployment mode '%s' is not valid: it must be 'Incremental' or 'Complete'.", mode)
	}
	raw, ok := props["template"]
	if !ok || raw == nil {
		return nil, arm.BadRequest("InvalidDeployment", "The deployment must have 'properties.template' (armlet takes templates inline only).")
	}
	t, err := armtemplate.Parse(raw)
	if err != nil {
		return nil, err
	}
	given, _ := props["parameters"].(map[string]any)
	if v, ok := props["parameters"]; ok && v != nil && given == nil {
		return nil, arm.InvalidContent("properties.parameters", "The deployment 'parameters' must be an object.")
	}
	env, err := p.env(ctx, id, caller, baseURL, t, nil)
	if err != nil {
		return nil, err
	}
	params, err := t.Bind(given, baseContext(env))
	if err != nil {
		return nil, err
	}
	plan, err := t.NewPlan(params, env)
	if err != nil {
		return nil, err
	}
	for _, s := range plan.Steps {
		if s.Existing {
			continue
		}
		if err := p.e.CheckAPIVersion(s.APIVersion, s.Type); err != nil {
			return nil, armtemplate.Invalid("The resource '%s' cannot be deployed: %s", s.ID, messageOf(err))
		}
	}
	sum := sha256.Sum256(mustJSON(raw))
	return &checked{template: t, params: params, plan: plan, hash: hex.EncodeToString(sum[:8])}, nil
}

func messageOf(err error) string {
	if ae, ok := arm.AsError(err); ok {
		return ae.Message
	}
	return err.Error()
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// env is what evaluating a deployment at id needs: its scope's objects
// and, when live (the deployment runs), reference() and list*() through
// the dispatcher as caller.
func (p *Provider) env(ctx context.Context, id resourceid.ID, caller engine.Caller, baseURL string, t *armtemplate.Template, live *run) (*armtemplate.Env, error) {
	scope := id.Parent()
	sub := scope.SubscriptionID()
	mg := ""
	if scope.Len() == 1 && strings.EqualFold(scope.Last().Type, typeManagementGroups) {
		mg = scope.Name()
	}
	env := &armtemplate.Env{
		Scope: expr.Scope{TenantID: caller.TenantID, SubscriptionID: sub, ResourceGroup: scope.ResourceGroupName(), ManagementGroup: mg},
		Now:   p.e.Now,
		Tenant: map[string]any{"tenantId": caller.TenantID, "countryCode": "US", "displayName": "armlet",
			"id": "/tenants/" + caller.TenantID},
		Deployment: map[string]any{"name": id.Name(), "properties": map[string]any{
			"template": map[string]any{"contentVersion": contentVersion(t)}, "mode": "Incremental", "provisioningState": "Accepted"}},
		Environment: map[string]any{
			"name": "AzureCloud", "gallery": baseURL + "/", "graph": baseURL + "/", "portal": baseURL + "/",
			"graphAudience": baseURL + "/", "activeDirectoryDataLake": baseURL + "/",
			"batch": baseURL + "/", "media": baseURL + "/", "sqlManagement": baseURL + "/",
			"vmImageAliasDoc": "", "resourceManager": baseURL + "/",
			"authentication": map[string]any{"loginEndpoint": baseURL + "/", "audiences": []any{"https://management.core.windows.net/", "https://management.azure.com/"}, "tenant": "common", "identityProvider": "AAD"},
			"suffixes":       map[string]any{"acrLoginServer": ".azurecr.io", "keyvaultDns": ".vault.azure.net", "storage": "core.windows.net", "sqlServerHostname": ".database.windows.net"},
		},
	}
	if sub != "" {
		env.Subscription = map[string]any{"id": "/subscriptions/" + sub, "subscriptionId": sub, "tenantId": caller.TenantID, "displayName": sub}
	}
	if rg := scope.ResourceGroupName(); rg != "" {
		g, err := p.e.Get(ctx, resourceid.ResourceGroup(sub, rg))
		if err != nil {
			return nil, err
		}
		tags := map[string]any{}
		for k, v := range g.Tags {
			tags[k] = v
		}
		env.ResourceGroup = map[string]any{"id": g.ID.String(), "name": g.ID.Name(), "type": "Microsoft.Resources/resourceGroups",
			"location": g.Location, "tags": tags, "properties": map[string]any{"provisioningState": "Succeeded"}}
	}
	if live != nil {
		env.Reference = live.reference
		env.List = live.list
	}
	return env, nil
}

// baseContext is the context parameter defaults are evaluated in: the
// scope functions, no variables, no live functions.
func baseContext(env *armtemplate.Env) *expr.Context {
	return &expr.Context{Scope: env.Scope, ResourceGroup: env.ResourceGroup, Subscription: env.Subscription,
		Tenant: env.Tenant, Deployment: env.Deployment, Environment: env.Environment, Now: env.Now}
}

func contentVersion(t *armtemplate.Template) string {
	if v, ok := expr.Key(t.Raw, "contentVersion"); ok {
		if s, ok := v.(string); ok {
			return s
		}
	}
	return "1.0.0.0"
}

// newOperationID is a deployment run's id, as its operationStatuses show it.
func newOperationID() string {
	return strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", ""))[:16]
}
