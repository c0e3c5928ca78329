package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/natsbc/natsbc/hep"
	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/registrar"
	"github.com/natsbc/natsbc/sbc"
)

// The metrics of issue 13, item 1 beyond calls, shield and TCP: what the
// signalling, the registrar and the relay did. Every label set is bounded:
// legs a|b, transports udp|tcp, directions, natsbc's own check names and
// reasons.
var (
	acksMissingDesc = prometheus.NewDesc("natsbc_acks_missing_total",
		"2xx natsbc sent on a leg that no ACK answered within 64*T1 (the call was ended: the ~32 s drop natsbc exists to prevent).", []string{"leg"}, nil)
	retrans2xxDesc = prometheus.NewDesc("natsbc_2xx_retransmissions_total",
		"2xx retransmissions on a leg: by natsbc awaiting the peer's ACK (by=natsbc), or by the peer, whom natsbc's ACK had not reached (by=peer).", []string{"leg", "by"}, nil)
	messagesDesc = prometheus.NewDesc("natsbc_sip_messages_total",
		"SIP messages on the wire, by transport and direction (in, out); UDP retransmissions included.", []string{"transport", "direction"}, nil)
	malformedDesc = prometheus.NewDesc("natsbc_sip_malformed_total",
		"Messages refused as not SIP natsbc can take (answered 400 or dropped), by transport.", []string{"transport"}, nil)
	natChecksDesc = prometheus.NewDesc("natsbc_nat_checks_total",
		"NAT checks that fired (contact-private, via-port-differs, ...), where: register (a REGISTER's verdict) or dialog (a leg's route).", []string{"check", "where"}, nil)
	regByNATDesc = prometheus.NewDesc("natsbc_registrations_by_nat",
		"Bindings natsbc holds, by NAT verdict.", []string{"nat"}, nil)
	keepSentDesc = prometheus.NewDesc("natsbc_keepalives_sent_total",
		"Keepalives natsbc sent to NATed bindings.", nil, nil)
	keepMissedDesc = prometheus.NewDesc("natsbc_keepalives_missed_total",
		"Keepalives left unanswered.", nil, nil)
	bindingsRemovedDesc = prometheus.NewDesc("natsbc_bindings_removed_total",
		"Bindings natsbc gave up on, by reason (expired, keepalive).", []string{"reason"}, nil)
	mediaPacketsDesc = prometheus.NewDesc("natsbc_media_packets_total",
		"RTP (and UDPTL, ZRTP) packets the relay forwarded, by direction (a_to_b: from the caller's side).", []string{"direction"}, nil)
	mediaBytesDesc = prometheus.NewDesc("natsbc_media_bytes_total",
		"Bytes of those packets, by direction.", []string{"direction"}, nil)
	mediaRTCPDesc = prometheus.NewDesc("natsbc_media_rtcp_packets_total",
		"RTCP packets the relay forwarded, by direction.", []string{"direction"}, nil)
	mediaDroppedDesc = prometheus.NewDesc("natsbc_media_dropped_total",
		"Packets the relay did not forward, by direction and cause (not_latched: a source that may not latch; no_destination: the other peer had not sent yet).", []string{"direction", "cause"}, nil)
	mediaLostDesc = prometheus.NewDesc("natsbc_media_lost_total",
		"RTP sequence numbers never seen (RFC 3550 §A.3), by direction.", []string{"direction"}, nil)
	mediaJitterDesc = prometheus.NewDesc("natsbc_media_jitter_seconds",
		"Interarrival jitter (RFC 3550 §A.8) of each ended relayed call, by direction.", []string{"direction"}, nil)
	hepDesc = prometheus.NewDesc("natsbc_hep_packets_total",
		"HEP packets to the collector, by outcome (sent, dropped: queue full or no connection).", []string{"outcome"}, nil)
)

var opsDescs = []*prometheus.Desc{acksMissingDesc, retrans2xxDesc, messagesDesc, malformedDesc, natChecksDesc,
	regByNATDesc, keepSentDesc, keepMissedDesc, bindingsRemovedDesc, mediaPacketsDesc, mediaBytesDesc, mediaRTCPDesc,
	mediaDroppedDesc, mediaLostDesc, mediaJitterDesc}

var legNames = [2]string{"a", "b"}

func collectOps(ch chan<- prometheus.Metric, o *sbc.OpsStats) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for i, leg := range legNames {
		counter(acksMissingDesc, o.ACKsMissing[i], leg)
		counter(retrans2xxDesc, o.Resent2xx[i], leg, "natsbc")
		counter(retrans2xxDesc, o.Peer2xx[i], leg, "peer")
	}
	for transport, n := range o.Messages {
		counter(messagesDesc, n[0], transport, "in")
		counter(messagesDesc, n[1], transport, "out")
	}
	for transport, n := range o.Malformed {
		counter(malformedDesc, n, transport)
	}
	for k, n := range o.NATChecks {
		counter(natChecksDesc, n, k[0], k[1])
	}
	for i, f := range []media.FlowStats{o.Media.AtoB, o.Media.BtoA} {
		dir := []string{"a_to_b", "b_to_a"}[i]
		counter(mediaPacketsDesc, f.Packets, dir)
		counter(mediaBytesDesc, f.Bytes, dir)
		counter(mediaRTCPDesc, f.RTCPPackets, dir)
		counter(mediaDroppedDesc, f.Dropped, dir, "not_latched")
		counter(mediaDroppedDesc, f.Unsent, dir, "no_destination")
		counter(mediaLostDesc, f.Lost, dir)
		ch <- histogram(mediaJitterDesc, o.Jitter[i], dir)
	}
}

// hepCollector is natsbc_hep_packets_total, when HEP export is on.
type hepCollector struct{ exp *hep.Exporter }

func (hepCollector) Describe(ch chan<- *prometheus.Desc) { ch <- hepDesc }

func (c hepCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.exp.Stats()
	ch <- prometheus.MustNewConstMetric(hepDesc, prometheus.CounterValue, float64(st.Sent), "sent")
	ch <- prometheus.MustNewConstMetric(hepDesc, prometheus.CounterValue, float64(st.Dropped), "dropped")
}

func collectRegistrar(ch chan<- prometheus.Metric, r *registrar.Stats) {
	for kind, n := range r.ByNAT {
		ch <- prometheus.MustNewConstMetric(regByNATDesc, prometheus.GaugeValue, float64(n), kind)
	}
	ch <- prometheus.MustNewConstMetric(keepSentDesc, prometheus.CounterValue, float64(r.KeepalivesSent))
	ch <- prometheus.MustNewConstMetric(keepMissedDesc, prometheus.CounterValue, float64(r.KeepalivesMissed))
	for reason, n := range r.Removed {
		ch <- prometheus.MustNewConstMetric(bindingsRemovedDesc, prometheus.CounterValue, float64(n), reason)
	}
}

// histogram turns sbc's per-bucket counts into Prometheus' cumulative ones.
func histogram(d *prometheus.Desc, h sbc.Histogram, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum uint64
	for i, le := range h.Bounds {
		if i < len(h.Counts) {
			cum += h.Counts[i]
		}
		buckets[le] = cum
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets, labels...)
}
