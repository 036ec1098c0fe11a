package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/e2e"
)

// armErr decodes an ARM error body (empty strings for any other body).
func armErr(body string) (code, target, message string) {
	var env struct {
		Error struct{ Code, Target, Message string } `json:"error"`
	}
	_ = json.Unmarshal([]byte(body), &env)
	return env.Error.Code, env.Error.Target, env.Error.Message
}

// TestBodyStructureLimitsOverTLS sends, over TLS with a real token and the
// default body size limit, the resource group PUT whose managedBy of 1.3
// million numbers (2.6 MB) used to be stored and listed, eight at once:
// each is a 400 InvalidRequestContent naming the value limit, and no
// group is created.
func TestBodyStructureLimitsOverTLS(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	rg := "/subscriptions/" + s.Conn.SubscriptionID + "/resourceGroups/huge-managedby?api-version=2021-04-01"
	body := `{"location":"eastus","managedBy":[` + strings.TrimSuffix(strings.Repeat("0,", 1_300_000), ",") + `]}`
	if len(body) > 4<<20 {
		t.Fatalf("body of %d bytes is over the size limit; the test is about its structure", len(body))
	}
	token := s.Token(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPut, strings.TrimSuffix(s.Conn.ARMEndpoint, "/")+rg, strings.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := s.Client.Do(req)
			if err != nil {
				t.Errorf("PUT with a huge managedBy: %v", err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code, target, msg := armErr(string(b))
			if resp.StatusCode != http.StatusBadRequest || code != "InvalidRequestContent" || !strings.Contains(msg, "more than 100000 JSON values") ||
				!strings.HasPrefix(target, "managedBy[") {
				t.Errorf("PUT with a huge managedBy = %d %s target %q: %s", resp.StatusCode, code, target, msg)
			}
		})
	}
	wg.Wait()
	deep := `{"location":"eastus","tags":{},"properties":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat("}", 71)
	if st, _, b := s.Do(t, http.MethodPut, rg, deep, nil); st != http.StatusBadRequest || !strings.Contains(b, "deeper than 64 levels") {
		t.Errorf("PUT nested 71 deep = %d %s", st, b)
	}
	if st, _, b := s.Do(t, http.MethodGet, rg, "", nil); st != http.StatusNotFound {
		t.Errorf("GET of the refused group = %d %s", st, b)
	}
}

// TestDuplicateMemberWithDenyPolicyOverTLS is the reproduction:
// with the built-in "workspaces should disable public network access"
// assigned with effect Deny, a workspace PUT with publicNetworkAccess
// Disabled and PublicNetworkAccess Enabled is a 400 InvalidRequestContent
// naming properties.PublicNetworkAccess, and nothing is stored. A body
// spelling the member once, in any case, is judged by the policy on the
// value the workspace gets, and so is a PATCH spelling it differently
// from the stored workspace.
func TestDuplicateMemberWithDenyPolicyOverTLS(t *testing.T) {
	t.Parallel()
	s := e2e.Start(t)
	sub := "/subscriptions/" + s.Conn.SubscriptionID
	rg := sub + "/resourceGroups/dup-rg"
	if st, _, b := s.Do(t, http.MethodPut, rg+"?api-version=2021-04-01", `{"location":"eastus"}`, nil); st != http.StatusCreated {
		t.Fatalf("create group: %d %s", st, b)
	}
	if st, _, b := s.Do(t, http.MethodPut, rg+"/providers/Microsoft.Authorization/policyAssignments/deny-public?api-version=2022-06-01",
		`{"properties":{"policyDefinitionId":"`+polBuiltInPNA+`","parameters":{"effect":{"value":"Deny"}}}}`, nil); st != http.StatusCreated {
		t.Fatalf("assign the policy: %d %s", st, b)
	}
	const ws = "/providers/Microsoft.MachineLearningServices/workspaces/"
	const v = "?api-version=2024-04-01"

	st, _, b := s.Do(t, http.MethodPut, rg+ws+"dup"+v,
		`{"location":"eastus","properties":{"publicNetworkAccess":"Disabled","PublicNetworkAccess":"Enabled"}}`, nil)
	if code, target, msg := armErr(b); st != http.StatusBadRequest || code != "InvalidRequestContent" || target != "properties.PublicNetworkAccess" ||
		!strings.Contains(msg, "properties.PublicNetworkAccess") {
		t.Fatalf("PUT with the member twice = %d %s target %q: %s", st, code, target, msg)
	}
	if st, _, b := s.Do(t, http.MethodGet, rg+ws+"dup"+v, "", nil); st != http.StatusNotFound {
		t.Errorf("GET of the refused workspace = %d %s", st, b)
	}

	st, _, b = s.Do(t, http.MethodPut, rg+ws+"upper"+v, `{"location":"eastus","properties":{"PublicNetworkAccess":"Enabled"}}`, nil)
	if code, _, _ := armErr(b); st != http.StatusForbidden || code != "RequestDisallowedByPolicy" {
		t.Errorf("PUT with PublicNetworkAccess Enabled = %d %s", st, b)
	}

	if st, _, b := s.Do(t, http.MethodPut, rg+ws+"closed"+v, `{"location":"eastus","properties":{"publicNetworkAccess":"Disabled"}}`, nil); st != http.StatusAccepted {
		t.Fatalf("PUT of a closed workspace = %d %s", st, b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, b := s.Do(t, http.MethodGet, rg+ws+"closed"+v, "", nil)
		if strings.Contains(b, `"provisioningState":"Succeeded"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workspace never succeeded: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	st, _, b = s.Do(t, http.MethodPatch, rg+ws+"closed"+v, `{"properties":{"PublicNetworkAccess":"Enabled"}}`, nil)
	if code, _, _ := armErr(b); st != http.StatusForbidden || code != "RequestDisallowedByPolicy" {
		t.Errorf("PATCH to PublicNetworkAccess Enabled = %d %s", st, b)
	}
	if _, _, b := s.Do(t, http.MethodGet, rg+ws+"closed"+v, "", nil); !strings.Contains(b, `"publicNetworkAccess":"Disabled"`) {
		t.Errorf("the closed workspace changed: %s", b)
	}
}
