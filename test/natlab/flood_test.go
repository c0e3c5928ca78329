//go:build linux

package natlab

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestInviteFloodLegitCallsGoOn (issue 12, flood protection): a host on
// the internet floods natsbc with unauthenticated INVITEs (sipp, 2,000
// calls/s or more for 10 s, one source) while a phone behind the NAT places 20
// calls at its normal rate. The flood's source gets its burst, one 503
// with Retry-After, and is banned for rate; every call of the phone
// succeeds. natsbc runs without the race detector, so the CPU it reports
// is what the flood costs in production.
func TestInviteFloodLegitCallsGoOn(t *testing.T) {
	// Not parallel: a flood at 2,000/s takes a core, and the timing of the
	// scenarios beside it would pay for it. Go runs the tests that are not
	// parallel first, one at a time.
	l := NewLab(t)
	l.AddScannerHost(t)
	n := l.StartNatsbcPlain(t, BaseConfig+"admin:\n  listen: "+adminAddr+"\n"+pbxPeer)
	// The PBX answers whatever reaches it: the phone's calls and the
	// flood's burst. It runs until the phone is done.
	callee := l.StartSipp(t, "callee", Sipp{Scenario: "callee.xml", NS: NSPBX, IP: PBXIP, Port: 5060,
		Calls: 1000, Hold: time.Second, NoMessageTrace: true})
	phone := l.StartSipp(t, "phone", Sipp{Scenario: "phone_call.xml", NS: NSLan, IP: PhoneIP, Port: 5060,
		Remote: EdgeOutIP + ":5060", Service: "callee", Calls: 20, Rate: 2, Hold: time.Second})

	// Asked a little over 2,000/s: sipp paces in whole periods and lands
	// just under what it is asked.
	const rate, seconds = 2200, 10
	cpuBefore, wallBefore := processCPU(t, n.Pid()), time.Now()
	flood := l.StartSipp(t, "flood", Sipp{Scenario: "flood_invite.xml", NS: NSScan, IP: ScannerIP, Port: 5060,
		Remote: EdgeOutIP + ":5060", Service: "callee", Calls: rate * seconds, Rate: rate,
		Timeout: 60 * time.Second, NoMessageTrace: true})
	if err := flood.Wait(90 * time.Second); err != nil {
		t.Logf("flood sipp: %v (its calls are not expected to succeed)", err)
	}
	wall := time.Since(wallBefore)
	cpu := processCPU(t, n.Pid()) - cpuBefore
	MustSucceed(t, phone, 90*time.Second)
	callee.Kill()

	ban, ok := n.Log.WaitFunc(0, func(e LogEntry) bool { return e.Msg() == "source banned" && e.Str("src") == ScannerIP })
	if !ok {
		t.Fatalf("natsbc did not ban the flooding source %s", ScannerIP)
	}
	if why := ban.Str("why"); why != "rate" {
		t.Errorf("flood banned for %q, want rate: %s", why, ban.Raw)
	}
	banned := metric(t, l, `natsbc_ingress_dropped_total{reason="banned"}`)
	overRate := metric(t, l, `natsbc_ingress_dropped_total{reason="rate"}`)
	answered503 := metric(t, l, "natsbc_ingress_rate_503_total")
	sent := floodSent(t, l)
	if answered503 < 1 || answered503 > 3 {
		t.Errorf("natsbc answered the flood %v 503s, want one per excess (1)", answered503)
	}
	if float64(sent)/wall.Seconds() < rate*0.8 {
		t.Errorf("sipp sent %d INVITEs in %v: not the %d/s flood asked for", sent, wall, rate)
	}
	if banned+overRate < float64(sent)*0.9 {
		t.Errorf("natsbc dropped %v of %d flood INVITEs (banned %v, over rate %v)", banned+overRate, sent, banned, overRate)
	}
	// What reached the PBX: the source's burst (40) and the refills
	// before its ban.
	let := len(n.Log.Find("call started", map[string]string{"source": ScannerIP + ":5060"}))
	if let > 60 {
		t.Errorf("%d flood INVITEs reached the PBX, want no more than the burst and a few refills", let)
	}
	t.Logf("flood: %d INVITEs in %v (%.0f/s) from one source; %d reached the PBX; natsbc answered 503 %v time(s), dropped %v over the rate and %v after the ban; "+
		"natsbc CPU %.0f%% of a core during the flood; the phone's 20 of 20 calls succeeded",
		sent, wall.Round(time.Millisecond), float64(sent)/wall.Seconds(), let, answered503, overRate, banned, 100*cpu.Seconds()/wall.Seconds())
	n.AssertNoCrash(t)
}

// processCPU is the user plus system CPU time a process has used
// (/proc/PID/stat, clock ticks of 1/100 s).
func processCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// The command name (field 2) may hold spaces; fields count after ")".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// floodSent reads from the flood's sipp screen file how many calls (one
// INVITE each) it started.
func floodSent(t *testing.T, l *Lab) int {
	t.Helper()
	b, err := os.ReadFile(l.Dir + "/flood_screen.log")
	if err != nil {
		t.Fatalf("flood sipp's screen: %v", err)
	}
	// "Outgoing calls created | periodic | cumulative" in its statistics.
	best := 0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(strings.ToLower(line), "outgoing calls created") {
			continue
		}
		f := strings.FieldsFunc(line, func(r rune) bool { return r == '|' || r == ' ' })
		if v, err := strconv.Atoi(f[len(f)-1]); err == nil && v > best {
			best = v
		}
	}
	if best == 0 {
		t.Fatalf("no call count in the flood's sipp screen:\n%s", b)
	}
	return best
}
