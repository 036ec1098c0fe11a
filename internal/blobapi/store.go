package blobapi

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/kv"
)

// The blob space (kv.SpaceBlob) holds, per container (its ARM ID, lower
// case):
//
//	b\0{container}\0{blob name}            a committed blob (blobRecord)
//	u\0{container}\0{blob name}\0{block id} an uncommitted block (block)
//
// The content is in files of the content directory, one per block (a
// single-shot upload is one block), named by random ids; a blob is the
// list of its blocks' files, so Put Block List assembles by reference and
// copies nothing.

// blobRecord is a committed block blob.
type blobRecord struct {
	Name               string            `json:"name"`
	Size               int64             `json:"size"`
	ETag               string            `json:"etag"`
	Created            time.Time         `json:"created"`
	Modified           time.Time         `json:"modified"`
	ContentType        string            `json:"contentType,omitempty"`
	ContentEncoding    string            `json:"contentEncoding,omitempty"`
	ContentLanguage    string            `json:"contentLanguage,omitempty"`
	ContentDisposition string            `json:"contentDisposition,omitempty"`
	CacheControl       string            `json:"cacheControl,omitempty"`
	ContentMD5         string            `json:"contentMD5,omitempty"` // base64
	Metadata           map[string]string `json:"metadata,omitempty"`
	Blocks             []block           `json:"blocks"`
}

// block is one block's content file; ID is the client's (base64) block
// id, empty for a single-shot upload.
type block struct {
	ID   string `json:"id"`
	File string `json:"file"`
	Size int64  `json:"size"`
	// rev is the store revision of an uncommitted block's record, for
	// writes that drop it only as it was read.
	rev int64
}

func containerKey(id resourceid.ID) string { return strings.ToLower(id.String()) }

func blobKey(container resourceid.ID, name string) []byte {
	return []byte("b\x00" + containerKey(container) + "\x00" + name)
}

func blobPrefix(container resourceid.ID) []byte {
	return []byte("b\x00" + containerKey(container) + "\x00")
}

func blockPrefix(container resourceid.ID, name string) []byte {
	return []byte("u\x00" + containerKey(container) + "\x00" + name + "\x00")
}

// errNoContentStore refuses content writes where armlet keeps no content
// directory (the etcd store).
var errNoContentStore = errors.New("no content directory")

// files are the content files, in one directory.
type files struct {
	dir  string
	bufs *sync.Pool // of *[]byte of copyBufferSize
}

// newFileName is a fresh random content file name.
func newFileName() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// copyBufferSize is the size of the reads and writes that stream content
// to its file: large enough that a 64 MiB blob takes 64 writes, not
// 2,048.
const copyBufferSize = 1 << 20

// newFiles returns the content files of dir ("" keeps none).
func newFiles(dir string) files {
	return files{dir: dir, bufs: &sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}}
}

// buffer is a copy buffer from the pool.
func (f files) buffer() *[]byte { return f.bufs.Get().(*[]byte) }

// write streams r into a new content file, durably: a temporary file,
// fsync'ed, renamed, and the directory fsync'ed, before it returns. At
// most max bytes are taken; more is errTooLarge. It returns the file's
// name, its size and, when digest, the MD5 of what was written (nil
// otherwise).
func (f files) write(r io.Reader, max int64, digest bool) (name string, size int64, sum []byte, err error) {
	if f.dir == "" {
		return "", 0, nil, errNoContentStore
	}
	tmp, err := os.CreateTemp(f.dir, ".upload-*")
	if err != nil {
		return "", 0, nil, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var w io.Writer = tmp
	h := md5.New()
	if digest {
		w = io.MultiWriter(tmp, h)
	}
	buf := f.buffer()
	defer f.bufs.Put(buf)
	// Wrapped, so that the copy goes through buf: an *os.File's ReadFrom
	// would copy from a TLS connection in 32 KiB pieces.
	size, err = io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{io.LimitReader(r, max+1)}, *buf)
	if err != nil {
		return "", 0, nil, err
	}
	if size > max {
		return "", 0, nil, errTooLarge
	}
	if err = tmp.Sync(); err != nil {
		return "", 0, nil, err
	}
	if err = tmp.Close(); err != nil {
		return "", 0, nil, err
	}
	name = newFileName()
	if err = os.Rename(tmp.Name(), filepath.Join(f.dir, name)); err != nil {
		return "", 0, nil, err
	}
	if err = syncDir(f.dir); err != nil {
		return "", 0, nil, err
	}
	if digest {
		sum = h.Sum(nil)
	}
	return name, size, sum, nil
}

var errTooLarge = errors.New("request body too large")

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// remove deletes content files; one already gone is no error.
func (f files) remove(names ...string) {
	for _, n := range names {
		if n != "" && f.dir != "" {
			_ = os.Remove(filepath.Join(f.dir, filepath.Base(n)))
		}
	}
}

// open opens a content file.
func (f files) open(name string) (*os.File, error) {
	return os.Open(filepath.Join(f.dir, filepath.Base(name)))
}

// reader reads bytes [off, off+n) of a blob from its block files, one file
// open at a time: memory does not grow with the blob.
type reader struct {
	f      files
	blocks []block
	off, n int64
	cur    *os.File
	left   int64 // bytes left in cur's part
	md5    hash.Hash
}

func (b *blobRecord) reader(f files, off, n int64) *reader {
	return &reader{f: f, blocks: b.Blocks, off: off, n: n}
}

func (r *reader) Read(p []byte) (int, error) {
	for r.cur == nil || r.left == 0 {
		if r.cur != nil {
			r.cur.Close()
			r.cur = nil
		}
		if r.n == 0 {
			return 0, io.EOF
		}
		if len(r.blocks) == 0 {
			return 0, fmt.Errorf("blob content ends %d bytes early", r.n)
		}
		b := r.blocks[0]
		r.blocks = r.blocks[1:]
		if r.off >= b.Size {
			r.off -= b.Size
			continue
		}
		fh, err := r.f.open(b.File)
		if err != nil {
			return 0, err
		}
		if _, err := fh.Seek(r.off, io.SeekStart); err != nil {
			fh.Close()
			return 0, err
		}
		r.cur, r.left = fh, min(b.Size-r.off, r.n)
		r.off = 0
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.cur.Read(p)
	r.left -= int64(n)
	r.n -= int64(n)
	if err == io.EOF && r.left > 0 {
		err = io.ErrUnexpectedEOF
	} else if err == io.EOF {
		err = nil
	}
	return n, err
}

func (r *reader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}

// meta is the blob space.
type meta struct{ v kv.View }

func (m meta) getBlob(ctx context.Context, container resourceid.ID, name string) (*blobRecord, int64, error) {
	ent, err := m.v.Get(ctx, blobKey(container, name))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var b blobRecord
	if err := json.Unmarshal(ent.Value, &b); err != nil {
		return nil, 0, err
	}
	return &b, ent.Revision, nil
}

func (m meta) uncommitted(ctx context.Context, container resourceid.ID, name string) ([]block, error) {
	ents, err := m.v.Scan(ctx, blockPrefix(container, name), nil, 0)
	if err != nil {
		return nil, err
	}
	out := make([]block, 0, len(ents))
	for _, e := range ents {
		var b block
		if err := json.Unmarshal(e.Value, &b); err != nil {
			return nil, err
		}
		b.rev = e.Revision
		out = append(out, b)
	}
	return out, nil
}

// purge deletes every blob and uncommitted block of the containers under
// id (a container, an account or anything above one) and their files.
func (m meta) purge(ctx context.Context, f files, id resourceid.ID) error {
	base := strings.ToLower(id.String())
	for _, kind := range []string{"b\x00", "u\x00"} {
		for _, sep := range []string{"\x00", "/"} {
			prefix := []byte(kind + base + sep)
			for {
				ents, err := m.v.Scan(ctx, prefix, nil, 256)
				if err != nil {
					return err
				}
				if len(ents) == 0 {
					break
				}
				ops := make([]kv.Op, 0, len(ents))
				var names []string
				for _, e := range ents {
					ops = append(ops, kv.Delete(e.Key))
					names = append(names, filesOf(kind, e.Value)...)
				}
				if _, err := m.v.Txn(ctx, ops...); err != nil {
					return err
				}
				f.remove(names...)
			}
		}
	}
	return nil
}

// filesOf are the content files a blob or block record refers to.
func filesOf(kind string, value []byte) []string {
	if kind == "u\x00" {
		var b block
		_ = json.Unmarshal(value, &b)
		return []string{b.File}
	}
	var b blobRecord
	_ = json.Unmarshal(value, &b)
	var out []string
	for _, bl := range b.Blocks {
		out = append(out, bl.File)
	}
	return out
}
