package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/e2e"
)

// TestUICommand: `armlet ui` prints a new login link that works once, and
// the banner shows the first one.
func TestUICommand(t *testing.T) {
	a := e2e.Start(t)
	getenv := func(k string) string {
		if k == "ARMLET_DATA_DIR" {
			return a.DataDir
		}
		return ""
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"ui"}, getenv, &out, &out); code != 0 {
		t.Fatalf("armlet ui exited %d: %s", code, out.String())
	}
	link := strings.TrimSpace(out.String())
	if !strings.HasPrefix(link, strings.TrimSuffix(a.Conn.ARMEndpoint, "/")+"/ui/login?token=") || link == a.Conn.UIURL {
		t.Fatalf("armlet ui printed %q", link)
	}
	c := *a.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for i, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
		resp, err := c.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("use %d of the link: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	if code := run(context.Background(), []string{"ui", "extra"}, getenv, &out, &out); code != 2 {
		t.Errorf("armlet ui extra exited %d, want 2", code)
	}
	var banner bytes.Buffer
	printBanner(&banner, a.Conn, a.DataDir)
	if !strings.Contains(banner.String(), a.Conn.UIURL) {
		t.Errorf("the banner lacks the login link:\n%s", banner.String())
	}
	if !strings.Contains(banner.String(), "export HTTPS_PROXY="+a.Conn.HTTPSProxy+" SSL_CERT_FILE="+a.Conn.CACertificate) {
		t.Errorf("the banner lacks the proxy way:\n%s", banner.String())
	}
}
