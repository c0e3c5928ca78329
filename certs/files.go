package certs

import (
	"os"
	"time"
)

// stamp is what the poller compares to see that a file changed: its size
// and modification time (a rename over it changes both, an edit in place
// the time).
type stamp struct {
	size int64
	mod  time.Time
}

// stampOf stats the files; a file that cannot be stat'ed gets a zero stamp,
// so it reads as changed once it is back.
func stampOf(files ...string) []stamp {
	out := make([]stamp, len(files))
	for i, f := range files {
		if fi, err := os.Stat(f); err == nil {
			out[i] = stamp{fi.Size(), fi.ModTime()}
		}
	}
	return out
}

func sameStamps(a, b []stamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].size != b[i].size || !a[i].mod.Equal(b[i].mod) {
			return false
		}
	}
	return true
}
