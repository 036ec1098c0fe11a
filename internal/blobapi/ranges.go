package blobapi

import (
	"net/http"
	"strconv"
	"strings"
)

// parseRange reads a Range or x-ms-range value ("bytes=start-end",
// "bytes=start-" or "bytes=-suffix") for a blob of size bytes. ok is
// false for no range. A range that starts past the end is 416
// InvalidRange (Content-Range "bytes */size"); a malformed one or a list
// of ranges is 400 InvalidHeaderValue naming the header.
func parseRange(header, v string, size int64) (off, n int64, ok bool, err error) {
	if v == "" {
		return 0, size, false, nil
	}
	bad := badHeader(header, "The value for one of the HTTP headers is not in the correct format.")
	spec, found := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, bad
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false, bad
	}
	num := func(s string) (int64, bool) {
		if s == "" || len(s) > 19 || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	var start, end int64
	switch {
	case a == "":
		suffix, ok := num(b)
		if !ok || suffix == 0 {
			return 0, 0, false, bad
		}
		start, end = max(size-suffix, 0), size-1
	default:
		var ok bool
		if start, ok = num(a); !ok {
			return 0, 0, false, bad
		}
		end = size - 1
		if b != "" {
			if end, ok = num(b); !ok || end < start {
				return 0, 0, false, bad
			}
			end = min(end, size-1)
		}
	}
	if start >= size {
		e := storageErr(http.StatusRequestedRangeNotSatisfiable, CodeInvalidRange, "The range specified is invalid for the current size of the resource.")
		e.Header = http.Header{"Content-Range": {"bytes */" + strconv.FormatInt(size, 10)}}
		return 0, 0, false, e
	}
	return start, end - start + 1, true, nil
}
