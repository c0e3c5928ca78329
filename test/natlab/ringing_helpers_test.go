//go:build linux

package natlab

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// adminAddr is natsbc's admin endpoint in the ringing scenarios, on the
// edge namespace's loopback (metrics and pprof).
const adminAddr = "127.0.0.1:9090"

// fastConfig is BaseConfig with T1 100 ms (64*T1 = 6.4 s, so giving a
// vanished callee up fits a test), the admin endpoint, the PBX peer, and
// extra `sip:` keys (e.g. "  timer_c: 3s\n").
func fastConfig(sipExtra string) string {
	c := strings.Replace(BaseConfig, "  t1: 500ms\n  t2: 4s\n", "  t1: 100ms\n  t2: 1s\n"+sipExtra, 1)
	return c + "admin:\n  listen: " + adminAddr + "\n" + pbxPeer
}

// adminGet fetches a path of natsbc's admin endpoint, over a connection
// made inside edge.
func adminGet(t *testing.T, l *Lab, path string) string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var conn net.Conn
			err := l.InNS(NSEdge, func() (err error) {
				conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return conn, err
		},
		DisableKeepAlives: true,
	}}
	res, err := client.Get("http://" + adminAddr + path)
	if err != nil {
		t.Fatalf("GET %s from natsbc's admin endpoint: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s from natsbc's admin endpoint: %s %v", path, res.Status, err)
	}
	return string(body)
}

// metric reads one gauge of natsbc's /metrics.
func metric(t *testing.T, l *Lab, name string) float64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(adminGet(t, l, "/metrics")))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				t.Fatalf("metric %s = %q: %v", name, f[1], err)
			}
			return v
		}
	}
	t.Fatalf("natsbc's /metrics has no %s", name)
	return 0
}

// callGoroutines counts natsbc's goroutines from its pprof goroutine
// profile, less the relay's packet engine: one set per process, started
// with the first relayed stream and kept for the next calls.
func callGoroutines(t *testing.T, l *Lab) int {
	t.Helper()
	total := 0
	for _, block := range strings.Split(adminGet(t, l, "/debug/pprof/goroutine?debug=1"), "\n\n") {
		first, _, _ := strings.Cut(block, " @ ")
		n, err := strconv.Atoi(strings.TrimSpace(first))
		if err != nil || strings.Contains(block, "media.(*engineWorker)") {
			continue
		}
		total += n
	}
	if total == 0 {
		t.Fatal("no goroutines read from natsbc's pprof goroutine profile")
	}
	return total
}

// relaySockets lists the UDP sockets natsbc holds in the relay port range
// (media.ports' default 20000-29999).
func relaySockets(t *testing.T, l *Lab) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", l.NS(NSEdge), "ss", "-Hlun").CombinedOutput()
	if err != nil {
		t.Fatalf("ss in edge: %v\n%s", err, out)
	}
	var held []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		i := strings.LastIndex(f[3], ":")
		if p, err := strconv.Atoi(f[3][i+1:]); err == nil && p >= 20000 && p <= 29999 {
			held = append(held, f[3])
		}
	}
	return held
}

// assertCallFreed checks that natsbc holds nothing of the call any more:
// no call, no media session, no relay socket, and its goroutines back at
// most to before (polled: goroutines end a little after the last line).
func assertCallFreed(t *testing.T, l *Lab, goroutinesBefore int) {
	t.Helper()
	if v := metric(t, l, "natsbc_active_calls"); v != 0 {
		t.Errorf("natsbc_active_calls = %v after the call ended, want 0", v)
	}
	if v := metric(t, l, "natsbc_media_sessions"); v != 0 {
		t.Errorf("natsbc_media_sessions = %v after the call ended, want 0", v)
	}
	if held := relaySockets(t, l); len(held) > 0 {
		t.Errorf("relay sockets still open after the call ended: %v", held)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := callGoroutines(t, l)
		if n <= goroutinesBefore {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("natsbc runs %d goroutines 10s after the call ended, %d before it:\n%s",
				n, goroutinesBefore, adminGet(t, l, "/debug/pprof/goroutine?debug=1"))
			return
		}
		// Goroutine exit is no event natsbc reports: poll.
		time.Sleep(200 * time.Millisecond)
	}
}
