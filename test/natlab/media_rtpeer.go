//go:build linux

package natlab

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RTPReport is one report line of the lab's RTP endpoint (./rtpeer, whose
// Report has the same JSON names): totals since its start.
type RTPReport struct {
	Msg        string            `json:"msg"`
	At         int64             `json:"at_unix_ns"`
	Listen     string            `json:"listen"`
	Target     string            `json:"target"`
	Sending    bool              `json:"sending"`
	Sent       uint64            `json:"sent"`
	SendErrors uint64            `json:"send_errors"`
	Received   uint64            `json:"received"`
	NonRTP     uint64            `json:"non_rtp"`
	Injected   uint64            `json:"injected"`
	SeqGaps    uint64            `json:"seq_gaps"`
	SeqMissing uint64            `json:"seq_missing"`
	SeqLate    uint64            `json:"seq_late"`
	SSRCs      int               `json:"ssrcs"`
	LastRx     int64             `json:"last_rx_unix_ns"`
	Sources    map[string]uint64 `json:"sources"`
	Error      string            `json:"error"`
}

// Time is when the endpoint took the report.
func (r RTPReport) Time() time.Time { return time.Unix(0, r.At) }

// RTPPeer is a running rtpeer: the media half of a sipp phone or PBX.
type RTPPeer struct {
	*Proc
	reports *LogWatcher
}

// RTPPeerSpec says where an endpoint runs and whom it talks to.
type RTPPeerSpec struct {
	NS     string // lab namespace role
	Listen string // IP:PORT, the port its side's SDP offers
	// Target is the relay address the SDP its side received names; empty
	// with Symmetric: send back to the first source heard (self-checks).
	Target    string
	Symmetric bool
	// Paused starts it silent; Resume starts sending.
	Paused bool
	// UDPTL sends T.38 UDPTL datagrams instead of RTP (what it receives
	// counts as NonRTP).
	UDPTL bool
}

// StartRTPPeer builds ./rtpeer (once per lab) and runs it; it returns once
// the endpoint has bound its port (its first report).
func (l *Lab) StartRTPPeer(t *testing.T, name string, s RTPPeerSpec) *RTPPeer {
	t.Helper()
	argv := []string{l.rtpeerBinary(t), "-listen", s.Listen}
	if s.Target != "" {
		argv = append(argv, "-target", s.Target)
	}
	if s.Symmetric {
		argv = append(argv, "-symmetric")
	}
	if s.Paused {
		argv = append(argv, "-paused")
	}
	if s.UDPTL {
		argv = append(argv, "-udptl")
	}
	w := NewLogWatcher()
	p := &RTPPeer{Proc: l.start(t, s.NS, name, w.Line, argv...), reports: w}
	go func() {
		<-p.Done()
		w.Line(`{"msg":"` + exitedMsg + `"}`)
	}()
	// A bound for a hang: the lab starts many peers at once on a loaded
	// machine (startBound, as for sipp's bind).
	e, ok := w.WaitFunc(startBound, func(e LogEntry) bool { return e.Msg() != "" })
	switch {
	case !ok:
		t.Fatalf("rtpeer %s wrote no report within %v (log %s)", name, startBound, p.LogPath)
	case e.Msg() != "rtp report":
		t.Fatalf("rtpeer %s did not start: %s (log %s)", name, e.Raw, p.LogPath)
	}
	return p
}

// rtpeerBinary builds ./rtpeer into the lab directory the first time a lab
// asks for it (the Go build cache makes later builds a link step).
func (l *Lab) rtpeerBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(l.Dir, "bin", "rtpeer")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command(goBinary(), "build", "-o", bin, "./rtpeer")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./rtpeer: %v\n%s", err, out)
	}
	return bin
}

// Last is the latest report (zero before the first).
func (p *RTPPeer) Last() RTPReport {
	var last RTPReport
	for _, e := range p.reports.Entries() {
		if r, ok := decodeRTPReport(e); ok {
			last = r
		}
	}
	return last
}

// WaitReport returns the first report, already written or arriving within
// timeout, that cond accepts; ok is false at timeout or when the endpoint
// exited.
func (p *RTPPeer) WaitReport(timeout time.Duration, cond func(RTPReport) bool) (r RTPReport, ok bool) {
	_, seen := p.reports.WaitFunc(timeout, func(e LogEntry) bool {
		got, isReport := decodeRTPReport(e)
		if isReport && cond(got) {
			r, ok = got, true
			return true
		}
		return e.Msg() == exitedMsg
	})
	return r, seen && ok
}

// Await is WaitReport that fails the test, saying what it waited for.
func (p *RTPPeer) Await(t *testing.T, timeout time.Duration, what string, cond func(RTPReport) bool) RTPReport {
	t.Helper()
	r, ok := p.WaitReport(timeout, cond)
	if !ok {
		t.Fatalf("rtpeer %s: %s: not within %v (last report %+v, log %s)", p.Name, what, timeout, p.Last(), p.LogPath)
	}
	return r
}

// AwaitReceivedAfter waits until the endpoint has received packets after
// time since: it takes its first report taken after since, then waits for
// one that counts more received packets than that. It returns both.
func (p *RTPPeer) AwaitReceivedAfter(t *testing.T, since time.Time, timeout time.Duration) (base, later RTPReport) {
	t.Helper()
	base = p.Await(t, timeout, "a report after "+since.Format("15:04:05.000"),
		func(r RTPReport) bool { return r.Time().After(since) })
	later = p.Await(t, timeout, "packets received after "+since.Format("15:04:05.000"),
		func(r RTPReport) bool { return r.Received > base.Received })
	return base, later
}

// Pause stops sending (SIGUSR1), as a held phone does.
func (p *RTPPeer) Pause(t *testing.T) { p.signal(t, syscall.SIGUSR1) }

// Resume starts sending (SIGUSR2).
func (p *RTPPeer) Resume(t *testing.T) { p.signal(t, syscall.SIGUSR2) }

func (p *RTPPeer) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.Signal(sig); err != nil {
		t.Fatalf("rtpeer %s: %v: %v", p.Name, sig, err)
	}
}

// Stop ends the endpoint (SIGTERM) and returns its final report.
func (p *RTPPeer) Stop(t *testing.T) RTPReport {
	t.Helper()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("rtpeer %s: SIGTERM: %v", p.Name, err)
	}
	if err := p.Wait(5 * time.Second); err != nil {
		t.Fatalf("rtpeer %s: %v", p.Name, err)
	}
	return p.Await(t, time.Second, "the final report", func(r RTPReport) bool { return r.Msg == "rtp final" })
}

func decodeRTPReport(e LogEntry) (RTPReport, bool) {
	if !strings.HasPrefix(e.Msg(), "rtp ") {
		return RTPReport{}, false
	}
	var r RTPReport
	if err := json.Unmarshal([]byte(e.Raw), &r); err != nil {
		return RTPReport{}, false
	}
	return r, true
}
