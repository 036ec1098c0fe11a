package machinelearning

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// onlineDeploymentStrategy is the behaviour of Microsoft.MachineLearningServices/
// workspaces/onlineEndpoints/deployments. It implements engine.Strategy,
// DeleteValidator, Actioner and ChildLister.
//
// properties is a union on endpointComputeType: Managed
// (ManagedOnlineDeployment), Kubernetes (KubernetesOnlineDeployment, which
// adds containerResourceRequirements) and AzureMLCompute
// (OnlineDeploymentProperties). provisioningState is Creating (Updating
// for a PUT of an existing deployment) until the operation completes, then
// Succeeded.
//
// References (checked when set and changed; see epCheckRef): model (a
// model version), environmentId (an environment version) and
// codeConfiguration.codeId (a code version), each an existing workspace
// asset's ARM ID or an azureml://registries/ URI.
//
// Defaults: sku {"name":"Default","capacity":1}; appInsightsEnabled false;
// egressPublicNetworkAccess Enabled; scaleSettings {"scaleType":"Default"}
// for Managed and AzureMLCompute, TargetUtilization (min 1, max 1, PT1S,
// 70 %) for Kubernetes; requestSettings {maxConcurrentRequestsPerInstance
// 1, requestTimeout PT5S, maxQueueWait PT0.5S}; livenessProbe and
// readinessProbe {initialDelay PT10S, period PT10S, timeout PT2S,
// successThreshold 1, failureThreshold 30} (Azure's documented defaults).
// Members missing from a sent requestSettings or probe get their default.
//
// Choice: rules Azure ML applies and armlet reproduces with 400 UserError:
// the deployment is in its endpoint's location; endpointComputeType cannot
// change; a Managed deployment needs instanceType, takes only Default
// scale settings and needs an endpoint without compute; a Kubernetes
// deployment needs an endpoint with compute.
//
// Choice: PATCH takes sku and tags (PartialMinimalTrackedResourceWithSKU)
// and answers 200 at once; a capacity change does not show "Scaling".
//
// Choice: a deployment that receives traffic or mirrored traffic
// (value > 0 in its endpoint's traffic or mirrorTraffic) cannot be
// deleted: 400 UserError naming traffic. Deleting the endpoint deletes its
// deployments without that check.
//
// Action getLogs: body {containerType: StorageInitializer|InferenceServer
// (default InferenceServer), tail}; 200 {content}: plausible container log
// lines derived from the deployment and the clock, the last tail lines
// (default and at most 5000; Choice).
//
// GET {deployment}/skus: one page of SkuResource, the Default SKU with
// capacity 1 to 20 (Choice: Manual scale type, the managed limit).
type onlineDeploymentStrategy struct {
	e      *engine.Engine
	shapes *shapes
}

var (
	_ engine.Strategy        = (*onlineDeploymentStrategy)(nil)
	_ engine.DeleteValidator = (*onlineDeploymentStrategy)(nil)
	_ engine.Renderer        = (*onlineDeploymentStrategy)(nil)
	_ engine.Actioner        = (*onlineDeploymentStrategy)(nil)
	_ engine.ChildLister     = (*onlineDeploymentStrategy)(nil)
)

var (
	epProbeSettings = object("ProbeSettings", map[string]*field{
		"failureThreshold": integer(),
		"initialDelay":     str(),
		"period":           str(),
		"successThreshold": integer(),
		"timeout":          str(),
	})
	onlineRequestSettings = object("OnlineRequestSettings", map[string]*field{
		"maxConcurrentRequestsPerInstance": integer(),
		"maxQueueWait":                     str(),
		"requestTimeout":                   str(),
	})
	onlineScaleSettings = union("scaleType", "ScaleType", map[string]*field{
		"Default": object("DefaultScaleSettings", map[string]*field{
			"scaleType": enum("ScaleType", "Default"),
		}),
		"TargetUtilization": object("TargetUtilizationScaleSettings", map[string]*field{
			"scaleType":                   enum("ScaleType", "TargetUtilization"),
			"maxInstances":                integer(),
			"minInstances":                integer(),
			"pollingInterval":             str(),
			"targetUtilizationPercentage": integer(),
		}),
	})
	epCodeConfiguration = object("CodeConfiguration", map[string]*field{
		"codeId":        str(),
		"scoringScript": str(),
	}, "scoringScript")
	epDataCollector = object("DataCollector", map[string]*field{
		"collections": mapOf(object("Collection", map[string]*field{
			"clientId":           str(),
			"dataCollectionMode": enum("DataCollectionMode", "Enabled", "Disabled"),
			"dataId":             str(),
			"samplingRate":       number(),
		})),
		"requestLogging": object("RequestLogging", map[string]*field{"captureHeaders": arrayOf(str())}),
		"rollingRate":    enum("RollingRateType", "Year", "Month", "Day", "Hour", "Minute"),
	})
	epContainerResourceSettings = object("ContainerResourceSettings", map[string]*field{
		"cpu": str(), "gpu": str(), "memory": str(),
	})
)

// onlineDeploymentFields are the members of one endpointComputeType.
func onlineDeploymentFields(computeType string, extra map[string]*field) map[string]*field {
	f := map[string]*field{
		"endpointComputeType":       enum("EndpointComputeType", computeType),
		"appInsightsEnabled":        boolean(),
		"codeConfiguration":         epCodeConfiguration,
		"dataCollector":             epDataCollector,
		"description":               str(),
		"egressPublicNetworkAccess": enum("EgressPublicNetworkAccessType", "Enabled", "Disabled"),
		"environmentId":             str(),
		"environmentVariables":      mapOf(str()),
		"instanceType":              str(),
		"livenessProbe":             epProbeSettings,
		"model":                     str(),
		"modelMountPath":            str(),
		"properties":                mapOf(str()),
		"readinessProbe":            epProbeSettings,
		"requestSettings":           onlineRequestSettings,
		"scaleSettings":             onlineScaleSettings,
		"provisioningState":         str().ro(),
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

var onlineDeploymentProperties = union("endpointComputeType", "EndpointComputeType", map[string]*field{
	"Managed": object("ManagedOnlineDeployment", onlineDeploymentFields("Managed", nil)),
	"Kubernetes": object("KubernetesOnlineDeployment", onlineDeploymentFields("Kubernetes", map[string]*field{
		"containerResourceRequirements": object("ContainerResourceRequirements", map[string]*field{
			"containerResourceLimits":   epContainerResourceSettings,
			"containerResourceRequests": epContainerResourceSettings,
		}),
	})),
	"AzureMLCompute": object("OnlineDeploymentProperties", onlineDeploymentFields("AzureMLCompute", nil)),
})

var (
	defaultProbe = map[string]any{
		"initialDelay": "PT10S", "period": "PT10S", "timeout": "PT2S",
		"successThreshold": epInt(1), "failureThreshold": epInt(30),
	}
	defaultRequestSettings = map[string]any{
		"maxConcurrentRequestsPerInstance": epInt(1), "requestTimeout": "PT5S", "maxQueueWait": "PT0.5S",
	}
	defaultTargetUtilization = map[string]any{
		"scaleType": "TargetUtilization", "minInstances": epInt(1), "maxInstances": epInt(1),
		"pollingInterval": "PT1S", "targetUtilizationPercentage": epInt(70),
	}
)

// Validate checks a PUT or PATCH of an online deployment and completes it.
func (s *onlineDeploymentStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if req.Method == http.MethodPatch {
		if _, err := endpointPatchBody(req, "PartialMinimalTrackedResourceWithSKU", "tags", "sku"); err != nil {
			return err
		}
	}
	if err := checkSkuAndIdentity(desired, "OnlineDeployment"); err != nil {
		return err
	}
	if err := checkProperties(req, desired, old, s.shapes, "OnlineDeploymentProperties"); err != nil {
		return err
	}
	endpoint, err := epLiveEndpoint(ctx, s.e, req, desired)
	if err != nil {
		return err
	}
	if err := epCheckSameLocation(desired, endpoint, "online deployment"); err != nil {
		return err
	}
	p := desired.Properties
	computeType := epStr(p["endpointComputeType"])
	var oldProps map[string]any
	if old != nil {
		oldProps = old.Properties
		if computeType != epStr(oldProps["endpointComputeType"]) {
			return propertyChangeNotAllowed("properties.endpointComputeType")
		}
	}
	if err := checkComputeTypeRules(p, endpoint); err != nil {
		return err
	}
	for _, r := range []struct {
		ref      epAssetRef
		val, old any
	}{
		{epRefModel.at("properties.model"), p["model"], oldProps["model"]},
		{epRefEnvironment.at("properties.environmentId"), p["environmentId"], oldProps["environmentId"]},
		{epRefCode.at("properties.codeConfiguration.codeId"), epNested(p, "codeConfiguration")["codeId"], epNested(oldProps, "codeConfiguration")["codeId"]},
	} {
		if err := epCheckRefIfChanged(ctx, s.e, r.ref, r.val, r.old); err != nil {
			return err
		}
	}
	completeOnlineDeployment(desired)
	completeEndpointIdentity(ctx, s.e, desired)
	return nil
}

// checkComputeTypeRules applies the rules that tie a deployment's
// endpointComputeType to its settings and to its endpoint.
func checkComputeTypeRules(p map[string]any, endpoint *engine.Resource) error {
	const target = "properties.endpointComputeType"
	hasCompute := epStr(endpoint.Properties["compute"]) != ""
	switch epStr(p["endpointComputeType"]) {
	case "Managed":
		if epStr(p["instanceType"]) == "" {
			return arm.BadRequest(arm.CodeUserError, "A Managed online deployment needs 'properties.instanceType' (for example 'Standard_DS3_v2').").WithTarget("properties.instanceType")
		}
		if st := epStr(epNested(p, "scaleSettings")["scaleType"]); st != "" && st != "Default" {
			return arm.BadRequest(arm.CodeUserError, "A Managed online deployment supports only scaleType 'Default', not '%s'; use Azure Monitor autoscale instead.", st).WithTarget("properties.scaleSettings.scaleType")
		}
		if hasCompute {
			return arm.BadRequest(arm.CodeUserError, "Online endpoint '%s' runs on compute '%s'; its deployments must use endpointComputeType 'Kubernetes', not 'Managed'.",
				endpoint.ID.Name(), epStr(endpoint.Properties["compute"])).WithTarget(target)
		}
	case "Kubernetes":
		if !hasCompute {
			return arm.BadRequest(arm.CodeUserError, "Online endpoint '%s' has no compute; a 'Kubernetes' deployment needs an endpoint created with 'properties.compute' naming a Kubernetes compute.",
				endpoint.ID.Name()).WithTarget(target)
		}
	}
	return nil
}

// completeOnlineDeployment applies the defaults.
func completeOnlineDeployment(r *engine.Resource) {
	p := r.Properties
	if _, ok := r.Extra["sku"]; !ok {
		setExtra(r, "sku", mustJSON(map[string]any{"name": "Default", "capacity": 1}))
	}
	epSetDefaults(p, map[string]any{"appInsightsEnabled": false, "egressPublicNetworkAccess": "Enabled"})
	if _, ok := p["scaleSettings"]; !ok {
		if p["endpointComputeType"] == "Kubernetes" {
			p["scaleSettings"] = engine.DeepCopy(defaultTargetUtilization)
		} else {
			p["scaleSettings"] = map[string]any{"scaleType": "Default"}
		}
	}
	for name, defs := range map[string]map[string]any{
		"requestSettings": defaultRequestSettings,
		"livenessProbe":   defaultProbe,
		"readinessProbe":  defaultProbe,
	} {
		obj, _ := p[name].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
			p[name] = obj
		}
		epSetDefaults(obj, defs)
	}
}

// ValidateDelete refuses to delete a deployment that receives traffic.
func (s *onlineDeploymentStrategy) ValidateDelete(ctx context.Context, _ *engine.Request, r *engine.Resource) error {
	endpoint, err := s.e.Get(ctx, r.ID.Parent())
	if err != nil {
		return nil // the endpoint is gone: nothing routes to r
	}
	for _, name := range []string{"traffic", "mirrorTraffic"} {
		m, _ := endpoint.Properties[name].(map[string]any)
		for k, v := range m {
			if !strings.EqualFold(k, r.ID.Name()) {
				continue
			}
			if n, _ := strconv.ParseInt(fmt.Sprint(v), 10, 64); n > 0 {
				target := "properties." + name
				return arm.BadRequest(arm.CodeUserError,
					"Deployment '%s' cannot be deleted because it receives %d%% of the %s of online endpoint '%s'. Set its value in '%s' to 0 (update the endpoint) before deleting it.",
					r.ID.Name(), n, name, endpoint.ID.Name(), target).WithTarget(target)
			}
		}
	}
	return nil
}

var deploymentLogsRequest = object("DeploymentLogsRequest", map[string]*field{
	"containerType": enum("ContainerType", "StorageInitializer", "InferenceServer"),
	"tail":          integer(),
})

// epMaxLogLines bounds getLogs' tail.
const epMaxLogLines = 5000

// Action answers getLogs.
func (s *onlineDeploymentStrategy) Action(_ context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	if !strings.EqualFold(name, "getLogs") {
		return nil, engine.UnknownAction(TypeOnlineDeployments, name)
	}
	body, err := epActionBody(req)
	if err != nil {
		return nil, err
	}
	checked, err := deploymentLogsRequest.check("body", body)
	if err != nil {
		return nil, err
	}
	b := checked.(map[string]any)
	container := epStr(b["containerType"])
	if container == "" {
		container = "InferenceServer"
	}
	tail := int64(epMaxLogLines)
	if t, ok := b["tail"]; ok {
		tail, _ = strconv.ParseInt(fmt.Sprint(t), 10, 64)
		if tail < 0 {
			return nil, arm.BadRequest(arm.CodeUserError, "'tail' must not be negative.").WithTarget("tail")
		}
		tail = min(tail, epMaxLogLines)
	}
	lines := deploymentLogLines(r, container, req.Now)
	if int64(len(lines)) > tail {
		lines = lines[int64(len(lines))-tail:]
	}
	content := strings.Join(lines, "\n")
	if len(lines) > 0 {
		content += "\n"
	}
	return engine.JSON(http.StatusOK, map[string]any{"content": content}), nil
}

// deploymentLogLines are the log lines a container of r has written by
// now: a start-up sequence from the deployment's last write, then one
// liveness line per probe period (at most a few hundred).
func deploymentLogLines(r *engine.Resource, container string, now time.Time) []string {
	start := r.SystemData.LastModifiedAt
	if start.IsZero() || start.After(now) {
		start = now
	}
	at := func(d time.Duration) string { return start.Add(d).UTC().Format("2006-01-02T15:04:05.000000Z") }
	model := epStr(r.Properties["model"])
	if model == "" {
		model = "(no model)"
	}
	if container == "StorageInitializer" {
		return []string{
			at(0) + " | INFO | storage-initializer | Starting model download for deployment '" + r.ID.Name() + "'",
			at(time.Second) + " | INFO | storage-initializer | Resolving model " + model,
			at(3*time.Second) + " | INFO | storage-initializer | Downloaded model files to /var/azureml-app/azureml-models",
			at(4*time.Second) + " | INFO | storage-initializer | Storage initialization completed",
		}
	}
	script := epStr(epNested(r.Properties, "codeConfiguration")["scoringScript"])
	if script == "" {
		script = "score.py"
	}
	lines := []string{
		"Instance status:",
		"SystemSetup: Succeeded",
		"UserContainerImagePull: Succeeded",
		"ModelDownload: Succeeded",
		"UserContainerStart: Succeeded",
		"",
		"Container events:",
		"Kind: Pod, Name: Downloading, Type: Normal, Time: " + at(0) + ", Message: Start downloading models",
		"Kind: Pod, Name: Pulling, Type: Normal, Time: " + at(2*time.Second) + ", Message: Start pulling container image",
		"Kind: Pod, Name: Started, Type: Normal, Time: " + at(5*time.Second) + ", Message: Container started",
		"",
		"Container logs:",
		at(6*time.Second) + " | INFO | azmlinfsrv | AML Inferencing Server v1.2.0 starting",
		at(6*time.Second) + " | INFO | azmlinfsrv | Found user script at /var/azureml-app/" + script,
		at(7*time.Second) + " | INFO | azmlinfsrv | Loading model " + model,
		at(8*time.Second) + " | INFO | azmlinfsrv | init() completed",
		at(8*time.Second) + " | INFO | azmlinfsrv | Scoring timeout is set to 5000 ms",
		at(9*time.Second) + " | INFO | gunicorn | Listening at: http://0.0.0.0:31311",
	}
	const period = 10 * time.Second
	for d := 10 * time.Second; start.Add(d).Before(now) && len(lines) < 500; d += period {
		lines = append(lines, at(d)+` | INFO | azmlinfsrv | 200 GET /  (liveness probe)`)
	}
	return lines
}

// ListChildren answers GET {deployment}/skus.
func (s *onlineDeploymentStrategy) ListChildren(_ context.Context, _ *engine.Request, _ *engine.Resource, child string) (*engine.Response, bool, error) {
	if !strings.EqualFold(child, "skus") {
		return nil, false, nil
	}
	item := map[string]any{
		"resourceType": TypeOnlineDeployments,
		"sku":          map[string]any{"name": "Default", "tier": "Standard"},
		"capacity":     map[string]any{"minimum": 1, "maximum": 20, "default": 1, "scaleType": "Manual"},
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": []any{item}}), true, nil
}

// epLiveEndpoint returns the endpoint of deployment d, refusing writes while
// the endpoint is being deleted (409 Conflict).
func epLiveEndpoint(ctx context.Context, e *engine.Engine, req *engine.Request, d *engine.Resource) (*engine.Resource, error) {
	endpoint, err := e.Get(ctx, d.ID.Parent())
	if err != nil {
		return nil, err
	}
	if endpoint.Deleting(req.Now) {
		return nil, arm.Conflict(arm.CodeConflict, "Endpoint '%s' is being deleted; deployment '%s' cannot be written.", endpoint.ID.Name(), d.ID.Name())
	}
	return endpoint, nil
}

// epInt is an integer as the schema normalises it.
func epInt(n int64) any { return json.Number(strconv.FormatInt(n, 10)) }

// newOnlineDeploymentShapes are the deployments' shapes with
// privateNetworkConnection, which 2022-02-01-preview has and later
// versions replaced by egressPublicNetworkAccess ("If true, enable private
// network connection. DEPRECATED for future API versions. Use
// EgressPublicNetworkAccess.", says its model), carried over both ways.
//
// Choice: privateNetworkConnection true stands for egressPublicNetworkAccess
// Disabled unless the request sets that too; a response at such a version
// derives it from egressPublicNetworkAccess.
func newOnlineDeploymentShapes() *shapes {
	const old, successor = "privateNetworkConnection", "egressPublicNetworkAccess"
	sh := newShapes(TypeOnlineDeployments, onlineDeploymentProperties)
	sh.upgrade = func(p map[string]any, _ string) {
		if private, _ := p[old].(bool); private {
			setDefault(p, successor, "Disabled")
		}
	}
	sh.downgrade = func(p map[string]any, apiVersion string) {
		if sh.has(apiVersion, p, old) {
			p[old] = p[successor] == "Disabled"
		}
	}
	return sh
}

// Render shapes the deployment for the api-version.
func (s *onlineDeploymentStrategy) Render(_ context.Context, _ *engine.Resource, body map[string]any, apiVersion string, _ time.Time) error {
	s.shapes.render(body, apiVersion)
	return nil
}
