package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/natsbc/natsbc/capture"
	"github.com/natsbc/natsbc/diagnosis"
)

// traceFile writes a capture of two calls: one acknowledged, one whose 2xx
// (with the NATed callee's private Contact) was never ACKed and was ended
// by the callee's BYE 32 s later.
func traceFile(t *testing.T) string {
	t.Helper()
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	caller, sbc := netip.MustParseAddrPort("203.0.113.7:5060"), netip.MustParseAddrPort("198.51.100.1:5060")
	msg := func(sec float64, from, to netip.AddrPort, first, callID, cseq, tags, extra string) diagnosis.Message {
		raw := first + "\r\nVia: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK-" + cseq[:1] + "\r\n" + tags + "\r\nCall-ID: " + callID +
			"\r\nCSeq: " + cseq + "\r\n" + extra + "Content-Length: 0\r\n\r\n"
		return diagnosis.Message{Time: at.Add(time.Duration(sec * float64(time.Second))), Src: from, Dst: to, Transport: "udp", Raw: []byte(raw)}
	}
	const open, answered, byCallee = "From: <sip:a@x>;tag=a1\r\nTo: <sip:b@x>", "From: <sip:a@x>;tag=a1\r\nTo: <sip:b@x>;tag=b1", "From: <sip:b@x>;tag=b1\r\nTo: <sip:a@x>;tag=a1"
	private := "Contact: <sip:b@192.168.1.50:5060>\r\n"
	msgs := []diagnosis.Message{
		msg(0, caller, sbc, "INVITE sip:b@198.51.100.1 SIP/2.0", "good", "1 INVITE", open, ""),
		msg(1, sbc, caller, "SIP/2.0 200 OK", "good", "1 INVITE", answered, "Contact: <sip:b@198.51.100.1:5060>\r\n"),
		msg(1.1, caller, sbc, "ACK sip:b@198.51.100.1:5060 SIP/2.0", "good", "1 ACK", answered, ""),
		msg(2, caller, sbc, "INVITE sip:b@198.51.100.1 SIP/2.0", "dropped", "1 INVITE", open, ""),
		msg(3, sbc, caller, "SIP/2.0 200 OK", "dropped", "1 INVITE", answered, private),
		msg(3.5, sbc, caller, "SIP/2.0 200 OK", "dropped", "1 INVITE", answered, private),
		msg(35, sbc, caller, "BYE sip:a@203.0.113.7 SIP/2.0", "dropped", "1 BYE", byCallee, ""),
	}
	path := filepath.Join(t.TempDir(), "calls.pcap")
	var b bytes.Buffer
	if err := capture.Write(&b, msgs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runTrace(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := trace(args, &out, &errb)
	return code, out.String(), errb.String()
}

// Issue 14, item 1: natsbc trace names each call's verdict, why the ACK
// was lost, the frames, and says so in its exit code; --json, --ladder
// and --call-id shape what it prints.
func TestTraceCLI(t *testing.T) {
	file := traceFile(t)
	code, out, errs := runTrace(file)
	if code != exitLostACK || !strings.Contains(out, "good: ok") ||
		!strings.Contains(out, "dropped: ended by BYE ~32 s after the 2xx: no NAT handling") ||
		!strings.Contains(out, "frames        4 5 7") || !strings.Contains(out, "2 calls, 1 with a lost ACK") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runTrace("--json", "--call-id", "dropped", file)
	var reports []diagnosis.Report
	if err := json.Unmarshal([]byte(out), &reports); err != nil || code != exitLostACK || len(reports) != 1 ||
		reports[0].Cause != diagnosis.NoNATHandling || reports[0].Evidence.Contact != "sip:b@192.168.1.50:5060" {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	if code, out, _ = runTrace("--ladder", "--call-id", "good", file); code != exitOK || !strings.Contains(out, "-INVITE-") || strings.Contains(out, "dropped") {
		t.Fatalf("--ladder --call-id good: exit %d\n%s", code, out)
	}
	if code, out, _ = runTrace("--since", "2026-12-04T10:00:01.5Z", file); code != exitLostACK || strings.Contains(out, "good") {
		t.Fatalf("--since: exit %d\n%s", code, out)
	}
	notCapture := filepath.Join(t.TempDir(), "notes.txt")
	_ = os.WriteFile(notCapture, []byte("INVITE is not a capture"), 0o600)
	if code, _, errs := runTrace(notCapture); code != exitUsage || !strings.Contains(errs, "notes.txt") {
		t.Fatalf("not a capture: exit %d, %q", code, errs)
	}
}
