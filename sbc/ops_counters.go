package sbc

import (
	"sync"
	"sync/atomic"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/nat"
)

// opsCounters are the signalling and media counters behind the metrics
// of issue 13, item 1 that the call counters (call_counters.go) do not
// keep. Atomics: they are bumped on the message path.
type opsCounters struct {
	// acksMissing counts the 2xx natsbc sent on a leg that no ACK answered
	// within 64*T1 (the call was ended); resent2xx the retransmissions of
	// natsbc's 2xx awaiting an ACK; peer2xx the 2xx a peer retransmitted
	// because natsbc's ACK had not reached it.
	acksMissing, resent2xx, peer2xx [2]atomic.Uint64

	// messages counts SIP messages on the wire, by transport and direction
	// (the tap).
	messages [transportCount][2]atomic.Uint64

	checksMu  sync.Mutex
	natChecks map[checkKey]uint64

	// ended sums the media of ended calls; with the calls up it makes
	// counters that only grow. jitter is the histogram of each ended
	// call's jitter per direction.
	mediaMu sync.Mutex
	ended   media.CallStats
	jitter  [2]Histogram
}

// checkKey is one NAT check fired where (register or dialog).
type checkKey struct{ Check, Where string }

// Transports counted (index of opsCounters.messages).
const (
	transportUDP = iota
	transportTCP
	transportTLS
	transportWS
	transportWSS
	transportCount
)

var transportNames = [transportCount]string{"udp", "tcp", "tls", "ws", "wss"}

// transportIndex is the counter index of a message's transport.
func transportIndex(t string) int {
	switch lower(t) {
	case "udp":
		return transportUDP
	case "tls":
		return transportTLS
	case "ws":
		return transportWS
	case "wss":
		return transportWSS
	}
	return transportTCP
}

// JitterBuckets are the upper bounds (seconds) of the jitter histogram:
// from a LAN's fraction of a millisecond to a jitter buffer's limit.
var JitterBuckets = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2}

func newOpsCounters() *opsCounters {
	o := &opsCounters{natChecks: map[checkKey]uint64{}}
	for i := range o.jitter {
		o.jitter[i] = newHistogram(JitterBuckets)
	}
	return o
}

func (o *opsCounters) checksFired(where string, v nat.Verdict) {
	if len(v.Checks) == 0 {
		return
	}
	o.checksMu.Lock()
	for _, c := range v.Checks {
		o.natChecks[checkKey{string(c), where}]++
	}
	o.checksMu.Unlock()
}

// mediaEnded folds an ended call's media into the totals, and marks the
// call folded (under mediaMu, so a scrape counts it once: up or ended).
func (o *opsCounters) mediaEnded(c *call, st media.CallStats) {
	o.mediaMu.Lock()
	defer o.mediaMu.Unlock()
	c.mediaFolded = true
	if len(st.Streams) == 0 {
		return // not relayed
	}
	addFlow(&o.ended.AtoB, st.AtoB)
	addFlow(&o.ended.BtoA, st.BtoA)
	o.jitter[0].observe(st.AtoB.JitterMs / 1000)
	o.jitter[1].observe(st.BtoA.JitterMs / 1000)
}

func addFlow(to *media.FlowStats, f media.FlowStats) {
	to.Packets += f.Packets
	to.Bytes += f.Bytes
	to.RTCPPackets += f.RTCPPackets
	to.Dropped += f.Dropped
	to.Unsent += f.Unsent
	to.Lost += f.Lost
}

// OpsStats is the snapshot of opsCounters in Stats.
type OpsStats struct {
	// ACKsMissing, Resent2xx and Peer2xx are by leg (0: a, 1: b).
	ACKsMissing, Resent2xx, Peer2xx [2]uint64
	// Messages by transport ("udp", "tcp", "tls", "ws", "wss") and
	// direction (0 in, 1 out).
	Messages map[string][2]uint64
	// Malformed counts messages refused as not SIP natsbc can take, by
	// transport (stats.go fills it).
	Malformed map[string]uint64
	// NATChecks by check and where it fired.
	NATChecks map[[2]string]uint64
	// Media sums every relayed call's media per direction, ended and up.
	Media media.CallStats
	// Jitter is the histogram per direction (0: a→b) of ended calls'
	// jitter, in seconds.
	Jitter [2]Histogram
}

// snapshot reads the counters; up are the calls listed as up, whose media
// counts unless they were folded in the meantime.
func (o *opsCounters) snapshot(up []*call) OpsStats {
	var s OpsStats
	for i := range 2 {
		s.ACKsMissing[i], s.Resent2xx[i], s.Peer2xx[i] = o.acksMissing[i].Load(), o.resent2xx[i].Load(), o.peer2xx[i].Load()
	}
	s.Messages = map[string][2]uint64{}
	for i, name := range transportNames {
		s.Messages[name] = [2]uint64{o.messages[i][0].Load(), o.messages[i][1].Load()}
	}
	o.checksMu.Lock()
	s.NATChecks = make(map[[2]string]uint64, len(o.natChecks))
	for k, n := range o.natChecks {
		s.NATChecks[[2]string{k.Check, k.Where}] = n
	}
	o.checksMu.Unlock()
	o.mediaMu.Lock()
	s.Media = o.ended
	for i := range s.Jitter {
		s.Jitter[i] = o.jitter[i].clone()
	}
	for _, c := range up {
		if !c.mediaFolded {
			st := c.mediaStats()
			addFlow(&s.Media.AtoB, st.AtoB)
			addFlow(&s.Media.BtoA, st.BtoA)
		}
	}
	o.mediaMu.Unlock()
	return s
}
