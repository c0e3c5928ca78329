// Package capture reads the SIP messages of a pcap or pcapng file (from
// tcpdump, Wireshark, sngrep or a HEP collector) for the diagnosis engine:
// SIP over UDP, IPv4 fragments reassembled, and SIP over TCP reassembled
// per connection and framed by sipgo's stream parser. It needs no libpcap:
// gopacket's pure-Go readers and decoders.
package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/ip4defrag"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/natsbc/natsbc/diagnosis"
)

// packetSource is pcapgo's pcap or pcapng reader.
type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// pcapngMagic opens a pcapng Section Header Block.
const pcapngMagic = 0x0A0D0D0A

// Read returns the SIP messages of a capture in frame order. A capture cut
// short (a truncated last packet) yields what came before; a file that is
// not a capture is an error.
func Read(r io.Reader) ([]diagnosis.Message, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("not a pcap or pcapng capture: %w", err)
	}
	var src packetSource
	linkOf := func(gopacket.CaptureInfo) layers.LinkType { return 0 }
	if binary.BigEndian.Uint32(head) == pcapngMagic {
		// pcapgo trusts a packet block's lengths before it reads it (a
		// damaged file could make it allocate gigabytes): the blocks are
		// checked in memory first, and the file ends at the first bad one.
		whole, err := io.ReadAll(io.LimitReader(br, maxPcapng))
		if err != nil {
			return nil, err
		}
		ng, err := pcapgo.NewNgReader(bytes.NewReader(whole[:saneNgBlocks(whole)]), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("pcapng: %w", err)
		}
		src = ng
		linkOf = func(ci gopacket.CaptureInfo) layers.LinkType {
			if i, err := ng.Interface(ci.InterfaceIndex); err == nil {
				return i.LinkType
			}
			return ng.LinkType()
		}
	} else {
		p, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("pcap: %w", err)
		}
		// A packet is read into a buffer of its stated length: no larger
		// than any real packet, whatever the header claims.
		if p.Snaplen() > maxPacket {
			p.SetSnaplen(maxPacket)
		}
		src = p
		linkOf = func(gopacket.CaptureInfo) layers.LinkType { return p.LinkType() }
	}
	d := newDecoder()
	for frame := 1; ; frame++ {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return d.msgs, fmt.Errorf("frame %d: %w", frame, err)
		}
		d.packet(frame, ci.Timestamp, linkOf(ci), data)
	}
	return d.msgs, nil
}

const (
	// maxPacket bounds one packet (jumbo frames, reassembly offloads).
	maxPacket = 256 << 10
	// maxPcapng bounds a pcapng file, which is read into memory whole.
	maxPcapng = 1 << 30
)

// saneNgBlocks is how many bytes of a pcapng file hold whole, consistent
// blocks (pcapng §3.1: type, length, body, length again; an enhanced
// packet's captured length within its block): Read stops where they end.
func saneNgBlocks(b []byte) int {
	var order binary.ByteOrder = binary.LittleEndian
	at := 0
	for at+12 <= len(b) {
		typ := binary.BigEndian.Uint32(b[at:])
		if typ == pcapngMagic { // a section header says its byte order
			if binary.BigEndian.Uint32(b[at+8:]) == 0x1A2B3C4D {
				order = binary.BigEndian
			} else {
				order = binary.LittleEndian
			}
		}
		n := int(order.Uint32(b[at+4:]))
		if n < 12 || n%4 != 0 || n > len(b)-at || int(order.Uint32(b[at+n-4:])) != n {
			break
		}
		if order.Uint32(b[at:]) == 6 && (n < 32 || int(order.Uint32(b[at+20:])) > n-32 || int(order.Uint32(b[at+20:])) > maxPacket) {
			break // an enhanced packet block longer than itself
		}
		at += n
	}
	return at
}

// decoder turns packets into SIP messages.
type decoder struct {
	msgs    []diagnosis.Message
	defrag  *ip4defrag.IPv4Defragmenter
	streams map[flowKey]*tcpStream
}

func newDecoder() *decoder {
	return &decoder{defrag: ip4defrag.NewIPv4Defragmenter(), streams: map[flowKey]*tcpStream{}}
}

// packet decodes one frame. Whatever it cannot read is skipped: a capture
// holds all sorts of traffic, and gopacket's decoders are run under a
// recover (their bugs must not stop a diagnosis).
func (d *decoder) packet(frame int, at time.Time, link layers.LinkType, data []byte) {
	defer func() { _ = recover() }()
	p := gopacket.NewPacket(data, link, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	var srcIP, dstIP netip.Addr
	var payload gopacket.Packet = p
	if ip4, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		whole, err := d.defrag.DefragIPv4WithTimestamp(ip4, at)
		if err != nil || whole == nil {
			return // a fragment kept for later, or a bad one
		}
		if whole != ip4 {
			// Reassembled: decode what the whole datagram carries.
			payload = gopacket.NewPacket(whole.Payload, whole.NextLayerType(), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		}
		srcIP, _ = netip.AddrFromSlice(whole.SrcIP.To4())
		dstIP, _ = netip.AddrFromSlice(whole.DstIP.To4())
	} else if ip6, ok := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
		srcIP, _ = netip.AddrFromSlice(ip6.SrcIP)
		dstIP, _ = netip.AddrFromSlice(ip6.DstIP)
	} else {
		return
	}
	if udp, ok := payload.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
		if looksLikeSIP(udp.Payload) {
			d.add(frame, at, netip.AddrPortFrom(srcIP, uint16(udp.SrcPort)), netip.AddrPortFrom(dstIP, uint16(udp.DstPort)), "udp", udp.Payload)
		}
		return
	}
	if tcp, ok := payload.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
		key := flowKey{netip.AddrPortFrom(srcIP, uint16(tcp.SrcPort)), netip.AddrPortFrom(dstIP, uint16(tcp.DstPort))}
		d.tcp(frame, at, key, tcp)
	}
}

func (d *decoder) add(frame int, at time.Time, src, dst netip.AddrPort, transport string, raw []byte) {
	d.msgs = append(d.msgs, diagnosis.Message{Frame: frame, Time: at, Src: src, Dst: dst, Transport: transport,
		Raw: append([]byte(nil), raw...)})
}

// looksLikeSIP: a request line ends in SIP/2.0, a status line starts with
// it (RFC 3261 §7.1, §7.2). Anything else on the port is not looked at.
func looksLikeSIP(b []byte) bool {
	line, _, found := bytes.Cut(b, []byte("\r\n"))
	if !found {
		return false
	}
	return bytes.HasPrefix(line, []byte("SIP/2.0 ")) || bytes.HasSuffix(line, []byte(" SIP/2.0"))
}
