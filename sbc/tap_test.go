package sbc

import (
	"bufio"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/policy"
)

// recordingTap keeps the first line and addresses of what it saw.
type recordingTap struct {
	mu   sync.Mutex
	seen []tapped
}

type tapped struct {
	received      bool
	local, remote netip.AddrPort
	line          string
}

func (r *recordingTap) SIP(received bool, _ string, local, remote netip.AddrPort, msg []byte) {
	line, _, _ := strings.Cut(string(msg), "\r\n")
	r.mu.Lock()
	r.seen = append(r.seen, tapped{received, local, remote, line})
	r.mu.Unlock()
}

func (r *recordingTap) has(want tapped) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.seen {
		if s == want {
			return true
		}
	}
	return false
}

// Issue 13, item 2: the tap (HEP export) sees each message of both legs
// with natsbc's socket and the real far address, and the B-leg's Call-ID
// correlates to the A-leg's.
func TestFlowTapSeesBothLegs(t *testing.T) {
	t.Parallel()
	tap := &recordingTap{}
	b := newFlowBedWith(t, nil, func(o *Options, _ netip.AddrPort) { o.Tap = tap })
	tr := b.establish(t)
	inv := "INVITE " + tr.bInvite.(interface{ StartLine() string }).StartLine()[len("INVITE "):]
	for _, want := range []tapped{
		{true, b.outside, b.phone.addr(), strings.SplitN(tr.phoneInvite, "\r\n", 2)[0]},
		{false, b.inside, b.pbx.addr(), inv},
		{true, b.inside, b.pbx.addr(), "SIP/2.0 200 OK"},
		{false, b.outside, b.phone.addr(), "SIP/2.0 200 OK"},
	} {
		if !tap.has(want) {
			t.Errorf("the tap did not see %+v", want)
		}
	}
	if got := b.srv.CorrelationID(tr.pbx.callID); got != tr.phone.callID {
		t.Errorf("CorrelationID(B-leg) = %q, want the A-leg's %q", got, tr.phone.callID)
	}
	if got := b.srv.CorrelationID("unknown@x"); got != "unknown@x" {
		t.Errorf("CorrelationID of no call = %q", got)
	}
}

// Over TCP the tap sees the request as it came, before a handler adds its
// To tag (-race would see the two touch it at once), and the answer.
func TestTCPTapSeesRequestAndAnswer(t *testing.T) {
	t.Parallel()
	tap := &recordingTap{}
	addr, _ := newTCPServer(t, policy.Config{}, ingress.ShieldConfig{}, func(o *Options) { o.Tap = tap })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "OPTIONS sip:" + addr + " SIP/2.0\r\nVia: SIP/2.0/TCP " + c.LocalAddr().String() + ";branch=z9hG4bK-tcptap\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:" + addr + ">\r\nCall-ID: tcp-tap\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Fatalf("answer %q, %v", line, err)
	}
	local, remote := netip.MustParseAddrPort(addr), netip.MustParseAddrPort(c.LocalAddr().String())
	deadline := time.Now().Add(wait)
	for !tap.has(tapped{false, local, remote, "SIP/2.0 200 OK"}) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // tapped right after the write the client already read
	}
	for _, want := range []tapped{{true, local, remote, "OPTIONS sip:" + addr + " SIP/2.0"}, {false, local, remote, "SIP/2.0 200 OK"}} {
		if !tap.has(want) {
			t.Errorf("the tap did not see %+v; saw %+v", want, tap.seen)
		}
	}
}
