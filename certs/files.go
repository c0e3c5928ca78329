package certs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// maxPEMFile bounds what natsbc reads of a certificate, key or CA file: a
// CA bundle is a few hundred KiB; more is a mistake (a log, a device).
const maxPEMFile = 4 << 20

// readPEMFile reads a regular file of at most maxPEMFile bytes: a FIFO or
// a device named by mistake must fail, not hang the start.
func readPEMFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, &FileError{File: name, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &FileError{File: name, Err: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, &FileError{File: name, Err: errors.New("not a regular file")}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	if err != nil {
		return nil, &FileError{File: name, Err: err}
	}
	if len(b) > maxPEMFile {
		return nil, &FileError{File: name, Err: fmt.Errorf("larger than %d bytes", maxPEMFile)}
	}
	return b, nil
}

// stamp is what the poller compares to see that a file changed: its size
// and modification time (a rename over it changes both, an edit in place
// the time).
type stamp struct {
	size int64
	mod  time.Time
	// change and inode: a file made readable (chmod, chown: its ctime
	// moves) or renamed over (a new inode) with the same size and mtime
	// is read again, so a load that failed on a permission is retried.
	change time.Time
	inode  uint64
}

// stampOf stats the files; a file that cannot be stat'ed gets a zero stamp,
// so it reads as changed once it is back.
func stampOf(files ...string) []stamp {
	out := make([]stamp, len(files))
	for i, f := range files {
		if fi, err := os.Stat(f); err == nil {
			out[i] = stamp{size: fi.Size(), mod: fi.ModTime()}
			out[i].change, out[i].inode = changeAndInode(fi)
		}
	}
	return out
}

func sameStamps(a, b []stamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].size != b[i].size || !a[i].mod.Equal(b[i].mod) || !a[i].change.Equal(b[i].change) || a[i].inode != b[i].inode {
			return false
		}
	}
	return true
}
