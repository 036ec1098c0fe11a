package workspaceapi

import "testing"

func TestRawBody(t *testing.T) {
	const s = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"
	for _, tt := range []struct {
		path string
		want bool
	}{
		{"/artifact/v2.0" + s + "/artifacts/ExperimentRun/dcid.r/content", true},
		{"/Artifact/V2.0" + s + "/ARTIFACTS/ExperimentRun/dcid.r/Content/", true},
		{"/artifact/v2.0" + s + "/artifacts/ExperimentRun/dcid.r/batch/metadata", false},
		{"/artifact/v2.0" + s + "/artifacts/ExperimentRun/dcid.r/metadata", false},
		{"/artifact/v2.0" + s + "/artifacts/batch/metadata", false},
		{"/history/v1.0" + s + "/experiments/e", false},
		{"/artifact/v2.0/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces//artifacts/o/c/content", false},
		{"/artifact/v2.0" + s + "/artifacts/o/c%zz/content", false},
		{"/discovery", false},
		{"/", false},
	} {
		if got := RawBody(tt.path); got != tt.want {
			t.Errorf("RawBody(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}
