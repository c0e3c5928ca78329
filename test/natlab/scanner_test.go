//go:build linux

package natlab

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestScannerBannedWhileCallsGoOn (issue 12, scanners): a scanner host on
// the internet side (ScannerIP, no NAT) runs SIPVicious against natsbc
// (svmap, then svwar, then svcrack) while a phone behind the NAT places
// 20 calls through natsbc to the PBX. natsbc answers the scanner nothing:
// svmap identifies no SIP device, svwar finds no extension, svcrack gets
// no answer to a single try; the scanner is banned on its first request
// (its User-Agent) and every call of the phone succeeds.
func TestScannerBannedWhileCallsGoOn(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	l.AddScannerHost(t)
	n := l.StartNatsbc(t, BaseConfig+"admin:\n  listen: "+adminAddr+"\n"+pbxPeer)
	callee := l.StartSipp(t, "callee", Sipp{Scenario: "callee.xml", NS: NSPBX, IP: PBXIP, Port: 5060, Calls: 20, Hold: time.Second})
	phone := l.StartSipp(t, "phone", Sipp{Scenario: "phone_call.xml", NS: NSLan, IP: PhoneIP, Port: 5060,
		Remote: EdgeOutIP + ":5060", Service: "callee", Calls: 20, Rate: 2, Hold: time.Second})

	tools := []struct {
		name string
		argv []string
	}{
		{"svmap", []string{"svmap", "-p5060", EdgeOutIP}},
		{"svwar", []string{"svwar", "--force", "-e100-199", "--maximumtime=5", "-p", "5060", EdgeOutIP}},
		{"svcrack", []string{"svcrack", "-u100", "-r1-200", "-p", "5060", EdgeOutIP}},
	}
	said := map[string]string{}
	for _, tool := range tools {
		p := l.Start(t, NSScan, tool.name, tool.argv...)
		if err := p.Wait(60 * time.Second); err != nil {
			t.Fatalf("%s: %v", tool.name, err)
		}
		out, _ := os.ReadFile(p.LogPath)
		said[tool.name] = string(out)
		t.Logf("%s said:\n%s", tool.name, out)
	}
	MustSucceed(t, phone, 90*time.Second)
	MustSucceed(t, callee, 10*time.Second)

	// Each tool's own verdict: nothing found (svmap no device, svwar no
	// extension, svcrack no password).
	for _, tool := range tools {
		if !strings.Contains(said[tool.name], "found nothing") || strings.Contains(said[tool.name], EdgeOutIP+":5060 ") {
			t.Errorf("%s found something behind natsbc:\n%s", tool.name, said[tool.name])
		}
	}
	ban, ok := n.Log.WaitFunc(0, func(e LogEntry) bool { return e.Msg() == "source banned" && e.Str("src") == ScannerIP })
	if !ok {
		t.Fatalf("natsbc did not ban the scanner at %s", ScannerIP)
	}
	if why := ban.Str("why"); why != "scanner" {
		t.Errorf("scanner banned for %q, want scanner: %s", why, ban.Raw)
	}
	if bans := n.Log.Find("source banned", nil); len(bans) != 1 {
		t.Errorf("%d bans, want the scanner's one", len(bans))
	}
	// Every later datagram of the scanner (svwar's and svcrack's) was
	// dropped before parsing: none of it reached the PBX.
	if dropped := metric(t, l, `natsbc_ingress_dropped_total{reason="banned"}`); dropped < 2 {
		t.Errorf("natsbc dropped %v datagrams of the banned scanner; svwar and svcrack sent more", dropped)
	}
	if ended := n.Log.Find("call ended", nil); len(ended) != 20 {
		t.Errorf("natsbc ended %d calls, want the phone's 20", len(ended))
	}
	n.AssertNoCrash(t)
}
