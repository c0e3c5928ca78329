//go:build linux

package natlab

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// tcpLimitsConfig: the default connection caps, short timeouts so the
// scenario sees them fire.
const tcpLimitsConfig = `security:
  tcp_idle_timeout: 30s
  tcp_header_timeout: 2s
admin:
  listen: ` + adminAddr + "\n"

// TestTCPConnectionFloodAndSlowloris (issue 12, TCP): a host on the
// internet opens 5,000 TCP connections to natsbc and sends nothing; natsbc
// keeps security.tcp_max_per_source (32) of them, closes the rest at once,
// and closes the 32 when idle. Then it trickles a request one byte every
// 200 ms (slowloris) and is cut off at security.tcp_header_timeout. All the
// while a phone behind the NAT places calls over TCP through natsbc.
func TestTCPConnectionFloodAndSlowloris(t *testing.T) {
	// Not parallel: 5,000 connections through a natsbc built with the race
	// detector load the machine; the scenarios beside it would pay for it.
	l := NewLab(t)
	l.AddScannerHost(t)
	n := l.StartNatsbc(t, BaseConfig+tcpLimitsConfig+pbxPeer)
	callee := l.StartSipp(t, "callee", Sipp{Scenario: "callee.xml", NS: NSPBX, IP: PBXIP, Port: 5060, Calls: 10, Hold: time.Second})
	phone := l.StartSipp(t, "phone", Sipp{Scenario: "phone_call.xml", NS: NSLan, IP: PhoneIP, Port: 5060, TCP: true,
		Remote: EdgeOutIP + ":5060", Service: "callee", Calls: 10, Rate: 1, Hold: time.Second})

	const total, perSource = 5000, 32
	conns := dialMany(t, l, total)
	open, closed := classifyConns(conns, 3*time.Second)
	t.Logf("%d connections dialled: natsbc kept %d, closed %d", len(conns), len(open), len(closed))
	if len(open) != perSource {
		t.Errorf("natsbc kept %d of %d idle connections from one source, want tcp_max_per_source %d", len(open), len(conns), perSource)
	}
	// The kept ones carry nothing: closed when idle (30 s, the least
	// natsbc accepts).
	start := time.Now()
	stillOpen, _ := classifyConns(open, 40*time.Second)
	if len(stillOpen) != 0 {
		t.Errorf("%d idle connections still open %v later", len(stillOpen), time.Since(start).Round(time.Second))
	}
	for _, c := range conns {
		c.Close()
	}

	// Slowloris: a request whose header block never ends in time, though
	// a byte comes every 200 ms (never idle).
	var slow net.Conn
	if err := l.InNS(NSScan, func() (err error) {
		slow, err = net.Dial("tcp", EdgeOutIP+":5060")
		return err
	}); err != nil {
		t.Fatalf("slowloris dial: %v", err)
	}
	defer slow.Close()
	cut := make(chan time.Duration, 1)
	began := time.Now()
	go func() {
		_, _ = io.Copy(io.Discard, slow) // returns when natsbc closes
		cut <- time.Since(began)
	}()
	request := []byte("INVITE sip:callee@" + EdgeOutIP + " SIP/2.0\r\nVia: SIP/2.0/TCP " + ScannerIP + ":5999;branch=z9hG4bK-slow\r\nX-Padding: " + string(make([]byte, 200)))
	var took time.Duration
trickle:
	for _, b := range request {
		select {
		case took = <-cut:
			break trickle
		case <-time.After(200 * time.Millisecond):
		}
		if _, err := slow.Write([]byte{b}); err != nil {
			took = <-cut
			break
		}
	}
	if took == 0 || took > 4*time.Second {
		t.Errorf("slowloris connection cut after %v, want about tcp_header_timeout (2 s)", took)
	}

	MustSucceed(t, phone, 60*time.Second)
	MustSucceed(t, callee, 10*time.Second)
	refused := metric(t, l, `natsbc_tcp_closed_total{reason="refused"}`)
	cutTotal := metric(t, l, `natsbc_tcp_closed_total{reason="cut"}`)
	if refused < total-perSource || cutTotal < perSource+1 {
		t.Errorf("natsbc counted %v refused and %v cut connections, want at least %d and %d", refused, cutTotal, total-perSource, perSource+1)
	}
	t.Logf("natsbc refused %v connections, cut %v (idle and slowloris after %v); the phone's 10 TCP calls succeeded", refused, cutTotal, took.Round(100*time.Millisecond))
	n.AssertNoCrash(t)
}

// dialMany opens up to n TCP connections from the scanner host to
// natsbc's outside socket; a dial natsbc's kernel refused is not counted.
func dialMany(t *testing.T, l *Lab, n int) []net.Conn {
	t.Helper()
	var conns []net.Conn
	err := l.InNS(NSScan, func() error {
		d := net.Dialer{Timeout: 2 * time.Second}
		for range n {
			c, err := d.Dial("tcp", EdgeOutIP+":5060")
			if err != nil {
				continue
			}
			conns = append(conns, c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	if len(conns) < n*9/10 {
		t.Fatalf("only %d of %d connections could be dialled", len(conns), n)
	}
	return conns
}

// classifyConns reads from every connection until within: one that ends
// (natsbc closed it) is closed, one still silent then is open.
func classifyConns(conns []net.Conn, within time.Duration) (open, closed []net.Conn) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(within)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(deadline)
			_, err := c.Read(make([]byte, 1))
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, os.ErrDeadlineExceeded) {
				open = append(open, c)
			} else {
				closed = append(closed, c)
			}
		}()
	}
	wg.Wait()
	return open, closed
}
