package identity

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/armlet/armlet/internal/guid"
)

// newGUID returns a random (version 4) GUID in lower-case 8-4-4-4-12 form.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return guid.V4(b)
}

// isGUID reports whether s has the 8-4-4-4-12 hex form (any case).
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// newSecret returns a random 40-character URL-safe secret (240 bits). It
// never starts with '-' or '_', so it can follow a command-line flag such as
// `az login -p` without being mistaken for an option.
func newSecret() string {
	for {
		var b [30]byte
		_, _ = rand.Read(b[:])
		s := base64.RawURLEncoding.EncodeToString(b[:])
		if s[0] != '-' && s[0] != '_' {
			return s
		}
	}
}

// randomID returns n random bytes in unpadded base64url, for opaque claim
// values (uti, aio, rh).
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
