package loadgen

import (
	"syscall"
	"time"
)

// processCPU is the user plus system CPU time this process has used so far
// (getrusage(2) RUSAGE_SELF: all threads, so all workers and receivers).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
