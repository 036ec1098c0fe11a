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

// TestAdminAPIBootstrapOnly holds the README's choice that the admin API
// is open to the bootstrap principal only: another principal, Owner of the
// default subscription, gets 403 AuthorizationFailed from every admin
// route, reads and writes alike, and nothing it asked for happens (the
// principal it tried to make does not exist).
func TestAdminAPIBootstrapOnly(t *testing.T) {
	t.Parallel()
	a := e2e.Start(t)
	p, cred := a.NewPrincipal(t, "owner")
	a.Assign(t, "/subscriptions/"+a.Conn.SubscriptionID, "Owner", p.ObjectID)
	auth := map[string]string{"Authorization": "Bearer " + a.TokenOf(t, cred)}
	if st := principalReads(t, a, auth["Authorization"][len("Bearer "):]); st != http.StatusOK {
		t.Fatalf("the Owner's ARM read: %d", st)
	}
	routes := []struct{ method, path, body string }{
		{http.MethodGet, "/_armlet/principals", ""},
		{http.MethodPost, "/_armlet/principals", `{"name":"made-by-owner"}`},
		{http.MethodDelete, "/_armlet/principals/" + a.Conn.ObjectID, ""},
		{http.MethodGet, "/_armlet/clock", ""},
		{http.MethodPost, "/_armlet/clock/advance", `{"duration":"1m"}`},
		{http.MethodGet, "/_armlet/export", ""},
		{http.MethodPost, "/_armlet/reset", `{"confirm":true}`},
		{http.MethodGet, "/_armlet/reports/exposure", ""},
		{http.MethodGet, "/_armlet/flows", ""},
		{http.MethodPost, "/_armlet/ui/login", "{}"},
	}
	for _, r := range routes {
		st, _, body := a.Do(t, r.method, r.path, r.body, auth)
		if st != http.StatusForbidden || !strings.Contains(body, `"code":"AuthorizationFailed"`) {
			t.Errorf("%s %s as the Owner: %d %s, want 403 AuthorizationFailed", r.method, r.path, st, body)
		}
	}
	if st, _, body := a.Do(t, http.MethodGet, "/_armlet/principals", "", nil); st != http.StatusOK || strings.Contains(body, "made-by-owner") {
		t.Errorf("principals after the refused create: %d %s", st, body)
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
