// Package foldcase compares and lower-cases the case-insensitive names of
// ARM (types, namespaces, ids) without allocating on the request path.
package foldcase

import (
	"strings"
	"unicode/utf8"
)

// AppendLower appends strings.ToLower(s) to dst. ASCII is lowered in
// place, byte by byte; anything else goes through strings.ToLower, so the
// result is always strings.ToLower's.
//
// A map keyed by lower-cased strings is then read without a new string:
// m[string(AppendLower(buf[:0], name))] (the compiler does not copy a
// []byte converted only for a map index).
func AppendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(dst, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// HasPrefix reports whether s begins with prefix, ignoring case as
// strings.EqualFold does.
func HasPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// HasSuffix reports whether s ends with suffix, ignoring case as
// strings.EqualFold does.
func HasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
