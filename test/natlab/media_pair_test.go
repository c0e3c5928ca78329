//go:build linux

package natlab

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// mediaPair is the RTP endpoints of one anchored call.
type mediaPair struct {
	phone, pbx *RTPPeer
}

// startMediaPair starts both sides' RTP endpoints, each sending to the
// relay address its SDP names. The PBX side waits until the phone's media
// reaches it: natsbc sends to a NATed phone only where the phone's first
// packet came from (RFC 4961), so PBX packets sent before are not relayed.
func startMediaPair(t *testing.T, l *Lab, phone, callee mediaSide) mediaPair {
	t.Helper()
	pbx := l.StartRTPPeer(t, callee.endpoint, callee.rtpSpec(true))
	ph := l.StartRTPPeer(t, phone.endpoint, phone.rtpSpec(false))
	// 15 s bound a hang: a loaded CI machine can take seconds to start an
	// endpoint process in its namespace.
	pbx.Await(t, 15*time.Second, "the phone's first packet through natsbc", func(r RTPReport) bool { return r.Received > 0 })
	pbx.Resume(t)
	ph.Await(t, 15*time.Second, "the PBX's first packet through natsbc", func(r RTPReport) bool { return r.Received > 0 })
	return mediaPair{phone: ph, pbx: pbx}
}

// awaitBothReceiveAfter waits until both endpoints received packets after since.
func (m mediaPair) awaitBothReceiveAfter(t *testing.T, since time.Time, what string) {
	t.Helper()
	for _, p := range []*RTPPeer{m.phone, m.pbx} {
		base, later := p.AwaitReceivedAfter(t, since, 5*time.Second)
		t.Logf("%s: %s receives (%d -> %d packets)", what, p.Name, base.Received, later.Received)
	}
}

// pauseAndCollect stops both endpoints' sending and returns their reports
// once every packet sent has arrived, or after a second of waiting for
// the lost ones.
func (m mediaPair) pauseAndCollect(t *testing.T) (phone, pbx RTPReport) {
	t.Helper()
	return m.pauseAndCollectBy(t, func(r RTPReport) uint64 { return r.Received })
}

// pauseAndCollectBy is pauseAndCollect counting what arrived with
// received (RTP packets, or the UDPTL datagrams of a fax pair).
func (m mediaPair) pauseAndCollectBy(t *testing.T, received func(RTPReport) uint64) (phone, pbx RTPReport) {
	t.Helper()
	paused := time.Now()
	m.phone.Pause(t)
	m.pbx.Pause(t)
	silent := func(r RTPReport) bool { return !r.Sending && r.Time().After(paused) }
	phoneSent := m.phone.Await(t, 2*time.Second, "a report after the pause", silent)
	pbxSent := m.pbx.Await(t, 2*time.Second, "a report after the pause", silent)
	return m.phone.settled(pbxSent.Sent, received), m.pbx.settled(phoneSent.Sent, received)
}

// assertDelivered checks that at least 95 % of what from sent reached to.
func assertDelivered(t *testing.T, direction string, sent, got RTPReport) {
	t.Helper()
	ratio := float64(got.Received) / float64(max(sent.Sent, 1))
	t.Logf("%s: sent %d, received %d (%.1f %%), %d sequence gaps (%d missing, %d late)",
		direction, sent.Sent, got.Received, 100*ratio, got.SeqGaps, got.SeqMissing, got.SeqLate)
	if sent.Sent < 100 || ratio < 0.95 {
		t.Errorf("%s: %d of %d packets arrived (%.1f %%), want at least 95 %% of at least 100", direction,
			got.Received, sent.Sent, 100*ratio)
	}
}

// assertOnlyFrom checks that every packet an endpoint received came from
// want (natsbc's relay port facing it) and none was injected.
func assertOnlyFrom(t *testing.T, who string, r RTPReport, want netip.AddrPort) {
	t.Helper()
	for src, n := range r.Sources {
		if src != want.String() {
			t.Errorf("%s received %d packets from %s, want only natsbc's %s (sources %v)", who, n, src, want, r.Sources)
		}
	}
	if r.Injected != 0 {
		t.Errorf("%s received %d injected packets", who, r.Injected)
	}
}

// flowStats is one direction of the media stats natsbc logs with "call ended".
type flowStats struct {
	Packets uint64  `json:"packets"`
	Bytes   uint64  `json:"bytes"`
	RTCP    uint64  `json:"rtcp"`
	Dropped uint64  `json:"dropped"`
	Lost    uint64  `json:"lost"`
	Jitter  float64 `json:"jitter_ms"`
}

// endedMedia reads the media stats of a "call ended" line.
func endedMedia(t *testing.T, e LogEntry) (aToB, bToA flowStats) {
	t.Helper()
	var line struct {
		Media struct {
			AtoB flowStats `json:"a_to_b"`
			BtoA flowStats `json:"b_to_a"`
		} `json:"media"`
	}
	if err := json.Unmarshal([]byte(e.Raw), &line); err != nil || !strings.Contains(e.Raw, `"a_to_b"`) {
		t.Fatalf("\"call ended\" without media stats (%v): %s", err, e.Raw)
	}
	return line.Media.AtoB, line.Media.BtoA
}

// settled is the report once the endpoint has received want packets, or
// its last one after a second of waiting for the rest.
func (p *RTPPeer) settled(want uint64, received func(RTPReport) uint64) RTPReport {
	if r, ok := p.WaitReport(time.Second, func(r RTPReport) bool { return received(r) >= want }); ok {
		return r
	}
	return p.Last()
}

// finishTwoWayCall stops both endpoints and checks the call of the
// two-way scenarios: every packet arrived each way, each side heard only
// natsbc's relay port facing it, both sipp runs passed, and the phone's
// BYE ended the call. It returns the endpoints' reports and natsbc's counts.
func finishTwoWayCall(t *testing.T, n *Natsbc, m mediaPair, ps, cs mediaSide, phone, callee *Proc) (phoneRep, pbxRep RTPReport, aToB, bToA flowStats) {
	t.Helper()
	phoneRep, pbxRep = m.pauseAndCollect(t)
	assertDelivered(t, "phone -> PBX", phoneRep, pbxRep)
	assertDelivered(t, "PBX -> phone", pbxRep, phoneRep)
	assertOnlyFrom(t, "the phone", phoneRep, ps.got.Media)
	assertOnlyFrom(t, "the PBX", pbxRep, cs.got.Media)

	MustSucceed(t, phone, 30*time.Second)
	MustSucceed(t, callee, 10*time.Second)
	aToB, bToA = endedMedia(t, awaitEnded(t, n, "bye-from-a"))
	t.Logf("natsbc: a->b %+v, b->a %+v", aToB, bToA)
	return phoneRep, pbxRep, aToB, bToA
}
