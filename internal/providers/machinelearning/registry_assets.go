package machinelearning

import (
	"context"
	"errors"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// A registry's assets (registries/{r}/{codes,components,data,
// environments,models}/{name}[/versions/{version}]) have the workspace
// assets' kinds, schemas and rules (assets.go), served by the same
// strategies; what differs is the long-running behaviour the v4
// registry*_client.go document (PUT 201/200 with Azure-AsyncOperation,
// final state at the original URI; DELETE 202 with Location), the
// api-versions (the registry's), and startPendingUpload on code, data and
// model versions, into the registry's storage account. Rule L5 does not
// reach them: they are not under a workspace.
//
// publish (POST workspaces/{w}/{kind}/{name}/versions/{v}/publish) copies
// a workspace's version into a registry.

// registerRegistryAssets adds the asset types under registries. Their
// bodies are the workspace assets' at every api-version, so they share
// the workspace types' shapes (the SDK models' overlays among them).
func registerRegistryAssets(e *engine.Engine, _ Options) {
	for _, k := range assetKinds {
		ct, vt := k.containerTypeIn(TypeRegistries), k.versionTypeIn(TypeRegistries)
		e.Registry().Register(&engine.Type{
			Name:        ct,
			APIVersions: registryAPIVersions,
			NamePattern: v2NamePattern,
			NameRule:    v2NameRule,
			Put:         engine.AsyncOperation,
			Delete:      engine.Location,
			Strategy:    &assetContainerStrategy{e: e, kind: k, shapes: newShapes(k.containerType(), k.container)},
		})
		e.Registry().Register(&engine.Type{
			Name:           vt,
			APIVersions:    registryAPIVersions,
			NamePattern:    assetVersionPattern,
			NameRule:       assetVersionRule,
			Put:            engine.AsyncOperation,
			Delete:         engine.Location,
			Strategy:       &assetVersionStrategy{e: e, kind: k, parent: TypeRegistries, shapes: newShapes(k.versionType(), k.version)},
			ImplicitParent: implicitContainer,
		})
	}
}

// registryUploadTarget is where uploads to the registry asset version r
// go: the storage account of the registry's location (its system-created
// account, or the user-created one), container {registry name}-{kind}.
//
// Choice: Azure names its registry containers itself; armlet's container
// names the registry and the asset kind.
func registryUploadTarget(ctx context.Context, e *engine.Engine, r *engine.Resource, kind *assetKind) (resourceid.ID, string, error) {
	id := r.ID
	for id.Len() > 0 && !strings.EqualFold(id.ResourceType(), TypeRegistries) {
		id = id.Parent()
	}
	reg, err := e.Get(ctx, id)
	if err != nil {
		return resourceid.ID{}, "", err
	}
	storage, err := registryStorage(reg)
	if err != nil {
		return resourceid.ID{}, "", err
	}
	return storage, strings.ToLower(reg.ID.Name()) + "-" + kind.segment, nil
}

// registryStorage is the storage account of the registry reg in its
// primary location (system- or user-created).
func registryStorage(reg *engine.Resource) (resourceid.ID, error) {
	primary := engine.NormalizeLocation(reg.Location)
	regions, _ := reg.Properties["regionDetails"].([]any)
	for _, rg := range regions {
		if regionOf(rg) != primary {
			continue
		}
		stores, _ := rg.(map[string]any)["storageAccountDetails"].([]any)
		for _, st := range stores {
			m, _ := st.(map[string]any)
			for _, key := range []string{"systemCreatedStorageAccount", "userCreatedStorageAccount"} {
				acct, _ := m[key].(map[string]any)
				ref, _ := acct["armResourceId"].(map[string]any)
				if s, _ := ref["resourceId"].(string); s != "" {
					if sid, err := resourceid.Parse(s); err == nil {
						return sid, nil
					}
				}
			}
		}
	}
	return resourceid.ID{}, arm.Conflict(arm.CodeUserError, "Registry '%s' has no storage account in its location '%s'.", reg.ID.Name(), reg.Location)
}

// destinationAsset is DestinationAsset, the body of publish.
var destinationAsset = object("DestinationAsset", map[string]*field{
	"destinationName":    str(),
	"destinationVersion": str(),
	"registryName":       str(),
}, "registryName")

// publish copies the workspace asset version r into the registry the
// body names, creating the registry's container when it has none, and
// answers 202 with Location (and Azure-AsyncOperation), as the v4
// client's BeginPublish expects; the copy is made at once.
//
// Choice: destinationName and destinationVersion default to the source's
// name and version. A registry that does not exist is 404
// ResourceNotFound naming registryName; a version the registry holds
// already is 409 UserError (asset versions are immutable); the copy has
// the source's properties (its URIs unchanged: armlet copies no blobs),
// and a new container is empty but for a data container's dataType.
func (s *assetVersionStrategy) publish(ctx context.Context, req *engine.Request, r *engine.Resource) (*engine.Response, error) {
	v, err := decode(req.Body)
	if err != nil {
		return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: '%s'.", err)
	}
	n, err := destinationAsset.check("body", orEmpty(v))
	if err != nil {
		return nil, err
	}
	body := n.(map[string]any)
	registryName := body["registryName"].(string)
	name, _ := body["destinationName"].(string)
	if name == "" {
		name = r.ID.Parent().Name()
	}
	version, _ := body["destinationVersion"].(string)
	if version == "" {
		version = r.ID.Name()
	}
	if !v2NamePattern.MatchString(name) {
		return nil, arm.BadRequest(arm.CodeUserError, "The destination name '%s' is invalid. %s", name, v2NameRule).WithTarget("destinationName")
	}
	if !assetVersionPattern.MatchString(version) {
		return nil, arm.BadRequest(arm.CodeUserError, "The destination version '%s' is invalid. %s", version, assetVersionRule).WithTarget("destinationVersion")
	}
	reg, err := FindRegistry(ctx, s.e, registryName)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, arm.NotFound(arm.CodeResourceNotFound, "The registry '%s' was not found.", registryName).WithTarget("registryName")
	}
	if err != nil {
		return nil, err
	}
	containerID := reg.ID.Child(s.kind.segment, name)
	versionID := containerID.Child("versions", version)
	exists := func() error {
		return arm.Conflict(arm.CodeUserError, "Version '%s' of %s '%s' already exists in registry '%s'; asset versions are immutable. Publish under another destinationVersion.",
			version, s.kind.segment, name, reg.ID.Name()).WithTarget("destinationVersion")
	}
	if _, err := s.e.Get(ctx, versionID); err == nil {
		return nil, exists()
	} else if !errors.Is(err, engine.ErrNotFound) {
		return nil, err
	}
	apiVersion := APIVersions[0]
	if _, err := s.e.Get(ctx, containerID); errors.Is(err, engine.ErrNotFound) {
		if _, err := s.e.Import(ctx, containerID, orEmptyMap(implicitContainer(r)), apiVersion, req.Caller); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	props := map[string]any{}
	for k, pv := range r.Properties {
		props[k] = pv
	}
	imported, err := s.e.Import(ctx, versionID, map[string]any{"properties": props}, apiVersion, req.Caller)
	if err != nil {
		return nil, err
	}
	if !imported {
		return nil, exists() // made meanwhile
	}
	return s.e.NewActionOperation(ctx, req, r, nil, req.Now.Add(s.e.OperationDuration()))
}

// orEmptyMap is m, or an empty body when m is nil.
func orEmptyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
