package rpkit

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/google/uuid"
)

// TypeUserAssignedIdentities is the type every user-assigned identity a
// resource names must have.
const TypeUserAssignedIdentities = "Microsoft.ManagedIdentity/userAssignedIdentities"

// identityKey is where CompleteIdentity keeps the ids it made, in the
// resource's Internal.Data, so that they survive updates.
const identityKey = "identity"

// madeIDs are the ids CompleteIdentity made for a resource.
type madeIDs struct {
	// PrincipalID is the system-assigned identity's object id.
	PrincipalID string `json:"principalId,omitempty"`
	// User are the ids of user-assigned identities that were not found,
	// by lower-cased identity ID.
	User map[string]userIDs `json:"user,omitempty"`
}

type userIDs struct {
	PrincipalID string `json:"principalId"`
	ClientID    string `json:"clientId"`
}

// CompleteIdentity checks r's managed identity (the envelope member
// identity, which the engine has checked against ARM's
// ManagedServiceIdentity) against types, the identity types the resource
// type accepts in its provider's casing ("SystemAssigned",
// "SystemAssigned,UserAssigned", ...), and fills in what Azure makes: a
// system-assigned identity's principalId (made once and kept) and
// tenantId (the subscription's), each user-assigned identity's
// principalId and clientId. Those of an identity that exists are its own
// (Microsoft.ManagedIdentity/userAssignedIdentities properties);
// Choice: one that does not exist gets ids made once and kept, rather
// than a refusal, so that a configuration whose identities armlet does
// not hold still deploys.
//
// An import (req.Importing()) keeps the GUIDs its body gives for these
// ids, so that a resource reads as it was exported whatever the order its
// identities are imported in.
//
// A type without "UserAssigned" must name no user-assigned identities,
// and one with it must name at least one (400 InvalidRequestContent
// naming identity); "None" drops the member.
func CompleteIdentity(ctx context.Context, e *engine.Engine, req *engine.Request, r *engine.Resource, types *Schema) error {
	raw, ok := r.Extra["identity"]
	if !ok {
		return nil
	}
	var in struct {
		Type        string             `json:"type"`
		PrincipalID string             `json:"principalId"`
		User        map[string]userIDs `json:"userAssignedIdentities"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return arm.InvalidContent("identity", "The value of 'identity' must be a ManagedServiceIdentity object.")
	}
	if in.Type == "" {
		return MissingMember("identity", "type")
	}
	t, err := types.Check("identity.type", in.Type)
	if err != nil {
		return err
	}
	typ := t.(string)
	if typ == "None" {
		delete(r.Extra, "identity")
		return nil
	}
	var made madeIDs
	r.GetData(identityKey, &made)
	importing := req.Importing()
	if importing && uuid.Validate(in.PrincipalID) == nil {
		made.PrincipalID = in.PrincipalID
	}
	out := map[string]any{"type": typ}
	if strings.Contains(typ, "SystemAssigned") {
		if made.PrincipalID == "" {
			made.PrincipalID = uuid.NewString()
		}
		tid, err := SubscriptionTenant(ctx, e, r.ID.SubscriptionID())
		if err != nil {
			return err
		}
		out["principalId"], out["tenantId"] = made.PrincipalID, tid
	} else {
		made.PrincipalID = ""
	}
	wantUser := strings.Contains(typ, "UserAssigned")
	switch {
	case wantUser && len(in.User) == 0:
		return arm.InvalidContent("identity.userAssignedIdentities",
			"The identity type '%s' needs at least one user-assigned identity in 'identity.userAssignedIdentities'.", typ)
	case !wantUser && len(in.User) > 0:
		return arm.InvalidContent("identity.userAssignedIdentities",
			"The identity type '%s' takes no user-assigned identities; use a type with UserAssigned.", typ)
	}
	if wantUser {
		user, err := userIdentities(ctx, e, in.User, &made, importing)
		if err != nil {
			return err
		}
		out["userAssignedIdentities"] = user
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	r.Extra["identity"] = b
	r.SetData(identityKey, made)
	return nil
}

// userIdentities returns the userAssignedIdentities member for the
// identities named in user, with their ids.
func userIdentities(ctx context.Context, e *engine.Engine, user map[string]userIDs, made *madeIDs, importing bool) (map[string]any, error) {
	kept := made.User
	made.User = nil
	out := make(map[string]any, len(user))
	for k, given := range user {
		id, err := ParseID("identity.userAssignedIdentities", k, TypeUserAssignedIdentities)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(id.String())
		ids := kept[key] // made for an identity armlet did not hold
		if importing && uuid.Validate(given.PrincipalID) == nil && uuid.Validate(given.ClientID) == nil {
			ids = given
		}
		r, err := e.Get(ctx, id)
		switch {
		case err == nil:
			ids.PrincipalID, _ = r.Properties["principalId"].(string)
			ids.ClientID, _ = r.Properties["clientId"].(string)
		case !errors.Is(err, engine.ErrNotFound):
			return nil, err
		default: // not held: keep what was made or imported, else make them
			if ids.PrincipalID == "" {
				ids = userIDs{PrincipalID: uuid.NewString(), ClientID: uuid.NewString()}
			}
			if made.User == nil {
				made.User = map[string]userIDs{}
			}
			made.User[key] = ids
		}
		out[k] = map[string]any{"principalId": ids.PrincipalID, "clientId": ids.ClientID}
	}
	return out, nil
}
