package expr

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"strings"
)

// UniqueString is ARM's uniqueString(): Microsoft's 64-bit MurmurHash
// variant (two 32-bit lanes, MurmurHash3 x86 constants) of the arguments
// joined with "-" as UTF-8, written as 13 base32 characters from
// "abcdefghijklmnopqrstuvwxyz234567", most significant 5 bits first.
func UniqueString(parts ...string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	h := murmurHash64([]byte(strings.Join(parts, "-")))
	var b [13]byte
	for i := range b {
		b[i] = alphabet[h>>59]
		h <<= 5
	}
	return string(b[:])
}

// murmurHash64 is the MurmurHash64 of Microsoft's
// Azure.Deployments.Core (seed 0): 8-byte blocks into two lanes, then a
// cross-mixed finalization.
func murmurHash64(data []byte) uint64 {
	const (
		c1 = 0x239b961b
		c2 = 0xab0e9789
	)
	var h1, h2 uint32
	n := len(data)
	i := 0
	for ; i+8 <= n; i += 8 {
		k1 := binary.LittleEndian.Uint32(data[i:])
		k2 := binary.LittleEndian.Uint32(data[i+4:])

		k1 *= c1
		k1 = bits.RotateLeft32(k1, 15)
		k1 *= c2
		h1 ^= k1
		h1 = bits.RotateLeft32(h1, 19)
		h1 += h2
		h1 = h1*5 + 0x561ccd1b

		k2 *= c2
		k2 = bits.RotateLeft32(k2, 17)
		k2 *= c1
		h2 ^= k2
		h2 = bits.RotateLeft32(h2, 13)
		h2 += h1
		h2 = h2*5 + 0x0bcaa747
	}
	if tail := data[i:]; len(tail) > 0 {
		var k1 uint32
		for j := min(len(tail), 4) - 1; j >= 0; j-- {
			k1 = k1<<8 | uint32(tail[j])
		}
		k1 *= c1
		k1 = bits.RotateLeft32(k1, 15)
		k1 *= c2
		h1 ^= k1
		if len(tail) > 4 {
			var k2 uint32
			for j := len(tail) - 1; j >= 4; j-- {
				k2 = k2<<8 | uint32(tail[j])
			}
			k2 *= c2
			k2 = bits.RotateLeft32(k2, 17)
			k2 *= c1
			h2 ^= k2
		}
	}
	h1 ^= uint32(n)
	h2 ^= uint32(n)
	h1 += h2
	h2 += h1
	h1 = fmix32(h1)
	h2 = fmix32(h2)
	h1 += h2
	h2 += h1
	return uint64(h2)<<32 | uint64(h1)
}

func fmix32(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// guidNamespace is the RFC 4122 namespace ARM's guid() hashes in.
var guidNamespace = [16]byte{0x11, 0xfb, 0x06, 0xfb, 0x71, 0x2d, 0x4d, 0xdd, 0x98, 0xc7, 0xe7, 0x1b, 0xbd, 0x58, 0x88, 0x30}

// Guid is ARM's guid(): a version 5 (SHA-1) UUID in namespace
// 11fb06fb-712d-4ddd-98c7-e71bbd588830 of the arguments joined with "-",
// as UTF-8.
func Guid(parts ...string) string {
	h := sha1.New()
	h.Write(guidNamespace[:])
	h.Write([]byte(strings.Join(parts, "-")))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return formatUUID(u)
}

func formatUUID(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// newGuid is a version 4 UUID from Context.Rand (crypto/rand when nil).
func newGuid(c *Call) (any, error) {
	r := c.Context().Rand
	if r == nil {
		r = rand.Reader
	}
	var u [16]byte
	if _, err := io.ReadFull(r, u[:]); err != nil {
		return nil, c.Errorf("no random data: %v.", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return formatUUID(u), nil
}
