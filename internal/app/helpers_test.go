package app_test

// The end-to-end helpers (starting armlet, requests, tokens, principals,
// workspaces, the Azure CLI, waiting) are in internal/e2e; what is here
// serves several files of this package only.

import "encoding/json"

// mustJSON is v as JSON.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
