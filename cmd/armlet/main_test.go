package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeAndClientCommands runs `armlet serve` through run() on a free
// port, then drives it with the client commands, as a user would.
func TestServeAndClientCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ARMLET_DATA_DIR": dir, "ARMLET_LISTEN": "127.0.0.1:0"}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--legacy-mode-propagation", "0"}, getenv, &out, &errOut) }()

	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "armlet is serving") {
		if time.Now().After(deadline) {
			t.Fatalf("armlet did not start; stderr:\n%s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"az cloud register", "azidentity", "ARM_METADATA_HOSTNAME", "ca.pem"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("startup banner lacks %q:\n%s", want, out.String())
		}
	}
	var conn map[string]any
	raw, err := os.ReadFile(filepath.Join(dir, "connection.json"))
	if err != nil || json.Unmarshal(raw, &conn) != nil {
		t.Fatalf("connection.json: %v %s", err, raw)
	}
	for _, k := range []string{"armEndpoint", "loginEndpoint", "audience", "tenantId", "subscriptionId", "clientId", "clientSecret", "caCertificate"} {
		if s, _ := conn[k].(string); s == "" {
			t.Errorf("connection.json has no %s", k)
		}
	}

	var cmdOut bytes.Buffer
	if code := run(ctx, []string{"principal", "create", "--name", "reader"}, getenv, &cmdOut, &cmdOut); code != 0 {
		t.Fatalf("principal create exited %d: %s", code, cmdOut.String())
	}
	var creds map[string]any
	if err := json.Unmarshal(cmdOut.Bytes(), &creds); err != nil || creds["clientSecret"] == "" || creds["objectId"] == "" {
		t.Fatalf("principal create printed %s", cmdOut.String())
	}
	cmdOut.Reset()
	if code := run(ctx, []string{"clock", "advance", "45m"}, getenv, &cmdOut, &cmdOut); code != 0 || !strings.Contains(cmdOut.String(), `"offset": "45m0s"`) {
		t.Fatalf("clock advance exited %d: %s", code, cmdOut.String())
	}
	cmdOut.Reset()
	if code := run(ctx, []string{"clock", "advance", "-5m"}, getenv, &cmdOut, &cmdOut); code != 1 {
		t.Errorf("clock advance -5m exited %d, want 1: %s", code, cmdOut.String())
	}
	cmdOut.Reset()
	if code := run(ctx, []string{"state", "/subscriptions/x/resourceGroups/none"}, getenv, &cmdOut, &cmdOut); code != 1 || !strings.Contains(cmdOut.String(), "SubscriptionNotFound") && !strings.Contains(cmdOut.String(), "NotFound") {
		t.Errorf("state of a missing resource exited %d: %s", code, cmdOut.String())
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestCommandLineErrors(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"ARMLET_LOG_LEVEL": "loud"}[k] }
	tests := []struct {
		args     []string
		env      func(string) string
		wantCode int
		wantText string
	}{
		{nil, os.Getenv, 2, "Usage"},
		{[]string{"frobnicate"}, os.Getenv, 2, "unknown command"},
		{[]string{"serve", "-h"}, os.Getenv, 0, "ARMLET_LISTEN"},
		{[]string{"serve", "--listen", "nowhere"}, os.Getenv, 1, "listen"},
		{[]string{"serve"}, getenv, 1, "ARMLET_LOG_LEVEL"},
		{[]string{"clock", "advance", "5m", "--data-dir", "/nonexistent"}, os.Getenv, 1, "connection file"},
		{[]string{"principal"}, os.Getenv, 1, "usage"},
		{[]string{"version"}, os.Getenv, 0, "armlet"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			code := run(context.Background(), tt.args, tt.env, &out, &out)
			if code != tt.wantCode || !strings.Contains(out.String(), tt.wantText) {
				t.Errorf("run(%q) = %d %q, want %d containing %q", tt.args, code, out.String(), tt.wantCode, tt.wantText)
			}
		})
	}
}
