// Command rtpeer is the NAT lab's RTP endpoint: it plays the media half of
// a phone or PBX whose SIP half is a sipp scenario. It binds the port the
// scenario's SDP offers, sends RTP (PCMU, 160-byte payload every 20 ms,
// correct sequence numbers, timestamps and SSRC) to the address the other
// side's SDP gave it, counts what it receives and from where, and reports
// as JSON lines on stderr (see Report). With -udptl it plays a T.38 fax
// endpoint instead: UDPTL datagrams (ITU-T T.38 Annex D) whose sequence
// numbers start at 0, so their first byte is 0x00 for the first 256 and
// falls in STUN's range by first byte (RFC 7983); the receiver counts them
// as non-RTP.
//
//	SIGUSR1 stops sending, SIGUSR2 starts it; SIGTERM/SIGINT write the
//	final report and exit 0.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	listen, target netip.AddrPort
	symmetric      bool
	paused         bool
	udptl          bool
	interval       time.Duration
	payloadLen     int
	payloadType    uint
	ssrc           uint32
	reportEvery    time.Duration
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("rtpeer", flag.ContinueOnError)
	listen := fs.String("listen", "", "IP:PORT to bind: the port this side's SDP offers")
	target := fs.String("target", "", "IP:PORT to send to: the address the SDP this side received names")
	var o options
	fs.BoolVar(&o.symmetric, "symmetric", false, "without -target, send to the source of the first packet received (RFC 4961)")
	fs.BoolVar(&o.paused, "paused", false, "start with sending off (SIGUSR2 starts it)")
	fs.BoolVar(&o.udptl, "udptl", false, "send T.38 UDPTL datagrams (sequence numbers from 0) instead of RTP")
	fs.DurationVar(&o.interval, "interval", 20*time.Millisecond, "packetisation interval")
	fs.IntVar(&o.payloadLen, "payload", 160, "payload bytes per packet (160 = 20 ms of PCMU)")
	fs.UintVar(&o.payloadType, "pt", 0, "RTP payload type (0 = PCMU)")
	ssrc := fs.Uint("ssrc", 0, "SSRC (0: random)")
	fs.DurationVar(&o.reportEvery, "report", 100*time.Millisecond, "how often to write a report line")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if o.listen, err = netip.ParseAddrPort(*listen); err != nil {
		return o, fmt.Errorf("-listen: %w", err)
	}
	if *target != "" {
		if o.target, err = netip.ParseAddrPort(*target); err != nil {
			return o, fmt.Errorf("-target: %w", err)
		}
	} else if !o.symmetric {
		return o, errors.New("-target or -symmetric is required")
	}
	if o.payloadType > 127 || o.payloadLen < 0 || o.interval <= 0 || o.reportEvery <= 0 {
		return o, errors.New("-pt must be 0..127, -payload >= 0, -interval and -report > 0")
	}
	o.ssrc = uint32(*ssrc)
	for o.ssrc == 0 {
		o.ssrc = rand.Uint32()
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpeer:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		writeReport(os.Stderr, Report{Msg: "rtp error", Error: err.Error(), AtUnixNano: time.Now().UnixNano()})
		os.Exit(1)
	}
}

func run(o options) error {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(o.listen))
	if err != nil {
		return err
	}
	c := newCounters(o.listen.String(), o.target, !o.paused)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		receive(conn, c, o.symmetric)
	}()
	// The first report says the port is bound: the lab waits for it.
	last := c.report("rtp report", time.Now())
	writeReport(os.Stderr, last)

	send := newSender(o)
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	reports := time.NewTicker(o.reportEvery)
	defer reports.Stop()
	for {
		select {
		case <-tick.C:
			send.tick(conn, c)
		case <-reports.C:
			// Only a change is news: an idle endpoint stays quiet.
			if r := c.report("rtp report", time.Now()); r.differs(last) {
				writeReport(os.Stderr, r)
				last = r
			}
		case s := <-sigs:
			switch s {
			case syscall.SIGUSR1:
				c.setSending(false)
			case syscall.SIGUSR2:
				c.setSending(true)
				send.marker = true // a new talkspurt (RFC 3551 §4.1)
			default:
				conn.Close()
				wg.Wait()
				writeReport(os.Stderr, c.report("rtp final", time.Now()))
				return nil
			}
		}
	}
}

// receive counts every datagram until conn is closed.
func receive(conn *net.UDPConn, c *counters, symmetric bool) {
	buf := make([]byte, 2048)
	for {
		n, src, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. a transient ICMP error: keep reading
		}
		c.receivedFrom(netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), buf[:n], time.Now(), symmetric)
	}
}

// sender builds the stream: one packet per tick while sending. The
// timestamp advances every tick, sending or not, as a real clock does;
// the sequence number only per packet sent (RFC 3550 §5.1).
type sender struct {
	h       rtpHeader
	step    uint32
	payload []byte
	marker  bool
	buf     []byte
	udptl   bool
	// udptlSeq is the next UDPTL sequence number: from 0, as a fax
	// endpoint starts.
	udptlSeq uint16
}

func newSender(o options) *sender {
	samples := uint32(o.interval / (time.Second / 8000)) // PCMU: 8 kHz clock
	return &sender{
		h: rtpHeader{payloadType: uint8(o.payloadType), seq: uint16(rand.Uint32()),
			timestamp: rand.Uint32(), ssrc: o.ssrc},
		step: samples, marker: true,
		payload: bytes.Repeat([]byte{0xff}, o.payloadLen), // μ-law silence
		udptl:   o.udptl,
	}
}

// appendUDPTL appends a UDPTL packet (T.38 Annex D): the 16-bit sequence
// number, then a primary IFP packet of length 4 (a T.30 indicator) and an
// empty redundancy part.
func appendUDPTL(buf []byte, seq uint16) []byte {
	return append(buf, byte(seq>>8), byte(seq), 4, 0x00, 0x01, 0x80, 0x00, 0x00)
}

func (s *sender) tick(conn *net.UDPConn, c *counters) {
	s.h.timestamp += s.step
	to, ok := c.sendTarget()
	if !ok {
		return
	}
	s.h.marker, s.marker = s.marker, false
	if s.udptl {
		s.buf = appendUDPTL(s.buf[:0], s.udptlSeq)
		s.udptlSeq++
	} else {
		s.buf = appendRTP(s.buf[:0], s.h, s.payload)
		s.h.seq++
	}
	_, err := conn.WriteToUDPAddrPort(s.buf, to)
	c.countSent(err)
}

func (c *counters) setSending(on bool) {
	c.mu.Lock()
	c.sending = on
	c.mu.Unlock()
}

// sendTarget is where to send now; ok is false while paused or unknown.
func (c *counters) sendTarget() (netip.AddrPort, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.target, c.sending && c.target.IsValid()
}

func (c *counters) countSent(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.sendErrors++
		return
	}
	c.sent++
}
