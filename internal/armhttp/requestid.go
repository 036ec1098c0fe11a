package armhttp

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/armlet/armlet/internal/guid"
)

// newRequestID returns a random version 4 UUID for ARM's request and
// correlation ids. It draws from math/rand/v2's per-thread ChaCha8
// generator, not crypto/rand: the ids must be unique, not secret, and
// every request makes one or two.
func newRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return guid.V4(b)
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
