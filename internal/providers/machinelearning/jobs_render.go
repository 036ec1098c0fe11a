package machinelearning

import "strings"

// renderJobComputed adds the read-only members Azure's job responses
// carry: each service's status and errorMessage, and a command job's
// parameters.
//
// Choice: a service's status and errorMessage are null: Azure fills them
// for the interactive services (JupyterLab, SSH...) it runs, armlet runs
// none;
// a command job's parameters, which Azure resolves at run time, are {}
// unless stored.
func renderJobComputed(props map[string]any) {
	if services, ok := props["services"].(map[string]any); ok {
		for _, v := range services {
			sv, ok := v.(map[string]any)
			if !ok {
				continue
			}
			if _, ok := sv["status"]; !ok {
				sv["status"] = nil
			}
			if _, ok := sv["errorMessage"]; !ok {
				sv["errorMessage"] = nil
			}
		}
	}
	if t, _ := props["jobType"].(string); strings.EqualFold(t, "Command") {
		if _, ok := props["parameters"]; !ok {
			props["parameters"] = map[string]any{}
		}
	}
}
