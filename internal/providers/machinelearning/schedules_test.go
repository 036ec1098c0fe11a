package machinelearning

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/machinelearning/armmachinelearning/v4"
	"github.com/armlet/armlet/internal/arm"
)

const schedulesPath = jobsWS + "/schedules/"

// scheduleCron is a schedule that runs the serverless command job on a
// cron expression.
func scheduleCron(expr string) string {
	return scheduleWith(`{"triggerType":"Cron","expression":"`+expr+`"}`, "")
}

// scheduleWith builds a CreateJob schedule from a trigger and extra
// properties members.
func scheduleWith(trigger, extra string) string {
	job := jobsCommand("")
	job = job[len(`{"properties":`) : len(job)-1]
	return `{"properties":{"action":{"actionType":"CreateJob","jobDefinition":` + job + `},"trigger":` + trigger + extra + `}}`
}

func TestScheduleValidation(t *testing.T) {
	recurrence := func(body string) string { return scheduleWith(body, "") }
	tests := []struct {
		name   string
		body   string
		code   string
		target string
	}{
		{"no trigger", `{"properties":{"action":{"actionType":"InvokeBatchEndpoint","endpointInvocationDefinition":{}}}}`, "InvalidRequestContent", "properties.trigger"},
		{"no action", `{"properties":{"trigger":{"triggerType":"Cron","expression":"* * * * *"}}}`, "InvalidRequestContent", "properties.action"},
		{"bad actionType", strings.Replace(scheduleCron("* * * * *"), "CreateJob", "SendMail", 1), "InvalidRequestContent", "properties.action.actionType"},
		{"bad triggerType", scheduleWith(`{"triggerType":"Daily"}`, ""), "InvalidRequestContent", "properties.trigger.triggerType"},
		{"cron without expression", scheduleWith(`{"triggerType":"Cron"}`, ""), "InvalidRequestContent", "properties.trigger.expression"},
		{"cron with four fields", scheduleCron("0 2 * *"), arm.CodeUserError, "properties.trigger.expression"},
		{"cron with six fields", scheduleCron("0 0 2 * * *"), arm.CodeUserError, "properties.trigger.expression"},
		{"cron minute 60", scheduleCron("60 2 * * *"), arm.CodeUserError, "properties.trigger.expression"},
		{"cron hour 24", scheduleCron("0 24 * * *"), arm.CodeUserError, "properties.trigger.expression"},
		{"cron day 0", scheduleCron("0 2 0 * *"), arm.CodeUserError, "properties.trigger.expression"},
		{"cron weekday 7", scheduleCron("0 2 * * 7"), arm.CodeUserError, "properties.trigger.expression"},
		{"cron reversed range", scheduleCron("0 5-2 * * *"), arm.CodeUserError, "properties.trigger.expression"},
		{"cron bad step", scheduleCron("*/0 * * * *"), arm.CodeUserError, "properties.trigger.expression"},
		{"cron word", scheduleCron("daily"), arm.CodeUserError, "properties.trigger.expression"},
		{"recurrence without frequency", recurrence(`{"triggerType":"Recurrence","interval":1}`), "InvalidRequestContent", "properties.trigger.frequency"},
		{"recurrence bad frequency", recurrence(`{"triggerType":"Recurrence","frequency":"Year","interval":1}`), "InvalidRequestContent", "properties.trigger.frequency"},
		{"recurrence interval 0", recurrence(`{"triggerType":"Recurrence","frequency":"Day","interval":0}`), arm.CodeUserError, "properties.trigger.interval"},
		{"recurrence schedule without minutes", recurrence(`{"triggerType":"Recurrence","frequency":"Day","interval":1,"schedule":{"hours":[1]}}`), "InvalidRequestContent", "properties.trigger.schedule.minutes"},
		{"recurrence hour 24", recurrence(`{"triggerType":"Recurrence","frequency":"Day","interval":1,"schedule":{"hours":[1,24],"minutes":[0]}}`), arm.CodeUserError, "properties.trigger.schedule.hours[1]"},
		{"recurrence bad weekday", recurrence(`{"triggerType":"Recurrence","frequency":"Week","interval":1,"schedule":{"hours":[1],"minutes":[0],"weekDays":["Funday"]}}`), "InvalidRequestContent", "properties.trigger.schedule.weekDays[0]"},
		{"bad startTime", scheduleWith(`{"triggerType":"Cron","expression":"0 2 * * *","startTime":"tomorrow"}`, ""), arm.CodeUserError, "properties.trigger.startTime"},
		{"endTime before startTime", scheduleWith(`{"triggerType":"Cron","expression":"0 2 * * *","startTime":"2025-01-02T00:00:00","endTime":"2025-01-01T00:00:00"}`, ""), arm.CodeUserError, "properties.trigger.endTime"},
		{"CreateJob without jobDefinition", `{"properties":{"action":{"actionType":"CreateJob"},"trigger":{"triggerType":"Cron","expression":"* * * * *"}}}`, "InvalidRequestContent", "properties.action.jobDefinition"},
		{"jobDefinition without jobType", `{"properties":{"action":{"actionType":"CreateJob","jobDefinition":{"command":"x"}},"trigger":{"triggerType":"Cron","expression":"* * * * *"}}}`, "InvalidRequestContent", "properties.action.jobDefinition.jobType"},
		{"jobDefinition without command", strings.Replace(scheduleCron("* * * * *"), `"command":"python train.py",`, "", 1), "InvalidRequestContent", "properties.action.jobDefinition.command"},
		{"jobDefinition with missing compute", strings.Replace(scheduleCron("* * * * *"), `"jobType":"Command",`, `"jobType":"Command","computeId":"`+jobsWS+`/computes/gone",`, 1), arm.CodeUserError, "properties.action.jobDefinition.computeId"},
		{"monitor without signals", `{"properties":{"action":{"actionType":"CreateMonitor","monitorDefinition":{"computeConfiguration":{}}},"trigger":{"triggerType":"Cron","expression":"* * * * *"}}}`, "InvalidRequestContent", "properties.action.monitorDefinition.signals"},
		{"unknown member", scheduleWith(`{"triggerType":"Cron","expression":"* * * * *"}`, `,"enabled":true`), "InvalidRequestContent", "properties.enabled"},
		{"unknown trigger member", scheduleWith(`{"triggerType":"Cron","expression":"* * * * *","every":"day"}`, ""), "InvalidRequestContent", "properties.trigger.every"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := jobsEnv(t)
			ae := v.Fail(http.MethodPut, schedulesPath+"s1", newest, tt.body, 400, tt.code)
			if ae.Target != tt.target {
				t.Errorf("target = %q (%s), want %q", ae.Target, ae.Message, tt.target)
			}
			v.Fail(http.MethodGet, schedulesPath+"s1", newest, "", 404, "ResourceNotFound")
		})
	}
}

// TestScheduleAccepted covers valid triggers and actions.
func TestScheduleAccepted(t *testing.T) {
	for _, body := range []string{
		scheduleCron("*/15 0-6,22-23 1-31/2 JAN-mar,12 mon-fri"),
		scheduleCron("0 2 * * 0"),
		scheduleWith(`{"triggerType":"Recurrence","frequency":"week","interval":2,"timeZone":"Pacific Standard Time",
			"startTime":"2025-01-01T09:00:00","endTime":"2026-01-01T00:00:00Z",
			"schedule":{"hours":[9,17],"minutes":[0,30],"weekDays":["monday","Friday"]}}`, `,"displayName":"twice","isEnabled":false,"provisioningState":"Failed"`),
		`{"properties":{"action":{"actionType":"InvokeBatchEndpoint","endpointInvocationDefinition":{"endpoint":"e"}},
			"trigger":{"triggerType":"Cron","expression":"0 0 * * *"}}}`,
		`{"properties":{"action":{"actionType":"CreateMonitor","monitorDefinition":{"computeConfiguration":{"computeType":"ServerlessSpark"},"signals":{"drift":{"signalType":"DataDrift"}}}},
			"trigger":{"triggerType":"Recurrence","frequency":"Day","interval":1}}}`,
	} {
		v := jobsEnv(t)
		v.Must(http.MethodPut, schedulesPath+"s1", newest, body, http.StatusCreated)
	}
}

// TestScheduleLifecycle covers the asynchronous PUT, the list views and
// the Location-style delete.
func TestScheduleLifecycle(t *testing.T) {
	v := jobsEnv(t)
	resp, err := v.Serve(http.MethodPut, schedulesPath+"nightly", newest, scheduleCron("0 2 * * *"))
	if err != nil {
		t.Fatal(err)
	}
	op := resp.Header.Get("Azure-AsyncOperation")
	if resp.Status != http.StatusCreated || op == "" {
		t.Fatalf("create: %d, Azure-AsyncOperation %q; want 201 with the header", resp.Status, op)
	}
	p := asJSON(t, resp.Body)["properties"].(map[string]any)
	if p["provisioningState"] != "Creating" || p["isEnabled"] != true || p["trigger"].(map[string]any)["timeZone"] != "UTC" {
		t.Errorf("created = %v", p)
	}
	if _, st := v.jobsPoll(op); st["status"] != "InProgress" {
		t.Errorf("operation = %v, want InProgress", st)
	}
	v.Advance(jobsStep)
	if _, st := v.jobsPoll(op); st["status"] != "Succeeded" {
		t.Errorf("operation = %v, want Succeeded", st)
	}
	p = v.Must(http.MethodGet, schedulesPath+"nightly", newest, "", http.StatusOK)["properties"].(map[string]any)
	if p["provisioningState"] != "Succeeded" {
		t.Errorf("provisioningState = %v", p["provisioningState"])
	}
	job := p["action"].(map[string]any)["jobDefinition"].(map[string]any)
	if job["jobType"] != "Command" || job["command"] != "python train.py" {
		t.Errorf("jobDefinition = %v", job)
	}

	// An update (disable) answers 200 Updating.
	upd := v.Must(http.MethodPut, schedulesPath+"nightly", newest, scheduleWith(`{"triggerType":"Cron","expression":"0 3 * * *"}`, `,"isEnabled":false`), http.StatusOK)
	if up := upd["properties"].(map[string]any); up["provisioningState"] != "Updating" || up["isEnabled"] != false {
		t.Errorf("update = %v", up)
	}
	v.Must(http.MethodPut, schedulesPath+"hourly", newest, scheduleWith(`{"triggerType":"Recurrence","frequency":"Hour","interval":1}`, ""), http.StatusCreated)
	v.Advance(jobsStep)

	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{"hourly"}},
		{"?listViewType=EnabledOnly", []string{"hourly"}},
		{"?listViewType=disabledonly", []string{"nightly"}},
		{"?listViewType=All", []string{"hourly", "nightly"}},
	} {
		body := v.Must(http.MethodGet, jobsWS+"/schedules"+tt.query, newest, "", http.StatusOK)
		var names []string
		for _, it := range body["value"].([]any) {
			names = append(names, it.(map[string]any)["name"].(string))
		}
		slices.Sort(names)
		if !slices.Equal(names, tt.want) {
			t.Errorf("list %s = %v, want %v", tt.query, names, tt.want)
		}
	}
	v.Fail(http.MethodGet, jobsWS+"/schedules?listViewType=ActiveOnly", newest, "", 400, arm.CodeUserError)

	resp, err = v.Serve(http.MethodDelete, schedulesPath+"nightly", newest, "")
	if err != nil {
		t.Fatal(err)
	}
	loc := resp.Header.Get("Location")
	if resp.Status != http.StatusAccepted || loc == "" {
		t.Fatalf("delete: %d, Location %q", resp.Status, loc)
	}
	if p := v.Must(http.MethodGet, schedulesPath+"nightly", newest, "", http.StatusOK)["properties"].(map[string]any); p["provisioningState"] != "Deleting" {
		t.Errorf("provisioningState while deleting = %v", p["provisioningState"])
	}
	v.Advance(jobsStep)
	if st, _ := v.jobsPoll(loc); *st != http.StatusNoContent {
		t.Errorf("poll after delete = %d, want 204", *st)
	}
	v.Fail(http.MethodGet, schedulesPath+"nightly", newest, "", 404, "ResourceNotFound")
}

// TestScheduleShapesMatchGoSDK decodes a schedule with the Go SDK.
func TestScheduleShapesMatchGoSDK(t *testing.T) {
	v := jobsEnv(t)
	body := v.Must(http.MethodPut, schedulesPath+"s1", newest, scheduleWith(`{"triggerType":"Recurrence","frequency":"Week","interval":1,
		"schedule":{"hours":[9],"minutes":[0],"weekDays":["Monday"]}}`, ""), http.StatusCreated)
	b, _ := json.Marshal(body)
	var s armmachinelearning.Schedule
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("the SDK cannot decode %s: %v", b, err)
	}
	act, ok := s.Properties.Action.(*armmachinelearning.JobScheduleAction)
	if !ok {
		t.Fatalf("action = %#v", s.Properties.Action)
	}
	if cj, ok := act.JobDefinition.(*armmachinelearning.CommandJob); !ok || *cj.Command != "python train.py" {
		t.Errorf("jobDefinition = %#v", act.JobDefinition)
	}
	tr, ok := s.Properties.Trigger.(*armmachinelearning.RecurrenceTrigger)
	if !ok || *tr.Frequency != armmachinelearning.RecurrenceFrequencyWeek || *tr.Schedule.WeekDays[0] != armmachinelearning.WeekDayMonday {
		t.Errorf("trigger = %#v", s.Properties.Trigger)
	}
	if *s.Properties.ProvisioningState != armmachinelearning.ScheduleProvisioningStatusCreating || !*s.Properties.IsEnabled {
		t.Errorf("state = %v enabled %v", *s.Properties.ProvisioningState, *s.Properties.IsEnabled)
	}
}
