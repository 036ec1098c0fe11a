package proxy_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// outbound are the standard library's ways to open a connection or send
// a request elsewhere: package path, then the names in it.
var outbound = map[string][]string{
	"net":                    {"Dial", "DialTimeout", "DialTCP", "DialUDP", "DialIP", "DialUnix", "Dialer"},
	"crypto/tls":             {"Dial", "DialWithDialer", "Dialer"},
	"net/http":               {"Transport", "Client", "DefaultClient", "DefaultTransport", "Get", "Post", "Head", "PostForm", "NewRequest", "NewRequestWithContext"},
	"net/http/httputil":      {"ReverseProxy", "NewSingleHostReverseProxy"},
	"golang.org/x/net/proxy": nil, // any of it
}

// TestNeverDials is the design check behind "armlet never connects
// outside": the proxy's code (every non-test file of the package) names
// none of the standard library's dialers, HTTP clients or reverse
// proxies, so a CONNECT can only be answered by armlet itself or refused
// (TestRefusals shows the refusal and that a listener the CONNECT names
// is never reached).
func TestNeverDials(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		local := map[string]string{} // the name a file uses for an import, to its path
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			n := path[strings.LastIndex(path, "/")+1:]
			if imp.Name != nil {
				n = imp.Name.Name
			}
			local[n] = path
			if names, ok := outbound[path]; ok && names == nil {
				t.Errorf("%s imports %s", name, path)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			for _, bad := range outbound[local[pkg.Name]] {
				if sel.Sel.Name == bad {
					t.Errorf("%s: %s.%s could connect outside", fset.Position(sel.Pos()), local[pkg.Name], bad)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no source file checked")
	}
}
