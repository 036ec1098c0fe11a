package identity

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

const (
	testTenant  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testBaseURL = "https://armlet.test:8443"
)

// testStart is the fake clock's start: the brief's example times are one and
// two hours later.
var testStart = time.Date(2026, 11, 23, 16, 4, 5, 0, time.UTC)

// fakeClock is a settable clock.Clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Generating RSA-2048 keys is slow under -race, so most tests seed their
// store with one of two keys made once per test binary.
var (
	keyOnce    sync.Once
	keyPEMs    [2][]byte
	keyPEMsErr error
)

func testKeyPEM(t testing.TB, i int) []byte {
	t.Helper()
	keyOnce.Do(func() {
		for j := range keyPEMs {
			keyPEMs[j], _, keyPEMsErr = generateSigningKey(testStart.Add(-24 * time.Hour))
			if keyPEMsErr != nil {
				return
			}
		}
	})
	if keyPEMsErr != nil {
		t.Fatal(keyPEMsErr)
	}
	return keyPEMs[i]
}

// newSeededStore returns an in-memory store holding test signing key i.
func newSeededStore(t testing.TB, i int) kv.Store {
	t.Helper()
	st := memkv.New()
	if _, err := kv.SpaceIdentity.Of(st).Txn(context.Background(), kv.Put([]byte(keySigningKey), testKeyPEM(t, i))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fixture is a Service on a seeded store with a fake clock and one principal.
type fixture struct {
	svc   *Service
	store kv.Store
	clk   *fakeClock
	app   Credentials
	// requests is set by serveWith: what the test server received.
	requests *requestLog
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureOn(t, newSeededStore(t, 0), testBaseURL)
}

func newFixtureOn(t testing.TB, st kv.Store, baseURL string) *fixture {
	t.Helper()
	clk := newFakeClock(testStart)
	svc, err := New(context.Background(), Options{Store: kv.SpaceIdentity.Of(st), Clock: clk, BaseURL: baseURL, TenantID: testTenant})
	if err != nil {
		t.Fatal(err)
	}
	app, err := svc.CreatePrincipal(context.Background(), "test-app")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, store: st, clk: clk, app: app}
}

// token issues a token for the fixture's principal.
func (f *fixture) token(t testing.TB, resource string) string {
	t.Helper()
	tok, err := f.svc.IssueToken(context.Background(), f.app.ClientID, resource)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// claims returns the claims the service would put in a token for the
// fixture's principal, for tests that sign modified claims themselves.
func (f *fixture) claims() map[string]any {
	now := f.clk.Now().Unix()
	return map[string]any{
		"aud": "https://management.core.windows.net/", "iss": f.svc.issuer,
		"iat": now, "nbf": now, "exp": now + 3600,
		"appid": f.app.ClientID, "appidacr": "1", "idtyp": "app",
		"oid": f.app.ObjectID, "sub": f.app.ObjectID, "tid": testTenant, "ver": "1.0",
	}
}

// signed signs claims with the service's own key.
func (f *fixture) signed(t testing.TB, claims map[string]any) string {
	t.Helper()
	tok, err := f.svc.key.sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// flakyStore fails Get and Scan while fail is set.
type flakyStore struct {
	kv.Store
	fail atomic.Bool
}

var errFlaky = errors.New("flaky: store unavailable")

func (s *flakyStore) Get(ctx context.Context, key []byte) (kv.Entry, error) {
	if s.fail.Load() {
		return kv.Entry{}, errFlaky
	}
	return s.Store.Get(ctx, key)
}

func (s *flakyStore) Scan(ctx context.Context, prefix, after []byte, limit int) ([]kv.Entry, error) {
	if s.fail.Load() {
		return nil, errFlaky
	}
	return s.Store.Scan(ctx, prefix, after, limit)
}
