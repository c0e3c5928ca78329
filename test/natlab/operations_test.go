//go:build linux

package natlab

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOperatorHangupAndReload (issue 13, items 4 and 5): `natsbc ctl
// hangup` ends a held call with a BYE on both legs; a reload that adds a
// peer and routes phones to it sends the next call there while a call in
// progress keeps its PBX, and its BYE still reaches that PBX.
func TestOperatorHangupAndReload(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, adminConfig(pbxPeer))

	callee := l.StartSipp(t, "callee", calleeAt("callee.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_wait_bye.xml"))
	n.Log.Await(t, 10*time.Second, "call answered", nil)
	var list struct {
		Calls []struct {
			ACallID string `json:"a_call_id"`
			Answer  string `json:"answer"`
		}
	}
	if err := json.Unmarshal([]byte(ctl(t, l, "--json", "calls")), &list); err != nil || len(list.Calls) != 1 || list.Calls[0].Answer == "" {
		t.Fatalf("ctl calls: %+v (%v), want the answered call", list, err)
	}
	if out := ctl(t, l, "hangup", list.Calls[0].ACallID); !strings.Contains(out, "hung up") {
		t.Fatalf("ctl hangup: %s", out)
	}
	MustSucceed(t, phone, 15*time.Second) // it got natsbc's BYE and answered it
	MustSucceed(t, callee, 15*time.Second)
	awaitEnded(t, n, "admin hangup")
	if out := ctl(t, l, "calls"); !strings.Contains(out, "0 calls") {
		t.Fatalf("ctl calls after the hangup:\n%s", out)
	}

	// A call held to pbx while the configuration changes under it.
	held := phoneCall("phone_call.xml")
	held.Hold = 15 * time.Second
	heldCallee := l.StartSipp(t, "held-callee", calleeAt("callee.xml", PBXIP))
	heldPhone := l.StartSipp(t, "held-phone", held)
	first := n.Log.Find("call answered", nil)[0].Str("a_call_id")
	if _, ok := n.Log.WaitFunc(10*time.Second, func(e LogEntry) bool {
		return e.Msg() == "call answered" && e.Str("a_call_id") != first
	}); !ok {
		t.Fatal("the held call was not answered")
	}

	l.writeNatsbcConfig(t, adminConfig(pbxPeer+`  - name: pbx2
    networks: [`+CarrierIP+`/32]
    address: `+CarrierIP+`:5060
    transport: udp
    role: pbx
routes:
  - from: pbx
    to: request-uri
  - from: pbx2
    to: request-uri
  - from: "*"
    to: pbx2
`))
	if out := ctl(t, l, "reload"); !strings.HasPrefix(out, "reloaded") {
		t.Fatalf("ctl reload: %s", out)
	}
	n.Log.Await(t, 5*time.Second, "configuration reloaded", nil)

	next := phoneCall("phone_call.xml")
	next.Port, next.Hold = 5062, 2*time.Second
	nextCallee := l.StartSipp(t, "pbx2-callee", calleeAt("callee.xml", CarrierIP))
	nextPhone := l.StartSipp(t, "next-phone", next)
	MustSucceed(t, nextPhone, 30*time.Second)
	MustSucceed(t, nextCallee, 15*time.Second) // pbx2 got the call and its BYE

	MustSucceed(t, heldPhone, 40*time.Second)
	MustSucceed(t, heldCallee, 15*time.Second) // the held call's BYE reached pbx
	if ended := n.Log.Find("call ended", map[string]string{"reason": "bye-from-a"}); len(ended) != 2 {
		t.Errorf("%d calls ended by the phone, want the held one and pbx2's", len(ended))
	}
	n.AssertNoCrash(t)
}

// TestHEPCaptureInSngrep (issue 13, item 2): with hep.address pointing at
// sngrep's HEP listener, sngrep's capture holds every SIP message of both
// legs of a call (what each sipp side sent and received), with the real
// addresses of each leg.
func TestHEPCaptureInSngrep(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	pcap := l.Dir + "/hep.pcap"
	sngrep := l.Start(t, NSEdge, "sngrep", "sngrep", "-N", "-q", "-L", "udp:127.0.0.1:9060", "-O", pcap)
	n := l.StartNatsbc(t, BaseConfig+"hep:\n  address: udp:127.0.0.1:9060\n"+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee.xml", PBXIP))
	call := phoneCall("phone_call.xml")
	call.Hold = 2 * time.Second
	phone := l.StartSipp(t, "phone", call)
	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	awaitEnded(t, n, "bye-from-a")

	var want []wireMessage
	for _, leg := range []struct {
		sippSide  string
		sipp, sbc string
	}{{"phone", NATPublicIP, EdgeOutIP}, {"callee", PBXIP, EdgeInIP}} {
		msgs, err := l.ReadSippTrace(leg.sippSide)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			w := wireMessage{leg.sipp, leg.sbc, m.Header("Call-ID"), m.Header("CSeq"), strings.Fields(m.StartLine())[0]}
			if m.Received {
				w.src, w.dst = leg.sbc, leg.sipp
			}
			if strings.HasPrefix(m.StartLine(), "SIP/2.0") {
				w.first = strings.Fields(m.StartLine())[1]
			}
			want = append(want, w)
		}
	}
	if len(want) < 12 {
		t.Fatalf("the sipp traces hold %d messages, want a whole call on both legs", len(want))
	}
	// sngrep writes each packet to its capture as it comes; the last HEP
	// packets may still be on their way.
	var missing []wireMessage
	for deadline := time.Now().Add(5 * time.Second); ; {
		got := pcapMessages(t, pcap)
		missing = missing[:0]
		for _, w := range want {
			if !got[w] {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, m := range missing {
		t.Errorf("sngrep's capture lacks %+v", m)
	}
	if err := sngrep.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	n.AssertNoCrash(t)
}

// wireMessage is what identifies a SIP message in a capture.
type wireMessage struct {
	src, dst, callID, cseq string
	first                  string // the method, or the status code
}

// pcapMessages reads the SIP messages of a capture with tshark.
func pcapMessages(t *testing.T, pcap string) map[wireMessage]bool {
	t.Helper()
	// sngrep may be writing the last packet: a capture cut short in the
	// middle of one still lists those before it.
	out, err := exec.Command("tshark", "-r", pcap, "-Y", "sip", "-T", "fields", "-E", "separator=|",
		"-e", "ip.src", "-e", "ip.dst", "-e", "sip.Call-ID", "-e", "sip.CSeq", "-e", "sip.Method", "-e", "sip.Status-Code").Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("tshark -r %s: %v", pcap, err)
	}
	got := map[wireMessage]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 6 {
			continue
		}
		m := wireMessage{f[0], f[1], f[2], f[3], f[4]}
		if f[5] != "" {
			m.first = f[5]
		}
		got[m] = true
	}
	return got
}
