package sbc

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/policy"
)

func timerRequest(t *testing.T, headers ...string) *sip.Request {
	t.Helper()
	hs := append([]string{
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1",
		"From: <sip:a@192.0.2.1>;tag=1", "To: <sip:b@192.0.2.2>",
		"Call-ID: st", "CSeq: 1 INVITE", "Max-Forwards: 70",
	}, headers...)
	m, err := sip.ParseMessage([]byte(sipMsg("INVITE sip:b@192.0.2.2 SIP/2.0", hs, "")))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Request)
}

func timerResponse(t *testing.T, headers ...string) *sip.Response {
	t.Helper()
	hs := append([]string{
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1",
		"From: <sip:a@192.0.2.1>;tag=1", "To: <sip:b@192.0.2.2>;tag=2",
		"Call-ID: st", "CSeq: 1 INVITE",
	}, headers...)
	m, err := sip.ParseMessage([]byte(sipMsg("SIP/2.0 200 OK", hs, "")))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Response)
}

// RFC 4028 §9: natsbc as UAS of a leg's INVITE or UPDATE picks the
// interval and the refresher.
func TestAnswerTimer(t *testing.T) {
	cfg := DefaultConfig() // 1800 s, Min-SE 90 s
	for _, c := range []struct {
		name     string
		headers  []string
		interval time.Duration
		natsbc   bool
		update   bool
	}{
		{"no timer support: natsbc's interval, natsbc refreshes", nil, 1800 * time.Second, true, false},
		{"supported, no Session-Expires: the peer refreshes", []string{"Supported: timer"}, 1800 * time.Second, false, false},
		{"compact Supported", []string{"k: 100rel, timer"}, 1800 * time.Second, false, false},
		{"shorter interval honoured", []string{"Supported: timer", "Session-Expires: 600"}, 600 * time.Second, false, false},
		{"longer interval cut to natsbc's", []string{"Supported: timer", "Session-Expires: 7200"}, 1800 * time.Second, false, false},
		{"refresher=uas: natsbc refreshes", []string{"Supported: timer", "Session-Expires: 600;refresher=uas", "Allow: INVITE, UPDATE"}, 600 * time.Second, true, true},
		{"refresher=uac", []string{"Supported: timer", "x: 600;refresher=uac"}, 600 * time.Second, false, false},
		{"Session-Expires without support: natsbc refreshes", []string{"Session-Expires: 300"}, 300 * time.Second, true, false},
		{"Min-SE above natsbc's interval raises it", []string{"Supported: timer", "Min-SE: 3600", "Session-Expires: 3600"}, 3600 * time.Second, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := cfg.answerTimer(timerRequest(t, c.headers...), legTimer{})
			if got.interval != c.interval || got.natsbc != c.natsbc || got.update != c.update {
				t.Errorf("answerTimer = %+v, want interval %v natsbc %v update %v", got, c.interval, c.natsbc, c.update)
			}
		})
	}
}

// RFC 4028 §7.2: natsbc as UAC takes the 2xx's interval and refresher; a
// 2xx without Session-Expires leaves the leg to natsbc's default.
func TestOfferTimer(t *testing.T) {
	cfg := DefaultConfig()
	for _, c := range []struct {
		name     string
		headers  []string
		interval time.Duration
		natsbc   bool
		update   bool
	}{
		{"no session timer at the peer", []string{"Allow: INVITE, ACK, BYE"}, 1800 * time.Second, true, false},
		{"peer refreshes", []string{"Session-Expires: 900;refresher=uas", "Require: timer", "Allow: INVITE, UPDATE"}, 900 * time.Second, false, true},
		{"natsbc refreshes", []string{"Session-Expires: 900;refresher=uac"}, 900 * time.Second, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := cfg.offerTimer(timerResponse(t, c.headers...), legTimer{})
			if got.interval != c.interval || got.natsbc != c.natsbc || got.update != c.update {
				t.Errorf("offerTimer = %+v, want interval %v natsbc %v update %v", got, c.interval, c.natsbc, c.update)
			}
		})
	}
}

// RFC 4028 §8.1: a Session-Expires below natsbc's Min-SE gets 422 with it.
func TestTooBrief(t *testing.T) {
	cfg := DefaultConfig()
	if got := cfg.tooBrief(timerRequest(t, "Session-Expires: 60")); got != 90*time.Second {
		t.Errorf("Session-Expires 60: floor %v, want 90s", got)
	}
	for _, h := range []string{"Session-Expires: 90", "Min-SE: 30"} {
		if got := cfg.tooBrief(timerRequest(t, h)); got != 0 {
			t.Errorf("%s: floor %v, want accepted", h, got)
		}
	}
}

// The B-leg INVITE states natsbc's own timer, never the caller's; a 2xx
// says who refreshes and requires timer only when the peer does.
func TestTimerHeaders(t *testing.T) {
	cfg := DefaultConfig()
	req := timerRequest(t, "Supported: 100rel, timer", "Require: timer", "Session-Expires: 120;refresher=uac", "Min-SE: 120")
	// copyEndToEnd drops Session-Expires and Min-SE (negotiated per leg).
	out := sip.NewRequest(sip.INVITE, req.Recipient)
	copyEndToEnd(out, req, policy.Peer{})
	cfg.offerTimerHeaders(out, legTimer{}, false)
	text := out.String()
	for _, want := range []string{"Supported: timer", "Session-Expires: 1800\r\n", "Min-SE: 90\r\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("B-leg INVITE lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"Require", "120"} {
		if strings.Contains(text, bad) {
			t.Errorf("B-leg INVITE carries the caller's %q:\n%s", bad, text)
		}
	}

	res := timerResponse(t, "Require: timer", "Supported: timer")
	answerTimerHeaders(res, legTimer{interval: 600 * time.Second, natsbc: true})
	if got := res.GetHeader("Session-Expires"); got == nil || got.Value() != "600;refresher=uas" {
		t.Errorf("2xx Session-Expires = %v, want 600;refresher=uas", got)
	}
	if hasToken(res, "Require", "timer") {
		t.Errorf("2xx requires timer though natsbc refreshes:\n%s", res)
	}
	answerTimerHeaders(res, legTimer{interval: 600 * time.Second})
	if got := res.GetHeaders("Session-Expires"); len(got) != 1 || got[0].Value() != "600;refresher=uac" {
		t.Errorf("2xx Session-Expires = %v, want one 600;refresher=uac", got)
	}
	if !hasToken(res, "Require", "timer") {
		t.Errorf("2xx with refresher=uac lacks Require: timer (RFC 4028 §9):\n%s", res)
	}

	cfg.offerTimerHeaders(out, legTimer{interval: 600 * time.Second, natsbc: true}, true)
	if got := out.GetHeaders("Session-Expires"); len(got) != 1 || got[0].Value() != "600;refresher=uac" {
		t.Errorf("refresh Session-Expires = %v, want one 600;refresher=uac", got)
	}
	if n := strings.Count(out.String(), "timer"); n != 1 {
		t.Errorf("refresh names timer %d times, want once:\n%s", n, out)
	}
}

func TestExpiryMargin(t *testing.T) {
	if got := expiryMargin(1800 * time.Second); got != 32*time.Second {
		t.Errorf("margin(1800s) = %v, want 32s", got)
	}
	if got := expiryMargin(90 * time.Second); got != 30*time.Second {
		t.Errorf("margin(90s) = %v, want 30s", got)
	}
}

// A message with several Supported or Require lines loses "timer" from
// the line that names it and keeps every other line as it was, in order
// (sipgo's RemoveHeader drops the first header of a name, not the one
// named).
func TestClearTimerHeadersKeepsOtherLines(t *testing.T) {
	req := timerRequest(t, "Supported: replaces, norefersub", "Supported: timer, path", "Require: timer",
		"require: 100rel", "Session-Expires: 120", "Min-SE: 90", "Supported: gruu")
	clearTimerHeaders(req)
	if got, want := headerValues(req, "Supported"), []string{"replaces, norefersub", "path", "gruu"}; !slices.Equal(got, want) {
		t.Errorf("Supported = %q, want %q", got, want)
	}
	if got, want := headerValues(req, "Require"), []string{"100rel"}; !slices.Equal(got, want) {
		t.Errorf("Require = %q, want %q", got, want)
	}
	if req.GetHeader("Session-Expires") != nil || req.GetHeader("Min-SE") != nil {
		t.Errorf("a session timer stated before is left:\n%s", req)
	}
}

func headerValues(m sip.Message, name string) []string {
	var vs []string
	for _, h := range m.GetHeaders(name) {
		vs = append(vs, h.Value())
	}
	return vs
}

// RFC 4028 §7.3, §7.4: a 422 naming a Min-SE above what natsbc asked for
// is worth asking again; the Min-SE it names is then natsbc's floor on the
// leg, in Session-Expires and Min-SE of every later request.
func TestTooBriefFloor(t *testing.T) {
	cfg := DefaultConfig() // 1800 s, Min-SE 90 s
	req := sip.NewRequest(sip.UPDATE, sip.Uri{Scheme: "sip", Host: "192.0.2.2"})
	cfg.offerTimerHeaders(req, legTimer{interval: 600 * time.Second, natsbc: true}, true)
	reply := func(code int, headers ...string) *sip.Response {
		res := timerResponse(t, headers...)
		res.StatusCode = code
		return res
	}
	for _, c := range []struct {
		name string
		res  *sip.Response
		want time.Duration
	}{
		{"422 above the interval asked", reply(422, "Min-SE: 900"), 900 * time.Second},
		{"422 naming no more than was asked", reply(422, "Min-SE: 600"), 0},
		{"422 without Min-SE", reply(422), 0},
		{"not a 422", reply(200, "Min-SE: 900"), 0},
		{"no response", nil, 0},
	} {
		if got := tooBriefFloor(req, c.res); got != c.want {
			t.Errorf("%s: floor %v, want %v", c.name, got, c.want)
		}
	}

	raised := legTimer{interval: 600 * time.Second, natsbc: true, floor: 900 * time.Second}
	cfg.offerTimerHeaders(req, raised, true)
	if se, mse := headerValue(req, "Session-Expires"), headerValue(req, "Min-SE"); se != "900;refresher=uac" || mse != "900" {
		t.Errorf("after a 422 naming 900: Session-Expires %q Min-SE %q, want 900;refresher=uac and 900", se, mse)
	}
	first := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", Host: "192.0.2.2"})
	cfg.offerTimerHeaders(first, legTimer{floor: 3600 * time.Second}, false)
	if se, mse := headerValue(first, "Session-Expires"), headerValue(first, "Min-SE"); se != "3600" || mse != "3600" {
		t.Errorf("first INVITE after a 422 naming 3600: Session-Expires %q Min-SE %q, want 3600 and 3600", se, mse)
	}
	// A 2xx without Session-Expires leaves the leg at least the floor.
	if got := cfg.offerTimer(timerResponse(t), raised); got.interval != 900*time.Second || got.floor != 900*time.Second {
		t.Errorf("offerTimer after the floor = %+v, want interval and floor 900s", got)
	}
	if got := cfg.answerTimer(timerRequest(t, "Supported: timer", "Session-Expires: 300"), raised); got.interval != 900*time.Second {
		t.Errorf("answerTimer under a 900 s floor = %v, want 900s", got.interval)
	}
}
