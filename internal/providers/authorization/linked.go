package authorization

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/engine"
)

// admitLinked is ARM's linked access check, an admission step of every
// client PUT and PATCH of a type whose strategy links other resources
// (engine.LinkedAccessor): the caller must hold each linked action at its
// linked scope, or the write is refused with 403 LinkedAuthorizationFailed
// naming every missing action and scope, in Azure's words. Without it a
// caller with a role on a workspace alone could link another team's
// storage account and read its key through the workspace.
//
// In audit mode (--rbac audit) a missing permission is recorded and the
// write goes on, as for the request's own action.
func (r *RBAC) admitLinked(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	t, ok := r.e.Registry().Lookup(desired.Type)
	if !ok {
		return nil
	}
	la, ok := t.Strategy.(engine.LinkedAccessor)
	if !ok {
		return nil
	}
	var actions, scopes []string
	for _, c := range la.LinkedAccess(desired, old) {
		d, err := r.Authorize(ctx, req.Caller.ObjectID, c.Action, c.Scope, false)
		if err != nil {
			return err
		}
		outcome := "allowed"
		reason := fmt.Sprintf("Linked access check: role assignment '%s' gives principal '%s' action '%s' at the linked scope.",
			d.Assignment.ID, req.Caller.ObjectID, c.Action)
		if !d.Allowed {
			outcome = "denied"
			if r.mode == ModeAudit {
				outcome = "audited"
			}
			reason = fmt.Sprintf("Linked access check: no role assignment of principal '%s' at the linked scope or above grants action '%s'.",
				req.Caller.ObjectID, c.Action)
			actions, scopes = append(actions, c.Action), append(scopes, c.Scope.String())
		}
		decision.Record(ctx, decision.Decision{Kind: "rbac", Outcome: outcome, Action: c.Action, Scope: c.Scope.String(), Reason: reason})
	}
	if len(actions) == 0 || r.mode == ModeAudit {
		return nil
	}
	client := req.Caller.AppID
	if client == "" {
		client = req.Caller.ObjectID
	}
	return arm.Errorf(http.StatusForbidden, "LinkedAuthorizationFailed",
		"The client '%s' with object id '%s' has permission to perform action '%s/write' on scope '%s'; however, it does not have permission to perform action(s) '%s' on the linked scope(s) '%s' (respectively) or the linked scope(s) are invalid.",
		client, req.Caller.ObjectID, desired.Type, desired.ID, strings.Join(actions, ","), strings.Join(scopes, ","))
}
