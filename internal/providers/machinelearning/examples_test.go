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
