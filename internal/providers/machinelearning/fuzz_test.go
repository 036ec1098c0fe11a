package machinelearning

import (
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/arm"
)

// fuzzTargets are the PUT paths (below workspace ws1, where an AmlCompute
// "cpu" and an online endpoint "score" exist) that FuzzV2Bodies writes.
var fuzzTargets = []string{
	"",
	"/computes/c1",
	"/datastores/d1",
	"/connections/conn1",
	"/environments/e/versions/1",
	"/models/m/versions/1",
	"/data/d/versions/1",
	"/components/c/versions/1",
	"/codes/c/versions/1",
	"/jobs/j1",
	"/schedules/s1",
	"/onlineEndpoints/ep1",
	"/onlineEndpoints/score/deployments/blue",
	"/batchEndpoints/batch1",
	"/outboundRules/rule1",
}

// fuzzActions are POST actions with bodies below workspace ws1.
var fuzzActions = []string{
	"/diagnose",
	"/provisionManagedNetwork",
	"/prepareNotebook",
	"/computes/cpu/listNodes",
	"/computes/cpu/stop",
	"/onlineEndpoints/score/regenerateKeys",
	"/onlineEndpoints/score/token",
	"/jobs/j1/cancel",
	"/datastores/d1/listSecrets",
	"/connections/conn1/listsecrets",
	"/codes/c/versions/1/startPendingUpload",
}

// FuzzV2Bodies sends arbitrary bodies to every v2 type's PUT and PATCH
// and to the POST actions: each must be answered, or refused with a 4xx
// ARM error; never a panic or an internal error.
func FuzzV2Bodies(f *testing.F) {
	seeds := []string{
		`{"properties":{"computeType":"AmlCompute","properties":{"scaleSettings":{"maxNodeCount":2}}}}`,
		`{"properties":{"computeType":"ComputeInstance","properties":{"vmSize":"x","schedules":{"computeStartStop":[{}]}}}}`,
		`{"properties":{"datastoreType":"AzureBlob","accountName":"a","containerName":"c","credentials":{"credentialsType":"AccountKey","secrets":{"secretsType":"AccountKey","key":"k"}}}}`,
		`{"properties":{"authType":"PAT","category":"Git","target":"https://x","credentials":{"pat":"p"}}}`,
		`{"properties":{"image":"python:3.11","isArchived":true}}`,
		`{"properties":{"dataType":"uri_file","dataUri":"https://x/y"}}`,
		`{"properties":{"jobType":"Sweep","objective":{"goal":"maximize","primaryMetric":"a"},"samplingAlgorithm":{"samplingAlgorithmType":"Random"},"searchSpace":{},"trial":{"command":"x","environmentId":"azureml:e:1"}}}`,
		`{"properties":{"jobType":"Pipeline","jobs":{"a":{"type":"command"}},"inputs":{"x":{"jobInputType":"literal","value":"1"}}}}`,
		`{"properties":{"trigger":{"triggerType":"Recurrence","frequency":"Week","interval":1,"schedule":{"hours":[1],"minutes":[0],"weekDays":["Monday"]}},"action":{"actionType":"CreateJob","jobDefinition":{"jobType":"Command"}}}}`,
		`{"location":"eastus","properties":{"authMode":"Key","traffic":{"blue":100}}}`,
		`{"location":"eastus","sku":{"name":"Default","capacity":3},"properties":{"endpointComputeType":"Managed","scaleSettings":{"scaleType":"TargetUtilization"}}}`,
		`{"properties":{"type":"FQDN","destination":"pypi.org"}}`,
		`{"location":"eastus","properties":{"managedNetwork":{"isolationMode":"AllowOnlyApprovedOutbound","outboundRules":{"abc":{"type":"ServiceTag","destination":{"serviceTag":"x","protocol":"TCP","portRanges":"443"}}}}}}`,
		`{"properties":null}`, `[]`, `{"properties":{"properties":{"properties":{}}}}`, `{"tags":{"a":1}}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	// A fresh env for every input, so that a failing input reproduces
	// alone (go test -run=FuzzV2Bodies/<input>): workspace ws1 with the
	// resources the actions name (an AmlCompute "cpu", an online endpoint
	// "score", a datastore "d1" and a connection "conn1").
	f.Fuzz(func(t *testing.T, target uint8, body string) {
		v := newEnv(t, Options{}, nil)
		v.createWorkspace("ws1", newest, `{"location":"eastus"}`)
		for _, r := range [][2]string{
			{"/computes/cpu", `{"properties":{"computeType":"AmlCompute"}}`},
			{"/onlineEndpoints/score", `{"location":"eastus","properties":{"authMode":"Key"}}`},
			{"/datastores/d1", seeds[2]},
			{"/connections/conn1", seeds[3]},
		} {
			if _, err := v.Serve(http.MethodPut, wsBase+"ws1"+r[0], newest, r[1]); err != nil {
				t.Fatalf("PUT %s: %v", r[0], err)
			}
		}
		path := wsBase + "ws1" + fuzzTargets[int(target)%len(fuzzTargets)]
		action := wsBase + "ws1" + fuzzActions[int(target)%len(fuzzActions)]
		for _, c := range [][2]string{{http.MethodPut, path}, {http.MethodPatch, path}, {http.MethodPost, action}} {
			method, path := c[0], c[1]
			_, err := v.Serve(method, path, newest, body)
			if err == nil {
				continue
			}
			ae, ok := arm.AsError(err)
			if !ok || ae.Status < 400 || ae.Status > 499 {
				t.Fatalf("%s %s with %q: %v", method, path, body, err)
			}
		}
	})
}
