package app_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// headerWriter is the least a handler can write to: it keeps the status
// and one header map, cleared between requests.
type headerWriter struct {
	h      http.Header
	status int
	n      int
	last   []byte // the last write, for a failure's message
}

func (w *headerWriter) Header() http.Header { return w.h }
func (w *headerWriter) WriteHeader(s int)   { w.status = s }
func (w *headerWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(b)
	w.last = b
	return len(b), nil
}

// TestGETAllocationBudget holds the request path of the reads clients
// make most to a budget of heap allocations per request, as armlet runs
// by default (durable store, RBAC enforced, a flow record per request):
// the whole handler from the front door's first middleware to the last
// byte written, token validation and the RBAC check included, without
// the socket, TLS and net/http's own parsing. A change that makes a read
// allocate more fails here; raise a budget only with the reason.
//
// The count is the process's, so it includes the flow writer's work for
// the request, done off the request path at its own pace, and the
// periodic work of the process (the listeners' reconciliation): it varies
// by up to some 50 between runs, and the budgets leave that room.
//
// Measured when first set (issue 19, with the rendered-body cache): GET
// workspace 115 (294 without it); first list page of 10 workspaces 232
// to 275 (1,997 without it); data-plane GET of a run 169 to 222. Lowered
// after the front door's allocations were cut: 55 to 67, 172 to 195 and
// 123 to 146.
func TestGETAllocationBudget(t *testing.T) {
	for _, tc := range readBudgetCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			tc.serve() // the caches, outside the count
			if got := testing.AllocsPerRun(500, tc.serve); got > tc.budget {
				t.Errorf("%s: %.0f allocations per request, budget %.0f", tc.name, got, tc.budget)
			} else {
				t.Logf("%s: %.0f allocations per request (budget %.0f)", tc.name, got, tc.budget)
			}
		})
	}
}

// BenchmarkServeMain measures the same reads as TestGETAllocationBudget,
// handler only (no socket, TLS or net/http parsing), for CPU profiles of
// the request path:
//
//	go test ./internal/app -run '^$' -bench ServeMain -cpuprofile cpu.out
func BenchmarkServeMain(b *testing.B) {
	for _, tc := range readBudgetCases(b) {
		b.Run(tc.name, func(b *testing.B) {
			tc.serve()
			b.ReportAllocs()
			for b.Loop() {
				tc.serve()
			}
		})
	}
}

// readBudgetCase is one read of TestGETAllocationBudget: serve makes it
// once through the whole front door and fails tb unless it answered 200.
type readBudgetCase struct {
	name   string
	budget float64
	serve  func()
}

// readBudgetCases starts an armlet as it runs by default (durable store,
// RBAC enforced, flow records), with a resource group of ten settled
// workspaces and a run, and returns the reads of the budget.
func readBudgetCases(tb testing.TB) []readBudgetCase {
	s := e2e.Start(tb, e2e.WithConfig(func(c *config.Config) { c.InMemory = false }), e2e.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
	sub := "/subscriptions/" + s.Conn.SubscriptionID
	rg := sub + "/resourceGroups/budget-rg"
	ws := rg + "/providers/Microsoft.MachineLearningServices/workspaces/budget-ws"
	benchMust(tb, s, "PUT", rg+"?api-version=2021-04-01", `{"location":"eastus"}`)
	for _, name := range []string{"budget-ws", "ws-1", "ws-2", "ws-3", "ws-4", "ws-5", "ws-6", "ws-7", "ws-8", "ws-9"} {
		benchMust(tb, s, "PUT", rg+"/providers/Microsoft.MachineLearningServices/workspaces/"+name+"?api-version=2024-04-01", `{"location":"eastus"}`)
	}
	benchMust(tb, s, "PATCH", "/history/v1.0"+ws+"/experiments/e1/runs/r1", `{"status":"Running"}`)
	if _, err := s.AdvanceClock(context.Background(), time.Minute); err != nil { // every operation done: the reads see settled resources
		tb.Fatal(err)
	}
	token := "Bearer " + s.Token(tb)

	var cases []readBudgetCase
	for _, tc := range []struct {
		name, path, query string
		budget            float64
	}{
		{"GET workspace", ws, "api-version=2024-04-01", 100},
		{"first list page", rg + "/providers/Microsoft.MachineLearningServices/workspaces", "api-version=2024-04-01", 260},
		{"data-plane GET of a run", "/history/v1.0" + ws + "/experiments/e1/runs/r1", "", 200},
	} {
		w := &headerWriter{h: http.Header{}}
		u := &url.URL{Path: tc.path, RawQuery: tc.query}
		req := &http.Request{Method: http.MethodGet, URL: u, Body: http.NoBody, RequestURI: u.RequestURI(), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Authorization": {token}}, Host: s.Addr().String(), TLS: &tls.ConnectionState{}, RemoteAddr: "127.0.0.1:50000"}
		cases = append(cases, readBudgetCase{name: tc.name, budget: tc.budget, serve: func() {
			clear(w.h)
			w.status, w.n = 0, 0
			s.ServeMain(w, req)
			if w.status != http.StatusOK || w.n == 0 {
				tb.Fatalf("GET %s = %d with %d bytes: %s", tc.path, w.status, w.n, w.last)
			}
		}})
	}
	return cases
}

// BenchmarkServeMainPUT measures a client's PUT of a new workspace
// through the whole front door (handler only, as BenchmarkServeMain), for
// CPU and allocation profiles of the write path. Each PUT waits for its
// durable commit, so the time per PUT is mostly the disk's; the
// allocations and the CPU profile are the handler's:
//
//	go test ./internal/app -run '^$' -bench ServeMainPUT -memprofile mem.out
func BenchmarkServeMainPUT(b *testing.B) {
	s := e2e.Start(b, e2e.WithConfig(func(c *config.Config) { c.InMemory = false }), e2e.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
	rg := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/put-rg"
	benchMust(b, s, "PUT", rg+"?api-version=2021-04-01", `{"location":"eastus"}`)
	token := "Bearer " + s.Token(b)
	w := &headerWriter{h: http.Header{}}
	const body = `{"location":"eastus","tags":{"team":"bench"},"identity":{"type":"SystemAssigned"},"properties":{"description":"a workspace of the PUT benchmark","publicNetworkAccess":"Enabled"}}`
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		u := &url.URL{Path: rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws-" + strconv.Itoa(n), RawQuery: "api-version=2024-04-01"}
		req := &http.Request{Method: http.MethodPut, URL: u, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), RequestURI: u.RequestURI(), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Authorization": {token}, "Content-Type": {"application/json"}}, Host: s.Addr().String(), TLS: &tls.ConnectionState{}, RemoteAddr: "127.0.0.1:50000"}
		clear(w.h)
		w.status, w.n = 0, 0
		s.ServeMain(w, req)
		if w.status != http.StatusAccepted {
			b.Fatalf("PUT %s = %d: %s", u.Path, w.status, w.last)
		}
	}
}
