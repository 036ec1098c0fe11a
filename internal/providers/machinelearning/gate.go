package machinelearning

import (
	"context"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// Rule L5 (docs/design.md section 1.6): while a workspace's effective
// v1LegacyMode is true, ARM refuses every request (read, write, action,
// list) to its v2 child resources with 400 UserError. The workspace keeps
// serving, through ARM, itself and the children the v1 platform already
// managed through ARM or that are part of the workspace's own
// configuration.
//
// Choice: outboundRules (a view of properties.managedNetwork, served by
// the workspace resource provider), features and
// outboundNetworkDependenciesEndpoints count as the workspace itself and
// are not gated; everything else below a workspace is.
var legacyExempt = map[string]bool{
	"computes":                             true,
	"privateendpointconnections":           true,
	"privatelinkresources":                 true,
	"outboundrules":                        true,
	"features":                             true,
	"outboundnetworkdependenciesendpoints": true,
}

// IsV2Child reports whether child, a type segment below a workspace
// ("onlineEndpoints"), is one of the v2 child resources rule L5 gates:
// those the v1 platform served on the workspace endpoint, not through ARM.
func IsV2Child(child string) bool { return !legacyExempt[strings.ToLower(child)] }

// GateChild refuses the v2 child resources of a workspace in effective v1
// legacy mode (rule L5).
func (s *workspaceStrategy) GateChild(_ context.Context, req *engine.Request, ws *engine.Resource, childType string) error {
	child := strings.ToLower(childType[strings.LastIndexByte(childType, '/')+1:])
	if legacyExempt[child] {
		return nil
	}
	effective, until := EffectiveLegacyMode(ws, req.Now)
	if !effective {
		return nil
	}
	return legacyModeError(ws.ID.Name(), childType, until)
}

// legacyModeError is the L5 refusal.
//
// Choice: Azure publishes no text for this refusal; armlet's message names
// v1LegacyMode, the workspace and the refused resource type, says how to
// turn the v2 API on, and, while a change to false propagates, when it is
// expected to take effect (RFC 3339, UTC).
func legacyModeError(workspace, childType string, until time.Time) *arm.Error {
	msg := "The v2 API is disabled for workspace '" + workspace + "' because its v1LegacyMode is true, so '" + childType +
		"' cannot be used through Azure Resource Manager. "
	if until.IsZero() {
		msg += "Set the workspace property v1LegacyMode to false to enable the v2 API (it takes effect after a propagation delay, 30 to 60 minutes in Azure), " +
			"or use the v1 API through the workspace's own endpoint."
	} else {
		msg += "v1LegacyMode was changed to false and the change is still propagating; it is expected to take effect by " +
			until.UTC().Format(time.RFC3339) + "."
	}
	return arm.BadRequest(arm.CodeUserError, "%s", msg).WithTarget("v1LegacyMode")
}

var _ engine.ChildGate = (*workspaceStrategy)(nil)
