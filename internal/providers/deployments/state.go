package deployments

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine"
)

// The states of a deployment and of its operations, as Azure names them.
const (
	stateAccepted  = "Accepted"
	stateRunning   = "Running"
	stateSucceeded = "Succeeded"
	stateFailed    = "Failed"
	stateCanceled  = "Canceled"
)

func terminal(s string) bool {
	return s == stateSucceeded || s == stateFailed || s == stateCanceled
}

// state is a deployment's run, kept in its record's private data.
type state struct {
	Status          string          `json:"status"`
	OperationID     string          `json:"operationId"`
	CorrelationID   string          `json:"correlationId"`
	Started         time.Time       `json:"started"`
	Ended           time.Time       `json:"ended,omitzero"`
	Operations      []operation     `json:"operations,omitempty"`
	Outputs         map[string]any  `json:"outputs,omitempty"`
	OutputResources []string        `json:"outputResources,omitempty"`
	Error           *arm.Error      `json:"error,omitempty"`
	Template        json.RawMessage `json:"template,omitempty"`
	// Parameters are the values given (secure ones included, never
	// shown), to run the template with.
	Parameters map[string]any `json:"parameters,omitempty"`
}

// operation is one deployment operation: a resource of the template.
type operation struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"`
	Started    time.Time  `json:"started"`
	Ended      time.Time  `json:"ended,omitzero"`
	StatusCode string     `json:"statusCode,omitempty"`
	Error      *arm.Error `json:"error,omitempty"`
	Target     string     `json:"target"`
	Type       string     `json:"type"`
	Name       string     `json:"name"`
	// Provisioning is Create, or Read for an existing resource.
	Provisioning string `json:"provisioning"`
}

const dataKey = "deployment"

func stateOf(r *engine.Resource) state {
	var st state
	if raw, ok := r.Internal.Data[dataKey]; ok {
		_ = json.Unmarshal(raw, &st)
	}
	return st
}

func setState(r *engine.Resource, st state) {
	if r.Internal.Data == nil {
		r.Internal.Data = map[string]json.RawMessage{}
	}
	r.Internal.Data[dataKey] = mustJSON(st)
}

// duration formats d as Azure's ISO 8601 duration ("PT1.2345S").
func duration(d time.Duration) string {
	return fmt.Sprintf("PT%sS", strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.7f", d.Seconds()), "0"), "."))
}

// render fills properties with the run's state.
func (st state) render(props map[string]any, now time.Time) {
	props["provisioningState"] = st.Status
	props["correlationId"] = st.CorrelationID
	props["timestamp"] = st.Started.UTC().Format(time.RFC3339Nano)
	end := st.Ended
	if end.IsZero() {
		end = now
	}
	props["duration"] = duration(end.Sub(st.Started))
	if st.Outputs != nil {
		props["outputs"] = st.Outputs
	}
	res := []any{}
	for _, id := range st.OutputResources {
		res = append(res, map[string]any{"id": id})
	}
	props["outputResources"] = res
	if st.Error != nil {
		props["error"] = st.Error
	}
}

// load checks req's api-version and reads the deployment id and its run.
func (p *Provider) load(ctx context.Context, req *engine.Request, id resourceid.ID) (*engine.Resource, state, error) {
	if err := p.checkVersion(req); err != nil {
		return nil, state{}, err
	}
	r, err := p.e.Get(ctx, id)
	if err != nil {
		return nil, state{}, err
	}
	return r, stateOf(r), nil
}

// status answers the deployment's Azure-AsyncOperation.
func (p *Provider) status(ctx context.Context, req *engine.Request, id resourceid.ID, opID string) (*engine.Response, error) {
	_, st, err := p.load(ctx, req, id)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(st.OperationID, opID) {
		return nil, arm.NotFound(arm.CodeOperationNotFound, "The operation '%s' could not be found.", opID)
	}
	status := st.Status
	if status == stateAccepted {
		status = stateRunning
	}
	body := map[string]any{"status": status}
	if st.Error != nil {
		body["error"] = st.Error
	}
	resp := engine.JSON(http.StatusOK, body)
	if !terminal(status) {
		resp.Header = http.Header{"Retry-After": {"1"}}
	}
	return resp, nil
}

// operations lists a deployment's operations, or answers one (opID).
func (p *Provider) operations(ctx context.Context, req *engine.Request, id resourceid.ID, opID string) (*engine.Response, error) {
	r, st, err := p.load(ctx, req, id)
	if err != nil {
		return nil, err
	}
	var out []any
	for _, op := range st.Operations {
		body := op.render(r.ID, req.Now)
		if opID != "" {
			if strings.EqualFold(op.ID, opID) {
				return engine.JSON(http.StatusOK, body), nil
			}
			continue
		}
		out = append(out, body)
	}
	if opID != "" {
		return nil, arm.NotFound("DeploymentOperationNotFound", "The deployment operation '%s' could not be found.", opID)
	}
	if out == nil {
		out = []any{}
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out}), nil
}

func (op operation) render(deployment resourceid.ID, now time.Time) map[string]any {
	end := op.Ended
	if end.IsZero() {
		end = now
	}
	props := map[string]any{
		"provisioningOperation": op.Provisioning,
		"provisioningState":     op.Status,
		"timestamp":             end.UTC().Format(time.RFC3339Nano),
		"duration":              duration(end.Sub(op.Started)),
		"trackingId":            op.ID,
		"targetResource":        map[string]any{"id": op.Target, "resourceType": op.Type, "resourceName": op.Name},
	}
	if op.StatusCode != "" {
		props["statusCode"] = op.StatusCode
	}
	if op.Error != nil {
		props["statusMessage"] = map[string]any{"status": stateFailed, "error": op.Error}
	}
	return map[string]any{
		"id":          deployment.String() + "/operations/" + op.ID,
		"operationId": op.ID,
		"properties":  props,
	}
}
