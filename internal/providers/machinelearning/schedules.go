package machinelearning

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// TypeSchedules is the type of workspace schedules.
const TypeSchedules = TypeWorkspaces + "/schedules"

// registerSchedules adds workspace schedules (W/schedules/{name}).
func registerSchedules(e *engine.Engine, _ Options) {
	e.Registry().Register(&engine.Type{
		Name:        TypeSchedules,
		APIVersions: apiVersionsOf(TypeSchedules, V2APIVersions),
		NamePattern: v2NamePattern,
		NameRule:    v2NameRule,
		Put:         engine.AsyncOperation,
		Delete:      engine.Location,
		Strategy:    &scheduleStrategy{e: e, shapes: newShapes(TypeSchedules, scheduleProperties)},
	})
}

// scheduleStrategy serves workspace schedules (docs/azure-ml-arm.md 2.6): PUT is a
// long-running operation answered 201 (200 for an update) with the body
// and an Azure-AsyncOperation header (the SDK reads the final state from
// the original URI), DELETE one answered 202 with Location.
//
// properties is ScheduleProperties: action, a union on actionType
// (CreateJob with a jobDefinition checked as a job's properties are,
// references included; InvokeBatchEndpoint with a free-form
// endpointInvocationDefinition; CreateMonitor with a monitorDefinition
// whose computeConfiguration and signals are required, their contents
// unchecked), trigger, a union on triggerType (Cron with a five-field
// NCronTab expression; Recurrence with frequency, interval and an optional
// schedule of hours, minutes, weekDays and monthDays), and description,
// displayName, isEnabled, properties and tags. provisioningState is
// read-only.
//
// Choice: isEnabled defaults to true and a trigger's timeZone to "UTC";
// startTime and endTime must be ISO 8601 date-times (with or without an
// offset) and endTime must be later than startTime; a recurrence interval
// must be at least 1. Every member may change on update.
//
// Choice: schedules never fire: armlet creates no jobs from them.
//
// Choice: the list query parameter listViewType (ScheduleListViewType)
// is EnabledOnly (the default, as in the Azure ML Python SDK),
// DisabledOnly or All, on isEnabled; any other value is refused with 400
// UserError.
type scheduleStrategy struct {
	e      *engine.Engine
	shapes *shapes
}

var (
	_ engine.Strategy     = (*scheduleStrategy)(nil)
	_ engine.ListFilterer = (*scheduleStrategy)(nil)
	_ engine.Renderer     = (*scheduleStrategy)(nil)
)

// Render shapes the schedule for the api-version.
func (s *scheduleStrategy) Render(_ context.Context, _ *engine.Resource, body map[string]any, apiVersion string, _ time.Time) error {
	s.shapes.render(body, apiVersion)
	return nil
}

var (
	weekDay = enum("WeekDay", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

	scheduleAction = func() *field {
		t := enum("ScheduleActionType", "CreateJob", "CreateMonitor", "InvokeBatchEndpoint")
		return namedUnion("ScheduleActionBase", "actionType", "ScheduleActionType", map[string]*field{
			"CreateJob": unionMember("JobScheduleAction", "actionType", t, map[string]*field{
				"jobDefinition": jobBaseProperties,
			}, "jobDefinition"),
			"InvokeBatchEndpoint": unionMember("EndpointScheduleAction", "actionType", t, map[string]*field{
				"endpointInvocationDefinition": anyJSON(),
			}, "endpointInvocationDefinition"),
			"CreateMonitor": unionMember("CreateMonitorAction", "actionType", t, map[string]*field{
				"monitorDefinition": object("MonitorDefinition", map[string]*field{
					"computeConfiguration":      anyJSON(),
					"signals":                   mapOf(anyJSON()),
					"alertNotificationSettings": anyJSON(),
					"monitoringTarget":          anyJSON(),
				}, "computeConfiguration", "signals"),
			}, "monitorDefinition"),
		})
	}()

	scheduleTrigger = func() *field {
		t := enum("TriggerType", "Cron", "Recurrence")
		common := func(extra map[string]*field) map[string]*field {
			extra["endTime"] = str()
			extra["startTime"] = str()
			extra["timeZone"] = str()
			return extra
		}
		return namedUnion("TriggerBase", "triggerType", "TriggerType", map[string]*field{
			"Cron": unionMember("CronTrigger", "triggerType", t, common(map[string]*field{
				"expression": str(),
			}), "expression"),
			"Recurrence": unionMember("RecurrenceTrigger", "triggerType", t, common(map[string]*field{
				"frequency": enum("RecurrenceFrequency", "Day", "Hour", "Minute", "Month", "Week"),
				"interval":  integer(),
				"schedule": object("RecurrenceSchedule", map[string]*field{
					"hours":     arrayOf(integer()),
					"minutes":   arrayOf(integer()),
					"monthDays": arrayOf(integer()),
					"weekDays":  arrayOf(weekDay),
				}, "hours", "minutes"),
			}), "frequency", "interval"),
		})
	}()

	scheduleProperties = object("ScheduleProperties", map[string]*field{
		"action":            scheduleAction,
		"trigger":           scheduleTrigger,
		"description":       str(),
		"displayName":       str(),
		"isEnabled":         boolean(),
		"properties":        mapOf(str()),
		"tags":              mapOf(str()),
		"provisioningState": str().ro(),
	}, "action", "trigger")
)

// Validate checks a schedule's definition.
func (s *scheduleStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	if err := checkV2Envelope(desired, "Schedule"); err != nil {
		return err
	}
	if err := checkProperties(req, desired, old, s.shapes, "ScheduleProperties"); err != nil {
		return err
	}
	p := desired.Properties
	if _, ok := p["isEnabled"]; !ok {
		p["isEnabled"] = true
	}
	trigger := p["trigger"].(map[string]any)
	if err := checkTrigger(trigger); err != nil {
		return err
	}
	action := p["action"].(map[string]any)
	if def, ok := action["jobDefinition"].(map[string]any); ok {
		ws, err := workspaceOf(ctx, s.e, desired)
		if err != nil {
			return err
		}
		if err := checkJobReferences(ctx, s.e, ws.ID, def, "properties.action.jobDefinition"); err != nil {
			return err
		}
	}
	return nil
}

// checkTrigger checks what the schema cannot: the cron expression, the
// recurrence's ranges and the time window. It sets the default timeZone.
func checkTrigger(t map[string]any) error {
	const path = "properties.trigger"
	if _, ok := t["timeZone"]; !ok {
		t["timeZone"] = "UTC"
	}
	if expr, ok := t["expression"].(string); ok {
		if err := checkCron(expr); err != nil {
			return arm.BadRequest(arm.CodeUserError, "The cron expression '%s' of '%s.expression' is invalid: %s. Expected five fields (minute hour day-of-month month day-of-week) in NCronTab format, such as '0 2 * * 1-5'.",
				expr, path, err.Error()).WithTarget(path + ".expression")
		}
	}
	if n, ok := t["interval"].(json.Number); ok {
		if i, _ := n.Int64(); i < 1 {
			return arm.BadRequest(arm.CodeUserError, "The value %s of '%s.interval' is invalid: the interval must be at least 1.", n, path).WithTarget(path + ".interval")
		}
	}
	if sched, ok := t["schedule"].(map[string]any); ok {
		for _, r := range []struct {
			name   string
			lo, hi int64
		}{{"hours", 0, 23}, {"minutes", 0, 59}, {"monthDays", 1, 31}} {
			list, _ := sched[r.name].([]any)
			for i, v := range list {
				num, _ := v.(json.Number)
				n, _ := num.Int64()
				if n < r.lo || n > r.hi {
					p := path + ".schedule." + r.name + "[" + strconv.Itoa(i) + "]"
					return arm.BadRequest(arm.CodeUserError, "The value %d of '%s' is out of range: it must be between %d and %d.", n, p, r.lo, r.hi).WithTarget(p)
				}
			}
		}
	}
	var start, end time.Time
	for _, name := range []string{"startTime", "endTime"} {
		s, ok := t[name].(string)
		if !ok {
			continue
		}
		tm, err := parseScheduleTime(s)
		if err != nil {
			return arm.BadRequest(arm.CodeUserError, "The value '%s' of '%s.%s' is not an ISO 8601 date-time such as '2024-05-01T09:30:00'.", s, path, name).WithTarget(path + "." + name)
		}
		if name == "startTime" {
			start = tm
		} else {
			end = tm
		}
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		return arm.BadRequest(arm.CodeUserError, "The endTime of '%s' must be later than its startTime.", path).WithTarget(path + ".endTime")
	}
	return nil
}

// parseScheduleTime reads an ISO 8601 date-time, with or without a UTC
// offset (a time without one is read as UTC, for the ordering check).
func parseScheduleTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, strconv.ErrSyntax
}

// cronField is the range of one cron field and its names, if any.
type cronField struct {
	name   string
	lo, hi int
	names  []string // names[i] is the value lo+i
}

var cronFields = []cronField{
	{name: "minute", lo: 0, hi: 59},
	{name: "hour", lo: 0, hi: 23},
	{name: "day of month", lo: 1, hi: 31},
	{name: "month", lo: 1, hi: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day of week", lo: 0, hi: 6, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

type cronError string

func (e cronError) Error() string { return string(e) }

// checkCron checks a five-field NCronTab expression: each field is '*' or
// a comma-separated list of values and ranges (a-b), each optionally with
// a step (/n); months and days of the week may be given by their
// three-letter English names.
func checkCron(expr string) error {
	parts := strings.Fields(expr)
	if len(parts) != len(cronFields) {
		return cronError("it has " + strconv.Itoa(len(parts)) + " fields")
	}
	for i, part := range parts {
		if err := cronFields[i].check(part); err != nil {
			return err
		}
	}
	return nil
}

func (f cronField) check(s string) error {
	for item := range strings.SplitSeq(s, ",") {
		rng, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			if n, err := strconv.Atoi(step); err != nil || n < 1 || n > f.hi-f.lo+1 {
				return cronError("the step '" + step + "' of the " + f.name + " field is invalid")
			}
		}
		if rng == "*" {
			continue
		}
		a, b, isRange := strings.Cut(rng, "-")
		lo, err := f.value(a)
		if err != nil {
			return err
		}
		if isRange {
			hi, err := f.value(b)
			if err != nil {
				return err
			}
			if hi < lo {
				return cronError("the range '" + rng + "' of the " + f.name + " field is reversed")
			}
		}
	}
	return nil
}

func (f cronField) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.lo + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < f.lo || n > f.hi {
		return 0, cronError("the value '" + s + "' of the " + f.name + " field is not between " + strconv.Itoa(f.lo) + " and " + strconv.Itoa(f.hi))
	}
	return n, nil
}

// Schedule list views (ScheduleListViewType).
const (
	scheduleViewEnabled  = "EnabledOnly"
	scheduleViewDisabled = "DisabledOnly"
	scheduleViewAll      = "All"
)

// ListFilter applies listViewType (default EnabledOnly) on isEnabled.
func (s *scheduleStrategy) ListFilter(req *engine.Request) (func(*engine.Resource) bool, error) {
	enabled := func(r *engine.Resource) bool {
		b, ok := r.Properties["isEnabled"].(bool)
		return b || !ok
	}
	switch view := req.QueryValue("listViewType"); {
	case view == "" || strings.EqualFold(view, scheduleViewEnabled):
		return enabled, nil
	case strings.EqualFold(view, scheduleViewDisabled):
		return func(r *engine.Resource) bool { return !enabled(r) }, nil
	case strings.EqualFold(view, scheduleViewAll):
		return nil, nil
	default:
		return nil, arm.BadRequest(arm.CodeUserError, "The value '%s' of query parameter 'listViewType' is invalid; the allowed values are '%s', '%s' and '%s'.",
			view, scheduleViewEnabled, scheduleViewDisabled, scheduleViewAll).WithTarget("listViewType")
	}
}
