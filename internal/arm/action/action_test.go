package action

import (
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

const ws = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"

func TestOf(t *testing.T) {
	tests := []struct {
		method, path, op, id string
	}{
		{"PUT", ws + "/onlineEndpoints/ep1", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write", ws + "/onlineEndpoints/ep1"},
		{"PATCH", ws + "/onlineEndpoints/ep1", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write", ws + "/onlineEndpoints/ep1"},
		{"GET", ws + "/onlineEndpoints/ep1", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/read", ws + "/onlineEndpoints/ep1"},
		{"HEAD", ws, "Microsoft.MachineLearningServices/workspaces/read", ws},
		{"DELETE", ws + "/onlineEndpoints/ep1", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/delete", ws + "/onlineEndpoints/ep1"},
		{"GET", ws + "/onlineEndpoints", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/read", ws},
		{"POST", ws + "/onlineEndpoints/ep1/listKeys", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/listKeys/action", ws + "/onlineEndpoints/ep1"},
		{"POST", ws + "/listKeys", "Microsoft.MachineLearningServices/workspaces/listKeys/action", ws},
		{"PUT", "/subscriptions/s1/resourcegroups/rg", "Microsoft.Resources/subscriptions/resourceGroups/write", "/subscriptions/s1/resourcegroups/rg"},
		{"GET", "/subscriptions", "Microsoft.Resources/subscriptions/read", "/"},
		{"GET", "/subscriptions/s1", "Microsoft.Resources/subscriptions/read", "/subscriptions/s1"},
		{"GET", "/subscriptions/s1/resources", "Microsoft.Resources/subscriptions/resources/read", "/subscriptions/s1"},
		{"POST", "/subscriptions/s1/providers/Microsoft.Network/register", "Microsoft.Network/register/action", "/subscriptions/s1"},
		{"GET", "/subscriptions/s1/providers/Microsoft.MachineLearningServices/locations/eastus/workspaceOperationsStatus/abc",
			"Microsoft.MachineLearningServices/locations/workspaceOperationsStatus/read",
			"/subscriptions/s1/providers/Microsoft.MachineLearningServices/locations/eastus/workspaceOperationsStatus/abc"},
		{"GET", "/providers/Microsoft.Authorization/operations", "Microsoft.Authorization/operations/read", "/"},
		{"PUT", "/providers/Microsoft.Management/managementGroups/t1/providers/Microsoft.Authorization/privateLinkAssociations/a1",
			"Microsoft.Authorization/privateLinkAssociations/write",
			"/providers/Microsoft.Management/managementGroups/t1/providers/Microsoft.Authorization/privateLinkAssociations/a1"},
		{"GET", "/", "Microsoft.Resources/read", "/"},
		{"GET", "/subscriptions/%73%31/resourceGroups/r%67", "Microsoft.Resources/subscriptions/resourceGroups/read", "/subscriptions/s1/resourceGroups/rg"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			p, err := resourceid.ParsePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			op, id := Of(tt.method, p)
			if op != tt.op || id.String() != tt.id {
				t.Errorf("Of = %q, %q; want %q, %q", op, id, tt.op, tt.id)
			}
		})
	}
}

func TestWorkspaceChildAndOf(t *testing.T) {
	for op, want := range map[string]string{
		"Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write":           "onlineEndpoints",
		"Microsoft.MachineLearningServices/workspaces/onlineEndpoints/listKeys/action": "onlineEndpoints",
		"Microsoft.MachineLearningServices/workspaces/computes/read":                   "computes",
		"Microsoft.MachineLearningServices/workspaces/write":                           "",
		"Microsoft.MachineLearningServices/workspaces/listKeys/action":                 "",
		"Microsoft.Resources/subscriptions/resourceGroups/write":                       "",
		"microsoft.machinelearningservices/workspaces/jobs/read":                       "jobs",
	} {
		if got := WorkspaceChild(op); got != want {
			t.Errorf("WorkspaceChild(%q) = %q, want %q", op, got, want)
		}
	}
	id, _ := resourceid.Parse(ws + "/onlineEndpoints/ep1/deployments/d1")
	if got := WorkspaceOf(id); got != ws {
		t.Errorf("WorkspaceOf = %q", got)
	}
	if got := WorkspaceOf(resourceid.ResourceGroup("s", "rg")); got != "" {
		t.Errorf("WorkspaceOf(rg) = %q", got)
	}
}
