package machinelearning

import (
	"net/http"
	"testing"
)

// TestComputeDataFactoryWithoutResourceID: a Data Factory compute needs
// no resourceId (Azure's example omits it); the other attached types
// still do.
func TestComputeDataFactoryWithoutResourceID(t *testing.T) {
	v := computeEnv(t)
	v.computeCreateAt("adf", newest, `{"properties":{"computeType":"DataFactory"}}`)
	p, _ := computeProps(v.Must(http.MethodGet, computePath+"adf", newest, "", http.StatusOK))
	if p["computeType"] != "DataFactory" || p["isAttachedCompute"] != true {
		t.Errorf("computeType %v isAttachedCompute %v, want DataFactory true", p["computeType"], p["isAttachedCompute"])
	}
	v.Fail(http.MethodPut, computePath+"k8s", newest, `{"location":"eastus","properties":{"computeType":"Kubernetes"}}`, http.StatusBadRequest, "InvalidRequestContent")
}

// TestJobComputedMembers: a job answers each service's status and
// errorMessage (null) and a command job its parameters, as Azure's do.
func TestJobComputedMembers(t *testing.T) {
	v := jobsEnv(t)
	p := v.Must(http.MethodPut, jobsPath+"jobc", newest, jobsCommand(""), http.StatusCreated)["properties"].(map[string]any)
	for name, sv := range p["services"].(map[string]any) {
		s := sv.(map[string]any)
		for _, k := range []string{"status", "errorMessage"} {
			if e, ok := s[k]; !ok || e != nil {
				t.Errorf("service %s %s = %v (present %v), want null", name, k, e, ok)
			}
		}
	}
	if params, ok := p["parameters"].(map[string]any); !ok || len(params) != 0 {
		t.Errorf("parameters = %v, want {}", p["parameters"])
	}
}
