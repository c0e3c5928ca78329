package media

import "log/slog"

// FlowStats counts one direction of a call (A→B: what leg a's peer sent).
type FlowStats struct {
	Packets     uint64 `json:"packets"` // RTP packets relayed
	Bytes       uint64 `json:"bytes"`   // RTP bytes relayed
	RTCPPackets uint64 `json:"rtcp"`    // RTCP packets relayed
	// Dropped counts packets from sources that may not latch: never relayed
	// (RTP bleed / injection, CVE-2017-14114).
	Dropped uint64 `json:"dropped"`
	// Unsent counts the peer's packets natsbc had nowhere to send: the
	// other leg's peer is NATed and had not sent any yet (no latch).
	Unsent uint64 `json:"unsent"`
	// Lost counts RTP sequence numbers never seen (RFC 3550 §A.3).
	Lost uint64 `json:"lost"`
	// JitterMs is the interarrival jitter of RFC 3550 §A.8 in milliseconds
	// (in a call total: the worst stream's).
	JitterMs float64 `json:"jitter_ms"`
}

// StreamStats counts one m= line.
type StreamStats struct {
	Index int       `json:"index"`
	Media string    `json:"media"`
	AtoB  FlowStats `json:"a_to_b"`
	BtoA  FlowStats `json:"b_to_a"`
}

// CallStats counts a call: totals per direction and the streams apart.
type CallStats struct {
	AtoB    FlowStats     `json:"a_to_b"`
	BtoA    FlowStats     `json:"b_to_a"`
	Streams []StreamStats `json:"streams"`
}

// LogValue lets sbc log a call's stats in one attribute.
func (s CallStats) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Attr{Key: "a_to_b", Value: s.AtoB.LogValue()},
		slog.Attr{Key: "b_to_a", Value: s.BtoA.LogValue()},
	)
}

// LogValue keeps a direction's log line short.
func (f FlowStats) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Uint64("packets", f.Packets), slog.Uint64("bytes", f.Bytes),
		slog.Uint64("rtcp", f.RTCPPackets), slog.Uint64("dropped", f.Dropped), slog.Uint64("unsent", f.Unsent),
		slog.Uint64("lost", f.Lost), slog.Float64("jitter_ms", f.JitterMs),
	)
}

// add folds a stream's direction into a call total.
func (f *FlowStats) add(g FlowStats) {
	f.Packets += g.Packets
	f.Bytes += g.Bytes
	f.RTCPPackets += g.RTCPPackets
	f.Dropped += g.Dropped
	f.Unsent += g.Unsent
	f.Lost += g.Lost
	f.JitterMs = max(f.JitterMs, g.JitterMs)
}
