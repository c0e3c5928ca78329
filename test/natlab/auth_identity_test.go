//go:build linux

package natlab

import (
	"testing"
	"time"
)

// TestDigestChallengeAndIdentity (issue 10, items 1 and 11): a phone behind
// the NAT calls a PBX that challenges INVITE with 407. The 407 reaches the
// phone with the PBX's Proxy-Authenticate, the phone's retry reaches the
// PBX with its Proxy-Authorization untouched and is answered; the
// P-Asserted-Identity and Remote-Party-ID the phone claimed never reach the
// PBX, while the PBX's own P-Asserted-Identity (a trusted peer) reaches the
// phone. The sipp scenarios check each header and fail naming the step.
func TestDigestChallengeAndIdentity(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+pbxPeer)
	pbx := calleeAt("callee_challenges.xml", PBXIP)
	pbx.Calls = 2 // the challenged INVITE and the retry are two B-leg dialogs
	callee := l.StartSipp(t, "pbx", pbx)
	phone := l.StartSipp(t, "phone", phoneCall("phone_auth_identity.xml"))

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 15*time.Second)
	rejected := n.Log.Await(t, 5*time.Second, "call ended", map[string]string{"reason": "rejected"})
	answered := n.Log.Await(t, 5*time.Second, "call ended", map[string]string{"reason": "bye-from-a"})
	if rejected.Str("a_call_id") != answered.Str("a_call_id") {
		t.Errorf("the challenged INVITE and its retry are one A-leg Call-ID, logged %q and %q", rejected.Str("a_call_id"), answered.Str("a_call_id"))
	}
	n.AssertNoCrash(t)
}
