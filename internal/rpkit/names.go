package rpkit

import (
	"context"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/engine"
)

// NameAvailability answers a provider's
// POST /subscriptions/{s}/providers/{namespace}/checkNameAvailability for
// the globally named type Type: the body {"name", "type": Type} (400
// InvalidRequestContent otherwise) gets Azure's CheckNameAvailabilityResult,
// {"nameAvailable": true}, or false with reason and message.
type NameAvailability struct {
	// Type is the full type whose names are checked; its namespace names
	// the route and its api-versions apply.
	Type string
	// Invalid returns the message for a name the type's rule refuses, ""
	// for a valid one.
	Invalid func(name string) string
	// Taken returns the message for a name a resource of the type holds
	// (in any subscription), "" for a free one.
	Taken func(ctx context.Context, name string) (string, error)
	// InvalidReason is the reason given with Invalid's message:
	// "AccountNameInvalid" unless set (Storage and Key Vault say so).
	InvalidReason string
}

// Route returns the engine route that serves n.
func (n NameAvailability) Route(e *engine.Engine) *SubscriptionAction {
	params := Object("CheckNameAvailabilityParameters", Members{
		"name": String(),
		"type": Enum("Type", n.Type),
	}).Required("name", "type")
	ns, _, _ := strings.Cut(n.Type, "/")
	return &SubscriptionAction{
		Engine: e, Action: ns + "/checkNameAvailability", Type: n.Type,
		Serve: func(ctx context.Context, _ *engine.Request, _ string, body map[string]any) (*engine.Response, error) {
			in, err := params.CheckObject("", body)
			if err != nil {
				return nil, err
			}
			name := in["name"].(string)
			reason, msg := n.InvalidReason, n.Invalid(name)
			if reason == "" {
				reason = "AccountNameInvalid"
			}
			if msg == "" {
				reason = "AlreadyExists"
				if msg, err = n.Taken(ctx, name); err != nil {
					return nil, err
				}
			}
			if msg == "" {
				return engine.JSON(http.StatusOK, map[string]any{"nameAvailable": true}), nil
			}
			return engine.JSON(http.StatusOK, map[string]any{"nameAvailable": false, "reason": reason, "message": msg}), nil
		},
	}
}
