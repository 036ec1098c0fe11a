package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/kv"
	"github.com/google/uuid"
)

type opKind string

const (
	opPut    opKind = "put"
	opDelete opKind = "delete"
	opAction opKind = "action"
)

// Operation is a long-running operation. Its status is derived from the
// clock: InProgress until End, then its final status.
type Operation struct {
	ID         string          `json:"id"`
	Kind       opKind          `json:"kind"`
	ResourceID string          `json:"resourceId"`
	Type       string          `json:"type"`
	Namespace  string          `json:"namespace"`
	Location   string          `json:"location"`
	Subscript  string          `json:"subscriptionId"`
	Start      time.Time       `json:"startTime"`
	End        time.Time       `json:"endTime"`
	Result     json.RawMessage `json:"result,omitempty"` // action results
	Error      *arm.Error      `json:"error,omitempty"`  // a failed operation
}

func operationKey(id string) []byte { return []byte(strings.ToLower(id)) }

func dueKey(end time.Time, id string) []byte {
	return []byte(fmt.Sprintf("%020d%s%s", end.UnixNano(), sep, strings.ToLower(id)))
}

func (e *Engine) newOperation(req *Request, r *Resource, kind opKind, end time.Time) *Operation {
	loc := r.Location
	if loc == "" {
		loc = "global"
	}
	return &Operation{
		ID: uuid.NewString(), Kind: kind, ResourceID: r.ID.String(), Type: r.Type,
		Namespace: namespaceOf(r.Type), Location: loc, Subscript: r.ID.SubscriptionID(),
		Start: req.Now, End: end,
	}
}

// NewActionOperation records an asynchronous POST action whose result
// becomes available at end, and returns the 202 response with its polling
// headers: Location, where the result is read, and Azure-AsyncOperation,
// its status. Strategies use it for actions such as resyncKeys.
//
// Both, because the pollers read them differently: azcore and the Python
// SDK follow Azure-AsyncOperation to a terminal status and then, for a
// POST, read the result at Location; hashicorp/go-azure-sdk (Terraform's
// azurerm) polls only Azure-AsyncOperation when there is one, and at a
// Location alone it takes a 200 whose JSON has no status as still running,
// which an action's result (prepareNotebook's fqdn) never has.
func (e *Engine) NewActionOperation(ctx context.Context, req *Request, r *Resource, result any, end time.Time) (*Response, error) {
	op := e.newOperation(req, r, opAction, end)
	if result != nil {
		op.Result = rawJSON(result)
	}
	if _, err := e.tables.putOperation(ctx, op); err != nil {
		return nil, err
	}
	h := http.Header{}
	op.setHeaders(h, req, true)
	h.Set("Azure-AsyncOperation", op.url(req, "operationStatuses"))
	return &Response{Status: http.StatusAccepted, Header: h}, nil
}

// NewResourceOperation records an asynchronous PUT (deleting false) or
// DELETE of r that ends at end, and returns the 202 response with its
// Location header. It is for the strategies of virtual types
// (VirtualStrategy), which answer those verbs themselves: r needs only ID,
// Type and, when it has one, Location. Polling the Location gives 202
// until end; then a DELETE's operation answers 204 and a PUT's what the
// strategy answers to a GET of r.
func (e *Engine) NewResourceOperation(ctx context.Context, req *Request, r *Resource, deleting bool, end time.Time) (*Response, error) {
	kind := opPut
	if deleting {
		kind = opDelete
	}
	op := e.newOperation(req, r, kind, end)
	if _, err := e.tables.putOperation(ctx, op); err != nil {
		return nil, err
	}
	h := http.Header{}
	op.setHeaders(h, req, true)
	return &Response{Status: http.StatusAccepted, Header: h}, nil
}

// addOperation adds to b the writes of op and, for deletes, its due-index
// entry.
func (t tables) addOperation(b *kv.Batch, op *Operation) {
	b.Add(t.operations, kv.Put(operationKey(op.ID), rawJSON(op)).If(kv.Absent))
	if op.Kind == opDelete {
		b.Add(t.due, kv.Put(dueKey(op.End, op.ID), []byte(op.ID)))
	}
}

// putOperation writes op in one transaction.
func (t tables) putOperation(ctx context.Context, op *Operation) (int64, error) {
	var b kv.Batch
	t.addOperation(&b, op)
	return b.Commit(ctx)
}

func (op *Operation) url(req *Request, kind string) string {
	return fmt.Sprintf("%s/subscriptions/%s/providers/%s/locations/%s/%s/%s?api-version=%s",
		req.BaseURL, url.PathEscape(op.Subscript), op.Namespace, url.PathEscape(op.Location), kind, op.ID, url.QueryEscape(req.APIVersion))
}

// setHeaders adds Location (location=true) or Azure-AsyncOperation, with
// Retry-After.
func (op *Operation) setHeaders(h http.Header, req *Request, location bool) {
	if location {
		h.Set("Location", op.url(req, "operationResults"))
	} else {
		h.Set("Azure-AsyncOperation", op.url(req, "operationStatuses"))
	}
	h.Set("Retry-After", retryAfter(op.End.Sub(req.Now)))
}

// retryAfter is the whole seconds a client should wait, at least 1: azcore
// falls back to its 30 s default when the header is 0.
func retryAfter(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return itoa(max(s, 1))
}

func (op *Operation) status(now time.Time) string {
	switch {
	case now.Before(op.End):
		return "InProgress"
	case op.Error != nil:
		return "Failed"
	default:
		return "Succeeded"
	}
}

func (e *Engine) loadOperation(ctx context.Context, id string) (*Operation, error) {
	ent, err := e.tables.operations.Get(ctx, operationKey(id))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, arm.NotFound(arm.CodeOperationNotFound, "The operation '%s' could not be found.", id)
	}
	if err != nil {
		return nil, err
	}
	var op Operation
	if err := json.Unmarshal(ent.Value, &op); err != nil {
		return nil, err
	}
	return &op, nil
}

// serveOperation answers GET .../locations/{loc}/operationStatuses/{id}
// (Azure-AsyncOperation: always 200 with a status body) and
// .../operationResults/{id} (Location: 202 while running, then the
// operation's result).
func (e *Engine) serveOperation(ctx context.Context, req *Request, id resourceid.ID) (*Response, error) {
	if req.Method != http.MethodGet {
		return nil, methodNotAllowed(req.Method, id.ResourceType())
	}
	op, err := e.loadOperation(ctx, id.Name())
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(op.Subscript, id.SubscriptionID()) {
		return nil, arm.NotFound(arm.CodeOperationNotFound, "The operation '%s' could not be found.", id.Name())
	}
	status := op.status(req.Now)
	if strings.EqualFold(id.Last().Type, "operationStatuses") {
		body := map[string]any{
			"id":        strings.SplitN(op.url(req, "operationStatuses"), "?", 2)[0][len(req.BaseURL):],
			"name":      op.ID,
			"status":    status,
			"startTime": op.Start,
		}
		if status != "InProgress" {
			body["endTime"] = op.End
			body["percentComplete"] = 100
		} else {
			total := op.End.Sub(op.Start)
			if total > 0 {
				body["percentComplete"] = float64(req.Now.Sub(op.Start)) / float64(total) * 100
			}
		}
		if op.Error != nil {
			body["error"] = op.Error
		}
		resp := JSON(http.StatusOK, body)
		if status == "InProgress" {
			// Pollers (the Azure CLI's among them) wait as long as the
			// latest response's Retry-After says, else 30 s.
			resp.Header = http.Header{"Retry-After": {retryAfter(op.End.Sub(req.Now))}}
		}
		return resp, nil
	}
	if status == "InProgress" {
		h := http.Header{}
		op.setHeaders(h, req, true)
		return &Response{Status: http.StatusAccepted, Header: h}, nil
	}
	if op.Error != nil {
		return nil, op.Error
	}
	switch op.Kind {
	case opDelete:
		return &Response{Status: http.StatusNoContent}, nil
	case opAction:
		if len(op.Result) == 0 {
			// 200 with an empty body, not 204: hashicorp/go-azure-sdk's
			// poller (Terraform's azurerm) fails on a 204 at a Location
			// ("polling support for the Content-Type \"\"") and takes
			// only an empty 200 as done; azcore and the Python SDK take
			// either. (Its DELETEs poll the resource, not the Location.)
			return &Response{Status: http.StatusOK}, nil
		}
		return JSON(http.StatusOK, op.Result), nil
	default:
		resp, err := e.operationResource(ctx, req, op)
		if err != nil {
			return nil, err
		}
		return withTerminalState(resp), nil
	}
}

// operationResource is the resource a completed PUT operation made, as a
// GET of it answers.
func (e *Engine) operationResource(ctx context.Context, req *Request, op *Operation) (*Response, error) {
	rid, err := resourceid.Parse(op.ResourceID)
	if err != nil {
		return nil, err
	}
	if vt, ok := e.reg.Lookup(op.Type); ok {
		if vs, ok := vt.Strategy.(VirtualStrategy); ok {
			return e.virtualResult(ctx, req, vt, vs, rid)
		}
	}
	r, err := e.Get(ctx, rid)
	if err != nil {
		return nil, err
	}
	t, ok := e.reg.Lookup(r.Type)
	if !ok {
		return nil, fmt.Errorf("engine: type %s not registered", r.Type)
	}
	return e.resourceResponse(ctx, http.StatusOK, t, r, req)
}

// withTerminalState makes the final answer of a Location operation one
// every SDK's poller recognises as done: the resource when its body says
// so (properties.provisioningState or a top-level status), else an empty
// 200. hashicorp/go-azure-sdk (Terraform's azurerm) polls on while a 200's
// body has neither, and Azure ML's outbound rules have neither, so Azure
// cannot answer them with the rule (azurerm would never finish); azcore and
// the Python SDK take an empty 200 as done (with no result), and then read
// the resource.
func withTerminalState(resp *Response) *Response {
	body, ok := resp.Body.(map[string]any)
	if !ok || resp.Status != http.StatusOK {
		return resp
	}
	if _, ok := body["status"].(string); ok {
		return resp
	}
	if props, ok := body["properties"].(map[string]any); ok {
		if _, ok := props["provisioningState"].(string); ok {
			return resp
		}
	}
	return &Response{Status: http.StatusOK, Header: resp.Header}
}

// Run finalises due operations until ctx ends: it makes completed
// asynchronous deletes physical. It wakes every interval and on Wake.
func (e *Engine) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := e.ReapDue(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("finishing due operations failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.wake:
		}
	}
}

// ReapDue finishes every operation due by now.
func (e *Engine) ReapDue(ctx context.Context) error {
	now := e.clock.Now()
	for {
		ents, err := e.tables.due.Scan(ctx, nil, nil, 64)
		if err != nil {
			return err
		}
		progressed := false
		for _, ent := range ents {
			var nanos int64
			if _, err := fmt.Sscanf(string(ent.Key[:20]), "%d", &nanos); err != nil || time.Unix(0, nanos).After(now) {
				return nil // keys are ordered by due time: nothing else is due
			}
			if err := e.finishOperation(ctx, string(ent.Value)); err != nil {
				return err
			}
			if _, err := e.tables.due.Txn(ctx, kv.Delete(ent.Key)); err != nil {
				return err
			}
			progressed = true
		}
		if !progressed {
			return nil
		}
	}
}

func (e *Engine) finishOperation(ctx context.Context, opID string) error {
	op, err := e.loadOperation(ctx, opID)
	if err != nil {
		if _, ok := arm.AsError(err); ok {
			return nil // already gone
		}
		return err
	}
	if op.Kind != opDelete {
		return nil
	}
	rid, err := resourceid.Parse(op.ResourceID)
	if err != nil {
		return nil
	}
	r, err := e.load(ctx, rid)
	if err != nil || r == nil {
		return err
	}
	if !r.Gone(e.clock.Now()) {
		return nil // re-created or delete moved later
	}
	e.log.Debug("delete completed", "id", r.ID.String())
	_, err = e.finishDelete(ctx, r) // false: re-created meanwhile, nothing left to do
	return err
}
