package workspaceapi

import (
	"context"
	"net/http"
	"testing"
)

// TestTargetRawBody: only artifact content uploads keep their body as
// bytes; every other route's body is JSON for the front door to check.
func TestTargetRawBody(t *testing.T) {
	s := newHarness(t).s
	const ws = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"
	for _, tt := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/artifact/v2.0" + ws + "/artifacts/ExperimentRun/dcid.r/content", true},
		{"PUT", "/Artifact/V2.0" + ws + "/ARTIFACTS/ExperimentRun/dcid.r/Content/", true},
		{"GET", "/artifact/v2.0" + ws + "/artifacts/ExperimentRun/dcid.r/content", false},
		{"POST", "/artifact/v2.0" + ws + "/artifacts/ExperimentRun/dcid.r/batch/metadata", false},
		{"POST", "/artifact/v2.0" + ws + "/artifacts/batch/metadata", false},
		{"PATCH", "/history/v1.0" + ws + "/experiments/e/runs/r", false},
		{"GET", "/discovery", false},
	} {
		tg, err := s.Resolve(context.Background(), &Request{Method: tt.method, Path: tt.path, Header: http.Header{}})
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		if got := tg.RawBody(); got != tt.want {
			t.Errorf("%s %s: RawBody = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
}
