package configs

import (
	"strings"
	"testing"
	"time"
)

func TestPeerMediaKnobs(t *testing.T) {
	c, err := parseWith(t, "peers:\n  - name: a\n    networks: [192.0.2.0/24]\n    latching: relaxed\n    keep_ice: true\n  - name: b\n    networks: [198.51.100.0/24]\n")
	if err != nil {
		t.Fatal(err)
	}
	pol := c.Policy()
	if a := pol.Peers[0]; a.Latch != "relaxed" || !a.KeepICE {
		t.Errorf("peer a = %+v; want relaxed latching, ICE kept", a)
	}
	if b := pol.Peers[1]; b.Latch != "strict" || b.KeepICE {
		t.Errorf("peer b = %+v; want the defaults strict, ICE removed", b)
	}
}

func TestPeerRedirectKnob(t *testing.T) {
	c, err := parseWith(t, "peers:\n  - name: a\n    networks: [192.0.2.0/24]\n    redirect: relay\n  - name: b\n    networks: [198.51.100.0/24]\n")
	if err != nil {
		t.Fatal(err)
	}
	pol := c.Policy()
	if a := pol.Peers[0]; !a.RelaysRedirects() {
		t.Errorf("peer a = %+v; want its 3xx relayed", a)
	}
	if b := pol.Peers[1]; b.Redirect != "follow" || b.RelaysRedirects() {
		t.Errorf("peer b = %+v; want the default follow", b)
	}
}

func TestTimerCKnob(t *testing.T) {
	c, err := parseWith(t, "sip:\n  timer_c: 3s\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.SBC().TimerC; got != 3*time.Second {
		t.Errorf("sip.timer_c 3s maps to %v", got)
	}
	d, err := parseWith(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.SBC().TimerC; got != 3*time.Minute {
		t.Errorf("default Timer C %v, want 3m (RFC 3261 §16.6 item 11)", got)
	}
}

// trust_identity defaults to the PBX natsbc fronts (inside the RFC 3325
// trust domain) and to nobody else; it can be set either way.
func TestPeerTrustIdentity(t *testing.T) {
	c, err := parseWith(t, "peers:\n"+
		"  - name: pbx\n    networks: [10.0.0.10/32]\n    address: 10.0.0.10:5060\n    role: pbx\n"+
		"  - name: carrier\n    networks: [198.51.100.0/24]\n    role: trunk\n    trust_identity: true\n"+
		"  - name: phones\n    networks: [192.0.2.0/24]\n"+
		"  - name: lab-pbx\n    networks: [10.0.0.20/32]\n    role: pbx\n    trust_identity: false\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"pbx": true, "carrier": true, "phones": false, "lab-pbx": false}
	for _, p := range c.Policy().Peers {
		if p.TrustIdentity != want[p.Name] {
			t.Errorf("peer %s trust_identity = %v, want %v", p.Name, p.TrustIdentity, want[p.Name])
		}
	}
	if _, err := parseWith(t, "peers:\n  - name: a\n    networks: [192.0.2.0/24]\n    trust_identity: sometimes\n"); err == nil || !strings.Contains(err.Error(), "trust_identity") {
		t.Errorf("a non-boolean trust_identity must fail naming the key, got %v", err)
	}
}

func TestPeerLargeRequestsKnob(t *testing.T) {
	c, err := parseWith(t, "peers:\n  - name: a\n    networks: [192.0.2.0/24]\n    large_requests: udp\n  - name: b\n    networks: [198.51.100.0/24]\n")
	if err != nil {
		t.Fatal(err)
	}
	pol := c.Policy()
	if a := pol.Peers[0]; !a.LargeOverUDP() {
		t.Errorf("peer a = %+v; want large requests over UDP", a)
	}
	if b := pol.Peers[1]; b.LargeOverUDP() {
		t.Errorf("peer b = %+v; want the default: large requests over TCP", b)
	}
}

// limits.max_calls_per_source reaches natsbc, peers[].max_calls the peer;
// a negative one fails with the file and line.
func TestCallLimitsKnobs(t *testing.T) {
	c, err := parseWith(t, "limits:\n  max_calls: 100\n  max_calls_per_source: 4\npeers:\n  - name: pbx\n    networks: [192.0.2.0/24]\n    address: 192.0.2.5:5060\n    max_calls: 30\n")
	if err != nil {
		t.Fatal(err)
	}
	if sc := c.SBC(); sc.MaxCalls != 100 || sc.MaxCallsPerSource != 4 {
		t.Errorf("SBC() limits = %d, %d; want 100, 4", sc.MaxCalls, sc.MaxCallsPerSource)
	}
	if p := c.Policy().Peers[0]; p.MaxCalls != 30 {
		t.Errorf("peer max_calls = %d, want 30", p.MaxCalls)
	}
	for yaml, want := range map[string]string{
		"limits:\n  max_calls_per_source: -1\n":                                    "t.yaml:2:25: limits.max_calls_per_source: -1 is negative",
		"peers:\n  - name: pbx\n    networks: [192.0.2.0/24]\n    max_calls: -2\n": "t.yaml:4:16: peers[0].max_calls: -2 is negative",
	} {
		if _, err := parseWith(t, yaml); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", yaml, err, want)
		}
	}
}

// registrations.max_per_source reaches natsbc (default 100); a negative
// one fails with the file and line.
func TestBindingsPerSourceKnob(t *testing.T) {
	c, err := parseWith(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if n := c.SBC().Registrations.MaxPerSource; n != 100 {
		t.Errorf("default max_per_source = %d, want 100", n)
	}
	c, err = parseWith(t, "registrations:\n  max_per_source: 500\n")
	if err != nil || c.SBC().Registrations.MaxPerSource != 500 {
		t.Fatalf("max_per_source 500: %v", err)
	}
	_, err = parseWith(t, "registrations:\n  max_per_source: -1\n")
	if want := "t.yaml:2:19: registrations.max_per_source: -1 is negative"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

// registrations.answer_qualify is off by default and reaches natsbc.
func TestAnswerQualifyKnob(t *testing.T) {
	c, err := parseWith(t, "")
	if err != nil || c.SBC().Registrations.AnswerQualify {
		t.Fatalf("default answer_qualify: %v, %v; want false", c.SBC().Registrations.AnswerQualify, err)
	}
	c, err = parseWith(t, "registrations:\n  answer_qualify: true\n")
	if err != nil || !c.SBC().Registrations.AnswerQualify {
		t.Fatalf("answer_qualify: true: %v", err)
	}
	if _, err = parseWith(t, "registrations:\n  answer_qualify: sometimes\n"); err == nil || !strings.Contains(err.Error(), "t.yaml:2:19") {
		t.Errorf("answer_qualify: sometimes: error %v, want one at t.yaml:2:19", err)
	}
}

// The caps of issue 12 item 5 reach natsbc with their defaults
// (max_transactions 10000, max_in_flight_per_source 20, max_cps off); a
// negative one fails with the file and line.
func TestWorkInFlightKnobs(t *testing.T) {
	c, err := parseWith(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.SBC(); got.MaxTransactions != 10000 || got.Registrations.MaxInFlightPerSource != 20 || got.MaxRelayPairsPerSource != 500 {
		t.Errorf("defaults: max_transactions %d, max_in_flight_per_source %d; want 10000 and 20",
			got.MaxTransactions, got.Registrations.MaxInFlightPerSource)
	}
	c, err = parseWith(t, "limits:\n  max_transactions: 50\nregistrations:\n  max_in_flight_per_source: 3\n"+
		"peers:\n  - name: carrier\n    networks: [10.0.0.40/32]\n    address: 10.0.0.40:5060\n    max_cps: 20\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.SBC(); got.MaxTransactions != 50 || got.Registrations.MaxInFlightPerSource != 3 {
		t.Errorf("set: max_transactions %d, max_in_flight_per_source %d", got.MaxTransactions, got.Registrations.MaxInFlightPerSource)
	}
	if p := c.Policy().Peers; len(p) != 1 || p[0].MaxCPS != 20 {
		t.Errorf("peers = %+v, want carrier with max_cps 20", p)
	}
	for section, want := range map[string]string{
		"limits:\n  max_transactions: -1\n":                "t.yaml:2:21: limits.max_transactions: -1 is negative",
		"limits:\n  max_relay_pairs_per_source: -1\n":      "t.yaml:2:31: limits.max_relay_pairs_per_source: -1 is negative",
		"registrations:\n  max_in_flight_per_source: -2\n": "t.yaml:2:29: registrations.max_in_flight_per_source: -2 is negative",
	} {
		if _, err := parseWith(t, section); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", section, err, want)
		}
	}
}

// latching: srtp-auth is a peer's choice and media.latching's for phones;
// relaxed is for peers only.
func TestSRTPAuthLatchingKnobs(t *testing.T) {
	c, err := parseWith(t, "media:\n  latching: srtp-auth\n"+
		"peers:\n  - name: carrier\n    networks: [10.0.0.40/32]\n    address: 10.0.0.40:5060\n    latching: srtp-auth\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.SBC().EndpointLatch; got != "srtp-auth" {
		t.Errorf("EndpointLatch = %q", got)
	}
	if p := c.Policy().Peers; len(p) != 1 || p[0].Latch != "srtp-auth" {
		t.Errorf("peers = %+v", p)
	}
	_, err = parseWith(t, "media:\n  latching: relaxed\n")
	if want := "t.yaml:2:13: media.latching"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("media.latching relaxed: error %v, want %q", err, want)
	}
}

// cdr.path: off by default; an absolute file or "-"; anything else fails
// with the file and line.
func TestCDRPath(t *testing.T) {
	for _, ok := range []string{"", "-", "/var/log/natsbc/cdr.jsonl"} {
		c, err := parseWith(t, "cdr:\n  path: \""+ok+"\"\n")
		if err != nil || c.CDR.Path != ok {
			t.Errorf("cdr.path %q: %v, %q", ok, err, c.CDR.Path)
		}
	}
	_, err := parseWith(t, "cdr:\n  path: cdr.jsonl\n")
	if want := "t.yaml:2:9: cdr.path: \"cdr.jsonl\" is not an absolute path"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("relative cdr.path: %v, want %q", err, want)
	}
}
