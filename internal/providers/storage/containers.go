package storage

import (
	"context"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
)

// containerStrategy serves blob containers
// (Microsoft.Storage/storageAccounts/blobServices/containers): PUT 201 or
// 200 (BlobContainers_Create), PATCH 200, DELETE 200 (204 when missing).
//
// A name is 3 to 63 lower-case letters, digits and hyphens, starting and
// ending with a letter or digit, without two hyphens in a row (400
// InvalidResourceName). publicAccess other than None on an account whose
// allowBlobPublicAccess is false is 409 PublicAccessNotPermitted, the code
// Azure Storage gives.
type containerStrategy struct{ *provider }

var (
	_ engine.Strategy = (*containerStrategy)(nil)
	_ engine.Renderer = (*containerStrategy)(nil)
)

const codePublicAccessNotPermitted = "PublicAccessNotPermitted"

// ValidContainerName is Azure's rule for a container name: 3 to 63
// lower-case letters, digits and hyphens, starting and ending with a
// letter or digit, no two hyphens in a row. The blob data plane checks
// the same rule.
func ValidContainerName(n string) bool {
	if len(n) < 3 || len(n) > 63 || strings.Contains(n, "--") || n[0] == '-' || n[len(n)-1] == '-' {
		return false
	}
	for _, c := range n {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

func (s *containerStrategy) Validate(ctx context.Context, _ *engine.Request, desired, _ *engine.Resource) error {
	name := desired.ID.Name()
	if !ValidContainerName(name) {
		return arm.BadRequest(arm.CodeInvalidResourceName,
			"Resource name '%s' is invalid. A container name must be 3 to 63 lower-case letters, digits and hyphens, start and end with a letter or digit, and have no two hyphens in a row.", name).WithTarget("name")
	}
	if err := rpkit.CheckEnvelope(desired, "BlobContainer"); err != nil {
		return err
	}
	props, err := containerProperties.CheckObject("properties", desired.Properties)
	if err != nil {
		return err
	}
	if access, _ := props["publicAccess"].(string); access != "" && access != "None" {
		account, err := s.e.Get(ctx, desired.ID.Parent().Parent())
		if err != nil {
			return err
		}
		if allowed, _ := account.Properties["allowBlobPublicAccess"].(bool); !allowed {
			return arm.Conflict(codePublicAccessNotPermitted, "Public access is not permitted on this storage account.").WithTarget("properties.publicAccess")
		}
	}
	desired.Properties = props
	return nil
}

// Render shows the read-only state Azure gives a container that has no
// lease, policy or hold, and no provisioningState.
func (s *containerStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	props := body["properties"].(map[string]any)
	delete(props, "provisioningState")
	defaults := map[string]any{
		"publicAccess":                "None",
		"defaultEncryptionScope":      "$account-encryption-key",
		"denyEncryptionScopeOverride": false,
		"leaseStatus":                 "Unlocked",
		"leaseState":                  "Available",
		"hasImmutabilityPolicy":       false,
		"hasLegalHold":                false,
		"deleted":                     false,
		"remainingRetentionDays":      0,
		"lastModifiedTime":            r.SystemData.LastModifiedAt.UTC().Format(time.RFC3339),
	}
	for k, v := range defaults {
		if _, ok := props[k]; !ok {
			props[k] = v
		}
	}
	return nil
}
