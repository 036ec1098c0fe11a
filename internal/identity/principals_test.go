package identity

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

var (
	guidRE   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	secretRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{39}$`)
)

func TestCreatePrincipal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.svc.CreatePrincipal(ctx, "ci-deployer")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "ci-deployer" || !guidRE.MatchString(c.ClientID) || !guidRE.MatchString(c.ObjectID) ||
		!secretRE.MatchString(c.ClientSecret) || c.TenantID != testTenant || c.ClientID == c.ObjectID {
		t.Fatalf("credentials = %+v", c)
	}
	p, err := f.svc.Principal(ctx, strings.ToUpper(c.ClientID))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != c.Name || p.ClientID != c.ClientID || p.ObjectID != c.ObjectID || p.TenantID != testTenant || !p.Created.Equal(testStart) {
		t.Errorf("principal = %+v", p)
	}
	if p2, err := f.svc.PrincipalByObjectID(ctx, strings.ToUpper(c.ObjectID)); err != nil || p2.ClientID != c.ClientID {
		t.Errorf("PrincipalByObjectID = %+v, %v", p2, err)
	}

	// The secret is stored only as a hash.
	e, err := f.store.Get(ctx, []byte("identity/principals/"+c.ClientID))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(e.Value, []byte(c.ClientSecret)) || !bytes.Contains(e.Value, []byte(hashSecret(c.ClientSecret))) {
		t.Errorf("stored record %s", e.Value)
	}

	list, err := f.svc.ListPrincipals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ClientID > list[1].ClientID {
		t.Errorf("ListPrincipals = %+v", list)
	}

	if _, err := f.svc.Principal(ctx, newGUID()); !errors.Is(err, ErrPrincipalNotFound) {
		t.Errorf("unknown principal: %v", err)
	}
	if _, err := f.svc.Principal(ctx, "../signing-key"); !errors.Is(err, ErrPrincipalNotFound) {
		t.Errorf("path-like client id: %v", err)
	}
	if err := f.svc.DeletePrincipal(ctx, newGUID()); !errors.Is(err, ErrPrincipalNotFound) {
		t.Errorf("delete unknown: %v", err)
	}
	if err := f.svc.DeletePrincipal(ctx, c.ClientID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Principal(ctx, c.ClientID); !errors.Is(err, ErrPrincipalNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

func TestPrincipalNames(t *testing.T) {
	f := newFixture(t)
	for name, ok := range map[string]bool{
		"":                             false,
		"a":                            true,
		strings.Repeat("n", 128):       true,
		strings.Repeat("n", 129):       false,
		strings.Repeat("é", 128):       true,
		" leading":                     false,
		"trailing ":                    false,
		"tab\tinside":                  false,
		"new\nline":                    false,
		"bad utf8 \xff":                false,
		"Data Scientist (team 1) ü/ok": true,
	} {
		_, err := f.svc.CreatePrincipal(context.Background(), name)
		if ok != (err == nil) {
			t.Errorf("CreatePrincipal(%q) error = %v, want ok=%v", name, err, ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("CreatePrincipal(%q) error %v does not wrap ErrInvalidName", name, err)
		}
	}
}

func TestBootstrap(t *testing.T) {
	st := newSeededStore(t, 0)
	ctx := context.Background()
	a := newFixtureOn(t, st, testBaseURL)
	b := newFixtureOn(t, st, testBaseURL)

	// Concurrent first calls on two replicas agree.
	var wg sync.WaitGroup
	got := make([]Credentials, 8)
	errs := make([]error, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := a.svc
			if i%2 == 1 {
				svc = b.svc
			}
			got[i], errs[i] = svc.Bootstrap(ctx)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("Bootstrap calls disagree: %+v vs %+v", got[i], got[0])
		}
	}
	boot := got[0]
	if boot.Name != BootstrapName || !secretRE.MatchString(boot.ClientSecret) || boot.TenantID != testTenant {
		t.Fatalf("bootstrap = %+v", boot)
	}
	// One bootstrap principal exists (plus the two fixtures' apps).
	list, _ := a.svc.ListPrincipals(ctx)
	n := 0
	for _, p := range list {
		if p.Name == BootstrapName {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d bootstrap principals stored", n)
	}

	// A restart returns the same credentials, and they work.
	c := newFixtureOn(t, st, testBaseURL)
	again, err := c.svc.Bootstrap(ctx)
	if err != nil || again != boot {
		t.Fatalf("after restart: %+v, %v; want %+v", again, err, boot)
	}
	if err := c.svc.DeletePrincipal(ctx, boot.ClientID); !errors.Is(err, ErrBootstrapPrincipal) {
		t.Errorf("deleting bootstrap: %v", err)
	}
	tok, err := c.svc.IssueToken(ctx, boot.ClientID, DefaultAudiences[0])
	if err != nil {
		t.Fatal(err)
	}
	caller, aerr := a.svc.Authenticate(ctx, "Bearer "+tok.AccessToken)
	if aerr != nil || caller.Name != BootstrapName || caller.ObjectID != boot.ObjectID {
		t.Fatalf("bootstrap token: %+v, %v", caller, aerr)
	}
}

// The signing key is made once and shared: a second Service on the same
// store (a restart or another replica) verifies tokens of the first, even
// when both start together on an empty store.
func TestSigningKeyPersistence(t *testing.T) {
	ctx := context.Background()
	st := memkv.New()
	defer st.Close()

	svcs := make([]*Service, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range svcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svcs[i], errs[i] = New(ctx, Options{Store: kv.SpaceIdentity.Of(st), BaseURL: testBaseURL, TenantID: testTenant})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if svcs[0].key.kid != svcs[1].key.kid {
		t.Fatalf("replicas started together disagree on the key: %s vs %s", svcs[0].key.kid, svcs[1].key.kid)
	}
	app, err := svcs[0].CreatePrincipal(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := svcs[0].IssueToken(ctx, app.ClientID, DefaultAudiences[0])
	if err != nil {
		t.Fatal(err)
	}
	restarted, err := New(ctx, Options{Store: kv.SpaceIdentity.Of(st), BaseURL: testBaseURL, TenantID: testTenant})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range []*Service{svcs[1], restarted} {
		if _, aerr := s.Authenticate(ctx, "Bearer "+tok.AccessToken); aerr != nil {
			t.Errorf("service %d: %v", i, aerr)
		}
	}

	// Everything identity stores is under "identity/", and the key is PEM.
	all, err := st.Scan(ctx, nil, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if !strings.HasPrefix(string(e.Key), "identity/") {
			t.Errorf("key %q outside identity/", e.Key)
		}
	}
	e, err := st.Get(ctx, []byte("identity/signing-key"))
	if err != nil || !bytes.HasPrefix(e.Value, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Errorf("signing key entry: %v %.40q", err, e.Value)
	}
}

func TestNewErrors(t *testing.T) {
	ctx := context.Background()
	st := newSeededStore(t, 0)
	bad := []Options{
		{BaseURL: testBaseURL, TenantID: testTenant},
		{Store: kv.SpaceArmlet.Of(st), BaseURL: testBaseURL, TenantID: testTenant},
		{Store: kv.SpaceIdentity.Of(st), BaseURL: "", TenantID: testTenant},
		{Store: kv.SpaceIdentity.Of(st), BaseURL: "127.0.0.1:8443", TenantID: testTenant},
		{Store: kv.SpaceIdentity.Of(st), BaseURL: "ftp://x", TenantID: testTenant},
		{Store: kv.SpaceIdentity.Of(st), BaseURL: testBaseURL, TenantID: "contoso"},
		{Store: kv.SpaceIdentity.Of(st), BaseURL: testBaseURL, TenantID: testTenant, TokenLifetime: 48 * 3600e9},
		{Store: kv.SpaceIdentity.Of(st), BaseURL: testBaseURL, TenantID: testTenant, Audiences: []string{""}},
	}
	for i, o := range bad {
		if _, err := New(ctx, o); err == nil {
			t.Errorf("options %d accepted: %+v", i, o)
		}
	}
	// A corrupt stored key is an error, never silently replaced.
	corrupt := memkv.New()
	defer corrupt.Close()
	if _, err := kv.SpaceIdentity.Of(corrupt).Txn(ctx, kv.Put([]byte(keySigningKey), []byte("not pem"))); err != nil {
		t.Fatal(err)
	}
	if _, err := New(ctx, Options{Store: kv.SpaceIdentity.Of(corrupt), BaseURL: testBaseURL, TenantID: testTenant}); err == nil {
		t.Error("corrupt key accepted")
	}
	// Trailing slash on BaseURL is removed.
	s, err := New(ctx, Options{Store: kv.SpaceIdentity.Of(st), BaseURL: testBaseURL + "/", TenantID: testTenant})
	if err != nil || s.BaseURL() != testBaseURL || s.ADFSAuthority() != testBaseURL+"/adfs" {
		t.Errorf("BaseURL = %q, %v", s.BaseURL(), err)
	}
}

// TestExportImportPrincipals: the principals but the bootstrap one export
// with their secret's hash; imported into another store they keep their
// ids and their secret works there; a principal that exists is skipped,
// a clear secret is hashed, a missing object id is made, and a file's
// bad members are refused naming the member.
func TestExportImportPrincipals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	boot, err := f.svc.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exported, err := f.svc.ExportPrincipals(ctx)
	if err != nil || len(exported) != 1 || exported[0].ClientID != f.app.ClientID || exported[0].SecretSHA256 != hashSecret(f.app.ClientSecret) {
		t.Fatalf("ExportPrincipals = %+v, %v (bootstrap %s)", exported, err, boot.ClientID)
	}

	g := newFixture(t)
	if created, err := g.svc.ImportPrincipal(ctx, exported[0]); err != nil || !created {
		t.Fatalf("import: %v %v", created, err)
	}
	if created, err := g.svc.ImportPrincipal(ctx, exported[0]); err != nil || created {
		t.Fatalf("import again: %v %v", created, err)
	}
	p, err := g.svc.FindPrincipal(ctx, strings.ToUpper(f.app.ObjectID))
	if err != nil || p.ClientID != f.app.ClientID || p.TenantID != testTenant {
		t.Fatalf("FindPrincipal by object id = %+v, %v", p, err)
	}
	rec, err := g.svc.principalRecord(ctx, f.app.ClientID)
	if err != nil || !rec.secretMatches(f.app.ClientSecret) {
		t.Fatalf("the imported principal's secret does not match: %v", err)
	}

	clear := Exported{Name: "seeded", ClientID: newGUID(), ClientSecret: "s3cret"}
	if created, err := g.svc.ImportPrincipal(ctx, clear); err != nil || !created {
		t.Fatalf("import with a clear secret: %v %v", created, err)
	}
	rec, err = g.svc.principalRecord(ctx, clear.ClientID)
	if err != nil || !guidRE.MatchString(rec.ObjectID) || !rec.secretMatches("s3cret") {
		t.Fatalf("seeded principal = %+v, %v", rec, err)
	}
	taken := Exported{Name: "thief", ClientID: newGUID(), ObjectID: f.app.ObjectID, ClientSecret: "x"}
	var pe *PrincipalError
	if _, err := g.svc.ImportPrincipal(ctx, taken); !errors.As(err, &pe) || pe.Field != "objectId" {
		t.Fatalf("import of a taken object id: %v", err)
	}

	for _, tt := range []struct {
		p     Exported
		field string
	}{
		{Exported{Name: "", ClientID: newGUID(), ClientSecret: "x"}, "name"},
		{Exported{Name: "a", ClientID: "nope", ClientSecret: "x"}, "clientId"},
		{Exported{Name: "a", ClientID: newGUID(), ObjectID: "nope", ClientSecret: "x"}, "objectId"},
		{Exported{Name: "a", ClientID: newGUID()}, "clientSecret"},
		{Exported{Name: "a", ClientID: newGUID(), ClientSecret: "x", SecretSHA256: hashSecret("x")}, "clientSecret"},
		{Exported{Name: "a", ClientID: newGUID(), SecretSHA256: "abc"}, "secretSha256"},
	} {
		err := CheckExported(tt.p)
		if !errors.As(err, &pe) || pe.Field != tt.field || !errors.Is(err, ErrInvalidPrincipal) {
			t.Errorf("CheckExported(%+v) = %v, want the field %s", tt.p, err, tt.field)
		}
	}
	if err := CheckExported(Exported{Name: "", ClientID: newGUID(), ClientSecret: "x"}); !errors.Is(err, ErrInvalidName) {
		t.Errorf("an empty name is not ErrInvalidName: %v", err)
	}
}
