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
	return l.runKamailio(t, "kamailio", "kamailio-proxy.cfg", ip, port,
		"__CALLEE__", callee)
}

// runKamailio writes testdata/template with __LISTEN_IP__, __PORT__ and the
// other placeholder/value pairs substituted to the lab directory as
// name.cfg, runs Kamailio on it in the pbx namespace (log name.log), and
// waits until ip:port is bound (UDP).
func (l *Lab) runKamailio(t *testing.T, name, template, ip string, port int, placeholders ...string) *Proc {
	t.Helper()
	return l.runKamailioIn(t, NSPBX, name, template, ip, port, placeholders...)
}

// runKamailioIn is runKamailio in namespace ns.
func (l *Lab) runKamailioIn(t *testing.T, ns, name, template, ip string, port int, placeholders ...string) *Proc {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join("testdata", template))
	if err != nil {
		t.Fatal(err)
	}
	pairs := append([]string{"__LISTEN_IP__", ip, "__PORT__", strconv.Itoa(port)}, placeholders...)
	cfg := strings.NewReplacer(pairs...).Replace(string(tmpl))
	cfgPath := filepath.Join(l.Dir, name+".cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(l.Dir, name+"-run")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := l.Start(t, ns, name, "kamailio", "-f", cfgPath, "-DD", "-E",
		"-Y", runDir, "-P", filepath.Join(runDir, "kamailio.pid"), "-m", "32", "-M", "8")
	l.WaitListening(t, ns, "udp", ip, port, p)
	return p
}
