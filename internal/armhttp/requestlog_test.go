package armhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// appCaller is an authenticator that lets every caller through as app
// "app-1".
type appCaller struct{}

func (appCaller) Authenticate(context.Context, string) (engine.Caller, *arm.Error) {
	return engine.Caller{ObjectID: "o", AppID: "app-1", TenantID: "t"}, nil
}

// TestRequestLog: at the default level (info) every request is one log
// line with its method, path, status, duration and caller; health probes
// are logged at debug only.
func TestRequestLog(t *testing.T) {
	const sub = "00000000-0000-0000-0000-00000000000b"
	e, clk := testEngine(t, sub)
	var logs bytes.Buffer
	h := Handler(Options{
		Engine: e, Auth: appCaller{}, Clock: clk, MaxBodyBytes: 1 << 20, Ready: func() bool { return true },
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	for _, req := range []struct{ method, path string }{
		{"PUT", "/subscriptions/" + sub + "/resourceGroups/rg?api-version=2021-04-01"},
		{"GET", "/subscriptions/" + sub + "/resourceGroups/nope?api-version=2021-04-01"},
		{"GET", "/_armlet/health"},
	} {
		r := httptest.NewRequest(req.method, req.path, strings.NewReader(`{"location":"eastus"}`))
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("request lines = %v, want the two ARM requests (health only at debug)", lines)
	}
	for i, want := range []struct {
		method, path string
		status       float64
	}{{"PUT", "/subscriptions/" + sub + "/resourceGroups/rg", http.StatusCreated}, {"GET", "/subscriptions/" + sub + "/resourceGroups/nope", http.StatusNotFound}} {
		l := lines[i]
		if l["level"] != "INFO" || l["method"] != want.method || l["path"] != want.path || l["status"] != want.status ||
			l["caller"] != "app-1" || l["duration"] == nil {
			t.Errorf("line %d = %v, want %s %s %v by app-1 with a duration", i, l, want.method, want.path, want.status)
		}
	}
}
