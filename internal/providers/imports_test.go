// Package providers_test holds the checks that span every provider. There
// is no providers package: each provider is a package of its own beneath
// this directory.
package providers_test

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	module    = "github.com/armlet/armlet"
	providers = module + "/internal/providers/"
)

// TestProvidersImportNoProvider: a provider reaches other providers'
// types only through the engine (capabilities looked up by type name),
// never by importing them, directly or through another package of ours, so
// providers can be added, left out or replaced one at a time. Test files
// may import other providers (a test wires the providers it exercises
// together, as internal/app does), so only the packages' own files count.
func TestProvidersImportNoProvider(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, ent := range entries {
		if !ent.IsDir() {
			continue
		}
		found++
		name := ent.Name()
		t.Run(name, func(t *testing.T) {
			for _, dep := range internalDeps(t, providers+name) {
				if other, ok := strings.CutPrefix(dep.path, providers); ok && !isWithin(other, name) {
					t.Errorf("%s imports provider package %s (via %s); reach it through an engine capability instead", name, dep.path, strings.Join(dep.via, " -> "))
				}
			}
		})
	}
	if found == 0 {
		t.Fatal("no provider packages found")
	}
}

// isWithin reports whether the package path rel (relative to
// internal/providers) belongs to the provider name.
func isWithin(rel, name string) bool {
	return rel == name || strings.HasPrefix(rel, name+"/")
}

// dep is a package of this module that another depends on, with the chain
// of imports that leads to it.
type dep struct {
	path string
	via  []string
}

// internalDeps returns every package of this module that pkg depends on,
// transitively, each with one import chain from pkg (test files left out).
func internalDeps(t *testing.T, pkg string) []dep {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{pkg: true}
	queue := []dep{{path: pkg, via: []string{pkg}}}
	var out []dep
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		dir := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(d.path, module+"/")))
		p, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("reading %s: %v", d.path, err)
		}
		for _, imp := range p.Imports {
			if seen[imp] || !strings.HasPrefix(imp, module+"/") {
				continue
			}
			seen[imp] = true
			next := dep{path: imp, via: append(append([]string(nil), d.via...), imp)}
			out = append(out, next)
			queue = append(queue, next)
		}
	}
	return out
}
