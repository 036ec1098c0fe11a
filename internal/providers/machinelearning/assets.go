package machinelearning

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/storagesas"
	"github.com/google/uuid"
)

// The v2 assets (docs/azure-ml-arm.md 2.5): containers (codes, environments,
// components, models, data) and their versions, all synchronous.

// assetVersionPattern is the name rule of asset versions.
//
// Choice: a version is 1 to 255 letters, digits, '-', '_' and '.',
// starting with a letter or digit ("1", "0.1.0", "2024-05-01").
var assetVersionPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,254}$`)

const assetVersionRule = "The version must start with a letter or digit and contain only letters, digits, '-', '_' and '.' (at most 255 characters)."

// dataTypes are the DataType values.
var dataTypes = []string{"mltable", "uri_file", "uri_folder"}

// dataTypeNames are the DataType enum's member names, which Azure takes
// too (its example data container sends "UriFile"). Choice: armlet
// stores the wire value ("uri_file") either way.
var dataTypeNames = map[string]string{"MLTable": "mltable", "UriFile": "uri_file", "UriFolder": "uri_folder"}

// assetKind describes one kind of asset.
type assetKind struct {
	// segment is the collection name under a workspace ("codes").
	segment string
	// containerName and versionName are the .NET type names of the
	// properties, for messages.
	containerName, versionName string
	container, version         *field
	// check, when set, checks and completes a version's normalised
	// properties.
	check func(p map[string]any) error
}

// containerType and versionType are the kind's types under a workspace;
// the In forms under parent, a workspace or a registry type.
func (k *assetKind) containerType() string                { return k.containerTypeIn(TypeWorkspaces) }
func (k *assetKind) versionType() string                  { return k.versionTypeIn(TypeWorkspaces) }
func (k *assetKind) containerTypeIn(parent string) string { return parent + "/" + k.segment }
func (k *assetKind) versionTypeIn(parent string) string {
	return k.containerTypeIn(parent) + "/versions"
}

// assetCommon are the members every container and version has.
func assetCommon(extra map[string]*field) map[string]*field {
	f := map[string]*field{
		"description":       str(),
		"tags":              mapOf(str()),
		"properties":        mapOf(str()),
		"isArchived":        boolean(),
		"provisioningState": str().ro(),
	}
	maps.Copy(f, extra)
	return f
}

func containerSchema(name string, extra map[string]*field, required ...string) *field {
	m := assetCommon(map[string]*field{"latestVersion": str().ro(), "nextVersion": str().ro()})
	maps.Copy(m, extra)
	return object(name, m, required...)
}

func versionSchema(name string, extra map[string]*field, required ...string) *field {
	m := assetCommon(map[string]*field{"isAnonymous": boolean()})
	maps.Copy(m, extra)
	return object(name, m, required...)
}

var route = object("Route", map[string]*field{"path": str(), "port": integer()}, "path", "port")

var assetKinds = []*assetKind{
	{
		segment: "codes", containerName: "CodeContainerProperties", versionName: "CodeVersionProperties",
		container: containerSchema("CodeContainerProperties", nil),
		version:   versionSchema("CodeVersionProperties", map[string]*field{"codeUri": str()}),
	},
	{
		segment: "environments", containerName: "EnvironmentContainerProperties", versionName: "EnvironmentVersionProperties",
		container: containerSchema("EnvironmentContainerProperties", nil),
		version: versionSchema("EnvironmentVersionProperties", map[string]*field{
			"autoRebuild": enum("AutoRebuildSetting", "Disabled", "OnBaseImageUpdate"),
			"build": object("BuildContext", map[string]*field{
				"contextUri": str(), "dockerfilePath": str(),
			}, "contextUri"),
			"condaFile": str(),
			"image":     str(),
			"inferenceConfig": object("InferenceContainerProperties", map[string]*field{
				"livenessRoute": route, "readinessRoute": route, "scoringRoute": route,
			}),
			"osType":          enum("OperatingSystemType", "Linux", "Windows"),
			"stage":           str(),
			"environmentType": str().ro(),
		}),
		check: checkEnvironmentVersion,
	},
	{
		segment: "components", containerName: "ComponentContainerProperties", versionName: "ComponentVersionProperties",
		container: containerSchema("ComponentContainerProperties", nil),
		version:   versionSchema("ComponentVersionProperties", map[string]*field{"componentSpec": anyJSON()}),
	},
	{
		segment: "models", containerName: "ModelContainerProperties", versionName: "ModelVersionProperties",
		container: containerSchema("ModelContainerProperties", nil),
		version: versionSchema("ModelVersionProperties", map[string]*field{
			"flavors":   mapOf(object("FlavorData", map[string]*field{"data": mapOf(str())})),
			"jobName":   str(),
			"modelType": str(),
			"modelUri":  str(),
			"stage":     str(),
		}),
		check: func(p map[string]any) error {
			setDefault(p, "modelType", "custom_model")
			return nil
		},
	},
	{
		segment: "data", containerName: "DataContainerProperties", versionName: "DataVersionBaseProperties",
		container: containerSchema("DataContainerProperties", map[string]*field{
			"dataType": enum("DataType", dataTypes...).withAliases(dataTypeNames),
		}, "dataType"),
		version: union("dataType", "DataType", map[string]*field{
			"uri_file":   dataVersion("UriFileDataVersion", "uri_file", nil),
			"uri_folder": dataVersion("UriFolderDataVersion", "uri_folder", nil),
			"mltable":    dataVersion("MLTableData", "mltable", map[string]*field{"referencedUris": arrayOf(str())}),
		}).withAliases(dataTypeNames),
	},
}

func dataVersion(name, dataType string, extra map[string]*field) *field {
	m := assetCommon(map[string]*field{"isAnonymous": boolean(), "dataUri": str()})
	maps.Copy(m, extra)
	return variant(name, "dataType", "DataType", dataType, m, "dataUri")
}

// checkEnvironmentVersion requires an image or a build (or both: Azure's
// example environment version sends both) and sets the defaults and the
// read-only environmentType.
//
// Choice: a version with neither is refused; the spec requires neither,
// but such a version describes no environment and no example sends one.
func checkEnvironmentVersion(p map[string]any) error {
	_, image := p["image"]
	_, build := p["build"]
	if !image && !build {
		return arm.BadRequest(arm.CodeUserError,
			"An environment version needs 'properties.image' (a Docker image) or 'properties.build' (a Docker build context).").
			WithTarget("properties.image")
	}
	setDefault(p, "osType", "Linux")
	setDefault(p, "autoRebuild", "Disabled")
	p["environmentType"] = "UserCreated"
	return nil
}

func registerAssets(e *engine.Engine, _ Options) {
	for _, k := range assetKinds {
		e.Registry().Register(&engine.Type{
			Name:        k.containerType(),
			APIVersions: apiVersionsOf(k.containerType(), V2APIVersions),
			NamePattern: v2NamePattern,
			NameRule:    v2NameRule,
			Put:         engine.Sync,
			Delete:      engine.Sync,
			Strategy:    &assetContainerStrategy{e: e, kind: k, shapes: newShapes(k.containerType(), k.container)},
		})
		e.Registry().Register(&engine.Type{
			Name:           k.versionType(),
			APIVersions:    apiVersionsOf(k.versionType(), V2APIVersions),
			NamePattern:    assetVersionPattern,
			NameRule:       assetVersionRule,
			Put:            engine.Sync,
			Delete:         engine.Sync,
			Strategy:       &assetVersionStrategy{e: e, kind: k, parent: TypeWorkspaces, shapes: newShapes(k.versionType(), k.version)},
			ImplicitParent: implicitContainer,
		})
	}
}

// implicitContainer is the body of the container a version PUT creates:
// empty, except that a data container takes its version's dataType.
func implicitContainer(v *engine.Resource) map[string]any {
	if dt, ok := v.Properties["dataType"]; ok {
		return map[string]any{"properties": map[string]any{"dataType": dt}}
	}
	return nil
}

// assetContainerStrategy serves the asset containers
// (workspaces/{codes,environments,components,models,data}).
//
// latestVersion and nextVersion are derived from the stored versions
// when rendered.
//
// Choice: latestVersion is the most recently created version (archived
// ones included; versions created at the same instant rank by version
// order, see compareVersions), null when there is none (the spec's
// x-nullable, and Azure's examples always show it); nextVersion is one more
// than the greatest integer version, "1" when no version is an integer.
//
// Choice: a container is created by a PUT of its own or, as in Azure,
// implicitly by the PUT of its first version (empty properties; a data
// container takes the version's dataType). Deleting a container deletes
// its versions with it. A data container's dataType cannot change (409).
//
// Choice: every container list (codes included) honours listViewType
// (default ActiveOnly) on properties.isArchived.
//
// Choice: the versions list honours listViewType. With $orderBy
// ("createdtime" or "version", then "asc" or "desc"; default asc) it is
// one page, sorted, cut to $top when given; without it, it is in name
// order in pages of $top (default 100) with nextLink. hash, hashVersion,
// $tags, feed and the other model filters are accepted and ignored.
type assetContainerStrategy struct {
	e      *engine.Engine
	kind   *assetKind
	shapes *shapes
}

var (
	_ engine.Strategy     = (*assetContainerStrategy)(nil)
	_ engine.Renderer     = (*assetContainerStrategy)(nil)
	_ engine.ListFilterer = (*assetContainerStrategy)(nil)
	_ engine.ChildLister  = (*assetContainerStrategy)(nil)
)

// Validate checks the container's properties.
func (s *assetContainerStrategy) Validate(_ context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if err := checkProperties(req, desired, old, s.shapes, s.kind.containerName); err != nil {
		return err
	}
	if old != nil {
		was, now := old.Properties["dataType"], desired.Properties["dataType"]
		if was != now {
			return arm.Conflict(arm.CodeUserError, "The dataType of data container '%s' is '%v' and cannot be changed to '%v'.",
				desired.ID.Name(), was, now).WithTarget("properties.dataType")
		}
	}
	return nil
}

// Render adds latestVersion and nextVersion.
func (s *assetContainerStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, apiVersion string, _ time.Time) error {
	defer s.shapes.render(body, apiVersion)
	props, ok := body["properties"].(map[string]any)
	if !ok {
		return nil
	}
	versions, err := s.e.List(ctx, r.ID, "versions")
	if err != nil {
		return nil
	}
	next := 0
	var latest *engine.Resource
	for _, v := range versions {
		if n, err := strconv.Atoi(v.ID.Name()); err == nil && n >= next {
			next = n + 1
		}
		if latest == nil || v.SystemData.CreatedAt.After(latest.SystemData.CreatedAt) ||
			(v.SystemData.CreatedAt.Equal(latest.SystemData.CreatedAt) && compareVersions(v.ID.Name(), latest.ID.Name()) > 0) {
			latest = v
		}
	}
	props["latestVersion"] = nil // x-nullable in the spec: null while there is no version
	if latest != nil {
		props["latestVersion"] = latest.ID.Name()
	}
	props["nextVersion"] = strconv.Itoa(max(next, 1))
	return nil
}

// ListFilter applies listViewType.
func (s *assetContainerStrategy) ListFilter(req *engine.Request) (func(*engine.Resource) bool, error) {
	return listViewFilter(req)
}

// ListChildren answers a versions list with $orderBy; other lists fall
// through to the engine.
func (s *assetContainerStrategy) ListChildren(ctx context.Context, req *engine.Request, r *engine.Resource, child string) (*engine.Response, bool, error) {
	orderBy := req.QueryValue("$orderBy")
	if !strings.EqualFold(child, "versions") || orderBy == "" {
		return nil, false, nil
	}
	cmp, err := versionOrder(orderBy)
	if err != nil {
		return nil, true, err
	}
	keep, err := listViewFilter(req)
	if err != nil {
		return nil, true, err
	}
	top := -1
	if t := req.QueryValue("$top"); t != "" {
		if top, err = strconv.Atoi(t); err != nil || top < 1 {
			return nil, true, arm.BadRequest("InvalidTopInQueryString", "The value '%s' of query parameter '$top' is invalid: it must be a positive integer.", t)
		}
	}
	versions, err := s.e.List(ctx, r.ID, "versions")
	if err != nil {
		return nil, true, err
	}
	if keep != nil {
		versions = slices.DeleteFunc(versions, func(v *engine.Resource) bool { return !keep(v) })
	}
	slices.SortStableFunc(versions, cmp)
	if top >= 0 && len(versions) > top {
		versions = versions[:top]
	}
	out := make([]any, 0, len(versions))
	for _, v := range versions {
		b, err := s.e.Render(ctx, req, v)
		if err != nil {
			return nil, true, err
		}
		out = append(out, b)
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out}), true, nil
}

// versionOrder parses $orderBy.
func versionOrder(orderBy string) (func(a, b *engine.Resource) int, error) {
	fields := strings.Fields(strings.ToLower(orderBy))
	desc := len(fields) == 2 && fields[1] == "desc"
	var cmp func(a, b *engine.Resource) int
	switch {
	case len(fields) == 0 || len(fields) > 2 || (len(fields) == 2 && fields[1] != "asc" && fields[1] != "desc"):
	case fields[0] == "createdtime":
		cmp = func(a, b *engine.Resource) int { return a.SystemData.CreatedAt.Compare(b.SystemData.CreatedAt) }
	case fields[0] == "version":
		cmp = func(a, b *engine.Resource) int { return compareVersions(a.ID.Name(), b.ID.Name()) }
	}
	if cmp == nil {
		return nil, arm.BadRequest(arm.CodeUserError,
			"The value '%s' of query parameter '$orderBy' is invalid; use 'createdtime' or 'version', optionally followed by 'asc' or 'desc'.", orderBy).
			WithTarget("$orderBy")
	}
	if desc {
		return func(a, b *engine.Resource) int { return cmp(b, a) }, nil
	}
	return cmp, nil
}

// compareVersions orders integers numerically, before other names, which
// compare as strings.
func compareVersions(a, b string) int {
	na, errA := strconv.Atoi(a)
	nb, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return na - nb
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// assetVersionStrategy serves the asset versions
// (workspaces/{kind}/{name}/versions/{version}).
//
// Choice: a version is immutable once created, except for description,
// tags, isArchived (archive and unarchive) and properties, which may only
// gain keys; any other change is refused with 409 UserError naming the
// version and the member. A data version's dataType must be its
// container's (400 UserError otherwise).
//
// Choice: POST startPendingUpload on a code version answers a
// TemporaryBlobReference to a blob in the workspace's storage account
// ("https://{account}.blob.core.windows.net/azureml-blobstore-{workspaceId}/LocalUpload/{pendingUploadId}/"),
// with a container SAS valid for one day (sasFor: signed with the
// account's key when armlet holds the account, so azblob or azcopy can
// upload through armlet's blob data plane). The version must exist (the
// engine answers 404 otherwise).
type assetVersionStrategy struct {
	e    *engine.Engine
	kind *assetKind
	// parent is the type the assets live under: TypeWorkspaces or
	// TypeRegistries.
	parent string
	shapes *shapes
}

var (
	_ engine.Strategy     = (*assetVersionStrategy)(nil)
	_ engine.Renderer     = (*assetVersionStrategy)(nil)
	_ engine.ListFilterer = (*assetVersionStrategy)(nil)
	_ engine.Actioner     = (*assetVersionStrategy)(nil)
)

// mutableVersionMembers may change on an existing version.
var mutableVersionMembers = map[string]bool{"description": true, "tags": true, "isArchived": true, "properties": true}

// Validate checks the version's properties and their immutability.
func (s *assetVersionStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if err := checkProperties(req, desired, old, s.shapes, s.kind.versionName); err != nil {
		return err
	}
	p := desired.Properties
	if s.kind.check != nil {
		if err := s.kind.check(p); err != nil {
			return err
		}
	}
	if dt, ok := p["dataType"]; ok {
		if c, err := s.e.Get(ctx, desired.ID.Parent()); err == nil && c.Properties["dataType"] != dt {
			return arm.BadRequest(arm.CodeUserError, "Data container '%s' holds data of type '%v'; version '%s' cannot be of type '%v'.",
				c.ID.Name(), c.Properties["dataType"], desired.ID.Name(), dt).WithTarget("properties.dataType")
		}
	}
	if old == nil {
		return nil
	}
	return checkVersionChange(desired, old)
}

// checkVersionChange refuses changes to an existing version's immutable
// members.
func checkVersionChange(desired, old *engine.Resource) error {
	refuse := func(member string) error {
		return arm.Conflict(arm.CodeUserError,
			"Version '%s' of asset '%s' already exists and its '%s' cannot be changed: an asset version is immutable except for description, tags, isArchived and added properties. Create a new version instead.",
			desired.ID.Name(), desired.ID.Parent().Name(), member).WithTarget("properties." + member)
	}
	keys := slices.Sorted(maps.Keys(desired.Properties))
	for k := range old.Properties {
		if _, ok := desired.Properties[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if !mutableVersionMembers[k] && !reflect.DeepEqual(desired.Properties[k], old.Properties[k]) {
			return refuse(k)
		}
	}
	was, _ := old.Properties["properties"].(map[string]any)
	now, _ := desired.Properties["properties"].(map[string]any)
	for k, v := range was {
		if nv, ok := now[k]; !ok || nv != v {
			return refuse("properties." + k)
		}
	}
	return nil
}

// Render shapes the version for the api-version.
//
// Choice: a model version without flavors shows an empty map: Azure always
// answers the member (azure-ai-ml 1.4.0 reads it unconditionally and fails
// without it), and the spec's examples show a map.
func (s *assetVersionStrategy) Render(_ context.Context, _ *engine.Resource, body map[string]any, apiVersion string, _ time.Time) error {
	if props, _ := body["properties"].(map[string]any); props != nil && s.kind.segment == "models" {
		setDefault(props, "flavors", map[string]any{})
	}
	s.shapes.render(body, apiVersion)
	return nil
}

// ListFilter applies listViewType.
func (s *assetVersionStrategy) ListFilter(req *engine.Request) (func(*engine.Resource) bool, error) {
	return listViewFilter(req)
}

// pendingUploadRequest is PendingUploadRequestDto.
var pendingUploadRequest = object("PendingUploadRequestDto", map[string]*field{
	"pendingUploadId":   str(),
	"pendingUploadType": enum("PendingUploadType", "None", "TemporaryBlobReference"),
})

// Action answers POST startPendingUpload (code versions of a workspace;
// code, data and model versions of a registry) and publish (a workspace's
// versions, registry_assets.go).
func (s *assetVersionStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	switch {
	case strings.EqualFold(name, "startPendingUpload") && s.uploads():
		return s.startPendingUpload(ctx, req, r)
	case strings.EqualFold(name, "publish") && s.parent == TypeWorkspaces:
		return s.publish(ctx, req, r)
	}
	return nil, engine.UnknownAction(s.kind.versionTypeIn(s.parent), name)
}

// uploads reports whether the versions answer startPendingUpload.
func (s *assetVersionStrategy) uploads() bool {
	if s.parent == TypeRegistries {
		return s.kind.segment == "codes" || s.kind.segment == "data" || s.kind.segment == "models"
	}
	return s.kind.segment == "codes"
}

// startPendingUpload answers a TemporaryBlobReference to a blob in the
// storage account of the workspace or registry (uploadTarget).
func (s *assetVersionStrategy) startPendingUpload(ctx context.Context, req *engine.Request, r *engine.Resource) (*engine.Response, error) {
	var body map[string]any
	if len(strings.TrimSpace(string(req.Body))) > 0 {
		var err error
		if body, err = pendingUploadRequest.checkBody(req.Body); err != nil {
			return nil, err
		}
	}
	uploadID, _ := body["pendingUploadId"].(string)
	if uploadID == "" {
		uploadID = uuid.NewString()
	}
	storage, container, err := s.uploadTarget(ctx, r)
	if err != nil {
		return nil, err
	}
	ref, err := blobReference(ctx, s.e, req, storage, container, uploadID)
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, map[string]any{
		"pendingUploadId":             uploadID,
		"pendingUploadType":           "TemporaryBlobReference",
		"blobReferenceForConsumption": ref,
	}), nil
}

// blobReference is a blobReferenceForConsumption: a folder for upload
// uploadID in container of the storage account, with a container SAS
// (sasFor) granting read, create, write and list for a day. When armlet
// holds the account the container is made if it does not exist (Choice:
// Azure ML's upload containers exist; armlet names the registries' own,
// so it makes them), as caller; an account armlet does not hold gets
// nothing made.
func blobReference(ctx context.Context, e *engine.Engine, req *engine.Request, storage resourceid.ID, container, uploadID string) (map[string]any, error) {
	account := strings.ToLower(storage.Name())
	blob := "https://" + account + ".blob.core.windows.net/" + container + "/LocalUpload/" + uploadID + "/"
	q, held, err := sasFor(ctx, e, storage, container, "", "rcwl", req.Now)
	if err != nil {
		return nil, err
	}
	if held {
		if err := makeContainer(ctx, e, req, storage, container); err != nil {
			return nil, err
		}
	}
	return map[string]any{
		"blobUri":             blob,
		"storageAccountArmId": storage.String(),
		"credential":          map[string]any{"credentialType": "SAS", "sasUri": blob + "?" + q},
	}, nil
}

// makeContainer makes the blob container name in the storage account
// armlet holds, unless it exists (Import leaves it alone).
func makeContainer(ctx context.Context, e *engine.Engine, req *engine.Request, storage resourceid.ID, name string) error {
	t, ok := e.Registry().Lookup(typeBlobContainers)
	if !ok {
		return nil
	}
	_, err := e.Import(ctx, containerID(storage, name), containerBody(), t.APIVersions[0], req.Caller)
	return err
}

// containerID is the resource ID of the blob container name in storage.
func containerID(storage resourceid.ID, name string) resourceid.ID {
	return storage.Child("blobServices", "default").Child("containers", name)
}

// containerBody is the body of the containers the provider makes: private.
func containerBody() map[string]any {
	return map[string]any{"properties": map[string]any{"publicAccess": "None"}}
}

// sasTTL is how long the SAS the provider hands out is valid.
const sasTTL = 24 * time.Hour

// sasFor is the query of a service SAS over container (blob "") or its
// blob, with the permissions sp, valid sasTTL from now over https. held
// reports whether armlet holds the storage account (engine.AccessKeys):
// then the SAS is signed with the account's primary key (storagesas), so
// armlet's blob data plane accepts it, and refuses it once that key is
// regenerated, as Azure does. An account armlet does not hold (a link to
// a resource outside armlet, a registry's system-created account in its
// managed resource group) gets a SAS of the same shape whose signature is
// random: no key of armlet's could make a signature that means anything.
func sasFor(ctx context.Context, e *engine.Engine, storage resourceid.ID, container, blob, sp string, now time.Time) (query string, held bool, err error) {
	sr := "c"
	if blob != "" {
		sr = "b"
	}
	expiry := now.Add(sasTTL)
	keys, held, err := e.AccessKeys(ctx, storage)
	if err != nil {
		return "", false, err
	}
	if held {
		if q, ok := storagesas.SignService(keys[0], strings.ToLower(storage.Name()), container, blob, sr, sp, expiry); ok {
			return q, true, nil
		}
	}
	return unsignedSAS(sr, sp, expiry), held, nil
}

// unsignedSAS is a SAS query of the shape sasFor makes whose signature is
// random (for what no key of armlet's may sign).
func unsignedSAS(sr, sp string, expiry time.Time) string {
	q := url.Values{"sv": {storagesas.Version}, "sr": {sr}, "sp": {sp}, "se": {expiry.UTC().Format(time.RFC3339)}, "spr": {"https"}, "sig": {randomKey(32)}}
	return q.Encode()
}

// uploadTarget is the storage account and blob container uploads of the
// version r go to: the workspace's, container
// azureml-blobstore-{workspaceId}, or the registry's (registryUploadTarget).
func (s *assetVersionStrategy) uploadTarget(ctx context.Context, r *engine.Resource) (resourceid.ID, string, error) {
	if s.parent == TypeRegistries {
		return registryUploadTarget(ctx, s.e, r, s.kind)
	}
	ws, err := workspaceOf(ctx, s.e, r)
	if err != nil {
		return resourceid.ID{}, "", err
	}
	wsID, _ := ws.Properties["workspaceId"].(string)
	return workspaceStorage(ws), "azureml-blobstore-" + wsID, nil
}
