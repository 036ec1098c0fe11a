// Package authorization is armlet's Microsoft.Authorization resource
// provider. It serves Azure RBAC (roleDefinitions and roleAssignments at
// any scope, and RBAC, the cached evaluator the front door asks on every
// request; see rbac.go) and Resource Management Private Link:
// resourceManagementPrivateLinks and the privateLinkAssociations at the
// root management group that decide whether ARM accepts public requests.
//
// A resourceManagementPrivateLink is a tracked resource in a resource
// group; a private endpoint to it (group id "ResourceManagement") makes ARM
// reachable privately. A privateLinkAssociation lives at the tenant's root
// management group, /providers/Microsoft.Management/managementGroups/
// {tenantId}, names one resourceManagementPrivateLink and says whether ARM
// still accepts public requests for the tenant (publicNetworkAccess).
// PublicARMDisabled answers that question for the front door.
//
// Where Azure's behaviour is unknown the provider makes a choice; each is
// documented in a comment starting "Choice:".
package authorization

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// Namespace is the resource provider namespace.
const Namespace = "Microsoft.Authorization"

// Resource types served by this package.
const (
	TypePrivateLinks = Namespace + "/resourceManagementPrivateLinks"
	TypeAssociations = Namespace + "/privateLinkAssociations"
)

// TypeManagementGroups is the scope the associations live under. armlet
// does not serve management groups; it only knows each tenant's root group.
const TypeManagementGroups = "Microsoft.Management/managementGroups"

// GroupID is the private link sub-resource of a resourceManagementPrivateLink
// that private endpoints name.
const GroupID = "ResourceManagement"

// APIVersions are the api-versions of both types (docs/azure-ml-arm.md section 5).
var APIVersions = []string{"2020-05-01"}

// Public network access values of an association.
const (
	AccessEnabled  = "Enabled"
	AccessDisabled = "Disabled"
)

// Error codes of this provider.
const (
	// CodePublicAccessRestricted is the refusal of a public ARM request
	// while an association disables public network access.
	CodePublicAccessRestricted = "PublicNetworkAccessRestricted"
	codeManagementGroupMissing = "ManagementGroupNotFound"
	codeInvalidScope           = "InvalidScope"
	codeInvalidReference       = "InvalidResourceReference"
	codePrivateLinkInUse       = "PrivateLinkInUse"
)

// Options configures the provider.
type Options struct {
	// RBACMode is ModeEnforce (the default) or ModeAudit.
	RBACMode string
	Logger   *slog.Logger
}

// Register adds the provider's resource types to e's registry and returns
// the RBAC evaluator over its role assignments.
func Register(e *engine.Engine, opts Options) *RBAC {
	rbac := newRBAC(e, opts)
	e.Registry().Register(&engine.Type{
		Name:        TypeRoleAssignments,
		APIVersions: RoleAssignmentAPIVersions,
		NamePattern: guidPattern,
		NameRule:    guidRule,
		Put:         engine.Sync,
		Delete:      engine.Sync,
		DeleteBody:  true,
		Strategy:    &roleAssignmentStrategy{e: e, rbac: rbac},
	})
	e.Registry().Register(&engine.Type{
		Name:        TypeRoleDefinitions,
		APIVersions: RoleDefinitionAPIVersions,
		NamePattern: guidPattern,
		NameRule:    "The role definition name must be a GUID.",
		Put:         engine.Sync,
		Delete:      engine.Sync,
		DeleteBody:  true,
		// RoleDefinitions_CreateOrUpdate lists 201 only, an update too,
		// and armauthorization accepts nothing else.
		UpdatedStatus: http.StatusCreated,
		Strategy:      &roleDefinitionStrategy{e: e, rbac: rbac},
	})
	e.Registry().Register(&engine.Type{
		Name:        TypePrivateLinks,
		APIVersions: APIVersions,
		Tracked:     true,
		Put:         engine.Sync,
		Delete:      engine.Sync,
		// ResourceManagementPrivateLink_Put lists 200 only, a create too.
		CreatedStatus: http.StatusOK,
		Strategy:      &privateLinkStrategy{e: e},
	})
	e.Registry().Register(&engine.Type{
		Name:        TypeAssociations,
		APIVersions: APIVersions,
		Put:         engine.Sync,
		Delete:      engine.Sync,
		// PrivateLinkAssociation_Put lists 200 only, a create too.
		CreatedStatus: http.StatusOK,
		Strategy:      &associationStrategy{e: e},
	})
	registerPolicy(e)
	e.AddAdmitter(rbac.admitLinked)
	return rbac
}

// RootManagementGroup is the ID of tenantID's root management group, whose
// management group id is the tenant id.
func RootManagementGroup(tenantID string) resourceid.ID {
	return resourceid.New(resourceid.Segment{Type: TypeManagementGroups, Name: tenantID})
}

// validTenantID reports whether tenantID can name a management group
// (tenant ids come from tokens; a malformed one never has associations).
func validTenantID(tenantID string) bool {
	return tenantID != "" && !strings.ContainsAny(tenantID, "/\x00") && tenantID != "." && tenantID != ".."
}

// associations returns the live associations at tenantID's root management
// group: one prefix scan over that tenant's associations only.
func associations(ctx context.Context, e *engine.Engine, tenantID string) ([]*engine.Resource, error) {
	if !validTenantID(tenantID) {
		return nil, nil
	}
	return e.List(ctx, RootManagementGroup(tenantID), TypeAssociations)
}

// PublicARMDisabled reports whether tenant tenantID has a
// privateLinkAssociation with publicNetworkAccess Disabled at its root
// management group; if so, ARM refuses requests that arrive publicly, and
// err is the refusal to send.
//
// It is called on every public ARM request, so it costs one store read: a
// prefix scan over the tenant's associations (usually none or one), with
// no index to keep in step.
//
// Choice: the refusal is 403 PublicNetworkAccessRestricted. Azure's answer
// to a public call while a resource management private link disables
// public access is not documented; the code is the one an Azure CLI user
// reported from `az login` (which lists /subscriptions) in a tenant with
// ARM private link (Azure/azure-cli issue #18595: "(PublicNetworkAccessRestricted)
// Request originated from public network for resource '/subscriptions', but
// public network access to this resource is disabled ..."; the issue does
// not show the status). The status is 403: the caller is authenticated but
// refused, as the workspace endpoint refuses public calls. The message is
// armlet's own: it names the tenant, the association and the way through.
func PublicARMDisabled(ctx context.Context, e *engine.Engine, tenantID string) (disabled bool, refusal error, err error) {
	list, err := associations(ctx, e, tenantID)
	if err != nil {
		return false, nil, err
	}
	for _, a := range list {
		if a.Properties[propPublicNetworkAccess] == AccessDisabled {
			return true, refusalError(tenantID, a.ID), nil
		}
	}
	return false, nil, nil
}

func refusalError(tenantID string, association resourceid.ID) *arm.Error {
	return arm.Errorf(http.StatusForbidden, CodePublicAccessRestricted,
		"The request arrived from a public network, but public network access to Azure Resource Manager is disabled for tenant '%s' by private link association '%s'. Send the request through a private endpoint to a resource management private link (%s, group id '%s').",
		tenantID, association, TypePrivateLinks, GroupID)
}

// describe quotes a JSON value for an error message.
func describe(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}
