package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const source = `package p

const big = 1 < 2

func f(a, b int, ok bool) bool {
	if a == b && ok {
		return true
	}
	for a < b || a >= 10 {
		a++
	}
	return a+b > 3
}
`

// TestMutations lists every mutation of a small file, in the file's order,
// each applied: the mutated line is the expected one and the mutant still
// parses. The constant declaration has none.
func TestMutations(t *testing.T) {
	ms, err := Mutations("p.go", []byte(source))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line, column int
		mutated      string
	}{
		{6, 5, "\tif !(a == b && ok) {"},
		{6, 7, "\tif a != b && ok {"},
		{6, 12, "\tif a == b || ok {"},
		{7, 10, "\t\treturn false"},
		{9, 8, "\tfor a >= b || a >= 10 {"},
		{9, 12, "\tfor a < b && a >= 10 {"},
		{9, 17, "\tfor a < b || a < 10 {"},
		{12, 13, "\treturn a+b <= 3"},
	}
	if len(ms) != len(want) {
		t.Fatalf("%d mutations %v, want %d", len(ms), ms, len(want))
	}
	for i, m := range ms {
		mutant, err := m.Apply([]byte(source))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "p.go", mutant, 0); err != nil {
			t.Errorf("%v: the mutant does not parse: %v", m, err)
		}
		lines := strings.Split(string(mutant), "\n")
		if w := want[i]; m.Line != w.line || m.Column != w.column || lines[m.Line-1] != w.mutated {
			t.Errorf("mutation %d at %d:%d makes %q, want at %d:%d %q", i, m.Line, m.Column, lines[m.Line-1], w.line, w.column, w.mutated)
		}
	}
}

// TestApplyRefusesAChangedSource: a mutation applied to a source that no
// longer reads what it was made from fails instead of writing nonsense.
func TestApplyRefusesAChangedSource(t *testing.T) {
	ms, err := Mutations("p.go", []byte(source))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ms[1].Apply([]byte("package p\n")); err == nil {
		t.Fatal("applied to another source")
	}
}

// TestSample: a sample is deterministic for a seed, keeps the file order,
// and differs between seeds; 0 means all.
func TestSample(t *testing.T) {
	all := make([]mutation, 50)
	for i := range all {
		all[i] = mutation{Offset: i}
	}
	offsets := func(ms []mutation) []int {
		var out []int
		for _, m := range ms {
			out = append(out, m.Offset)
		}
		return out
	}
	a, b, c := offsets(sample(all, 10, 7)), offsets(sample(all, 10, 7)), offsets(sample(all, 10, 8))
	if len(a) != 10 || !slices.Equal(a, b) || !slices.IsSorted(a) || slices.Equal(a, c) {
		t.Fatalf("seed 7 %v, again %v, seed 8 %v", a, b, c)
	}
	if got := sample(all, 0, 7); len(got) != len(all) {
		t.Fatalf("sample 0 kept %d of %d", len(got), len(all))
	}
}

// TestRunOnAModule runs the whole check on a module of one function whose
// test looks at a positive argument only: the flips that change its answer
// there are killed, the one that changes only a negative argument's
// answer survives and is reported with its place, and the source file is
// left as it was (the mutants live in an overlay).
func TestRunOnAModule(t *testing.T) {
	dir := t.TempDir()
	const fn = "package p\n\nfunc Pos(a int) bool {\n\tif a > 0 {\n\t\treturn true\n\t}\n\treturn false\n}\n"
	files := map[string]string{
		"go.mod":    "module example.com/p\n\ngo 1.26\n",
		"p.go":      fn,
		"p_test.go": "package p\n\nimport \"testing\"\n\nfunc TestPos(t *testing.T) {\n\tif !Pos(1) {\n\t\tt.Fatal(\"Pos(1)\")\n\t}\n}\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	var out strings.Builder
	if err := run(t.Context(), []string{"-timeout", "1m", "."}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"survived: p.go:7:9: false -> true\n",
		"total: 4 run, 3 killed (0 by timeout), 1 survived, 0 not compiled, 0 not run",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if got, err := os.ReadFile(filepath.Join(dir, "p.go")); err != nil || string(got) != fn {
		t.Errorf("p.go changed: %q %v", got, err)
	}
}
