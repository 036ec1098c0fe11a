// Package boltkv is the default, embedded kv.Store: one bbolt file on local
// disk.
//
// # Layout
//
// Bucket "kv" maps each key to an 8-byte big-endian revision followed by the
// value. Bucket "meta" holds, under "revision", the store-wide revision
// counter (8 bytes, big-endian): the revision of the last successful Txn.
//
// # Durability and group commit
//
// A Txn returns only after the bbolt transaction holding it has committed,
// and bbolt fsyncs on every commit. To keep throughput up under concurrency
// without adding latency to a lone writer, all writes go through one writer
// goroutine that commits in groups: it takes the first queued Txn plus every
// other Txn already queued (up to maxBatch), applies them in queue order in
// one bbolt transaction — each Txn checking its conditions against the state
// left by the Txns before it and getting its own revision — and commits once.
// A lone Txn is committed at once, paying one fsync; n concurrent Txns share
// one fsync. (bbolt's own db.Batch is not used: it waits up to MaxBatchDelay,
// 10ms by default, before committing even a lone write.)
//
// Reads (Get, Scan) run in their own read-only bbolt transactions,
// concurrently with each other and with the writer.
//
// # Errors
//
// If the file cannot be opened for writing because the file system or its
// directory or the file itself is not writable, Open opens it read-only:
// reads work and every Txn fails with an error wrapping kv.ErrReadOnly. If a
// commit fails because the disk is full or the file system became read-only
// or failed (ENOSPC, EDQUOT, EROFS, EIO), the Txns of that commit fail with an
// error wrapping kv.ErrReadOnly and the cause. After EIO the store refuses
// all later writes the same way until it is reopened, since the file's
// state is then uncertain; after the others, later writes are tried again.
package boltkv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/armlet/armlet/internal/kv"
)

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Logger receives open, close and failure messages. nil discards them.
	Logger *slog.Logger
	// OpenTimeout is how long Open waits for the file lock another process
	// may hold. Zero or negative means 1s.
	OpenTimeout time.Duration
}

const (
	defaultOpenTimeout = time.Second
	// maxBatch is the most Txns the writer commits in one bbolt transaction.
	maxBatch = 1000
	// revLen is the size of the revision stored in front of every value.
	revLen = 8
)

var (
	bucketKV    = []byte("kv")
	bucketMeta  = []byte("meta")
	keyRevision = []byte("revision")
)

// errNothingToCommit makes the writer roll back a batch in which every Txn
// failed its conditions, saving a pointless fsync.
var errNothingToCommit = errors.New("boltkv: nothing to commit")

// Store is a kv.Store kept in a bbolt file. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	log  *slog.Logger

	// readOnly, if not nil, is the error (wrapping kv.ErrReadOnly) every
	// Txn returns because the file was opened read-only. There is then no
	// writer goroutine.
	readOnly error
	// failed, once set, is the error (wrapping kv.ErrReadOnly) every Txn
	// returns after a commit failed with EIO.
	failed atomic.Pointer[error]

	// mu guards closed against sends on reqs: Txn sends holding it for
	// reading, Close sets closed holding it for writing, so once Close has
	// set closed no Txn can still add to reqs.
	mu     sync.RWMutex
	closed atomic.Bool
	reqs   chan *request
	quit   chan struct{} // closed by Close to stop the writer
	done   chan struct{} // closed by the writer when it has stopped

	// Test hooks and statistics.
	beforeCommit atomic.Pointer[func() error] // called last in every batch that writes; an error aborts it
	commits      atomic.Int64                 // bbolt write transactions committed by the writer
}

var _ kv.Store = (*Store)(nil)

// request is one Txn waiting for the writer.
type request struct {
	ctx  context.Context
	ops  []kv.Op
	rev  int64
	err  error
	done chan struct{} // closed once rev and err are set
}

// openFileFunc opens the database file; see bolt.Options.OpenFile.
type openFileFunc func(name string, flag int, perm os.FileMode) (*os.File, error)

// ErrLocked is wrapped by Open's error when another process holds the
// file's lock beyond Options.OpenTimeout.
var ErrLocked = errors.New("the store file is locked by another process")

// Open opens or creates the bbolt file at path (its directory must exist)
// and starts the writer goroutine. Call Close when done.
//
// If the file cannot be opened for writing because it, its directory or the
// file system is not writable (EROFS, EACCES, EPERM), Open opens it
// read-only instead: reads work and Txn returns an error wrapping
// kv.ErrReadOnly. If the file is locked by another process for longer than
// opts.OpenTimeout, Open returns an error wrapping ErrLocked saying that
// another armlet process probably holds the data directory. Other failures (a corrupt file, a
// missing directory) are returned as they are, wrapped with the path.
func Open(path string, opts Options) (*Store, error) {
	return open(path, opts, nil)
}

// open is Open with a replaceable function for opening the file read-write
// (nil means os.OpenFile), so tests can simulate a read-only file system.
func open(path string, opts Options, openRW openFileFunc) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout := opts.OpenTimeout
	if timeout <= 0 {
		timeout = defaultOpenTimeout
	}
	lockErr := func(err error) error {
		return fmt.Errorf("%w: boltkv: open %s: the lock was not released within %v; "+
			"another armlet process probably holds the data directory %s: %w",
			ErrLocked, path, timeout, filepath.Dir(path), err)
	}

	s := &Store{path: path, log: log}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, OpenFile: openRW})
	if err != nil && isNotWritable(err) {
		log.Warn("boltkv: database file is not writable; opening it read-only", "path", path, "err", err)
		cause := err
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: true})
		if err != nil {
			if errors.Is(err, berrors.ErrTimeout) {
				return nil, lockErr(err)
			}
			return nil, fmt.Errorf("boltkv: open %s: cannot open for writing (%v), nor read-only: %w", path, cause, err)
		}
		s.readOnly = fmt.Errorf("%w: boltkv: %s was opened read-only because it is not writable: %w", kv.ErrReadOnly, path, cause)
	}
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, lockErr(err)
		}
		return nil, fmt.Errorf("boltkv: open %s: %w", path, err)
	}
	s.db = db

	if s.readOnly == nil {
		err := db.Update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bucketKV, bucketMeta} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			_ = db.Close()
			if isDiskFailure(err) {
				err = fmt.Errorf("%w: %w", kv.ErrReadOnly, err)
			}
			return nil, fmt.Errorf("boltkv: initialize %s: %w", path, err)
		}
		s.reqs = make(chan *request, maxBatch)
		s.quit = make(chan struct{})
		s.done = make(chan struct{})
		go s.run()
	}

	var rev int64
	err = db.View(func(tx *bolt.Tx) error {
		var err error
		rev, err = readRevision(tx.Bucket(bucketMeta))
		return err
	})
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("boltkv: open %s: %w", path, err)
	}
	log.Info("boltkv: opened", "path", path, "revision", rev, "read_only", s.readOnly != nil)
	return s, nil
}

// Get returns a copy of the entry at key. It returns an error wrapping
// kv.ErrNotFound if the key does not exist, kv.ErrClosed after Close,
// ctx.Err() if ctx is already done, or a bbolt error if the file cannot be
// read or an entry is malformed.
func (s *Store) Get(ctx context.Context, key []byte) (kv.Entry, error) {
	if err := ctx.Err(); err != nil {
		return kv.Entry{}, err
	}
	if s.closed.Load() {
		return kv.Entry{}, kv.ErrClosed
	}
	var (
		e     kv.Entry
		found bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKV)
		if b == nil { // a read-only file that was never initialized
			return nil
		}
		v := b.Get(key)
		if v == nil {
			return nil
		}
		rev, val, err := decode(key, v)
		if err != nil {
			return err
		}
		// v points into the mmap, valid only during the transaction.
		e = kv.Entry{Key: bytes.Clone(key), Value: append([]byte{}, val...), Revision: rev}
		found = true
		return nil
	})
	if err != nil {
		return kv.Entry{}, s.readError(err)
	}
	if !found {
		return kv.Entry{}, fmt.Errorf("boltkv: get %q: %w", key, kv.ErrNotFound)
	}
	return e, nil
}

// Scan returns copies of up to limit entries whose keys start with prefix
// and sort strictly after `after`, in ascending bytewise key order (see
// kv.Store); limit <= 0 means no limit. It returns kv.ErrClosed after Close,
// ctx.Err() if ctx is already done, or a bbolt error if the file cannot be
// read or an entry is malformed.
func (s *Store) Scan(ctx context.Context, prefix, after []byte, limit int) ([]kv.Entry, error) {
	return s.scan(ctx, prefix, after, limit, true)
}

// ScanKeys implements kv.KeyScanner: the revisions are read from the
// values' headers, nothing of the values is copied.
func (s *Store) ScanKeys(ctx context.Context, prefix, after []byte, limit int) ([]kv.Entry, error) {
	return s.scan(ctx, prefix, after, limit, false)
}

func (s *Store) scan(ctx context.Context, prefix, after []byte, limit int, values bool) ([]kv.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, kv.ErrClosed
	}
	// Grown as entries come: most scans are of a prefix with few keys
	// (a subscription's types, a scope's assignments), and a full page
	// made up front was most of what such a scan allocated.
	var out []kv.Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKV)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(scanStart(prefix, after)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			rev, val, err := decode(k, v)
			if err != nil {
				return err
			}
			// The key and the value in one allocation: bbolt's bytes are
			// valid only inside the transaction.
			n := len(k)
			if values {
				n += len(val)
			}
			buf := make([]byte, n)
			copy(buf, k)
			ent := kv.Entry{Key: buf[:len(k):len(k)], Revision: rev}
			if values {
				ent.Value = buf[len(k):]
				copy(ent.Value, val)
			}
			out = append(out, ent)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.readError(err)
	}
	return out, nil
}

// Txn applies ops atomically under one new revision, which it returns, once
// the change is committed to disk (see kv.Store and the package comment).
//
// It returns an error wrapping kv.ErrInvalid for malformed ops
// (kv.ValidateOps, or a key or value too large for bbolt); a
// *kv.ConflictError (errors.Is kv.ErrConflict) naming the first op whose
// condition fails; an error wrapping kv.ErrReadOnly if the store was opened
// read-only or the commit failed for lack of space or a failing or read-only
// file system; kv.ErrClosed if the store is or gets closed before the Txn
// was committed; ctx.Err() if ctx is done before the Txn is applied (once
// applied, it is committed and reported whatever ctx does); or another error
// if the commit failed otherwise. On any error nothing is changed.
func (s *Store) Txn(ctx context.Context, ops ...kv.Op) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := kv.ValidateOps(ops); err != nil {
		return 0, err
	}
	for _, op := range ops {
		if len(op.Key) > bolt.MaxKeySize {
			return 0, fmt.Errorf("%w: key of %d bytes, more than %d", kv.ErrInvalid, len(op.Key), bolt.MaxKeySize)
		}
		if !op.Delete && int64(len(op.Value)) > bolt.MaxValueSize-revLen {
			return 0, fmt.Errorf("%w: value of %d bytes for key %q is too large", kv.ErrInvalid, len(op.Value), op.Key)
		}
	}
	r := &request{ctx: ctx, ops: ops, done: make(chan struct{})}
	s.mu.RLock()
	switch {
	case s.closed.Load():
		s.mu.RUnlock()
		return 0, kv.ErrClosed
	case s.readOnly != nil:
		s.mu.RUnlock()
		return 0, s.readOnly
	}
	if p := s.failed.Load(); p != nil {
		s.mu.RUnlock()
		return 0, *p
	}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		s.mu.RUnlock()
		return 0, ctx.Err()
	}
	s.mu.RUnlock()
	<-r.done
	return r.rev, r.err
}

// Close stops the writer, failing Txns still queued with kv.ErrClosed (a
// batch being committed completes first), and closes the file, releasing
// its lock. Later calls to Get, Scan and Txn return kv.ErrClosed. Closing
// twice is not an error. Close returns an error only if closing the file
// fails.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil
	}
	s.closed.Store(true)
	s.mu.Unlock()
	if s.quit != nil {
		close(s.quit)
		<-s.done
	}
	if err := s.db.Close(); err != nil {
		s.log.Error("boltkv: close failed", "path", s.path, "err", err)
		return fmt.Errorf("boltkv: close %s: %w", s.path, err)
	}
	s.log.Info("boltkv: closed", "path", s.path)
	return nil
}

// run is the writer goroutine: it commits queued requests in batches until
// Close closes quit, then fails the requests still queued with ErrClosed.
func (s *Store) run() {
	defer close(s.done)
	batch := make([]*request, 0, maxBatch)
	for {
		// Once Close has begun, stop even if requests are queued.
		select {
		case <-s.quit:
			s.failQueued()
			return
		default:
		}
		select {
		case <-s.quit:
			s.failQueued()
			return
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		fill:
			for len(batch) < maxBatch {
				select {
				case r := <-s.reqs:
					batch = append(batch, r)
				default:
					break fill
				}
			}
			s.commit(batch)
			clear(batch)
		}
	}
}

// commit applies batch in one bbolt transaction, commits it and answers
// every request in it.
func (s *Store) commit(batch []*request) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	if p := s.failed.Load(); p != nil {
		for _, r := range batch {
			r.rev, r.err = 0, *p
		}
		return
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		data, meta := tx.Bucket(bucketKV), tx.Bucket(bucketMeta)
		rev, err := readRevision(meta)
		if err != nil {
			return err
		}
		written := false
		for _, r := range batch {
			r.rev, r.err = 0, nil
			if err := r.ctx.Err(); err != nil {
				r.err = err
				continue
			}
			// Conditions see the writes of the requests before this one.
			if r.err = checkConds(data, r.ops); r.err != nil {
				continue
			}
			rev++
			for _, op := range r.ops {
				if op.Delete {
					err = data.Delete(op.Key)
				} else {
					err = data.Put(op.Key, encode(rev, op.Value))
				}
				if err != nil {
					// Ops were validated, so this is unexpected; it aborts
					// the whole batch rather than leave this Txn half done.
					return fmt.Errorf("boltkv: write %q: %w", op.Key, err)
				}
			}
			r.rev = rev
			written = true
		}
		if !written {
			return errNothingToCommit
		}
		if err := meta.Put(keyRevision, binary.BigEndian.AppendUint64(nil, uint64(rev))); err != nil {
			return err
		}
		if hook := s.beforeCommit.Load(); hook != nil {
			return (*hook)()
		}
		return nil
	})
	switch {
	case err == nil:
		s.commits.Add(1)
	case errors.Is(err, errNothingToCommit):
		// Every request failed its conditions or context; nothing to write.
	default:
		// The batch was rolled back. Conflicts found in it may have been
		// caused by writes now undone, so every request gets the error.
		err = s.commitError(err, len(batch))
		for _, r := range batch {
			r.rev, r.err = 0, err
		}
	}
}

// commitError classifies the error of a failed batch commit and logs it.
func (s *Store) commitError(err error, n int) error {
	if !isDiskFailure(err) {
		s.log.Error("boltkv: commit failed", "path", s.path, "txns", n, "err", err)
		return fmt.Errorf("boltkv: commit to %s: %w", s.path, err)
	}
	werr := fmt.Errorf("%w: boltkv: commit to %s failed: %w", kv.ErrReadOnly, s.path, err)
	if errors.Is(err, syscall.EIO) {
		// After a failed write or fsync the file on disk may not match what
		// bbolt believes; do not build on it.
		s.failed.Store(&werr)
		s.log.Error("boltkv: commit failed with an I/O error; refusing all writes until the store is reopened",
			"path", s.path, "txns", n, "err", err)
	} else {
		s.log.Error("boltkv: commit failed; the disk is full or the file system is read-only",
			"path", s.path, "txns", n, "err", err)
	}
	return werr
}

// readError maps the error of a read transaction.
func (s *Store) readError(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("boltkv: %w", kv.ErrClosed) // closed while the read started
	}
	return fmt.Errorf("boltkv: read %s: %w", s.path, err)
}

// failQueued answers every queued request with ErrClosed. Close has set
// closed under mu before closing quit, so no Txn can add to reqs any more.
func (s *Store) failQueued() {
	for {
		select {
		case r := <-s.reqs:
			r.finish(0, kv.ErrClosed)
		default:
			return
		}
	}
}

func (r *request) finish(rev int64, err error) {
	r.rev, r.err = rev, err
	close(r.done)
}

// checkConds returns a *kv.ConflictError for the first op of ops whose
// condition does not hold in b, or nil.
func checkConds(b *bolt.Bucket, ops []kv.Op) error {
	for _, op := range ops {
		if op.Cond == kv.Any {
			continue
		}
		var cur int64
		if v := b.Get(op.Key); v != nil {
			rev, _, err := decode(op.Key, v)
			if err != nil {
				return err
			}
			cur = rev
		}
		if !op.Cond.Check(cur) {
			return &kv.ConflictError{Key: bytes.Clone(op.Key), Revision: cur}
		}
	}
	return nil
}

// encode returns the stored form of a value: revision, then value.
func encode(rev int64, value []byte) []byte {
	buf := make([]byte, revLen, revLen+len(value))
	binary.BigEndian.PutUint64(buf, uint64(rev))
	return append(buf, value...)
}

// decode splits a stored value; the returned value aliases v.
func decode(key, v []byte) (rev int64, value []byte, err error) {
	if len(v) < revLen {
		return 0, nil, fmt.Errorf("boltkv: malformed entry for key %q: %d bytes", key, len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), v[revLen:], nil
}

// readRevision returns the store-wide revision counter (0 if unset).
func readRevision(meta *bolt.Bucket) (int64, error) {
	if meta == nil {
		return 0, nil
	}
	v := meta.Get(keyRevision)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("boltkv: malformed revision counter: %d bytes", len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// scanStart is the smallest key a Scan(prefix, after) may return.
func scanStart(prefix, after []byte) []byte {
	if len(after) > 0 && bytes.Compare(after, prefix) >= 0 {
		// The smallest key strictly after `after` is after + 0x00.
		return append(bytes.Clone(after), 0)
	}
	return prefix
}

// isNotWritable reports whether opening the file for writing failed because
// the file, its directory or its file system does not allow writing.
func isNotWritable(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) ||
		errors.Is(err, syscall.EPERM) || errors.Is(err, fs.ErrPermission)
}

// isDiskFailure reports whether a commit failed because the disk is full or
// the file system is read-only or failing, rather than because of a bug.
func isDiskFailure(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO)
}
