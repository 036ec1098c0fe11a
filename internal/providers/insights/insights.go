// Package insights is armlet's Microsoft.Insights resource provider for
// Application Insights components, the telemetry resource an Azure ML
// workspace links, with their billing features. It serves no telemetry
// ingestion or query data plane. (The activity log, also under
// Microsoft.Insights, is package activitylog: a view over armlet's flow
// records, not a resource type.)
package insights

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
	"github.com/google/uuid"
)

// Resource types of the provider.
const (
	Namespace      = "Microsoft.Insights"
	TypeComponents = Namespace + "/components"
	// typeWorkspaces is the Log Analytics workspace a workspace-based
	// component stores its telemetry in.
	typeWorkspaces = "Microsoft.OperationalInsights/workspaces"
)

// APIVersions are the component api-versions armlet accepts, newest first:
// 2020-02-02 is what Terraform's azurerm and armapplicationinsights send
// for components, 2015-05-01 what both send for the billing features.
var APIVersions = []string{"2020-02-02", "2020-02-02-preview", "2018-05-01-preview", "2015-05-01"}

// Options configures the provider.
type Options struct{}

// Register adds the component type and the route of its billing features.
func Register(e *engine.Engine, _ Options) {
	e.Registry().Register(&engine.Type{
		Name: TypeComponents, APIVersions: APIVersions, Tracked: true,
		// Components_CreateOrUpdate lists 200 only, a create too.
		Put: engine.Sync, Delete: engine.Sync, CreatedStatus: http.StatusOK,
		Strategy: &componentStrategy{e: e},
	})
	e.AddRoute(&billingRoute{e: e})
}

var (
	applicationTypes = []string{"web", "other"}

	componentProperties = rpkit.Object("ApplicationInsightsComponentProperties", rpkit.Members{
		"Application_Type":                rpkit.Enum("ApplicationType", applicationTypes...),
		"Flow_Type":                       rpkit.Enum("FlowType", "Bluefield"),
		"Request_Source":                  rpkit.Enum("RequestSource", "rest"),
		"HockeyAppId":                     rpkit.String(),
		"SamplingPercentage":              rpkit.Number(),
		"RetentionInDays":                 rpkit.Int(),
		"DisableIpMasking":                rpkit.Bool(),
		"ImmediatePurgeDataOn30Days":      rpkit.Bool(),
		"WorkspaceResourceId":             rpkit.ID(typeWorkspaces),
		"publicNetworkAccessForIngestion": rpkit.Enum("PublicNetworkAccessType", "Enabled", "Disabled"),
		"publicNetworkAccessForQuery":     rpkit.Enum("PublicNetworkAccessType", "Enabled", "Disabled"),
		"IngestionMode":                   rpkit.Enum("IngestionMode", "ApplicationInsights", "ApplicationInsightsWithDiagnosticSettings", "LogAnalytics"),
		"DisableLocalAuth":                rpkit.Bool(),
		"ForceCustomerStorageForProfiler": rpkit.Bool(),

		"AppId":                      rpkit.Any().ReadOnly(),
		"ApplicationId":              rpkit.Any().ReadOnly(),
		"Name":                       rpkit.Any().ReadOnly(),
		"InstrumentationKey":         rpkit.Any().ReadOnly(),
		"CreationDate":               rpkit.Any().ReadOnly(),
		"TenantId":                   rpkit.Any().ReadOnly(),
		"HockeyAppToken":             rpkit.Any().ReadOnly(),
		"provisioningState":          rpkit.Any().ReadOnly(),
		"ConnectionString":           rpkit.Any().ReadOnly(),
		"PrivateLinkScopedResources": rpkit.Any().ReadOnly(),
		"LaMigrationDate":            rpkit.Any().ReadOnly(),
	}).Required("Application_Type")
)

// componentStrategy serves Microsoft.Insights/components: PUT 200 (a
// create too, as the spec lists), PATCH (tags), DELETE 200 or 204.
//
// kind ("web", "ios", "other", "store", "java", "phone": free-form in the
// spec) and properties.Application_Type (web or other) are required. A
// WorkspaceResourceId must name an existing Log Analytics workspace (400
// InvalidResourceReference otherwise); the component's IngestionMode is
// then LogAnalytics. A create gets an AppId and an InstrumentationKey
// (GUIDs, kept), ApplicationId and Name (its name), TenantId, CreationDate
// and a ConnectionString
// "InstrumentationKey={key};IngestionEndpoint=https://{location}-0.in.applicationinsights.azure.com/;LiveEndpoint=https://{location}.livediagnostics.monitor.azure.com/;ApplicationId={AppId}".
// An update keeps the properties it omits.
//
// Choice: TenantId is the subscription id, as Azure's components show it;
// RetentionInDays defaults to 90; the connection string's ingestion host
// number (Azure's vary by region) is 0.
type componentStrategy struct{ e *engine.Engine }

var (
	_ engine.Strategy        = (*componentStrategy)(nil)
	_ engine.Renderer        = (*componentStrategy)(nil)
	_ engine.AccessKeyHolder = (*componentStrategy)(nil)
)

// componentData is what a component keeps beside its body.
type componentData struct {
	AppID   string          `json:"appId"`
	Key     string          `json:"instrumentationKey"`
	Billing json.RawMessage `json:"billing,omitempty"`
}

const dataKey = "component"

func (s *componentStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if err := rpkit.CheckEnvelope(desired, "ApplicationInsightsComponent", "kind"); err != nil {
		return err
	}
	if desired.Kind == "" {
		if old == nil {
			return rpkit.MissingMember("", "kind")
		}
		desired.Kind = old.Kind
	}
	sent, err := componentProperties.CheckObject("properties", desired.Properties)
	if err != nil {
		return err
	}
	props := rpkit.Updated(old, map[string]any{
		"Flow_Type": "Bluefield", "Request_Source": "rest", "RetentionInDays": json.Number("90"),
		"DisableIpMasking": false, "DisableLocalAuth": false,
		"publicNetworkAccessForIngestion": "Enabled", "publicNetworkAccessForQuery": "Enabled",
	}, sent)
	if ws, ok := props["WorkspaceResourceId"].(string); ok {
		if err := s.checkWorkspace(ctx, ws); err != nil {
			return err
		}
		if _, set := sent["IngestionMode"]; !set {
			props["IngestionMode"] = "LogAnalytics"
		}
	} else if _, set := props["IngestionMode"]; !set {
		props["IngestionMode"] = "ApplicationInsights"
	}
	desired.Properties = props
	var data componentData
	if !desired.GetData(dataKey, &data) || data.AppID == "" {
		desired.SetData(dataKey, componentData{AppID: uuid.NewString(), Key: uuid.NewString()})
	}
	return nil
}

// checkWorkspace refuses a WorkspaceResourceId that names no workspace.
func (s *componentStrategy) checkWorkspace(ctx context.Context, id string) error {
	wid, err := rpkit.ParseID("properties.WorkspaceResourceId", id, typeWorkspaces)
	if err != nil {
		return err
	}
	if _, err := s.e.Get(ctx, wid); err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			return arm.BadRequest("InvalidResourceReference",
				"The Log Analytics workspace '%s' named in properties.WorkspaceResourceId does not exist.", id).WithTarget("properties.WorkspaceResourceId")
		}
		return err
	}
	return nil
}

// Render adds the generated members.
func (s *componentStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	var data componentData
	r.GetData(dataKey, &data)
	props := body["properties"].(map[string]any)
	props["AppId"] = data.AppID
	props["InstrumentationKey"] = data.Key
	props["ApplicationId"] = r.ID.Name()
	props["Name"] = r.ID.Name()
	props["TenantId"] = r.ID.SubscriptionID()
	props["CreationDate"] = r.SystemData.CreatedAt.UTC().Format("2006-01-02T15:04:05.0000000-07:00")
	props["ConnectionString"] = "InstrumentationKey=" + data.Key +
		";IngestionEndpoint=https://" + r.Location + "-0.in.applicationinsights.azure.com/" +
		";LiveEndpoint=https://" + r.Location + ".livediagnostics.monitor.azure.com/" +
		";ApplicationId=" + data.AppID
	return nil
}

// billingRoute serves a component's billing features,
// GET and PUT {component}/currentbillingfeatures (api-version 2015-05-01;
// Terraform's azurerm reads and sets them with every component), kept in
// the component's record. A PUT changes what it sends and answers the
// features (200).
//
// Choice: a component starts with the Basic plan, a daily cap of 100 GB
// with a warning at 90%, reset at hour 0, and notifications on.
type billingRoute struct{ e *engine.Engine }

var _ engine.Route = (*billingRoute)(nil)

var billingFeatures = rpkit.Object("ApplicationInsightsComponentBillingFeatures", rpkit.Members{
	"CurrentBillingFeatures": rpkit.ArrayOf(rpkit.String()),
	"DataVolumeCap": rpkit.Object("ApplicationInsightsComponentDataVolumeCap", rpkit.Members{
		"Cap":                                  rpkit.Number(),
		"ResetTime":                            rpkit.Int(),
		"WarningThreshold":                     rpkit.Int(),
		"StopSendNotificationWhenHitThreshold": rpkit.Bool(),
		"StopSendNotificationWhenHitCap":       rpkit.Bool(),
		"MaxHistoryCap":                        rpkit.Any().ReadOnly(),
	}),
})

func defaultBilling() map[string]any {
	return map[string]any{
		"CurrentBillingFeatures": []any{"Basic"},
		"DataVolumeCap": map[string]any{
			"Cap": json.Number("100"), "ResetTime": json.Number("0"), "WarningThreshold": json.Number("90"),
			"StopSendNotificationWhenHitThreshold": false, "StopSendNotificationWhenHitCap": false,
			"MaxHistoryCap": json.Number("1000"),
		},
	}
}

func (rt *billingRoute) ServeRoute(ctx context.Context, req *engine.Request, p resourceid.Path) (*engine.Response, bool, error) {
	if !strings.EqualFold(p.Tail, "currentbillingfeatures") || p.ID.IsRoot() || !strings.EqualFold(p.ID.ResourceType(), TypeComponents) {
		return nil, false, nil
	}
	if req.Method != http.MethodGet && req.Method != http.MethodPut {
		return nil, true, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
			"The requested resource does not support http method '%s' for type '%s'.", req.Method, TypeComponents+"/currentbillingfeatures")
	}
	if err := rt.e.CheckAPIVersion(req.APIVersion, TypeComponents); err != nil {
		return nil, true, err
	}
	r, err := rt.e.Get(ctx, p.ID)
	if err != nil {
		return nil, true, err
	}
	if req.Method == http.MethodGet {
		return engine.JSON(http.StatusOK, billingOf(r)), true, nil
	}
	sent, err := billingFeatures.CheckBody(req.Body)
	if err != nil {
		return nil, true, err
	}
	updated, err := rt.e.Update(ctx, p.ID, func(cur *engine.Resource) error {
		features := billingOf(cur)
		if list, ok := sent["CurrentBillingFeatures"]; ok {
			features["CurrentBillingFeatures"] = list
		}
		if sentCap, ok := sent["DataVolumeCap"].(map[string]any); ok {
			c := features["DataVolumeCap"].(map[string]any)
			for k, v := range sentCap {
				c[k] = v
			}
		}
		var data componentData
		cur.GetData(dataKey, &data)
		data.Billing, _ = json.Marshal(features)
		cur.SetData(dataKey, data)
		return nil
	})
	if err != nil {
		return nil, true, err
	}
	return engine.JSON(http.StatusOK, billingOf(updated)), true, nil
}

// billingOf returns r's billing features, the defaults when never set.
func billingOf(r *engine.Resource) map[string]any {
	var data componentData
	r.GetData(dataKey, &data)
	features := defaultBilling()
	if len(data.Billing) > 0 {
		_ = json.Unmarshal(data.Billing, &features)
	}
	return features
}

// AccessKeys is the component's instrumentation key: what an Azure ML
// workspace linked to the component hands out as its
// appInsightsInstrumentationKey.
func (s *componentStrategy) AccessKeys(r *engine.Resource) []string {
	var data componentData
	if !r.GetData(dataKey, &data) || data.Key == "" {
		return nil
	}
	return []string{data.Key}
}
