package armhttp

import (
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

func TestRBACExempt(t *testing.T) {
	const sub = "/subscriptions/s"
	for _, c := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/subscriptions", true},
		{"GET", "/tenants", true},
		{"GET", "/providers", true},
		{"GET", "/providers/Microsoft.MachineLearningServices", true},
		{"GET", "/providers/Microsoft.MachineLearningServices/operations", true},
		{"GET", sub + "/providers", true},
		{"GET", sub + "/providers/Microsoft.MachineLearningServices", true},
		{"GET", sub + "/providers/Microsoft.MachineLearningServices/locations/eastus/operationStatuses/x", true},
		{"GET", sub + "/providers/Microsoft.Resources/locations/eastus/operationResults/x", true},
		{"POST", sub + "/providers/Microsoft.MachineLearningServices/register", false},
		{"GET", sub, false},
		{"GET", sub + "/resourceGroups/rg", false},
		{"GET", sub + "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces", false},
		{"PUT", sub + "/resourceGroups/rg", false},
		{"GET", "/providers/Microsoft.Authorization/roleAssignments", false},
		// An operation status segment anywhere but where the engine serves
		// operation statuses is no exemption.
		{"GET", sub + "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/operationStatuses/x", false},
		{"GET", sub + "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/datastores/d/operationResults/x", false},
		{"GET", sub + "/providers/Microsoft.MachineLearningServices/locations/eastus/operationStatuses/x/secrets", false},
		{"GET", sub + "/resourceGroups/rg/providers/Microsoft.Web/locations/eastus/operationStatuses/x", false},
	} {
		p, err := resourceid.ParsePath(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := rbacExempt(c.method, p); got != c.want {
			t.Errorf("rbacExempt(%s %s) = %v, want %v", c.method, c.path, got, c.want)
		}
	}
}
