package app_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// jobsStep is the operation duration of the jobs tests: long enough that
// a job's phases do not pass while a request is on the wire.
const jobsStep = time.Second

const jobsRegistryEnv = "azureml://registries/azureml/environments/sklearn-1.5/versions/1"

func commandJob(tags map[string]*string) armmachinelearning.JobBase {
	return armmachinelearning.JobBase{Properties: &armmachinelearning.CommandJob{
		Command:       to.Ptr("python train.py"),
		EnvironmentID: to.Ptr(jobsRegistryEnv),
		Resources:     &armmachinelearning.JobResourceConfiguration{InstanceType: to.Ptr("Standard_DS3_v2"), InstanceCount: to.Ptr[int32](1)},
		Tags:          tags,
	}}
}

func jobStatus(t *testing.T, jobs *armmachinelearning.JobsClient, name string) armmachinelearning.JobStatus {
	t.Helper()
	got, err := jobs.Get(context.Background(), "ml-rg", "ws1", name, nil)
	if err != nil {
		t.Fatalf("get job %s: %v", name, err)
	}
	return *got.Properties.GetJobBaseProperties().Status
}

// TestGoSDKJobs drives jobs with armmachinelearning/v4's JobsClient.
func TestGoSDKJobs(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.OperationDuration = jobsStep }))
	ctx := context.Background()
	s.CreateWorkspace(t, "ml-rg", "ws1", false)
	cred := s.Credential(t)
	jobs, err := armmachinelearning.NewJobsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}

	created, err := jobs.CreateOrUpdate(ctx, "ml-rg", "ws1", "train1", commandJob(map[string]*string{"team": to.Ptr("a")}), nil)
	if err != nil {
		t.Fatalf("create command job: %v", err)
	}
	cmd, ok := created.Properties.(*armmachinelearning.CommandJob)
	if !ok {
		t.Fatalf("created job is %T, want *CommandJob", created.Properties)
	}
	if *cmd.Status != armmachinelearning.JobStatusNotStarted || *cmd.ExperimentName != "Default" ||
		!strings.HasPrefix(*cmd.Services["Studio"].Endpoint, "https://ml.azure.com/runs/train1?wsid=") ||
		!strings.HasPrefix(*cmd.Services["Tracking"].Endpoint, "azureml://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/") {
		t.Errorf("created command job: status %v experiment %v services %v", *cmd.Status, *cmd.ExperimentName, cmd.Services)
	}

	pipe, err := jobs.CreateOrUpdate(ctx, "ml-rg", "ws1", "pipe1", armmachinelearning.JobBase{Properties: &armmachinelearning.PipelineJob{
		DisplayName: to.Ptr("nightly pipeline"),
		Inputs: map[string]armmachinelearning.JobInputClassification{
			"data": &armmachinelearning.URIFolderJobInput{URI: to.Ptr("azureml://datastores/workspaceblobstore/paths/data/")},
		},
		Jobs:     map[string]any{"train": map[string]any{"type": "command", "component": "azureml:train:1"}},
		Settings: map[string]any{"default_compute": "serverless"},
	}}, nil)
	if err != nil {
		t.Fatalf("create pipeline job: %v", err)
	}
	if pj, ok := pipe.Properties.(*armmachinelearning.PipelineJob); !ok || *pj.DisplayName != "nightly pipeline" || len(pj.Jobs) != 1 {
		t.Errorf("pipeline job = %#v", pipe.Properties)
	}

	// Missing compute: a 400 UserError naming computeId.
	bad := commandJob(nil)
	bad.Properties.(*armmachinelearning.CommandJob).ComputeID = to.Ptr("/subscriptions/" + s.Conn.SubscriptionID +
		"/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ws1/computes/cpu-cluster")
	_, err = jobs.CreateOrUpdate(ctx, "ml-rg", "ws1", "bad1", bad, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")
	if !strings.Contains(err.Error(), "computeId") {
		t.Errorf("error does not name computeId: %v", err)
	}

	// Status as time passes: Running from 2 steps, Completed after 7.
	if _, err := s.AdvanceClock(ctx, 4*jobsStep); err != nil {
		t.Fatal(err)
	}
	if st := jobStatus(t, jobs, "train1"); st != armmachinelearning.JobStatusRunning {
		t.Errorf("status after 4 steps = %s, want Running", st)
	}

	// Cancel the pipeline while it runs.
	cancel, err := jobs.BeginCancel(ctx, "ml-rg", "ws1", "pipe1", nil)
	if err != nil {
		t.Fatalf("begin cancel: %v", err)
	}
	if st := jobStatus(t, jobs, "pipe1"); st != armmachinelearning.JobStatusCancelRequested {
		t.Errorf("status right after cancel = %s, want CancelRequested", st)
	}
	if _, err := s.AdvanceClock(ctx, jobsStep); err != nil {
		t.Fatal(err)
	}
	if _, err := cancel.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if st := jobStatus(t, jobs, "pipe1"); st != armmachinelearning.JobStatusCanceled {
		t.Errorf("status after cancel = %s, want Canceled", st)
	}

	if _, err := s.AdvanceClock(ctx, 10*jobsStep); err != nil {
		t.Fatal(err)
	}
	if st := jobStatus(t, jobs, "train1"); st != armmachinelearning.JobStatusCompleted {
		t.Errorf("status after 15 steps = %s, want Completed", st)
	}
	_, err = jobs.BeginCancel(ctx, "ml-rg", "ws1", "train1", nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")

	// Archive through a GET-modify-PUT round trip; changing the command
	// is refused.
	got, err := jobs.Get(ctx, "ml-rg", "ws1", "train1", nil)
	if err != nil {
		t.Fatal(err)
	}
	got.Properties.(*armmachinelearning.CommandJob).IsArchived = to.Ptr(true)
	got.Properties.(*armmachinelearning.CommandJob).Description = to.Ptr("archived")
	archived, err := jobs.CreateOrUpdate(ctx, "ml-rg", "ws1", "train1", got.JobBase, nil)
	if err != nil {
		t.Fatalf("archive: %v", err)
	}
	if p := archived.Properties.GetJobBaseProperties(); !*p.IsArchived || *p.Description != "archived" {
		t.Errorf("archived job = %+v", p)
	}
	got.Properties.(*armmachinelearning.CommandJob).Command = to.Ptr("python other.py")
	_, err = jobs.CreateOrUpdate(ctx, "ml-rg", "ws1", "train1", got.JobBase, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")

	list := func(opts *armmachinelearning.JobsClientListOptions) []string {
		t.Helper()
		var names []string
		pager := jobs.NewListPager("ml-rg", "ws1", opts)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatalf("list jobs: %v", err)
			}
			for _, j := range page.Value {
				names = append(names, *j.Name)
			}
		}
		slices.Sort(names)
		return names
	}
	if got := list(nil); !slices.Equal(got, []string{"pipe1"}) {
		t.Errorf("list (ActiveOnly) = %v", got)
	}
	if got := list(&armmachinelearning.JobsClientListOptions{ListViewType: to.Ptr(armmachinelearning.ListViewTypeArchivedOnly)}); !slices.Equal(got, []string{"train1"}) {
		t.Errorf("list ArchivedOnly = %v", got)
	}
	if got := list(&armmachinelearning.JobsClientListOptions{ListViewType: to.Ptr(armmachinelearning.ListViewTypeAll)}); !slices.Equal(got, []string{"pipe1", "train1"}) {
		t.Errorf("list All = %v", got)
	}
	if got := list(&armmachinelearning.JobsClientListOptions{ListViewType: to.Ptr(armmachinelearning.ListViewTypeAll), JobType: to.Ptr("Command"), Tag: to.Ptr("team")}); !slices.Equal(got, []string{"train1"}) {
		t.Errorf("list Command with tag team = %v", got)
	}

	jobsDeleteAndGone(t, s, func() (*runtime.Poller[armmachinelearning.JobsClientDeleteResponse], error) {
		return jobs.BeginDelete(ctx, "ml-rg", "ws1", "train1", nil)
	}, func() error { _, err := jobs.Get(ctx, "ml-rg", "ws1", "train1", nil); return err })
}

// jobsDeleteAndGone starts a long-running delete, moves the clock past it,
// polls it with the SDK's poller and checks that a GET is then 404.
func jobsDeleteAndGone[T any](t *testing.T, s *e2e.Armlet, begin func() (*runtime.Poller[T], error), get func() error) {
	t.Helper()
	ctx := context.Background()
	del, err := begin()
	if err != nil {
		t.Fatalf("begin delete: %v", err)
	}
	if _, err := s.AdvanceClock(ctx, jobsStep); err != nil {
		t.Fatal(err)
	}
	if _, err := del.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("delete: %v", err)
	}
	e2e.RequireResponseError(t, get(), http.StatusNotFound, "ResourceNotFound")
}

// TestGoSDKSchedules drives schedules with armmachinelearning/v4's
// SchedulesClient.
func TestGoSDKSchedules(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) { c.OperationDuration = jobsStep }))
	ctx := context.Background()
	s.CreateWorkspace(t, "ml-rg", "ws1", false)
	cred := s.Credential(t)
	schedules, err := armmachinelearning.NewSchedulesClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	schedule := func(trigger armmachinelearning.TriggerBaseClassification, enabled bool) armmachinelearning.Schedule {
		return armmachinelearning.Schedule{Properties: &armmachinelearning.ScheduleProperties{
			Action:    &armmachinelearning.JobScheduleAction{JobDefinition: commandJob(nil).Properties},
			Trigger:   trigger,
			IsEnabled: to.Ptr(enabled),
		}}
	}
	create := func(name string, body armmachinelearning.Schedule) armmachinelearning.Schedule {
		t.Helper()
		p, err := schedules.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", name, body, nil)
		if err != nil {
			t.Fatalf("begin create %s: %v", name, err)
		}
		if _, err := s.AdvanceClock(ctx, jobsStep); err != nil {
			t.Fatal(err)
		}
		res, err := p.PollUntilDone(ctx, e2e.FastPoll)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return res.Schedule
	}
	nightly := create("nightly", schedule(&armmachinelearning.CronTrigger{Expression: to.Ptr("0 2 * * *")}, true))
	if *nightly.Properties.ProvisioningState != armmachinelearning.ScheduleProvisioningStatusSucceeded {
		t.Errorf("provisioningState after the poller = %s", *nightly.Properties.ProvisioningState)
	}
	if tr, ok := nightly.Properties.Trigger.(*armmachinelearning.CronTrigger); !ok || *tr.Expression != "0 2 * * *" || *tr.TimeZone != "UTC" {
		t.Errorf("trigger = %#v", nightly.Properties.Trigger)
	}
	if a, ok := nightly.Properties.Action.(*armmachinelearning.JobScheduleAction); !ok {
		t.Errorf("action = %#v", nightly.Properties.Action)
	} else if cj, ok := a.JobDefinition.(*armmachinelearning.CommandJob); !ok || *cj.Command != "python train.py" {
		t.Errorf("jobDefinition = %#v", a.JobDefinition)
	}
	create("weekly", schedule(&armmachinelearning.RecurrenceTrigger{
		Frequency: to.Ptr(armmachinelearning.RecurrenceFrequencyWeek), Interval: to.Ptr[int32](1),
		Schedule: &armmachinelearning.RecurrenceSchedule{Hours: []*int32{to.Ptr[int32](9)}, Minutes: []*int32{to.Ptr[int32](0)},
			WeekDays: []*armmachinelearning.WeekDay{to.Ptr(armmachinelearning.WeekDayMonday)}},
	}, false))

	_, err = schedules.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "bad", schedule(&armmachinelearning.CronTrigger{Expression: to.Ptr("0 25 * * *")}, true), nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")

	list := func(view armmachinelearning.ScheduleListViewType) []string {
		t.Helper()
		var opts *armmachinelearning.SchedulesClientListOptions
		if view != "" {
			opts = &armmachinelearning.SchedulesClientListOptions{ListViewType: to.Ptr(view)}
		}
		var names []string
		pager := schedules.NewListPager("ml-rg", "ws1", opts)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatalf("list schedules: %v", err)
			}
			for _, sc := range page.Value {
				names = append(names, *sc.Name)
			}
		}
		slices.Sort(names)
		return names
	}
	if got := list(""); !slices.Equal(got, []string{"nightly"}) {
		t.Errorf("list (EnabledOnly) = %v", got)
	}
	if got := list(armmachinelearning.ScheduleListViewTypeDisabledOnly); !slices.Equal(got, []string{"weekly"}) {
		t.Errorf("list DisabledOnly = %v", got)
	}
	if got := list(armmachinelearning.ScheduleListViewTypeAll); !slices.Equal(got, []string{"nightly", "weekly"}) {
		t.Errorf("list All = %v", got)
	}

	jobsDeleteAndGone(t, s, func() (*runtime.Poller[armmachinelearning.SchedulesClientDeleteResponse], error) {
		return schedules.BeginDelete(ctx, "ml-rg", "ws1", "nightly", nil)
	}, func() error { _, err := schedules.Get(ctx, "ml-rg", "ws1", "nightly", nil); return err })
}

// TestGoSDKJobsLegacyMode checks rule L5 for jobs and schedules: refused
// while v1LegacyMode is true, served once a PATCH turns it off.
func TestGoSDKJobsLegacyMode(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	ctx := context.Background()
	ws := s.CreateWorkspace(t, "ml-rg", "ws1", true)
	cred := s.Credential(t)
	jobs, err := armmachinelearning.NewJobsClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	schedules, err := armmachinelearning.NewSchedulesClient(s.Conn.SubscriptionID, cred, s.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	sched := armmachinelearning.Schedule{Properties: &armmachinelearning.ScheduleProperties{
		Action:  &armmachinelearning.JobScheduleAction{JobDefinition: commandJob(nil).Properties},
		Trigger: &armmachinelearning.CronTrigger{Expression: to.Ptr("0 2 * * *")},
	}}

	_, err = jobs.CreateOrUpdate(ctx, "ml-rg", "ws1", "train1", commandJob(nil), nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")
	if !strings.Contains(err.Error(), "v1LegacyMode") {
		t.Errorf("refusal does not name v1LegacyMode: %v", err)
	}
	_, err = schedules.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "nightly", sched, nil)
	e2e.RequireResponseError(t, err, http.StatusBadRequest, "UserError")

	upd, err := ws.BeginUpdate(ctx, "ml-rg", "ws1", armmachinelearning.WorkspaceUpdateParameters{
		Properties: &armmachinelearning.WorkspacePropertiesUpdateParameters{V1LegacyMode: to.Ptr(false)},
	}, nil)
	if err != nil {
		t.Fatalf("begin update: %v", err)
	}
	if _, err := upd.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("update: %v", err)
	}

	created, err := jobs.CreateOrUpdate(ctx, "ml-rg", "ws1", "train1", commandJob(nil), nil)
	if err != nil {
		t.Fatalf("create job after v1LegacyMode false: %v", err)
	}
	if *created.Name != "train1" || *created.Properties.GetJobBaseProperties().Status != armmachinelearning.JobStatusNotStarted {
		t.Errorf("created = %s %s", *created.Name, *created.Properties.GetJobBaseProperties().Status)
	}
	p, err := schedules.BeginCreateOrUpdate(ctx, "ml-rg", "ws1", "nightly", sched, nil)
	if err != nil {
		t.Fatalf("create schedule after v1LegacyMode false: %v", err)
	}
	if _, err := p.PollUntilDone(ctx, e2e.FastPoll); err != nil {
		t.Fatalf("create schedule: %v", err)
	}
}
