package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/armlet/armlet/internal/kv"
)

// sharedCAKey is the key, in kv.SpaceSharedCA, of the CA that replicas
// sharing a store (etcd) all use, so that a client trusts one CA whichever
// replica answers.
var sharedCAKey = []byte("ca")

// storedCA is the stored form of the shared CA: PEM certificate and key.
type storedCA struct {
	Certificate string `json:"certificate"`
	Key         string `json:"key"`
}

// SharedAuthority returns the CA of the replicas sharing the store of
// store, the view of kv.SpaceSharedCA. On the
// first start of the fleet, the first replica to get there stores its local
// CA (LoadOrCreateAuthority of dir) as the fleet's, with a conditional put,
// and every other replica adopts that one: it writes the shared certificate
// and key over its own in dir, so that <dir>/ca.pem is what its clients
// must trust.
func SharedAuthority(ctx context.Context, store kv.View, dir string, now time.Time) (*Authority, error) {
	if store.Space() != kv.SpaceSharedCA {
		return nil, fmt.Errorf("certs: the shared CA lives in %v, not %v", kv.SpaceSharedCA, store.Space())
	}
	for range 3 {
		ent, err := store.Get(ctx, sharedCAKey)
		switch {
		case err == nil:
			return adoptAuthority(ent.Value, dir, now)
		case !errors.Is(err, kv.ErrNotFound):
			return nil, fmt.Errorf("certs: read the shared CA: %w", err)
		}
		local, err := LoadOrCreateAuthority(dir, now)
		if err != nil {
			return nil, err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(local.key)
		if err != nil {
			return nil, fmt.Errorf("certs: encode CA key: %w", err)
		}
		val, err := json.Marshal(storedCA{
			Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: local.cert.Raw})),
			Key:         string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		})
		if err != nil {
			return nil, err
		}
		_, err = store.Txn(ctx, kv.Put(sharedCAKey, val).If(kv.Absent))
		if err == nil {
			return local, nil
		}
		if !errors.Is(err, kv.ErrConflict) {
			return nil, fmt.Errorf("certs: store the shared CA: %w", err)
		}
		// Another replica stored its CA first: adopt it.
	}
	return nil, errors.New("certs: the shared CA keeps changing")
}

// adoptAuthority parses the stored CA and writes it to dir.
func adoptAuthority(val []byte, dir string, now time.Time) (*Authority, error) {
	var s storedCA
	if err := json.Unmarshal(val, &s); err != nil {
		return nil, fmt.Errorf("certs: corrupt shared CA record: %w", err)
	}
	cert, err := parseCertPEM([]byte(s.Certificate))
	if err != nil {
		return nil, fmt.Errorf("certs: shared CA: %w", err)
	}
	signer, err := parseKeyPEM([]byte(s.Key))
	if err != nil {
		return nil, fmt.Errorf("certs: shared CA key: %w", err)
	}
	key, ok := signer.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("certs: the shared CA key does not match its certificate")
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("certs: the shared CA expired on %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	certPath := filepath.Join(absDir, CAFile)
	// Key first, as createAuthority does: ca.pem marks a complete CA.
	if err := writeFileAtomic(filepath.Join(absDir, CAKeyFile), []byte(s.Key), 0o600); err != nil {
		return nil, fmt.Errorf("certs: write CA key: %w", err)
	}
	if err := writeFileAtomic(certPath, []byte(s.Certificate), 0o644); err != nil {
		return nil, fmt.Errorf("certs: write CA certificate: %w", err)
	}
	return newAuthority(certPath, cert, key), nil
}
