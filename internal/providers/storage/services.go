package storage

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
)

// service is one of an account's four services, each a single resource
// named "default".
type service struct {
	typ     string
	segment string // blobServices, ...
	// schema is its properties: the members of the spec's
	// *ServicePropertiesProperties, each kept as sent.
	schema *rpkit.Schema
	// defaults are the properties Azure shows for what was never set.
	defaults func() map[string]any
}

var defaultName = regexp.MustCompile(`^default$`)

func corsDefault() map[string]any { return map[string]any{"corsRules": []any{}} }

// services: Choice: Azure does not publish the defaults of a new account's
// services; armlet shows no CORS rules and soft delete off.
var services = []service{
	{
		typ: TypeBlobServices, segment: "blobServices",
		schema: anyMembers("BlobServicePropertiesProperties", "automaticSnapshotPolicyEnabled", "changeFeed",
			"containerDeleteRetentionPolicy", "cors", "defaultServiceVersion", "deleteRetentionPolicy",
			"isVersioningEnabled", "lastAccessTimeTrackingPolicy", "restorePolicy", "staticWebsite"),
		defaults: func() map[string]any {
			return map[string]any{
				"cors":                  corsDefault(),
				"deleteRetentionPolicy": map[string]any{"allowPermanentDelete": false, "enabled": false},
			}
		},
	},
	{
		typ: TypeFileServices, segment: "fileServices",
		schema: anyMembers("FileServicePropertiesProperties", "cors", "protocolSettings", "shareDeleteRetentionPolicy"),
		defaults: func() map[string]any {
			return map[string]any{
				"cors":                       corsDefault(),
				"protocolSettings":           map[string]any{"smb": map[string]any{}},
				"shareDeleteRetentionPolicy": map[string]any{"enabled": true, "days": json.Number("7")},
			}
		},
	},
	{
		typ: TypeQueueServices, segment: "queueServices",
		schema:   anyMembers("QueueServicePropertiesProperties", "cors"),
		defaults: func() map[string]any { return map[string]any{"cors": corsDefault()} },
	},
	{
		typ: TypeTableServices, segment: "tableServices",
		schema:   anyMembers("TableServicePropertiesProperties", "cors"),
		defaults: func() map[string]any { return map[string]any{"cors": corsDefault()} },
	},
}

// anyMembers is an object schema whose members are names, each any JSON.
func anyMembers(typeName string, names ...string) *rpkit.Schema {
	m := make(rpkit.Members, len(names)+1)
	for _, n := range names {
		m[n] = rpkit.Any()
	}
	m["provisioningState"] = rpkit.Any().ReadOnly() // armlet's own exports carry it
	return rpkit.Object(typeName, m)
}

// serviceStrategy serves one service type. A PUT (Set*ServiceProperties)
// changes the properties it sends and keeps the others, as the services'
// own Set Service Properties calls do; a service cannot be deleted (405).
type serviceStrategy struct {
	*provider
	svc service
}

var (
	_ engine.Strategy        = (*serviceStrategy)(nil)
	_ engine.Renderer        = (*serviceStrategy)(nil)
	_ engine.DeleteValidator = (*serviceStrategy)(nil)
)

func (s *serviceStrategy) Validate(_ context.Context, _ *engine.Request, desired, old *engine.Resource) error {
	// sku is read-only here, shown from the account.
	if err := rpkit.CheckEnvelope(desired, "ServiceProperties", "sku"); err != nil {
		return err
	}
	delete(desired.Extra, "sku")
	props, err := s.svc.schema.CheckObject("properties", desired.Properties)
	if err != nil {
		return err
	}
	desired.Properties = rpkit.Updated(old, s.svc.defaults(), props)
	return nil
}

// Render shows the account's sku on the service, as Azure does, and no
// provisioningState (a service has none).
func (s *serviceStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	delete(body["properties"].(map[string]any), "provisioningState")
	account, err := s.e.Get(ctx, r.ID.Parent())
	if errors.Is(err, engine.ErrNotFound) {
		return nil // deleted meanwhile: the service goes with it
	}
	if err != nil {
		return err
	}
	if sku, ok := account.Extra["sku"]; ok {
		body["sku"] = sku
	}
	return nil
}

// ValidateDelete refuses to delete a service: Azure has no such call.
func (s *serviceStrategy) ValidateDelete(context.Context, *engine.Request, *engine.Resource) error {
	return arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
		"The requested resource does not support http method 'DELETE' for type '%s'.", s.svc.typ)
}

// ensureServices makes the services of account that are missing.
func (p *provider) ensureServices(ctx context.Context, account *engine.Resource, caller engine.Caller) error {
	for _, svc := range services {
		id := account.ID.Child(svc.segment, "default")
		if _, err := p.e.ImportWith(ctx, id, map[string]any{}, APIVersions[0], caller, nil); err != nil {
			return err
		}
	}
	return nil
}
