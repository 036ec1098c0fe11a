package machinelearning

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// Resource types of the jobs area.
const (
	TypeJobs = TypeWorkspaces + "/jobs"

	typeComputes            = TypeWorkspaces + "/computes"
	typeEnvironmentVersions = TypeWorkspaces + "/environments/versions"
	typeRegistryEnvVersions = Namespace + "/registries/environments/versions"
)

// registerJobs adds workspace jobs (W/jobs/{id}).
func registerJobs(e *engine.Engine, _ Options) {
	e.Registry().Register(&engine.Type{
		Name:        TypeJobs,
		APIVersions: apiVersionsOf(TypeJobs, V2APIVersions),
		NamePattern: v2NamePattern,
		NameRule:    v2NameRule,
		Put:         engine.Sync,
		Delete:      engine.Location,
		Strategy:    &jobStrategy{e: e, shapes: newShapes(TypeJobs, jobBaseProperties)},
	})
}

// jobStrategy serves workspace jobs (docs/azure-ml-arm.md 2.5): PUT is synchronous
// (201 created, 200 updated), DELETE and POST cancel are long-running
// operations answered 202 with a Location header.
//
// properties is a JobBaseProperties union on jobType (Command, Sweep,
// Pipeline, AutoML, Spark). Read-only members (status, a command job's
// parameters, a service's status and errorMessage) are accepted and
// ignored. On create armlet adds the services Studio (the job's page in
// Azure ML studio) and Tracking (the workspace's MLflow tracking URI).
//
// Choice: a job's status follows the clock from its creation, each phase
// one engine operation duration (OperationDuration, 1 s by default)
// except Running, which takes five: NotStarted, Queued, Running,
// Completed. POST cancel on a job that has not finished shows
// CancelRequested for one operation duration, then Canceled, and its
// operation completes when the job is Canceled; cancelling again while the
// cancellation is under way answers the same way. Cancelling a Completed
// or Canceled job is refused with 400 UserError naming the status. No job
// ever fails: armlet runs nothing, so it has no reason to.
//
// Choice: an existing job can be PUT again only to change description,
// displayName, tags, properties and isArchived (as Azure ML says in its
// refusal); a change to any other member is refused with 400 UserError
// naming the member. tags and properties are replaced, not merged.
// services cannot be changed: the stored services are kept and the ones
// sent are ignored (a GET-modify-PUT round trip sends them back).
//
// Choice: a job imported from a seed file is checked as a new one is and
// shows Completed from the start (it ran before armlet knew of it).
//
// Choice: experimentName defaults to "Default", displayName to the job's
// name, isArchived to false.
//
// Choice: references are checked on create (and in schedules' job
// definitions):
//   - computeId, when set, must be the resource ID of a compute of the
//     job's own workspace that exists (no computeId: serverless);
//   - environmentId (a command job's, a sweep job's trial's, and the
//     optional one of Spark and AutoML jobs) may be the resource ID of an
//     environment version of a workspace, which must exist; the resource
//     ID of a registry's environment version, or any azureml:// URI
//     (registry assets), accepted unchecked; "azureml:{name}:{version}",
//     resolved against the job's workspace, which must have that version;
//     or "azureml:{name}@{label}", accepted unchecked (labels are not
//     modelled). Anything else is refused.
//
// A missing compute or environment is refused with 400 UserError naming
// the member. codeId, componentId and the jobs of a pipeline are not
// checked.
//
// Choice: the list query parameters jobType (one job type), tag (a tag
// name, or name=value), properties (comma-separated property names, each
// optionally =value, all required) and listViewType (ActiveOnly, the
// default, ArchivedOnly or All, on isArchived) filter the list; an
// unknown jobType or listViewType is refused with 400 UserError.
type jobStrategy struct {
	e      *engine.Engine
	shapes *shapes
}

var (
	_ engine.Strategy     = (*jobStrategy)(nil)
	_ engine.Renderer     = (*jobStrategy)(nil)
	_ engine.Actioner     = (*jobStrategy)(nil)
	_ engine.ListFilterer = (*jobStrategy)(nil)
	_ engine.Describer    = (*jobStrategy)(nil)
	_ engine.Importer     = (*jobStrategy)(nil)
)

// dataJobTimeline is the Internal.Data key of a job's timeline.
const dataJobTimeline = "jobTimeline"

// jobRunningSteps is how many operation durations a job runs.
const jobRunningSteps = 5

// jobTimeline is what a job's status derives from. The step is fixed at
// creation, so a later change of the operation duration does not move a
// running job.
type jobTimeline struct {
	Submitted time.Time     `json:"submitted"`
	Step      time.Duration `json:"step"`
	// CancelRequested is when POST cancel was accepted; zero if never.
	CancelRequested time.Time `json:"cancelRequested,omitzero"`
}

func (t jobTimeline) queuedAt() time.Time    { return t.Submitted.Add(t.Step) }
func (t jobTimeline) runningAt() time.Time   { return t.Submitted.Add(2 * t.Step) }
func (t jobTimeline) completedAt() time.Time { return t.runningAt().Add(jobRunningSteps * t.Step) }
func (t jobTimeline) canceledAt() time.Time  { return t.CancelRequested.Add(t.Step) }

// status is the job's status at now.
func (t jobTimeline) status(now time.Time) string {
	if !t.CancelRequested.IsZero() {
		if now.Before(t.canceledAt()) {
			return jobCancelRequested
		}
		return jobCanceled
	}
	switch {
	case now.Before(t.queuedAt()):
		return jobNotStarted
	case now.Before(t.runningAt()):
		return jobQueued
	case now.Before(t.completedAt()):
		return jobRunning
	default:
		return jobCompleted
	}
}

func isTerminalJobStatus(s string) bool {
	return s == jobCompleted || s == jobCanceled || s == jobFailed
}

func timelineOf(r *engine.Resource) jobTimeline {
	var t jobTimeline
	if !r.GetData(dataJobTimeline, &t) {
		// Without a timeline (a seeded job), the job has long completed.
		t = jobTimeline{Submitted: r.SystemData.CreatedAt}
	}
	return t
}

// jobMutable are the members an update may change.
var jobMutable = map[string]bool{
	"description": true, "displayName": true, "tags": true, "properties": true, "isArchived": true,
}

// Validate checks a job's definition on create, or that an update only
// changes what Azure lets change.
func (s *jobStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if err := checkV2Envelope(desired, "JobBase"); err != nil {
		return err
	}
	if err := checkProperties(req, desired, old, s.shapes, "JobBaseProperties"); err != nil {
		return err
	}
	p := desired.Properties
	if _, ok := p["experimentName"]; !ok {
		p["experimentName"] = "Default"
	}
	if _, ok := p["isArchived"]; !ok {
		p["isArchived"] = false
	}
	if _, ok := p["displayName"]; !ok {
		p["displayName"] = desired.ID.Name()
	}
	if old != nil {
		return checkJobUpdate(desired, old)
	}
	if err := s.complete(ctx, desired); err != nil {
		return err
	}
	desired.SetData(dataJobTimeline, jobTimeline{Submitted: req.Now, Step: s.e.OperationDuration()})
	return nil
}

// Import stores a job from a seed file. It is checked as a new job is,
// but has no timeline: it has completed when it is imported.
func (s *jobStrategy) Import(ctx context.Context, req *engine.Request, r *engine.Resource) error {
	if err := s.Validate(ctx, req, r, nil); err != nil {
		return err
	}
	delete(r.Internal.Data, dataJobTimeline)
	return nil
}

// complete checks a new job's references and adds its generated
// services.
func (s *jobStrategy) complete(ctx context.Context, desired *engine.Resource) error {
	p := desired.Properties
	ws, err := workspaceOf(ctx, s.e, desired)
	if err != nil {
		return err
	}
	if err := checkJobReferences(ctx, s.e, ws.ID, p, "properties"); err != nil {
		return err
	}
	services, _ := p["services"].(map[string]any)
	if services == nil {
		services = map[string]any{}
	}
	for k, v := range jobServices(ws, desired.ID.Name()) {
		services[k] = v
	}
	p["services"] = services
	return nil
}

// checkV2Envelope refuses the top-level members a v2 workspace child
// (a proxy resource) does not have.
func checkV2Envelope(r *engine.Resource, typeName string) error {
	bad := ""
	switch {
	case r.Location != "":
		bad = "location"
	case len(r.Tags) > 0:
		bad = "tags"
	case r.Kind != "":
		bad = "kind"
	}
	for k := range r.Extra {
		if bad == "" || k < bad {
			bad = k
		}
	}
	if bad != "" {
		return arm.InvalidContent(bad, "Could not find member '%s' on object of type '%s'. Path '%s'.", bad, typeName, bad)
	}
	return nil
}

// checkJobUpdate refuses changes to an existing job's definition and
// keeps its generated members.
func checkJobUpdate(desired, old *engine.Resource) error {
	keys := map[string]bool{}
	for k := range desired.Properties {
		keys[k] = true
	}
	for k := range old.Properties {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		if !jobMutable[k] && k != "services" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		if !sameJobValue(desired.Properties[k], old.Properties[k]) {
			return arm.BadRequest(arm.CodeUserError,
				"A job named '%s' already exists and its '%s' cannot be changed: only description, tags, displayName, properties and isArchived of an existing job can be updated. Use a new name to submit a different job.",
				desired.ID.Name(), k).WithTarget("properties." + k)
		}
	}
	if sv, ok := old.Properties["services"]; ok {
		desired.Properties["services"] = engine.DeepCopy(sv)
	} else {
		delete(desired.Properties, "services")
	}
	return nil
}

// sameJobValue compares normalised JSON values; resource IDs compare
// ignoring case.
func sameJobValue(a, b any) bool {
	as, ok1 := a.(string)
	bs, ok2 := b.(string)
	if ok1 && ok2 && strings.HasPrefix(as, "/") {
		return strings.EqualFold(as, bs)
	}
	return reflect.DeepEqual(a, b)
}

// jobServices are the generated services of a new job.
func jobServices(ws *engine.Resource, job string) map[string]any {
	tenant, _ := ws.Properties["tenantId"].(string)
	tracking, _ := ws.Properties["mlFlowTrackingUri"].(string)
	if tracking == "" {
		tracking = "azureml://" + engine.NormalizeLocation(ws.Location) + ".api.azureml.ms/mlflow/v1.0" + ws.ID.String()
	}
	wsid := "/subscriptions/" + ws.ID.SubscriptionID() + "/resourcegroups/" + ws.ID.ResourceGroupName() + "/workspaces/" + ws.ID.Name()
	studio := "https://ml.azure.com/runs/" + url.PathEscape(job) + "?wsid=" + wsid
	if tenant != "" {
		studio += "&tid=" + tenant
	}
	return map[string]any{
		"Tracking": map[string]any{"jobServiceType": "Tracking", "endpoint": tracking + "?"},
		"Studio":   map[string]any{"jobServiceType": "Studio", "endpoint": studio},
	}
}

// checkJobReferences checks the computeId and environmentIds of the job
// definition p (at path) against the workspace ws.
func checkJobReferences(ctx context.Context, e *engine.Engine, ws resourceid.ID, p map[string]any, path string) error {
	if c, ok := p["computeId"].(string); ok {
		if err := checkComputeRef(ctx, e, ws, c, path+".computeId"); err != nil {
			return err
		}
	}
	if env, ok := p["environmentId"].(string); ok {
		if err := checkEnvironmentRef(ctx, e, ws, env, path+".environmentId"); err != nil {
			return err
		}
	}
	if trial, ok := p["trial"].(map[string]any); ok {
		if env, ok := trial["environmentId"].(string); ok {
			if err := checkEnvironmentRef(ctx, e, ws, env, path+".trial.environmentId"); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkComputeRef(ctx context.Context, e *engine.Engine, ws resourceid.ID, s, path string) error {
	id, err := resourceid.Parse(s)
	if err != nil || !strings.EqualFold(id.ResourceType(), typeComputes) {
		return arm.BadRequest(arm.CodeUserError,
			"The value '%s' of '%s' is not the resource ID of a compute; expected '%s/computes/{computeName}', or no computeId for serverless compute.",
			s, path, ws).WithTarget(path)
	}
	if !strings.EqualFold(id.Parent().String(), ws.String()) {
		return arm.BadRequest(arm.CodeUserError,
			"The compute '%s' named by '%s' belongs to another workspace; a job can only use the computes of its own workspace '%s'.",
			s, path, ws.Name()).WithTarget(path)
	}
	if _, err := e.Get(ctx, id); err != nil {
		return refNotFound(err, "Compute '%s' named by '%s' was not found in workspace '%s'.", id.Name(), path, ws.Name()).WithTarget(path)
	}
	return nil
}

func checkEnvironmentRef(ctx context.Context, e *engine.Engine, ws resourceid.ID, s, path string) error {
	switch {
	case strings.HasPrefix(s, "/"):
		id, err := resourceid.Parse(s)
		if err == nil && strings.EqualFold(id.ResourceType(), typeRegistryEnvVersions) {
			return nil
		}
		if err != nil || !strings.EqualFold(id.ResourceType(), typeEnvironmentVersions) {
			return badEnvironmentRef(s, path)
		}
		if _, err := e.Get(ctx, id); err != nil {
			return refNotFound(err, "Environment version '%s' named by '%s' was not found.", s, path).WithTarget(path)
		}
		return nil
	case strings.HasPrefix(strings.ToLower(s), "azureml://"):
		return nil
	case strings.HasPrefix(strings.ToLower(s), "azureml:"):
		ref := s[len("azureml:"):]
		if name, _, ok := strings.Cut(ref, "@"); ok && name != "" {
			return nil
		}
		name, version, ok := strings.Cut(ref, ":")
		if !ok || name == "" || version == "" || strings.ContainsAny(ref, "/") {
			return badEnvironmentRef(s, path)
		}
		id := ws.Child("environments", name).Child("versions", version)
		if _, err := e.Get(ctx, id); err != nil {
			return refNotFound(err, "Environment '%s' version '%s' named by '%s' was not found in workspace '%s'.", name, version, path, ws.Name()).WithTarget(path)
		}
		return nil
	}
	return badEnvironmentRef(s, path)
}

func badEnvironmentRef(s, path string) *arm.Error {
	return arm.BadRequest(arm.CodeUserError,
		"The value '%s' of '%s' does not name an environment; expected the resource ID of an environment version, an azureml://registries/... URI, 'azureml:{name}:{version}' or 'azureml:{name}@{label}'.",
		s, path).WithTarget(path)
}

// refNotFound turns the 404 of a missing reference into the 400 UserError
// of the request that names it; other failures pass through.
func refNotFound(err error, format string, args ...any) *arm.Error {
	if ae, ok := arm.AsError(err); ok && !errors.Is(err, engine.ErrNotFound) {
		return ae
	}
	return arm.BadRequest(arm.CodeUserError, format, args...)
}

// Render replaces provisioningState, which jobs do not have, with the
// job's status at now.
func (s *jobStrategy) Render(_ context.Context, r *engine.Resource, body map[string]any, apiVersion string, now time.Time) error {
	defer s.shapes.render(body, apiVersion)
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		return nil
	}
	delete(props, "provisioningState")
	props["status"] = timelineOf(r).status(now)
	renderJobComputed(props)
	return nil
}

// Describe shows a job's timeline on the admin API.
func (s *jobStrategy) Describe(r *engine.Resource, now time.Time) map[string]any {
	t := timelineOf(r)
	out := map[string]any{
		"status": t.status(now), "submittedAt": t.Submitted, "queuedAt": t.queuedAt(),
		"runningAt": t.runningAt(), "completedAt": t.completedAt(),
	}
	if !t.CancelRequested.IsZero() {
		out["cancelRequestedAt"] = t.CancelRequested
		out["canceledAt"] = t.canceledAt()
		delete(out, "completedAt")
	}
	return out
}

// Action answers POST {job}/cancel.
func (s *jobStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	if !strings.EqualFold(name, "cancel") {
		return nil, engine.UnknownAction(TypeJobs, name)
	}
	t := timelineOf(r)
	switch st := t.status(req.Now); {
	case st == jobCancelRequested:
		return s.e.NewActionOperation(ctx, req, r, nil, t.canceledAt())
	case isTerminalJobStatus(st):
		return nil, arm.BadRequest(arm.CodeUserError,
			"Job '%s' cannot be canceled because it is in the terminal status '%s'.", r.ID.Name(), st).WithTarget("status")
	}
	t.CancelRequested = req.Now
	r.SetData(dataJobTimeline, t)
	if err := s.e.Save(ctx, r); err != nil {
		return nil, err
	}
	return s.e.NewActionOperation(ctx, req, r, nil, t.canceledAt())
}

// ListFilter applies the list query parameters jobType, tag, properties
// and listViewType.
func (s *jobStrategy) ListFilter(req *engine.Request) (func(*engine.Resource) bool, error) {
	var preds []func(*engine.Resource) bool
	view, err := listViewFilter(req)
	if err != nil {
		return nil, err
	}
	if view != nil {
		preds = append(preds, view)
	}
	if jt := req.QueryValue("jobType"); jt != "" {
		i := slices.IndexFunc(jobTypes, func(v string) bool { return strings.EqualFold(v, jt) })
		if i < 0 {
			return nil, arm.BadRequest(arm.CodeUserError, "The value '%s' of query parameter 'jobType' is invalid; the allowed values are '%s'.",
				jt, strings.Join(jobTypes, "', '")).WithTarget("jobType")
		}
		preds = append(preds, func(r *engine.Resource) bool { return r.Properties["jobType"] == jobTypes[i] })
	}
	if tag := req.QueryValue("tag"); tag != "" {
		preds = append(preds, hasEntries("tags", tag))
	}
	if props := req.QueryValue("properties"); props != "" {
		preds = append(preds, hasEntries("properties", props))
	}
	if len(preds) == 0 {
		return nil, nil
	}
	return func(r *engine.Resource) bool {
		for _, p := range preds {
			if !p(r) {
				return false
			}
		}
		return true
	}, nil
}

// hasEntries filters on the string map member: spec is a comma-separated
// list of names, each optionally "=value"; all must match.
func hasEntries(member, spec string) func(*engine.Resource) bool {
	type cond struct {
		name, value string
		hasValue    bool
	}
	var conds []cond
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, v, ok := strings.Cut(part, "=")
		conds = append(conds, cond{strings.TrimSpace(n), strings.TrimSpace(v), ok})
	}
	return func(r *engine.Resource) bool {
		m, _ := r.Properties[member].(map[string]any)
		for _, c := range conds {
			v, ok := m[c.name]
			if !ok {
				return false
			}
			if c.hasValue && v != c.value {
				return false
			}
		}
		return true
	}
}
