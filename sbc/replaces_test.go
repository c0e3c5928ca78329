package sbc

import (
	"testing"

	"github.com/natsbc/natsbc/media"
)

func TestParseReplaces(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: the value written back; "" for an error
	}{
		{"425928@bobster.example.org;to-tag=7743;from-tag=6472", "425928@bobster.example.org;to-tag=7743;from-tag=6472"},
		{" abc ; From-Tag = 1 ;TO-TAG=2;early-only;x=y", "abc;from-tag=1;to-tag=2;early-only;x=y"},
		{"abc;to-tag=1", ""},                     // from-tag required (RFC 3891 §6.1)
		{"abc;to-tag=1;from-tag=2;to-tag=3", ""}, // one to-tag only
		{";to-tag=1;from-tag=2", ""},             // no Call-ID
		{"abc;to-tag=;from-tag=2", ""},
		{"abc;to-tag=1;from-tag=2;;", ""},
	} {
		got, err := parseReplaces(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("parseReplaces(%q) = %q, want an error", tc.in, got.String())
		case tc.want != "" && err != nil:
			t.Errorf("parseReplaces(%q): %v", tc.in, err)
		case tc.want != "" && got.String() != tc.want:
			t.Errorf("parseReplaces(%q) writes back %q, want %q", tc.in, got.String(), tc.want)
		}
	}
	r, _ := parseReplaces("abc;to-tag=1;from-tag=2;early-only")
	r.callID, r.toTag, r.fromTag = "new", "t", "f"
	if got := r.String(); got != "new;to-tag=t;from-tag=f;early-only" {
		t.Errorf("renamed Replaces %q, want early-only kept", got)
	}
}

func TestReferToReplacesRewrite(t *testing.T) {
	in := `"Carol" <sip:carol@pbx.example.com;transport=udp?Subject=hi&Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2%3Bearly-only>;x=1`
	r, start, end, found, err := referToReplaces(in)
	if err != nil || !found {
		t.Fatalf("referToReplaces: found %v err %v", found, err)
	}
	if r.callID != "abc@h" || r.toTag != "1" || r.fromTag != "2" {
		t.Errorf("Replaces read as %+v", r)
	}
	r.callID, r.toTag, r.fromTag = "new@id", "t", "f"
	want := `"Carol" <sip:carol@pbx.example.com;transport=udp?Subject=hi&Replaces=new%40id%3Bto-tag%3Dt%3Bfrom-tag%3Df%3Bearly-only>;x=1`
	if got := in[:start] + escapeURIHeader(r.String()) + in[end:]; got != want {
		t.Errorf("rewritten Refer-To\n got %s\nwant %s", got, want)
	}
	for _, plain := range []string{"<sip:carol@pbx.example.com>", "sip:carol@pbx.example.com", "<sip:c@h?Subject=x>"} {
		if _, _, _, found, err := referToReplaces(plain); found || err != nil {
			t.Errorf("referToReplaces(%q): found %v err %v, want neither", plain, found, err)
		}
	}
	for _, bad := range []string{"<sip:c@h?Replaces=%zz>", "<sip:c@h?Replaces=abc%3Bto-tag%3D1>"} {
		if _, _, _, _, err := referToReplaces(bad); err == nil {
			t.Errorf("referToReplaces(%q) accepted", bad)
		}
	}
}

func TestReferEventIDAcrossLegs(t *testing.T) {
	var ids referIDs
	// The phone's REFER CSeq 7 on the A-leg went out as CSeq 2 on the B-leg.
	ids.remember(referSeq{media.LegA, 7, false}, referSeq{media.LegB, 2, true})
	// And the PBX's REFER CSeq 2 on the B-leg went out as CSeq 5 on the
	// A-leg: same number on the B-leg, the PBX's space, not natsbc's.
	ids.remember(referSeq{media.LegB, 2, false}, referSeq{media.LegA, 5, true})
	across := func(side media.Leg, byNatsbc bool) func(uint32) (uint32, bool) {
		return func(id uint32) (uint32, bool) { return ids.across(side, id, byNatsbc) }
	}
	if got, ok := rewriteReferEventID("refer;id=2;x=y", across(media.LegB, true)); !ok || got != "refer;id=7;x=y" {
		t.Errorf("NOTIFY from the B-leg: Event %q (changed %v), want refer;id=7;x=y", got, ok)
	}
	if got, ok := rewriteReferEventID("refer;id=7", across(media.LegA, false)); !ok || got != "refer;id=2" {
		t.Errorf("SUBSCRIBE from the A-leg: Event %q (changed %v), want refer;id=2", got, ok)
	}
	if got, ok := rewriteReferEventID("refer;id=5", across(media.LegA, true)); !ok || got != "refer;id=2" {
		t.Errorf("NOTIFY from the A-leg for the PBX's REFER: Event %q (changed %v), want refer;id=2", got, ok)
	}
	for _, v := range []string{"refer", "refer;id=3", "refer;id=x", "message-summary;id=2"} {
		if got, ok := rewriteReferEventID(v, across(media.LegB, true)); ok || got != v {
			t.Errorf("Event %q rewritten to %q", v, got)
		}
	}
	for i := range maxReferIDs + 4 {
		ids.remember(referSeq{media.LegA, uint32(100 + i), false}, referSeq{media.LegB, uint32(200 + i), true})
	}
	if _, ok := ids.across(media.LegB, 2, true); ok {
		t.Errorf("the oldest REFER is still mapped after %d more", maxReferIDs+4)
	}
	if len(ids.peer) != 2*maxReferIDs || len(ids.order) != maxReferIDs {
		t.Errorf("map holds %d ids, %d REFERs; want %d and %d", len(ids.peer), len(ids.order), 2*maxReferIDs, maxReferIDs)
	}
}

// FuzzTransferParsers: the Replaces, Refer-To and Event readers never panic,
// and what they write back reads the same.
func FuzzTransferParsers(f *testing.F) {
	f.Add("425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only")
	f.Add(`<sip:c@h?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>;x=1`)
	f.Add("refer;id=12")
	f.Add("<sip:c@h?Replaces=&Replaces>")
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := parseReplaces(s); err == nil {
			again, err := parseReplaces(r.String())
			if err != nil || again.String() != r.String() {
				t.Fatalf("Replaces %q written as %q reads back as %q (%v)", s, r.String(), again.String(), err)
			}
		}
		if r, start, end, found, err := referToReplaces(s); err == nil && found {
			out := s[:start] + escapeURIHeader(r.String()) + s[end:]
			back, _, _, found2, err := referToReplaces(out)
			if err != nil || !found2 || back.String() != r.String() {
				t.Fatalf("Refer-To %q rewritten as %q reads back %q found %v err %v, want %q", s, out, back.String(), found2, err, r.String())
			}
		}
		rewriteReferEventID(s, func(id uint32) (uint32, bool) { return id + 1, true })
	})
}

// TestMapReplaces: a Replaces naming a leg natsbc holds becomes the name
// the receiver knows (RFC 3891 §3: to-tag its local tag, from-tag its
// remote one); anything else is unknown, never guessed.
func TestMapReplaces(t *testing.T) {
	calls := newCallTable()
	// Call 1: phone (tag ph1) → natsbc A-leg (natsbc tag na1) | natsbc
	// B-leg (call-id b1, natsbc tag nb1) → PBX (tag px1). Answered.
	c1 := &call{
		a: &leg{side: media.LegA, callID: "a1@phone", localTag: "na1", remoteTag: "ph1"},
		b: &leg{side: media.LegB, callID: "b1", localTag: "nb1", remoteTag: "px1"},
	}
	// Call 2: the PBX's call to a phone, still ringing; the phone's 180
	// made the B-leg's early dialog (tag ph2).
	c2 := &call{
		a: &leg{side: media.LegA, callID: "a2@pbx", localTag: "na2", remoteTag: "caller2"},
		b: &leg{side: media.LegB, callID: "b2", localTag: "nb2", remoteTag: "ph2"},
	}
	// Call 3: not yet answered with a tag on its B-leg.
	c3 := &call{
		a: &leg{side: media.LegA, callID: "a3@phone", localTag: "na3", remoteTag: "ph3"},
		b: &leg{side: media.LegB, callID: "b3", localTag: "nb3"},
	}
	for _, c := range []*call{c1, c2, c3} {
		calls.add(c)
	}
	for _, tc := range []struct {
		name, in, want string // want "" : unknown (481)
	}{
		{"attended transfer names the phone's A-leg: the PBX gets the B-leg",
			"a1@phone;to-tag=na1;from-tag=ph1", "b1;to-tag=px1;from-tag=nb1"},
		{"tags in the other order, parameters kept",
			"a1@phone;from-tag=ph1;to-tag=na1;x=1", "b1;from-tag=nb1;to-tag=px1;x=1"},
		{"pickup of the ringing call named as the PBX has it passes as it is",
			"a2@pbx;to-tag=caller2;from-tag=na2;early-only", "a2@pbx;to-tag=caller2;from-tag=na2;early-only"},
		{"pickup named from the phone side maps to the early B-leg dialog",
			"b2;to-tag=nb2;from-tag=ph2;early-only", "a2@pbx;to-tag=caller2;from-tag=na2;early-only"},
		{"the B-leg named as the PBX knows it passes as it is",
			"b1;to-tag=px1;from-tag=nb1", "b1;to-tag=px1;from-tag=nb1"},
		{"other leg without a dialog yet", "a3@phone;to-tag=na3;from-tag=ph3", ""},
		{"unknown Call-ID", "zz;to-tag=na1;from-tag=ph1", ""},
		{"known Call-ID, wrong remote tag", "a1@phone;to-tag=na1;from-tag=other", ""},
		{"known Call-ID, both tags natsbc's", "a1@phone;to-tag=na1;from-tag=na1", ""},
	} {
		r, err := parseReplaces(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, known := calls.mapReplaces(r)
		switch {
		case tc.want == "" && known:
			t.Errorf("%s: %q mapped to %q, want unknown", tc.name, tc.in, got.String())
		case tc.want != "" && !known:
			t.Errorf("%s: %q unknown, want %q", tc.name, tc.in, tc.want)
		case tc.want != "" && got.String() != tc.want:
			t.Errorf("%s: %q mapped to %q, want %q", tc.name, tc.in, got.String(), tc.want)
		}
	}
	calls.remove(c1)
	if _, known := calls.mapReplaces(replacesValue{callID: "a1@phone", toTag: "na1", fromTag: "ph1"}); known {
		t.Errorf("a call that ended is still found")
	}
}
