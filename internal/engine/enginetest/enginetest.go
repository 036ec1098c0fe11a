// Package enginetest is the request harness the engine's and providers'
// tests share: it sends requests to an *engine.Engine as a fixed caller
// and checks their outcome. Only tests import it.
package enginetest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/clock"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// BaseURL is the base URL of every request.
const BaseURL = "https://127.0.0.1:8443"

// DefaultCaller is the service principal requests come from unless Caller
// is changed.
var DefaultCaller = engine.Caller{ObjectID: "11111111-0000-0000-0000-000000000001", AppID: "22222222-0000-0000-0000-000000000002", PrincipalType: "ServicePrincipal"}

// Env sends requests to an engine its package built (with the providers it
// tests) over the offset clock the engine runs on.
type Env struct {
	T      testing.TB
	Engine *engine.Engine
	Clock  *clock.Offset
	// Caller makes every request; set Caller.TenantID to act in a tenant.
	Caller engine.Caller
	// Now is the request time of the last request.
	Now time.Time
}

// New returns an Env for e, which must run on clk.
func New(t testing.TB, e *engine.Engine, clk *clock.Offset) *Env {
	return &Env{T: t, Engine: e, Clock: clk, Caller: DefaultCaller}
}

// Serve sends one request; path may carry a query, whose api-version wins
// over apiVersion. The request's query always holds the api-version when
// there is one.
func (v *Env) Serve(method, path, apiVersion, body string) (*engine.Response, error) {
	v.T.Helper()
	query := url.Values{}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		q, err := url.ParseQuery(path[i+1:])
		if err != nil {
			v.T.Fatal(err)
		}
		query, path = q, path[:i]
	}
	if av := query.Get("api-version"); av != "" {
		apiVersion = av
	} else if apiVersion != "" {
		query.Set("api-version", apiVersion)
	}
	v.Now = v.Clock.Now()
	req := &engine.Request{
		Method: method, Path: path, APIVersion: apiVersion, Query: query, Body: []byte(body),
		Header: http.Header{}, BaseURL: BaseURL, Now: v.Now, Caller: v.Caller,
	}
	return v.Engine.Serve(context.Background(), req)
}

// Must sends a request that must succeed with status; it returns the body
// as generic JSON (nil when there is none).
func (v *Env) Must(method, path, apiVersion, body string, status int) map[string]any {
	v.T.Helper()
	resp, err := v.Serve(method, path, apiVersion, body)
	if err != nil {
		v.T.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.Status != status {
		v.T.Fatalf("%s %s: status %d, want %d (body %v)", method, path, resp.Status, status, resp.Body)
	}
	return AsJSON(v.T, resp.Body)
}

// Fail sends a request that must fail with status and code.
func (v *Env) Fail(method, path, apiVersion, body string, status int, code string) *arm.Error {
	v.T.Helper()
	resp, err := v.Serve(method, path, apiVersion, body)
	if err == nil {
		v.T.Fatalf("%s %s: status %d, want error %d %s (body %v)", method, path, resp.Status, status, code, AsJSON(v.T, resp.Body))
	}
	return CheckError(v.T, method+" "+path, err, status, code)
}

// CheckError fails t unless err is an *arm.Error with status and code;
// what names the request in messages.
func CheckError(t testing.TB, what string, err error, status int, code string) *arm.Error {
	t.Helper()
	ae, ok := arm.AsError(err)
	if !ok {
		t.Fatalf("%s: internal error %v", what, err)
	}
	if ae.Status != status || ae.Code != code {
		t.Fatalf("%s: error %d %s (%s), want %d %s", what, ae.Status, ae.Code, ae.Message, status, code)
	}
	return ae
}

// Advance moves the clock on by d.
func (v *Env) Advance(d time.Duration) {
	v.T.Helper()
	if _, err := v.Clock.Advance(d); err != nil {
		v.T.Fatal(err)
	}
}

// AsJSON turns a response body into generic JSON (nil for no body).
func AsJSON(t testing.TB, body any) map[string]any {
	t.Helper()
	if body == nil {
		return nil
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return m
}

// MustID parses a resource ID.
func MustID(t testing.TB, s string) resourceid.ID {
	t.Helper()
	id, err := resourceid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Walk follows steps through generic JSON (object member names, array
// indexes in decimal) and returns what it finds there, or nil.
func Walk(v any, steps ...string) any {
	for _, s := range steps {
		switch t := v.(type) {
		case map[string]any:
			v = t[s]
		case []any:
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// Start returns an Env over a new engine on a memory store, whose
// operations take a second, with the resource types register adds and the
// subscriptions subs of tenant, for the tests of a provider (wired with
// the providers it works with, as internal/app wires them).
func Start(t testing.TB, tenant string, subs []string, register ...func(*engine.Engine)) *Env {
	t.Helper()
	clk := clock.NewOffset(0)
	e := engine.New(engine.Options{Store: memkv.New(), Clock: clk, Registry: engine.NewRegistry(), OperationDuration: time.Second})
	for _, r := range register {
		r(e)
	}
	for _, s := range subs {
		if err := e.EnsureSubscription(context.Background(), s, tenant, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return New(t, e, clk)
}

// The subscriptions and resource group of StartInGroup.
const (
	TenantID            = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	SubscriptionID      = "00000000-1111-2222-3333-444444444444"
	OtherSubscriptionID = "00000000-1111-2222-3333-555555555555"
	// GroupPath is resource group "rg" (eastus) of SubscriptionID.
	GroupPath = "/subscriptions/" + SubscriptionID + "/resourceGroups/rg"
)

// StartInGroup is Start with TenantID's subscriptions SubscriptionID and
// OtherSubscriptionID and the resource group GroupPath.
func StartInGroup(t testing.TB, register ...func(*engine.Engine)) *Env {
	t.Helper()
	v := Start(t, TenantID, []string{SubscriptionID, OtherSubscriptionID}, register...)
	v.Must(http.MethodPut, GroupPath, "2021-04-01", `{"location":"eastus"}`, http.StatusCreated)
	return v
}

// Refuse runs, as subtest name of t, a request that must fail with
// status and code, the error's target naming target; path's query may
// name another api-version than apiVersion.
func (v *Env) Refuse(t *testing.T, name, method, path, apiVersion, body string, status int, code, target string) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		sub := *v
		sub.T = t
		if e := sub.Fail(method, path, apiVersion, body, status, code); e.Target != target {
			t.Errorf("target = %q, want %q (%s)", e.Target, target, e.Message)
		}
	})
}
