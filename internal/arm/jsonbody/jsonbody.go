// Package jsonbody checks a JSON request body before anything reads it,
// so that every reader sees one interpretation of the body and no body can
// make armlet hold an unbounded number of decoded values.
//
// Check refuses a body in which one object has two members whose names
// are equal ignoring case: ARM's JSON readers match member names ignoring
// case, and so do armlet's (Azure Policy's aliases, the providers'
// schemas, the workspace data plane), but a Go map keeps both spellings,
// and which one a reader then finds depends on the reader, or on map
// iteration order. It also refuses bodies nested deeper than MaxDepth or
// holding more than MaxValues JSON values.
//
// The check is one streaming pass over encoding/json's tokens: it keeps
// the member names of the objects on the current path, never a decoded
// copy of the body.
//
// It imports only package arm.
package jsonbody

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/armlet/armlet/internal/arm"
)

const (
	// MaxDepth is how deeply objects and arrays may nest (the top-level
	// object is depth 1). The deepest bodies armlet takes are Azure
	// Policy rules, where each allOf/anyOf/not level costs two (an object
	// and an array), and Azure ML job definitions, about ten levels deep;
	// 64 leaves room for both and still bounds the recursion of every
	// reader (encoding/json alone would go to 10000).
	MaxDepth = 64
	// MaxValues is how many JSON values (objects, arrays, strings,
	// numbers, booleans and nulls; member names are not counted) one body
	// may hold. The largest real ARM bodies are policy set definitions
	// (at most 1000 member definitions of about ten values each, plus
	// their parameters) at some 25,000 values, and ARM templates, which
	// Azure caps at 4 MB; 100,000 is four times the former. Each value
	// costs armlet some hundreds of bytes once decoded and copied by the
	// engine, policy and a provider, so the limit keeps one request's
	// decoded body in the tens of megabytes however it is shaped.
	MaxValues = 100_000
)

// linearNames is how many member names an object keeps in a slice,
// compared with strings.EqualFold one by one, before it indexes them by
// FoldKey: most objects are small, and a map per object would cost more
// than the comparisons.
const linearNames = 16

// Check reads body as a stream of JSON values and returns a 400
// InvalidRequestContent *arm.Error, whose target is the JSON path (in
// Json.NET's notation, "properties.PublicNetworkAccess", "zones[2]"), at
// the first of:
//
//   - a member whose name equals an earlier member's of the same object,
//     ignoring case (strings.EqualFold, after JSON unescaping);
//   - an object or array nested deeper than MaxDepth;
//   - a value beyond the first MaxValues.
//
// A body that is not well-formed JSON is not refused here: Check stops at
// the first syntax error, having checked everything before it, and
// returns nil, leaving the refusal to the handler, which words it in its
// own service's vocabulary. That leaves no gap: armlet reads bodies only
// with encoding/json, whose tokenizer Check uses, so a reader refuses the
// same syntax errors, and a lenient reader that stops after the first
// value reads only what Check has passed. An empty or all-space body
// passes.
func Check(body []byte) error {
	return check(body, MaxDepth, MaxValues)
}

// frame is one open object or array on the path to the current token.
type frame struct {
	object  bool
	wantKey bool     // objects: the next token is a member name or '}'
	index   int      // arrays: the index of the next element
	key     string   // objects: the member being read
	names   []string // objects: member names so far, while few
	folded  map[string]string
}

// add records member name; it returns the earlier spelling when the
// object already has the name ignoring case.
func (f *frame) add(name string) (string, bool) {
	if f.folded == nil {
		for _, n := range f.names {
			if strings.EqualFold(n, name) {
				return n, true
			}
		}
		if len(f.names) < linearNames {
			f.names = append(f.names, name)
			return "", false
		}
		f.folded = make(map[string]string, 2*linearNames)
		for _, n := range f.names {
			f.folded[FoldKey(n)] = n
		}
	}
	k := FoldKey(name)
	if n, ok := f.folded[k]; ok {
		return n, true
	}
	f.folded[k] = name
	return "", false
}

func check(body []byte, maxDepth, maxValues int) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	// Numbers stay text: converting them could fail on values the
	// readers accept (1e400), which would end the check early.
	dec.UseNumber()
	var stack []frame
	values := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			// io.EOF ends a well-formed body; anything else is a
			// syntax error, the handler's to refuse (see Check).
			return nil
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			valueDone(stack)
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			f := &stack[n-1]
			name, _ := tok.(string) // the tokenizer allows only a string here
			f.key, f.wantKey = name, false
			if prev, dup := f.add(name); dup {
				p := pathOf(stack)
				return arm.InvalidContent(p,
					"The request content was invalid: the member '%s' at %s repeats the member '%s' of the same object. Member names must be unique, ignoring case.",
					name, where(p), prev)
			}
			continue
		}
		values++
		if values > maxValues {
			p := pathOf(stack)
			return arm.InvalidContent(p,
				"The request content was invalid: it holds more than %d JSON values (the limit was reached at %s).", maxValues, where(p))
		}
		if d, ok := tok.(json.Delim); ok {
			if len(stack) >= maxDepth {
				p := pathOf(stack)
				return arm.InvalidContent(p,
					"The request content was invalid: objects and arrays nest deeper than %d levels at %s.", maxDepth, where(p))
			}
			stack = push(stack, d == '{')
			continue
		}
		valueDone(stack)
	}
}

// push opens an object or array, reusing the slot of a closed frame (and
// its names slice) when there is one.
func push(stack []frame, object bool) []frame {
	var names []string
	if len(stack) < cap(stack) {
		names = stack[:len(stack)+1][len(stack)].names[:0]
	}
	return append(stack, frame{object: object, wantKey: object, names: names})
}

// valueDone moves the innermost open frame past a complete value.
func valueDone(stack []frame) {
	if n := len(stack); n > 0 {
		if f := &stack[n-1]; f.object {
			f.wantKey = true
		} else {
			f.index++
		}
	}
}

// pathOf renders the path to the current token in Json.NET's notation:
// members joined by ".", names that are not plain words as ['name'],
// array elements as [i].
func pathOf(stack []frame) string {
	var b strings.Builder
	for _, f := range stack {
		if !f.object {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(f.index))
			b.WriteByte(']')
			continue
		}
		if plainName(f.key) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
			continue
		}
		b.WriteString("['")
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(f.key, `\`, `\\`), `'`, `\'`))
		b.WriteString("']")
	}
	return b.String()
}

func plainName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' && r != '$' && r != '@' {
			return false
		}
	}
	return true
}

func where(path string) string {
	if path == "" {
		return "the top level"
	}
	return "'" + path + "'"
}

// FoldKey returns a string that is the same for two names exactly when
// strings.EqualFold holds for them: every rune is replaced by the
// smallest rune of its Unicode simple case-folding orbit ("k", "K" and
// the Kelvin sign all become "K"), and every invalid UTF-8 byte by
// U+FFFD, as EqualFold decodes it. Readers that look names up ignoring
// case can index by it.
func FoldKey(s string) string {
	ascii, lower := true, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'a' <= c && c <= 'z' {
			lower = true
		}
	}
	if ascii {
		if !lower {
			return s
		}
		return strings.ToUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(minFold(r))
	}
	return b.String()
}

// minFold is the smallest rune of r's simple case-folding orbit.
func minFold(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	return m
}

// QuoteNames returns body with every unquoted object member name quoted
// ({template: 1} becomes {"template": 1}) and whether it changed any.
// Azure's JSON reader (Newtonsoft) takes unquoted names, and the Azure
// CLI sends one: `az deployment group validate|create` splice the
// template into the request as `template:{...}`. Names are what a
// JavaScript identifier may be ([A-Za-z_$][A-Za-z0-9_$]*); anything else
// is left for the strict decoder to refuse.
func QuoteNames(body []byte) ([]byte, bool) {
	var out []byte
	changed := false
	var stack []bool // true: object
	expectName := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(body) && body[j] != '"' {
				if body[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(body) {
				return body, false
			}
			out = append(out, body[i:j+1]...)
			i = j
			expectName = false
			continue
		case c == '{':
			stack = append(stack, true)
			expectName = true
		case c == '[':
			stack = append(stack, false)
			expectName = false
		case c == '}' || c == ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			expectName = false
		case c == ',':
			expectName = len(stack) > 0 && stack[len(stack)-1]
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case expectName && (c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'):
			j := i
			for j < len(body) && (body[j] == '_' || body[j] == '$' || body[j] >= 'a' && body[j] <= 'z' ||
				body[j] >= 'A' && body[j] <= 'Z' || body[j] >= '0' && body[j] <= '9') {
				j++
			}
			out = append(out, '"')
			out = append(out, body[i:j]...)
			out = append(out, '"')
			i = j - 1
			changed, expectName = true, false
			continue
		default:
			expectName = false
		}
		out = append(out, c)
	}
	if !changed {
		return body, false
	}
	return out, true
}
