package machinelearning

import (
	"context"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/engine"
)

// Marketplace subscriptions (Microsoft.MachineLearningServices/workspaces/
// marketplaceSubscriptions): a workspace's subscription to a partner
// model's Azure Marketplace offer, which its serverless endpoints of that
// model use. A proxy resource (no location or tags), long-running as the
// v4 client documents: PUT 201/200 with Azure-AsyncOperation (the final
// state read from the original URI), DELETE 202 with Location; no PATCH
// in the REST spec (the engine's merge PATCH is not refused). A v2 child
// resource: rule L5 refuses it in a workspace in v1 legacy mode.
//
// A PUT needs properties.modelId; marketplacePlan,
// marketplaceSubscriptionStatus and provisioningState are read-only.
//
// Choice: armlet reaches no marketplace. The status is Subscribed; the
// plan is derived from the modelId: for
// azureml://registries/{registry}/models/{model}[/versions/{v}],
// publisherId is the registry without its "azureml-" prefix, offerId the
// model name and planId the version (or "latest"), all lower case; for
// any other modelId, publisherId "azureml", offerId the modelId's last
// path segment and planId "latest". modelId cannot change (400
// PropertyChangeNotAllowed); a subscription may be deleted while
// serverless endpoints of its model exist (they then show no
// marketplaceSubscriptionId).
const TypeMarketplaceSubscriptions = TypeWorkspaces + "/marketplaceSubscriptions"

type marketplaceStrategy struct {
	shapes *shapes
}

var (
	_ engine.Strategy = (*marketplaceStrategy)(nil)
	_ engine.Renderer = (*marketplaceStrategy)(nil)
)

var marketplaceSubscriptionProperties = object("MarketplaceSubscriptionProperties", map[string]*field{
	"modelId": str(),
	"marketplacePlan": object("MarketplacePlan", map[string]*field{
		"offerId": str(), "planId": str(), "publisherId": str(),
	}).ro(),
	"marketplaceSubscriptionStatus": str().ro(),
	"provisioningState":             str().ro(),
}, "modelId")

func registerMarketplace(e *engine.Engine, _ Options) {
	e.Registry().Register(&engine.Type{
		Name:        TypeMarketplaceSubscriptions,
		APIVersions: apiVersionsOf(TypeMarketplaceSubscriptions, sinceServerless()),
		NamePattern: v2NamePattern,
		NameRule:    v2NameRule,
		Put:         engine.AsyncOperation,
		Delete:      engine.Location,
		Strategy:    &marketplaceStrategy{shapes: newShapes(TypeMarketplaceSubscriptions, marketplaceSubscriptionProperties)},
	})
}

// Validate checks a PUT of a marketplace subscription.
func (s *marketplaceStrategy) Validate(_ context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if err := checkSkuAndIdentity(desired, "MarketplaceSubscription"); err != nil {
		return err
	}
	if err := checkProperties(req, desired, old, s.shapes, "MarketplaceSubscriptionProperties"); err != nil {
		return err
	}
	if old != nil && !strings.EqualFold(serverlessModel(desired), serverlessModel(old)) {
		return propertyChangeNotAllowed("properties.modelId")
	}
	return nil
}

// marketplacePlan derives the plan of a modelId.
func marketplacePlan(modelID string) map[string]any {
	publisher, offer, plan := "azureml", modelID, "latest"
	if i := strings.LastIndexByte(modelID, '/'); i >= 0 {
		offer = modelID[i+1:]
	}
	const prefix = "azureml://registries/"
	if rest, ok := strings.CutPrefix(strings.ToLower(modelID), prefix); ok {
		parts := strings.Split(rest, "/")
		if len(parts) >= 3 && parts[1] == "models" {
			publisher, offer = strings.TrimPrefix(parts[0], "azureml-"), parts[2]
			if len(parts) >= 5 && parts[3] == "versions" {
				plan = parts[4]
			}
		}
	}
	return map[string]any{"publisherId": strings.ToLower(publisher), "offerId": strings.ToLower(offer), "planId": strings.ToLower(plan)}
}

// Render adds the plan and the status.
func (s *marketplaceStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, apiVersion string, _ time.Time) error {
	defer s.shapes.render(body, apiVersion)
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		return nil
	}
	props["marketplacePlan"] = marketplacePlan(serverlessModel(r))
	props["marketplaceSubscriptionStatus"] = "Subscribed"
	return nil
}
