package main

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/natsbc/natsbc/configs"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and a ')' must not shift the fields.
	stat := "4242 (nat sbc) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 130 0 0 20 0 9 0 100 0 0\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil || got != 3.8 {
		t.Errorf("parseStatCPU = %v, %v; want 3.8 s (250+130 ticks)", got, err)
	}
	if _, err := parseStatCPU([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("short stat line accepted")
	}
}

func TestParseVmRSS(t *testing.T) {
	got, err := parseVmRSS(strings.NewReader("Name:\tnatsbc\nVmPeak:\t  99 kB\nVmRSS:\t   12345 kB\n"))
	if err != nil || got != 12345*1024 {
		t.Errorf("parseVmRSS = %d, %v", got, err)
	}
	if _, err := parseVmRSS(strings.NewReader("Name:\tx\n")); err == nil {
		t.Error("status without VmRSS accepted")
	}
}

func TestProcNetHas(t *testing.T) {
	table := "  sl  local_address rem_address   st\n" +
		"   1: 0D00007F:3AF8 00000000:0000 07\n"
	if !procNetHas([]byte(table), netip.MustParseAddrPort("127.0.0.13:15096")) {
		t.Error("127.0.0.13:15096 (0D00007F:3AF8) not found")
	}
	if procNetHas([]byte(table), netip.MustParseAddrPort("127.0.0.13:15080")) {
		t.Error("a port nobody bound was found")
	}
}

func TestParseSippStats(t *testing.T) {
	st := "StartTime;TotalCallCreated;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);Retransmissions(C);\n" +
		"x;10;5;5;0;0;0;\n" +
		"x;2000;100;1998;1;2;7;\n"
	got, err := parseSippStats([]byte(st))
	if err != nil || got != (sippCounts{created: 2000, successful: 1998, failed: 2, retrans: 7}) {
		t.Errorf("parseSippStats = %+v, %v", got, err)
	}
	if _, err := parseSippStats([]byte("StartTime;\nx;\n")); err == nil {
		t.Error("statistics without the call columns accepted")
	}
}

func TestRTTSamples(t *testing.T) {
	var s rttSamples
	var b strings.Builder
	b.WriteString("Date_ms;response_time_ms;rtd_no\n")
	for i := 1; i <= 100; i++ {
		// 100 setups over 9.9 s, i ms each; another rtd is ignored.
		b.WriteString(strings.Join([]string{strconv.Itoa(1000 + 100*(i-1)), strconv.Itoa(i), "setup"}, ";") + "\n")
		b.WriteString(strconv.Itoa(1000) + ";9999;other\n")
	}
	if err := s.parse([]byte(b.String()), "setup"); err != nil {
		t.Fatal(err)
	}
	if p50, p99 := s.percentile(50), s.percentile(99); p50 != 50 || p99 != 99 {
		t.Errorf("p50, p99 = %v, %v; want 50, 99", p50, p99)
	}
	if r := s.rate(); r < 9.99 || r > 10.01 {
		t.Errorf("rate = %v; want 10/s", r)
	}
	if err := s.parse([]byte("h\n1;2\n"), "setup"); err == nil {
		t.Error("a two-field row accepted")
	}
	var empty rttSamples
	if empty.percentile(99) != 0 || empty.rate() != 0 {
		t.Error("no samples must give 0, not NaN (JSON cannot hold NaN)")
	}
}

func TestRTTFreqDividesCalls(t *testing.T) {
	for _, calls := range []int{1, 200, 999, 2500, 20000, 30000, 7919} {
		f := rttFreq(calls)
		if f < 1 || f > 1000 || calls%f != 0 {
			t.Errorf("rttFreq(%d) = %d", calls, f)
		}
	}
}

func TestParseMetricsAndHeap(t *testing.T) {
	m := parseMetrics("# HELP x\nnatsbc_active_calls 3\ngo_gc_duration_seconds{quantile=\"0\"} 1\nprocess_resident_memory_bytes 1.2e+07\n")
	if m["natsbc_active_calls"] != 3 || m["process_resident_memory_bytes"] != 12e6 || len(m) != 2 {
		t.Errorf("parseMetrics = %v", m)
	}
	h, err := parseHeapProfile("heap profile: ...\n# runtime.MemStats\n# Alloc = 1\n# HeapAlloc = 2048\n# HeapInuse = 4096\n")
	if err != nil || h != (heapStats{HeapAlloc: 2048, HeapInuse: 4096}) {
		t.Errorf("parseHeapProfile = %+v, %v", h, err)
	}
	if _, err := parseHeapProfile("heap profile: 0: 0 [0: 0] @ heap/1048576\n"); err == nil {
		t.Error("a profile without MemStats accepted")
	}
}

// The config the runner gives natsbc must pass natsbc's own validation.
func TestNatsbcConfigIsValid(t *testing.T) {
	for _, o := range []natsbcOpts{{}, {anchor: true}, {anchor: true, t1: 20 * time.Millisecond}} {
		c, err := configs.Parse("bench.yaml", []byte(natsbcConfig(defaultPlan(), o)))
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		if anchor, _ := c.Media(); anchor != o.anchor {
			t.Errorf("%+v: media.anchor = %v", o, anchor)
		}
		if a, ok := c.AdminListen(); !ok || a != defaultPlan().admin {
			t.Errorf("%+v: admin.listen = %v", o, a)
		}
		if o.t1 > 0 && c.SBC().T1 != o.t1 {
			t.Errorf("%+v: sip.t1 = %v", o, c.SBC().T1)
		}
	}
}

func TestParseGoBench(t *testing.T) {
	out := "goos: linux\nBenchmarkRelayForward-2   \t 1000000\t      1234 ns/op\t  81.00 MB/s\t       0 B/op\t       0 allocs/op\n" +
		"BenchmarkRewriteSDP-2 100 9400 ns/op 2048 B/op 12 allocs/op\nPASS\nBenchmarkBroken-2 --- FAIL\n"
	got := parseGoBench(out)
	want := []goBench{{"BenchmarkRelayForward", 1234, 0, 0}, {"BenchmarkRewriteSDP", 9400, 2048, 12}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("parseGoBench = %+v; want %+v", got, want)
	}
}
