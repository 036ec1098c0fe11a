package boltkv

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/kvtest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "armlet.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store { return openTemp(t) })
}

func BenchmarkStore(b *testing.B) {
	kvtest.RunBenchmarks(b, func(b *testing.B) kv.Store { return openTemp(b) })
}

func put(t *testing.T, s *Store, key, value string) int64 {
	t.Helper()
	rev, err := s.Txn(context.Background(), kv.Put([]byte(key), []byte(value)))
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return rev
}

func wantValue(t *testing.T, s *Store, key, value string, rev int64) {
	t.Helper()
	e, err := s.Get(context.Background(), []byte(key))
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if string(e.Value) != value || e.Revision != rev {
		t.Errorf("Get(%q) = %q@%d, want %q@%d", key, e.Value, e.Revision, value, rev)
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "armlet.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r1 := put(t, s, "a", "1")
	r2 := put(t, s, "b", "2")
	r3, err := s.Txn(context.Background(), kv.Delete([]byte("a")))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Get(context.Background(), []byte("a")); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("deleted key after reopen: %v", err)
	}
	wantValue(t, s, "b", "2", r2)
	r4 := put(t, s, "c", "3")
	if r1 != 1 || r4 != r3+1 {
		t.Errorf("revisions %d, %d, %d, then %d after reopen; want 1, ..., n, n+1", r1, r2, r3, r4)
	}
}

func TestSecondOpenTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "armlet.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	start := time.Now()
	s2, err := Open(path, Options{OpenTimeout: 200 * time.Millisecond})
	elapsed := time.Since(start)
	if err == nil {
		s2.Close()
		t.Fatal("second Open succeeded while the first holds the lock")
	}
	if !strings.Contains(err.Error(), "another armlet process probably holds the data directory") {
		t.Errorf("error does not explain the lock: %v", err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("second Open took %v with a 200ms timeout", elapsed)
	}
	t.Logf("second Open failed after %v: %v", elapsed, err)

	// Once the first store is closed, the lock is free.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err = Open(path, Options{OpenTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

// checkReadOnlyStore checks a store opened read-only over a file holding
// "k"="v"@rev: reads work, writes fail with ErrReadOnly.
func checkReadOnlyStore(t *testing.T, s *Store, rev int64, cause error) {
	t.Helper()
	ctx := context.Background()
	wantValue(t, s, "k", "v", rev)
	if es, err := s.Scan(ctx, nil, nil, 0); err != nil || len(es) != 1 {
		t.Errorf("Scan = %d entries, %v; want 1", len(es), err)
	}
	_, err := s.Txn(ctx, kv.Put([]byte("k2"), []byte("v2")))
	if !errors.Is(err, kv.ErrReadOnly) {
		t.Errorf("Txn on read-only store: %v, want ErrReadOnly", err)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Errorf("Txn error %v does not wrap the cause %v", err, cause)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestReadOnlyDirectory makes the data directory and file really read-only,
// so the kernel returns EACCES. chmod does not stop root, so as root (the
// usual case in containers) the test is skipped and TestReadOnlySimulated
// covers the fallback instead. To run it anyway, build the test binary and
// run it as an unprivileged user, e.g.
//
//	go test -c -o /tmp/boltkv.test ./internal/kv/boltkv
//	setpriv --reuid=65534 --regid=65534 --clear-groups /tmp/boltkv.test -test.run ReadOnly
//
// Neither test covers EROFS from a really read-only mount.
func TestReadOnlyDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "armlet.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rev := put(t, s, "k", "v")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) }) // so TempDir can remove it
	if f, err := os.Create(filepath.Join(dir, "probe")); err == nil {
		f.Close()
		t.Skip("chmod does not make the directory read-only for this user (root?); see TestReadOnlySimulated")
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("Open of a read-only file: %v", err)
	}
	checkReadOnlyStore(t, s, rev, nil)
}

// TestReadOnlySimulated opens the read-write file through a function that
// fails like a read-only file system, then lets Open fall back to a real
// bbolt read-only open of the same file. This covers the fallback and the
// read-only store's behaviour, but not the kernel returning the errno: that
// part rests on TestIsNotWritable and, when not run as root, on
// TestReadOnlyDirectory.
func TestReadOnlySimulated(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EROFS, syscall.EACCES, syscall.EPERM} {
		t.Run(errno.Error(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "armlet.db")
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			rev := put(t, s, "k", "v")
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			failRW := func(name string, flag int, perm os.FileMode) (*os.File, error) {
				return nil, &fs.PathError{Op: "open", Path: name, Err: errno}
			}
			s, err = open(path, Options{}, failRW)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			checkReadOnlyStore(t, s, rev, errno)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		// Not writable and nothing to read: Open fails.
		failRW := func(name string, flag int, perm os.FileMode) (*os.File, error) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
		}
		s, err := open(filepath.Join(t.TempDir(), "armlet.db"), Options{}, failRW)
		if err == nil {
			s.Close()
			t.Fatal("open succeeded")
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not wrap ErrNotExist", err)
		}
	})
}

func TestIsNotWritable(t *testing.T) {
	pathErr := func(e error) error { return &fs.PathError{Op: "open", Path: "/x/armlet.db", Err: e} }
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{pathErr(syscall.EROFS), true},
		{pathErr(syscall.EACCES), true},
		{pathErr(syscall.EPERM), true},
		{fmt.Errorf("wrapped: %w", pathErr(syscall.EACCES)), true},
		{fs.ErrPermission, true},
		{pathErr(syscall.ENOENT), false},
		{pathErr(syscall.ENOSPC), false},
		{pathErr(syscall.EIO), false},
		{berrors.ErrTimeout, false},
		{errors.New("invalid database"), false},
	}
	for _, tc := range tests {
		if got := isNotWritable(tc.err); got != tc.want {
			t.Errorf("isNotWritable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestIsDiskFailure(t *testing.T) {
	pathErr := func(e error) error { return &fs.PathError{Op: "write", Path: "/x/armlet.db", Err: e} }
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{pathErr(syscall.ENOSPC), true},
		{pathErr(syscall.EDQUOT), true},
		{pathErr(syscall.EROFS), true},
		{pathErr(syscall.EIO), true},
		{syscall.EIO, true},
		{fmt.Errorf("fdatasync: %w", syscall.ENOSPC), true},
		{pathErr(syscall.EACCES), false},
		{pathErr(syscall.EBADF), false},
		{berrors.ErrTxClosed, false},
		{errors.New("boom"), false},
	}
	for _, tc := range tests {
		if got := isDiskFailure(tc.err); got != tc.want {
			t.Errorf("isDiskFailure(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func setBeforeCommit(s *Store, f func() error) {
	if f == nil {
		s.beforeCommit.Store(nil)
		return
	}
	s.beforeCommit.Store(&f)
}

// TestCommitFailure makes batches fail through the beforeCommit hook, which
// returns the error inside the bbolt update so that bbolt rolls back as it
// does when its own write or fsync fails. It checks the error mapping and
// that nothing of the failed batch is visible; it cannot check how bbolt
// itself copes with a real failing disk.
func TestCommitFailure(t *testing.T) {
	ctx := context.Background()
	t.Run("ENOSPC", func(t *testing.T) {
		s := openTemp(t)
		defer s.Close()
		r1 := put(t, s, "k", "v")
		cause := &fs.PathError{Op: "write", Path: s.path, Err: syscall.ENOSPC}
		setBeforeCommit(s, func() error { return cause })
		_, err := s.Txn(ctx, kv.Put([]byte("k"), []byte("w")), kv.Put([]byte("k2"), nil))
		if !errors.Is(err, kv.ErrReadOnly) || !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("Txn with a full disk: %v, want ErrReadOnly and ENOSPC", err)
		}
		wantValue(t, s, "k", "v", r1)
		if _, err := s.Get(ctx, []byte("k2")); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("k2 after failed commit: %v", err)
		}
		// Space is freed: writes work again, and the revision counter was
		// rolled back with the batch.
		setBeforeCommit(s, nil)
		if r2 := put(t, s, "k", "w"); r2 != r1+1 {
			t.Errorf("revision after recovery %d, want %d", r2, r1+1)
		}
	})
	t.Run("EIO is sticky", func(t *testing.T) {
		s := openTemp(t)
		defer s.Close()
		r1 := put(t, s, "k", "v")
		setBeforeCommit(s, func() error { return &fs.PathError{Op: "sync", Path: s.path, Err: syscall.EIO} })
		if _, err := s.Txn(ctx, kv.Put([]byte("k"), []byte("w"))); !errors.Is(err, kv.ErrReadOnly) || !errors.Is(err, syscall.EIO) {
			t.Errorf("Txn with EIO: %v, want ErrReadOnly and EIO", err)
		}
		setBeforeCommit(s, nil)
		if _, err := s.Txn(ctx, kv.Put([]byte("k"), []byte("x"))); !errors.Is(err, kv.ErrReadOnly) {
			t.Errorf("Txn after EIO: %v, want ErrReadOnly", err)
		}
		wantValue(t, s, "k", "v", r1)
	})
	t.Run("other error", func(t *testing.T) {
		s := openTemp(t)
		defer s.Close()
		boom := errors.New("boom")
		setBeforeCommit(s, func() error { return boom })
		_, err := s.Txn(ctx, kv.Put([]byte("k"), []byte("w")))
		if !errors.Is(err, boom) || errors.Is(err, kv.ErrReadOnly) {
			t.Errorf("Txn: %v, want boom and not ErrReadOnly", err)
		}
		setBeforeCommit(s, nil)
		if r := put(t, s, "k", "v"); r != 1 {
			t.Errorf("revision %d after a failed first commit, want 1", r)
		}
	})
}

// TestGroupCommit holds the writer inside a commit while more Txns queue up,
// then checks that all of those were committed together, in one bbolt
// transaction, each with its own revision, and that the conditions of later
// Txns in the group saw the writes of earlier ones.
func TestGroupCommit(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()

	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	setBeforeCommit(s, func() error {
		once.Do(func() { close(entered); <-release })
		return nil
	})
	firstDone := make(chan error, 1)
	go func() {
		_, err := s.Txn(ctx, kv.Put([]byte("first"), nil))
		firstDone <- err
	}()
	<-entered

	const n = 10
	type result struct {
		i   int
		rev int64
		err error
	}
	results := make(chan result, n+2)
	for i := range n {
		go func() {
			rev, err := s.Txn(ctx, kv.Put(fmt.Appendf(nil, "k%d", i), nil))
			results <- result{i, rev, err}
		}()
	}
	// Two Txns racing for one key: exactly one may win.
	for i := n; i < n+2; i++ {
		go func() {
			rev, err := s.Txn(ctx, kv.Put([]byte("contended"), fmt.Appendf(nil, "%d", i)).If(kv.Absent))
			results <- result{i, rev, err}
		}()
	}
	waitQueued(t, s, n+2)
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}

	revs := make(map[int64]bool)
	var winner, loser *result
	for range n + 2 {
		r := <-results
		switch {
		case r.err == nil:
			if revs[r.rev] {
				t.Errorf("revision %d returned twice", r.rev)
			}
			revs[r.rev] = true
			if r.i >= n {
				if winner != nil {
					t.Errorf("both contended Txns succeeded")
				}
				winner = &r
			}
		case r.i >= n && errors.Is(r.err, kv.ErrConflict):
			loser = &r
		default:
			t.Errorf("Txn %d: %v", r.i, r.err)
		}
	}
	if winner == nil || loser == nil {
		t.Fatalf("contended Txns: winner %v, loser %v", winner, loser)
	}
	var ce *kv.ConflictError
	if !errors.As(loser.err, &ce) || string(ce.Key) != "contended" || ce.Revision != winner.rev {
		t.Errorf("loser got %v, want a conflict on \"contended\" at the winner's revision %d", loser.err, winner.rev)
	}
	// Revisions 2..n+2 (1 was "first"), one per successful Txn.
	for rev := int64(2); rev <= n+2; rev++ {
		if !revs[rev] {
			t.Errorf("revision %d missing; got %v", rev, revs)
		}
	}
	if c := s.commits.Load(); c != 2 {
		t.Errorf("%d commits, want 2 (the first Txn, then the group)", c)
	}
}

// waitQueued polls, for up to 10 s, until n Txns wait in the writer's
// queue (the writer being held in a commit).
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(s.reqs) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d Txns queued after 10 s", len(s.reqs), n)
		}
	}
}

// TestCloseWithQueuedTxns closes the store while Txns are queued behind a
// commit in progress: the commit in progress completes, the queued Txns get
// ErrClosed, and none hangs.
func TestCloseWithQueuedTxns(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	setBeforeCommit(s, func() error {
		once.Do(func() { close(entered); <-release })
		return nil
	})
	firstDone := make(chan error, 1)
	go func() {
		_, err := s.Txn(ctx, kv.Put([]byte("first"), nil))
		firstDone <- err
	}()
	<-entered
	const n = 5
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.Txn(ctx, kv.Put(fmt.Appendf(nil, "k%d", i), nil))
			errs <- err
		}()
	}
	waitQueued(t, s, n)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	<-s.quit // Close has begun and the writer is still in the first commit
	close(release)
	if err := <-firstDone; err != nil {
		t.Errorf("Txn committing during Close: %v", err)
	}
	for range n {
		if err := <-errs; !errors.Is(err, kv.ErrClosed) {
			t.Errorf("queued Txn: %v, want ErrClosed", err)
		}
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestTooLarge(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	_, err := s.Txn(context.Background(), kv.Put(make([]byte, bolt.MaxKeySize+1), nil))
	if !errors.Is(err, kv.ErrInvalid) {
		t.Errorf("Txn with a huge key: %v, want ErrInvalid", err)
	}
}
