// Package jsonenc encodes the generic JSON values armlet keeps (what
// encoding/json decodes into an any: map[string]any, []any, string,
// bool, float64, json.Number, nil) byte for byte as encoding/json's
// Marshal does, without reflection: keys sorted, <, > and & escaped,
// invalid UTF-8 replaced. Resources are stored and answered in this form
// on every write and first read, where Marshal's reflection and its
// boxed map keys were a large part of the CPU and the allocations.
//
// Other types are handed to encoding/json, so Append accepts whatever
// Marshal does and gives the same bytes and errors.
package jsonenc

import (
	"encoding/json"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Marshal is json.Marshal(v).
func Marshal(v any) ([]byte, error) {
	return Append(make([]byte, 0, 256), v)
}

// Append appends json.Marshal(v) to dst. On an error dst is returned as
// it was (its spare capacity may have been written).
func Append(dst []byte, v any) ([]byte, error) {
	out, err := appendValue(dst, v, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// maxDepth is the nesting past which values go to encoding/json, which
// detects a cycle (a map holding itself) where recursing here would not
// end. Decoded JSON is at most 10,000 levels deep (Go's decoder), but
// armlet's bodies are refused past Azure's 64.
const maxDepth = 1000

func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return appendMarshal(dst, v)
	}
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return AppendString(dst, t), nil
	case bool:
		return strconv.AppendBool(dst, t), nil
	case float64:
		return appendFloat(dst, t)
	case json.Number:
		return appendNumber(dst, t)
	case int:
		return strconv.AppendInt(dst, int64(t), 10), nil
	case int64:
		return strconv.AppendInt(dst, t, 10), nil
	case map[string]any:
		if t == nil {
			return append(dst, "null"...), nil
		}
		return appendObject(dst, t, func(dst []byte, v any) ([]byte, error) { return appendValue(dst, v, depth+1) })
	case []any:
		if t == nil {
			return append(dst, "null"...), nil
		}
		return appendArray(dst, t, func(dst []byte, v any) ([]byte, error) { return appendValue(dst, v, depth+1) })
	case map[string]string:
		if t == nil {
			return append(dst, "null"...), nil
		}
		return appendObject(dst, t, func(dst []byte, v string) ([]byte, error) { return AppendString(dst, v), nil })
	case []string:
		if t == nil {
			return append(dst, "null"...), nil
		}
		return appendArray(dst, t, func(dst []byte, v string) ([]byte, error) { return AppendString(dst, v), nil })
	case map[string]json.RawMessage:
		if t == nil {
			return append(dst, "null"...), nil
		}
		return appendObject(dst, t, AppendRaw)
	case json.RawMessage:
		return AppendRaw(dst, t)
	default:
		return appendMarshal(dst, v)
	}
}

// appendMarshal appends json.Marshal(v).
func appendMarshal(dst []byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// appendArray appends a, each element through value.
func appendArray[V any](dst []byte, a []V, value func([]byte, V) ([]byte, error)) ([]byte, error) {
	dst = append(dst, '[')
	for i, e := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = value(dst, e); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

// appendObject appends m with its keys in order, each value through
// value.
func appendObject[V any](dst []byte, m map[string]V, value func([]byte, V) ([]byte, error)) ([]byte, error) {
	var stack [16]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = value(dst, m[k]); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// AppendRaw appends raw as json.Marshal(json.RawMessage(raw)) does: a nil
// one as null, otherwise compacted with <, > and & escaped, or an error
// when it is not valid JSON. Raw JSON that is already in that form (what
// Marshal made) is copied after one validity scan.
func AppendRaw(dst []byte, raw json.RawMessage) ([]byte, error) {
	if raw == nil {
		return append(dst, "null"...), nil
	}
	if json.Valid(raw) && compactAndSafe(raw) {
		return append(dst, raw...), nil
	}
	return appendMarshal(dst, raw)
}

// compactAndSafe reports whether valid JSON b has no byte Marshal would
// change: no whitespace between tokens, and no <, >, & or U+2028/U+2029
// (0xE2 starts them) anywhere. Whitespace inside strings counts too: a
// false answer only costs the slow path.
func compactAndSafe(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r', '<', '>', '&', 0xE2:
			return false
		}
	}
	return true
}

func appendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		// Marshal's own error, with its message.
		_, err := json.Marshal(f)
		return dst, err
	}
	// Marshal's form: like %g, with ES6's exponent cutoffs, the exponent
	// not padded to two digits.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

func appendNumber(dst []byte, n json.Number) ([]byte, error) {
	if n == "" {
		return append(dst, '0'), nil
	}
	if !validNumber(string(n)) {
		_, err := json.Marshal(n) // Marshal's own error
		return dst, err
	}
	return append(dst, n...), nil
}

// validNumber is JSON's number grammar (RFC 8259, section 6).
func validNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	return s == ""
}

const hex = "0123456789abcdef"

// plain holds the bytes a JSON string carries as they are: printable
// ASCII but for the quote, the backslash and Marshal's HTML escapes. A
// table lookup is a third faster than the comparisons it replaces.
var plain = func() (t [utf8.RuneSelf]bool) {
	for b := byte(0x20); b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// plainWords reads s eight bytes at a time and returns the index of the
// first byte plain does not pass, or, when there is none in its whole
// words, their length (the last len(s)%8 bytes are the caller's to read).
// In each word, a byte that is not ASCII, is below 0x20 or is one of the
// five escaped sets its high bit in m; a borrow can set the bit of a byte
// above a flagged one, never below, so the lowest flag is exact.
func plainWords(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		t := s[i : i+8]
		w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		q := w ^ ones*'"'
		bs := w ^ ones*'\\'
		lt := w ^ ones*'<'
		gt := w ^ ones*'>'
		amp := w ^ ones*'&'
		m := (w | (w-ones*0x20)&^w |
			(q-ones)&^q | (bs-ones)&^bs | (lt-ones)&^lt | (gt-ones)&^gt | (amp-ones)&^amp) & highs
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	return i
}

// AppendString appends s as a JSON string the way Marshal writes it.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Resource ids and names are long plain runs: skip them a word
		// at a time.
		if i += plainWords(s[i:]); i >= len(s) {
			break
		}
		if b := s[i]; b < utf8.RuneSelf {
			if plain[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
