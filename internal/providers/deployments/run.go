package deployments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/armtemplate"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/netmodel"
)

// run is one deployment being run.
type run struct {
	p             *Provider
	id            resourceid.ID
	caller        engine.Caller
	baseURL       string
	correlationID string
	origin        netmodel.Origin

	mu  sync.Mutex
	ops []operation
}

// start runs the deployment id in the background.
func (p *Provider) start(id resourceid.ID, caller engine.Caller, baseURL string, origin netmodel.Origin) {
	ctx, cancel := context.WithCancel(p.ctx)
	p.mu.Lock()
	if old := p.running[id.Key()]; old != nil {
		old()
	}
	p.running[id.Key()] = cancel
	p.mu.Unlock()
	p.wg.Go(func() {
		defer func() {
			cancel()
			p.mu.Lock()
			delete(p.running, id.Key())
			p.mu.Unlock()
		}()
		rn := &run{p: p, id: id, caller: caller, baseURL: baseURL, origin: origin}
		rn.execute(ctx)
	})
}

// execute runs every step in dependency order and records the end.
func (rn *run) execute(ctx context.Context) {
	p := rn.p
	log := p.opts.Logger.With("deployment", rn.id.String())
	r, err := p.e.Get(ctx, rn.id)
	if err != nil {
		log.Warn("deployment gone before it ran", "err", err)
		return
	}
	st := stateOf(r)
	rn.correlationID = st.CorrelationID
	plan, err := rn.plan(ctx, r, st)
	if err != nil {
		rn.finish(ctx, nil, err)
		return
	}
	if err := rn.update(ctx, func(st *state) { st.Status = stateRunning }); err != nil {
		log.Warn("deployment could not start", "err", err)
		return
	}
	rn.steps(ctx, plan)
	if ctx.Err() != nil {
		return // canceled (cancel recorded the state) or armlet stopping
	}
	if mode, _ := r.Properties["mode"].(string); mode == "Complete" && !rn.failed() && rn.id.Parent().ResourceGroupName() != "" {
		rn.complete(ctx, plan)
		if ctx.Err() != nil {
			return
		}
	}
	rn.finish(ctx, plan, nil)
}

// plan re-reads the stored template and binds it again, now with the
// live functions (reference, list*).
func (rn *run) plan(ctx context.Context, r *engine.Resource, st state) (*armtemplate.Plan, error) {
	var raw any
	if err := json.Unmarshal(st.Template, &raw); err != nil {
		return nil, err
	}
	t, err := armtemplate.Parse(raw)
	if err != nil {
		return nil, err
	}
	env, err := rn.p.env(ctx, rn.id, rn.caller, rn.baseURL, t, rn)
	if err != nil {
		return nil, err
	}
	params, err := t.Bind(st.Parameters, baseContext(env))
	if err != nil {
		return nil, err
	}
	return t.NewPlan(params, env)
}

// steps runs the plan's steps, each once those it depends on succeeded,
// at most Options.Parallelism at a time. A step whose dependency failed
// is not run.
func (rn *run) steps(ctx context.Context, plan *armtemplate.Plan) {
	n := len(plan.Steps)
	done := make([]chan struct{}, n)
	ok := make([]bool, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	sem := make(chan struct{}, rn.p.opts.Parallelism)
	var wg sync.WaitGroup
	for _, s := range plan.Steps {
		wg.Go(func() {
			defer close(done[s.Index])
			for _, d := range s.DependsOn {
				select {
				case <-done[d]:
				case <-ctx.Done():
					return
				}
				if !ok[d] {
					return
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			ok[s.Index] = rn.step(ctx, plan, s)
		})
	}
	wg.Wait()
}

// step deploys one resource and waits for it; it reports success.
func (rn *run) step(ctx context.Context, plan *armtemplate.Plan, s *armtemplate.Step) bool {
	op := operation{
		ID: fmt.Sprintf("%016X", uint64(s.Index+1)*0x9E3779B97F4A7C15), Status: stateRunning, Started: rn.p.e.Now(),
		Target: s.ID.String(), Type: s.Type, Name: s.Name, Provisioning: "Create",
	}
	if s.Existing {
		op.Provisioning = "Read"
	}
	if strings.EqualFold(s.Type, TypeDeployments) && rn.id.Parent().ResourceGroupName() != "" {
		// Choice: a nested deployment's operation names it in this
		// deployment's resource group, wherever it deploys: azure-ai-ml
		// parses every target as a resource group's resource, and its
		// workspace template nests deployments at subscription scope.
		op.Target = rn.id.Parent().String() + "/providers/" + TypeDeployments + "/" + s.Name
	}
	rn.record(ctx, op)
	fail := func(err error) bool {
		op.Status, op.Ended = stateFailed, rn.p.e.Now()
		op.Error = asARM(err)
		op.StatusCode = http.StatusText(op.Error.Status)
		op.StatusCode = strings.ReplaceAll(op.StatusCode, " ", "")
		rn.record(ctx, op)
		return false
	}
	if s.Existing {
		if _, err := rn.get(ctx, s.ID, s.APIVersion); err != nil {
			return fail(err)
		}
		op.Status, op.Ended, op.StatusCode = stateSucceeded, rn.p.e.Now(), "OK"
		rn.record(ctx, op)
		return true
	}
	body, err := plan.Body(s)
	if err != nil {
		return fail(err)
	}
	resp, err := rn.p.dispatch(ctx, Request{
		Caller: rn.caller, Method: http.MethodPut, ID: s.ID, APIVersion: s.APIVersion, Body: mustJSON(body),
		BaseURL: rn.baseURL, Deployment: rn.id, CorrelationID: rn.correlationID, Record: true, Origin: rn.origin,
	})
	if err != nil {
		return fail(err)
	}
	op.StatusCode = strings.ReplaceAll(http.StatusText(resp.Status), " ", "")
	if err := rn.await(ctx, s); err != nil {
		return fail(err)
	}
	op.Status, op.Ended = stateSucceeded, rn.p.e.Now()
	rn.record(ctx, op)
	return true
}

// await polls the resource until its provisioningState is terminal (a
// resource without one is done once it can be read).
//
// The wait between reads doubles from Options.PollInterval up to ten times
// it, so a deployment of hundreds of resources reads each a handful of
// times per operation rather than twenty times a second.
func (rn *run) await(ctx context.Context, s *armtemplate.Step) error {
	wait := rn.p.opts.PollInterval
	for {
		body, err := rn.get(ctx, s.ID, s.APIVersion)
		if err != nil && !isNotFound(err) {
			return err
		}
		if err == nil {
			state := provisioningState(body)
			switch {
			case state == "" || strings.EqualFold(state, stateSucceeded):
				return nil
			case strings.EqualFold(state, stateFailed) || strings.EqualFold(state, stateCanceled):
				return arm.Errorf(http.StatusConflict, "ResourceDeploymentFailure",
					"The resource write operation failed to complete successfully, because it reached terminal provisioning state '%s'.", state)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*rn.p.opts.PollInterval)
	}
}

func isNotFound(err error) bool {
	ae, ok := arm.AsError(err)
	return ok && ae.Status == http.StatusNotFound
}

func provisioningState(body map[string]any) string {
	if props, ok := body["properties"].(map[string]any); ok {
		if s, ok := props["provisioningState"].(string); ok {
			return s
		}
	}
	return ""
}

// get reads a resource as the deployment's caller, without a flow
// record (Azure's own polling is not the caller's operation).
func (rn *run) get(ctx context.Context, id resourceid.ID, apiVersion string) (map[string]any, error) {
	resp, err := rn.p.dispatch(ctx, Request{
		Caller: rn.caller, Method: http.MethodGet, ID: id, APIVersion: apiVersion, BaseURL: rn.baseURL,
		Deployment: rn.id, CorrelationID: rn.correlationID,
	})
	if err != nil {
		return nil, err
	}
	var body map[string]any
	if err := json.Unmarshal(mustJSON(resp.Body), &body); err != nil {
		return nil, err
	}
	return body, nil
}

// reference is reference() of a running deployment: the resource's
// properties, or the whole resource when full.
func (rn *run) reference(id resourceid.ID, apiVersion string, full bool) (any, error) {
	if apiVersion == "" {
		if t, ok := rn.p.e.Registry().Lookup(id.ResourceType()); ok && len(t.APIVersions) > 0 {
			apiVersion = t.APIVersions[0]
		}
	}
	body, err := rn.get(rn.p.ctx, id, apiVersion)
	if err != nil {
		return nil, err
	}
	if full {
		body["apiVersion"] = apiVersion
		return body, nil
	}
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	return props, nil
}

// list is list*() of a running deployment: the POST action as the
// caller, recorded.
func (rn *run) list(name string, id resourceid.ID, apiVersion string, body any) (any, error) {
	var raw []byte
	if body != nil {
		raw = mustJSON(body)
	}
	resp, err := rn.p.dispatch(rn.p.ctx, Request{
		Caller: rn.caller, Method: http.MethodPost, ID: id, Tail: name, APIVersion: apiVersion, Body: raw,
		BaseURL: rn.baseURL, Deployment: rn.id, CorrelationID: rn.correlationID, Record: true, Origin: rn.origin,
	})
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(mustJSON(resp.Body), &out); err != nil {
		return nil, err
	}
	return out, nil
}

// failed reports whether an operation failed.
func (rn *run) failed() bool {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	for _, op := range rn.ops {
		if op.Error != nil {
			return true
		}
	}
	return false
}

// complete deletes, in Complete mode, the top-level resources of the
// resource group the template does not name (child resources go with
// their parents; deployments are not resources and stay), each as the
// caller, recorded as a Delete operation and waited for until it is gone.
func (rn *run) complete(ctx context.Context, plan *armtemplate.Plan) {
	named := map[string]bool{}
	for _, s := range plan.Steps {
		named[s.ID.Key()] = true
	}
	extra, err := rn.unnamed(ctx, named)
	if err != nil {
		rn.record(ctx, operation{ID: "COMPLETEMODE", Status: stateFailed, Started: rn.p.e.Now(), Ended: rn.p.e.Now(),
			Error: asARM(err), Target: rn.id.Parent().String(), Type: "Microsoft.Resources/resourceGroups", Name: rn.id.Parent().Name(), Provisioning: "Delete"})
		return
	}
	var wg sync.WaitGroup
	for i, r := range extra {
		idStr, _ := r["id"].(string)
		id, err := resourceid.Parse(idStr)
		if err != nil {
			continue
		}
		wg.Go(func() { rn.remove(ctx, i, id) })
	}
	wg.Wait()
}

// remove deletes one resource of a Complete deployment and waits for it.
func (rn *run) remove(ctx context.Context, i int, id resourceid.ID) {
	op := operation{ID: fmt.Sprintf("D%015X", uint64(i+1)*0x9E3779B97F4A7C15>>4), Status: stateRunning, Started: rn.p.e.Now(),
		Target: id.String(), Type: id.ResourceType(), Name: id.Name(), Provisioning: "Delete"}
	rn.record(ctx, op)
	apiVersion := ""
	if t, ok := rn.p.e.Registry().Lookup(id.ResourceType()); ok && len(t.APIVersions) > 0 {
		apiVersion = t.APIVersions[0]
	}
	_, err := rn.p.dispatch(ctx, Request{
		Caller: rn.caller, Method: http.MethodDelete, ID: id, APIVersion: apiVersion, BaseURL: rn.baseURL,
		Deployment: rn.id, CorrelationID: rn.correlationID, Record: true, Origin: rn.origin,
	})
	for err == nil {
		if _, gerr := rn.get(ctx, id, apiVersion); isNotFound(gerr) {
			break
		} else if gerr != nil {
			err = gerr
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(rn.p.opts.PollInterval):
		}
	}
	op.Ended = rn.p.e.Now()
	if err != nil {
		op.Status, op.Error = stateFailed, asARM(err)
		op.StatusCode = strings.ReplaceAll(http.StatusText(op.Error.Status), " ", "")
	} else {
		op.Status, op.StatusCode = stateSucceeded, "OK"
	}
	rn.record(ctx, op)
}

// record stores an operation's state.
func (rn *run) record(ctx context.Context, op operation) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	found := false
	for i := range rn.ops {
		if rn.ops[i].ID == op.ID {
			rn.ops[i], found = op, true
		}
	}
	if !found {
		rn.ops = append(rn.ops, op)
	}
	ops := append([]operation(nil), rn.ops...)
	if err := rn.update(ctx, func(st *state) { st.Operations = ops }); err != nil {
		rn.p.opts.Logger.Warn("deployment operation not recorded", "deployment", rn.id.String(), "err", err)
	}
}

// update changes the stored state unless the deployment was canceled or
// replaced (another run).
func (rn *run) update(ctx context.Context, f func(*state)) error {
	_, err := rn.p.e.Update(context.WithoutCancel(ctx), rn.id, func(r *engine.Resource) error {
		st := stateOf(r)
		if st.Status == stateCanceled || terminal(st.Status) {
			return engine.ErrNoChange
		}
		f(&st)
		setState(r, st)
		return nil
	})
	return err
}

// finish records the end of the run: Succeeded with the outputs, or
// Failed with Azure's DeploymentFailed and each failed operation's error.
func (rn *run) finish(ctx context.Context, plan *armtemplate.Plan, runErr error) {
	rn.mu.Lock()
	ops := append([]operation(nil), rn.ops...)
	rn.mu.Unlock()
	var details []*arm.Error
	for _, op := range ops {
		if op.Error != nil {
			details = append(details, op.Error)
		}
	}
	var outputs map[string]any
	var resources []string
	if runErr == nil && len(details) == 0 && plan != nil {
		var err error
		if outputs, err = plan.Outputs(); err != nil {
			runErr = err
		}
		for _, s := range plan.Steps {
			if !s.Existing {
				resources = append(resources, s.ID.String())
			}
		}
	}
	if runErr != nil {
		details = append(details, asARM(runErr))
	}
	err := rn.update(ctx, func(st *state) {
		st.Ended = rn.p.e.Now()
		st.Operations = ops
		if len(details) > 0 {
			st.Status = stateFailed
			e := arm.Errorf(http.StatusBadRequest, "DeploymentFailed",
				"At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.")
			e.Details = details
			st.Error = e
			return
		}
		st.Status, st.Outputs, st.OutputResources = stateSucceeded, outputs, resources
	})
	if err != nil {
		rn.p.opts.Logger.Warn("deployment end not recorded", "deployment", rn.id.String(), "err", err)
		return
	}
	if len(details) > 0 {
		rn.rollback(ctx)
	}
}

// rollback redeploys, after a failure, the deployment onErrorDeployment
// names: under its own name, with its template and parameters, in
// Complete mode, as Azure does, as the caller.
func (rn *run) rollback(ctx context.Context) {
	r, err := rn.p.e.Get(ctx, rn.id)
	if err != nil {
		return
	}
	onError, _ := r.Properties["onErrorDeployment"].(map[string]any)
	name, _ := onError["deploymentName"].(string)
	if name == "" {
		return
	}
	target := rn.id.Parent().Child(TypeDeployments, name)
	earlier, err := rn.p.e.Get(ctx, target)
	if err != nil {
		rn.p.opts.Logger.Warn("rollback target gone", "deployment", rn.id.String(), "target", target.String(), "err", err)
		return
	}
	st := stateOf(earlier)
	var tmpl any
	_ = json.Unmarshal(st.Template, &tmpl)
	body := map[string]any{"properties": map[string]any{"mode": "Complete", "template": tmpl, "parameters": st.Parameters}}
	if _, err := rn.p.dispatch(ctx, Request{
		Caller: rn.caller, Method: http.MethodPut, ID: target, APIVersion: APIVersions[0], Body: mustJSON(body),
		BaseURL: rn.baseURL, Deployment: rn.id, CorrelationID: rn.correlationID, Record: true, Origin: rn.origin,
	}); err != nil {
		rn.p.opts.Logger.Warn("rollback failed", "deployment", rn.id.String(), "target", target.String(), "err", err)
	}
}

// asARM is err as an ARM error (an internal one when it is not).
func asARM(err error) *arm.Error {
	if ae, ok := arm.AsError(err); ok {
		return ae
	}
	if errors.Is(err, context.Canceled) {
		return arm.Errorf(http.StatusConflict, "DeploymentCanceled", "The deployment was canceled.")
	}
	return arm.Errorf(http.StatusInternalServerError, "InternalServerError", "%s", err.Error())
}
