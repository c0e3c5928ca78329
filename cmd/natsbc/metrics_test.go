package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/registrar"
	"github.com/natsbc/natsbc/sbc"
)

// Issue 13, item 1: the metrics follow Prometheus' naming conventions
// (promlint finds nothing), and each counter says what sbc counted, with
// its labels.
func TestMetricNamesAndLabels(t *testing.T) {
	jitter := sbc.Histogram{Bounds: sbc.JitterBuckets, Counts: make([]uint64, len(sbc.JitterBuckets))}
	jitter.Counts[2], jitter.Count, jitter.Sum = 1, 1, 0.004
	stats := sbc.Stats{
		Calls: &sbc.CallCounts{Setup: sbc.Histogram{Bounds: sbc.SetupBuckets, Counts: make([]uint64, len(sbc.SetupBuckets))}},
		Ops: &sbc.OpsStats{
			ACKsMissing: [2]uint64{1, 0}, Resent2xx: [2]uint64{9, 0}, Peer2xx: [2]uint64{0, 3},
			Messages:  map[string][2]uint64{"udp": {40, 41}, "tcp": {2, 2}},
			Malformed: map[string]uint64{"udp": 5, "tcp": 1},
			NATChecks: map[[2]string]uint64{{"contact-private", "register"}: 7},
			Media: media.CallStats{AtoB: media.FlowStats{Packets: 100, Bytes: 17200, Dropped: 4, Unsent: 2, Lost: 1},
				BtoA: media.FlowStats{Packets: 99}},
			Jitter: [2]sbc.Histogram{jitter, jitter},
		},
		Registrar: &registrar.Stats{ByNAT: map[string]int{"NAT": 3, "no NAT": 1}, KeepalivesSent: 12, KeepalivesMissed: 2,
			Removed: map[string]uint64{"expired": 1, "keepalive": 1}},
	}
	c := statsCollector{stats: func() sbc.Stats { return stats }}
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	want := `
# HELP natsbc_acks_missing_total 2xx natsbc sent on a leg that no ACK answered within 64*T1 (the call was ended: the ~32 s drop natsbc exists to prevent).
# TYPE natsbc_acks_missing_total counter
natsbc_acks_missing_total{leg="a"} 1
natsbc_acks_missing_total{leg="b"} 0
# HELP natsbc_2xx_retransmissions_total 2xx retransmissions on a leg: by natsbc awaiting the peer's ACK (by=natsbc), or by the peer, whom natsbc's ACK had not reached (by=peer).
# TYPE natsbc_2xx_retransmissions_total counter
natsbc_2xx_retransmissions_total{by="natsbc",leg="a"} 9
natsbc_2xx_retransmissions_total{by="natsbc",leg="b"} 0
natsbc_2xx_retransmissions_total{by="peer",leg="a"} 0
natsbc_2xx_retransmissions_total{by="peer",leg="b"} 3
# HELP natsbc_media_dropped_total Packets the relay did not forward, by direction and cause (not_latched: a source that may not latch; no_destination: the other peer had not sent yet).
# TYPE natsbc_media_dropped_total counter
natsbc_media_dropped_total{cause="no_destination",direction="a_to_b"} 2
natsbc_media_dropped_total{cause="no_destination",direction="b_to_a"} 0
natsbc_media_dropped_total{cause="not_latched",direction="a_to_b"} 4
natsbc_media_dropped_total{cause="not_latched",direction="b_to_a"} 0
# HELP natsbc_registrations_by_nat Bindings natsbc holds, by NAT verdict.
# TYPE natsbc_registrations_by_nat gauge
natsbc_registrations_by_nat{nat="NAT"} 3
natsbc_registrations_by_nat{nat="no NAT"} 1
# HELP natsbc_sip_messages_total SIP messages on the wire, by transport and direction (in, out); UDP retransmissions included.
# TYPE natsbc_sip_messages_total counter
natsbc_sip_messages_total{direction="in",transport="tcp"} 2
natsbc_sip_messages_total{direction="in",transport="udp"} 40
natsbc_sip_messages_total{direction="out",transport="tcp"} 2
natsbc_sip_messages_total{direction="out",transport="udp"} 41
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "natsbc_acks_missing_total", "natsbc_2xx_retransmissions_total",
		"natsbc_media_dropped_total", "natsbc_registrations_by_nat", "natsbc_sip_messages_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c, "natsbc_media_jitter_seconds"); n != 2 {
		t.Errorf("%d jitter histograms, want one per direction", n)
	}
	for name, want := range map[string]int{"natsbc_nat_checks_total": 1, "natsbc_keepalives_sent_total": 1,
		"natsbc_bindings_removed_total": 2, "natsbc_sip_malformed_total": 2, "natsbc_media_lost_total": 2} {
		if n := testutil.CollectAndCount(c, name); n != want {
			t.Errorf("%s: %d series, want %d", name, n, want)
		}
	}
}

// Issue 13, item 1: the README's table lists every metric natsbc exports,
// and the Grafana dashboard charts each of them and nothing else of natsbc's.
func TestEveryMetricDocumentedAndCharted(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	dashboard, err := os.ReadFile("../../configs/grafana/natsbc.json")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{"natsbc_build_info": true}
	descs := make(chan *prometheus.Desc, 100)
	statsCollector{}.Describe(descs)
	hepCollector{}.Describe(descs)
	close(descs)
	for d := range descs {
		name := regexp.MustCompile(`fqName: "([a-z0-9_]+)"`).FindStringSubmatch(d.String())
		if name == nil {
			t.Fatalf("no name in %s", d)
		}
		names[name[1]] = true
	}
	for name := range names {
		if !strings.Contains(string(readme), "| `"+name+"` |") {
			t.Errorf("README's metric table lacks %s", name)
		}
		if !strings.Contains(string(dashboard), name) {
			t.Errorf("the Grafana dashboard shows no %s", name)
		}
	}
	charted := 0
	for _, m := range regexp.MustCompile(`natsbc_[a-z0-9_]+`).FindAllString(string(dashboard), -1) {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_count"), "_sum")
		if !names[base] {
			t.Errorf("the dashboard queries %s, which natsbc does not export", m)
		}
		charted++
	}
	if charted < 20 {
		t.Errorf("the dashboard queries %d metrics", charted)
	}
}
