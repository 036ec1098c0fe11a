package storage

import (
	"context"
	"net/http"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
)

var nameCheckParameters = rpkit.Object("StorageAccountCheckNameAvailabilityParameters", rpkit.Members{
	"name": rpkit.String(),
	"type": rpkit.Enum("Type", TypeAccounts),
}).Required("name", "type")

// checkNameAvailability answers POST
// /subscriptions/{s}/providers/Microsoft.Storage/checkNameAvailability
// ({"name", "type": "Microsoft.Storage/storageAccounts"}) with Azure's
// CheckNameAvailabilityResult: reason AccountNameInvalid or AlreadyExists
// and the texts a PUT of that name would fail with.
func (p *provider) checkNameAvailability(ctx context.Context, _ *engine.Request, _ string, body map[string]any) (*engine.Response, error) {
	in, err := nameCheckParameters.CheckObject("", body)
	if err != nil {
		return nil, err
	}
	name := in["name"].(string)
	result := map[string]any{"nameAvailable": true}
	switch {
	case !accountName.MatchString(name):
		result = map[string]any{"nameAvailable": false, "reason": codeNameInvalid, "message": nameInvalidMessage(name)}
	default:
		taken, err := p.nameTakenBy(ctx, name)
		if err != nil {
			return nil, err
		}
		if taken != nil {
			result = map[string]any{"nameAvailable": false, "reason": "AlreadyExists", "message": nameTakenMessage(name)}
		}
	}
	return engine.JSON(http.StatusOK, result), nil
}
