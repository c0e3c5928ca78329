package diagnosis

import (
	"fmt"
	"testing"
)

// The recorder keeps a call's messages from its pending INVITE on, the
// last keep ended calls, and no more than its bounds of anything else.
func TestRecorderBounds(t *testing.T) {
	r := NewRecorder(2)
	m := Message{Raw: []byte("INVITE sip:x SIP/2.0\r\n\r\n")}
	r.AddPending("c1", m)
	r.Adopt("c1")
	r.Add("c1", m)
	if got := r.Messages("c1"); len(got) != 2 || got[0].Frame != 1 || got[1].Frame != 2 {
		t.Fatalf("c1: %+v, want its pending INVITE and the next message", got)
	}
	for i := range maxPending + 10 { // INVITEs that never become calls
		r.AddPending(fmt.Sprint("flood-", i), m)
	}
	if len(r.pending) != maxPending || r.pending["flood-0"] != nil {
		t.Fatalf("%d pending, want the newest %d", len(r.pending), maxPending)
	}
	for range maxCallMessages + 5 {
		r.Add("c1", m)
	}
	if got := r.Messages("c1"); len(got) != maxCallMessages || r.live["c1"].Dropped != 7 {
		t.Fatalf("c1 holds %d messages, dropped %d", len(got), r.live["c1"].Dropped)
	}
	for _, id := range []string{"c1", "c2", "c3"} {
		r.Adopt(id)
		r.End(id, "bye-from-a")
	}
	if ids := r.Ended(); len(ids) != 2 || ids[0].ID != "c3" || ids[1].ID != "c2" || ids[0].Reason != "bye-from-a" || r.Messages("c1") != nil {
		t.Fatalf("ended %v, want the last two, newest first", ids)
	}
	off := NewRecorder(0)
	off.Add("x", m)
	if off.Enabled() || off.Messages("x") != nil {
		t.Fatal("a recorder with keep 0 kept something")
	}
}
