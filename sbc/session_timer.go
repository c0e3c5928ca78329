package sbc

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Session timers (RFC 4028) are negotiated per leg: natsbc is a UA on each
// of its two dialogs, so Session-Expires and Min-SE are hop headers (never
// copied leg to leg) and each leg has its own interval and refresher.
// Where a leg's peer uses no session timer, natsbc applies its own
// Config.SessionExpires on that leg and refreshes it itself, so a call
// whose far end vanished ends even when natsbc relays no media.

// legTimer is the session timer of one leg.
type legTimer struct {
	interval time.Duration
	// natsbc refreshes this leg; otherwise the peer does and natsbc
	// watches for its refreshes.
	natsbc bool
	// update: the peer allows UPDATE (RFC 3311), so natsbc refreshes with
	// an UPDATE without SDP instead of a re-INVITE (RFC 4028 §7.4, §9).
	update bool
	// floor is the largest Min-SE the peer named in a 422 to natsbc's
	// request on this leg: natsbc never asks it for less again and states
	// it as its Min-SE (RFC 4028 §7.4).
	floor time.Duration
}

// sessionExpires reads Session-Expires (compact form x, RFC 4028 §4):
// the interval and the refresher parameter ("uac", "uas" or "").
func sessionExpires(m editable) (time.Duration, string, bool) {
	h := firstHeader(m, "Session-Expires", "x")
	if h == nil {
		return 0, "", false
	}
	parts := strings.Split(h.Value(), ";")
	secs, err := strconv.ParseUint(strings.TrimSpace(parts[0]), 10, 32)
	if err != nil {
		return 0, "", false
	}
	refresher := ""
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(v))
		}
	}
	return time.Duration(secs) * time.Second, refresher, true
}

// minSE reads Min-SE (RFC 4028 §5); 0 when absent or unreadable.
func minSE(m editable) time.Duration {
	h := firstHeader(m, "Min-SE")
	if h == nil {
		return 0
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	secs, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0
	}
	return time.Duration(secs) * time.Second
}

// supportsTimer: the peer named the extension in Supported (compact k) or
// Require.
func supportsTimer(m sip.Message) bool {
	return hasToken(m, "Supported", "timer") || hasToken(m, "k", "timer") || hasToken(m, "Require", "timer")
}

// tooBrief is the Min-SE natsbc answers with when a refresh request asks
// for a session interval below natsbc's minimum (RFC 4028 §8.1: 422), or
// 0 when the request is acceptable.
func (cfg Config) tooBrief(req *sip.Request) time.Duration {
	se, _, ok := sessionExpires(req)
	if ok && se < cfg.MinSE {
		return cfg.MinSE
	}
	return 0
}

// reject422 answers a request whose session interval is too brief
// (RFC 4028 §8.1, §9: 422 with natsbc's Min-SE). It reports whether it did.
func (s *Server) reject422(req *sip.Request, tx sip.ServerTransaction) bool {
	floor := s.conf().tooBrief(req)
	if floor == 0 {
		return false
	}
	res := s.newResponse(req, 422, "Session Interval Too Small")
	res.AppendHeader(sip.NewHeader("Min-SE", seconds(floor)))
	s.respond(tx, req, res)
	return true
}

// answerTimer is the session timer natsbc takes on a leg where the peer
// sent the INVITE or UPDATE (natsbc is the UAS of the refresh, RFC 4028
// §9): the peer's interval when it asks for one shorter than natsbc's,
// never below either Min-SE. A peer that supports timers refreshes unless
// it asked natsbc to; one that does not is refreshed by natsbc.
func (cfg Config) answerTimer(req *sip.Request, prev legTimer) legTimer {
	interval := cfg.SessionExpires
	se, refresher, has := sessionExpires(req)
	if has && se < interval {
		interval = se
	}
	interval = max(interval, minSE(req), cfg.MinSE, prev.floor)
	t := legTimer{interval: interval, update: prev.update, floor: prev.floor}
	if len(req.GetHeaders("Allow")) > 0 {
		t.update = hasToken(req, "Allow", "UPDATE")
	}
	switch {
	case !supportsTimer(req):
		t.natsbc = true
	case refresher == "uas":
		t.natsbc = true
	}
	return t
}

// offerTimer is the session timer of a leg after the 2xx to an INVITE or
// UPDATE natsbc sent on it (natsbc is the UAC, RFC 4028 §7.2): the 2xx's
// interval and refresher; a 2xx without Session-Expires leaves the leg to
// natsbc's own interval, refreshed by natsbc.
func (cfg Config) offerTimer(res *sip.Response, prev legTimer) legTimer {
	t := legTimer{interval: prev.interval, natsbc: true, update: prev.update, floor: prev.floor}
	if t.interval == 0 {
		t.interval = cfg.SessionExpires
	}
	t.interval = max(t.interval, t.floor)
	if len(res.GetHeaders("Allow")) > 0 {
		t.update = hasToken(res, "Allow", "UPDATE")
	}
	if se, refresher, ok := sessionExpires(res); ok && se > 0 {
		t.interval = max(se, time.Second)
		t.natsbc = refresher != "uas"
	}
	return t
}

// offerTimerHeaders puts natsbc's session timer on an INVITE or UPDATE it
// sends on a leg (RFC 4028 §7.1, §7.4): Supported: timer, Min-SE, and
// Session-Expires with the refresher the leg has. Until the leg has a
// timer (the first INVITE, an UPDATE in its early dialog) it offers
// natsbc's own interval without refresher: the peer chooses (RFC 4028
// §7.1).
func (cfg Config) offerTimerHeaders(req *sip.Request, t legTimer, established bool) {
	clearTimerHeaders(req)
	addOptionTag(req, "Supported", "timer")
	floor := max(cfg.MinSE, t.floor)
	v := seconds(max(cfg.SessionExpires, floor))
	if established && t.interval > 0 {
		v = seconds(max(t.interval, floor))
		if t.natsbc {
			v += ";refresher=uac"
		} else {
			v += ";refresher=uas"
		}
	}
	req.AppendHeader(sip.NewHeader("Session-Expires", v))
	req.AppendHeader(sip.NewHeader("Min-SE", seconds(floor)))
}

// tooBriefFloor reads a 422 to natsbc's INVITE or UPDATE on a leg (RFC
// 4028 §7.3): the Min-SE it names when that is above the interval req
// asked for, so a request asking for it may succeed; 0 otherwise (not a
// 422, or one a retry would only repeat).
func tooBriefFloor(req *sip.Request, res *sip.Response) time.Duration {
	if res == nil || res.StatusCode != 422 {
		return 0
	}
	asked, _, _ := sessionExpires(req)
	if floor := minSE(res); floor > asked {
		return floor
	}
	return 0
}

// answerTimerHeaders puts the leg's session timer on natsbc's 2xx to an
// INVITE or UPDATE (RFC 4028 §9): Session-Expires with the refresher, and
// Require: timer when the peer refreshes.
func answerTimerHeaders(res *sip.Response, t legTimer) {
	clearTimerHeaders(res)
	v := seconds(t.interval) + ";refresher=uac"
	if t.natsbc {
		v = seconds(t.interval) + ";refresher=uas"
	} else {
		res.AppendHeader(sip.NewHeader("Require", "timer"))
	}
	res.AppendHeader(sip.NewHeader("Session-Expires", v))
}

// clearTimerHeaders removes any session timer stated before: "timer" in
// Require or Supported copied from the other leg is natsbc's to state on
// this one, and Session-Expires/Min-SE are written once. It runs on every
// B-leg INVITE: the scan compares names without allocating and edits only
// when something matches.
func clearTimerHeaders(m editable) {
	if !slices.ContainsFunc(allHeaders(m), statesTimer) {
		return
	}
	// sipgo's RemoveHeader drops the first header of exactly that name, not
	// the one in hand: every line of the option-tag headers goes, and all
	// but "timer" comes back, each line in its order. The scan collects
	// before anything is removed (removal shifts the header slice).
	var goneBuf, backBuf [8]sip.Header
	gone, back := goneBuf[:0], backBuf[:0]
	for _, h := range allHeaders(m) {
		switch {
		case isHeader(h, "session-expires", "x", "min-se"):
		case isHeader(h, "require", "supported", "k"):
			if !containsFold(h.Value(), "timer") {
				back = append(back, h)
			} else if rest := withoutToken(h.Value(), "timer"); rest != "" {
				back = append(back, sip.NewHeader(h.Name(), rest))
			}
		default:
			continue
		}
		gone = append(gone, h)
	}
	for _, h := range gone {
		m.RemoveHeader(h.Name())
	}
	for _, h := range back {
		m.AppendHeader(h)
	}
}

// statesTimer: h is a session timer header, or an option-tag list that may
// name timer.
func statesTimer(h sip.Header) bool {
	return isHeader(h, "session-expires", "x", "min-se") ||
		(isHeader(h, "require", "supported", "k") && containsFold(h.Value(), "timer"))
}

func isHeader(h sip.Header, names ...string) bool {
	for _, n := range names {
		if strings.EqualFold(h.Name(), n) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII word w in
// any case.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

// editable is a request or a response (sip.Message lacks these two).
type editable interface {
	sip.Message
	GetHeader(name string) sip.Header
	RemoveHeader(name string) bool
}

func firstHeader(m editable, names ...string) sip.Header {
	for _, n := range names {
		if h := m.GetHeader(n); h != nil {
			return h
		}
	}
	return nil
}

func seconds(d time.Duration) string {
	return strconv.FormatInt(int64(max(d.Round(time.Second), time.Second)/time.Second), 10)
}

// expiryMargin is how long before a session's expiry natsbc, when the peer
// is the refresher, gives up on it (RFC 4028 §10: the minimum of 32 s and
// one third of the interval).
func expiryMargin(interval time.Duration) time.Duration {
	return min(32*time.Second, interval/3)
}
