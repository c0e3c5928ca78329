package ingress

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Issue 12, item 6: sipgo's stream framing error (ERROR, the whole raw
// read) becomes a rate-limited INFO `malformed message` with a short
// escaped excerpt; its read errors for connections the guard closed drop
// to DEBUG; anything else passes as it is.
func TestTransportLogTamesStreamErrors(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(TransportLog(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}), nil)).With("component", "sipgo")
	raw := "INVITE sip:x SIP/2.0\r\nVia: forged\r\n" + strings.Repeat("A", 5000)
	for range malformedLinesPerSecond + 5 {
		log.Error("failed to parse", "error", errors.New("bad header"), "data", raw)
	}
	log.Error("Read error", "error", fmt.Errorf("read: %w", errBanned))
	log.Error("Read error", "error", errors.New("connection reset by peer"))

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var malformed, readErrors int
	for _, l := range lines {
		switch {
		case strings.Contains(l, `msg="malformed message"`):
			malformed++
			if !strings.Contains(l, "level=INFO") || !strings.Contains(l, "component=sipgo") || strings.Contains(l, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") {
				t.Errorf("malformed line not INFO, not tagged, or carrying the raw read: %.300s", l)
			}
			if !strings.Contains(l, `excerpt="INVITE sip:x SIP/2.0\\r\\nVia: forged\\r\\n`) {
				t.Errorf("no escaped excerpt: %.300s", l)
			}
		case strings.Contains(l, `msg="Read error"`):
			readErrors++
			if !strings.Contains(l, "connection reset by peer") {
				t.Errorf("a guard's own close was logged: %s", l)
			}
		default:
			t.Errorf("unexpected line: %.300s", l)
		}
	}
	if malformed != malformedLinesPerSecond {
		t.Errorf("%d malformed lines for %d framing errors in a second, want %d", malformed, malformedLinesPerSecond+5, malformedLinesPerSecond)
	}
	if readErrors != 1 {
		t.Errorf("%d read error lines, want the one natsbc did not cause", readErrors)
	}
}

// The line names the transport sipgo's logger of it names (its caller
// attribute), and what became of the message there.
func TestTransportLogNamesTheTransport(t *testing.T) {
	for caller, want := range map[string]string{
		"Transport<UDP>": `transport=udp reason="bad header" action=dropped`,
		"Transport<TCP>": `transport=tcp reason="bad header" action="connection closed"`,
	} {
		var out bytes.Buffer
		errs := &ParseErrors{}
		log := slog.New(TransportLog(slog.NewTextHandler(&out, nil), errs)).With("caller", "TransportLayer").With("caller", caller)
		log.Error("failed to parse", "data", "garbage", "error", errors.New("bad header"))
		if !strings.Contains(out.String(), want) {
			t.Errorf("%s: %s, want %s", caller, out.String(), want)
		}
		if n := errs.UDP() + errs.Stream(); n != 1 || (caller == "Transport<UDP>") != (errs.UDP() == 1) {
			t.Errorf("%s: counted udp %d, stream %d", caller, errs.UDP(), errs.Stream())
		}
	}
}
