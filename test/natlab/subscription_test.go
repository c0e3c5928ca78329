//go:build linux

package natlab

import (
	"strings"
	"testing"
	"time"
)

// TestSubscriptionsBaresip (issue 11, subscriptions): baresip behind the
// port-randomising NAT registers through natsbc to Kamailio and subscribes
// to its voicemail (message-summary, RFC 3842, its mwi module) and to a
// colleague's presence (RFC 3856, its presence module). Kamailio hands the
// SUBSCRIBEs to the PBX side's voicemail and presence servers (sipp), which
// accept for 60 s and send three NOTIFYs each, the second and the third
// after 25 s of silence, past the NAT's 20 s UDP timeout: every NOTIFY
// reaches the phone through natsbc over the flow the binding's keepalive
// holds open, with its body intact, and the phone's refresh SUBSCRIBE is
// answered.
func TestSubscriptionsBaresip(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	const mwiServer, presenceServer = CallerIP + ":5080", CallerIP + ":5081"
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{Password: phonePassword,
		MWIServer: mwiServer, PresenceServer: presenceServer})
	n := l.StartNatsbc(t, BaseConfig+phonesPBXPeer)
	vm := l.StartSipp(t, "voicemail", Sipp{Scenario: "notifier_mwi.xml", NS: NSPBX, IP: CallerIP, Port: 5080})
	ps := l.StartSipp(t, "presence", Sipp{Scenario: "notifier_presence.xml", NS: NSPBX, IP: CallerIP, Port: 5081})
	alice := l.StartBaresip(t, LAN1, BaresipOptions{User: "alice", Password: phonePassword,
		Modules:  []string{"mwi.so", "presence.so"},
		Contacts: []string{`"Bob" <sip:bob@` + EdgeOutIP + `>;presence=p2p`}})
	alice.AwaitRegistered(t, 15*time.Second)

	MustSucceed(t, vm, 2*time.Minute)
	MustSucceed(t, ps, 30*time.Second)

	var mwi, pres []TracedMessage
	for _, m := range alice.Traced(time.Time{}) {
		if !m.Received || !strings.HasPrefix(m.Text, "NOTIFY ") {
			continue
		}
		switch m.Header("Event") {
		case "message-summary":
			mwi = append(mwi, m)
		case "presence":
			pres = append(pres, m)
		}
	}
	if len(mwi) < 3 || len(pres) < 3 {
		t.Fatalf("alice got %d message-summary and %d presence NOTIFYs, want 3 each; her log: %s", len(mwi), len(pres), alice.LogPath)
	}
	if last := mwi[len(mwi)-1].Text; !strings.Contains(last, "Messages-Waiting: yes") || !strings.Contains(last, "Voice-Message: 2/0 (0/0)") {
		t.Errorf("last MWI NOTIFY body at alice:\n%s", last)
	}
	if !strings.Contains(pres[1].Text, "<basic>open</basic>") || !strings.Contains(pres[1].Text, "online") {
		t.Errorf("second presence NOTIFY body at alice:\n%s", pres[1].Text)
	}
	// The second and third came after 25 s of silence each.
	if gap := mwi[2].At.Sub(mwi[0].At); gap < 45*time.Second {
		t.Errorf("the MWI NOTIFYs span %v, want two NAT timeouts (50 s)", gap)
	}
	if e, ok := n.Log.WaitFunc(0, func(e LogEntry) bool { return e.Msg() == "subscription started" }); !ok {
		t.Error("natsbc logged no \"subscription started\"")
	} else {
		t.Logf("%s", e.Raw)
	}
	reg.AssertNeverReceived(t, "192.168.")
	n.AssertNoCrash(t)
}
