package workspaceapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
	"github.com/google/uuid"
)

// experiment is a v1 run-history experiment, stored as shown (the Run
// History 2019-09-30 ExperimentDto) plus the run counter.
type experiment struct {
	ExperimentID               string            `json:"experimentId"`
	Name                       string            `json:"name"`
	Description                *string           `json:"description"`
	CreatedUtc                 time.Time         `json:"createdUtc"`
	Tags                       map[string]string `json:"tags"`
	ArchivedTime               *time.Time        `json:"archivedTime"`
	LatestCreatedRunCreatedUtc *time.Time        `json:"latestCreatedRunCreatedUtc"`
	LatestCreatedRunID         *string           `json:"latestCreatedRunId"`
}

// storedExperiment adds the members kept off the wire.
type storedExperiment struct {
	experiment
	RunCount int `json:"runCount"`
}

// runStatuses are Azure ML's run states (RunStatus). Choice: armlet runs
// nothing itself; a run is in the state its client last set, NotStarted
// when created without one. Any state may follow any other.
var runStatuses = []string{
	"NotStarted", "Unapproved", "Pausing", "Paused", "Starting", "Preparing", "Queued", "Running",
	"Finalizing", "CancelRequested", "Completed", "Failed", "Canceled", "NotResponding", "Provisioning",
}

func terminal(status string) bool {
	return status == "Completed" || status == "Failed" || status == "Canceled"
}

// runRecord is a v1 run (RunDto).
type runRecord struct {
	RunID           string            `json:"runId"`
	RunUUID         string            `json:"runUuid"`
	ParentRunID     *string           `json:"parentRunId"`
	RootRunID       string            `json:"rootRunId"`
	ExperimentID    string            `json:"experimentId"`
	ExperimentName  string            `json:"experimentName"`
	RunNumber       int               `json:"runNumber"`
	Name            *string           `json:"name"`
	DisplayName     *string           `json:"displayName"`
	Description     *string           `json:"description"`
	Status          string            `json:"status"`
	RunType         *string           `json:"runType"`
	Target          *string           `json:"target"`
	DataContainerID string            `json:"dataContainerId"`
	Hidden          bool              `json:"hidden"`
	CreatedUtc      time.Time         `json:"createdUtc"`
	StartTimeUtc    *time.Time        `json:"startTimeUtc"`
	EndTimeUtc      *time.Time        `json:"endTimeUtc"`
	CreatedBy       createdBy         `json:"createdBy"`
	Revision        int               `json:"revision"`
	Tags            map[string]string `json:"tags"`
	Properties      map[string]string `json:"properties"`
}

type createdBy struct {
	UserObjectID string `json:"userObjectId"`
	UserTenantID string `json:"userTenantId"`
	UserName     string `json:"userName"`
}

func callerRecord(c engine.Caller) createdBy {
	name := c.Name
	if name == "" {
		name = c.AppID
	}
	return createdBy{UserObjectID: c.ObjectID, UserTenantID: c.TenantID, UserName: name}
}

func listBody[T any](items []T) map[string]any {
	if items == nil {
		items = []T{}
	}
	return map[string]any{"value": items, "continuationToken": nil, "nextLink": nil}
}

// --- experiments ---

func (s *Service) loadExperiment(ctx context.Context, c *call, name string) (*storedExperiment, int64, error) {
	var e storedExperiment
	found, rev, err := s.getJSON(ctx, key(c.wsKey, "e", strings.ToLower(name)), &e)
	if err != nil || !found {
		return nil, 0, err
	}
	return &e, rev, nil
}

// experimentOf resolves the {exp} or {expid} parameter to an experiment,
// or a 404.
func (s *Service) experimentOf(ctx context.Context, c *call) (*storedExperiment, int64, error) {
	if name := c.param("exp"); name != "" {
		e, rev, err := s.loadExperiment(ctx, c, name)
		if err == nil && e == nil {
			err = notFound("The experiment '%s' was not found in the workspace.", name)
		}
		return e, rev, err
	}
	id := c.param("expid")
	var found *storedExperiment
	err := s.scanJSON(ctx, prefix(c.wsKey, "e"), func(_ []byte, raw []byte) error {
		var e storedExperiment
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		if strings.EqualFold(e.ExperimentID, id) {
			found = &e
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if found == nil {
		return nil, 0, notFound("The experiment with id '%s' was not found in the workspace.", id)
	}
	return s.loadExperiment(ctx, c, found.Name)
}

func listExperiments(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	var out []experiment
	err := s.scanJSON(ctx, prefix(c.wsKey, "e"), func(_ []byte, raw []byte) error {
		var e storedExperiment
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		out = append(out, e.experiment)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, listBody(out)), nil
}

func getExperiment(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	e, _, err := s.experimentOf(ctx, c)
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, e.experiment), nil
}

// createExperiment is Experiments_Create (POST).
//
// Choice: creating an experiment that exists returns it unchanged (200),
// so create-or-get clients work.
func createExperiment(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	return s.upsertExperiment(ctx, c, false)
}

// putExperiment creates the experiment or updates its description and
// tags (tags replace).
func putExperiment(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	return s.upsertExperiment(ctx, c, true)
}

func (s *Service) upsertExperiment(ctx context.Context, c *call, update bool) (*engine.Response, error) {
	name := c.param("exp")
	if err := checkName("experiment name", "experimentName", name, experimentName); err != nil {
		return nil, err
	}
	body, err := decodeObject(c.Body, true)
	if err != nil {
		return nil, err
	}
	desc, hasDesc, err := body.str("description")
	if err != nil {
		return nil, err
	}
	tags, hasTags, err := body.stringMap("tags")
	if err != nil {
		return nil, err
	}
	e, rev, err := s.loadExperiment(ctx, c, name)
	if err != nil {
		return nil, err
	}
	if e != nil && !update {
		return engine.JSON(http.StatusOK, e.experiment), nil
	}
	if e == nil {
		e = &storedExperiment{experiment: experiment{ExperimentID: uuid.NewString(), Name: name, CreatedUtc: c.Now.UTC(), Tags: map[string]string{}}}
	}
	if hasDesc {
		e.Description = &desc
	}
	if hasTags {
		e.Tags = tags
	}
	if err := s.putJSON(ctx, key(c.wsKey, "e", strings.ToLower(name)), e, rev); err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, e.experiment), nil
}

// --- runs ---

func (s *Service) loadRun(ctx context.Context, c *call, runID string) (*runRecord, int64, error) {
	var r runRecord
	found, rev, err := s.getJSON(ctx, key(c.wsKey, "r", strings.ToLower(runID)), &r)
	if err != nil || !found {
		return nil, 0, err
	}
	return &r, rev, nil
}

// runOf loads the {run} of c; with an experiment on the path the run must
// belong to it. A missing run is a 404.
func (s *Service) runOf(ctx context.Context, c *call) (*runRecord, error) {
	id := c.param("run")
	r, _, err := s.loadRun(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if r == nil || !s.inExperiment(c, r) {
		return nil, notFound("The run '%s' was not found in the workspace.", id)
	}
	return r, nil
}

// inExperiment reports whether r belongs to the experiment on c's path
// (true when the path names none).
func (s *Service) inExperiment(c *call, r *runRecord) bool {
	if name := c.param("exp"); name != "" {
		return strings.EqualFold(r.ExperimentName, name)
	}
	if id := c.param("expid"); id != "" {
		return strings.EqualFold(r.ExperimentID, id)
	}
	return true
}

func getRun(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	r, err := s.runOf(ctx, c)
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, r), nil
}

// getRunDetails is Runs_GetDetails: the run's RunDetailsDto.
func getRunDetails(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	r, err := s.runOf(ctx, c)
	if err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, map[string]any{
		"runId": r.RunID, "runUuid": r.RunUUID, "parentRunId": r.ParentRunID, "target": r.Target,
		"status": r.Status, "startTimeUtc": r.StartTimeUtc, "endTimeUtc": r.EndTimeUtc,
		"tags": r.Tags, "properties": r.Properties, "revision": r.Revision, "createdBy": r.CreatedBy,
		"runDefinition": nil, "logFiles": map[string]any{}, "warnings": []any{}, "error": nil,
		"services": map[string]any{}, "inputDatasets": []any{}, "outputDatasets": []any{},
	}), nil
}

func listRuns(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	e, _, err := s.experimentOf(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []*runRecord
	err = s.scanJSON(ctx, prefix(c.wsKey, "r"), func(_ []byte, raw []byte) error {
		var r runRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		if r.ExperimentID == e.ExperimentID {
			out = append(out, &r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *runRecord) int { return a.RunNumber - b.RunNumber })
	return engine.JSON(http.StatusOK, listBody(out)), nil
}

// patchRun is Runs_Patch: create or update a run. Members absent from the
// body keep their values; tags merge by name; properties are add-only (a
// different value for an existing property is a 400, as Azure ML keeps
// properties immutable).
//
// Choice: creating a run in an experiment that does not exist creates the
// experiment (v1 clients start runs by name); PATCH /runs/{runId} without
// an experiment only updates an existing run (404 otherwise).
func patchRun(ctx context.Context, s *Service, c *call) (*engine.Response, error) {
	runID := c.param("run")
	if err := checkName("run id", "runId", runID, runIDPattern); err != nil {
		return nil, err
	}
	body, err := decodeObject(c.Body, true)
	if err != nil {
		return nil, err
	}
	if id, ok, err := body.str("runId"); err != nil {
		return nil, err
	} else if ok && !strings.EqualFold(id, runID) {
		return nil, badRequest("runId", "The runId '%s' in the body does not match the runId '%s' of the path.", id, runID)
	}
	upd, err := parseRunUpdate(body)
	if err != nil {
		return nil, err
	}
	r, rev, err := s.loadRun(ctx, c, runID)
	if err != nil {
		return nil, err
	}
	var extra []kv.Op
	if r != nil {
		if !s.inExperiment(c, r) {
			return nil, userError(http.StatusConflict, "runId", "The run '%s' belongs to the experiment '%s'.", runID, r.ExperimentName)
		}
	} else {
		var exp *storedExperiment
		var expRev int64
		switch {
		case c.param("exp") != "":
			name := c.param("exp")
			if err := checkName("experiment name", "experimentName", name, experimentName); err != nil {
				return nil, err
			}
			if exp, expRev, err = s.loadExperiment(ctx, c, name); err != nil {
				return nil, err
			}
			if exp == nil {
				exp = &storedExperiment{experiment: experiment{ExperimentID: uuid.NewString(), Name: name, CreatedUtc: c.Now.UTC(), Tags: map[string]string{}}}
			}
		case c.param("expid") != "":
			if exp, expRev, err = s.experimentOf(ctx, c); err != nil {
				return nil, err
			}
		default:
			return nil, notFound("The run '%s' was not found in the workspace.", runID)
		}
		now := c.Now.UTC()
		exp.RunCount++
		exp.LatestCreatedRunCreatedUtc = &now
		exp.LatestCreatedRunID = &runID
		r = &runRecord{
			RunID: runID, RunUUID: uuid.NewString(), RootRunID: runID, ExperimentID: exp.ExperimentID,
			ExperimentName: exp.Name, RunNumber: exp.RunCount, Status: "NotStarted",
			DataContainerID: "dcid." + runID, CreatedUtc: now, CreatedBy: callerRecord(c.Caller),
			Tags: map[string]string{}, Properties: map[string]string{},
		}
		b, err := json.Marshal(exp)
		if err != nil {
			return nil, err
		}
		extra = append(extra, kv.Put(key(c.wsKey, "e", strings.ToLower(exp.Name)), b).If(kv.Cond(expRev)))
	}
	if err := upd.apply(r, c.Now.UTC()); err != nil {
		return nil, err
	}
	r.Revision++
	if err := s.putJSON(ctx, key(c.wsKey, "r", strings.ToLower(runID)), r, rev, extra...); err != nil {
		return nil, err
	}
	return engine.JSON(http.StatusOK, r), nil
}

// runUpdate is what a Runs_Patch body may change.
type runUpdate struct {
	strs       map[string]*string // name, displayName, description, runType, target, parentRunId
	status     string
	start, end *time.Time
	hidden     *bool
	tags       map[string]string
	properties map[string]string
}

func parseRunUpdate(body object) (*runUpdate, error) {
	u := &runUpdate{strs: map[string]*string{}}
	for _, name := range []string{"name", "displayName", "description", "runType", "target", "parentRunId"} {
		v, ok, err := body.str(name)
		if err != nil {
			return nil, err
		}
		if ok {
			u.strs[name] = &v
		}
	}
	if p := u.strs["parentRunId"]; p != nil && *p != "" {
		if err := checkName("run id", "parentRunId", *p, runIDPattern); err != nil {
			return nil, err
		}
	}
	status, ok, err := body.str("status")
	if err != nil {
		return nil, err
	}
	if ok {
		i := slices.IndexFunc(runStatuses, func(s string) bool { return strings.EqualFold(s, status) })
		if i < 0 {
			return nil, badRequest("status", "The run status '%s' is not valid; valid values are %s.", status, strings.Join(runStatuses, ", "))
		}
		u.status = runStatuses[i]
	}
	for _, name := range []string{"startTimeUtc", "endTimeUtc"} {
		v, ok, err := body.str(name)
		if err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		t, perr := time.Parse(time.RFC3339Nano, v)
		if perr != nil {
			return nil, badRequest(name, "The value of '%s' must be a date-time (RFC 3339), not '%s'.", name, v)
		}
		t = t.UTC()
		if name == "startTimeUtc" {
			u.start = &t
		} else {
			u.end = &t
		}
	}
	if h, ok, err := body.boolean("hidden"); err != nil {
		return nil, err
	} else if ok {
		u.hidden = &h
	}
	if u.tags, _, err = body.stringMap("tags"); err != nil {
		return nil, err
	}
	if u.properties, _, err = body.stringMap("properties"); err != nil {
		return nil, err
	}
	return u, nil
}

// apply changes r. Choice: a status of Running sets startTimeUtc and a
// terminal status (Completed, Failed, Canceled) sets endTimeUtc, to now,
// unless the body or an earlier update set them.
func (u *runUpdate) apply(r *runRecord, now time.Time) error {
	for k, v := range u.properties {
		if old, ok := r.Properties[k]; ok && old != v {
			return badRequest("properties."+k, "The property '%s' of run '%s' is already set to '%s'; run properties cannot be changed.", k, r.RunID, old)
		}
	}
	for k, v := range u.properties {
		r.Properties[k] = v
	}
	for k, v := range u.tags {
		r.Tags[k] = v
	}
	for name, v := range u.strs {
		val := v
		if *v == "" {
			val = nil
		}
		switch name {
		case "name":
			r.Name = val
		case "displayName":
			r.DisplayName = val
		case "description":
			r.Description = val
		case "runType":
			r.RunType = val
		case "target":
			r.Target = val
		case "parentRunId":
			r.ParentRunID = val
		}
	}
	if u.hidden != nil {
		r.Hidden = *u.hidden
	}
	if u.start != nil {
		r.StartTimeUtc = u.start
	}
	if u.end != nil {
		r.EndTimeUtc = u.end
	}
	if u.status != "" {
		r.Status = u.status
		if r.Status == "Running" && r.StartTimeUtc == nil {
			r.StartTimeUtc = &now
		}
		if terminal(r.Status) && r.EndTimeUtc == nil {
			r.EndTimeUtc = &now
		}
	}
	return nil
}
