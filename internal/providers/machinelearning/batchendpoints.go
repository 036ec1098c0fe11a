package machinelearning

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// batchEndpointStrategy is the behaviour of Microsoft.MachineLearningServices/
// workspaces/batchEndpoints. It implements engine.Strategy, Renderer and
// Actioner.
//
// A PUT needs location and properties.authMode; description, defaults
// {deploymentName}, properties (a string dictionary) and keys (initial
// keys, never shown) are optional. scoringUri
// (https://{name}.{location}.inference.ml.azure.com/jobs) and
// provisioningState are generated.
//
// Choice: batch endpoints accept only authMode AADToken (Azure documents
// Microsoft Entra tokens as the only way to invoke them); Key and
// AMLToken get 400 UserError naming authMode. The endpoint must be in its
// workspace's location. defaults.deploymentName, when set, must name a
// deployment of the endpoint (400 UserError naming it), and that
// deployment cannot then be deleted. armlet does not make the first
// deployment the default by itself. swaggerUri is not shown.
//
// PATCH takes tags and identity (PartialMinimalTrackedResourceWithIdentity)
// and answers 200. Action listkeys (Azure's lower-case k; names ignore
// case) answers 200 {primaryKey, secondaryKey}, keys made at creation.
type batchEndpointStrategy struct {
	e      *engine.Engine
	shapes *shapes
}

var (
	_ engine.Strategy = (*batchEndpointStrategy)(nil)
	_ engine.Renderer = (*batchEndpointStrategy)(nil)
	_ engine.Actioner = (*batchEndpointStrategy)(nil)
)

var batchEndpointProperties = object("BatchEndpointProperties", map[string]*field{
	"authMode":          endpointAuthMode,
	"defaults":          object("BatchEndpointDefaults", map[string]*field{"deploymentName": str()}),
	"description":       str(),
	"keys":              endpointKeysSchema,
	"properties":        mapOf(str()),
	"provisioningState": str().ro(),
	"scoringUri":        str().ro(),
	"swaggerUri":        str().ro(),
}, "authMode")

// Validate checks a PUT or PATCH of a batch endpoint and completes it.
func (s *batchEndpointStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if req.Method == http.MethodPatch {
		if _, err := endpointPatchBody(req, "PartialMinimalTrackedResourceWithIdentity", "tags", "identity"); err != nil {
			return err
		}
	}
	if err := checkSkuAndIdentity(desired, "BatchEndpoint"); err != nil {
		return err
	}
	if err := checkProperties(req, desired, old, s.shapes, "BatchEndpointProperties"); err != nil {
		return err
	}
	ws, err := workspaceOf(ctx, s.e, desired)
	if err != nil {
		return err
	}
	if err := epCheckSameLocation(desired, ws, "batch endpoint"); err != nil {
		return err
	}
	p := desired.Properties
	if mode := epStr(p["authMode"]); mode != "AADToken" {
		return arm.BadRequest(arm.CodeUserError, "Batch endpoints support only authMode 'AADToken' (Microsoft Entra tokens), not '%s'.", mode).WithTarget("properties.authMode")
	}
	if defs := epNested(p, "defaults"); epStr(defs["deploymentName"]) != "" {
		deployments, err := epLiveChildren(ctx, s.e, desired.ID, req)
		if err != nil {
			return err
		}
		name := epStr(defs["deploymentName"])
		d, ok := deployments[strings.ToLower(name)]
		if !ok {
			return arm.BadRequest(arm.CodeUserError, "The deployment '%s' named in 'properties.defaults.deploymentName' does not exist under batch endpoint '%s'.",
				name, desired.ID.Name()).WithTarget("properties.defaults.deploymentName")
		}
		defs["deploymentName"] = d.ID.Name()
	}
	completeEndpointKeys(desired)
	completeEndpointIdentity(ctx, s.e, desired)
	return nil
}

// Render adds the scoring URI.
func (s *batchEndpointStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, apiVersion string, _ time.Time) error {
	defer s.shapes.render(body, apiVersion)
	if props, _ := body["properties"].(map[string]any); props != nil {
		props["scoringUri"] = "https://" + epScoringHost(r) + "/jobs"
	}
	return nil
}

// Action answers listkeys.
func (s *batchEndpointStrategy) Action(_ context.Context, _ *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	if strings.EqualFold(name, "listkeys") {
		return listEndpointKeys(r), nil
	}
	return nil, engine.UnknownAction(TypeBatchEndpoints, name)
}

// batchDeploymentStrategy is the behaviour of Microsoft.MachineLearningServices/
// workspaces/batchEndpoints/deployments. It implements engine.Strategy and
// DeleteValidator.
//
// properties (BatchDeploymentProperties) are all optional: compute (the ID
// of an existing compute), model (an AssetReferenceBase union on
// referenceType: Id {assetId}, DataPath {datastoreId, path}, OutputPath
// {jobId, path}; an Id's assetId is checked like an online deployment's
// model), codeConfiguration, environmentId, environmentVariables,
// deploymentConfiguration (union on deploymentConfigurationType: Model,
// PipelineComponent), description, errorThreshold, loggingLevel,
// maxConcurrencyPerInstance, miniBatchSize, outputAction,
// outputFileName, properties, resources, retrySettings. References are
// checked when set and changed (see epCheckRef); a pipeline
// component's componentId is not checked.
//
// Defaults (Azure's documented ones): errorThreshold -1, loggingLevel
// Info, maxConcurrencyPerInstance 1, miniBatchSize 10, outputAction
// AppendRow, outputFileName predictions.csv, retrySettings {maxRetries 3,
// timeout PT30S}, resources {instanceCount 1}.
//
// Choice: the deployment is in its endpoint's location (400 UserError).
// PATCH takes tags and properties.description
// (PartialBatchDeploymentPartialMinimalTrackedResourceWithProperties) and
// answers 200. The endpoint's default deployment cannot be deleted (400
// UserError naming defaults.deploymentName).
type batchDeploymentStrategy struct {
	e      *engine.Engine
	shapes *shapes
}

var (
	_ engine.Strategy        = (*batchDeploymentStrategy)(nil)
	_ engine.DeleteValidator = (*batchDeploymentStrategy)(nil)
	_ engine.Renderer        = (*batchDeploymentStrategy)(nil)
)

// Render shapes the deployment for the api-version.
func (s *batchDeploymentStrategy) Render(_ context.Context, _ *engine.Resource, body map[string]any, apiVersion string, _ time.Time) error {
	s.shapes.render(body, apiVersion)
	return nil
}

var (
	epIDAssetReference = object("IdAssetReference", map[string]*field{
		"referenceType": enum("ReferenceType", "Id"),
		"assetId":       str(),
	}, "assetId")
	epAssetReference = union("referenceType", "ReferenceType", map[string]*field{
		"Id": epIDAssetReference,
		"DataPath": object("DataPathAssetReference", map[string]*field{
			"referenceType": enum("ReferenceType", "DataPath"),
			"datastoreId":   str(),
			"path":          str(),
		}),
		"OutputPath": object("OutputPathAssetReference", map[string]*field{
			"referenceType": enum("ReferenceType", "OutputPath"),
			"jobId":         str(),
			"path":          str(),
		}),
	})
	batchDeploymentConfiguration = union("deploymentConfigurationType", "BatchDeploymentConfigurationType", map[string]*field{
		"Model": object("BatchDeploymentConfiguration", map[string]*field{
			"deploymentConfigurationType": enum("BatchDeploymentConfigurationType", "Model"),
		}),
		"PipelineComponent": object("BatchPipelineComponentDeploymentConfiguration", map[string]*field{
			"deploymentConfigurationType": enum("BatchDeploymentConfigurationType", "PipelineComponent"),
			"componentId":                 epIDAssetReference,
			"description":                 str(),
			"settings":                    mapOf(str()),
			"tags":                        mapOf(str()),
		}),
	})
	batchDeploymentProperties = object("BatchDeploymentProperties", map[string]*field{
		"codeConfiguration":         epCodeConfiguration,
		"compute":                   str(),
		"deploymentConfiguration":   batchDeploymentConfiguration,
		"description":               str(),
		"environmentId":             str(),
		"environmentVariables":      mapOf(str()),
		"errorThreshold":            integer(),
		"loggingLevel":              enum("BatchLoggingLevel", "Info", "Warning", "Debug"),
		"maxConcurrencyPerInstance": integer(),
		"miniBatchSize":             integer(),
		"model":                     epAssetReference,
		"outputAction":              enum("BatchOutputAction", "SummaryOnly", "AppendRow"),
		"outputFileName":            str(),
		"properties":                mapOf(str()),
		"resources": object("DeploymentResourceConfiguration", map[string]*field{
			"instanceCount": integer(),
			"instanceType":  str(),
			"properties":    mapOf(anyJSON()),
		}),
		"retrySettings": object("BatchRetrySettings", map[string]*field{
			"maxRetries": integer(),
			"timeout":    str(),
		}),
		"provisioningState": str().ro(),
	})
	batchDeploymentDefaults = map[string]any{
		"errorThreshold": epInt(-1), "loggingLevel": "Info", "maxConcurrencyPerInstance": epInt(1),
		"miniBatchSize": epInt(10), "outputAction": "AppendRow", "outputFileName": "predictions.csv",
		"retrySettings": map[string]any{"maxRetries": epInt(3), "timeout": "PT30S"},
		"resources":     map[string]any{"instanceCount": epInt(1)},
	}
)

// Validate checks a PUT or PATCH of a batch deployment and completes it.
func (s *batchDeploymentStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if req.Method == http.MethodPatch {
		body, err := endpointPatchBody(req, "PartialBatchDeploymentPartialMinimalTrackedResourceWithProperties", "tags", "properties")
		if err != nil {
			return err
		}
		if pm, ok := body["properties"].(map[string]any); ok {
			for k := range pm {
				if !strings.EqualFold(k, "description") {
					return arm.UnknownMember("properties", k, "PartialBatchDeployment")
				}
			}
		}
	}
	if err := checkSkuAndIdentity(desired, "BatchDeployment"); err != nil {
		return err
	}
	if err := checkProperties(req, desired, old, s.shapes, "BatchDeploymentProperties"); err != nil {
		return err
	}
	endpoint, err := epLiveEndpoint(ctx, s.e, req, desired)
	if err != nil {
		return err
	}
	if err := epCheckSameLocation(desired, endpoint, "batch deployment"); err != nil {
		return err
	}
	p := desired.Properties
	var oldProps map[string]any
	if old != nil {
		oldProps = old.Properties
	}
	var modelID, oldModelID any
	if m := epNested(p, "model"); epStr(m["referenceType"]) == "Id" {
		modelID = m["assetId"]
	}
	if m := epNested(oldProps, "model"); epStr(m["referenceType"]) == "Id" {
		oldModelID = m["assetId"]
	}
	for _, r := range []struct {
		ref      epAssetRef
		val, old any
	}{
		{epRefModel.at("properties.model.assetId"), modelID, oldModelID},
		{epRefCompute.at("properties.compute"), p["compute"], oldProps["compute"]},
		{epRefEnvironment.at("properties.environmentId"), p["environmentId"], oldProps["environmentId"]},
		{epRefCode.at("properties.codeConfiguration.codeId"), epNested(p, "codeConfiguration")["codeId"], epNested(oldProps, "codeConfiguration")["codeId"]},
	} {
		if err := epCheckRefIfChanged(ctx, s.e, r.ref, r.val, r.old); err != nil {
			return err
		}
	}
	epSetDefaults(p, batchDeploymentDefaults)
	for _, name := range []string{"retrySettings", "resources"} {
		if obj, ok := p[name].(map[string]any); ok {
			epSetDefaults(obj, batchDeploymentDefaults[name].(map[string]any))
		}
	}
	completeEndpointIdentity(ctx, s.e, desired)
	return nil
}

// ValidateDelete refuses to delete the endpoint's default deployment.
func (s *batchDeploymentStrategy) ValidateDelete(ctx context.Context, _ *engine.Request, r *engine.Resource) error {
	endpoint, err := s.e.Get(ctx, r.ID.Parent())
	if err != nil {
		return nil
	}
	if strings.EqualFold(epStr(epNested(endpoint.Properties, "defaults")["deploymentName"]), r.ID.Name()) {
		const target = "properties.defaults.deploymentName"
		return arm.BadRequest(arm.CodeUserError,
			"Deployment '%s' is the default deployment of batch endpoint '%s' and cannot be deleted. Change '%s' of the endpoint first.",
			r.ID.Name(), endpoint.ID.Name(), target).WithTarget(target)
	}
	return nil
}
