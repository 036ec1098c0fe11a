package machinelearning

import (
	"strings"

	"github.com/armlet/armlet/internal/engine"
)

// ApprovedRegistryConnections counts the registry r's private endpoint
// connections that are Approved, for the exposure report.
func ApprovedRegistryConnections(r *engine.Resource) int {
	n := 0
	for _, c := range loadRegistryConnections(r) {
		if strings.EqualFold(c.Status, "Approved") {
			n++
		}
	}
	return n
}
