package authorization

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/authz"
	"github.com/armlet/armlet/internal/decision"
	"github.com/armlet/armlet/internal/engine"
)

// BenchmarkAuthorize measures the RBAC check the front door makes on every
// ARM request, with 1,000 role assignments in place (at the root, the
// subscription, 10 resource groups and resources in them, for 500
// principals), next to the engine's GET of a resource group, the
// cheapest ARM read. "warm" is the steady state (assignments cached);
// "cold" drops the cache before each check, as after every write.
func BenchmarkAuthorize(b *testing.B) {
	v := newRBEnv(b, ModeEnforce)
	ctx := context.Background()
	roles := []string{authz.RoleReader, authz.RoleContributor, authz.RoleAzureMLDataScientist, authz.RoleAzureMLComputeOperator}
	for g := range 10 {
		v.must(tenantA, http.MethodPut, fmt.Sprintf("%s/resourceGroups/rg%d", rbSub, g), "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	}
	for i := range 999 { // plus the bootstrap Owner
		principal := fmt.Sprintf("aaaaaaaa-0000-0000-0000-%012d", i%500)
		var scope string
		switch i % 4 {
		case 0:
			scope = rbSub
		case 1, 2:
			scope = fmt.Sprintf("%s/resourceGroups/rg%d", rbSub, i%10)
		default:
			scope = fmt.Sprintf("%s/resourceGroups/rg%d/providers/Microsoft.MachineLearningServices/workspaces/w%d", rbSub, i%10, i)
		}
		name := fmt.Sprintf("%08x-0000-0000-0000-000000000000", i)
		if _, err := v.call(http.MethodPut, scope+raPath+name, "", assignmentBody(roles[(i+i/500)%len(roles)], principal)); err != nil {
			b.Fatalf("assignment %d: %v", i, err)
		}
	}
	scope := must(resourceid.Parse(rbSub + "/resourceGroups/rg5/providers/Microsoft.MachineLearningServices/workspaces/w5/jobs/j"))
	const action = "Microsoft.MachineLearningServices/workspaces/jobs/write"
	principal := "aaaaaaaa-0000-0000-0000-000000000005" // Contributor at rg5 (assignment 5): allowed
	if d, err := v.rbac.Authorize(ctx, principal, action, scope, false); err != nil || !d.Allowed {
		b.Fatalf("setup: %v %+v", err, d)
	}
	b.Run("warm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d, _ := v.rbac.Authorize(ctx, principal, action, scope, false); !d.Allowed {
				b.Fatal("denied")
			}
		}
	})
	b.Run("warm-check-recorded", func(b *testing.B) {
		b.ReportAllocs()
		caller := engine.Caller{ObjectID: principal}
		for b.Loop() {
			rctx, _ := decision.With(ctx)
			if err := v.rbac.Check(rctx, caller, action, scope, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("warm-denied", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d, _ := v.rbac.Authorize(ctx, "bbbbbbbb-0000-0000-0000-000000000000", action, scope, false); d.Allowed {
				b.Fatal("allowed")
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v.rbac.Invalidate()
			if d, _ := v.rbac.Authorize(ctx, principal, action, scope, false); !d.Allowed {
				b.Fatal("denied")
			}
		}
	})
	b.Run("engine-GET-resource-group", func(b *testing.B) {
		b.ReportAllocs()
		req := &engine.Request{Method: http.MethodGet, Path: rbSub + "/resourceGroups/rg3", APIVersion: "2021-04-01",
			Query: url.Values{"api-version": {"2021-04-01"}}, Header: http.Header{}, BaseURL: "https://127.0.0.1:8443",
			Caller: engine.Caller{ObjectID: boot}}
		for b.Loop() {
			req.Now = v.e.Now()
			if _, err := v.e.Serve(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
