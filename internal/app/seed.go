package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// Seed is the seed file (--seed): resources that already exist when armlet
// starts, as if created before. It is applied at every start; resources
// that exist already are left alone, so restarting with the same file is
// harmless.
//
//	{
//	  "subscriptions": [{"subscriptionId": "...", "displayName": "..."}],
//	  "resources": [
//	    {"id": "/subscriptions/.../resourceGroups/rg", "location": "eastus"},
//	    {"id": ".../workspaces/ws", "apiVersion": "2021-07-01", "location": "eastus", "properties": {...}}
//	  ]
//	}
//
// A resource is written the way a GET shows it: the members besides "id"
// and "apiVersion" form the body. apiVersion defaults to the type's newest.
// Parents are imported before their children whatever the order in the
// file.
type Seed struct {
	Subscriptions []struct {
		SubscriptionID string `json:"subscriptionId"`
		DisplayName    string `json:"displayName"`
	} `json:"subscriptions"`
	Resources []map[string]any `json:"resources"`
}

func loadSeed(ctx context.Context, e *engine.Engine, path, tenantID string, caller engine.Caller) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("seed file: %w", err)
	}
	var seed Seed
	if err := json.Unmarshal(raw, &seed); err != nil {
		return fmt.Errorf("seed file %s: %w", path, err)
	}
	for _, sub := range seed.Subscriptions {
		if sub.SubscriptionID == "" {
			return fmt.Errorf("seed file %s: a subscription without subscriptionId", path)
		}
		name := sub.DisplayName
		if name == "" {
			name = sub.SubscriptionID
		}
		if err := e.EnsureSubscription(ctx, sub.SubscriptionID, tenantID, name); err != nil {
			return err
		}
	}
	type item struct {
		id   resourceid.ID
		body map[string]any
		ver  string
	}
	items := make([]item, 0, len(seed.Resources))
	for i, res := range seed.Resources {
		rawID, _ := res["id"].(string)
		id, err := resourceid.Parse(rawID)
		if err != nil || id.IsRoot() {
			return fmt.Errorf("seed file %s: resource %d: bad id %q", path, i, rawID)
		}
		ver, _ := res["apiVersion"].(string)
		if ver == "" {
			t, ok := e.Registry().Lookup(id.ResourceType())
			if !ok {
				return fmt.Errorf("seed file %s: resource %s: armlet does not serve type %s", path, id, id.ResourceType())
			}
			ver = t.APIVersions[0]
		}
		body := map[string]any{}
		for k, v := range res {
			if k != "id" && k != "apiVersion" && k != "name" && k != "type" {
				body[k] = v
			}
		}
		items = append(items, item{id, body, ver})
	}
	slices.SortStableFunc(items, func(a, b item) int { return a.id.Len() - b.id.Len() })
	for _, it := range items {
		if _, err := e.Import(ctx, it.id, it.body, it.ver, caller); err != nil {
			if ae, ok := arm.AsError(err); ok {
				return fmt.Errorf("seed file %s: resource %s: %s: %s", path, it.id, ae.Code, ae.Message)
			}
			return fmt.Errorf("seed file %s: resource %s: %w", path, it.id, err)
		}
	}
	return nil
}
