package armhttp

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
)

// denyObject is an Authorizer that refuses one object id and records every
// check and every write it is told of.
type denyObject struct {
	denied  string
	checks  []string // "action scope"
	written []string // "method path"
}

func (d *denyObject) Check(_ context.Context, caller engine.Caller, action string, scope resourceid.ID, _ bool) error {
	d.checks = append(d.checks, action+" "+scope.String())
	if caller.ObjectID == d.denied {
		return arm.Errorf(http.StatusForbidden, arm.CodeAuthorizationFailed, "denied %s", action)
	}
	return nil
}

func (d *denyObject) Written(method string, p resourceid.Path) {
	d.written = append(d.written, method+" "+p.ID.String())
}

// flowList keeps the observations it is given.
type flowList struct {
	mu  sync.Mutex
	obs []netmodel.Observation
}

func (f *flowList) Record(o netmodel.Observation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.obs = append(f.obs, o)
}

// TestInnerRequest: a deployment's request for one resource goes through
// what a client's goes through, less the network. The deployment's caller
// is checked by RBAC with the resource's own action and scope (a caller
// without the permission gets 403 and nothing is written); the body is
// checked (a member twice, JSON that does not parse: 400, nothing
// written); a write that succeeds is told to the Authorizer (its caches
// follow); and the flow record has the class of the deployment's own
// request (arm-private through a private endpoint) and names the
// deployment.
func TestInnerRequest(t *testing.T) {
	const sub = "00000000-0000-0000-0000-00000000000a"
	ctx := context.Background()
	e, clk := testEngine(t, sub)
	authz := &denyObject{denied: "mallory"}
	flows := &flowList{}
	in := NewInner(Options{Engine: e, Clock: clk, Authorize: authz, Flows: flows})
	rg := mustID(t, "/subscriptions/"+sub+"/resourceGroups/rg")
	deployment := mustID(t, "/subscriptions/"+sub+"/resourceGroups/d/providers/Microsoft.Resources/deployments/dep")
	pe := &netmodel.Endpoint{ID: mustID(t, "/subscriptions/"+sub+"/resourceGroups/n/providers/Microsoft.Network/privateEndpoints/pe"), GroupID: "ResourceManagement"}
	put := func(caller, body string, origin netmodel.Origin) (*engine.Response, error) {
		return in.Serve(ctx, InnerRequest{
			Caller: engine.Caller{ObjectID: caller, TenantID: "t"}, Method: http.MethodPut, ID: rg,
			APIVersion: "2021-04-01", Body: []byte(body), Deployment: deployment, Record: true, Origin: origin,
		})
	}
	const writeRG = "Microsoft.Resources/subscriptions/resourceGroups/write"
	// The body refusals are the front door's own (its target, its
	// message), not the engine's later ones: a member twice must never
	// reach the engine, whose policy and type checks could each read a
	// different one.
	refusals := []struct {
		name, caller, body, code, target, message string
		status                                    int
	}{
		{"caller without the permission", "mallory", `{"location":"eastus"}`, arm.CodeAuthorizationFailed, "", "", http.StatusForbidden},
		{"a member twice", "alice", `{"location":"eastus","tags":{"env":"a","Env":"b"}}`, arm.CodeInvalidRequestContent, "tags.Env", "", http.StatusBadRequest},
		{"not JSON", "alice", `{"location":`, arm.CodeInvalidRequestContent, "", "The request content is not valid JSON.", http.StatusBadRequest},
	}
	for _, r := range refusals {
		authz.checks = nil
		_, err := put(r.caller, r.body, netmodel.Origin{})
		ae, ok := arm.AsError(err)
		if !ok {
			t.Errorf("%s: %v, want %d %s", r.name, err, r.status, r.code)
			continue
		}
		if ae.Status != r.status || ae.Code != r.code || ae.Target != r.target || (r.message != "" && ae.Message != r.message) {
			t.Errorf("%s: %v (target %q), want %d %s target %q %s", r.name, err, ae.Target, r.status, r.code, r.target, r.message)
		}
		if want := []string{writeRG + " " + rg.String()}; !slices.Equal(authz.checks, want) {
			t.Errorf("%s: RBAC checked %v, want %v", r.name, authz.checks, want)
		}
	}
	if len(authz.written) != 0 {
		t.Fatalf("refused requests were told as written: %v", authz.written)
	}
	if _, err := e.Get(ctx, rg); err == nil {
		t.Fatal("a refused request made the resource group")
	}

	resp, err := put("alice", `{"location":"eastus"}`, netmodel.Origin{Endpoint: pe})
	if err != nil || resp.Status != http.StatusCreated {
		t.Fatalf("alice's PUT: %v %v", resp, err)
	}
	if want := []string{"PUT " + rg.String()}; !slices.Equal(authz.written, want) {
		t.Errorf("written %v, want %v", authz.written, want)
	}
	if len(flows.obs) != len(refusals)+1 {
		t.Fatalf("%d flow records, want %d", len(flows.obs), len(refusals)+1)
	}
	for i, o := range flows.obs {
		wantClass, wantStatus := netmodel.ARMPublic, refusals[min(i, len(refusals)-1)].status
		if i == len(refusals) {
			wantClass, wantStatus = netmodel.ARMPrivate, http.StatusCreated
		}
		if o.Class != wantClass || o.Status != wantStatus || o.Deployment != deployment.String() || o.Operation != writeRG {
			t.Errorf("flow record %d: class %s status %d deployment %q operation %q, want %s %d %q %q",
				i, o.Class, o.Status, o.Deployment, o.Operation, wantClass, wantStatus, deployment, writeRG)
		}
	}
}
