package ingress

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

// filterStream runs a client's frames through a filter after the upgrade,
// and returns what sipgo read (payloads of whole messages), how the reads
// ended, and the first frame natsbc wrote back.
func filterStream(t *testing.T, frames ...ws.Frame) (msgs []string, end error, answer *ws.Frame) {
	t.Helper()
	var stream bytes.Buffer
	for _, f := range frames {
		if err := ws.WriteFrame(&stream, ws.MaskFrame(f)); err != nil {
			t.Fatal(err)
		}
	}
	fc := &fakeConn{r: io.MultiReader(strings.NewReader(upgradeRequest("sip")), &stream)}
	c := newWSConn(fc, 4096, func(net.Addr, string) {})
	head := make([]byte, 1024)
	if _, err := c.Read(head); err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n"))
	fc.w.Reset()
	var out bytes.Buffer
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			end = err
			break
		}
	}
	r := bufio.NewReader(&out)
	for {
		f, err := ws.ReadFrame(r)
		if err != nil {
			break
		}
		msgs = append(msgs, string(ws.UnmaskFrame(f).Payload))
	}
	if f, err := ws.ReadFrame(&fc.w); err == nil {
		answer = &f
	}
	return msgs, end, answer
}

func closeBody(code ws.StatusCode, reason string) []byte { return ws.NewCloseFrameBody(code, reason) }

// RFC 6455 §8.1: a text message must be UTF-8 (1007 otherwise), checked
// on the whole message; binary is not text. §5.5.1, §7.4: a Close body is
// empty or a status code an endpoint may send, with a UTF-8 reason.
func TestWebSocketTextAndCloseValidated(t *testing.T) {
	tests := []struct {
		name   string
		frames []ws.Frame
		msgs   []string
		close  ws.StatusCode // natsbc's answer: a Close with this code
		err    error         // how the reads end
	}{
		{"text not UTF-8", []ws.Frame{ws.NewTextFrame([]byte("OPTIONS \xff"))}, nil, ws.StatusInvalidFramePayloadData, errWSProtocol},
		{"a character split across fragments", []ws.Frame{ws.NewFrame(ws.OpText, false, []byte("caf\xc3")), ws.NewFrame(ws.OpContinuation, true, []byte("\xa9"))},
			[]string{"café"}, 0, io.EOF},
		{"binary is not text", []ws.Frame{ws.NewBinaryFrame([]byte("\xff\xfe"))}, []string{"\xff\xfe"}, 0, io.EOF},
		{"Close with a 1-byte body", []ws.Frame{ws.NewCloseFrame([]byte{3})}, nil, ws.StatusProtocolError, errWSProtocol},
		{"Close 1005 (never sent)", []ws.Frame{ws.NewCloseFrame(closeBody(1005, ""))}, nil, ws.StatusProtocolError, errWSProtocol},
		{"Close 999", []ws.Frame{ws.NewCloseFrame(closeBody(999, ""))}, nil, ws.StatusProtocolError, errWSProtocol},
		{"Close 2000 (reserved)", []ws.Frame{ws.NewCloseFrame(closeBody(2000, ""))}, nil, ws.StatusProtocolError, errWSProtocol},
		{"Close reason not UTF-8", []ws.Frame{ws.NewCloseFrame(closeBody(1000, "\xff"))}, nil, ws.StatusInvalidFramePayloadData, errWSProtocol},
		{"Close 1000 echoed", []ws.Frame{ws.NewCloseFrame(closeBody(1000, "bye"))}, nil, 1000, io.EOF},
		{"Close 4000 echoed", []ws.Frame{ws.NewCloseFrame(closeBody(4000, ""))}, nil, 4000, io.EOF},
		{"empty Close echoed", []ws.Frame{ws.NewCloseFrame(nil)}, nil, 0, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, end, answer := filterStream(t, tt.frames...)
			if strings.Join(msgs, "|") != strings.Join(tt.msgs, "|") {
				t.Errorf("sipgo read %q; want %q", msgs, tt.msgs)
			}
			if !errors.Is(end, tt.err) {
				t.Errorf("reads ended with %v; want %v", end, tt.err)
			}
			if tt.close == 0 {
				if answer != nil && len(answer.Payload) != 0 {
					t.Errorf("natsbc answered %v %x; want nothing or an empty Close", answer.Header.OpCode, answer.Payload)
				}
				return
			}
			if answer == nil || answer.Header.OpCode != ws.OpClose || len(answer.Payload) < 2 ||
				ws.StatusCode(int(answer.Payload[0])<<8|int(answer.Payload[1])) != tt.close {
				t.Errorf("natsbc answered %+v; want Close %d", answer, tt.close)
			}
		})
	}
}
