package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/e2e"
)

// principalReads reports the status of a GET of the default subscription
// with token.
func principalReads(t *testing.T, a *e2e.Armlet, token string) int {
	t.Helper()
	st, _, _ := a.Do(t, http.MethodGet, "/subscriptions/"+a.Conn.SubscriptionID+"?api-version=2022-12-01", "", map[string]string{"Authorization": "Bearer " + token})
	return st
}

// readerToken makes a principal with Reader on the default subscription
// (on a) and returns it with a token it got from a.
func readerToken(t *testing.T, a *e2e.Armlet, name string) (e2e.Principal, string) {
	t.Helper()
	p, cred := a.NewPrincipal(t, name)
	a.Assign(t, "/subscriptions/"+a.Conn.SubscriptionID, "Reader", p.ObjectID)
	return p, a.TokenOf(t, cred)
}

// TestPrincipalDelete: DELETE /_armlet/principals/{id} deletes a principal
// by object id or client id, and a token it got before is refused (401)
// by the very next request; an unknown id is 404, a malformed one 400, and
// the bootstrap principal cannot be deleted (409).
func TestPrincipalDelete(t *testing.T) {
	t.Parallel()
	a := e2e.Start(t)
	p, token := readerToken(t, a, "leaving")
	if st := principalReads(t, a, token); st != http.StatusOK {
		t.Fatalf("the principal's read before the delete: %d", st)
	}
	st, _, body := a.Do(t, http.MethodDelete, "/_armlet/principals/"+strings.ToUpper(p.ObjectID), "", nil)
	if st != http.StatusOK || !strings.Contains(body, p.ClientID) {
		t.Fatalf("delete by object id: %d %s", st, body)
	}
	if st := principalReads(t, a, token); st != http.StatusUnauthorized {
		t.Fatalf("the deleted principal's token right after the delete: %d, want 401", st)
	}
	if st, _, body := a.Do(t, http.MethodGet, "/_armlet/principals", "", nil); st != http.StatusOK || strings.Contains(body, p.ClientID) {
		t.Fatalf("principals after the delete: %d %s", st, body)
	}

	q, _ := a.NewPrincipal(t, "also-leaving")
	if st, _, body := a.Do(t, http.MethodDelete, "/_armlet/principals/"+q.ClientID, "", nil); st != http.StatusOK {
		t.Fatalf("delete by client id: %d %s", st, body)
	}
	tests := []struct {
		name, id, code string
		status         int
	}{
		{"deleted already", p.ObjectID, "PrincipalNotFound", http.StatusNotFound},
		{"unknown", "00000000-1111-2222-3333-444444444444", "PrincipalNotFound", http.StatusNotFound},
		{"not a GUID", "leaving", "InvalidPrincipalId", http.StatusBadRequest},
		{"bootstrap by client id", a.Conn.ClientID, "BootstrapPrincipalCannotBeDeleted", http.StatusConflict},
		{"bootstrap by object id", a.Conn.ObjectID, "BootstrapPrincipalCannotBeDeleted", http.StatusConflict},
	}
	for _, tt := range tests {
		st, _, body := a.Do(t, http.MethodDelete, "/_armlet/principals/"+tt.id, "", nil)
		if st != tt.status || !strings.Contains(body, `"code":"`+tt.code+`"`) || !strings.Contains(body, tt.id) {
			t.Errorf("%s: delete = %d %s, want %d %s naming the id", tt.name, st, body, tt.status, tt.code)
		}
	}
	if st := principalReads(t, a, a.Token(t)); st != http.StatusOK {
		t.Errorf("the bootstrap principal after the refused deletes: %d", st)
	}
}

// TestEtcdPrincipalDelete: with two replicas on one etcd, a principal
// deleted through one is refused by the other, whose cache had just let
// its token through, as soon as the delete reaches it through the etcd
// watch, well within the 5 s after which a replica rechecks a cached
// principal anyway.
func TestEtcdPrincipalDelete(t *testing.T) {
	a, b := etcdReplicas(t)
	p, token := readerToken(t, a, "leaving-the-fleet")
	e2e.WaitFor(t, "the role assignment to reach the other replica", func() bool { return principalReads(t, b, token) == http.StatusOK })
	deleted := time.Now()
	if st, _, body := a.Do(t, http.MethodDelete, "/_armlet/principals/"+p.ClientID, "", nil); st != http.StatusOK {
		t.Fatalf("delete: %d %s", st, body)
	}
	if st := principalReads(t, a, token); st != http.StatusUnauthorized {
		t.Fatalf("the replica that deleted it: %d, want 401", st)
	}
	e2e.WaitFor(t, "the other replica to refuse the deleted principal's token", func() bool {
		return principalReads(t, b, token) == http.StatusUnauthorized
	})
	if took := time.Since(deleted); took > 3*time.Second {
		t.Errorf("the other replica refused the token after %v: the watch did not carry the delete", took)
	}
}
