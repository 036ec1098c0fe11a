package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"testing"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// TestFleetAlone checks GET /_armlet/fleet of an armlet alone on its store:
// it leads, under the name it was given or hostname:port.
func TestFleetAlone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, replica, store string
	}{
		{"named, memory", "solo", "memory"},
		{"default name, bbolt", "", "bbolt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := e2e.Start(t, e2e.WithConfig(func(c *config.Config) {
				c.ReplicaName = tc.replica
				c.InMemory = tc.store == "memory"
			}))
			status, _, body := s.Do(t, http.MethodGet, "/_armlet/fleet", "", nil)
			var f struct {
				Replica, Leader, Store string
				Leading                bool
			}
			if status != http.StatusOK || json.Unmarshal([]byte(body), &f) != nil {
				t.Fatalf("GET /_armlet/fleet: %d %s", status, body)
			}
			want := tc.replica
			if want == "" {
				_, port, _ := splitHostPort(s.Conn.ARMEndpoint)
				want = hostname(t) + ":" + port
			}
			if f.Replica != want || f.Leader != want || !f.Leading || f.Store != tc.store {
				t.Fatalf("fleet %+v, want replica and leader %q leading on %s", f, want, tc.store)
			}
		})
	}
}

func splitHostPort(endpoint string) (string, string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", "", err
	}
	return u.Hostname(), u.Port(), nil
}

func hostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
