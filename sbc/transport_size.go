package sbc

import (
	"bytes"
	"errors"
	"sync"
	"syscall"

	"github.com/emiago/sipgo/sip"
)

// udpSizeLimit is RFC 3261 §18.1.1's bound when the path MTU is unknown:
// "If a request is within 200 bytes of the path MTU, or if it is larger than
// 1300 bytes and the path MTU is unknown, the request MUST be sent using an
// RFC 2914 congestion controlled transport protocol, such as TCP."
const udpSizeLimit = 1300

// maxUDPPayload is the largest datagram IPv4 carries (65535 minus the IP
// and UDP headers); IPv6 carries 20 bytes more. Anything larger fails at
// the socket with EMSGSIZE.
const maxUDPPayload = 65507

// SetSipgoSizeLimits sets sipgo's message size globals so that natsbc, not
// sipgo, decides what goes over UDP, and any message up to maxMessageSize
// is read whole. Call it once, before New (cmd does; so do the tests), as
// for sip.SetTimers.
func SetSipgoSizeLimits(maxMessageSize int) {
	// sipgo refuses to write a UDP message above UDPMTUSize-200 ("size of
	// packet larger than MTU"): the choice between TCP and one fragmented
	// datagram is natsbc's (pickTransport), and a response must go back
	// on the transport of its request whatever its size.
	sip.UDPMTUSize = maxUDPPayload + 200
	// The read buffer of sipgo's UDP and TCP loops (32 KiB by default)
	// bounds what the datagram guard may hand up; the guard's own limit is
	// max_message_size.
	sip.TransportBufferReadSize = 65535
	// The parser bound of TCP streams, so max_message_size holds there too.
	sip.ParseMaxMessageLength = maxMessageSize
}

var sizeBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// messageSize is the size of m on the wire (sipgo writes it the same way).
func messageSize(m sip.Message) int {
	b := sizeBufs.Get().(*bytes.Buffer)
	b.Reset()
	m.StringWrite(b)
	n := b.Len()
	sizeBufs.Put(b)
	return n
}

// permanentSendError says whether sending the same bytes again cannot work:
// the datagram is larger than the socket accepts.
func permanentSendError(err error) bool {
	return errors.Is(err, syscall.EMSGSIZE) || errors.Is(err, sip.ErrUDPMTUCongestion)
}
