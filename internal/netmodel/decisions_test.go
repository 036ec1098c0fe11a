package netmodel

import (
	"context"
	"testing"
)

// TestDecisionsCollect: decisions reach the request's collector, and
// recording without one is a no-op.
func TestDecisionsCollect(t *testing.T) {
	RecordDecision(context.Background(), Decision{Kind: "rbac", Outcome: "allowed"}) // no collector: nothing happens
	ctx, d := WithDecisions(context.Background())
	RecordDecision(ctx, Decision{Kind: "rbac", Outcome: "allowed", Reason: "Owner at /subscriptions/s"})
	RecordDecision(ctx, Decision{Kind: "policy", Outcome: "denied"})
	got := d.List()
	if len(got) != 2 || got[0].Reason != "Owner at /subscriptions/s" || got[1].Kind != "policy" {
		t.Fatalf("decisions = %+v", got)
	}
	if f := FlowOf(Observation{Method: "GET", Path: "/subscriptions/s", Decisions: got}); len(f.Decisions) != 2 {
		t.Errorf("flow decisions = %+v", f.Decisions)
	}
}
