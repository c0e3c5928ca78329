package diagnosis

import (
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/natsbc/natsbc/media"
)

// Report is the verdict on one INVITE dialog (one Call-ID's initial
// INVITE) with what the capture shows for it.
type Report struct {
	CallID  string  `json:"call_id"`
	Verdict Verdict `json:"verdict"`
	// Cause and Rule say why an ACK was lost (empty otherwise): the cause
	// in a few words and the rule that fired, with the values it read.
	Cause Cause  `json:"cause,omitempty"`
	Rule  string `json:"rule,omitempty"`
	// Status is the final response to the INVITE (0: none seen).
	Status int `json:"status,omitempty"`
	// Frames are the capture frames the verdict rests on (INVITE, final
	// response, ACK, BYE), in order.
	Frames []int `json:"frames"`
	// Evidence names the addresses and header values that were read.
	Evidence Evidence `json:"evidence"`
	// Messages are all of the call's messages, for the ladder.
	Messages []*Message `json:"-"`
}

// Evidence is what a verdict read from the capture.
type Evidence struct {
	Caller        string   `json:"caller,omitempty"`           // where the INVITE came from
	Callee        string   `json:"callee,omitempty"`           // where the INVITE went
	OKFrom        string   `json:"ok_from,omitempty"`          // where the 2xx came from
	Contact       string   `json:"contact,omitempty"`          // the 2xx Contact
	RecordRoute   []string `json:"record_route,omitempty"`     // the 2xx Record-Route
	Via           string   `json:"via,omitempty"`              // the INVITE's top Via
	ACKTo         string   `json:"ack_to,omitempty"`           // where the ACK went (empty: none seen)
	Retransmitted int      `json:"ok_retransmitted"`           // 2xx copies after the first
	AfterACK      int      `json:"ok_after_ack,omitempty"`     // of them, sent after the ACK
	ByeAfter      string   `json:"bye_after_ok,omitempty"`     // time from the 2xx to the BYE
	ByeFrom       string   `json:"bye_from,omitempty"`         // who sent the BYE
	PrivateSDP    string   `json:"private_sdp_addr,omitempty"` // a private c= address of the 2xx
}

// The 64*T1 window (RFC 3261 §13.3.1.4, T1 500 ms: 32 s) with the slack of
// phones that count it loosely.
const (
	byeWindowLow  = 28 * time.Second
	byeWindowHigh = 40 * time.Second
	// ackSlack: 2xx copies up to this long after the ACK were already on
	// their way when it was sent.
	ackSlack = 300 * time.Millisecond
	// settle: a capture that ends this soon after a 2xx without an ACK
	// cannot tell a lost ACK from one still to come.
	settle = 4 * time.Second
)

// Analyze groups the messages into calls by Call-ID and gives a report for
// each INVITE dialog, in the order of their first message. Messages that
// are not SIP are skipped.
func Analyze(msgs []Message) []Report {
	byCall := map[string][]*Message{}
	var order []string
	var last time.Time
	for i := range msgs {
		m := &msgs[i]
		p := m.parsed()
		if p == nil {
			continue
		}
		id := p.CallID().Value()
		if _, seen := byCall[id]; !seen {
			order = append(order, id)
		}
		byCall[id] = append(byCall[id], m)
		if m.Time.After(last) {
			last = m.Time
		}
	}
	var out []Report
	for _, id := range order {
		if r, ok := analyzeCall(id, byCall[id], last); ok {
			out = append(out, r)
		}
	}
	return out
}

// analyzeCall judges one Call-ID; false when it holds no INVITE dialog
// (a REGISTER, an OPTIONS ping).
func analyzeCall(id string, msgs []*Message, captureEnd time.Time) (Report, bool) {
	sortByTime(msgs)
	r := Report{CallID: id, Messages: msgs}
	var invite *Message
	inviteish := false
	for _, m := range msgs {
		if m.parsed().CSeq().MethodName == sip.INVITE {
			inviteish = true
		}
		if req, ok := m.parsed().(*sip.Request); ok && req.IsInvite() && toTag(req) == "" {
			invite = m
			break
		}
	}
	if invite == nil {
		if !inviteish && !hasMethod(msgs, sip.BYE, sip.ACK) {
			return r, false
		}
		r.Verdict, r.Rule = Incomplete, "no initial INVITE in the capture: it starts after the call was set up"
		r.Frames = frames(msgs[0])
		return r, true
	}
	inv := invite.parsed().(*sip.Request)
	seq := inv.CSeq().SeqNo
	r.Evidence.Caller, r.Evidence.Callee = invite.Src.String(), invite.Dst.String()
	if v := inv.Via(); v != nil {
		r.Evidence.Via = v.Value()
	}
	r.Frames = frames(invite)

	var ok, final *Message
	cancelled := false
	for _, m := range msgs {
		switch p := m.parsed().(type) {
		case *sip.Response:
			if p.CSeq().SeqNo != seq || p.CSeq().MethodName != sip.INVITE || p.IsProvisional() {
				continue
			}
			if p.IsSuccess() && ok == nil {
				ok = m
			}
			if !p.IsSuccess() && final == nil {
				final = m
			}
		case *sip.Request:
			if p.IsCancel() && p.CSeq().SeqNo == seq {
				cancelled = true
			}
		}
	}
	switch {
	case ok == nil && final != nil:
		res := final.parsed().(*sip.Response)
		r.Status = res.StatusCode
		r.Frames = append(r.Frames, final.Frame)
		if cancelled && res.StatusCode == 487 {
			r.Verdict = Cancelled
		} else {
			r.Verdict, r.Rule = Rejected, res.StartLine()
		}
		return r, true
	case ok == nil:
		r.Verdict, r.Rule = Incomplete, "no final response to the INVITE in the capture"
		return r, true
	}
	judgeAnswered(&r, msgs, invite, ok, captureEnd)
	return r, true
}

// judgeAnswered judges a call whose INVITE got a 2xx: was it ACKed, and
// if not, why (the rules of the README, "Diagnosing dropped calls").
func judgeAnswered(r *Report, msgs []*Message, invite, ok *Message, captureEnd time.Time) {
	res := ok.parsed().(*sip.Response)
	r.Status = res.StatusCode
	r.Frames = append(r.Frames, ok.Frame)
	ev := &r.Evidence
	ev.OKFrom = ok.Src.String()
	okTag, seq := toTag(res), res.CSeq().SeqNo
	contact, contactOK := contactAddr(res)
	if c := res.Contact(); c != nil {
		ev.Contact = c.Address.String()
	}
	for _, h := range res.GetHeaders("Record-Route") {
		ev.RecordRoute = append(ev.RecordRoute, h.Value())
	}
	if ip, private := privateSDP(res.Body()); private && ip != ok.Src.Addr() {
		ev.PrivateSDP = ip.String()
	}

	var ack, bye *Message
	for _, m := range msgs {
		switch p := m.parsed().(type) {
		case *sip.Request:
			if p.IsAck() && p.CSeq().SeqNo == seq && ack == nil {
				ack = m
			}
			if p.Method == sip.BYE && bye == nil {
				bye = m
			}
		case *sip.Response:
			if m != ok && p.IsSuccess() && p.CSeq().SeqNo == seq && p.CSeq().MethodName == sip.INVITE && toTag(p) == okTag {
				ev.Retransmitted++
				if ack != nil && m.Time.Sub(ack.Time) > ackSlack {
					ev.AfterACK++
				}
			}
		}
	}
	if ack != nil {
		ev.ACKTo = ack.Dst.String()
		r.Frames = append(r.Frames, ack.Frame)
	}
	byeFromCallee := false
	if bye != nil {
		after := bye.Time.Sub(ok.Time)
		ev.ByeAfter, ev.ByeFrom = after.Round(100*time.Millisecond).String(), bye.Src.String()
		byeFromCallee = fromTag(bye.parsed()) == okTag
		r.Frames = append(r.Frames, bye.Frame)
	}
	signature := bye != nil && byeFromCallee && inWindow(bye.Time.Sub(ok.Time))
	delivered := ack != nil && ev.AfterACK == 0 && !signature
	switch {
	case delivered:
		r.Verdict = OK
		return
	case ack == nil && !signature && captureEnd.Sub(ok.Time) < settle && ev.Retransmitted == 0:
		r.Verdict, r.Rule = Incomplete, "the capture ends right after the 2xx: no ACK yet"
		return
	case signature:
		r.Verdict = ByeAfter32
	default:
		r.Verdict = NoACK
	}

	// Why, in the order the README gives: the Contact's state first (it
	// decides where a correct caller sends the ACK), then what happened.
	proxy, proxied := proxyContact(res, ok, contact, contactOK)
	switch {
	case proxied:
		r.Cause = ExcessiveNATHandling
		r.Rule = "the 2xx came through record-routing proxies (Record-Route: " + strings.Join(ev.RecordRoute, ", ") + ") and its Contact " + ev.Contact +
			" is the address of one of them (" + proxy.String() + "), not the callee's: a NAT fix on a 2xx that did not come from the end-point overwrote its Contact, so the ACK goes to that proxy"
	case contactOK && isPrivate(contact.Addr()) && contact.Addr() != ok.Src.Addr():
		r.Cause = NoNATHandling
		r.Rule = "the 2xx Contact " + ev.Contact + " is a private address that is not where the 2xx came from (" + ok.Src.String() +
			"): nobody fixed the NATed callee's Contact, so the ACK is routed to an address the caller cannot reach"
	case ev.PrivateSDP != "" && ack == nil:
		r.Cause = NoNATHandling
		r.Rule = "the 2xx SDP names the private address " + ev.PrivateSDP + ", not where the 2xx came from (" + ok.Src.String() + "): the callee is NATed and nothing rewrote it"
	case ack != nil:
		r.Cause = ACKNotDelivered
		r.Rule = "the ACK left towards " + ev.ACKTo + " and the 2xx retransmissions went on after it: the ACK did not reach the callee (firewall, wrong advertised address, NAT binding expired)"
	default:
		r.Cause = NoACKSent
		r.Rule = "the 2xx went to " + ok.Dst.String() + " and no ACK came back in the capture: the caller never sent one"
	}
}

// proxyContact reports whether the 2xx Contact names a record-routing
// proxy of the path (the hop the 2xx came from, or one of its
// Record-Route entries) rather than the callee.
func proxyContact(res *sip.Response, ok *Message, contact netip.AddrPort, contactOK bool) (netip.AddrPort, bool) {
	if !contactOK || len(res.GetHeaders("Record-Route")) == 0 {
		return netip.AddrPort{}, false
	}
	if contact == ok.Src {
		return contact, true
	}
	for _, h := range res.GetHeaders("Record-Route") {
		rr, isRR := h.(*sip.RecordRouteHeader)
		if !isRR {
			continue
		}
		ip, err := netip.ParseAddr(rr.Address.Host)
		if err != nil {
			continue
		}
		port := rr.Address.Port
		if port == 0 {
			port = 5060
		}
		if netip.AddrPortFrom(ip.Unmap(), uint16(port)) == contact {
			return contact, true
		}
	}
	return netip.AddrPort{}, false
}

func inWindow(d time.Duration) bool { return d >= byeWindowLow && d <= byeWindowHigh }

func frames(ms ...*Message) []int {
	out := make([]int, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Frame)
	}
	return out
}

func hasMethod(msgs []*Message, methods ...sip.RequestMethod) bool {
	for _, m := range msgs {
		if req, ok := m.parsed().(*sip.Request); ok {
			for _, want := range methods {
				if req.Method == want {
					return true
				}
			}
		}
	}
	return false
}

func toTag(m sip.Message) string {
	if to := m.To(); to != nil {
		t, _ := to.Params.Get("tag")
		return t
	}
	return ""
}

func fromTag(m sip.Message) string {
	if from := m.From(); from != nil {
		t, _ := from.Params.Get("tag")
		return t
	}
	return ""
}

// contactAddr is the address of the 2xx's Contact when its host is an IP
// literal (a name says nothing about NAT).
func contactAddr(res *sip.Response) (netip.AddrPort, bool) {
	c := res.Contact()
	if c == nil {
		return netip.AddrPort{}, false
	}
	ip, err := netip.ParseAddr(c.Address.Host)
	if err != nil {
		return netip.AddrPort{}, false
	}
	port := c.Address.Port
	if port == 0 {
		port = 5060
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), true
}

// isPrivate: addresses that do not route on the Internet (RFC 1918, RFC
// 6598 shared space, RFC 4193 unique local, link-local).
func isPrivate(ip netip.Addr) bool {
	return ip.IsPrivate() || ip.IsLinkLocalUnicast() || netip.MustParsePrefix("100.64.0.0/10").Contains(ip)
}

// privateSDP is the first private c= address of an SDP body (read with
// the relay's SDP reader); false when there is none or no SDP.
func privateSDP(body []byte) (netip.Addr, bool) {
	if len(body) == 0 {
		return netip.Addr{}, false
	}
	streams, err := media.ParseStreams(body)
	if err != nil {
		return netip.Addr{}, false
	}
	for _, s := range streams {
		if s.Port != 0 && isPrivate(s.Addr.Unmap()) {
			return s.Addr.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// sortByTime orders messages by when they were seen, keeping the capture's
// order among equal times.
func sortByTime(msgs []*Message) {
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].Time.Before(msgs[j].Time) })
}
