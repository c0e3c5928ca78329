package sbc

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/stun/v3"
)

// RFC 5626 §8 / RFC 5389: a phone asks natsbc's SIP socket for its mapping,
// gets its real source back, then registers that address as its Contact:
// natsbc calls it NAT-aware (and still keeps its pinhole open).
func TestFlowSTUNOnSIPSocketThenNATAwareRegister(t *testing.T) {
	t.Parallel()
	b := newFlowBed(t, nil)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(phoneIP)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	self := conn.LocalAddr().(*net.UDPAddr).AddrPort()

	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if _, err := conn.WriteToUDPAddrPort(req.Raw, b.outside); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	n, from, err := conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("no STUN answer: %v", err)
	}
	if from != b.outside {
		t.Errorf("STUN answer from %s, want natsbc's SIP socket %s", from, b.outside)
	}
	res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
	if err := res.Decode(); err != nil || res.Type != stun.BindingSuccess || res.TransactionID != req.TransactionID {
		t.Fatalf("STUN answer %v (err %v), want a Binding success for our transaction", res, err)
	}
	var mapped stun.XORMappedAddress
	if err := mapped.GetFrom(res); err != nil {
		t.Fatal(err)
	}
	if mapped.IP.String() != phoneIP || mapped.Port != int(self.Port()) {
		t.Errorf("mapped %s, want the phone's source %s", mapped.String(), self)
	}

	contact := phoneIP + ":" + strconv.Itoa(int(self.Port()))
	reg := sipMsg("REGISTER sip:example.com SIP/2.0", []string{
		"Via: SIP/2.0/UDP " + contact + ";branch=z9hG4bK-stun1;rport",
		"Max-Forwards: 70",
		"From: <sip:stun@example.com>;tag=1",
		"To: <sip:stun@example.com>",
		"Call-ID: stunreg-" + randomHex(4),
		"CSeq: 1 REGISTER",
		"Contact: <sip:stun@" + contact + ">",
		"Expires: 3600",
	}, "")
	if _, err := conn.WriteToUDPAddrPort([]byte(reg), b.outside); err != nil {
		t.Fatal(err)
	}
	got := b.pbx.Expect(t, wait, "REGISTER at the PBX", isRequest(sip.REGISTER))
	b.pbx.SendTo(t, b.inside, replyTo(got, 200, "OK", "p", []string{"Contact: <" + uriString(contactOf(t, got)) + ">;expires=3600"}, ""))
	rec, err := b.log.waitFor("binding registered", wait)
	if err != nil {
		t.Fatal(err)
	}
	if rec["nat"] != "NAT-aware" {
		t.Errorf("verdict %v (checks %v), want NAT-aware", rec["nat"], rec["checks"])
	}
	if rec["expires"] != float64(60) {
		t.Errorf("NAT-aware phone granted %v s, want the NAT interval 60", rec["expires"])
	}
}
