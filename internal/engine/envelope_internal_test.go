package engine

import "testing"

// TestEnvelopeShapesCover checks that every envelope member the engine
// keeps, other than location, tags and properties, has a shape: fromBody
// checks them all with checkShape.
func TestEnvelopeShapesCover(t *testing.T) {
	for k, keep := range envelopeMembers {
		switch {
		case !keep || k == "location" || k == "tags" || k == "properties":
		case envelopeShapes[k] == nil:
			t.Errorf("envelope member %q has no shape", k)
		}
	}
}
