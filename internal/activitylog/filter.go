package activitylog

import (
	"net/http"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
)

// MaxRange is the longest time range one query may ask for, as in Azure.
const MaxRange = 90 * 24 * time.Hour

// CodeBadFilter is the error code of a $filter armlet does not accept.
//
// Choice: Azure answers a bad activity log $filter with a 400 whose code
// is "BadRequest"; armlet does the same and says which clause is wrong.
const CodeBadFilter = "BadRequest"

// Filter is a parsed activity log $filter. From and To are required
// (eventTimestamp ge … and eventTimestamp le …); the other fields are
// empty when the filter does not name them.
type Filter struct {
	From, To          time.Time
	ResourceGroupName string
	ResourceURI       string
	ResourceProvider  string
	CorrelationID     string
	Caller            string
	Status            string
	// Levels are the levels of "levels eq 'Error,Warning'".
	Levels []string
}

// ParseFilter parses the $filter forms Azure accepts:
//
//	eventTimestamp ge '2024-01-01T00:00:00Z' and eventTimestamp le '2024-01-02T00:00:00Z'
//	  [and resourceGroupName eq 'rg'] [and resourceUri eq '/subscriptions/…']
//	  [and resourceProvider eq 'Microsoft.MachineLearningServices'] [and correlationId eq '…']
//	  [and caller eq '…'] [and status eq 'Failed'] [and levels eq 'Error']
//
// Field names and "and" are case-insensitive; values are single-quoted,
// with ” for a quote. The range is at most MaxRange and From is not
// after To.
//
// Choice: Azure accepts one of resourceGroupName, resourceUri,
// resourceProvider and correlationId at a time and filters caller, status
// and levels only in some clients; armlet accepts any combination (each
// field once), since every combination has one obvious meaning.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	if strings.TrimSpace(s) == "" {
		return f, bad("The $filter query parameter is required; it must include eventTimestamp ge '…' and eventTimestamp le '…'.")
	}
	clauses, err := lex(s)
	if err != nil {
		return f, err
	}
	seen := map[string]bool{}
	for _, c := range clauses {
		key := strings.ToLower(c.field) + " " + strings.ToLower(c.op)
		if seen[key] {
			return f, bad("The $filter names '%s %s' twice.", c.field, c.op)
		}
		seen[key] = true
		if strings.EqualFold(c.field, "eventTimestamp") {
			t, err := time.Parse(time.RFC3339Nano, c.value)
			if err != nil {
				return f, bad("The $filter value '%s' of eventTimestamp is not an ISO 8601 time such as 2024-01-02T15:04:05Z.", c.value)
			}
			switch strings.ToLower(c.op) {
			case "ge":
				f.From = t.UTC()
			case "le":
				f.To = t.UTC()
			default:
				return f, bad("The $filter compares eventTimestamp with '%s'; only ge and le are supported.", c.op)
			}
			continue
		}
		if !strings.EqualFold(c.op, "eq") {
			return f, bad("The $filter compares %s with '%s'; only eq is supported.", c.field, c.op)
		}
		switch strings.ToLower(c.field) {
		case "resourcegroupname":
			f.ResourceGroupName = c.value
		case "resourceuri", "resourceid":
			f.ResourceURI = c.value
		case "resourceprovider":
			f.ResourceProvider = c.value
		case "correlationid":
			f.CorrelationID = c.value
		case "caller":
			f.Caller = c.value
		case "status":
			f.Status = c.value
		case "levels":
			for _, l := range strings.Split(c.value, ",") {
				l = strings.TrimSpace(l)
				if !validLevel(l) {
					return f, bad("The $filter level '%s' is not one of Critical, Error, Warning, Informational, Verbose.", l)
				}
				f.Levels = append(f.Levels, l)
			}
		default:
			return f, bad("The $filter field '%s' is not supported; use eventTimestamp, resourceGroupName, resourceUri, resourceProvider, correlationId, caller, status or levels.", c.field)
		}
	}
	if f.From.IsZero() || f.To.IsZero() {
		return f, bad("The $filter must include both eventTimestamp ge '…' and eventTimestamp le '…'.")
	}
	if f.From.After(f.To) {
		return f, bad("The $filter's start time %s is after its end time %s.", f.From.Format(time.RFC3339), f.To.Format(time.RFC3339))
	}
	if f.To.Sub(f.From) > MaxRange {
		return f, bad("The $filter's time range is %s; it must not exceed 90 days.", f.To.Sub(f.From).Round(time.Hour))
	}
	return f, nil
}

func validLevel(l string) bool {
	switch l {
	case "Critical", "Error", "Warning", "Informational", "Verbose":
		return true
	}
	return false
}

func bad(format string, args ...any) *arm.Error {
	return arm.Errorf(http.StatusBadRequest, CodeBadFilter, format, args...)
}

type clause struct{ field, op, value string }

// lex splits s into "field op 'value'" clauses joined by "and".
func lex(s string) ([]clause, error) {
	var out []clause
	i := 0
	word := func() string {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		j := i
		for i < len(s) && s[i] != ' ' && s[i] != '\'' {
			i++
		}
		return s[j:i]
	}
	for {
		var c clause
		c.field = word()
		c.op = word()
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if c.field == "" || c.op == "" || i >= len(s) || s[i] != '\'' {
			return nil, bad("The $filter '%s' is not valid: expected field op 'value' at offset %d.", s, i)
		}
		i++
		var v strings.Builder
		closed := false
		for i < len(s) {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					v.WriteByte('\'')
					i += 2
					continue
				}
				i++
				closed = true
				break
			}
			v.WriteByte(s[i])
			i++
		}
		if !closed {
			return nil, bad("The $filter '%s' is not valid: a quoted value is not closed.", s)
		}
		c.value = v.String()
		out = append(out, c)
		if w := word(); w == "" {
			if i >= len(s) {
				return out, nil
			}
			return nil, bad("The $filter '%s' is not valid at offset %d.", s, i)
		} else if !strings.EqualFold(w, "and") {
			return nil, bad("The $filter '%s' is not valid: clauses must be joined by 'and', not '%s'.", s, w)
		}
	}
}
