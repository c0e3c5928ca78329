//go:build linux

package natlab

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestScannerBannedWhileCallsGoOn (issue 12, scanners): a scanner on the
// internet side (its own public address, no NAT) runs SIPVicious' svmap
// against natsbc while a phone behind the NAT places 20 calls through
// natsbc to the PBX. natsbc answers the scanner nothing (svmap identifies
// no SIP device), bans it on its first request (its User-Agent), and every
// call of the phone succeeds. svwar is not run here: in this lab it sends
// part of its requests from the NAT router's own address whatever its -b
// says, which is the phone's public address, and natsbc rightly bans that.
func TestScannerBannedWhileCallsGoOn(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	addPublicPhone(t, l) // PublicPhoneIP: the scanner's address
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", Sipp{Scenario: "callee.xml", NS: NSPBX, IP: PBXIP, Port: 5060, Calls: 20, Hold: time.Second})
	phone := l.StartSipp(t, "phone", Sipp{Scenario: "phone_call.xml", NS: NSLan, IP: PhoneIP, Port: 5060,
		Remote: EdgeOutIP + ":5060", Service: "callee", Calls: 20, Rate: 2, Hold: time.Second})

	svmap := l.Start(t, NSNAT, "svmap", "svmap", "-b", PublicPhoneIP, "-x", PublicPhoneIP, "-P", "5070", "-p5060", EdgeOutIP)
	if err := svmap.Wait(60 * time.Second); err != nil {
		t.Fatalf("svmap: %v", err)
	}
	MustSucceed(t, phone, 90*time.Second)
	MustSucceed(t, callee, 10*time.Second)

	mapOut, _ := os.ReadFile(svmap.LogPath)
	if strings.Contains(string(mapOut), EdgeOutIP+":5060") {
		t.Errorf("svmap identified natsbc:\n%s", mapOut)
	}
	ban, ok := n.Log.WaitFunc(0, func(e LogEntry) bool { return e.Msg() == "source banned" && e.Str("src") == PublicPhoneIP })
	if !ok {
		t.Fatalf("natsbc did not ban the scanner at %s", PublicPhoneIP)
	}
	if why := ban.Str("why"); why != "scanner" {
		t.Errorf("scanner banned for %q, want scanner: %s", why, ban.Raw)
	}
	if ended := n.Log.Find("call ended", nil); len(ended) != 20 {
		t.Errorf("natsbc ended %d calls, want the phone's 20", len(ended))
	}
	t.Logf("svmap said:\n%s", mapOut)
	n.AssertNoCrash(t)
}
