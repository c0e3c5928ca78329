//go:build linux

package natlab

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// labNS matches the namespace names NewLab (and AddStranger, AddPhoneLAN) create:
// nl<pid>x<n>-<role>.
var labNS = regexp.MustCompile(`^nl([0-9]+)x[0-9]+-(lan[0-9]*|nat|edge|pbx|ext)$`)

// SweepStaleLabs deletes lab namespaces left by test processes that died
// before their cleanup ran (killed, or a -timeout panic). Namespaces of
// test binaries still running are left alone. Report goes to w.
func SweepStaleLabs(w io.Writer) {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		m := labNS.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || isTestProcess(pid) {
			continue
		}
		if out, err := exec.Command("ip", "netns", "del", e.Name()).CombinedOutput(); err != nil {
			fmt.Fprintf(w, "natlab: removing stale namespace %s: %v %s\n", e.Name(), err, out)
			continue
		}
		fmt.Fprintf(w, "natlab: removed stale namespace %s\n", e.Name())
	}
}

// isTestProcess reports whether pid is a running Go test binary.
func isTestProcess(pid int) bool {
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return err == nil && strings.HasSuffix(strings.TrimSpace(string(comm)), ".test")
}
