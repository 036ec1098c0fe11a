package authorization

import (
	"context"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
)

// associationStrategy serves Microsoft.Authorization/
// privateLinkAssociations at /providers/Microsoft.Management/
// managementGroups/{managementGroupId}/providers/Microsoft.Authorization/
// privateLinkAssociations/{plaId}. The body is
// {properties:{privateLink, publicNetworkAccess}}; GET adds the read-only
// tenantID and scope.
//
// The engine stores associations under the management group's ID, which it
// does not store itself (checkAncestors skips it); CheckScope decides
// which management groups exist.
//
// Choice: armlet has no management group hierarchy. The only management
// group is each tenant's root group, whose id is the tenant id, and a
// caller sees only its own tenant's (engine.Request.Caller.TenantID): any
// other management group id gets 404 ManagementGroupNotFound on every
// verb, and a privateLinkAssociations path under any other scope (a
// subscription, a resource group) gets 400 InvalidScope. Azure applies
// private link management access only at the root management group
// (DocRMPL in docs/azure-ml-arm.md: "you can only apply private link management access at the
// level of the root management group").
//
// Choice: properties.privateLink is required, must be the ID of a
// resourceManagementPrivateLink (else 400 LinkedInvalidPropertyId) that
// exists in a subscription of the association's tenant (else 400
// InvalidResourceReference). publicNetworkAccess is Enabled or Disabled
// (any casing) and defaults to Enabled, Azure's default per
// MicrosoftDocs/azure-docs issue #120134 ("the default value is to NOT
// block that network access"). A tenant may have several associations;
// public access is disabled while any of them says Disabled.
//
// Choice: a top-level "location" is accepted and dropped (an association
// has none). The Azure CLI's `az resource create` always sends one for an
// ID outside a resource group (2.45 fails looking up the resource group
// when -l is not given), and ARM ignores members a type does not use.
// tags, kind, sku and the other envelope members are refused.
//
// Choice: a seed file may describe associations; their private link need
// not exist (the seed loader imports the association, two segments long,
// before the private link, three), but must be well formed and in a
// subscription of the tenant.
type associationStrategy struct {
	e *engine.Engine
}

var (
	_ engine.Strategy     = (*associationStrategy)(nil)
	_ engine.ScopeChecker = (*associationStrategy)(nil)
	_ engine.Renderer     = (*associationStrategy)(nil)
	_ engine.Importer     = (*associationStrategy)(nil)
)

// Property names of an association.
const (
	propPrivateLink         = "privateLink"
	propPublicNetworkAccess = "publicNetworkAccess"
	propTenantID            = "tenantID"
	propScope               = "scope"
)

// CheckScope admits only the caller's tenant root management group.
func (s *associationStrategy) CheckScope(_ context.Context, req *engine.Request, scope resourceid.ID) error {
	if scope.Len() != 1 || !strings.EqualFold(scope.Last().Type, TypeManagementGroups) {
		return arm.BadRequest(codeInvalidScope,
			"Private link associations exist only at the root management group, '/providers/%s/{tenantId}'; '%s' is not a management group.",
			TypeManagementGroups, scope)
	}
	if !strings.EqualFold(scope.Name(), req.Caller.TenantID) {
		return arm.NotFound(codeManagementGroupMissing,
			"The management group '%s' was not found. armlet has no management group hierarchy: the only management group is the root management group of your tenant, whose id is the tenant id '%s'; private link associations can only be created there.",
			scope.Name(), req.Caller.TenantID)
	}
	return nil
}

// Validate checks a client's PUT.
func (s *associationStrategy) Validate(ctx context.Context, _ *engine.Request, desired, _ *engine.Resource) error {
	return s.check(ctx, desired, true)
}

// Import checks an association from a seed file: its private link need not
// exist yet.
func (s *associationStrategy) Import(ctx context.Context, _ *engine.Request, r *engine.Resource) error {
	return s.check(ctx, r, false)
}

func (s *associationStrategy) check(ctx context.Context, desired *engine.Resource, linkMustExist bool) error {
	const objType, propsType = "PrivateLinkAssociationObject", "PrivateLinkAssociationProperties"
	// A location is dropped: see the type's doc comment.
	desired.Location = ""
	switch {
	case desired.Tags != nil:
		return arm.UnknownMember("", "tags", objType)
	case desired.Kind != "":
		return arm.UnknownMember("", "kind", objType)
	}
	for k := range desired.Extra {
		return arm.UnknownMember("", k, objType)
	}
	var link, access any
	for k, v := range desired.Properties {
		switch strings.ToLower(k) {
		case strings.ToLower(propPrivateLink):
			link = v
		case strings.ToLower(propPublicNetworkAccess):
			access = v
		case strings.ToLower(propTenantID), strings.ToLower(propScope), "provisioningstate":
			// Read-only: accepted so a GET-modify-PUT works, then dropped.
		default:
			return arm.UnknownMember("properties", k, propsType)
		}
	}
	linkID, err := s.checkLink(ctx, desired, link, linkMustExist)
	if err != nil {
		return err
	}
	mode, err := checkAccess(access)
	if err != nil {
		return err
	}
	desired.Properties = map[string]any{propPrivateLink: linkID, propPublicNetworkAccess: mode}
	return nil
}

// checkLink validates properties.privateLink and returns the ID to store
// (with the private link's own casing when it exists).
func (s *associationStrategy) checkLink(ctx context.Context, desired *engine.Resource, v any, mustExist bool) (string, error) {
	const path = "properties." + propPrivateLink
	if v == nil {
		return "", arm.InvalidContent(path, "Required property '%s' not found in JSON. Path 'properties'.", propPrivateLink)
	}
	raw, ok := v.(string)
	if !ok {
		return "", arm.InvalidContent(path, "Error converting value %s to type 'System.String'. Path '%s'.", describe(v), path)
	}
	id, err := resourceid.Parse(raw)
	if err != nil || !id.IsTopLevel() || !strings.EqualFold(id.ResourceType(), TypePrivateLinks) {
		return "", arm.BadRequest(arm.CodeLinkedInvalidPropertyID,
			"Property id '%s' at path '%s' is invalid. Expect the fully qualified ID of a resource management private link: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/%s/{name}'.",
			raw, path, TypePrivateLinks).WithTarget(path)
	}
	tenantID := desired.ID.Parent().Name()
	subTenant, err := rpkit.SubscriptionTenant(ctx, s.e, id.SubscriptionID())
	if err != nil {
		if ae, ok := arm.AsError(err); ok && ae.Status == 404 {
			return "", notReferenced(path, raw)
		}
		return "", err
	}
	if !strings.EqualFold(subTenant, tenantID) {
		return "", arm.BadRequest(codeInvalidReference,
			"The resource management private link '%s' at path '%s' is in subscription '%s' of tenant '%s'; a private link association of tenant '%s' must use a private link of its own tenant.",
			raw, path, id.SubscriptionID(), subTenant, tenantID).WithTarget(path)
	}
	if !mustExist {
		return raw, nil
	}
	r, err := s.e.Get(ctx, id)
	if err != nil {
		if ae, ok := arm.AsError(err); ok && ae.Status == 404 {
			return "", notReferenced(path, raw)
		}
		return "", err
	}
	return r.ID.String(), nil
}

func notReferenced(path, id string) *arm.Error {
	return arm.BadRequest(codeInvalidReference,
		"The resource management private link '%s' referenced at path '%s' was not found.", id, path).WithTarget(path)
}

// checkAccess validates properties.publicNetworkAccess and returns its
// canonical value.
func checkAccess(v any) (string, error) {
	const path = "properties." + propPublicNetworkAccess
	if v == nil {
		return AccessEnabled, nil
	}
	s, ok := v.(string)
	if ok {
		for _, mode := range []string{AccessEnabled, AccessDisabled} {
			if strings.EqualFold(s, mode) {
				return mode, nil
			}
		}
	}
	return "", arm.InvalidContent(path, "Error converting value %s to type 'PublicNetworkAccessOptions': the allowed values are '%s', '%s'. Path '%s'.",
		describe(v), AccessEnabled, AccessDisabled, path)
}

// Render adds the read-only tenantID and scope and drops provisioningState,
// which the association's shape does not have.
func (s *associationStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, _ string, _ time.Time) error {
	scope := r.ID.Parent()
	body["properties"] = map[string]any{
		propPrivateLink:         r.Properties[propPrivateLink],
		propPublicNetworkAccess: r.Properties[propPublicNetworkAccess],
		propTenantID:            scope.Name(),
		propScope:               scope.String(),
	}
	return nil
}
