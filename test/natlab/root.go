//go:build linux

package natlab

import (
	"os"
	"testing"
)

// RequireRoot skips a lab test when not run as root. In CI (env CI set) a
// skip would hide that the lab never ran, so it fails instead.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("the NAT lab needs root and CI is set: run the lab as root")
	}
	t.Skip("the NAT lab needs root (network namespaces, iptables)")
}
