// Package store keeps natsbc's registrations on disk so that a restart or
// a crash loses none: an embedded bbolt file (go.etcd.io/bbolt), one record
// per binding and the key that signs the binding tokens. Every change is
// its own fsync'd transaction, so a binding acknowledged to a phone is on
// disk, and a crash mid-write leaves the previous whole state.
package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// FormatVersion is the layout of the file this package reads and writes.
// A file of another version fails Open rather than being misread.
const FormatVersion = "1"

// LockTimeout bounds the wait for the file's lock: a second natsbc on the
// same file fails at start instead of hanging.
const LockTimeout = time.Second

var (
	bucketMeta     = []byte("meta")
	bucketBindings = []byte("bindings")
	keyVersion     = []byte("version")
	keyTokenKey    = []byte("token_key")
)

// Problems Open reports, inside an *OpenError.
var (
	// ErrLocked: another process holds the file.
	ErrLocked = errors.New("in use by another process (file lock held)")
	// ErrVersion: the file is of another format version.
	ErrVersion = errors.New("unsupported format version")
	// ErrCorrupt: the file is not a natsbc state file or is damaged.
	ErrCorrupt = errors.New("corrupt")
)

// OpenError names the file and what is wrong with it.
type OpenError struct {
	Path    string
	Problem error  // ErrLocked, ErrVersion or ErrCorrupt
	Detail  string // what exactly
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("state file %s: %v: %s", e.Path, e.Problem, e.Detail)
}

func (e *OpenError) Unwrap() error { return e.Problem }

// Store is an open state file.
type Store struct {
	db   *bolt.DB
	path string
}

// Open opens the state file at path, creating it (and its directory) when
// missing, and checks it whole: format version, page structure, every
// record. Any fault is an *OpenError.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	db, err := openBolt(path)
	var oe *OpenError
	switch {
	case errors.As(err, &oe):
		return nil, err
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, &OpenError{Path: path, Problem: ErrLocked, Detail: fmt.Sprintf("no lock within %s", LockTimeout)}
	case errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("state file %s: %w", path, err)
	case errors.Is(err, bolterrors.ErrInvalid):
		return nil, &OpenError{Path: path, Problem: ErrCorrupt, Detail: "not a bbolt database (no bbolt header): not a natsbc state file, or its first page is damaged"}
	case err != nil:
		return nil, &OpenError{Path: path, Problem: ErrCorrupt, Detail: err.Error()}
	}
	s := &Store{db: db, path: path}
	if err := s.prepare(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// openBolt opens the file with bbolt, which reads its meta pages and
// freelist: a damaged one is an error, not a crash.
func openBolt(path string) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer guard(path, &err)
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: LockTimeout})
}

// prepare makes the buckets of a new file and verifies an existing one.
func (s *Store) prepare() error {
	var fresh bool
	err := s.db.View(func(tx *bolt.Tx) error {
		// A file bbolt has just made holds no bucket at all; one holding
		// others is somebody else's.
		k, _ := tx.Cursor().First()
		fresh = k == nil
		return nil
	})
	if err == nil && fresh {
		err = s.db.Update(func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if _, err := tx.CreateBucket(bucketBindings); err != nil {
				return err
			}
			return meta.Put(keyVersion, []byte(FormatVersion))
		})
	}
	if err != nil {
		return &OpenError{Path: s.path, Problem: ErrCorrupt, Detail: err.Error()}
	}
	return s.verify()
}

// Path is the file's path.
func (s *Store) Path() string { return s.path }

// Close releases the file and its lock.
func (s *Store) Close() error { return s.db.Close() }

// Put writes (or replaces) a binding; it is on disk when Put returns.
func (s *Store) Put(b Binding) error { return s.Apply([]Binding{b}, nil) }

// Delete removes a binding; removing one that is not there is no error.
func (s *Store) Delete(id uint64) error { return s.Apply(nil, []uint64{id}) }

// Apply writes put and removes del in one transaction: one fsync for all
// the bindings of one REGISTER, and all or none of them after a crash.
// Deleting a binding that is not there is no error.
func (s *Store) Apply(put []Binding, del []uint64) error {
	vals := make([][]byte, len(put))
	for i, b := range put {
		v, err := encodeBinding(b)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketBindings)
		for _, id := range del {
			if err := bk.Delete(idKey(id)); err != nil {
				return err
			}
		}
		for i, b := range put {
			if err := bk.Put(idKey(b.ID), vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// Bindings returns every stored binding.
func (s *Store) Bindings() ([]Binding, error) {
	var out []Binding
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBindings).ForEach(func(k, v []byte) error {
			b, err := decodeBinding(v)
			if err != nil {
				return fmt.Errorf("binding %x: %w", k, err)
			}
			out = append(out, b)
			return nil
		})
	})
	return out, err
}

// TokenKey returns the key that signs binding tokens, making and storing
// a random one of size bytes the first time, so tokens the PBX holds stay
// valid across restarts.
func (s *Store) TokenKey(size int) ([]byte, error) {
	var key []byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if k := meta.Get(keyTokenKey); len(k) > 0 {
			key = append([]byte(nil), k...)
			return nil
		}
		key = make([]byte, size)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		return meta.Put(keyTokenKey, key)
	})
	return key, err
}
