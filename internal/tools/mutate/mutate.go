package main

import (
	"bytes"
	"cmp"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
)

// A mutation is one flip at one place of one file: the bytes
// [Offset, Offset+len(Old)) read Old and become New, and, for a negated
// condition, a closing parenthesis is inserted at End. Kept as byte
// edits of the original text (not a re-printed AST) so that every other
// byte, and so every other line number, stays as it was.
type mutation struct {
	File   string // absolute path
	Line   int
	Column int
	Offset int
	Old    string
	New    string
	End    int // offset of the ")" closing a negation; -1 for none
	// src is the file's text the mutation was found in, so that a file
	// edited during a run does not misplace its mutants.
	src []byte
}

// String names the mutation as a survivor report shows it.
func (m mutation) String() string {
	if m.End >= 0 {
		return fmt.Sprintf("%s:%d:%d: if c -> if !(c)", m.File, m.Line, m.Column)
	}
	return fmt.Sprintf("%s:%d:%d: %s -> %s", m.File, m.Line, m.Column, m.Old, m.New)
}

// Apply returns src with the mutation made.
func (m mutation) Apply(src []byte) ([]byte, error) {
	if m.Offset < 0 || m.Offset+len(m.Old) > len(src) || !bytes.Equal(src[m.Offset:m.Offset+len(m.Old)], []byte(m.Old)) {
		return nil, fmt.Errorf("%s: the source at offset %d is not %q", m.File, m.Offset, m.Old)
	}
	var out bytes.Buffer
	out.Grow(len(src) + len(m.New) + 1)
	out.Write(src[:m.Offset])
	out.WriteString(m.New)
	if m.End < 0 {
		out.Write(src[m.Offset+len(m.Old):])
		return out.Bytes(), nil
	}
	if m.End < m.Offset+len(m.Old) || m.End > len(src) {
		return nil, fmt.Errorf("%s: the end offset %d is out of range", m.File, m.End)
	}
	out.Write(src[m.Offset+len(m.Old) : m.End])
	out.WriteByte(')')
	out.Write(src[m.End:])
	return out.Bytes(), nil
}

// flipped is the operator a comparison or a logical operator becomes:
// each comparison its negation, && and || each other. ok is false for
// the operators left alone (arithmetic, bitwise).
func flipped(op token.Token) (token.Token, bool) {
	switch op {
	case token.EQL:
		return token.NEQ, true
	case token.NEQ:
		return token.EQL, true
	case token.LSS:
		return token.GEQ, true
	case token.GEQ:
		return token.LSS, true
	case token.GTR:
		return token.LEQ, true
	case token.LEQ:
		return token.GTR, true
	case token.LAND:
		return token.LOR, true
	case token.LOR:
		return token.LAND, true
	}
	return 0, false
}

// Mutations lists the mutations of one file's source, in the order of
// their place in the file (and, at one place, operator before negation),
// so that a run is reproducible:
//   - a comparison flipped to its negation (== and !=, < and >=, > and <=);
//   - && and || swapped;
//   - the condition of an if negated, if c -> if !(c);
//   - a returned true or false swapped.
//
// The operators of constant declarations are left alone: flipping them
// mostly makes code that does not compile, and they decide nothing at
// run time.
func Mutations(path string, src []byte) ([]mutation, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []mutation
	at := func(pos token.Pos, old, new string, end int) {
		p := fset.Position(pos)
		out = append(out, mutation{File: path, Line: p.Line, Column: p.Column, Offset: p.Offset, Old: old, New: new, End: end, src: src})
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GenDecl:
			return n.Tok != token.CONST
		case *ast.BinaryExpr:
			if to, ok := flipped(n.Op); ok {
				at(n.OpPos, n.Op.String(), to.String(), -1)
			}
		case *ast.IfStmt:
			at(n.Cond.Pos(), "", "!(", fset.Position(n.Cond.End()).Offset)
		case *ast.ReturnStmt:
			for _, r := range n.Results {
				if id, ok := r.(*ast.Ident); ok && (id.Name == "true" || id.Name == "false") {
					at(id.Pos(), id.Name, strconv.FormatBool(id.Name != "true"), -1)
				}
			}
		}
		return true
	})
	// ast.Inspect visits an if before the operators of its condition, and
	// a binary expression before its operands; sort by place so the list
	// reads down the file.
	sortMutations(out)
	return out, nil
}

// sortMutations orders by offset; at one offset, a replacement (an
// operator, a literal; End -1) before a negation.
func sortMutations(ms []mutation) {
	slices.SortStableFunc(ms, func(a, b mutation) int {
		return cmp.Or(cmp.Compare(a.Offset, b.Offset), cmp.Compare(a.End, b.End))
	})
}
