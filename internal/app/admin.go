package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// admin serves /_armlet/ (except health) to the bootstrap principal:
//
//	GET  /_armlet/clock                 {"now", "offset"}
//	POST /_armlet/clock/advance         {"duration":"45m"} -> {"now", "offset"}
//	GET  /_armlet/principals            the service principals
//	POST /_armlet/principals            {"name":"x"} -> {"clientId","clientSecret","objectId","tenantId","name"}
//	GET  /_armlet/state?id=RESOURCE_ID  the resource, its internal state and derived state
//	                                    (a workspace's effective v1LegacyMode)
type admin struct {
	s              *Server
	bootstrapAppID string
}

func (a *admin) ServeAdmin(ctx context.Context, caller engine.Caller, r *http.Request, body []byte) (*engine.Response, error) {
	if !strings.EqualFold(caller.AppID, a.bootstrapAppID) {
		return nil, arm.Errorf(http.StatusForbidden, arm.CodeAuthorizationFailed,
			"The client '%s' with object id '%s' does not have authorization to use the armlet admin API '%s'; only the bootstrap principal (connection.json) does.",
			caller.AppID, caller.ObjectID, r.URL.Path)
	}
	route := r.Method + " " + strings.TrimSuffix(r.URL.Path, "/")
	switch route {
	case "GET /_armlet/clock":
		return a.clockBody(), nil
	case "POST /_armlet/clock/advance":
		var in struct {
			Duration string `json:"duration"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, arm.InvalidContent("duration", "The body must be {\"duration\": \"45m\"}: %v.", err)
		}
		d, err := time.ParseDuration(in.Duration)
		if err != nil || d < 0 {
			return nil, arm.InvalidContent("duration", "The duration '%s' is not a non-negative duration such as 90s, 45m or 2h.", in.Duration)
		}
		if _, err := a.s.AdvanceClock(ctx, d); err != nil {
			return nil, err
		}
		return a.clockBody(), nil
	case "GET /_armlet/principals":
		ps, err := a.s.identity.ListPrincipals(ctx)
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, map[string]any{"value": ps}), nil
	case "POST /_armlet/principals":
		var in struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, arm.InvalidContent("name", "The body must be {\"name\": \"...\"}: %v.", err)
		}
		creds, err := a.s.identity.CreatePrincipal(ctx, in.Name)
		if err != nil {
			if _, ok := arm.AsError(err); !ok && strings.Contains(err.Error(), "name") {
				return nil, arm.InvalidContent("name", "%v", err)
			}
			return nil, err
		}
		return engine.JSON(http.StatusCreated, creds), nil
	case "GET /_armlet/state":
		raw := r.URL.Query().Get("id")
		id, err := resourceid.Parse(raw)
		if err != nil || id.IsRoot() {
			return nil, arm.BadRequest("InvalidResourceId", "The query parameter 'id' must be a resource id: %q.", raw)
		}
		out, err := a.s.engine.Describe(ctx, id, r.URL.Query().Get("api-version"))
		if err != nil {
			return nil, err
		}
		return engine.JSON(http.StatusOK, out), nil
	}
	return nil, arm.NotFound("NotFound", "No admin endpoint for %s.", route)
}

func (a *admin) clockBody() *engine.Response {
	return engine.JSON(http.StatusOK, map[string]any{
		"now":    a.s.clock.Now(),
		"offset": a.s.clock.Offset().String(),
	})
}
