// Package diagnosis explains INVITE dialogs from the SIP messages seen on
// the wire: whether each call was set up and acknowledged, and, for a call
// whose 2xx was never ACKed (the ~32 s drop of RFC 3261 §13.3.1.4), why.
// The same engine reads anyone's captures (`natsbc trace`, package
// capture) and natsbc's own calls.
package diagnosis

import (
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Message is one SIP message as a capture saw it.
type Message struct {
	Frame     int // 1-based frame number in the capture (0: not from one)
	Time      time.Time
	Src, Dst  netip.AddrPort
	Transport string // "udp" | "tcp" | "tls" | "ws" | "wss" (stream ones in the clear)
	Raw       []byte

	sip sip.Message // parsed, by Analyze
}

// parsed is the message parsed with sipgo's parser; nil when it is not SIP
// (a capture may hold anything on port 5060).
func (m *Message) parsed() sip.Message {
	if m.sip == nil {
		if msg, err := sip.ParseMessage(m.Raw); err == nil && msg.CallID() != nil && msg.CSeq() != nil {
			m.sip = msg
		}
	}
	return m.sip
}
