// Package storage is armlet's Microsoft.Storage resource provider: storage
// accounts with their keys, the blob, file, queue and table services of
// an account, and blob containers, as an Azure ML workspace's default
// storage needs them.
//
// # Sources of truth
//
//   - An account's keys are made at creation and kept in its record
//     (Internal.Data), shown only by listKeys and regenerateKey.
//   - Its four services ("default" of blobServices, fileServices,
//     queueServices and tableServices) are records of their own, made by
//     the account the moment it is stored (a write observer, and
//     PostImport for imported accounts), so they can be read and set at
//     once, and containers, below blobServices/default, are stored children
//     the engine checks and cascades like any other.
//   - Account names are global, as in Azure: a create looks the name up
//     among every subscription's accounts.
//   - An account is a private link target (engine.PrivateLinkTarget) that
//     records no connections: the private endpoints keep them, and the
//     account lists them through the private endpoint type's
//     engine.PrivateLinkSource, as a resourceManagementPrivateLink does.
package storage

import (
	"context"
	"net/http"
	"slices"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/rpkit"
)

// Resource types of the provider.
const (
	Namespace         = "Microsoft.Storage"
	TypeAccounts      = Namespace + "/storageAccounts"
	TypeBlobServices  = TypeAccounts + "/blobServices"
	TypeFileServices  = TypeAccounts + "/fileServices"
	TypeQueueServices = TypeAccounts + "/queueServices"
	TypeTableServices = TypeAccounts + "/tableServices"
	TypeContainers    = TypeBlobServices + "/containers"
	typeConnections   = TypeAccounts + "/privateEndpointConnections"
	typeLinkResources = TypeAccounts + "/privateLinkResources"
)

// APIVersions are the Microsoft.Storage api-versions armlet accepts,
// newest first: 2025-08-01 is what Terraform's azurerm sends (through
// hashicorp/go-azure-sdk; its tables 2025-06-01), 2025-01-01 armstorage
// v2, 2024-01-01 armstorage v1.8, and the stable versions from 2019-06-01
// (the first with file, queue and table services) to 2023-05-01 that
// templates and older SDKs send.
var APIVersions = []string{
	"2025-08-01", "2025-06-01", "2025-01-01", "2024-01-01",
	"2023-05-01", "2023-04-01", "2023-01-01", "2022-09-01", "2022-05-01",
	"2021-09-01", "2021-08-01", "2021-06-01", "2021-04-01", "2021-02-01", "2021-01-01",
	"2020-08-01-preview", "2019-06-01",
}

// AccountAPIVersions are APIVersions and the older ones at which accounts,
// blob services and containers (not the file, queue and table services,
// which came with 2019-06-01) exist: azure-ai-ml 1.4's workspace template
// makes its storage account at 2019-04-01.
var AccountAPIVersions = append(slices.Clone(APIVersions), "2019-04-01", "2018-11-01", "2018-07-01", "2018-02-01")

// Options configures the provider.
type Options struct{}

// provider is the state every strategy of the package shares.
type provider struct {
	e *engine.Engine
}

// Register adds the provider's resource types to e's registry, the write
// observer that gives each new account its services, and the
// checkNameAvailability route.
func Register(e *engine.Engine, _ Options) {
	p := &provider{e: e}
	reg := e.Registry()
	reg.Register(&engine.Type{
		Name: TypeAccounts, APIVersions: AccountAPIVersions, Tracked: true,
		// StorageAccounts_Create answers 202 with Location for a new
		// account and 200 for an existing one; Delete 200 or 204.
		Put: engine.Location, SyncUpdate: true, Delete: engine.Sync,
		Strategy: &accountStrategy{p},
	})
	for _, s := range services {
		versions := APIVersions
		if s.typ == TypeBlobServices {
			versions = AccountAPIVersions
		}
		reg.Register(&engine.Type{
			Name: s.typ, APIVersions: versions,
			NamePattern: defaultName, NameRule: "The name of a storage service must be 'default'.",
			// *_SetServiceProperties answer 200 only.
			Put: engine.Sync, Delete: engine.Sync, CreatedStatus: http.StatusOK,
			Strategy: &serviceStrategy{p, s},
		})
	}
	reg.Register(&engine.Type{
		Name: TypeContainers, APIVersions: AccountAPIVersions,
		Put: engine.Sync, Delete: engine.Sync, ETagInBody: true,
		// A container of an account imported without its services
		// brings blobServices/default along.
		ImplicitParent: func(*engine.Resource) map[string]any { return nil },
		Strategy:       &containerStrategy{p},
	})
	e.OnWrite(p.accountWritten)
	// checkNameAvailability answers as a PUT of the name would fare.
	e.AddRoute(rpkit.NameAvailability{Type: TypeAccounts, Invalid: nameInvalid, Taken: p.nameTaken}.Route(e))
}

// accountWritten gives an account written by a client its services.
func (p *provider) accountWritten(ctx context.Context, req *engine.Request, r *engine.Resource) {
	if r.Type != TypeAccounts {
		return
	}
	if err := p.ensureServices(ctx, r, req.Caller); err != nil {
		// The write is stored and answered; a container PUT still
		// makes blobServices/default (ImplicitParent).
		p.e.Logger().Warn("storage: creating an account's services", "account", r.ID.String(), "err", err)
	}
}
