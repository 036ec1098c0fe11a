package armhttp

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/workspaceapi"
)

type anyCaller struct{}

func (anyCaller) Authenticate(context.Context, string) (engine.Caller, *arm.Error) {
	return engine.Caller{ObjectID: "o", TenantID: "t"}, nil
}

// bodies records the bodies the handlers behind the front door received;
// the workspace endpoint resolves requests as the real one does.
type bodies struct {
	*workspaceapi.Service
	got map[string]string
}

func (b *bodies) Serve(_ context.Context, t *workspaceapi.Target) (*engine.Response, error) {
	b.got["workspace"] = string(t.Request().Body)
	return engine.JSON(http.StatusOK, map[string]any{}), nil
}

func (b *bodies) ServeAdmin(_ context.Context, _ engine.Caller, _ *http.Request, body []byte) (*engine.Response, error) {
	b.got["admin"] = string(body)
	return engine.JSON(http.StatusOK, map[string]any{}), nil
}

// TestBodyCheckedOnce sends bodies with a member twice (differing in
// case) to every route that reads a body: ARM, the workspace endpoint and
// the admin API refuse them before their handler runs, whatever the
// Content-Type; artifact content uploads and the token service, whose
// bodies are not JSON, get them as sent. (The fake authenticator lets
// every caller through and no Authorizer is set, so the body check is
// what refuses.)
func TestBodyCheckedOnce(t *testing.T) {
	const sub = "00000000-0000-0000-0000-00000000000a"
	const ws = "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"
	e, clk := testEngine(t, sub)
	got := &bodies{Service: workspaceapi.New(workspaceapi.Options{Engine: e}), got: map[string]string{}}
	h := Handler(Options{
		Engine: e, Auth: anyCaller{}, Clock: clk, Workspace: got, Admin: got, MaxBodyBytes: 8 << 20,
		Identity: func(mux *http.ServeMux) {
			mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got.got["token"] = string(b)
			})
		},
	})
	const dup = `{"properties":{"publicNetworkAccess":"Disabled","PublicNetworkAccess":"Enabled"},"location":"eastus"}`
	tests := []struct {
		name, method, path, contentType, body string
		wantStatus                            int
		wantTarget                            string // of the 400
		reached                               string // the handler that must have the body, "" for none
	}{
		{"ARM PUT", "PUT", "/subscriptions/" + sub + "/resourceGroups/rg?api-version=2021-04-01", "application/json", dup, 400, "properties.PublicNetworkAccess", ""},
		{"ARM POST as text", "POST", "/subscriptions/" + sub + "/resourceGroups/rg/exportTemplate?api-version=2021-04-01", "text/plain", `{"a":1,"A":2}`, 400, "A", ""},
		{"ARM nested in an array", "PUT", "/subscriptions/" + sub + "/resourceGroups/rg?api-version=2021-04-01", "", `{"location":"eastus","tags":{},"properties":{"x":[{"k":1,"K":2}]}}`, 400, "properties.x[0].K", ""},
		{"ARM too deep", "PUT", "/subscriptions/" + sub + "/resourceGroups/rg?api-version=2021-04-01", "", `{"location":"eastus","managedBy":` + strings.Repeat("[", 80) + strings.Repeat("]", 80) + `}`, 400, "managedBy" + strings.Repeat("[0]", 63), ""},
		{"ARM valid", "PUT", "/subscriptions/" + sub + "/resourceGroups/rg?api-version=2021-04-01", "application/json", `{"location":"eastus"}`, 201, "", ""},
		{"ARM not JSON is the engine's", "PUT", "/subscriptions/" + sub + "/resourceGroups/rg?api-version=2021-04-01", "application/json", `{"location":`, 400, "", ""},
		{"workspace JSON", "POST", "/history/v1.0" + ws + "/experiments/e", "application/json", dup, 400, "properties.PublicNetworkAccess", ""},
		{"workspace JSON sent as octet-stream", "PATCH", "/history/v1.0" + ws + "/experiments/e/runs/r", "application/octet-stream", dup, 400, "properties.PublicNetworkAccess", ""},
		{"artifact upload", "PUT", "/artifact/v2.0" + ws + "/artifacts/ExperimentRun/dcid.r/content?path=a.json", "application/json", dup, 200, "", "workspace"},
		{"artifact upload, other casing", "POST", "/ARTIFACT/v2.0" + ws + "/Artifacts/ExperimentRun/dcid.r/Content?path=a.json", "", dup, 200, "", "workspace"},
		{"admin", "POST", "/_armlet/clock/advance", "application/json", `{"duration":"1m","Duration":"-1m"}`, 400, "Duration", ""},
		{"token service", "POST", "/t/oauth2/v2.0/token", "application/x-www-form-urlencoded", dup, 200, "", "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clear(got.got)
			req := httptest.NewRequest(tt.method, "https://armlet.test"+tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantTarget != "" {
				var env struct{ Error arm.Error }
				if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
					t.Fatal(err)
				}
				if env.Error.Code != arm.CodeInvalidRequestContent || env.Error.Target != tt.wantTarget {
					t.Errorf("error %s target %q (%s), want %s target %q", env.Error.Code, env.Error.Target, env.Error.Message,
						arm.CodeInvalidRequestContent, tt.wantTarget)
				}
			}
			for name, body := range got.got {
				if name != tt.reached {
					t.Errorf("the %s handler ran with %q", name, body)
				}
			}
			if tt.reached != "" && got.got[tt.reached] != tt.body {
				t.Errorf("the %s handler got %q, want the body as sent", tt.reached, got.got[tt.reached])
			}
		})
	}
}
