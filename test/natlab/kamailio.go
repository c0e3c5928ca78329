//go:build linux

package natlab

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// StartKamailio runs the record-routing proxy of testdata/kamailio-proxy.cfg
// in the pbx namespace on ip:port, forwarding INVITEs for user "callee" to
// callee (host:port), and waits until its port is bound.
func (l *Lab) StartKamailio(t *testing.T, ip string, port int, callee string) *Proc {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join("testdata", "kamailio-proxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer(
		"__LISTEN_IP__", ip,
		"__PORT__", strconv.Itoa(port),
		"__CALLEE__", callee,
	).Replace(string(tmpl))
	cfgPath := filepath.Join(l.Dir, "kamailio.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(l.Dir, "kamailio-run")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := l.Start(t, NSPBX, "kamailio", "kamailio", "-f", cfgPath, "-DD", "-E",
		"-Y", runDir, "-P", filepath.Join(runDir, "kamailio.pid"), "-m", "32", "-M", "8")
	l.WaitListening(t, NSPBX, "udp", ip, port, p)
	return p
}
