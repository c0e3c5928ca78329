//go:build linux

package natlab

import (
	"os/exec"
	"strings"
	"testing"
)

// ctl runs `natsbc ctl` in the edge namespace against natsbc's admin
// endpoint and returns what it printed; a non-zero exit fails the test.
func ctl(t *testing.T, l *Lab, args ...string) string {
	t.Helper()
	argv := append([]string{"netns", "exec", l.NS(NSEdge), natsbcBin, "ctl", "--admin", adminAddr}, args...)
	out, err := exec.Command("ip", argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("natsbc ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// adminConfig is BaseConfig with the admin endpoint and extra sections.
func adminConfig(extra string) string {
	return BaseConfig + "admin:\n  listen: " + adminAddr + "\n" + extra
}
