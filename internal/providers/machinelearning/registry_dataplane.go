package machinelearning

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/google/uuid"
)

// What a registry's regional asset API (the registry data plane,
// internal/registryapi) needs of the provider beyond the ARM types.

// RegistryDataPlaneAPIVersion is the api-version azure-ai-ml 1.4 sends to
// a registry's regional asset API (its v2021_10_01_dataplanepreview
// client).
const RegistryDataPlaneAPIVersion = "2021-10-01-dataplanepreview"

// RegistryDataPlaneServedAs is the ARM api-version the registry data plane
// serves RegistryDataPlaneAPIVersion as.
//
// Choice: 2022-10-01-preview, the first version with registry assets,
// whose container and version models hold every member of the data plane's
// (they add only provisioningState).
const RegistryDataPlaneServedAs = "2022-10-01-preview"

// tempDataRefRequest is the body of a temporary data reference request
// (TemporaryDataReferenceRequestDto).
var tempDataRefRequest = object("TemporaryDataReferenceRequestDto", map[string]*field{
	"assetId":                    str(),
	"temporaryDataReferenceId":   str(),
	"temporaryDataReferenceType": str(),
}, "assetId")

// IsTemporaryDataReference reports whether id is a registry's
// tempdatarefs/{name}/versions/{version}.
func IsTemporaryDataReference(id resourceid.ID) bool {
	return isRegistryVersionPath(id, "tempdatarefs")
}

// TemporaryDataReference answers PUT
// registries/{r}/tempdatarefs/{name}/versions/{version} of the registry
// data plane, which azure-ai-ml calls before it creates a registry asset
// version: a blob folder in the registry's storage to upload the asset to
// (a TemporaryDataReferenceResponseDto, 200). The body's assetId,
// azureml://registries/{r}/{codes|data|models|...}/{name}/versions/{v},
// names the version; when that version exists already the answer is 409,
// which azure-ai-ml takes as "nothing to upload".
//
// Choice: the asset's name and version are the path's; an assetId naming
// another registry, name or version, or a kind of asset the registry has
// not, is 400 naming assetId.
func TemporaryDataReference(ctx context.Context, e *engine.Engine, id resourceid.ID, r *engine.Request) (*engine.Response, error) {
	req, err := tempDataRefRequest.checkBody(r.Body)
	if err != nil {
		return nil, err
	}
	assetID, _ := req["assetId"].(string)
	version := id.Name()
	name := id.Parent().Name()
	registry := id.Parent().Parent()
	kind := tempDataRefKind(assetID, registry.Name(), name, version)
	if kind == nil {
		return nil, arm.BadRequest(arm.CodeUserError,
			"The assetId '%s' must be azureml://registries/%s/{codes|components|data|environments|models}/%s/versions/%s.",
			assetID, registry.Name(), name, version).WithTarget("assetId")
	}
	versionID := registry.Child(kind.segment, name).Child("versions", version)
	switch _, err := e.Get(ctx, versionID); {
	case err == nil:
		return nil, arm.Conflict(arm.CodeUserError, "The asset '%s' already exists.", assetID)
	case !errors.Is(err, engine.ErrNotFound):
		return nil, err
	}
	storage, container, err := registryUploadTarget(ctx, e, &engine.Resource{ID: versionID}, kind)
	if err != nil {
		return nil, err
	}
	refID, _ := req["temporaryDataReferenceId"].(string)
	if refID == "" {
		refID = uuid.NewString()
	}
	ref, err := blobReference(ctx, e, r, storage, container, refID)
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, map[string]any{
		"blobReferenceForConsumption": ref,
		"temporaryDataReferenceId":    refID,
		"temporaryDataReferenceType":  "TemporaryBlobReference",
	}), nil
}

// tempDataRefKind is the asset kind an assetId names, if it names the
// registry's version name/version.
func tempDataRefKind(assetID, registry, name, version string) *assetKind {
	rest, ok := strings.CutPrefix(assetID, "azureml://registries/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 5 || !strings.EqualFold(parts[0], registry) || parts[2] != name ||
		!strings.EqualFold(parts[3], "versions") || parts[4] != version {
		return nil
	}
	for _, k := range assetKinds {
		if strings.EqualFold(k.segment, parts[1]) {
			return k
		}
	}
	return nil
}
