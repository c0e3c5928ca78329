//go:build linux

package natlab

import (
	"fmt"
	"os"
	"testing"
)

// TestMain removes labs leaked by dead runs and builds natsbc once for all
// lab tests (only as root: without root every lab test skips).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "natlab-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if os.Geteuid() == 0 {
		SweepStaleLabs(os.Stderr)
		BuildNatsbc(dir)
		if natsbcBuildErr != nil {
			fmt.Fprintf(os.Stderr, "natlab: natsbc not built, natsbc scenarios will fail: %v\n", natsbcBuildErr)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
