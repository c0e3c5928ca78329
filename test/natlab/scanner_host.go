//go:build linux

package natlab

import "testing"

// The security scenarios' attacker: a host on the internet side with an
// address of its own, neither the phone's NAT nor a peer. It hangs off
// natsbc's edge namespace on a link of its own, so whatever it runs
// (SIPVicious, a sipp flood) can only ever send from ScannerIP.
const (
	NSScan         = "scan"
	ScannerIP      = "198.51.100.66"
	EdgeScanSideIP = "198.51.100.5" // the edge's side of the scanner's link
)

// AddScannerHost creates the scanner's namespace and link. natsbc's
// outside address (EdgeOutIP) is reachable from it through the edge.
func (l *Lab) AddScannerHost(t *testing.T) {
	t.Helper()
	l.mustRun(t, "ip", "netns", "add", l.NS(NSScan))
	l.mustRun(t, "ip", "-n", l.NS(NSScan), "link", "set", "lo", "up")
	l.link(t, NSScan, "eth0", NSEdge, "scan0")
	l.addr(t, NSScan, "eth0", ScannerIP+"/24")
	l.addr(t, NSEdge, "scan0", EdgeScanSideIP+"/24")
	l.mustRun(t, "ip", "-n", l.NS(NSScan), "route", "add", "default", "via", EdgeScanSideIP)
}
