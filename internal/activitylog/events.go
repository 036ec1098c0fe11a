// Package activitylog serves the Azure activity log
// (Microsoft.Insights/eventtypes/management/values) as a view over
// armlet's flow records: each ARM write, delete or action becomes the
// events Azure would log for it.
//
// # Retention
//
// The activity log keeps nothing of its own: it reads the flow records,
// so it reaches back as far as --flow-retention (and
// --flow-retention-records) keep them, 24 hours by default, not Azure's
// 90 days. A query reaching further back is answered with what is kept.
package activitylog

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm/action"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/google/uuid"
)

// Localizable is Azure's {value, localizedValue} pair.
type Localizable struct {
	Value          string `json:"value"`
	LocalizedValue string `json:"localizedValue"`
}

func loc(v string) *Localizable { return &Localizable{Value: v, LocalizedValue: v} }

// Authorization is EventData.authorization.
type Authorization struct {
	Action string `json:"action"`
	Role   string `json:"role,omitempty"`
	Scope  string `json:"scope"`
}

// HTTPRequest is EventData.httpRequest.
type HTTPRequest struct {
	ClientRequestID string `json:"clientRequestId,omitempty"`
	ClientIPAddress string `json:"clientIpAddress,omitempty"`
	Method          string `json:"method"`
	URI             string `json:"uri"`
}

// EventData is one activity log event, in Azure's shape.
type EventData struct {
	Authorization        *Authorization    `json:"authorization,omitempty"`
	Caller               string            `json:"caller,omitempty"`
	Channels             string            `json:"channels"`
	Claims               map[string]string `json:"claims,omitempty"`
	CorrelationID        string            `json:"correlationId"`
	Description          string            `json:"description"`
	EventDataID          string            `json:"eventDataId"`
	EventName            *Localizable      `json:"eventName"`
	Category             *Localizable      `json:"category"`
	HTTPRequest          *HTTPRequest      `json:"httpRequest,omitempty"`
	ID                   string            `json:"id"`
	Level                string            `json:"level"`
	ResourceGroupName    string            `json:"resourceGroupName,omitempty"`
	ResourceProviderName *Localizable      `json:"resourceProviderName"`
	ResourceID           string            `json:"resourceId"`
	ResourceType         *Localizable      `json:"resourceType"`
	OperationID          string            `json:"operationId"`
	OperationName        *Localizable      `json:"operationName"`
	Properties           map[string]string `json:"properties,omitempty"`
	Status               *Localizable      `json:"status"`
	SubStatus            *Localizable      `json:"subStatus"`
	EventTimestamp       time.Time         `json:"eventTimestamp"`
	SubmissionTimestamp  time.Time         `json:"submissionTimestamp"`
	SubscriptionID       string            `json:"subscriptionId"`
	TenantID             string            `json:"tenantId"`

	// order sorts events of one instant: a request's events by ordinal.
	order string
}

// Claim names Azure uses for the object and tenant ids.
const (
	ClaimObjectID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	ClaimTenantID = "http://schemas.microsoft.com/identity/claims/tenantid"
)

// Options are what events need beyond the flow record.
type Options struct {
	// BaseURL prefixes httpRequest.uri (the flow keeps the path only).
	BaseURL string
	// Audience is the aud claim.
	Audience string
	// TenantID is the tenant of callers whose flow record has none.
	TenantID string
}

var eventNS = uuid.MustParse("6f2b8a4e-4d0c-4a53-9a0e-2b2c0a6f6e61")

// Events turns one flow record into its activity log events, or none for
// a read, a token request, a workspace endpoint request or a request to
// no resource:
//
//   - an Administrative BeginRequest event with status Started, then an
//     EndRequest event with status Succeeded (2xx), Accepted (202) or
//     Failed (level Error), subStatus "Created (HTTP Status Code: 201)";
//   - for each policy decision that denied, audited, appended or
//     modified, a Policy event with operationName
//     Microsoft.Authorization/policies/{deny,audit,append,modify}/action
//     and properties.policies.
//
// Choice: the flow record has the request's arrival time only, so both
// events carry it; the EndRequest event sorts after the BeginRequest one.
// Claims are those armlet's tokens carry that the flow record keeps:
// appid, object id, tenant id, aud (the ARM audience armlet advertises)
// and iss (https://sts.windows.net/{tid}/, as armlet's tokens).
func Events(f netmodel.Flow, o Options) []EventData {
	if action.Verb(f.Method) == "read" || f.ResourceID == "" || strings.HasPrefix(f.Operation, "Microsoft.AAD/") ||
		strings.HasPrefix(f.Operation, "unknown/") || strings.HasPrefix(string(f.Class), "workspace") {
		return nil
	}
	id, err := resourceid.Parse(f.ResourceID)
	if err != nil || id.SubscriptionID() == "" {
		return nil
	}
	tenant := f.CallerTenantID
	if tenant == "" {
		tenant = o.TenantID
	}
	caller := f.CallerAppID
	if caller == "" {
		caller = f.CallerObjectID
	}
	claims := map[string]string{
		"appid": f.CallerAppID, ClaimObjectID: f.CallerObjectID, ClaimTenantID: tenant,
		"aud": o.Audience, "iss": "https://sts.windows.net/" + tenant + "/", "idtyp": "app", "ver": "1.0",
	}
	opType := operationType(f.Operation)
	base := EventData{
		Authorization: &Authorization{Action: f.Operation, Scope: f.ResourceID, Role: role(f.Decisions)},
		Caller:        caller, Channels: "Operation", Claims: claims,
		CorrelationID: f.CorrelationID, Category: loc("Administrative"),
		HTTPRequest:          &HTTPRequest{ClientRequestID: f.ClientRequestID, Method: f.Method, URI: o.BaseURL + f.Path},
		ResourceGroupName:    id.ResourceGroupName(),
		ResourceProviderName: loc(namespace(f.Operation)), ResourceID: f.ResourceID, ResourceType: loc(opType),
		OperationID: f.RequestID, OperationName: loc(f.Operation),
		EventTimestamp: f.Time, SubmissionTimestamp: f.Time,
		SubscriptionID: id.SubscriptionID(), TenantID: tenant,
	}
	mk := func(ordinal int, name string, fill func(*EventData)) EventData {
		e := base
		e.Claims = claims
		e.EventDataID = uuid.NewSHA1(eventNS, []byte(fmt.Sprintf("%s/%s/%d", f.RequestID, f.Time.Format(time.RFC3339Nano), ordinal))).String()
		e.EventName = loc(name)
		e.ID = fmt.Sprintf("%s/events/%s/ticks/%d", f.ResourceID, e.EventDataID, ticks(f.Time))
		e.order = fmt.Sprintf("%s/%03d", f.RequestID, ordinal)
		fill(&e)
		return e
	}
	out := []EventData{
		mk(0, "BeginRequest", func(e *EventData) {
			e.Level, e.Status, e.SubStatus = "Informational", loc("Started"), loc("")
			e.Properties = map[string]string{"eventCategory": "Administrative", "entity": f.ResourceID, "message": f.Operation}
			e.Description = ""
		}),
		mk(1, "EndRequest", func(e *EventData) {
			status, level := "Succeeded", "Informational"
			switch {
			case f.Status >= 400:
				status, level = "Failed", "Error"
			case f.Status == http.StatusAccepted:
				status = "Accepted"
			}
			e.Level, e.Status = level, loc(status)
			e.SubStatus = loc(fmt.Sprintf("%s (HTTP Status Code: %d)", http.StatusText(f.Status), f.Status))
			e.Properties = map[string]string{
				"eventCategory": "Administrative", "entity": f.ResourceID, "message": f.Operation,
				"statusCode": strings.ReplaceAll(http.StatusText(f.Status), " ", ""), "serviceRequestId": f.RequestID,
			}
			if f.ErrorCode != "" {
				e.Properties["statusMessage"] = fmt.Sprintf(`{"error":{"code":%q}}`, f.ErrorCode)
			}
		}),
	}
	for i, d := range f.Decisions {
		effect, level := policyEffect(d)
		if effect == "" {
			continue
		}
		out = append(out, mk(2+i, "EndRequest", func(e *EventData) {
			e.Category = loc("Policy")
			e.OperationName = loc("Microsoft.Authorization/policies/" + effect + "/action")
			e.Authorization = &Authorization{Action: e.OperationName.Value, Scope: f.ResourceID}
			e.Level, e.Status, e.SubStatus = level, loc("Succeeded"), loc("")
			if effect == "deny" {
				e.Status = loc("Failed")
			}
			e.ResourceProviderName, e.ResourceType = loc(namespace(f.Operation)), loc(opType)
			pol, _ := json.Marshal([]map[string]string{policyRefs(d)})
			e.Properties = map[string]string{
				"eventCategory": "Policy", "isComplianceCheck": "False", "resourceLocation": "",
				"ancestors": "", "policies": string(pol), "hierarchy": "", "reason": d.Reason,
			}
		}))
	}
	return out
}

// policyEffect is the Policy event a decision yields, if any.
func policyEffect(d decision.Decision) (effect, level string) {
	if d.Kind != "policy" {
		return "", ""
	}
	switch d.Outcome {
	case "denied":
		return "deny", "Error"
	case "audited", "nonCompliant":
		return "audit", "Warning"
	case "appended":
		return "append", "Informational"
	case "modified":
		return "modify", "Informational"
	}
	return "", ""
}

// policyRefs names a policy decision's assignment and definition as
// Azure's properties.policies entries do.
func policyRefs(d decision.Decision) map[string]string {
	m := map[string]string{}
	for _, r := range d.Refs {
		l := strings.ToLower(r)
		switch {
		case strings.Contains(l, "/policyassignments/"):
			m["policyAssignmentId"] = r
			if i := strings.Index(l, "/providers/microsoft.authorization/policyassignments/"); i >= 0 {
				m["policyAssignmentScope"] = r[:i]
			}
		case strings.Contains(l, "/policysetdefinitions/"):
			m["policySetDefinitionId"] = r
		case strings.Contains(l, "/policydefinitions/"):
			m["policyDefinitionId"] = r
		}
	}
	m["policyDefinitionEffect"] = map[string]string{"denied": "Deny", "audited": "Audit", "nonCompliant": "Audit", "appended": "Append", "modified": "Modify"}[d.Outcome]
	return m
}

// role is the role definition id of the RBAC decision that allowed the
// request, if one did.
func role(ds []decision.Decision) string {
	for _, d := range ds {
		if d.Kind != "rbac" || d.Outcome != "allowed" {
			continue
		}
		for _, r := range d.Refs {
			if strings.Contains(strings.ToLower(r), "/roledefinitions/") {
				return r
			}
		}
	}
	return ""
}

// operationType is the resource type of an action string:
// Microsoft.X/a/b/write → Microsoft.X/a/b, Microsoft.X/a/b/listKeys/action → Microsoft.X/a/b.
func operationType(op string) string {
	i := strings.LastIndexByte(op, '/')
	if i < 0 {
		return op
	}
	verb, t := op[i+1:], op[:i]
	if verb == "action" {
		if j := strings.LastIndexByte(t, '/'); j >= 0 {
			t = t[:j]
		}
	}
	return t
}

func namespace(op string) string {
	ns, _, _ := strings.Cut(op, "/")
	return ns
}

// ticks is t in .NET ticks (100 ns since 0001-01-01), as Azure's event
// ids carry.
func ticks(t time.Time) int64 {
	const unixEpochTicks = 621355968000000000
	return unixEpochTicks + t.UnixNano()/100
}

// Match reports whether e passes the filter (the time range and the
// optional fields), and lies in subscription sub.
func (f Filter) Match(e EventData, sub string) bool {
	switch {
	case !strings.EqualFold(e.SubscriptionID, sub),
		e.EventTimestamp.Before(f.From), e.EventTimestamp.After(f.To),
		f.ResourceGroupName != "" && !strings.EqualFold(e.ResourceGroupName, f.ResourceGroupName),
		f.ResourceURI != "" && !strings.EqualFold(strings.TrimSuffix(e.ResourceID, "/"), strings.TrimSuffix(f.ResourceURI, "/")),
		f.ResourceProvider != "" && !strings.EqualFold(e.ResourceProviderName.Value, f.ResourceProvider),
		f.CorrelationID != "" && !strings.EqualFold(e.CorrelationID, f.CorrelationID),
		f.Caller != "" && !strings.EqualFold(e.Caller, f.Caller) && !strings.EqualFold(e.Claims[ClaimObjectID], f.Caller),
		f.Status != "" && !strings.EqualFold(e.Status.Value, f.Status):
		return false
	}
	if len(f.Levels) > 0 {
		for _, l := range f.Levels {
			if strings.EqualFold(l, e.Level) {
				return true
			}
		}
		return false
	}
	return true
}

// Sort orders events newest first, as Azure lists them; a request's
// events, which share an instant, in reverse order of their ordinal.
func Sort(es []EventData) {
	sort.SliceStable(es, func(i, j int) bool { return after(es[i], es[j]) })
}

// after reports whether a sorts before b (is newer).
func after(a, b EventData) bool {
	if !a.EventTimestamp.Equal(b.EventTimestamp) {
		return a.EventTimestamp.After(b.EventTimestamp)
	}
	return a.order > b.order
}
