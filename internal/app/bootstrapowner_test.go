package app_test

import (
	"net/http"
	"testing"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
	"github.com/armlet/armlet/internal/providers/authorization"
)

// TestBootstrapOwnerMadeAgainAtStart holds the README's promise that the
// bootstrap principal's Owner assignment at "/" is made again at start
// when it was deleted: the principal deletes it, is refused from then on,
// and after a restart on the same data dir is Owner again.
func TestBootstrapOwnerMadeAgainAtStart(t *testing.T) {
	dataDir := t.TempDir()
	onDisk := func(c *config.Config) { c.InMemory = false; c.DataDir = dataDir }
	s := e2e.Start(t, e2e.WithConfig(onDisk))
	owner := authorization.OwnerAssignmentID(s.Conn.ObjectID).String() + "?api-version=2022-04-01"
	groups := "/subscriptions/" + s.Conn.SubscriptionID + "/resourcegroups?api-version=2021-04-01"
	if code, _, out := s.Do(t, "GET", owner, "", nil); code != http.StatusOK {
		t.Fatalf("GET the bootstrap Owner assignment = %d %s", code, out)
	}
	if code, _, out := s.Do(t, "DELETE", owner, "", nil); code != http.StatusOK && code != http.StatusNoContent {
		t.Fatalf("DELETE the bootstrap Owner assignment = %d %s", code, out)
	}
	if code, _, _ := s.Do(t, "GET", groups, "", nil); code != http.StatusForbidden {
		t.Fatalf("after deleting its Owner assignment the bootstrap principal lists groups: %d, want 403", code)
	}
	s.Close()

	s2 := e2e.Start(t, e2e.WithConfig(onDisk))
	if code, _, out := s2.Do(t, "GET", groups, "", nil); code != http.StatusOK {
		t.Errorf("after a restart the bootstrap principal lists groups: %d %s, want 200", code, out)
	}
	if code, _, out := s2.Do(t, "GET", owner, "", nil); code != http.StatusOK {
		t.Errorf("after a restart the Owner assignment is %d %s, want made again", code, out)
	}
}
