package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/memkv"
)

// TestSharedAuthority starts two replicas' CAs on one store: the second
// adopts the first's, writes it to its own data dir, and certificates
// either issues verify against either's ca.pem.
func TestSharedAuthority(t *testing.T) {
	ctx := context.Background()
	raw := memkv.New()
	store := kv.SpaceSharedCA.Of(raw)
	now := time.Now()
	dir1, dir2 := t.TempDir(), t.TempDir()
	a1, err := SharedAuthority(ctx, store, dir1, now)
	if err != nil {
		t.Fatal(err)
	}
	// dir2 already has a CA of its own from an earlier solo start.
	if _, err := LoadOrCreateAuthority(dir2, now); err != nil {
		t.Fatal(err)
	}
	a2, err := SharedAuthority(ctx, store, dir2, now)
	if err != nil {
		t.Fatal(err)
	}
	if !a1.Certificate().Equal(a2.Certificate()) {
		t.Fatal("the second replica did not adopt the shared CA")
	}
	if _, err := raw.Get(ctx, []byte("certs\x00ca")); err != nil {
		t.Fatalf("the shared CA is not at its key of old: %v", err)
	}
	pem1, _ := os.ReadFile(filepath.Join(dir1, CAFile))
	pem2, _ := os.ReadFile(filepath.Join(dir2, CAFile))
	if len(pem1) == 0 || !bytes.Equal(pem1, pem2) {
		t.Fatal("the data dirs hold different ca.pem files")
	}
	// The adopted files load on their own, as a later solo start would.
	again, err := LoadOrCreateAuthority(dir2, now)
	if err != nil || !again.Certificate().Equal(a1.Certificate()) {
		t.Fatalf("reloading the adopted CA: %v", err)
	}
	leaf, err := a2.Leaf(nil, "armlet.example")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(leaf.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: a1.Pool(), DNSName: "armlet.example"}); err != nil {
		t.Fatalf("a leaf of replica 2 does not verify against replica 1's CA: %v", err)
	}
	// A third start finds the record and changes nothing.
	a3, err := SharedAuthority(ctx, store, dir1, now)
	if err != nil || !a3.Certificate().Equal(a1.Certificate()) {
		t.Fatalf("restart: %v", err)
	}
}

func TestSharedAuthorityRefusesCorruptRecord(t *testing.T) {
	ctx := context.Background()
	raw := memkv.New()
	store := kv.SpaceSharedCA.Of(raw)
	if _, err := store.Txn(ctx, kv.Put(sharedCAKey, []byte("{not json"))); err != nil {
		t.Fatal(err)
	}
	if _, err := SharedAuthority(ctx, store, t.TempDir(), time.Now()); err == nil {
		t.Fatal("a corrupt shared CA record was accepted")
	}
	if _, err := SharedAuthority(ctx, kv.SpaceArmlet.Of(raw), t.TempDir(), time.Now()); err == nil {
		t.Fatal("a view of another space was accepted")
	}
}
