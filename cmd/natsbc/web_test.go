package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/natsbc/natsbc/cdr"
	"github.com/natsbc/natsbc/diagnosis"
	"github.com/natsbc/natsbc/registrar"
)

// fakeOps serves the web view one ended call natsbc kept.
type fakeOps struct {
	kept map[string][]diagnosis.Message
}

func (fakeOps) Calls() []cdr.Record                          { return nil }
func (fakeOps) Call(string) (cdr.Record, bool)               { return cdr.Record{}, false }
func (fakeOps) Hangup(string) error                          { return nil }
func (fakeOps) BindingList() []registrar.Listing             { return nil }
func (fakeOps) Drain() bool                                  { return false }
func (fakeOps) Undrain() bool                                { return false }
func (fakeOps) Draining() bool                               { return false }
func (f fakeOps) CallMessages(id string) []diagnosis.Message { return f.kept[id] }
func (f fakeOps) RecordedCalls() []diagnosis.EndedCall {
	var ids []diagnosis.EndedCall
	for id := range f.kept {
		ids = append(ids, diagnosis.EndedCall{ID: id, Reason: "no-ack"})
	}
	return ids
}

// Issue 14, item 3: the index lists a kept call with its verdict; the
// call's page draws both legs as one ladder with natsbc's sockets in the
// middle, the failing step in red, the verdict in words, and links the
// pcap.
func TestWebView(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	phone, out, in, pbx := netip.MustParseAddrPort("203.0.113.7:5060"), netip.MustParseAddrPort("198.51.100.1:5060"),
		netip.MustParseAddrPort("10.0.0.5:5060"), netip.MustParseAddrPort("10.0.0.10:5060")
	msg := func(sec float64, from, to netip.AddrPort, first, callID, cseq, tags string) diagnosis.Message {
		raw := first + "\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK-" + cseq[:1] + "\r\n" + tags + "\r\nCall-ID: " + callID + "\r\nCSeq: " + cseq +
			"\r\nContact: <sip:n@198.51.100.1:5060>\r\nContent-Length: 0\r\n\r\n"
		return diagnosis.Message{Time: at.Add(time.Duration(sec * float64(time.Second))), Src: from, Dst: to, Transport: "udp", Raw: []byte(raw)}
	}
	const open, answered = "From: <sip:a@x>;tag=a1\r\nTo: <sip:b@x>", "From: <sip:a@x>;tag=a1\r\nTo: <sip:b@x>;tag=b1"
	kept := []diagnosis.Message{
		msg(0, phone, out, "INVITE sip:b@198.51.100.1 SIP/2.0", "a-leg", "1 INVITE", open),
		msg(0.01, in, pbx, "INVITE sip:b@10.0.0.10 SIP/2.0", "b-leg", "1 INVITE", open),
		msg(1, pbx, in, "SIP/2.0 200 OK", "b-leg", "1 INVITE", answered),
		msg(1.01, in, pbx, "ACK sip:b@10.0.0.10 SIP/2.0", "b-leg", "1 ACK", answered),
		msg(1.02, out, phone, "SIP/2.0 200 OK", "a-leg", "1 INVITE", answered),
		msg(2, out, phone, "SIP/2.0 200 OK", "a-leg", "1 INVITE", answered),
	}
	for i := range kept {
		kept[i].Frame = i + 1 // as the recorder numbers them
	}
	mux := http.NewServeMux()
	routeWeb(mux, fakeOps{kept: map[string][]diagnosis.Message{"a-leg": kept}}, slog.New(slog.DiscardHandler))
	get := func(path string) string {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, rec.Code, body)
		}
		return string(body)
	}
	index := get("/ui/")
	if !strings.Contains(index, `<tr class="lost"><td><a href="/ui/calls/a-leg">a-leg</a></td><td class="reason">no-ack</td><td class="verdict">no ACK for 2xx</td><td>no ACK sent at all</td>`) {
		t.Fatalf("index lacks the kept call and its verdict:\n%s", index)
	}
	page := get("/ui/calls/a-leg")
	if n := strings.Count(page, `<g class="msg`); n != len(kept) {
		t.Errorf("%d arrows, want one per message (%d)", n, len(kept))
	}
	order := []string{phone.String(), out.String(), in.String(), pbx.String()}
	at0 := -1
	for _, p := range order { // lifelines: caller, natsbc outside, natsbc inside, callee
		i := strings.Index(page, `class="party">`+p)
		if i < at0 {
			t.Errorf("lifeline %s out of order", p)
		}
		at0 = i
	}
	if !strings.Contains(page, `<g class="msg failing" data-frame="5"`) || !strings.Contains(page, `class="verdict lost">no ACK for 2xx</span>: no ACK sent at all`) ||
		!strings.Contains(page, `href="/api/v1/calls/a-leg/pcap"`) {
		t.Fatalf("the call page lacks the failing step, the verdict or the pcap link:\n%s", page)
	}
}
