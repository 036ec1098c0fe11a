package blobapi

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/kv"
)

// Azure's size limits of a single-shot upload and of one block (service
// versions 2019-12-12 and later).
const (
	maxPutBlob  = 5000 << 20
	maxPutBlock = 4000 << 20
)

// maxRangeMD5 is the largest range whose MD5 Get Blob computes on request
// (x-ms-range-get-content-md5), as in Azure.
const maxRangeMD5 = 4 << 20

// newETag is a blob's ETag for a write at t: Azure's form, "0x" and hex.
func newETag(t time.Time) string { return fmt.Sprintf(`"0x%X"`, t.UnixNano()) }

// conditions checks a request's If-Match, If-None-Match,
// If-Modified-Since and If-Unmodified-Since against blob b (nil when
// there is none). A read whose If-None-Match or If-Modified-Since fails is
// not modified (304, no body); a write with If-None-Match "*" on an
// existing blob is 409 BlobAlreadyExists (how SDKs avoid overwriting);
// any other failed condition is 412 ConditionNotMet.
func conditions(h http.Header, b *blobRecord, write bool) (notModified bool, err error) {
	etag, modified := "", time.Time{}
	if b != nil {
		etag, modified = b.ETag, b.Modified.Truncate(time.Second)
	}
	if v := h.Get("If-Match"); v != "" && (b == nil || !etagIn(v, etag)) {
		if b == nil && !write {
			return false, blobNotFound()
		}
		return false, conditionNotMet()
	}
	if v := h.Get("If-Unmodified-Since"); v != "" && b != nil {
		t, err := http.ParseTime(v)
		if err != nil {
			return false, badHeader("If-Unmodified-Since", "The value for one of the HTTP headers is not in the correct format.")
		}
		if modified.After(t) {
			return false, conditionNotMet()
		}
	}
	if v := h.Get("If-None-Match"); v != "" && b != nil && etagIn(v, etag) {
		switch {
		case !write:
			return true, nil
		case strings.TrimSpace(v) == "*":
			return false, storageErr(http.StatusConflict, CodeBlobAlreadyExists, "The specified blob already exists.")
		}
		return false, conditionNotMet()
	}
	if v := h.Get("If-Modified-Since"); v != "" && b != nil {
		t, err := http.ParseTime(v)
		if err != nil {
			return false, badHeader("If-Modified-Since", "The value for one of the HTTP headers is not in the correct format.")
		}
		if !modified.After(t) {
			if !write {
				return true, nil
			}
			return false, conditionNotMet()
		}
	}
	return false, nil
}

// etagIn reports whether the If-Match / If-None-Match list v names etag
// ("*" names any).
func etagIn(v, etag string) bool {
	for t := range strings.SplitSeq(v, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == etag || `"`+t+`"` == etag {
			return true
		}
	}
	return false
}

// contentHeaders reads the blob's content headers a write sets: Put Blob
// takes x-ms-blob-content-* or, for type, encoding, language, disposition
// and cache control, the request's own headers; Put Block List and Set
// Blob Properties only the x-ms-blob-content-* ones.
func contentHeaders(b *blobRecord, h http.Header, ownToo bool) error {
	get := func(x, own string) string {
		if v := h.Get(x); v != "" || !ownToo {
			return v
		}
		return h.Get(own)
	}
	b.ContentType = get("x-ms-blob-content-type", "Content-Type")
	b.ContentEncoding = get("x-ms-blob-content-encoding", "Content-Encoding")
	b.ContentLanguage = get("x-ms-blob-content-language", "Content-Language")
	b.ContentDisposition = get("x-ms-blob-content-disposition", "Content-Disposition")
	b.CacheControl = get("x-ms-blob-cache-control", "Cache-Control")
	if v := h.Get("x-ms-blob-content-md5"); v != "" {
		if sum, err := base64.StdEncoding.DecodeString(v); err != nil || len(sum) != md5.Size {
			return badHeader("x-ms-blob-content-md5", "The value for one of the HTTP headers is not in the correct format.")
		}
		b.ContentMD5 = v
	}
	return nil
}

// checkMD5 compares a transactional Content-MD5 with what was received.
func checkMD5(h http.Header, got []byte) error {
	v := h.Get("Content-MD5")
	if v == "" {
		return nil
	}
	want, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(want) != md5.Size {
		return badHeader("Content-MD5", "The value for one of the HTTP headers is not in the correct format.")
	}
	if !bytes.Equal(want, got) {
		return storageErr(http.StatusBadRequest, CodeMD5Mismatch, "The MD5 value specified in the request did not match with the MD5 value calculated by the server.")
	}
	return nil
}

// receive streams the request body into a new content file, refusing a
// body over max or one without a Content-Length. The MD5 of the content
// is computed when digest (sum is nil otherwise) and whenever the request
// has a Content-MD5 to check it against.
func (s *Service) receive(q *request, max int64, digest bool) (name string, size int64, sum []byte, err error) {
	if q.r.ContentLength < 0 {
		return "", 0, nil, storageErr(http.StatusLengthRequired, CodeMissingContentLength, "Content-Length HTTP header is missing.")
	}
	if q.r.ContentLength > max {
		return "", 0, nil, storageErr(http.StatusRequestEntityTooLarge, CodeRequestBodyTooLarge,
			"The request body is too large and exceeds the maximum permissible limit (%d bytes).", max)
	}
	name, size, sum, err = s.files.write(q.r.Body, max, digest || q.r.Header.Get("Content-MD5") != "")
	switch {
	case errors.Is(err, errNoContentStore):
		return "", 0, nil, storageErr(http.StatusNotImplemented, CodeNotImplemented,
			"armlet keeps blob content in its data dir, which replicas on the etcd store do not share: on etcd it stores no blob content.")
	case errors.Is(err, errTooLarge):
		return "", 0, nil, storageErr(http.StatusRequestEntityTooLarge, CodeRequestBodyTooLarge, "The request body is too large and exceeds the maximum permissible limit (%d bytes).", max)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "", 0, nil, err
	case errors.Is(err, syscall.ENOSPC):
		return "", 0, nil, storageErr(http.StatusServiceUnavailable, CodeServerBusy, "armlet's data dir is full: the blob content could not be stored.").Wrap(err)
	}
	if err == nil {
		if merr := checkMD5(q.r.Header, sum); merr != nil {
			s.files.remove(name)
			return "", 0, nil, merr
		}
	}
	return name, size, sum, err
}

// commit stores blob b in place of the one at revision rev (0: none),
// drops the blob's uncommitted blocks, and then removes the files the
// old blob and those blocks had that b does not use. A conflict (a write
// between the read and now) is 409.
func (s *Service) commit(ctx context.Context, q *request, b *blobRecord, old *blobRecord, rev int64, dropped []block) error {
	val, err := json.Marshal(b)
	if err != nil {
		return err
	}
	cond := kv.Absent
	if rev != 0 {
		cond = kv.AtRevision(rev)
	}
	ops := []kv.Op{kv.Put(blobKey(q.containerID(), q.blob), val).If(cond)}
	for _, d := range dropped {
		// Only as read: a block put again meanwhile makes this a
		// conflict, never a blob whose file that put removed.
		ops = append(ops, kv.Delete(append(blockPrefix(q.containerID(), q.blob), d.ID...)).If(kv.AtRevision(d.rev)))
	}
	if _, err := s.meta.v.Txn(ctx, ops...); err != nil {
		return concurrent(err)
	}
	// A container deleted while the content streamed has had its blobs
	// purged already: this one goes too, rather than turning up in a
	// container made again under the name.
	if _, err := s.container(ctx, q); err != nil {
		if _, derr := s.meta.v.Txn(ctx, kv.Delete(blobKey(q.containerID(), q.blob))); derr == nil {
			s.files.remove(filesOf("b\x00", val)...)
		}
		return err
	}
	keep := map[string]bool{}
	for _, bl := range b.Blocks {
		keep[bl.File] = true
	}
	var gone []string
	if old != nil {
		for _, bl := range old.Blocks {
			if !keep[bl.File] {
				gone = append(gone, bl.File)
			}
		}
	}
	for _, d := range dropped {
		if !keep[d.File] {
			gone = append(gone, d.File)
		}
	}
	s.files.remove(gone...)
	return nil
}

// newBlob is the record of a blob a write makes: its metadata and content
// headers from the request (ownToo: see contentHeaders), in a container
// that must exist.
func (s *Service) newBlob(ctx context.Context, q *request, ownToo bool) (*blobRecord, error) {
	md, err := metadataOf(q.r.Header)
	if err != nil {
		return nil, err
	}
	b := &blobRecord{Name: q.blob, Metadata: md}
	if err := contentHeaders(b, q.r.Header, ownToo); err != nil {
		return nil, err
	}
	if _, err := s.container(ctx, q); err != nil {
		return nil, err
	}
	return b, nil
}

// concurrent turns a store conflict (another write of the blob between
// this request's read and its write) into 409; other errors pass.
func concurrent(err error) error {
	if errors.Is(err, kv.ErrConflict) {
		return storageErr(http.StatusConflict, CodeConcurrentWrite, "The blob was written by another request at the same time; retry.")
	}
	return err
}

// putBlob stores a block blob in one request.
func putBlob(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	switch t := q.r.Header.Get("x-ms-blob-type"); {
	case t == "":
		return nil, missingHeader("x-ms-blob-type")
	case t != "BlockBlob":
		return nil, storageErr(http.StatusBadRequest, CodeFeatureNotSupported, "armlet serves block blobs only, not %s.", t).WithTarget("x-ms-blob-type")
	}
	b, err := s.newBlob(ctx, q, true)
	if err != nil {
		return nil, err
	}
	old, _, err := s.meta.getBlob(ctx, q.containerID(), q.blob)
	if err != nil {
		return nil, err
	}
	if _, err := conditions(q.r.Header, old, true); err != nil {
		return nil, err
	}
	file, size, sum, err := s.receive(q, maxPutBlob, true)
	if err != nil {
		return nil, err
	}
	// The conditions again, now that the body is in: the blob may have
	// changed while it streamed.
	old, rev, err := s.meta.getBlob(ctx, q.containerID(), q.blob)
	if err == nil {
		_, err = conditions(q.r.Header, old, true)
	}
	var dropped []block
	if err == nil {
		dropped, err = s.meta.uncommitted(ctx, q.containerID(), q.blob)
	}
	if err != nil {
		s.files.remove(file)
		return nil, err
	}
	now := s.now().UTC()
	b.Size, b.Blocks, b.ETag, b.Modified, b.Created = size, []block{{File: file, Size: size}}, newETag(now), now, now
	if old != nil {
		b.Created = old.Created
	}
	if b.ContentMD5 == "" {
		b.ContentMD5 = base64.StdEncoding.EncodeToString(sum)
	}
	if err := s.commit(ctx, q, b, old, rev, dropped); err != nil {
		s.files.remove(file)
		return nil, err
	}
	h := writeHeaders(b)
	h.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum))
	return &engine.Response{Status: http.StatusCreated, Header: h}, nil
}

func writeHeaders(b *blobRecord) http.Header {
	return http.Header{
		"Etag": {b.ETag}, "Last-Modified": {b.Modified.Format(http.TimeFormat)},
		"X-Ms-Request-Server-Encrypted": {"true"},
	}
}

// putBlock stores an uncommitted block.
func putBlock(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	id := q.q.Get("blockid")
	if id == "" {
		return nil, storageErr(http.StatusBadRequest, CodeMissingQueryParameter, "A query parameter that's mandatory for this request is not specified.").WithTarget("blockid")
	}
	if !validBlockID(id) {
		return nil, storageErr(http.StatusBadRequest, CodeInvalidQueryParameter, "The specified blob or block content is invalid.").WithTarget("blockid")
	}
	if _, err := s.container(ctx, q); err != nil {
		return nil, err
	}
	// Put Block answers the block's Content-MD5 only when the request had
	// one, from version 2019-02-02 on (Storage's Put Block reference), so
	// the MD5 of every block is not computed for nothing.
	//
	// Choice: without a Content-MD5 Storage answers x-ms-content-crc64;
	// armlet answers neither (a client checks it only when it asked for a
	// transactional CRC64, which armlet does not serve).
	file, size, sum, err := s.receive(q, maxPutBlock, q.version < "2019-02-02")
	if err != nil {
		return nil, err
	}
	key := append(blockPrefix(q.containerID(), q.blob), id...)
	var prev block
	cond := kv.Absent
	ent, err := s.meta.v.Get(ctx, key)
	switch {
	case err == nil:
		_ = json.Unmarshal(ent.Value, &prev)
		cond = kv.AtRevision(ent.Revision)
	case !errors.Is(err, kv.ErrNotFound):
		s.files.remove(file)
		return nil, err
	}
	val, _ := json.Marshal(block{ID: id, File: file, Size: size})
	// Conditional on the record read: a Put Block List that committed
	// the earlier block meanwhile owns its file now, and this put is a
	// conflict rather than the removal of a committed blob's content.
	if _, err := s.meta.v.Txn(ctx, kv.Put(key, val).If(cond)); err != nil {
		s.files.remove(file)
		return nil, concurrent(err)
	}
	// The block put again replaces the earlier one, whose file no
	// committed blob uses (a commit drops the records of the blocks it
	// takes).
	s.files.remove(prev.File)
	h := http.Header{"X-Ms-Request-Server-Encrypted": {"true"}}
	if sum != nil {
		h.Set("Content-Md5", base64.StdEncoding.EncodeToString(sum))
	}
	return &engine.Response{Status: http.StatusCreated, Header: h}, nil
}

// putBlockList commits a blob from its blocks, by reference: the blob is
// the list of the chosen blocks' files, no byte is copied.
func putBlockList(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	b, err := s.newBlob(ctx, q, false)
	if err != nil {
		return nil, err
	}
	refs, err := parseBlockList(q.r.Body)
	if err != nil {
		return nil, err
	}
	old, rev, err := s.meta.getBlob(ctx, q.containerID(), q.blob)
	if err != nil {
		return nil, err
	}
	if _, err := conditions(q.r.Header, old, true); err != nil {
		return nil, err
	}
	uncommitted, err := s.meta.uncommitted(ctx, q.containerID(), q.blob)
	if err != nil {
		return nil, err
	}
	byID := map[string]block{}
	for _, u := range uncommitted {
		byID[u.ID] = u
	}
	committed := map[string]block{}
	if old != nil {
		for _, c := range old.Blocks {
			if c.ID != "" {
				committed[c.ID] = c
			}
		}
	}
	b.Blocks = make([]block, 0, len(refs))
	for _, r := range refs {
		var bl block
		var ok bool
		switch r.List {
		case "Uncommitted":
			bl, ok = byID[r.ID]
		case "Committed":
			bl, ok = committed[r.ID]
		default:
			if bl, ok = byID[r.ID]; !ok {
				bl, ok = committed[r.ID]
			}
		}
		if !ok {
			return nil, storageErr(http.StatusBadRequest, CodeInvalidBlockList, "The specified block list is invalid.")
		}
		b.Blocks = append(b.Blocks, bl)
		b.Size += bl.Size
	}
	now := s.now().UTC()
	b.ETag, b.Modified, b.Created = newETag(now), now, now
	if old != nil {
		b.Created = old.Created
	}
	if err := s.commit(ctx, q, b, old, rev, uncommitted); err != nil {
		return nil, err
	}
	return &engine.Response{Status: http.StatusCreated, Header: writeHeaders(b)}, nil
}

// getBlockList lists a blob's committed blocks, its uncommitted ones, or
// both (blocklisttype committed, the default, uncommitted or all).
func getBlockList(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	kind := strings.ToLower(q.q.Get("blocklisttype"))
	if kind == "" {
		kind = "committed"
	}
	if kind != "committed" && kind != "uncommitted" && kind != "all" {
		return nil, badQuery("blocklisttype", "Value for one of the query parameters specified in the request URI is invalid.")
	}
	if _, err := s.container(ctx, q); err != nil {
		return nil, err
	}
	b, _, err := s.meta.getBlob(ctx, q.containerID(), q.blob)
	if err != nil {
		return nil, err
	}
	uncommitted, err := s.meta.uncommitted(ctx, q.containerID(), q.blob)
	if err != nil {
		return nil, err
	}
	if b == nil && len(uncommitted) == 0 {
		return nil, blobNotFound()
	}
	out := blockListXML{}
	h := http.Header{}
	if kind != "uncommitted" {
		list := []blockXML{}
		if b != nil {
			for _, bl := range b.Blocks {
				if bl.ID != "" {
					list = append(list, blockXML{Name: bl.ID, Size: bl.Size})
				}
			}
		}
		out.Committed = &list
	}
	if kind != "committed" {
		list := []blockXML{}
		for _, u := range uncommitted {
			list = append(list, blockXML{Name: u.ID, Size: u.Size})
		}
		out.Uncommitted = &list
	}
	if b != nil {
		h = writeHeaders(b)
		h.Del("X-Ms-Request-Server-Encrypted")
		h.Set("x-ms-blob-content-length", strconv.FormatInt(b.Size, 10))
	}
	return xmlResponse(http.StatusOK, h, out)
}

// blobHeaders are a blob's properties as Get Blob and Get Blob
// Properties answer them.
func blobHeaders(b *blobRecord) http.Header {
	h := writeHeaders(b)
	h.Del("X-Ms-Request-Server-Encrypted")
	h.Set("Content-Type", b.contentType())
	for k, v := range map[string]string{
		"Content-Encoding": b.ContentEncoding, "Content-Language": b.ContentLanguage,
		"Content-Disposition": b.ContentDisposition, "Cache-Control": b.CacheControl, "Content-MD5": b.ContentMD5,
	} {
		if v != "" {
			h.Set(k, v)
		}
	}
	h.Set("x-ms-blob-type", "BlockBlob")
	h.Set("x-ms-creation-time", b.Created.Format(http.TimeFormat))
	h.Set("x-ms-lease-status", "unlocked")
	h.Set("x-ms-lease-state", "available")
	h.Set("x-ms-server-encrypted", "true")
	h.Set("x-ms-access-tier", "Hot")
	h.Set("x-ms-access-tier-inferred", "true")
	h.Set("Accept-Ranges", "bytes")
	setMetadataHeaders(h, b.Metadata)
	return h
}

// loadBlob reads the blob the request names, in its container.
func (s *Service) loadBlob(ctx context.Context, q *request) (*blobRecord, int64, error) {
	if _, err := s.container(ctx, q); err != nil {
		return nil, 0, err
	}
	b, rev, err := s.meta.getBlob(ctx, q.containerID(), q.blob)
	if err == nil && b == nil {
		err = blobNotFound()
	}
	return b, rev, err
}

// getBlob answers Get Blob and Get Blob Properties (HEAD): the content is
// streamed from the block files, a range of it with 206 and
// Content-Range.
func getBlob(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	b, _, err := s.loadBlob(ctx, q)
	if err != nil {
		return nil, err
	}
	notModified, err := conditions(q.r.Header, b, false)
	if err != nil {
		return nil, err
	}
	h := blobHeaders(b)
	if notModified {
		return &engine.Response{Status: http.StatusNotModified, Header: http.Header{"Etag": h["Etag"], "Last-Modified": h["Last-Modified"]}}, nil
	}
	if q.r.Method == http.MethodHead {
		return &engine.Response{Status: http.StatusOK, Header: h, Body: engine.StreamBody{ContentType: b.contentType(), Size: b.Size}}, nil
	}
	header, v := "x-ms-range", q.r.Header.Get("x-ms-range")
	if v == "" {
		header, v = "Range", q.r.Header.Get("Range")
	}
	off, n, ranged, err := parseRange(header, v, b.Size)
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if ranged {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, b.Size))
		if h.Get("Content-MD5") != "" {
			h.Set("x-ms-blob-content-md5", h.Get("Content-MD5"))
			h.Del("Content-MD5")
		}
		if strings.EqualFold(q.r.Header.Get("x-ms-range-get-content-md5"), "true") {
			if n > maxRangeMD5 {
				return nil, storageErr(http.StatusBadRequest, CodeOutOfRangeInput, "x-ms-range-get-content-md5 is only served for ranges of at most 4 MiB.").WithTarget("x-ms-range-get-content-md5")
			}
			sum := md5.New()
			rd := b.reader(s.files, off, n)
			_, err := io.Copy(sum, rd)
			rd.Close()
			if err != nil {
				return nil, err
			}
			h.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum.Sum(nil)))
		}
	}
	return &engine.Response{Status: status, Header: h, Body: engine.StreamBody{
		ContentType: b.contentType(), Size: n, Reader: b.reader(s.files, off, n),
	}}, nil
}

func getBlobMetadata(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	b, _, err := s.loadBlob(ctx, q)
	if err != nil {
		return nil, err
	}
	if _, err := conditions(q.r.Header, b, false); err != nil {
		return nil, err
	}
	h := writeHeaders(b)
	h.Del("X-Ms-Request-Server-Encrypted")
	setMetadataHeaders(h, b.Metadata)
	return &engine.Response{Status: http.StatusOK, Header: h}, nil
}

// update rewrites a blob's record with f (content unchanged), under its
// conditions, with a new ETag.
func (s *Service) update(ctx context.Context, q *request, f func(b *blobRecord) error) (*engine.Response, error) {
	b, rev, err := s.loadBlob(ctx, q)
	if err != nil {
		return nil, err
	}
	if _, err := conditions(q.r.Header, b, true); err != nil {
		return nil, err
	}
	if err := f(b); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	b.ETag, b.Modified = newETag(now), now
	val, _ := json.Marshal(b)
	if _, err := s.meta.v.Txn(ctx, kv.Put(blobKey(q.containerID(), q.blob), val).If(kv.AtRevision(rev))); err != nil {
		return nil, concurrent(err)
	}
	return &engine.Response{Status: http.StatusOK, Header: writeHeaders(b)}, nil
}

func setBlobMetadata(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	md, err := metadataOf(q.r.Header)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, q, func(b *blobRecord) error { b.Metadata = md; return nil })
}

func setBlobProperties(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	return s.update(ctx, q, func(b *blobRecord) error {
		md5 := b.ContentMD5
		b.ContentMD5 = ""
		if err := contentHeaders(b, q.r.Header, false); err != nil {
			return err
		}
		if b.ContentMD5 == "" && q.r.Header.Get("x-ms-blob-content-md5") == "" {
			b.ContentMD5 = md5
		}
		return nil
	})
}

// deleteBlob deletes a blob, its uncommitted blocks and their files.
func deleteBlob(s *Service, ctx context.Context, q *request) (*engine.Response, error) {
	b, rev, err := s.loadBlob(ctx, q)
	if err != nil {
		return nil, err
	}
	if _, err := conditions(q.r.Header, b, true); err != nil {
		return nil, err
	}
	uncommitted, err := s.meta.uncommitted(ctx, q.containerID(), q.blob)
	if err != nil {
		return nil, err
	}
	ops := []kv.Op{kv.Delete(blobKey(q.containerID(), q.blob)).If(kv.AtRevision(rev))}
	var gone []string
	for _, u := range uncommitted {
		ops = append(ops, kv.Delete(append(blockPrefix(q.containerID(), q.blob), u.ID...)).If(kv.AtRevision(u.rev)))
		gone = append(gone, u.File)
	}
	if _, err := s.meta.v.Txn(ctx, ops...); err != nil {
		return nil, concurrent(err)
	}
	for _, bl := range b.Blocks {
		gone = append(gone, bl.File)
	}
	s.files.remove(gone...)
	return &engine.Response{Status: http.StatusAccepted, Header: http.Header{"X-Ms-Delete-Type-Permanent": {"true"}}}, nil
}
