package loadgen

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func loopbackSockets(t *testing.T) Sockets {
	t.Helper()
	return Sockets{UACSIP: listenLoopback(t), UASSIP: listenLoopback(t),
		UACRTP: []*RTPSocket{listenRTP(t), listenRTP(t)}, UASRTP: []*RTPSocket{listenRTP(t), listenRTP(t)}}
}

func TestRunSIPStraightToTheCallee(t *testing.T) {
	// The caller's target is the callee itself: a valid SIP path without a
	// proxy. Every call must come up, stream both ways and end with BYE.
	socks := loopbackSockets(t)
	cfg := Config{Mode: ModeSIP, Target: addrOf(socks.UASSIP), Calls: 20, Rate: 200,
		Duration: time.Second, SetupTimeout: 5 * time.Second}
	rep, err := Run(context.Background(), cfg, socks)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.CallsUp != 20 || rep.SetupFailed != 0 || rep.ByeFailed != 0 || rep.UASRejected != 0 {
		t.Fatalf("up %d failed %d (%v) bye failed %d rejected %d; want all 20 up, nothing failed",
			rep.CallsUp, rep.SetupFailed, rep.SetupFailReasons, rep.ByeFailed, rep.UASRejected)
	}
	if rep.SetupP50Ms <= 0 || rep.SetupP99Ms < rep.SetupP50Ms {
		t.Errorf("setup p50 %v p99 %v ms", rep.SetupP50Ms, rep.SetupP99Ms)
	}
	for name, d := range map[string]DirectionReport{"a_to_b": rep.AToB, "b_to_a": rep.BToA} {
		if d.Sent != 1000 || d.Received != 1000 {
			t.Errorf("%s: sent %d received %d, want 1000 both", name, d.Sent, d.Received)
		}
	}
	// The JSON carries the runner's contract.
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"mode":"sip"`, `"calls_requested":20`, `"calls_up":20`, `"setup_failed":0`,
		`"setup_p50_ms":`, `"setup_p99_ms":`, `"duration_s":`, `"a_to_b":{"sent":1000,"received":1000,"loss_ratio":0`,
		`"latency_p50_us":`, `"latency_p99_us":`, `"latency_max_us":`, `"b_to_a":{`, `"late_ticks":`,
		`"rate_kept":`, `"generator_cpu_s":`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("JSON lacks %s:\n%s", key, raw)
		}
	}
	if !strings.Contains(rep.Summary(), "20/20 calls up") {
		t.Errorf("summary: %s", rep.Summary())
	}
}

func TestRunSIPReportsTimeoutsWhenNobodyAnswers(t *testing.T) {
	socks := loopbackSockets(t)
	silent := listenLoopback(t)
	cfg := Config{Mode: ModeSIP, Target: addrOf(silent), UASHost: addrOf(socks.UASSIP).String(),
		Calls: 3, Rate: 1000, Duration: time.Second, SetupTimeout: 300 * time.Millisecond,
		Timers: Timers{T1: 50 * time.Millisecond}}
	rep, err := Run(context.Background(), cfg, socks)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.CallsUp != 0 || rep.SetupFailed != 3 || rep.SetupFailReasons["timeout"] != 3 {
		t.Fatalf("up %d failed %d reasons %v; want 3 timeouts", rep.CallsUp, rep.SetupFailed, rep.SetupFailReasons)
	}
	if rep.AToB.Sent != 0 || rep.DurationS != 0 {
		t.Errorf("media ran without calls: %+v", rep.AToB)
	}
	// Timer A: the silent target saw each INVITE more than once. The
	// datagrams are queued already; the deadline only guards a failure.
	buf := make([]byte, 4096)
	invites := map[string]int{}
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	for retransmitted := 0; retransmitted < 3; {
		n, _, err := silent.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("INVITEs seen per call %v, want each at least twice: %v", invites, err)
		}
		if m, err := parseSIP(buf[:n]); err == nil && m.method == "INVITE" {
			invites[m.callID]++
			if invites[m.callID] == 2 {
				retransmitted++
			}
		}
	}
}

func TestRunDirectNeedsNoSIP(t *testing.T) {
	socks := Sockets{UACRTP: []*RTPSocket{listenRTP(t)}, UASRTP: []*RTPSocket{listenRTP(t)}}
	rep, err := Run(context.Background(), Config{Mode: ModeDirect, Calls: 5, Duration: 200 * time.Millisecond}, socks)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.CallsUp != 5 || rep.AToB.Received != 50 || rep.BToA.Received != 50 {
		t.Fatalf("up %d, received %d/%d; want 5 calls, 50 each way", rep.CallsUp, rep.AToB.Received, rep.BToA.Received)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	socks := Sockets{UACRTP: []*RTPSocket{listenRTP(t)}, UASRTP: []*RTPSocket{listenRTP(t)}}
	for name, cfg := range map[string]Config{
		"no calls":       {Mode: ModeDirect, Calls: 0, Duration: time.Second},
		"unknown mode":   {Mode: "both", Calls: 1, Duration: time.Second},
		"sip no sockets": {Mode: ModeSIP, Calls: 1, Rate: 1, Target: netip.MustParseAddrPort("127.0.0.1:9")},
	} {
		if _, err := Run(context.Background(), cfg, socks); err == nil {
			t.Errorf("%s: Run accepted it", name)
		}
	}
}
