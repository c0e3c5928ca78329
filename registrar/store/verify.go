package store

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

// verify reads the whole file once at Open, so that a damaged file fails
// the start with a reason instead of failing later, mid-call: the file
// must be as long as its meta page says, of this format version, and every
// page of both buckets must be readable and every record decode with its
// checksum. (bbolt's tx.Check walks the pages in a goroutine of its own,
// where a damaged page would crash natsbc instead of failing Open.)
func (s *Store) verify() (err error) {
	// A truncated or damaged file can make bbolt read outside its mapping
	// (a fault) or trip its own assertions (a panic): both become errors.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer guard(s.path, &err)
	fi, statErr := os.Stat(s.path)
	if statErr != nil {
		return fmt.Errorf("state file %s: %w", s.path, statErr)
	}
	return s.db.View(func(tx *bolt.Tx) error {
		if fi.Size() < tx.Size() {
			return s.corrupt("truncated: %d bytes, the file says %d", fi.Size(), tx.Size())
		}
		meta, bindings := tx.Bucket(bucketMeta), tx.Bucket(bucketBindings)
		if meta == nil || bindings == nil {
			return s.corrupt("not a natsbc state file (no meta or bindings bucket)")
		}
		if v := string(meta.Get(keyVersion)); v != FormatVersion {
			return &OpenError{Path: s.path, Problem: ErrVersion,
				Detail: fmt.Sprintf("the file is version %q, this natsbc reads version %s", v, FormatVersion)}
		}
		return bindings.ForEach(func(k, v []byte) error {
			if _, err := decodeBinding(v); err != nil {
				return s.corrupt("binding %x: %v", k, err)
			}
			return nil
		})
	})
}

func (s *Store) corrupt(format string, args ...any) error {
	return &OpenError{Path: s.path, Problem: ErrCorrupt, Detail: fmt.Sprintf(format, args...)}
}

// guard turns a fault or a bbolt assertion met while reading a damaged
// file into an error, for the goroutine it runs on.
func guard(path string, err *error) {
	if r := recover(); r != nil {
		*err = &OpenError{Path: path, Problem: ErrCorrupt, Detail: fmt.Sprintf("unreadable page: %v", r)}
	}
}

// IsUnreadable reports whether err from Open means the file itself is bad
// (corrupt or of another version), so that moving it aside and starting a
// fresh one helps; a held lock or a permission problem is not.
func IsUnreadable(err error) bool {
	return errors.Is(err, ErrCorrupt) || errors.Is(err, ErrVersion)
}
