//go:build linux

package natlab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// labCounter makes lab prefixes unique within one test process; the pid
// makes them unique across processes.
var labCounter atomic.Int32

// Lab is one set of namespaces wired as phone → NAT → natsbc → inside hosts.
type Lab struct {
	// Prefix is prepended to every namespace name of this lab.
	Prefix string
	// Dir holds configs and per-process logs; it is t.TempDir().
	Dir string

	mu    sync.Mutex
	procs []*Proc
}

// NewLab builds the four namespaces and their links. The lab is torn down
// (processes killed, namespaces deleted) in t.Cleanup, even on failure.
func NewLab(t *testing.T) *Lab {
	t.Helper()
	RequireRoot(t)
	// The pid lets SweepStaleLabs tell a live run's labs from leftovers.
	l := &Lab{
		Prefix: fmt.Sprintf("nl%dx%d", os.Getpid(), labCounter.Add(1)),
		Dir:    t.TempDir(),
	}
	t.Cleanup(func() { l.teardown(t) })
	for _, ns := range []string{NSLan, NSNAT, NSEdge, NSPBX} {
		l.mustRun(t, "ip", "netns", "add", l.NS(ns))
		l.mustRun(t, "ip", "-n", l.NS(ns), "link", "set", "lo", "up")
	}
	l.link(t, NSLan, "eth0", NSNAT, "lan0")
	l.link(t, NSNAT, "wan0", NSEdge, "out0")
	l.link(t, NSEdge, "in0", NSPBX, "eth0")

	l.addr(t, NSLan, "eth0", PhoneIP+"/24")
	// The phone reaches everything through the NAT; it has no route to
	// the inside network other than this default route.
	l.mustRun(t, "ip", "-n", l.NS(NSLan), "route", "add", "default", "via", NATInsideIP)

	l.addr(t, NSNAT, "lan0", NATInsideIP+"/24")
	l.addr(t, NSNAT, "wan0", NATPublicIP+"/24")
	l.inNS(t, NSNAT, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	// --random: the public port has nothing to do with the private one,
	// like carrier-grade and many home NATs.
	l.inNS(t, NSNAT, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE", "--random")
	// Short UDP timeouts so a 40 s silent hold really loses the mapping.
	// These sysctls are per network namespace: the host is untouched.
	l.inNS(t, NSNAT, "sysctl", "-qw",
		"net.netfilter.nf_conntrack_udp_timeout=20",
		"net.netfilter.nf_conntrack_udp_timeout_stream=20")

	l.addr(t, NSEdge, "out0", EdgeOutIP+"/24")
	l.addr(t, NSEdge, "in0", EdgeInIP+"/24")

	for _, ip := range []string{PBXIP, ProxyIP, CalleeIP, CarrierIP} {
		l.addr(t, NSPBX, "eth0", ip+"/24")
	}
	return l
}

// NS returns the full namespace name of a lab role (NSLan, NSNAT, ...).
func (l *Lab) NS(role string) string { return l.Prefix + "-" + role }

// link creates a veth pair directly inside the two namespaces, so its
// names never meet the host's interface names.
func (l *Lab) link(t *testing.T, nsA, ifA, nsB, ifB string) {
	t.Helper()
	l.mustRun(t, "ip", "-n", l.NS(nsA), "link", "add", ifA, "type", "veth",
		"peer", "name", ifB, "netns", l.NS(nsB))
	l.mustRun(t, "ip", "-n", l.NS(nsA), "link", "set", ifA, "up")
	l.mustRun(t, "ip", "-n", l.NS(nsB), "link", "set", ifB, "up")
}

func (l *Lab) addr(t *testing.T, ns, ifname, cidr string) {
	t.Helper()
	l.mustRun(t, "ip", "-n", l.NS(ns), "addr", "add", cidr, "dev", ifname)
}

// inNS runs a short command inside a lab namespace and fails the test on error.
func (l *Lab) inNS(t *testing.T, ns string, argv ...string) string {
	t.Helper()
	return l.mustRun(t, append([]string{"ip", "netns", "exec", l.NS(ns)}, argv...)...)
}

func (l *Lab) mustRun(t *testing.T, argv ...string) string {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("lab setup: %s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// keepArtifacts (on failure, or always with NATLAB_KEEP set) copies the lab directory (configs, process logs, sipp
// message traces) out of t.TempDir, which is removed after the test, to
// $NATLAB_ARTIFACTS (default: natlab-failed under the system temp dir).
func (l *Lab) keepArtifacts(t *testing.T) {
	root := os.Getenv("NATLAB_ARTIFACTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "natlab-failed")
	}
	dst := filepath.Join(root, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+"-"+l.Prefix)
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Logf("keeping artifacts: %v", err)
		return
	}
	if err := os.CopyFS(dst, os.DirFS(l.Dir)); err != nil {
		t.Logf("keeping artifacts: %v", err)
		return
	}
	t.Logf("lab artifacts kept in %s", dst)
}

func (l *Lab) teardown(t *testing.T) {
	l.mu.Lock()
	procs := l.procs
	l.mu.Unlock()
	for _, p := range procs {
		p.Kill()
	}
	if t.Failed() {
		for _, p := range procs {
			p.dumpLog(t)
		}
	}
	if t.Failed() || os.Getenv("NATLAB_KEEP") != "" {
		l.keepArtifacts(t)
	}
	for _, ns := range []string{NSLan, NSNAT, NSEdge, NSPBX, NSScan} {
		// Errors are expected when setup failed half-way, and for
		// namespaces this lab did not add (NSScan).
		_ = exec.Command("ip", "netns", "del", l.NS(ns)).Run()
	}
}
