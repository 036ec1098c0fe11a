package armhttp

import (
	"encoding/hex"
	"math/rand/v2"
)

// newRequestID returns a random version 4 UUID for ARM's request and
// correlation ids. It draws from math/rand/v2's per-thread ChaCha8
// generator, not crypto/rand: the ids must be unique, not secret, and
// every request makes one or two.
func newRequestID() string {
	var u [16]byte
	a, b := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		u[i], u[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], u[10:16])
	return string(s[:])
}

// sharedHeaders are header values every response of their kind carries,
// made once per handler: read-only (each slice's length is its capacity,
// so an Add copies it).
type sharedHeaders struct {
	reads, deletes, writes, noCache []string
}

func newSharedHeaders() sharedHeaders {
	return sharedHeaders{reads: []string{"11999"}, deletes: []string{"11999"}, writes: []string{"1199"}, noCache: []string{"no-cache"}}
}
