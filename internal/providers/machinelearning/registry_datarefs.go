package machinelearning

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// A registry's data references (RegistryDataReferences_getBlobReferenceSAS):
// POST registries/{r}/datareferences/{name}/versions/{version} with a
// GetBlobReferenceSASRequestDto {assetId, blobUri} answers 200 with a
// GetBlobReferenceSASResponseDto: blobReferenceForConsumption holds the
// blob, the ARM ID of the registry's storage account and a read SAS for
// the blob (credentialType SAS, sasUri). azure-ai-ml calls it to download
// a registry asset's files.
//
// The path names no resource that can be created or read: the engine
// stores no type for it, so it is an engine.Route (as the namespace's
// location-based operations are), served on ARM and, for azure-ai-ml, on
// the registry's regional endpoint, which hands ARM paths to the engine.
//
// Choice: armlet checks the registry exists, the api-version is one of
// the registry's and the body; the data reference's name and version and
// the assetId are not checked against the registry's assets (Azure's own
// example names neither an asset nor a blob of the registry and is
// answered 200). blobUri is required (stricter than the spec, which marks
// no member required: without it there is no blob to sign) and must be an
// absolute https URL with no query, as a blob's URL is. The SAS grants
// read (sp=r) on the blob for 24 hours (sasFor). It is signed with the
// key of the registry's storage account only when armlet holds that
// account and blobUri names a blob of it in one of the registry's own
// containers ({registry}-{codes|data|models|...}, where uploads go):
// the registry's read permission reaches the registry's assets, not
// whatever else a user-created account holds. Any other blobUri is
// answered (as Azure answers its example) with a random signature.
type dataReferenceRoute struct{ e *engine.Engine }

var _ engine.Route = (*dataReferenceRoute)(nil)

// getBlobReferenceSASRequest is GetBlobReferenceSASRequestDto.
var getBlobReferenceSASRequest = object("GetBlobReferenceSASRequestDto", map[string]*field{
	"assetId": str(),
	"blobUri": str(),
}, "blobUri")

// isRegistryVersionPath reports whether id is a registry's
// {collection}/{name}/versions/{version}.
func isRegistryVersionPath(id resourceid.ID, collection string) bool {
	n := id.Len()
	return n >= 3 && strings.EqualFold(id.Segment(n-1).Type, "versions") && strings.EqualFold(id.Segment(n-2).Type, collection) &&
		strings.EqualFold(id.Segment(n-3).Type, TypeRegistries)
}

// ServeRoute answers POST .../datareferences/{name}/versions/{version};
// another method is 405.
func (rt *dataReferenceRoute) ServeRoute(ctx context.Context, req *engine.Request, p resourceid.Path) (*engine.Response, bool, error) {
	if p.Tail != "" || !isRegistryVersionPath(p.ID, "datareferences") {
		return nil, false, nil
	}
	if req.Method != http.MethodPost {
		return nil, true, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
			"The requested resource does not support http method '%s' for type '%s'.", req.Method, TypeRegistries+"/datareferences/versions")
	}
	resp, err := rt.blobReferenceSAS(ctx, req, p.ID)
	return resp, true, err
}

func (rt *dataReferenceRoute) blobReferenceSAS(ctx context.Context, req *engine.Request, id resourceid.ID) (*engine.Response, error) {
	if err := rt.e.CheckAPIVersion(req.APIVersion, TypeRegistries); err != nil {
		return nil, err
	}
	reg, err := rt.e.Get(ctx, id.Parent().Parent())
	if err != nil {
		return nil, err
	}
	if reg.Deleting(req.Now) {
		return nil, arm.Conflict(arm.CodeConflict, "The registry '%s' is being deleted.", reg.ID.Name())
	}
	body, err := getBlobReferenceSASRequest.checkBody(req.Body)
	if err != nil {
		return nil, err
	}
	blobURI, _ := body["blobUri"].(string)
	u, err := url.Parse(blobURI)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return nil, arm.BadRequest(arm.CodeUserError, "The blobUri '%s' must be an absolute https URL of a blob, with no query or fragment.", blobURI).WithTarget("blobUri")
	}
	storage, err := registryStorage(reg)
	if err != nil {
		return nil, err
	}
	q := unsignedSAS("b", "r", req.Now.Add(sasTTL))
	if container, blob, ok := registryBlob(reg, storage, u); ok {
		if q, _, err = sasFor(ctx, rt.e, storage, container, blob, "r", req.Now); err != nil {
			return nil, err
		}
	}
	return engine.JSON(http.StatusOK, map[string]any{
		"blobReferenceForConsumption": map[string]any{
			"blobUri":             blobURI,
			"storageAccountArmId": storage.String(),
			"credential":          map[string]any{"credentialType": "SAS", "sasUri": blobURI + "?" + q},
		},
	}), nil
}

// registryBlob is the container and blob u names when it is a blob of
// the registry reg's storage account in one of the registry's containers
// ({registry}-{kind}); ok is false otherwise, and for a blob name with a
// dot segment, which a client or proxy may resolve into another
// container.
func registryBlob(reg *engine.Resource, storage resourceid.ID, u *url.URL) (container, blob string, ok bool) {
	if !strings.EqualFold(u.Host, strings.ToLower(storage.Name())+".blob.core.windows.net") {
		return "", "", false
	}
	container, blob, _ = strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	kind, isOurs := strings.CutPrefix(container, strings.ToLower(reg.ID.Name())+"-")
	dotted := slices.ContainsFunc(strings.Split(blob, "/"), func(seg string) bool { return seg == "." || seg == ".." })
	if !isOurs || blob == "" || dotted || !slices.ContainsFunc(assetKinds, func(k *assetKind) bool { return k.segment == kind }) {
		return "", "", false
	}
	return container, blob, true
}
