package machinelearning

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/google/uuid"
)

// The feature store's children (SpecMFE 2023-04-01 on; armmachinelearning
// v4's FeaturesetContainers, FeaturesetVersions, Features,
// FeaturestoreEntityContainers and FeaturestoreEntityVersions clients):
// featuresets and featurestoreEntities, containers with versions as the
// assets have, the features of a featureset version, and the
// materialization jobs a backfill starts.
//
// Unlike the other assets, every PUT is long-running (201 or 200 with
// Azure-AsyncOperation, read back from the original URI) and every DELETE
// too (202 with Location), as the v4 clients' pollers expect.

// Resource types of the feature store.
const (
	TypeFeaturesets                = TypeWorkspaces + "/featuresets"
	TypeFeaturesetVersions         = TypeFeaturesets + "/versions"
	TypeFeatures                   = TypeFeaturesetVersions + "/features"
	TypeFeaturestoreEntities       = TypeWorkspaces + "/featurestoreEntities"
	TypeFeaturestoreEntityVersions = TypeFeaturestoreEntities + "/versions"
)

// Workspace kinds (the envelope member kind; docs/azure-ml-arm.md 3).
const (
	kindDefault      = "Default"
	kindFeatureStore = "FeatureStore"
	kindHub          = "Hub"
	kindProject      = "Project"
)

// backfillJobsVersion is the first api-version whose backfill takes a
// jobId and answers jobIds, and that has no listMaterializationJobs
// (2023-04-01's backfill answers one jobId and lists the jobs with
// listMaterializationJobs).
const backfillJobsVersion = "2023-10-01"

// featurePropertyPrefix introduces, in a featureset version's
// properties.properties, a feature and its data type.
//
// Choice: Azure reads a featureset's features from the specification
// folder (FeatureSetSpec.yaml at specification.path), which armlet cannot
// read. A version declares them instead in its string dictionary
// properties.properties: the key "azureml.feature.{featureName}" with the
// feature's FeatureDataType ("String", "Float", ...) as value, optionally
// followed by ":" and a description. The features list and GET are derived
// from those keys; a value that is not a data type is refused (400 UserError
// naming the key). Since a version's properties may only gain keys,
// features may be added later, never changed.
const featurePropertyPrefix = "azureml.feature."

var (
	featureDataType = enum("FeatureDataType", "String", "Integer", "Long", "Float", "Double", "Binary", "Datetime", "Boolean")

	materializationSettings = object("MaterializationSettings", map[string]*field{
		"notification":       notificationSetting,
		"resource":           materializationCompute,
		"schedule":           scheduleTrigger.variants["Recurrence"],
		"sparkConfiguration": mapOf(str()),
		"storeType":          enum("MaterializationStoreType", "None", "Online", "Offline", "OnlineAndOffline"),
	})

	materializationCompute = object("MaterializationComputeResource", map[string]*field{"instanceType": str()})

	featureWindow = object("FeatureWindow", map[string]*field{
		"featureWindowStart": str(),
		"featureWindowEnd":   str(),
	})

	// backfillRequest is FeaturesetVersionBackfillRequest; jobId and
	// dataAvailabilityStatus are 2023-10-01's.
	backfillRequest = object("FeaturesetVersionBackfillRequest", map[string]*field{
		"dataAvailabilityStatus": arrayOf(enum("DataAvailabilityStatus", "None", "Pending", "Incomplete", "Complete")).from(backfillJobsVersion),
		"description":            str(),
		"displayName":            str(),
		"featureWindow":          featureWindow,
		"jobId":                  str().from(backfillJobsVersion),
		"properties":             mapOf(str()),
		"resource":               materializationCompute,
		"sparkConfiguration":     mapOf(str()),
		"tags":                   mapOf(str()),
	})
)

// featureKinds are the feature store's two asset kinds.
var featureKinds = []*assetKind{
	{
		segment: "featuresets", containerName: "FeaturesetContainerProperties", versionName: "FeaturesetVersionProperties",
		container: containerSchema("FeaturesetContainerProperties", nil),
		version: versionSchema("FeaturesetVersionProperties", map[string]*field{
			"entities":                arrayOf(str()),
			"materializationSettings": materializationSettings,
			"specification":           object("FeaturesetSpecification", map[string]*field{"path": str()}),
			"stage":                   str(),
		}),
		check: checkFeatureProperties,
	},
	{
		segment: "featurestoreEntities", containerName: "FeaturestoreEntityContainerProperties", versionName: "FeaturestoreEntityVersionProperties",
		container: containerSchema("FeaturestoreEntityContainerProperties", nil),
		version: versionSchema("FeaturestoreEntityVersionProperties", map[string]*field{
			"indexColumns": arrayOf(object("IndexColumn", map[string]*field{
				"columnName": str(),
				"dataType":   featureDataType,
			})),
			"stage": str(),
		}),
	},
}

// registerFeatureStore adds the feature store's types.
func registerFeatureStore(e *engine.Engine, _ Options) {
	for _, k := range featureKinds {
		e.Registry().Register(&engine.Type{
			Name:        k.containerType(),
			APIVersions: apiVersionsOf(k.containerType(), V2APIVersions),
			NamePattern: v2NamePattern,
			NameRule:    v2NameRule,
			Put:         engine.AsyncOperation,
			Delete:      engine.Location,
			Strategy: &featureContainerStrategy{
				assetContainerStrategy: &assetContainerStrategy{e: e, kind: k, shapes: newShapes(k.containerType(), k.container)},
			},
		})
		e.Registry().Register(&engine.Type{
			Name:           k.versionType(),
			APIVersions:    apiVersionsOf(k.versionType(), V2APIVersions),
			NamePattern:    assetVersionPattern,
			NameRule:       assetVersionRule,
			Put:            engine.AsyncOperation,
			Delete:         engine.Location,
			ImplicitParent: implicitContainer,
			Strategy: &featureVersionStrategy{
				assetVersionStrategy: &assetVersionStrategy{e: e, kind: k, shapes: newShapes(k.versionType(), k.version)},
			},
		})
	}
	e.Registry().Register(&engine.Type{
		Name:        TypeFeatures,
		APIVersions: apiVersionsOf(TypeFeatures, V2APIVersions),
		NamePattern: v2NamePattern,
		NameRule:    v2NameRule,
		Strategy:    &featureStrategy{},
	})
}

// requireFeatureStore refuses a write of a feature store child (r) in a
// workspace whose kind is not FeatureStore.
//
// Choice: Azure's answer is unknown; armlet refuses the PUT with 400
// UserError naming the workspace's kind. Reads and lists are served as
// anywhere (a workspace of another kind has no such children: 404 and
// empty lists).
func requireFeatureStore(ctx context.Context, e *engine.Engine, r *engine.Resource) error {
	ws, err := workspaceOf(ctx, e, r)
	if err != nil {
		return err
	}
	if strings.EqualFold(ws.Kind, kindFeatureStore) {
		return nil
	}
	return arm.BadRequest(arm.CodeUserError,
		"Workspace '%s' is of kind '%s'; '%s' can only be created in a workspace of kind '%s' (a feature store).",
		ws.ID.Name(), orDefaultKind(ws.Kind), r.ID.ResourceType(), kindFeatureStore).WithTarget("kind")
}

func orDefaultKind(k string) string {
	if k == "" {
		return kindDefault
	}
	return k
}

// featureContainerStrategy serves featuresets and featurestoreEntities
// containers: the asset containers' behaviour (latestVersion,
// nextVersion, listViewType, deletion with the versions), in feature
// stores only.
type featureContainerStrategy struct {
	*assetContainerStrategy
}

// Validate refuses containers outside feature stores, then checks as an
// asset container.
func (s *featureContainerStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if err := requireFeatureStore(ctx, s.e, desired); err != nil {
		return err
	}
	return s.assetContainerStrategy.Validate(ctx, req, desired, old)
}

// featureVersionStrategy serves featuresets and featurestoreEntities
// versions, and a featureset version's backfill and (at 2023-04-01)
// listMaterializationJobs.
//
// Choice: as the asset versions, a version is immutable once created but
// for description, tags, isArchived and added properties; stage may
// change too (a version is promoted from Development to Production), and
// a featureset version's materializationSettings (azure-ai-ml enables
// materialization on an existing version with a PUT).
//
// Choice: a featureset version's entities that read
// "azureml:{entity}:{version}" must name a featurestoreEntities version of
// the workspace (400 UserError naming properties.entities[i] otherwise);
// other forms (full resource IDs) are kept unchecked.
type featureVersionStrategy struct {
	*assetVersionStrategy
}

var (
	_ engine.Strategy     = (*featureVersionStrategy)(nil)
	_ engine.Renderer     = (*featureVersionStrategy)(nil)
	_ engine.ListFilterer = (*featureVersionStrategy)(nil)
	_ engine.Actioner     = (*featureVersionStrategy)(nil)
	_ engine.Strategy     = (*featureContainerStrategy)(nil)
	_ engine.ChildLister  = (*featureContainerStrategy)(nil)
)

// featureMutable are the members a feature store version may change
// besides the asset versions' (mutableVersionMembers).
var featureMutable = []string{"stage", "materializationSettings"}

// Validate checks a feature store version.
func (s *featureVersionStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if err := requireFeatureStore(ctx, s.e, desired); err != nil {
		return err
	}
	if err := checkProperties(req, desired, old, s.shapes, s.kind.versionName); err != nil {
		return err
	}
	if s.kind.check != nil {
		if err := s.kind.check(desired.Properties); err != nil {
			return err
		}
	}
	if err := s.checkEntities(ctx, desired); err != nil {
		return err
	}
	if old == nil {
		return nil
	}
	// Compare without the members a feature store version may change.
	d, o := desired.Clone(), old.Clone()
	for _, m := range featureMutable {
		delete(d.Properties, m)
		delete(o.Properties, m)
	}
	return checkVersionChange(d, o)
}

// checkEntities checks the azureml:{name}:{version} references of a
// featureset version's entities.
func (s *featureVersionStrategy) checkEntities(ctx context.Context, desired *engine.Resource) error {
	list, _ := desired.Properties["entities"].([]any)
	for i, item := range list {
		ref, _ := item.(string)
		parts := strings.Split(ref, ":")
		if len(parts) != 3 || !strings.EqualFold(parts[0], "azureml") {
			continue
		}
		ws := desired.ID
		for !strings.EqualFold(ws.ResourceType(), TypeWorkspaces) {
			ws = ws.Parent()
		}
		if _, err := s.e.Get(ctx, ws.Child("featurestoreEntities", parts[1]).Child("versions", parts[2])); err != nil {
			return arm.BadRequest(arm.CodeUserError,
				"The feature store entity '%s' (version '%s') named by properties.entities[%d] does not exist in workspace '%s'.",
				parts[1], parts[2], i, ws.Name()).WithTarget("properties.entities[" + strconv.Itoa(i) + "]")
		}
	}
	return nil
}

// checkFeatureProperties checks the features a featureset version
// declares (featurePropertyPrefix) and stores their data types in the
// enum's casing.
func checkFeatureProperties(p map[string]any) error {
	props, _ := p["properties"].(map[string]any)
	for k, v := range props {
		if !strings.HasPrefix(strings.ToLower(k), featurePropertyPrefix) {
			continue
		}
		s, _ := v.(string)
		dt, desc, _ := strings.Cut(s, ":")
		name := k[len(featurePropertyPrefix):]
		canon, err := featureDataType.check("properties.properties."+k, strings.TrimSpace(dt))
		if err != nil || !v2NamePattern.MatchString(name) {
			return arm.BadRequest(arm.CodeUserError,
				"The feature property '%s' must name a feature (%s) and have a data type (%s), optionally followed by ':' and a description; got '%s'.",
				k, strings.TrimSuffix(v2NameRule, "."), strings.Join(featureDataType.enum, ", "), s).WithTarget("properties.properties." + k)
		}
		if desc != "" {
			props[k] = canon.(string) + ":" + desc
		} else {
			props[k] = canon
		}
	}
	return nil
}

// featuresOf returns the features a featureset version declares, by name.
func featuresOf(v *engine.Resource) map[string]map[string]any {
	out := map[string]map[string]any{}
	props, _ := v.Properties["properties"].(map[string]any)
	for k, val := range props {
		if !strings.HasPrefix(strings.ToLower(k), featurePropertyPrefix) {
			continue
		}
		s, _ := val.(string)
		dt, desc, _ := strings.Cut(s, ":")
		name := k[len(featurePropertyPrefix):]
		f := map[string]any{"featureName": name, "dataType": dt, "tags": map[string]any{}, "properties": map[string]any{}}
		if desc != "" {
			f["description"] = desc
		}
		out[name] = f
	}
	return out
}

// Action answers backfill and listMaterializationJobs on a featureset
// version, and startPendingUpload as the asset versions do (refused
// there for feature store kinds).
func (s *featureVersionStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	if s.kind.segment == "featuresets" {
		switch {
		case strings.EqualFold(name, "backfill"):
			return s.backfill(ctx, req, r)
		case strings.EqualFold(name, "listMaterializationJobs") && !atLeast(req.APIVersion, backfillJobsVersion):
			return s.listMaterializationJobs(ctx, req, r)
		}
	}
	return nil, engine.UnknownAction(s.kind.versionType(), name)
}

// dataMaterializationJobs is the Internal.Data key of a featureset
// version's materialization jobs ([]materializationJob).
const dataMaterializationJobs = "materializationJobs"

// materializationJob is one backfill's job, as a featureset version
// remembers it for listMaterializationJobs.
type materializationJob struct {
	JobID       string         `json:"jobId"`
	DisplayName string         `json:"displayName,omitempty"`
	CreatedDate time.Time      `json:"createdDate"`
	Window      map[string]any `json:"featureWindow,omitempty"`
	Tags        map[string]any `json:"tags,omitempty"`
}

// backfill starts a materialization job for the featureset version r.
//
// Choice: the version must have materializationSettings with a storeType
// other than None (400 UserError naming it otherwise), and featureWindow,
// when both ends are given, must not end before it starts (400 naming
// featureWindow). The job is a Spark job of the workspace
// (workspaces/{ws}/jobs/{jobId}, so GET, list and cancel work on it; it
// runs over the clock as jobs do), named jobId when the request gives one
// (409 UserError if that job exists), else a new GUID; its codeId and
// entry stand for Azure's built-in materialization code. The POST is a
// long-running operation (202 with Location and Azure-AsyncOperation)
// whose result is {"jobIds": [id]} at 2023-10-01 and later, {"jobId": id}
// before.
func (s *featureVersionStrategy) backfill(ctx context.Context, req *engine.Request, r *engine.Resource) (*engine.Response, error) {
	body := map[string]any{}
	if len(strings.TrimSpace(string(req.Body))) > 0 {
		v, err := decode(req.Body)
		if err != nil {
			return nil, arm.InvalidContent("", "The request content was invalid and could not be deserialized: '%s'.", err)
		}
		if !isPreview(req.APIVersion) {
			if err := backfillRequest.gate("", v, req.APIVersion, backfillRequest.typeName); err != nil {
				return nil, err
			}
		}
		n, err := backfillRequest.check("", v)
		if err != nil {
			return nil, err
		}
		if m, ok := n.(map[string]any); ok {
			body = m
		}
	}
	ms, _ := r.Properties["materializationSettings"].(map[string]any)
	if st, _ := ms["storeType"].(string); st == "" || st == "None" {
		return nil, arm.BadRequest(arm.CodeUserError,
			"Featureset '%s' version '%s' has no materialization store: set properties.materializationSettings.storeType to Online, Offline or OnlineAndOffline before a backfill.",
			r.ID.Parent().Name(), r.ID.Name()).WithTarget("properties.materializationSettings.storeType")
	}
	window, _ := body["featureWindow"].(map[string]any)
	if err := checkFeatureWindow(window); err != nil {
		return nil, err
	}
	ws, err := workspaceOf(ctx, s.e, r)
	if err != nil {
		return nil, err
	}
	jobID, _ := body["jobId"].(string)
	if jobID == "" {
		jobID = uuid.NewString()
	}
	jobRID := ws.ID.Child("jobs", jobID)
	if _, err := s.e.Get(ctx, jobRID); err == nil {
		return nil, arm.Conflict(arm.CodeUserError, "A job named '%s' already exists in workspace '%s'.", jobID, ws.ID.Name()).WithTarget("jobId")
	}
	if err := s.startMaterializationJob(ctx, req, r, ws, jobRID, body, ms); err != nil {
		return nil, err
	}
	job := materializationJob{JobID: jobID, CreatedDate: req.Now.UTC(), Window: window}
	job.DisplayName, _ = body["displayName"].(string)
	job.Tags, _ = body["tags"].(map[string]any)
	if _, err := s.e.Update(ctx, r.ID, func(v *engine.Resource) error {
		var jobs []materializationJob
		v.GetData(dataMaterializationJobs, &jobs)
		if slices.ContainsFunc(jobs, func(j materializationJob) bool { return j.JobID == jobID }) {
			return engine.ErrNoChange
		}
		v.SetData(dataMaterializationJobs, append(jobs, job))
		return nil
	}); err != nil {
		return nil, err
	}
	result := map[string]any{"jobIds": []any{jobID}}
	if !atLeast(req.APIVersion, backfillJobsVersion) {
		result = map[string]any{"jobId": jobID}
	}
	return s.e.NewActionOperation(ctx, req, r, result, req.Now.Add(s.e.OperationDuration()))
}

// checkFeatureWindow refuses a window whose end is before its start.
func checkFeatureWindow(w map[string]any) error {
	var ends [2]time.Time
	for i, k := range []string{"featureWindowStart", "featureWindowEnd"} {
		s, _ := w[k].(string)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return arm.BadRequest(arm.CodeUserError, "The value '%s' of 'featureWindow.%s' is not an ISO 8601 date and time.", s, k).WithTarget("featureWindow." + k)
		}
		ends[i] = t
	}
	if !ends[0].IsZero() && !ends[1].IsZero() && ends[1].Before(ends[0]) {
		return arm.BadRequest(arm.CodeUserError, "The feature window ends before it starts.").WithTarget("featureWindow")
	}
	return nil
}

// materializationCodeID is the codeId of a backfill's Spark job.
//
// Choice: Azure runs built-in materialization code whose identity is not
// published; armlet names a registry code asset that stands for it.
const materializationCodeID = "azureml://registries/azureml/codes/featurestore-materialization/versions/1"

// startMaterializationJob stores the backfill's Spark job at id and
// starts its clock, as a client's job PUT would. Its compute settings are
// the request's, else the version's materializationSettings'; its Spark
// runtime is the workspace's featureStoreSettings.computeRuntime.
func (s *featureVersionStrategy) startMaterializationJob(ctx context.Context, req *engine.Request, v, ws *engine.Resource, id resourceid.ID, body, ms map[string]any) error {
	first := func(k string) any {
		if x, ok := body[k]; ok {
			return x
		}
		return ms[k]
	}
	res := map[string]any{}
	if r, _ := first("resource").(map[string]any); r["instanceType"] != nil {
		res["instanceType"] = r["instanceType"]
	}
	if fs, _ := ws.Properties["featureStoreSettings"].(map[string]any); fs != nil {
		if cr, _ := fs["computeRuntime"].(map[string]any); cr["sparkRuntimeVersion"] != nil {
			res["runtimeVersion"] = cr["sparkRuntimeVersion"]
		}
	}
	jobProps := map[string]any{}
	if p, _ := body["properties"].(map[string]any); p != nil {
		maps.Copy(jobProps, p)
	}
	jobProps["azureml.FeatureStoreJobType"] = "BackfillMaterialization"
	jobProps["azureml.FeaturesetName"] = v.ID.Parent().Name()
	jobProps["azureml.FeaturesetVersion"] = v.ID.Name()
	p := map[string]any{
		"jobType":    "Spark",
		"codeId":     materializationCodeID,
		"entry":      map[string]any{"sparkJobEntryType": "SparkJobPythonEntry", "file": "materialize.py"},
		"properties": jobProps,
		"resources":  res,
	}
	if conf, ok := first("sparkConfiguration").(map[string]any); ok {
		p["conf"] = conf
	}
	for _, k := range []string{"displayName", "description", "tags"} {
		if x, ok := body[k]; ok {
			p[k] = x
		}
	}
	imported, err := s.e.Import(ctx, id, map[string]any{"properties": p}, V2APIVersions[0], req.Caller)
	if err != nil {
		return err
	}
	if !imported {
		return arm.Conflict(arm.CodeUserError, "A job named '%s' already exists in workspace '%s'.", id.Name(), ws.ID.Name()).WithTarget("jobId")
	}
	// An imported job has long completed; this one starts now.
	_, err = s.e.Update(ctx, id, func(j *engine.Resource) error {
		j.SetData(dataJobTimeline, jobTimeline{Submitted: req.Now, Step: s.e.OperationDuration()})
		return nil
	})
	return err
}

// listMaterializationJobs lists the jobs the version's backfills started
// (2023-04-01 and the previews before 2023-10-01).
//
// Choice: one page, oldest first; each job's status is its job
// resource's now (jobs deleted since are left out); the query parameters
// featureWindowStart and featureWindowEnd keep the jobs whose window
// overlaps theirs, filters and $skipToken are accepted and ignored. The
// type of every job is BackfillMaterialization (armlet runs no
// recurrent materialization).
func (s *featureVersionStrategy) listMaterializationJobs(ctx context.Context, req *engine.Request, r *engine.Resource) (*engine.Response, error) {
	var jobs []materializationJob
	r.GetData(dataMaterializationJobs, &jobs)
	ws, err := workspaceOf(ctx, s.e, r)
	if err != nil {
		return nil, err
	}
	from, to := req.QueryValue("featureWindowStart"), req.QueryValue("featureWindowEnd")
	out := []any{}
	for _, j := range jobs {
		if !windowOverlaps(j.Window, from, to) {
			continue
		}
		job, err := s.e.Get(ctx, ws.ID.Child("jobs", j.JobID))
		if err != nil {
			continue
		}
		rendered, err := s.e.Render(ctx, req, job)
		if err != nil {
			return nil, err
		}
		jp, _ := rendered["properties"].(map[string]any)
		item := map[string]any{
			"type":         "BackfillMaterialization",
			"jobId":        j.JobID,
			"experimentId": j.JobID,
			"createdDate":  j.CreatedDate.Format(time.RFC3339Nano),
			"status":       jp["status"],
			"duration":     isoDuration(req.Now.Sub(j.CreatedDate)),
		}
		if j.DisplayName != "" {
			item["displayName"] = j.DisplayName
		}
		if j.Window != nil {
			item["featureWindow"] = j.Window
		}
		if j.Tags != nil {
			item["tags"] = j.Tags
		}
		out = append(out, item)
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out}), nil
}

// windowOverlaps reports whether window w overlaps [from, to] (RFC 3339
// bounds; an empty or unreadable bound is open).
func windowOverlaps(w map[string]any, from, to string) bool {
	parse := func(s string) (time.Time, bool) {
		t, err := time.Parse(time.RFC3339Nano, s)
		return t, err == nil && s != ""
	}
	start, _ := w["featureWindowStart"].(string)
	end, _ := w["featureWindowEnd"].(string)
	if f, ok := parse(from); ok {
		if e, ok := parse(end); ok && e.Before(f) {
			return false
		}
	}
	if t, ok := parse(to); ok {
		if s, ok := parse(start); ok && s.After(t) {
			return false
		}
	}
	return true
}

// isoDuration formats d as an ISO 8601 duration of whole seconds
// ("PT5M3S").
func isoDuration(d time.Duration) string {
	d = d.Truncate(time.Second)
	if d <= 0 {
		return "PT0S"
	}
	out := "PT"
	if h := d / time.Hour; h > 0 {
		out += strconv.Itoa(int(h)) + "H"
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		out += strconv.Itoa(int(m)) + "M"
		d -= m * time.Minute
	}
	if d > 0 {
		out += strconv.Itoa(int(d/time.Second)) + "S"
	}
	return out
}

// featureStrategy serves the features of a featureset version
// (featuresets/{name}/versions/{version}/features[/{feature}]): GET of one
// and the list, derived from the version (featurePropertyPrefix). They
// are read-only (405 for other methods).
//
// Choice: the list's featureName query parameter keeps the feature of
// that name (ignoring case) and description those whose description
// contains it; tags, listViewType, pageSize and $skip are accepted and
// ignored (one page, in name order).
type featureStrategy struct{}

var (
	_ engine.Strategy        = (*featureStrategy)(nil)
	_ engine.VirtualStrategy = (*featureStrategy)(nil)
)

// Validate is never called for a virtual type.
func (featureStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return nil
}

// ServeVirtual answers GET of one feature or of the list.
func (featureStrategy) ServeVirtual(_ context.Context, req *engine.Request, v *engine.Resource, name string) (*engine.Response, error) {
	if req.Method != http.MethodGet {
		return nil, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
			"The requested resource does not support http method '%s' for type '%s'.", req.Method, TypeFeatures)
	}
	features := featuresOf(v)
	body := func(n string) map[string]any {
		return map[string]any{
			"id":         v.ID.Child("features", n).String(),
			"name":       n,
			"type":       TypeFeatures,
			"properties": features[n],
		}
	}
	if name != "" {
		for n := range features {
			if strings.EqualFold(n, name) {
				return engine.JSON(http.StatusOK, body(n)), nil
			}
		}
		return nil, arm.NotFound(arm.CodeResourceNotFound,
			"The feature '%s' of featureset '%s' version '%s' was not found.", name, v.ID.Parent().Name(), v.ID.Name())
	}
	wantName, wantDesc := req.QueryValue("featureName"), req.QueryValue("description")
	out := []any{}
	for _, n := range slices.Sorted(maps.Keys(features)) {
		d, _ := features[n]["description"].(string)
		if (wantName != "" && !strings.EqualFold(n, wantName)) || (wantDesc != "" && !strings.Contains(d, wantDesc)) {
			continue
		}
		out = append(out, body(n))
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out}), nil
}
