package main

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/sbc"
)

func get(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, res.Status, err)
	}
	return string(body)
}

// /metrics carries natsbc's gauges from the Server's snapshot next to the
// Go and process collectors; the heap profile with gc=1 carries the
// MemStats the benchmark reads; Close ends the listener.
func TestAdminEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stats := sbc.Stats{ActiveCalls: 3, Bindings: 10000, MediaSessions: 2, Shield: ingress.ShieldStats{DroppedScanner: 7, Bans: 2},
		Calls: &sbc.CallCounts{Started: map[string]uint64{"unknown": 4, "carrier": 1}, Answered: map[string]uint64{"unknown": 2},
			Ended: map[sbc.CallEnd]uint64{{Reason: "bye-from-a", Peer: "unknown"}: 2, {Reason: "no-ack", Peer: "carrier"}: 1},
			Setup: sbc.Histogram{Bounds: sbc.SetupBuckets, Counts: []uint64{0, 1, 0, 1, 0, 0, 0, 0, 0}, Count: 2, Sum: 0.6}}}
	shield := ingress.NewShield(ingress.ShieldConfig{Scanners: ingress.DefaultScanners, BanTime: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	scanner := netip.MustParseAddr("203.0.113.66")
	shield.Request(scanner, "friendly-scanner", "z9hG4bK-1", "OPTIONS")
	a := startAdmin(ln, adminDeps{stats: func() sbc.Stats { return stats }, bans: shield}, slog.New(slog.DiscardHandler))
	base := "http://" + ln.Addr().String()

	metrics := get(t, base+"/metrics")
	for _, want := range []string{
		"\nnatsbc_active_calls 3\n",
		"\nnatsbc_registrations 10000\n",
		"\nnatsbc_media_sessions 2\n",
		"\nnatsbc_ingress_dropped_total{reason=\"scanner\"} 7\n",
		"\nnatsbc_bans_total 2\n",
		"\nnatsbc_calls_started_total{peer=\"unknown\"} 4\n",
		"\nnatsbc_calls_started_total{peer=\"carrier\"} 1\n",
		"\nnatsbc_calls_answered_total{peer=\"unknown\"} 2\n",
		"\nnatsbc_calls_ended_total{peer=\"carrier\",reason=\"no-ack\"} 1\n",
		"\nnatsbc_call_setup_seconds_bucket{le=\"0.1\"} 1\n",
		"\nnatsbc_call_setup_seconds_bucket{le=\"0.5\"} 2\n",
		"\nnatsbc_call_setup_seconds_bucket{le=\"+Inf\"} 2\n",
		"\nnatsbc_call_setup_seconds_count 2\n",
		"\nnatsbc_build_info{goversion=\"go",
		"\ngo_goroutines ",
		"\ngo_memstats_heap_inuse_bytes ",
		"\nprocess_resident_memory_bytes ",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
	if heap := get(t, base+"/debug/pprof/heap?gc=1&debug=1"); !strings.Contains(heap, "# HeapInuse = ") {
		t.Errorf("heap profile lacks the MemStats block:\n%.300s", heap)
	}
	if idx := get(t, base+"/debug/pprof/"); !strings.Contains(idx, "goroutine") {
		t.Errorf("pprof index lists no goroutine profile:\n%.300s", idx)
	}

	if bans := get(t, base+"/bans"); !strings.Contains(bans, `"source":"203.0.113.66"`) {
		t.Errorf("/bans does not list the banned scanner: %s", bans)
	}
	for ip, want := range map[string]int{"203.0.113.66": http.StatusNoContent, "203.0.113.67": http.StatusNotFound, "nonsense": http.StatusBadRequest} {
		req, _ := http.NewRequest(http.MethodDelete, base+"/bans/"+ip, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != want {
			t.Errorf("DELETE /bans/%s: %v %v, want %d", ip, res, err, want)
		}
		if res != nil {
			res.Body.Close()
		}
	}
	if bans := get(t, base+"/bans"); strings.TrimSpace(bans) != "[]" {
		t.Errorf("/bans after lifting the ban: %s", bans)
	}

	a.Close()
	if c, err := net.Dial("tcp4", ln.Addr().String()); err == nil {
		c.Close()
		t.Errorf("admin endpoint still accepts connections after Close")
	}
}

// A busy admin port stops natsbc at start, in one line naming the key.
func TestAdminPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	sipPort, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sipAddr := sipPort.LocalAddr().String()
	sipPort.Close()
	file := filepath.Join(t.TempDir(), "admin.yaml")
	yaml := "admin:\n  listen: " + busy.Addr().String() + "\nlisten:\n  - address: " + sipAddr + "\n    transport: udp\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{"--config", file, "--state-file", ""}, &stderr); code != exitFailure {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitFailure, stderr.String())
	}
	if want := "cannot listen on admin.listen tcp " + busy.Addr().String() + ": address already in use"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
	}
}
