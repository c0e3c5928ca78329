package diagnosis

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// Ladder geometry of WriteSVG, in pixels.
const (
	svgColumn = 200
	svgRow    = 26
	svgTop    = 40
	svgLeft   = 90
)

// WriteSVG draws the messages of one or more reports (the legs of one
// call) as a ladder: one lifeline per address in the order they appear,
// so that natsbc's two sockets sit between the caller and the callee, one
// arrow per message. The frames a lost-ACK verdict rests on are drawn in
// red; each arrow says its frame, time and first line on hover.
func WriteSVG(w io.Writer, reports ...Report) error {
	var msgs []*Message
	failing := map[*Message]bool{}
	for _, r := range reports {
		msgs = append(msgs, r.Messages...)
		if r.Verdict.LostACK() {
			for _, f := range r.Frames {
				for _, m := range r.Messages {
					if m.Frame == f {
						failing[m] = true
					}
				}
			}
		}
	}
	sortByTime(msgs)
	var parties []string
	col := map[string]int{}
	for _, m := range msgs {
		for _, a := range []string{m.Src.String(), m.Dst.String()} {
			if _, ok := col[a]; !ok {
				col[a] = len(parties)
				parties = append(parties, a)
			}
		}
	}
	width := svgLeft + max(1, len(parties))*svgColumn
	height := svgTop + (len(msgs)+1)*svgRow
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="ladder" width="%d" height="%d" font-family="monospace" font-size="12">`+"\n", width, height)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>` + "\n")
	for i, p := range parties {
		x := svgLeft + i*svgColumn + svgColumn/2
		fmt.Fprintf(&b, `<text x="%d" y="20" text-anchor="middle" class="party">%s</text>`+"\n", x, html.EscapeString(p))
		fmt.Fprintf(&b, `<line x1="%d" y1="28" x2="%d" y2="%d" stroke="#999" stroke-dasharray="4"/>`+"\n", x, x, height)
	}
	for i, m := range msgs {
		y := svgTop + (i+1)*svgRow
		x1 := svgLeft + col[m.Src.String()]*svgColumn + svgColumn/2
		x2 := svgLeft + col[m.Dst.String()]*svgColumn + svgColumn/2
		color, class := "#222", "msg"
		if failing[m] {
			color, class = "#c00", "msg failing"
		}
		first, _, _ := strings.Cut(string(m.Raw), "\r\n")
		fmt.Fprintf(&b, `<g class="%s" data-frame="%d" data-from="%s" data-to="%s"><title>#%d %+.3fs %s</title>`,
			class, m.Frame, html.EscapeString(m.Src.String()), html.EscapeString(m.Dst.String()), m.Frame, m.Time.Sub(msgs[0].Time).Seconds(), html.EscapeString(first))
		fmt.Fprintf(&b, `<text x="8" y="%d" fill="#666">%+.3fs</text>`, y, m.Time.Sub(msgs[0].Time).Seconds())
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" marker-end="url(#arrow)"/>`, x1, y, x2, y, color)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="%s">%s</text></g>`+"\n", (x1+x2)/2, y-4, color, html.EscapeString(summary(m)))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
