package diagnosis

import (
	"fmt"
	"io"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// WriteText prints one report as `natsbc trace` does: the verdict, and for
// a lost ACK its cause, the rule that fired and what it read.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", r.CallID, r.Verdict)
	if r.Verdict == Rejected || r.Verdict == Cancelled {
		fmt.Fprintf(&b, " (%d)", r.Status)
	}
	if r.Cause != "" {
		fmt.Fprintf(&b, ": %s", r.Cause)
	}
	b.WriteString("\n")
	ev := r.Evidence
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-13s %s\n", k, v)
		}
	}
	line("caller", ev.Caller)
	line("callee", ev.Callee)
	line("INVITE Via", ev.Via)
	line("2xx from", ev.OKFrom)
	line("2xx Contact", ev.Contact)
	line("Record-Route", strings.Join(ev.RecordRoute, ", "))
	line("SDP address", ev.PrivateSDP)
	if r.Verdict.LostACK() || ev.ACKTo != "" {
		ack := ev.ACKTo
		if ack == "" {
			ack = "(none in the capture)"
		}
		line("ACK to", ack)
		switch {
		case ev.Retransmitted > 0 && ev.ACKTo != "":
			line("2xx resent", fmt.Sprintf("%d times, %d of them after the ACK", ev.Retransmitted, ev.AfterACK))
		case ev.Retransmitted > 0:
			line("2xx resent", fmt.Sprintf("%d times", ev.Retransmitted))
		}
	}
	if ev.ByeAfter != "" {
		line("BYE", ev.ByeAfter+" after the 2xx, from "+ev.ByeFrom)
	}
	line("why", r.Rule)
	line("frames", strings.Trim(fmt.Sprint(r.Frames), "[]"))
	_, err := io.WriteString(w, b.String())
	return err
}

// columnWidth is the room each party of a ladder gets.
const columnWidth = 24

// WriteLadder draws the call's messages as an ASCII ladder, one column per
// address in the order they appear, one arrow per message.
func WriteLadder(w io.Writer, r Report) error {
	var parties []string
	col := map[string]int{}
	for _, m := range r.Messages {
		for _, a := range []string{m.Src.String(), m.Dst.String()} {
			if _, ok := col[a]; !ok {
				col[a] = len(parties)
				parties = append(parties, a)
			}
		}
	}
	if len(parties) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", 18))
	var head strings.Builder
	for _, p := range parties {
		fmt.Fprintf(&head, "%-*s", columnWidth, p)
	}
	b.WriteString(strings.TrimRight(head.String(), " ") + "\n")
	start := r.Messages[0].Time
	for _, m := range r.Messages {
		from, to := col[m.Src.String()], col[m.Dst.String()]
		row := []byte(strings.Repeat(" ", columnWidth*len(parties)))
		for i := range parties {
			row[i*columnWidth] = '|'
		}
		lo, hi := min(from, to), max(from, to)
		label := "-" + summary(m) + "-"
		span := (hi - lo) * columnWidth
		if span > 1 {
			arrow := strings.Repeat("-", span-1)
			if len(label) < len(arrow) {
				at := (len(arrow) - len(label)) / 2
				arrow = arrow[:at] + label + arrow[at+len(label):]
			}
			if to > from {
				arrow = arrow[:len(arrow)-1] + ">"
			} else {
				arrow = "<" + arrow[1:]
			}
			copy(row[lo*columnWidth+1:], arrow)
		}
		fmt.Fprintf(&b, "%6d %+9.3fs  %s\n", m.Frame, m.Time.Sub(start).Seconds(), strings.TrimRight(string(row), " "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// summary names a message in a few characters: "INVITE", "200 INVITE".
func summary(m *Message) string {
	switch p := m.parsed().(type) {
	case *sip.Request:
		return string(p.Method)
	case *sip.Response:
		return fmt.Sprintf("%d %s", p.StatusCode, p.CSeq().MethodName)
	}
	return "?"
}
