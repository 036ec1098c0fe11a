package app_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/e2e"
)

// TestDataDirFileModes: everything armlet writes in its data dir holding a
// secret (the bbolt store, with the token-signing key, the bootstrap
// principal's secret and every datastore and connection secret; the CA
// key; connection.json, with the bootstrap client secret) is readable by
// its owner only, and the data dir by its owner only. The CA certificate
// is public.
func TestDataDirFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e2e.Start(t, e2e.WithConfig(func(c *config.Config) {
		c.DataDir = dir
		c.InMemory = false
	}))
	want := map[string]fs.FileMode{
		".":               fs.ModeDir | 0o700,
		"armlet.db":       0o600,
		"connection.json": 0o600,
		"ca-key.pem":      0o600,
		"ca.pem":          0o644,
	}
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		mode, known := want[rel]
		switch {
		case known:
			seen[rel] = true
			if fi.Mode() != mode {
				t.Errorf("%s: mode %v, want %v", rel, fi.Mode(), mode)
			}
		case fi.Mode().Perm()&0o077 != 0:
			t.Errorf("%s: mode %v; a file armlet writes must not be group- or world-readable", rel, fi.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range want {
		if !seen[rel] {
			t.Errorf("%s was not written", rel)
		}
	}
}
