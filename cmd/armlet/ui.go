package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// uiCmd is `armlet ui`: it prints a new one-time login link of the web UI
// (the one in connection.json works once).
func uiCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	c, _, err := clientFlags("ui", args, getenv, nil, noArguments)
	if err != nil {
		return err
	}
	raw, err := c.send(ctx, http.MethodPost, "/_armlet/ui/login", nil)
	if err != nil {
		return err
	}
	var out struct {
		UIURL string `json:"uiUrl"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.UIURL == "" {
		return fmt.Errorf("unexpected answer to a login link request: %s", raw)
	}
	_, err = fmt.Fprintln(stdout, out.UIURL)
	return err
}
