package machinelearning

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

const (
	jobsWS     = wsBase + "ws1"
	jobsPath   = jobsWS + "/jobs/"
	jobsStep   = time.Second // the engine's default operation duration
	jobsRegEnv = "azureml://registries/azureml/environments/sklearn-1.5/versions/1"
)

// jobsEnv is an env with workspace ws1 (v2 API enabled).
func jobsEnv(t *testing.T) *env {
	t.Helper()
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, `{"location":"eastus"}`)
	return v
}

// jobsCommand is a serverless command job body with extra properties
// members (a JSON fragment starting with a comma, or "").
func jobsCommand(extra string) string {
	return `{"properties":{"jobType":"Command","command":"python train.py","environmentId":"` + jobsRegEnv + `",
		"resources":{"instanceType":"Standard_DS3_v2","instanceCount":1},"tags":{"team":"a"}` + extra + `}}`
}

const jobsSweep = `{"properties":{"jobType":"Sweep",
	"objective":{"goal":"maximize","primaryMetric":"accuracy"},
	"samplingAlgorithm":{"samplingAlgorithmType":"Random","rule":"Sobol","seed":3},
	"searchSpace":{"lr":["uniform",[0.01,0.1]]},
	"trial":{"command":"python train.py --lr ${{search_space.lr}}","environmentId":"` + jobsRegEnv + `"},
	"earlyTermination":{"policyType":"Bandit","slackFactor":0.1,"evaluationInterval":2},
	"limits":{"jobLimitsType":"Sweep","maxTotalTrials":10}}}`

const jobsPipeline = `{"properties":{"jobType":"Pipeline","displayName":"pipe","settings":{"default_compute":"serverless"},
	"inputs":{"data":{"jobInputType":"uri_folder","uri":"azureml://datastores/workspaceblobstore/paths/data/","mode":"ReadOnlyMount"},
		"epochs":{"jobInputType":"literal","value":"3"}},
	"jobs":{"train":{"type":"command","component":"azureml:train:1"}}}}`

// jobsProps GETs a job and returns its properties.
func (v *env) jobsProps(name string) map[string]any {
	v.t.Helper()
	p, _ := v.Must(http.MethodGet, jobsPath+name, newest, "", http.StatusOK)["properties"].(map[string]any)
	return p
}

// jobsPoll GETs an operation URL (Location or Azure-AsyncOperation).
func (v *env) jobsPoll(u string) (*int, map[string]any) {
	v.t.Helper()
	path := strings.TrimPrefix(u, "https://127.0.0.1:8443")
	resp, err := v.Serve(http.MethodGet, path, "", "")
	if err != nil {
		v.t.Fatalf("poll %s: %v", u, err)
	}
	return &resp.Status, asJSON(v.t, resp.Body)
}

func TestJobValidation(t *testing.T) {
	computes := jobsWS + "/computes/"
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		target string
	}{
		{"no properties", `{}`, 400, "InvalidRequestContent", "properties.jobType"},
		{"missing jobType", `{"properties":{"command":"x"}}`, 400, "InvalidRequestContent", "properties.jobType"},
		{"bad jobType", `{"properties":{"jobType":"Batch"}}`, 400, "InvalidRequestContent", "properties.jobType"},
		{"command without command", `{"properties":{"jobType":"Command","environmentId":"` + jobsRegEnv + `"}}`, 400, "InvalidRequestContent", "properties.command"},
		{"command without environmentId", `{"properties":{"jobType":"Command","command":"python a.py"}}`, 400, "InvalidRequestContent", "properties.environmentId"},
		{"unknown member", jobsCommand(`,"gpus":2`), 400, "InvalidRequestContent", "properties.gpus"},
		{"member of another job type", jobsCommand(`,"jobs":{}`), 400, "InvalidRequestContent", "properties.jobs"},
		{"bad input type", jobsCommand(`,"inputs":{"x":{"jobInputType":"table","uri":"u"}}`), 400, "InvalidRequestContent", "properties.inputs.x.jobInputType"},
		{"input without uri", jobsCommand(`,"inputs":{"x":{"jobInputType":"uri_file"}}`), 400, "InvalidRequestContent", "properties.inputs.x.uri"},
		{"bad distribution", jobsCommand(`,"distribution":{"distributionType":"Ray"}`), 400, "InvalidRequestContent", "properties.distribution.distributionType"},
		{"sweep limits on a command", jobsCommand(`,"limits":{"jobLimitsType":"Sweep"}`), 400, "InvalidRequestContent", "properties.limits.jobLimitsType"},
		{"bad jobTier", jobsCommand(`,"queueSettings":{"jobTier":"Gold"}`), 400, "InvalidRequestContent", "properties.queueSettings.jobTier"},
		{"sweep without objective", strings.Replace(jobsSweep, `"objective":{"goal":"maximize","primaryMetric":"accuracy"},`, "", 1), 400, "InvalidRequestContent", "properties.objective"},
		{"sweep without samplingAlgorithm", strings.Replace(jobsSweep, `"samplingAlgorithm":{"samplingAlgorithmType":"Random","rule":"Sobol","seed":3},`, "", 1), 400, "InvalidRequestContent", "properties.samplingAlgorithm"},
		{"sweep objective without goal", strings.Replace(jobsSweep, `"goal":"maximize",`, "", 1), 400, "InvalidRequestContent", "properties.objective.goal"},
		{"sweep trial without command", strings.Replace(jobsSweep, `"command":"python train.py --lr ${{search_space.lr}}",`, "", 1), 400, "InvalidRequestContent", "properties.trial.command"},
		{"automl without taskDetails", `{"properties":{"jobType":"AutoML"}}`, 400, "InvalidRequestContent", "properties.taskDetails"},
		{"automl without trainingData", `{"properties":{"jobType":"AutoML","taskDetails":{"taskType":"Regression"}}}`, 400, "InvalidRequestContent", "properties.taskDetails.trainingData"},
		{"spark without entry", `{"properties":{"jobType":"Spark","codeId":"azureml:code:1"}}`, 400, "InvalidRequestContent", "properties.entry"},
		{"missing compute", jobsCommand(`,"computeId":"` + computes + `cpu-cluster"`), 400, arm.CodeUserError, "properties.computeId"},
		{"compute of another workspace", jobsCommand(`,"computeId":"` + wsBase + `ws2/computes/cpu"`), 400, arm.CodeUserError, "properties.computeId"},
		{"computeId not a compute", jobsCommand(`,"computeId":"` + storageID + `"`), 400, arm.CodeUserError, "properties.computeId"},
		{"computeId a bare name", jobsCommand(`,"computeId":"cpu-cluster"`), 400, arm.CodeUserError, "properties.computeId"},
		{"missing workspace environment", strings.Replace(jobsCommand(""), jobsRegEnv, jobsWS+"/environments/env/versions/1", 1), 400, arm.CodeUserError, "properties.environmentId"},
		{"missing short-form environment", strings.Replace(jobsCommand(""), jobsRegEnv, "azureml:env:1", 1), 400, arm.CodeUserError, "properties.environmentId"},
		{"environmentId not an environment", strings.Replace(jobsCommand(""), jobsRegEnv, "docker.io/python:3.11", 1), 400, arm.CodeUserError, "properties.environmentId"},
		{"sweep trial missing environment", strings.Replace(jobsSweep, jobsRegEnv, "azureml:env:2", 1), 400, arm.CodeUserError, "properties.trial.environmentId"},
		{"location on a job", `{"location":"eastus","properties":{"jobType":"Pipeline"}}`, 400, "InvalidRequestContent", "location"},
		{"bad name", "", 400, "InvalidResourceName", "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := jobsEnv(t)
			name := "job1"
			if tt.code == "InvalidResourceName" {
				name, tt.body = "-job", jobsCommand("")
			}
			ae := v.Fail(http.MethodPut, jobsPath+name, newest, tt.body, tt.status, tt.code)
			if ae.Target != tt.target {
				t.Errorf("target = %q (%s), want %q", ae.Target, ae.Message, tt.target)
			}
			if tt.code == arm.CodeUserError && !strings.Contains(ae.Message, strings.TrimPrefix(tt.target, "properties.")) {
				t.Errorf("message %q does not name %s", ae.Message, tt.target)
			}
			v.Fail(http.MethodGet, jobsPath+name, newest, "", 404, "ResourceNotFound")
		})
	}
}

// TestJobAccepted covers the shapes and reference forms a job may use.
func TestJobAccepted(t *testing.T) {
	tests := []struct{ name, body string }{
		{"command", jobsCommand(`,"distribution":{"distributionType":"pytorch","processCountPerInstance":2},
			"identity":{"identityType":"Managed"},"limits":{"jobLimitsType":"Command","timeout":"PT1H"},
			"outputs":{"model":{"jobOutputType":"mlflow_model","mode":"Upload"}},
			"notificationSetting":{"emailOn":["JobFailed"],"emails":["a@example.com"],"webhooks":{"w":{"webhookType":"AzureDevOps","eventType":"e"}}},
			"services":{"jupyter":{"jobServiceType":"JupyterLab","nodes":{"nodesValueType":"All"}}},
			"status":"Running","parameters":{}`)},
		{"registry environment ID", strings.Replace(jobsCommand(""), jobsRegEnv, "/subscriptions/"+testSub+"/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/reg/environments/env/versions/1", 1)},
		{"environment label", strings.Replace(jobsCommand(""), jobsRegEnv, "azureml:AzureML-sklearn@latest", 1)},
		{"sweep", jobsSweep},
		{"pipeline", jobsPipeline},
		{"automl", `{"properties":{"jobType":"AutoML","taskDetails":{"taskType":"Classification","targetColumnName":"y",
			"trainingData":{"jobInputType":"mltable","uri":"azureml:train:1"}}}}`},
		{"spark", `{"properties":{"jobType":"Spark","codeId":"azureml:code:1","entry":{"sparkJobEntryType":"SparkJobPythonEntry","file":"main.py"},
			"conf":{"spark.driver.cores":"1"},"resources":{"instanceType":"standard_e4s_v3","runtimeVersion":"3.3"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := jobsEnv(t)
			body := v.Must(http.MethodPut, jobsPath+"job1", newest, tt.body, http.StatusCreated)
			p := body["properties"].(map[string]any)
			if p["status"] != jobNotStarted {
				t.Errorf("status = %v, want NotStarted", p["status"])
			}
			if _, ok := p["provisioningState"]; ok {
				t.Errorf("a job shows provisioningState")
			}
			if body["type"] != TypeJobs || body["id"] != jobsPath+"job1" {
				t.Errorf("envelope = %v %v", body["type"], body["id"])
			}
		})
	}
}

// TestJobGenerated checks defaults, casing normalisation and services.
func TestJobGenerated(t *testing.T) {
	v := jobsEnv(t)
	p := v.Must(http.MethodPut, jobsPath+"job1", newest, jobsCommand(`,"jobtype":"command","status":"Completed"`), http.StatusCreated)["properties"].(map[string]any)
	if p["jobType"] != "Command" || p["experimentName"] != "Default" || p["displayName"] != "job1" || p["isArchived"] != false {
		t.Errorf("defaults: %v", p)
	}
	services := p["services"].(map[string]any)
	studio := services["Studio"].(map[string]any)
	tracking := services["Tracking"].(map[string]any)
	wantStudio := "https://ml.azure.com/runs/job1?wsid=/subscriptions/" + testSub + "/resourcegroups/rg/workspaces/ws1&tid=" + testTenant
	if studio["endpoint"] != wantStudio || studio["jobServiceType"] != "Studio" {
		t.Errorf("Studio = %v, want %s", studio, wantStudio)
	}
	wantTracking := "azureml://eastus.api.azureml.ms/mlflow/v1.0" + jobsWS + "?"
	if tracking["endpoint"] != wantTracking {
		t.Errorf("Tracking = %v, want %s", tracking["endpoint"], wantTracking)
	}
}

// TestJobStatusProgression follows a job through its phases.
func TestJobStatusProgression(t *testing.T) {
	v := jobsEnv(t)
	v.Must(http.MethodPut, jobsPath+"job1", newest, jobsCommand(""), http.StatusCreated)
	// The clock is the wall clock plus an offset, so each check sits half
	// a step inside its phase.
	steps := []struct {
		after time.Duration
		want  string
	}{
		{0, jobNotStarted},
		{jobsStep / 2, jobNotStarted},
		{jobsStep, jobQueued},                          // 1.5 steps
		{jobsStep, jobRunning},                         // 2.5 steps
		{(jobRunningSteps - 1) * jobsStep, jobRunning}, // 6.5 steps
		{jobsStep, jobCompleted},                       // 7.5 steps
		{time.Hour, jobCompleted},
	}
	for i, s := range steps {
		v.Advance(s.after)
		if got := v.jobsProps("job1")["status"]; got != s.want {
			t.Fatalf("step %d: status = %v, want %s", i, got, s.want)
		}
	}
	// A cancel now is refused: the job has completed.
	ae := v.Fail(http.MethodPost, jobsPath+"job1/cancel", newest, "", 400, arm.CodeUserError)
	if !strings.Contains(ae.Message, "Completed") {
		t.Errorf("cancel message = %q, want it to name the status", ae.Message)
	}
}

// TestJobCancel cancels a running job and polls the operation.
func TestJobCancel(t *testing.T) {
	v := jobsEnv(t)
	v.Must(http.MethodPut, jobsPath+"job1", newest, jobsCommand(""), http.StatusCreated)
	v.Advance(3 * jobsStep)
	if got := v.jobsProps("job1")["status"]; got != jobRunning {
		t.Fatalf("status = %v, want Running", got)
	}
	resp, err := v.Serve(http.MethodPost, jobsPath+"job1/cancel", newest, "")
	if err != nil {
		t.Fatal(err)
	}
	loc := resp.Header.Get("Location")
	if resp.Status != http.StatusAccepted || loc == "" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("cancel: %d, Location %q; want 202 with Location and Retry-After", resp.Status, loc)
	}
	if got := v.jobsProps("job1")["status"]; got != jobCancelRequested {
		t.Errorf("status after cancel = %v, want CancelRequested", got)
	}
	if st, _ := v.jobsPoll(loc); *st != http.StatusAccepted {
		t.Errorf("poll while canceling = %d, want 202", *st)
	}
	// Cancelling again while it is under way is accepted.
	v.Advance(jobsStep / 2)
	v.Must(http.MethodPost, jobsPath+"job1/cancel", newest, "", http.StatusAccepted)
	v.Advance(jobsStep / 2)
	if got := v.jobsProps("job1")["status"]; got != jobCanceled {
		t.Errorf("status = %v, want Canceled", got)
	}
	if st, _ := v.jobsPoll(loc); *st != http.StatusOK {
		t.Errorf("poll after cancel = %d, want 200", *st)
	}
	// Canceled stays Canceled; another cancel is refused.
	v.Advance(time.Hour)
	if got := v.jobsProps("job1")["status"]; got != jobCanceled {
		t.Errorf("status an hour later = %v, want Canceled", got)
	}
	ae := v.Fail(http.MethodPost, jobsPath+"job1/cancel", newest, "", 400, arm.CodeUserError)
	if !strings.Contains(ae.Message, "Canceled") {
		t.Errorf("message = %q", ae.Message)
	}
	v.Fail(http.MethodPost, jobsPath+"job1/stop", newest, "", 400, "InvalidResourceType")
	v.Fail(http.MethodPost, jobsPath+"nope/cancel", newest, "", 404, "ResourceNotFound")
}

// TestJobCancelBeforeStart cancels a job that has not started.
func TestJobCancelBeforeStart(t *testing.T) {
	v := jobsEnv(t)
	v.Must(http.MethodPut, jobsPath+"job1", newest, jobsPipeline, http.StatusCreated)
	v.Must(http.MethodPost, jobsPath+"job1/cancel", newest, "", http.StatusAccepted)
	v.Advance(jobsStep)
	if got := v.jobsProps("job1")["status"]; got != jobCanceled {
		t.Errorf("status = %v, want Canceled", got)
	}
}

// TestJobUpdate covers what a PUT to an existing job may change.
func TestJobUpdate(t *testing.T) {
	v := jobsEnv(t)
	created := v.Must(http.MethodPut, jobsPath+"job1", newest, jobsCommand(""), http.StatusCreated)
	v.Advance(3 * jobsStep)

	// A GET-modify-PUT round trip that changes only mutable members.
	got := v.Must(http.MethodGet, jobsPath+"job1", newest, "", http.StatusOK)
	p := got["properties"].(map[string]any)
	p["description"] = "retrained"
	p["tags"] = map[string]any{"team": "b"}
	p["isArchived"] = true
	p["displayName"] = "Job One"
	p["services"].(map[string]any)["Studio"] = map[string]any{"jobServiceType": "Studio", "endpoint": "https://elsewhere"}
	b, _ := json.Marshal(got)
	upd := v.Must(http.MethodPut, jobsPath+"job1", newest, string(b), http.StatusOK)["properties"].(map[string]any)
	if upd["description"] != "retrained" || upd["tags"].(map[string]any)["team"] != "b" || upd["isArchived"] != true || upd["displayName"] != "Job One" {
		t.Errorf("update = %v", upd)
	}
	if upd["status"] != jobRunning {
		t.Errorf("status after update = %v, want Running (the timeline is kept)", upd["status"])
	}
	if !jsonEqual(upd["services"], created["properties"].(map[string]any)["services"]) {
		t.Errorf("services changed: %v", upd["services"])
	}

	tests := []struct{ name, body, target string }{
		{"command", strings.Replace(jobsCommand(""), "python train.py", "python other.py", 1), "properties.command"},
		{"resources", strings.Replace(jobsCommand(""), `"instanceCount":1`, `"instanceCount":2`, 1), "properties.resources"},
		{"computeId", jobsCommand(`,"computeId":"` + jobsWS + `/computes/c"`), "properties.computeId"},
		{"experimentName", jobsCommand(`,"experimentName":"exp"`), "properties.experimentName"},
		{"another job type", jobsPipeline, "properties.command"},
	}
	for _, tt := range tests {
		ae := v.Fail(http.MethodPut, jobsPath+"job1", newest, tt.body, 400, arm.CodeUserError)
		if ae.Target != tt.target || !strings.Contains(ae.Message, "only description, tags, displayName, properties and isArchived") {
			t.Errorf("%s: target %q message %q", tt.name, ae.Target, ae.Message)
		}
	}
	// The same definition again, with other tags, is an update.
	v.Must(http.MethodPut, jobsPath+"job1", newest, jobsCommand(`,"properties":{"k":"v"}`), http.StatusOK)
}

func jsonEqual(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return string(ab) == string(bb)
}

// TestJobDelete checks the Location-style delete.
func TestJobDelete(t *testing.T) {
	v := jobsEnv(t)
	v.Must(http.MethodPut, jobsPath+"job1", newest, jobsCommand(""), http.StatusCreated)
	resp, err := v.Serve(http.MethodDelete, jobsPath+"job1", newest, "")
	if err != nil {
		t.Fatal(err)
	}
	loc := resp.Header.Get("Location")
	if resp.Status != http.StatusAccepted || loc == "" || resp.Header.Get("Azure-AsyncOperation") != "" {
		t.Fatalf("delete: %d, headers %v; want 202 with Location only", resp.Status, resp.Header)
	}
	if st, _ := v.jobsPoll(loc); *st != http.StatusAccepted {
		t.Errorf("poll while deleting = %d, want 202", *st)
	}
	v.Advance(jobsStep)
	if st, _ := v.jobsPoll(loc); *st != http.StatusNoContent {
		t.Errorf("poll after delete = %d, want 204", *st)
	}
	v.Fail(http.MethodGet, jobsPath+"job1", newest, "", 404, "ResourceNotFound")
	v.Must(http.MethodDelete, jobsPath+"job1", newest, "", http.StatusNoContent)
	// The name can be used again, for a new job with a new timeline.
	v.Must(http.MethodPut, jobsPath+"job1", newest, jobsPipeline, http.StatusCreated)
	if got := v.jobsProps("job1")["status"]; got != jobNotStarted {
		t.Errorf("status of the new job = %v", got)
	}
}

// TestJobList checks the list filters.
func TestJobList(t *testing.T) {
	v := jobsEnv(t)
	v.Must(http.MethodPut, jobsPath+"cmd", newest, jobsCommand(`,"properties":{"stage":"dev","owner":"x"}`), http.StatusCreated)
	v.Must(http.MethodPut, jobsPath+"pipe", newest, jobsPipeline, http.StatusCreated)
	v.Must(http.MethodPut, jobsPath+"old", newest, strings.Replace(jobsCommand(`,"isArchived":true`), `"team":"a"`, `"team":"b"`, 1), http.StatusCreated)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"cmd", "pipe"}},
		{"listViewType=ActiveOnly", []string{"cmd", "pipe"}},
		{"listViewType=ArchivedOnly", []string{"old"}},
		{"listViewType=All", []string{"cmd", "old", "pipe"}},
		{"jobType=Pipeline", []string{"pipe"}},
		{"jobType=command&listViewType=All", []string{"cmd", "old"}},
		{"tag=team&listViewType=All", []string{"cmd", "old"}},
		{"tag=team=b&listViewType=All", []string{"old"}},
		{"properties=stage", []string{"cmd"}},
		{"properties=stage=dev,owner=y", nil},
	}
	for _, tt := range tests {
		body := v.Must(http.MethodGet, jobsWS+"/jobs?"+tt.query, newest, "", http.StatusOK)
		var names []string
		for _, it := range body["value"].([]any) {
			names = append(names, it.(map[string]any)["name"].(string))
		}
		slices.Sort(names)
		if !slices.Equal(names, tt.want) {
			t.Errorf("list ?%s = %v, want %v", tt.query, names, tt.want)
		}
	}
	ae := v.Fail(http.MethodGet, jobsWS+"/jobs?listViewType=Some", newest, "", 400, arm.CodeUserError)
	if ae.Target != "listViewType" {
		t.Errorf("target = %q", ae.Target)
	}
	v.Fail(http.MethodGet, jobsWS+"/jobs?jobType=Batch", newest, "", 400, arm.CodeUserError)
}

// TestJobLegacyModeGate checks rule L5 for jobs.
func TestJobLegacyModeGate(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	v.createWorkspace("ws1", newest, `{"location":"eastus","properties":{"v1LegacyMode":true}}`)
	ae := v.Fail(http.MethodPut, jobsPath+"job1", newest, jobsCommand(""), 400, arm.CodeUserError)
	if !strings.Contains(ae.Message, "v1LegacyMode") {
		t.Errorf("message = %q", ae.Message)
	}
	v.Fail(http.MethodGet, jobsWS+"/jobs", newest, "", 400, arm.CodeUserError)
	v.Fail(http.MethodPut, jobsWS+"/schedules/s1", newest, scheduleCron("0 2 * * *"), 400, arm.CodeUserError)
	v.Must(http.MethodPatch, wsBase+"ws1", newest, `{"properties":{"v1LegacyMode":false}}`, http.StatusOK)
	v.Must(http.MethodPut, jobsPath+"job1", newest, jobsCommand(""), http.StatusCreated)
}

// TestJobShapesMatchGoSDK decodes jobs with the Go SDK's models.
func TestJobShapesMatchGoSDK(t *testing.T) {
	v := jobsEnv(t)
	decode := func(body map[string]any) *armmachinelearning.JobBase {
		t.Helper()
		b, _ := json.Marshal(body)
		var j armmachinelearning.JobBase
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatalf("the SDK cannot decode %s: %v", b, err)
		}
		return &j
	}
	cmd := decode(v.Must(http.MethodPut, jobsPath+"cmd", newest, jobsCommand(""), http.StatusCreated))
	c, ok := cmd.Properties.(*armmachinelearning.CommandJob)
	if !ok || *c.Command != "python train.py" || *c.Status != armmachinelearning.JobStatusNotStarted || *c.Services["Studio"].JobServiceType != "Studio" {
		t.Errorf("command job = %#v", cmd.Properties)
	}
	sw := decode(v.Must(http.MethodPut, jobsPath+"sweep", newest, jobsSweep, http.StatusCreated))
	s, ok := sw.Properties.(*armmachinelearning.SweepJob)
	if !ok || *s.Objective.Goal != armmachinelearning.GoalMaximize || s.SamplingAlgorithm.GetSamplingAlgorithm().SamplingAlgorithmType == nil {
		t.Errorf("sweep job = %#v", sw.Properties)
	}
	if ra, ok := s.SamplingAlgorithm.(*armmachinelearning.RandomSamplingAlgorithm); !ok || *ra.Seed != 3 {
		t.Errorf("sampling = %#v", s.SamplingAlgorithm)
	}
	pl := decode(v.Must(http.MethodPut, jobsPath+"pipe", newest, jobsPipeline, http.StatusCreated))
	if p, ok := pl.Properties.(*armmachinelearning.PipelineJob); !ok || len(p.Jobs) != 1 {
		t.Errorf("pipeline job = %#v", pl.Properties)
	} else if in, ok := p.Inputs["epochs"].(*armmachinelearning.LiteralJobInput); !ok || *in.Value != "3" {
		t.Errorf("pipeline input = %#v", p.Inputs["epochs"])
	}
}

// TestJobImport seeds a job: it is checked and shows Completed at once.
func TestJobImport(t *testing.T) {
	v := jobsEnv(t)
	v.importResource(jobsPath+"seeded", newest, jobsCommand(`,"status":"Running"`))
	p := v.jobsProps("seeded")
	if p["status"] != jobCompleted || p["services"].(map[string]any)["Studio"] == nil {
		t.Errorf("seeded job = %v", p)
	}
	v.Fail(http.MethodPost, jobsPath+"seeded/cancel", newest, "", 400, arm.CodeUserError)
	_, err := v.e.Import(context.Background(), mustID(t, jobsPath+"bad"), seedBody(t, `{"properties":{"jobType":"Command"}}`), newest, engine.Caller{AppID: "seed"})
	if ae, ok := arm.AsError(err); !ok || ae.Target != "properties.command" {
		t.Errorf("import of a bad job: %v", err)
	}
}

// TestJobDescribe checks the admin view of a job's timeline.
func TestJobDescribe(t *testing.T) {
	v := jobsEnv(t)
	v.Must(http.MethodPut, jobsPath+"job1", newest, jobsCommand(""), http.StatusCreated)
	created := v.Now
	v.Advance(3 * jobsStep)
	v.Must(http.MethodPost, jobsPath+"job1/cancel", newest, "", http.StatusAccepted)
	out, err := v.e.Describe(context.Background(), mustID(t, jobsPath+"job1"), "")
	if err != nil {
		t.Fatal(err)
	}
	d := asJSON(t, out["derived"])
	want := map[string]any{
		"status":            jobCancelRequested,
		"submittedAt":       created.Format(time.RFC3339Nano),
		"runningAt":         created.Add(2 * jobsStep).Format(time.RFC3339Nano),
		"cancelRequestedAt": v.Now.Format(time.RFC3339Nano),
		"canceledAt":        v.Now.Add(jobsStep).Format(time.RFC3339Nano),
	}
	for k, w := range want {
		if d[k] != w {
			t.Errorf("derived %s = %v, want %v", k, d[k], w)
		}
	}
	if _, ok := d["completedAt"]; ok {
		t.Errorf("a canceled job shows completedAt: %v", d)
	}
}
