package rpkit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// NewKey returns n random bytes in standard base64: the form of the
// shared keys Azure hands out (a storage account key is 64 bytes, 88
// characters; a registry password 32 bytes).
func NewKey(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand panics rather than return short
	return base64.StdEncoding.EncodeToString(b)
}

// SubscriptionTenant returns the tenant of subscriptionID, as the
// subscription records it: the tenantId a resource of the subscription
// shows (a key vault's default, a managed identity's).
func SubscriptionTenant(ctx context.Context, e *engine.Engine, subscriptionID string) (string, error) {
	if subscriptionID == "" {
		return "", fmt.Errorf("rpkit: no subscription")
	}
	sub, err := e.Get(ctx, resourceid.Subscription(subscriptionID))
	if err != nil {
		return "", err
	}
	tid, _ := sub.Properties["tenantId"].(string)
	return tid, nil
}
