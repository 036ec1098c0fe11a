package app_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/google/uuid"
)

// BenchmarkGETAccessControl measures a whole GET of a workspace over
// HTTPS keep-alive (token validation, RBAC, the engine, the flow record)
// on an armlet with no access-control objects beyond the bootstrap
// principal's Owner assignment, and on one with 1,000 role assignments
// and 100 policy assignments in scope of the workspace (issue 5's
// target: their cost stays under 5 % of a GET). Compare the two ns/op:
//
//	go test ./internal/app -run '^$' -bench GETAccessControl -count 5
func BenchmarkGETAccessControl(b *testing.B) {
	for _, loaded := range []bool{false, true} {
		name := "baseline"
		if loaded {
			name = "1000-role-assignments-100-policy-assignments"
		}
		b.Run(name, func(b *testing.B) {
			s := e2e.Start(b, e2e.WithConfig(func(c *config.Config) { c.InMemory = false }))
			sub := "/subscriptions/" + s.Conn.SubscriptionID
			rg := sub + "/resourceGroups/bench-rg"
			ws := rg + "/providers/Microsoft.MachineLearningServices/workspaces/bench-ws"
			benchMust(b, s, "PUT", rg+"?api-version=2021-04-01", `{"location":"eastus"}`)
			benchMust(b, s, "PUT", ws+"?api-version=2024-04-01", `{"location":"eastus","properties":{"publicNetworkAccess":"Disabled"}}`)
			if loaded {
				scopes := []string{sub, rg, ws}
				reader := sub + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
				for i := range 1000 {
					body := fmt.Sprintf(`{"properties":{"roleDefinitionId":%q,"principalId":%q,"principalType":"ServicePrincipal"}}`, reader, uuid.NewString())
					benchMust(b, s, "PUT", scopes[i%len(scopes)]+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2022-04-01", body)
				}
				for i := range 100 {
					body := `{"properties":{"policyDefinitionId":"/providers/Microsoft.Authorization/policyDefinitions/` + polBuiltInPNAName + `"}}`
					benchMust(b, s, "PUT", scopes[i%2]+fmt.Sprintf("/providers/Microsoft.Authorization/policyAssignments/p%d?api-version=2022-06-01", i), body)
				}
			}
			url := s.Conn.ARMEndpoint + ws[1:] + "?api-version=2024-04-01"
			token := "Bearer " + s.Token(b)
			get := func() {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("Authorization", token)
				resp, err := s.Client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET = %d", resp.StatusCode)
				}
			}
			get() // the connection and the caches, outside the timing
			b.ResetTimer()
			for b.Loop() {
				get()
			}
		})
	}
}

// benchMust sends a request that must succeed.
func benchMust(b testing.TB, s *e2e.Armlet, method, path, body string) {
	b.Helper()
	if code, _, out := s.Do(b, method, path, body, nil); code >= 300 {
		b.Fatalf("%s %s = %d %s", method, path, code, out)
	}
}
