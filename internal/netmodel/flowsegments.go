package netmodel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	// The standard DEFLATE format, written and read about twice as fast as
	// compress/flate's (BENCHMARKS.md): the writer spends a quarter of its
	// time compressing, and prune decompresses what it drops.
	"github.com/klauspost/compress/flate"
)

// Flow records are stored in segments: one key holds the records of one
// batch (or of a part of it), sorted by time, compressed together. A key
// per record made the store's work per request (an etcd key revision, a
// bbolt key) the largest cost of a request on etcd, and records of one
// batch, naming the same caller, resources and roles, compress some ten
// times.
//
// A segment's key is flowKey(time of its first record, sequence number of
// its first record); its records have consecutive sequence numbers and
// span at most segmentSpan, so that a reader looking for the records of a
// time range knows where to start and stop (see List). A value written by
// an armlet before segments is one record's JSON, read as a segment of
// one.
const (
	// segmentSpan bounds the time between the first and last records of a
	// segment.
	segmentSpan = time.Second
	// segmentBytes bounds the JSON of a segment's records before
	// compression, so that the compressed segments of a batch stay well
	// under etcd's request size limit (1.5 MiB by default).
	segmentBytes = 1 << 20
)

// The first byte of a segment value says how its records are kept.
const (
	segmentFlate byte = 1 // records joined by '\n', then DEFLATE-compressed
)

// flowRecord is one encoded record on its way into a segment.
type flowRecord struct {
	t    time.Time
	json []byte
}

// segmenter encodes and reads segments. It is owned by the flow writer
// goroutine, which reuses its compressor and buffers.
type segmenter struct {
	joined []byte // the records joined, before compression
	buf    bytes.Buffer
	zw     *flate.Writer
	// records holds the JSON of a batch's records on their way into
	// segments (encode copies what it keeps).
	records []byte
	reader  segmentReader
}

// cut splits records (sorted by time) into the runs of one segment each.
func cut(records []flowRecord) [][]flowRecord {
	var out [][]flowRecord
	for len(records) > 0 {
		n, size := 1, len(records[0].json)
		for n < len(records) && records[n].t.Sub(records[0].t) <= segmentSpan && size+len(records[n].json)+1 <= segmentBytes {
			size += len(records[n].json) + 1
			n++
		}
		out = append(out, records[:n:n])
		records = records[n:]
	}
	return out
}

// encode returns the value of a segment holding records.
func (s *segmenter) encode(records []flowRecord) []byte {
	s.buf.Reset()
	s.buf.WriteByte(segmentFlate)
	if s.zw == nil {
		s.zw, _ = flate.NewWriter(&s.buf, flate.BestSpeed) // a valid level: no error
	} else {
		s.zw.Reset(&s.buf)
	}
	s.joined = s.joined[:0]
	for i, r := range records {
		if i > 0 {
			s.joined = append(s.joined, '\n')
		}
		s.joined = append(s.joined, r.json...)
	}
	s.zw.Write(s.joined) // a bytes.Buffer's writes do not fail
	s.zw.Close()
	return bytes.Clone(s.buf.Bytes())
}

// segmentRecords returns the JSON of each record of a stored segment
// value, in its order (time).
func segmentRecords(value []byte) ([][]byte, error) {
	var r segmentReader
	return r.records(value)
}

// segmentReader reads segment values, reusing its decompressor and its
// buffer from one value to the next: the records a read returns are valid
// until the next read. The writer's pruning reads every record it drops,
// and these were most of its allocations.
type segmentReader struct {
	zr  io.ReadCloser // a flate reader, reset for each value
	raw []byte
}

// records returns the JSON of each record of value, in its order (time).
func (r *segmentReader) records(value []byte) ([][]byte, error) {
	if len(value) == 0 {
		return nil, errors.New("empty flow segment")
	}
	switch value[0] {
	case '{': // one record, as armlet stored each before segments
		return [][]byte{value}, nil
	case segmentFlate:
		raw, err := r.inflate(value[1:])
		if err != nil {
			return nil, fmt.Errorf("flow segment: %w", err)
		}
		return bytes.Split(raw, []byte{'\n'}), nil
	default:
		return nil, fmt.Errorf("flow segment of unknown format %#x", value[0])
	}
}

// inflate decompresses a DEFLATE stream into r.raw.
func (r *segmentReader) inflate(compressed []byte) ([]byte, error) {
	src := bytes.NewReader(compressed)
	if r.zr == nil {
		r.zr = flate.NewReader(src)
	} else if err := r.zr.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, err
	}
	r.raw = r.raw[:0]
	for {
		if len(r.raw) == cap(r.raw) {
			// Records compress ten to twenty times; never a zero-length
			// read, which a reader may answer with nothing, for ever.
			r.raw = slices.Grow(r.raw, max(16*len(compressed), cap(r.raw), 512))
		}
		n, err := r.zr.Read(r.raw[len(r.raw):cap(r.raw)])
		r.raw = r.raw[:len(r.raw)+n]
		switch {
		case errors.Is(err, io.EOF):
			return r.raw, nil
		case err != nil:
			return nil, err
		}
	}
}

// recordTime reads the time member a record's JSON starts with (as
// appendFlow writes it), without decoding the rest.
func recordTime(rec []byte) (time.Time, error) {
	const prefix = `{"time":"`
	rest, ok := bytes.CutPrefix(rec, []byte(prefix))
	end := bytes.IndexByte(rest, '"')
	if !ok || end < 0 {
		return time.Time{}, errors.New("flow record does not start with its time")
	}
	return time.Parse(time.RFC3339Nano, string(rest[:end]))
}

// sortRecords sorts records by time, keeping the order of equal times.
func sortRecords(records []flowRecord) {
	slices.SortStableFunc(records, func(a, b flowRecord) int { return a.t.Compare(b.t) })
}
