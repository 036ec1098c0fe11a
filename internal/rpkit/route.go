package rpkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// SubscriptionAction is an engine.Route for a provider's POST at a
// subscription that names no resource, such as
// /subscriptions/{s}/providers/Microsoft.Storage/checkNameAvailability:
// the path parses as the subscription with the tail
// "Microsoft.Storage/checkNameAvailability", which no stored type serves.
type SubscriptionAction struct {
	Engine *engine.Engine
	// Action is the tail it answers, "{namespace}/{action}", matched
	// ignoring case.
	Action string
	// Type is the resource type whose api-versions the action accepts.
	Type string
	// Serve answers the POST for the subscription sub, with the request
	// body decoded (numbers as json.Number; nil when there is none).
	Serve func(ctx context.Context, req *engine.Request, sub string, body map[string]any) (*engine.Response, error)
}

var _ engine.Route = (*SubscriptionAction)(nil)

// ServeRoute answers the action: 405 for another method than POST, the
// type's api-version errors, 404 SubscriptionNotFound for a subscription
// armlet does not have, 400 InvalidRequestContent for a body that is not
// a JSON object.
func (a *SubscriptionAction) ServeRoute(ctx context.Context, req *engine.Request, p resourceid.Path) (*engine.Response, bool, error) {
	if p.ID.Len() != 1 || !strings.EqualFold(p.ID.Last().Type, resourceid.TypeSubscriptions) || !strings.EqualFold(p.Tail, a.Action) {
		return nil, false, nil
	}
	if req.Method != http.MethodPost {
		return nil, true, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
			"The requested resource does not support http method '%s' for type '%s'.", req.Method, a.Action)
	}
	if err := a.Engine.CheckAPIVersion(req.APIVersion, a.Type); err != nil {
		return nil, true, err
	}
	sub := p.ID.Name()
	if _, err := a.Engine.Get(ctx, p.ID); err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			err = arm.NotFound(arm.CodeSubscriptionNotFound, "The subscription '%s' could not be found.", sub).Wrap(err)
		}
		return nil, true, err
	}
	body, err := DecodeBody(req.Body)
	if err != nil {
		return nil, true, err
	}
	resp, err := a.Serve(ctx, req, sub, body)
	return resp, true, err
}

// DecodeBody decodes a request body that must be a JSON object or empty
// (nil), keeping numbers exact, for the actions a provider answers itself.
func DecodeBody(b []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || dec.More() {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: the body must be one JSON object.")
	}
	return m, nil
}
