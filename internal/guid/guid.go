// Package guid formats random bytes as version 4 GUIDs, the ids ARM and
// Entra ID hand out.
package guid

import "encoding/hex"

// V4 returns b as a version 4, RFC 4122 variant GUID in lower-case
// 8-4-4-4-12 form (the version and variant bits of b are overwritten).
// The caller chooses the randomness: crypto/rand where the id must not be
// guessed, a faster generator where it must only be unique.
func V4(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
