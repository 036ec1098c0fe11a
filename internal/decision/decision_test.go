package decision

import (
	"context"
	"testing"
)

// TestDecisionsCollect: decisions reach the request's collector, and
// recording without one is a no-op.
func TestDecisionsCollect(t *testing.T) {
	Record(context.Background(), Decision{Kind: "rbac", Outcome: "allowed"}) // no collector: nothing happens
	ctx, d := With(context.Background())
	Record(ctx, Decision{Kind: "rbac", Outcome: "allowed", Reason: "Owner at /subscriptions/s"})
	Record(ctx, Decision{Kind: "policy", Outcome: "denied"})
	got := d.List()
	if len(got) != 2 || got[0].Reason != "Owner at /subscriptions/s" || got[1].Kind != "policy" {
		t.Fatalf("decisions = %+v", got)
	}
}
