package netmodel

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/decision"
)

// fullFlow sets every member of a flow record, each from s where it is a
// string, so that one test value reaches every branch of appendFlow.
func fullFlow(s string, status int, redacted bool, t time.Time) Flow {
	return Flow{
		Time: t, RequestID: s, CallerObjectID: s, CallerAppID: s, CallerTenantID: s,
		CorrelationID: s, ClientRequestID: s, Method: s, Path: s, Operation: s, ResourceID: s,
		Workspace: s, Registry: s, Class: PathClass(s), Listener: s, PrivateEndpointID: s,
		Metadata: Metadata{
			ResourceIDs: []string{s, s + "2"},
			Query:       []Param{{Name: s, Value: s, Redacted: redacted}, {Name: "b", Value: ""}},
			Body:        []Param{{Name: s, Value: s}},
			Truncated:   redacted,
		},
		Status: status, ErrorCode: s,
		Decisions: []decision.Decision{
			{Kind: s, Outcome: s, Action: s, Scope: s, Reason: s, Refs: []string{s}},
			{Kind: "rbac", Outcome: "allowed"},
		},
		Deployment: s,
	}
}

func TestEncodeFlowAsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 6, 16, 4, 5, 123456789, time.UTC)
	for name, f := range map[string]Flow{
		"zero":           {},
		"empty time":     {Method: "GET", Path: "/", Status: 200},
		"minimal":        {Time: at, Method: "GET", Path: "/subscriptions", Operation: "x/read", Class: PathClass("public-arm"), Listener: "public", Status: 200},
		"full":           fullFlow("/subscriptions/s1/resourceGroups/rg", 201, true, at),
		"escapes":        fullFlow("<a href=\"x\">&\\\n\t\x01\u2028é\xff</a>", -1, false, at.In(time.FixedZone("x", 5*3600+1800))),
		"empty strings":  fullFlow("", 0, false, at),
		"unencodable":    {Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"empty metadata": {Time: at, Metadata: Metadata{ResourceIDs: []string{}, Query: []Param{}}},
	} {
		want, wantErr := json.Marshal(f)
		got, err := appendFlow([]byte("x"), &f)
		got = got[1:]
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s (%v)\nwant %s (%v)", name, got, err, want, wantErr)
		}
	}
}

func FuzzEncodeFlow(f *testing.F) {
	f.Add("/subscriptions/s1", 200, false, int64(0))
	f.Add("<&>\xff\u2029\"", 404, true, int64(-1e18))
	f.Fuzz(func(t *testing.T, s string, status int, redacted bool, nanos int64) {
		fl := fullFlow(s, status, redacted, time.Unix(0, nanos).UTC())
		want, wantErr := json.Marshal(fl)
		got, err := appendFlow([]byte("x"), &fl)
		got = got[1:]
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("got %s (%v)\nwant %s (%v)", got, err, want, wantErr)
		}
	})
}
