package report

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/netmodel"
)

// Outcomes of a request in the access report.
const (
	AccessAllowed = "allowed"
	AccessDenied  = "denied"
	// AccessAudited is a request that a decision would have refused but
	// did not (--rbac=audit, or a policy with the audit effect).
	AccessAudited = "audited"
	// AccessFailed is a request refused for a reason other than access
	// (a bad body, a missing resource).
	AccessFailed = "failed"
)

// AccessFilter selects what the access report shows. Zero fields select
// everything.
type AccessFilter struct {
	// Principal is a caller object id (or app id).
	Principal string
	// DeniedOnly keeps the denied requests only.
	DeniedOnly bool
}

// AccessReport is, per principal, each request with its outcome and the
// access decisions behind it, in words.
type AccessReport struct {
	GeneratedAt time.Time         `json:"generatedAt"`
	Principals  []PrincipalAccess `json:"principals"`
	// DroppedFlowRecords is ExposureReport's.
	DroppedFlowRecords int64 `json:"droppedFlowRecords"`
}

// PrincipalAccess is one caller's part of the access report.
type PrincipalAccess struct {
	ObjectID string `json:"objectId"`
	// Name is the principal's display name, when armlet's identity holds
	// it (a deleted principal has none).
	Name     string        `json:"name,omitempty"`
	AppID    string        `json:"appId,omitempty"`
	Requests int           `json:"requests"`
	Denied   int           `json:"denied"`
	Entries  []AccessEntry `json:"entries"`
}

// AccessEntry is one request of a principal.
type AccessEntry struct {
	Time          time.Time `json:"time"`
	Method        string    `json:"method"`
	Operation     string    `json:"operation"`
	ResourceID    string    `json:"resourceId,omitempty"`
	Status        int       `json:"status"`
	ErrorCode     string    `json:"errorCode,omitempty"`
	CorrelationID string    `json:"correlationId,omitempty"`
	Outcome       string    `json:"outcome"`
	// Trail says in words, one line per decision, why: which role
	// assignment allowed it or which permission was missing; which policy
	// matched and which expression decided.
	Trail     []string            `json:"trail"`
	Decisions []decision.Decision `json:"decisions,omitempty"`
}

// BuildAccess builds the access report from flow records (oldest first):
// every request with an authenticated caller; token requests, which have
// none yet, are left out.
//
// A request's outcome is denied when a decision denied it or it was
// answered 403 AuthorizationFailed or RequestDisallowedByPolicy; audited
// when a decision was audited (or found it non-compliant) and none
// denied; failed when it was otherwise answered 4xx or 5xx; allowed
// otherwise.
func BuildAccess(flows []netmodel.Flow, f AccessFilter, now time.Time) AccessReport {
	byPrincipal := map[string]*PrincipalAccess{}
	for _, fl := range flows {
		if fl.CallerObjectID == "" || strings.HasPrefix(fl.Operation, "Microsoft.AAD/") {
			continue
		}
		if f.Principal != "" && !strings.EqualFold(f.Principal, fl.CallerObjectID) && !strings.EqualFold(f.Principal, fl.CallerAppID) {
			continue
		}
		e := accessEntry(fl)
		if f.DeniedOnly && e.Outcome != AccessDenied {
			continue
		}
		p := byPrincipal[fl.CallerObjectID]
		if p == nil {
			p = &PrincipalAccess{ObjectID: fl.CallerObjectID, AppID: fl.CallerAppID}
			byPrincipal[fl.CallerObjectID] = p
		}
		p.Requests++
		if e.Outcome == AccessDenied {
			p.Denied++
		}
		p.Entries = append(p.Entries, e)
	}
	r := AccessReport{GeneratedAt: now.UTC(), Principals: []PrincipalAccess{}}
	for _, p := range byPrincipal {
		r.Principals = append(r.Principals, *p)
	}
	sort.Slice(r.Principals, func(i, j int) bool { return r.Principals[i].ObjectID < r.Principals[j].ObjectID })
	return r
}

func accessEntry(fl netmodel.Flow) AccessEntry {
	e := AccessEntry{
		Time: fl.Time, Method: fl.Method, Operation: fl.Operation, ResourceID: fl.ResourceID, Status: fl.Status,
		ErrorCode: fl.ErrorCode, CorrelationID: fl.CorrelationID, Outcome: AccessAllowed, Decisions: fl.Decisions, Trail: []string{},
	}
	denied, audited := false, false
	for _, d := range fl.Decisions {
		switch d.Outcome {
		case "denied":
			denied = true
		case "audited", "nonCompliant":
			audited = true
		}
		e.Trail = append(e.Trail, DescribeDecision(d))
	}
	switch {
	case denied || fl.Status == http.StatusForbidden && (fl.ErrorCode == "AuthorizationFailed" || fl.ErrorCode == "RequestDisallowedByPolicy"):
		e.Outcome = AccessDenied
	case audited:
		e.Outcome = AccessAudited
	case fl.Status >= 400:
		e.Outcome = AccessFailed
	}
	if len(fl.Decisions) == 0 {
		why := "no access decision was recorded for this request"
		if fl.Status >= 400 && fl.ErrorCode != "" {
			why += fmt.Sprintf("; it was refused with %d %s", fl.Status, fl.ErrorCode)
		}
		e.Trail = append(e.Trail, why)
	}
	return e
}

// DescribeDecision puts one decision in words:
//
//	RBAC allowed Microsoft.X/y/write at /subscriptions/s/resourceGroups/rg: <reason> [refs]
func DescribeDecision(d decision.Decision) string {
	kind := map[string]string{"rbac": "RBAC", "policy": "Policy"}[d.Kind]
	if kind == "" {
		kind = d.Kind
	}
	var b strings.Builder
	b.WriteString(kind + " " + d.Outcome)
	if d.Action != "" {
		b.WriteString(" " + d.Action)
	}
	if d.Scope != "" {
		b.WriteString(" at " + d.Scope)
	}
	if d.Reason != "" {
		b.WriteString(": " + d.Reason)
	}
	if len(d.Refs) > 0 {
		b.WriteString(" [" + strings.Join(d.Refs, ", ") + "]")
	}
	return b.String()
}

// WriteTable writes the report for people: per principal, one line per
// request, each followed by its decision trail.
func (r AccessReport) WriteTable(w io.Writer) error {
	var b strings.Builder
	writeDropped(&b, r.DroppedFlowRecords)
	if len(r.Principals) == 0 {
		b.WriteString("No requests recorded.\n")
	}
	for i, p := range r.Principals {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "PRINCIPAL %s", p.ObjectID)
		if p.Name != "" {
			fmt.Fprintf(&b, " %q", p.Name)
		}
		if p.AppID != "" {
			fmt.Fprintf(&b, " (app %s)", p.AppID)
		}
		fmt.Fprintf(&b, ": %d request(s), %d denied\n", p.Requests, p.Denied)
		// Columns are sized per principal; trail lines sit between rows,
		// which a tabwriter would not align across.
		rows := [][]string{{"TIME", "OUTCOME", "STATUS", "OPERATION", "RESOURCE"}}
		for _, e := range p.Entries {
			status := fmt.Sprint(e.Status)
			if e.ErrorCode != "" {
				status += " " + e.ErrorCode
			}
			rows = append(rows, []string{e.Time.Format(time.RFC3339), e.Outcome, status, e.Operation, e.ResourceID})
		}
		width := make([]int, 4)
		for _, row := range rows {
			for c := range width {
				width[c] = max(width[c], len(row[c]))
			}
		}
		for n, row := range rows {
			b.WriteString(" ")
			for c := range width {
				fmt.Fprintf(&b, " %-*s ", width[c], row[c])
			}
			b.WriteString(" " + row[4] + "\n")
			if n > 0 {
				for _, t := range p.Entries[n-1].Trail {
					b.WriteString("      why: " + t + "\n")
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
