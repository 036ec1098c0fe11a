package machinelearning

import (
	"time"

	"net/http"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
)

// TestReferencesAcrossV2Types covers the references between the v2 types
// of one workspace: a job's computeId and environmentId, a schedule's job
// definition, and an online deployment's model, environment and code, each
// accepted when the referenced resource exists (in any of its accepted
// forms) and refused, naming the member, when it does not.
func TestReferencesAcrossV2Types(t *testing.T) {
	v := newEnv(t, Options{}, nil)
	const ws = wsBase + "ws1"
	v.createWorkspace("ws1", newest, `{"location":"eastus"}`)
	v.createWorkspace("ws2", newest, `{"location":"eastus"}`)
	for _, p := range []string{ws + "/computes/cpu", wsBase + "ws2/computes/other"} {
		v.Must(http.MethodPut, p, newest, `{"properties":{"computeType":"AmlCompute","properties":{"vmSize":"STANDARD_DS3_V2"}}}`, http.StatusCreated)
	}
	v.Must(http.MethodPut, ws+"/environments/train/versions/1", newest, `{"properties":{"image":"mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"}}`, http.StatusCreated)
	v.Must(http.MethodPut, ws+"/models/clf/versions/1", newest, `{"properties":{"modelUri":"azureml://datastores/workspaceblobstore/paths/clf"}}`, http.StatusCreated)
	v.Must(http.MethodPut, ws+"/codes/score/versions/1", newest, `{"properties":{"codeUri":"https://acct.blob.core.windows.net/c/score"}}`, http.StatusCreated)
	v.Advance(2 * time.Second)

	job := func(computeID, envID string) string {
		return `{"properties":{"jobType":"Command","command":"python train.py","computeId":"` + computeID + `","environmentId":"` + envID + `"}}`
	}
	envID := ws + "/environments/train/versions/1"
	v.Must(http.MethodPut, ws+"/jobs/j1", newest, job(ws+"/computes/cpu", envID), http.StatusCreated)
	v.Must(http.MethodPut, ws+"/jobs/j2", newest, job(ws+"/computes/cpu", "azureml:train:1"), http.StatusCreated)
	schedule := `{"properties":{"trigger":{"triggerType":"Cron","expression":"0 3 * * *"},"action":{"actionType":"CreateJob","jobDefinition":` +
		strings.TrimSuffix(strings.TrimPrefix(job(ws+"/computes/cpu", envID), `{"properties":`), `}`) + `}}}`
	v.Must(http.MethodPut, ws+"/schedules/nightly", newest, schedule, http.StatusCreated)

	deployment := func(model, env, code string) string {
		return `{"location":"eastus","properties":{"endpointComputeType":"Managed","instanceType":"Standard_DS3_v2","model":"` + model +
			`","environmentId":"` + env + `","codeConfiguration":{"codeId":"` + code + `","scoringScript":"score.py"}}}`
	}
	v.Must(http.MethodPut, ws+"/onlineEndpoints/score", newest, `{"location":"eastus","properties":{"authMode":"Key"}}`, http.StatusCreated)
	v.Advance(2 * time.Second)
	v.Must(http.MethodPut, ws+"/onlineEndpoints/score/deployments/blue", newest,
		deployment(ws+"/models/clf/versions/1", envID, ws+"/codes/score/versions/1"), http.StatusCreated)

	refused := []struct {
		name, path, body, member string
	}{
		{"job on a missing compute", ws + "/jobs/bad1", job(ws+"/computes/gpu", envID), "computeId"},
		{"job on another workspace's compute", ws + "/jobs/bad2", job(wsBase+"ws2/computes/other", envID), "computeId"},
		{"job with a missing environment version", ws + "/jobs/bad3", job(ws+"/computes/cpu", ws+"/environments/train/versions/2"), "environmentId"},
		{"job with a missing azureml: environment", ws + "/jobs/bad4", job(ws+"/computes/cpu", "azureml:nope:1"), "environmentId"},
		{"deployment with a missing model", ws + "/onlineEndpoints/score/deployments/green",
			deployment(ws+"/models/clf/versions/9", envID, ws+"/codes/score/versions/1"), "model"},
		{"deployment with a missing environment", ws + "/onlineEndpoints/score/deployments/green",
			deployment(ws+"/models/clf/versions/1", ws+"/environments/none/versions/1", ws+"/codes/score/versions/1"), "environmentId"},
		{"deployment with missing code", ws + "/onlineEndpoints/score/deployments/green",
			deployment(ws+"/models/clf/versions/1", envID, ws+"/codes/score/versions/7"), "codeId"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			resp, err := v.Serve(http.MethodPut, c.path, newest, c.body)
			if err == nil {
				t.Fatalf("accepted with status %d", resp.Status)
			}
			ae, ok := arm.AsError(err)
			if !ok || ae.Status/100 != 4 || !strings.Contains(ae.Target+" "+ae.Message, c.member) {
				t.Fatalf("error %v, want a 4xx naming %s", err, c.member)
			}
			if _, err := v.Serve(http.MethodGet, c.path, newest, ""); err == nil {
				t.Errorf("the refused PUT left %s behind", c.path)
			}
		})
	}
}
