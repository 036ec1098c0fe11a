package engine

import (
	"net/http"
	"testing"
)

// TestWithTerminalState: a Location operation's final answer keeps the
// resource only when its body shows a terminal state a poller can read.
func TestWithTerminalState(t *testing.T) {
	tests := []struct {
		name     string
		resp     *Response
		wantBody bool
	}{
		{"provisioningState", JSON(http.StatusOK, map[string]any{"properties": map[string]any{"provisioningState": "Succeeded"}}), true},
		{"top-level status", JSON(http.StatusOK, map[string]any{"status": "Succeeded"}), true},
		{"a rule's status under properties only", JSON(http.StatusOK, map[string]any{"properties": map[string]any{"status": "Active"}}), false},
		{"no properties", JSON(http.StatusOK, map[string]any{"name": "x"}), false},
		{"not a 200", JSON(http.StatusCreated, map[string]any{"name": "x"}), true},
		{"no body", &Response{Status: http.StatusNoContent}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withTerminalState(tt.resp)
			if (got.Body != nil) != tt.wantBody || got.Status != tt.resp.Status {
				t.Errorf("got %d %v, want the body kept: %v", got.Status, got.Body, tt.wantBody)
			}
		})
	}
}
