package machinelearning

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/engine"
)

// Serverless endpoints (Microsoft.MachineLearningServices/workspaces/
// serverlessEndpoints): a model from the catalogue served pay-as-you-go,
// with key authentication. Tracked (location, tags, sku, identity, kind)
// and long-running as the v4 client documents: PUT 201/200 with
// Azure-AsyncOperation (the final state read from the original URI),
// PATCH 200 with the resource, DELETE 202 with Location. Actions:
//   - listKeys: 200 {primaryKey, secondaryKey}.
//   - regenerateKeys: body {keyType: Primary|Secondary, keyValue?}; 202
//     with Location, whose result is the endpoint's keys.
//
// A PUT needs properties.authMode (Key, the only mode) and
// properties.modelSettings.modelId; contentSafety
// ({contentSafetyStatus: Enabled|Disabled}) defaults to Enabled.
// inferenceEndpoint, marketplaceSubscriptionId, endpointState and
// provisioningState are read-only. They are v2 child resources: rule L5
// refuses them in a workspace in v1 legacy mode.
//
// Choice: inferenceEndpoint.uri points at armlet's main listener,
// {BaseURL}/serverless/{location}/{name} (Options.BaseURL, else the URL of
// the request that created the endpoint), never at Azure's
// https://{name}.{location}.models.ai.azure.com, so that a client that
// follows it stays on armlet; armlet serves no inference there (a request
// gets armlet's 404). headers is {}.
//
// Choice: marketplaceSubscriptionId is the ID of the workspace's
// marketplace subscription for the endpoint's modelId (ignoring case),
// looked up when the endpoint is shown, and absent when there is none; an
// endpoint does not need one (Azure requires one for partners' models,
// which armlet does not tell apart). endpointState is Creating, Deleting
// or Online, following provisioningState.
//
// Choice: the endpoint must be in its workspace's location (400 UserError),
// modelSettings.modelId cannot change (400 PropertyChangeNotAllowed), the
// name follows the online endpoints' rule, and the keys exist from
// creation whatever the mode. PATCH takes tags, sku and identity.
const TypeServerlessEndpoints = TypeWorkspaces + "/serverlessEndpoints"

// serverlessFirstVersion is the first stable api-version with serverless
// endpoints and marketplace subscriptions.
const serverlessFirstVersion = "2024-04-01"

type serverlessEndpointStrategy struct {
	e      *engine.Engine
	opts   Options
	shapes *shapes
}

var (
	_ engine.Strategy = (*serverlessEndpointStrategy)(nil)
	_ engine.Renderer = (*serverlessEndpointStrategy)(nil)
	_ engine.Actioner = (*serverlessEndpointStrategy)(nil)
)

var serverlessEndpointProperties = object("ServerlessEndpointProperties", map[string]*field{
	"authMode": enum("ServerlessInferenceEndpointAuthMode", "Key"),
	"contentSafety": object("ContentSafety", map[string]*field{
		"contentSafetyStatus": enum("ContentSafetyStatus", "Enabled", "Disabled"),
	}, "contentSafetyStatus"),
	"modelSettings": object("ModelSettings", map[string]*field{
		"modelId": str(),
	}, "modelId"),
	"endpointState": str().ro(),
	"inferenceEndpoint": object("ServerlessInferenceEndpoint", map[string]*field{
		"uri":     str(),
		"headers": mapOf(str()),
	}).ro(),
	"marketplaceSubscriptionId": str().ro(),
	"provisioningState":         str().ro(),
}, "authMode", "modelSettings")

// Keys of the strategy's state in Resource.Internal.Data (besides the
// endpoint keys).
const dataServerlessURI = "inferenceUri" // string

// sinceServerless are the stable api-versions from serverlessFirstVersion.
func sinceServerless() []string {
	var out []string
	for _, v := range V2APIVersions {
		if versionDate(v) >= serverlessFirstVersion {
			out = append(out, v)
		}
	}
	return out
}

func registerServerless(e *engine.Engine, opts Options) {
	e.Registry().Register(&engine.Type{
		Name:        TypeServerlessEndpoints,
		APIVersions: apiVersionsOf(TypeServerlessEndpoints, sinceServerless()),
		Tracked:     true,
		NamePattern: endpointNamePattern,
		NameRule:    endpointNameRule,
		Put:         engine.AsyncOperation,
		Delete:      engine.Location,
		Strategy:    &serverlessEndpointStrategy{e: e, opts: opts, shapes: newShapes(TypeServerlessEndpoints, serverlessEndpointProperties)},
	})
}

// Validate checks a PUT or PATCH of a serverless endpoint and completes it.
func (s *serverlessEndpointStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if req.Method == http.MethodPatch {
		if _, err := endpointPatchBody(req, "PartialMinimalTrackedResourceWithSkuAndIdentity", "tags", "sku", "identity"); err != nil {
			return err
		}
	}
	if err := checkSkuAndIdentity(desired, "ServerlessEndpoint"); err != nil {
		return err
	}
	if err := checkProperties(req, desired, old, s.shapes, "ServerlessEndpointProperties"); err != nil {
		return err
	}
	ws, err := workspaceOf(ctx, s.e, desired)
	if err != nil {
		return err
	}
	if err := epCheckSameLocation(desired, ws, "serverless endpoint"); err != nil {
		return err
	}
	p := desired.Properties
	if old != nil && !strings.EqualFold(serverlessModel(desired), serverlessModel(old)) {
		return propertyChangeNotAllowed("properties.modelSettings.modelId")
	}
	epSetDefaults(p, map[string]any{"contentSafety": map[string]any{"contentSafetyStatus": "Enabled"}})
	if old == nil || !desired.GetData(dataServerlessURI, new(string)) {
		base := s.opts.BaseURL
		if base == "" {
			base = req.BaseURL
		}
		desired.SetData(dataServerlessURI, strings.TrimSuffix(base, "/")+"/serverless/"+desired.Location+"/"+url.PathEscape(strings.ToLower(desired.ID.Name())))
	}
	completeEndpointKeys(desired)
	completeEndpointIdentity(ctx, s.e, desired)
	return nil
}

// serverlessModel is the modelId of an endpoint or subscription.
func serverlessModel(r *engine.Resource) string {
	if id, ok := r.Properties["modelId"].(string); ok {
		return id
	}
	ms, _ := r.Properties["modelSettings"].(map[string]any)
	id, _ := ms["modelId"].(string)
	return id
}

// Render adds the read-only members.
func (s *serverlessEndpointStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, apiVersion string, now time.Time) error {
	defer s.shapes.render(body, apiVersion)
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		return nil
	}
	var uri string
	r.GetData(dataServerlessURI, &uri)
	props["inferenceEndpoint"] = map[string]any{"uri": uri, "headers": map[string]any{}}
	switch r.ProvisioningState(now) {
	case "Creating":
		props["endpointState"] = "Creating"
	case "Deleting":
		props["endpointState"] = "Deleting"
	default:
		props["endpointState"] = "Online"
	}
	subs, err := s.e.List(ctx, r.ID.Parent(), "marketplaceSubscriptions")
	if err != nil {
		return err
	}
	model := serverlessModel(r)
	for _, sub := range subs {
		if !sub.Deleting(now) && strings.EqualFold(serverlessModel(sub), model) {
			props["marketplaceSubscriptionId"] = sub.ID.String()
			break
		}
	}
	return nil
}

// Action answers listKeys and regenerateKeys (names ignore case).
func (s *serverlessEndpointStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	switch strings.ToLower(name) {
	case "listkeys":
		return listEndpointKeys(r), nil
	case "regeneratekeys":
		k, err := changeEndpointKey(ctx, s.e, req, r)
		if err != nil {
			return nil, err
		}
		return s.e.NewActionOperation(ctx, req, r, k.body(), req.Now.Add(s.e.OperationDuration()))
	}
	return nil, engine.UnknownAction(TypeServerlessEndpoints, name)
}
