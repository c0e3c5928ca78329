//go:build linux

package natlab

import (
	"testing"
	"time"
)

// TestPhoneBehindNATCallsPBX (scenario a): a phone behind a masquerading
// NAT, with its private address in Via, Contact and SDP, calls the PBX
// through natsbc. Both sides receive their ACK, the call holds 40 s with
// no BYE from anyone although the NAT forgets the phone's mapping after
// 20 s, then the phone's BYE reaches the callee and natsbc logs bye-from-a.
// natsbc runs from the command line alone (embedded defaults, T1 500 ms).
func TestPhoneBehindNATCallsPBX(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbcArgs(t, "--listen", EdgeOutIP+":5060", "--listen", EdgeInIP+":5060", "--pbx", PBXIP+":5060")
	callee := l.StartSipp(t, "callee", calleeAt("callee.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_call.xml"))

	n.Log.Await(t, 10*time.Second, "call answered", nil)
	assertNATed(t, l, "udp")
	assertHeldCall(t, n, phone, callee)
	assertSBCIsRemoteTarget(t, l, "callee", true)
	n.Log.Await(t, 0, "call started", nil)
	n.AssertNoCrash(t)
}

// TestCallOverTCP (scenario d): the same call with the phone on TCP through
// the NAT (the callee stays on UDP). natsbc must send the ACK's 2xx and the
// callee's messages back on the phone's own connection.
func TestCallOverTCP(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee.xml", PBXIP))
	s := phoneCall("phone_call.xml")
	s.TCP = true
	phone := l.StartSipp(t, "phone", s)

	n.Log.Await(t, 10*time.Second, "call answered", nil)
	assertNATed(t, l, "tcp")
	assertHeldCall(t, n, phone, callee)
	assertSBCIsRemoteTarget(t, l, "callee", true)
	n.AssertNoCrash(t)
}

// TestCancelWhileRinging (scenario d): the callee rings, the phone CANCELs;
// the phone gets 200 for the CANCEL and 487 for the INVITE, the callee
// receives the CANCEL and the ACK for its 487, natsbc logs reason cancel.
func TestCancelWhileRinging(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee_cancel.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_cancel.xml"))

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	awaitEnded(t, n, "cancel")
	assertOneCallEnded(t, n)
	if got := n.Log.Find("call answered", nil); len(got) != 0 {
		t.Errorf("a cancelled call was logged as answered: %s", got[0].Raw)
	}
	n.AssertNoCrash(t)
}

// TestReinviteBothSidesAndCalleeBye (scenario d): after the call is up the
// phone re-INVITEs (200, ACK), then the callee re-INVITEs in its own CSeq
// space (200, ACK received by the callee), then the callee hangs up; the
// phone receives that BYE and natsbc logs bye-from-b.
func TestReinviteBothSidesAndCalleeBye(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", calleeAt("callee_reinvite.xml", PBXIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_reinvite.xml"))

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	awaitEnded(t, n, "bye-from-b")
	assertOneCallEnded(t, n)
	n.AssertNoCrash(t)
}
