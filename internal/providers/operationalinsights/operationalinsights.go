// Package operationalinsights is armlet's Microsoft.OperationalInsights
// resource provider: Log Analytics workspaces, the store of a
// workspace-based Application Insights component. It serves no query or
// ingestion data plane.
package operationalinsights

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
	"github.com/google/uuid"
)

// Resource types of the provider.
const (
	Namespace             = "Microsoft.OperationalInsights"
	TypeWorkspaces        = Namespace + "/workspaces"
	TypeDeletedWorkspaces = Namespace + "/deletedWorkspaces"
)

// APIVersions are the workspace api-versions armlet accepts, newest first:
// 2025-07-01 is what Terraform's azurerm and armoperationalinsights v2
// send (azurerm reads the shared keys and deletes at 2020-08-01), and the
// stable versions before them.
var APIVersions = []string{
	"2025-07-01", "2025-02-01", "2023-09-01", "2022-10-01", "2021-06-01", "2020-10-01", "2020-08-01",
	"2020-03-01-preview", "2015-11-01-preview",
}

// Options configures the provider.
type Options struct{}

// Register adds the provider's resource types to e's registry.
func Register(e *engine.Engine, _ Options) {
	reg := e.Registry()
	reg.Register(&engine.Type{
		Name: TypeWorkspaces, APIVersions: APIVersions, Tracked: true,
		NamePattern: workspaceName,
		NameRule:    "A workspace name must be 4 to 63 letters, digits and hyphens, starting and ending with a letter or digit.",
		// Workspaces_CreateOrUpdate is long-running (200, 201, 202);
		// an update answers at once. Workspaces_Delete answers 200.
		Put: engine.AsyncOperation, SyncUpdate: true, Delete: engine.Sync, ETagInBody: true,
		Strategy: &workspaceStrategy{e: e},
	})
	reg.Register(&engine.Type{
		Name: TypeDeletedWorkspaces, APIVersions: APIVersions,
		Put: engine.Sync, Delete: engine.Sync, Strategy: deletedStrategy{},
	})
}

var workspaceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$`)

var (
	skuNames      = []string{"Free", "Standard", "Premium", "PerNode", "PerGB2018", "Standalone", "CapacityReservation", "LACluster"}
	identityTypes = rpkit.Enum("IdentityType", "None", "SystemAssigned", "UserAssigned")
	access        = rpkit.Enum("PublicNetworkAccessType", "Enabled", "Disabled", "SecuredByPerimeter")

	workspaceProperties = rpkit.Object("WorkspaceProperties", rpkit.Members{
		"sku": rpkit.Object("WorkspaceSku", rpkit.Members{
			"name":                     rpkit.Enum("WorkspaceSkuNameEnum", skuNames...),
			"capacityReservationLevel": rpkit.Int(),
			"lastSkuUpdate":            rpkit.Any().ReadOnly(),
		}).Required("name"),
		"retentionInDays": rpkit.Int(),
		"workspaceCapping": rpkit.Object("WorkspaceCapping", rpkit.Members{
			"dailyQuotaGb":        rpkit.Number(),
			"quotaNextResetTime":  rpkit.Any().ReadOnly(),
			"dataIngestionStatus": rpkit.Any().ReadOnly(),
		}),
		"publicNetworkAccessForIngestion": access,
		"publicNetworkAccessForQuery":     access,
		"forceCmkForQuery":                rpkit.Bool(),
		"features": rpkit.Object("WorkspaceFeatures", rpkit.Members{
			"enableDataExport":                            rpkit.Bool(),
			"immediatePurgeDataOn30Days":                  rpkit.Bool(),
			"enableLogAccessUsingOnlyResourcePermissions": rpkit.Bool(),
			"clusterResourceId":                           rpkit.String(),
			"disableLocalAuth":                            rpkit.Bool(),
			"unifiedSentinelBillingOnly":                  rpkit.Bool(),
			"associations":                                rpkit.Any().ReadOnly(),
		}).Open(),
		"defaultDataCollectionRuleResourceId": rpkit.ID("Microsoft.Insights/dataCollectionRules"),
		"replication":                         rpkit.Any(),
		"failover":                            rpkit.Any(),

		"customerId":                 rpkit.Any().ReadOnly(),
		"provisioningState":          rpkit.Any().ReadOnly(),
		"createdDate":                rpkit.Any().ReadOnly(),
		"modifiedDate":               rpkit.Any().ReadOnly(),
		"privateLinkScopedResources": rpkit.Any().ReadOnly(),
	})
)

// workspaceStrategy serves Microsoft.OperationalInsights/workspaces.
//
// A create gets a customerId (the workspace id agents and queries use),
// made once and kept, the sku PerGB2018 and 30 days of retention unless
// sent, no daily cap (dailyQuotaGb -1) and resource-context access.
// retentionInDays is 30 to 730 (7 on the Free sku, which cannot change
// it). An update keeps the properties it omits. POST sharedKeys answers
// the two workspace keys (made at creation), regenerateSharedKey replaces
// them.
//
// Choice: soft delete is not modelled: a DELETE (with or without
// force=true) removes the workspace for good, and the deletedWorkspaces
// lists, which Terraform's azurerm reads before a create, are empty.
type workspaceStrategy struct{ e *engine.Engine }

var (
	_ engine.Strategy = (*workspaceStrategy)(nil)
	_ engine.Renderer = (*workspaceStrategy)(nil)
	_ engine.Actioner = (*workspaceStrategy)(nil)
)

// workspaceData is what a workspace keeps beside its body.
type workspaceData struct {
	CustomerID string    `json:"customerId"`
	Primary    string    `json:"primarySharedKey"`
	Secondary  string    `json:"secondarySharedKey"`
	Sku        string    `json:"sku"`
	SkuUpdated time.Time `json:"skuUpdated"`
}

const dataKey = "workspace"

func badRequest(target, format string, args ...any) *arm.Error {
	return arm.BadRequest(arm.CodeBadRequest, format, args...).WithTarget(target)
}

func (s *workspaceStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if err := rpkit.CheckEnvelope(desired, "Workspace", "identity"); err != nil {
		return err
	}
	sent, err := workspaceProperties.CheckObject("properties", desired.Properties)
	if err != nil {
		return err
	}
	props := rpkit.Updated(old, map[string]any{
		"sku":                             map[string]any{"name": "PerGB2018"},
		"retentionInDays":                 json.Number("30"),
		"workspaceCapping":                map[string]any{"dailyQuotaGb": json.Number("-1")},
		"publicNetworkAccessForIngestion": "Enabled",
		"publicNetworkAccessForQuery":     "Enabled",
		"features":                        map[string]any{"legacy": json.Number("0"), "searchVersion": json.Number("1"), "enableLogAccessUsingOnlyResourcePermissions": true},
	}, sent)
	if err := checkRetention(props, sent); err != nil {
		return err
	}
	if err := rpkit.CompleteIdentity(ctx, s.e, req, desired, identityTypes); err != nil {
		return err
	}
	desired.Properties = props
	var data workspaceData
	if !desired.GetData(dataKey, &data) || data.CustomerID == "" {
		data = workspaceData{CustomerID: uuid.NewString(), Primary: rpkit.NewKey(64), Secondary: rpkit.NewKey(64)}
	}
	if sku := props["sku"].(map[string]any)["name"]; data.Sku != sku {
		data.Sku, data.SkuUpdated = sku.(string), req.Now
	}
	desired.SetData(dataKey, data)
	return nil
}

// checkRetention checks the retention the sku allows; sent is what the
// request itself gave.
func checkRetention(props, sent map[string]any) error {
	name, _ := props["sku"].(map[string]any)["name"].(string)
	days, _ := props["retentionInDays"].(json.Number)
	n, _ := days.Int64()
	_, setNow := sent["retentionInDays"]
	switch {
	case name == "Free" && setNow && n != 7 && n != 30:
		return badRequest("properties.retentionInDays", "A workspace on the Free sku keeps data for 7 days; retentionInDays cannot be %d.", n)
	case name == "Free":
		props["retentionInDays"] = json.Number("7")
	case n == 7 && !setNow: // leaving the Free sku
		props["retentionInDays"] = json.Number("30")
	case n < 30 || n > 730:
		return badRequest("properties.retentionInDays", "The property 'retentionInDays' must be between 30 and 730; it is %d.", n)
	}
	return nil
}

// Render adds what Azure makes: the customerId, the dates (creation and
// last change from systemData, the sku's from when it was chosen) and the
// ingestion status.
func (s *workspaceStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	var data workspaceData
	r.GetData(dataKey, &data)
	props := body["properties"].(map[string]any)
	props["customerId"] = data.CustomerID
	props["createdDate"] = r.SystemData.CreatedAt.UTC().Format(time.RFC3339Nano)
	props["modifiedDate"] = r.SystemData.LastModifiedAt.UTC().Format(time.RFC3339Nano)
	if sku, ok := props["sku"].(map[string]any); ok {
		sku["lastSkuUpdate"] = data.SkuUpdated.UTC().Format(time.RFC3339Nano)
	}
	if capping, ok := props["workspaceCapping"].(map[string]any); ok {
		capping["dataIngestionStatus"] = "RespectQuota"
	}
	return nil
}

// Action serves sharedKeys and regenerateSharedKey (200, the keys).
func (s *workspaceStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	var data workspaceData
	switch strings.ToLower(name) {
	case "sharedkeys":
		r.GetData(dataKey, &data)
	case "regeneratesharedkey":
		updated, err := s.e.Update(ctx, r.ID, func(cur *engine.Resource) error {
			cur.GetData(dataKey, &data)
			data.Primary, data.Secondary = rpkit.NewKey(64), rpkit.NewKey(64)
			cur.SetData(dataKey, data)
			return nil
		})
		if err != nil {
			return nil, err
		}
		updated.GetData(dataKey, &data)
	default:
		return nil, engine.UnknownAction(TypeWorkspaces, name)
	}
	return engine.JSON(http.StatusOK, map[string]any{"primarySharedKey": data.Primary, "secondarySharedKey": data.Secondary}), nil
}

// deletedStrategy serves the deletedWorkspaces lists, which are always
// empty (see workspaceStrategy); nothing can be written there (405).
type deletedStrategy struct{}

func (deletedStrategy) Validate(_ context.Context, req *engine.Request, _, _ *engine.Resource) error {
	return arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
		"The requested resource does not support http method '%s' for type '%s'.", req.Method, TypeDeletedWorkspaces)
}
