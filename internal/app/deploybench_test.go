package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// BenchmarkDeploy200Resources measures a deployment of a template of 200
// independent virtual networks, each a long-running create, with the
// default 1 s operation duration, from the PUT to the deployment's
// Succeeded (issue 16's target: under 5 s, since independent resources run
// in parallel):
//
//	go test ./internal/app -run '^$' -bench Deploy200 -benchtime 3x
func BenchmarkDeploy200Resources(b *testing.B) {
	s := e2e.Start(b, e2e.WithConfig(func(c *config.Config) { c.OperationDuration = config.Default().OperationDuration }))
	group := s.CreateGroup(b, "bench-deploy")
	var resources []string
	for i := range 200 {
		resources = append(resources, fmt.Sprintf(`{"type":"Microsoft.Network/virtualNetworks","apiVersion":"2023-09-01","name":"[concat('v%d-', parameters('run'))]","location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.%d.%d.0/24"]}}}`, i, i/256, i%256))
	}
	tmpl := `{"parameters":{"run":{"type":"string"}},"resources":[` + strings.Join(resources, ",") + `]}`
	b.ResetTimer()
	for i := range b.N {
		path := fmt.Sprintf("%s/providers/Microsoft.Resources/deployments/bench%d", group, i)
		body := `{"properties":{"mode":"Incremental","template":` + tmpl + `,"parameters":{"run":{"value":"r` + fmt.Sprint(i) + `"}}}}`
		start := time.Now()
		if status, _, resp := s.Do(b, "PUT", path+"?api-version=2022-09-01", body, nil); status != http.StatusCreated {
			b.Fatalf("PUT: %d %s", status, resp)
		}
		for {
			_, _, resp := s.Do(b, "GET", path+"?api-version=2022-09-01", "", nil)
			if strings.Contains(resp, `"provisioningState":"Succeeded"`) {
				break
			}
			if strings.Contains(resp, `"provisioningState":"Failed"`) {
				b.Fatalf("deployment failed: %s", resp)
			}
			time.Sleep(20 * time.Millisecond)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/deployment")
	}
}
