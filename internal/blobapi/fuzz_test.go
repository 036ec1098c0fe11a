package blobapi

import (
	"bytes"
	"net/url"
	"testing"
)

// FuzzParsers feeds arbitrary input to the parsers of what a client
// sends: a SAS query, a Range header, a Put Block List body and a list
// marker. None may panic; a range they accept lies within the blob.
func FuzzParsers(f *testing.F) {
	f.Add("sv=2022-11-02&ss=b&srt=sco&sp=rwl&se=2099-01-01T00:00:00Z&st=2020-01-01&spr=https&sig=abc", "bytes=0-9",
		`<?xml version="1.0"?><BlockList><Latest>QUFB</Latest><Committed>QkJC</Committed></BlockList>`, "YQ", int64(10))
	f.Add("sv=2020-12-06&sr=c&sp=r&se=2099-01-01&sig=%2B", "bytes=-5", "<BlockList><Uncommitted>!</Uncommitted></BlockList>", "%%", int64(0))
	f.Add("sig=x", "bytes=5-", "<BlockList><Latest><X/></Latest></BlockList>", "", int64(3))
	f.Fuzz(func(t *testing.T, query, rng, blocklist, marker string, size int64) {
		if q, err := url.ParseQuery(query); err == nil {
			if s, ok, err := parseSAS(q); ok && err == nil {
				_ = s.stringToSign("acct1", "ctr", "blob")
			}
		}
		if size >= 0 {
			if off, n, ok, err := parseRange("Range", rng, size); err == nil && ok && (off < 0 || n <= 0 || off+n > size) {
				t.Errorf("range %q of %d: off %d n %d", rng, size, off, n)
			}
		}
		if refs, err := parseBlockList(bytes.NewReader([]byte(blocklist))); err == nil {
			for _, r := range refs {
				if !validBlockID(r.ID) {
					t.Errorf("block list %q: accepted id %q", blocklist, r.ID)
				}
			}
		}
		_, _ = decodeMarker(marker)
	})
}
