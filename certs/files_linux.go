package certs

import (
	"os"
	"syscall"
	"time"
)

// changeAndInode are a file's ctime and inode number.
func changeAndInode(fi os.FileInfo) (time.Time, uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec), st.Ino
	}
	return time.Time{}, 0
}
