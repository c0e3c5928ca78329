package capture

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/natsbc/natsbc/diagnosis"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// frameBuilder writes packets the way a capture on an Ethernet holds them.
type frameBuilder struct {
	t       *testing.T
	packets [][]byte
	times   []time.Time
}

func (f *frameBuilder) ip(src, dst string, proto layers.IPProtocol, id uint16, flags layers.IPv4Flag, fragOffset uint16) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, Id: id, Flags: flags, FragOffset: fragOffset,
		SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

func (f *frameBuilder) write(at time.Duration, ls ...gopacket.SerializableLayer) {
	f.t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, append([]gopacket.SerializableLayer{eth}, ls...)...); err != nil {
		f.t.Fatal(err)
	}
	f.packets = append(f.packets, append([]byte(nil), buf.Bytes()...))
	f.times = append(f.times, t0.Add(at))
}

// udp writes one SIP datagram.
func (f *frameBuilder) udp(at time.Duration, src, dst string, sport, dport int, msg string) {
	ip := f.ip(src, dst, layers.IPProtocolUDP, 0, 0, 0)
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	_ = u.SetNetworkLayerForChecksum(ip)
	f.write(at, ip, u, gopacket.Payload(msg))
}

// fragmentedUDP writes one SIP datagram as two IPv4 fragments.
func (f *frameBuilder) fragmentedUDP(at time.Duration, src, dst string, sport, dport int, msg string) {
	ip := f.ip(src, dst, layers.IPProtocolUDP, 77, 0, 0)
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	_ = u.SetNetworkLayerForChecksum(ip)
	whole := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(whole, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, u, gopacket.Payload(msg)); err != nil {
		f.t.Fatal(err)
	}
	b := whole.Bytes()
	cut := 8 * 100 // fragment offsets count 8-byte units
	f.write(at, f.ip(src, dst, layers.IPProtocolUDP, 77, layers.IPv4MoreFragments, 0), gopacket.Payload(b[:cut]))
	f.write(at, f.ip(src, dst, layers.IPProtocolUDP, 77, 0, uint16(cut/8)), gopacket.Payload(b[cut:]))
}

// tcp writes one segment.
func (f *frameBuilder) tcp(at time.Duration, src, dst string, sport, dport int, seq uint32, syn bool, data string) {
	ip := f.ip(src, dst, layers.IPProtocolTCP, 0, 0, 0)
	seg := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: seq, SYN: syn, ACK: !syn, Window: 65535}
	_ = seg.SetNetworkLayerForChecksum(ip)
	f.write(at, ip, seg, gopacket.Payload(data))
}

func (f *frameBuilder) pcap() []byte {
	var out bytes.Buffer
	w := pcapgo.NewWriter(&out)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		f.t.Fatal(err)
	}
	for i, p := range f.packets {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: f.times[i], CaptureLength: len(p), Length: len(p)}, p); err != nil {
			f.t.Fatal(err)
		}
	}
	return out.Bytes()
}

func (f *frameBuilder) pcapng() []byte {
	var out bytes.Buffer
	w, err := pcapgo.NewNgWriter(&out, layers.LinkTypeEthernet)
	if err != nil {
		f.t.Fatal(err)
	}
	for i, p := range f.packets {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: f.times[i], CaptureLength: len(p), Length: len(p)}, p); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		f.t.Fatal(err)
	}
	return out.Bytes()
}

func sipMsg(first string, headers ...string) string {
	return first + "\r\n" + strings.Join(headers, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
}

func inviteMsg(callID string) string {
	return sipMsg("INVITE sip:bob@198.51.100.1 SIP/2.0", "Via: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK-1",
		"From: <sip:alice@example.com>;tag=a1", "To: <sip:bob@example.com>", "Call-ID: "+callID, "CSeq: 1 INVITE",
		"Contact: <sip:alice@203.0.113.7:5060>")
}

func okMsg(callID string) string {
	return sipMsg("SIP/2.0 200 OK", "Via: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK-1",
		"From: <sip:alice@example.com>;tag=a1", "To: <sip:bob@example.com>;tag=b1", "Call-ID: "+callID, "CSeq: 1 INVITE",
		"Contact: <sip:bob@198.51.100.1:5060>", "X-Pad: "+strings.Repeat("p", 1500))
}

func ackMsg(callID string) string {
	return sipMsg("ACK sip:bob@198.51.100.1:5060 SIP/2.0", "Via: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK-2",
		"From: <sip:alice@example.com>;tag=a1", "To: <sip:bob@example.com>;tag=b1", "Call-ID: "+callID, "CSeq: 1 ACK")
}

// A UDP call whose 2xx is fragmented (it is larger than the MTU) and a TCP
// call whose INVITE spans two segments that arrive out of order, with a
// retransmission and a segment of two messages: both read whole, in frame
// order, and each is an acknowledged call. pcap and pcapng alike.
func TestReadUDPFragmentsAndTCP(t *testing.T) {
	f := &frameBuilder{t: t}
	f.udp(0, "203.0.113.7", "198.51.100.1", 5060, 5060, inviteMsg("udp-1"))
	f.fragmentedUDP(time.Second, "198.51.100.1", "203.0.113.7", 5060, 5060, okMsg("udp-1"))
	f.udp(1100*time.Millisecond, "203.0.113.7", "198.51.100.1", 5060, 5060, ackMsg("udp-1"))
	f.udp(1200*time.Millisecond, "203.0.113.7", "198.51.100.1", 5060, 5060, "\x00\x01 not SIP\r\n")

	inv := inviteMsg("tcp-1")
	const c, s = "203.0.113.8", "198.51.100.1"
	f.tcp(2*time.Second, c, s, 40000, 5060, 999, true, "")
	f.tcp(2100*time.Millisecond, c, s, 40000, 5060, 1000+uint32(len(inv)/2), false, inv[len(inv)/2:]) // ahead of its time
	f.tcp(2200*time.Millisecond, c, s, 40000, 5060, 1000, false, inv[:len(inv)/2])
	f.tcp(2300*time.Millisecond, c, s, 40000, 5060, 1000, false, inv[:len(inv)/2]) // retransmitted
	f.tcp(2400*time.Millisecond, s, c, 5060, 40000, 7000, false, okMsg("tcp-1"))
	f.tcp(2500*time.Millisecond, c, s, 40000, 5060, 1000+uint32(len(inv)), false, ackMsg("tcp-1")+"\r\n\r\n")

	for name, file := range map[string][]byte{"pcap": f.pcap(), "pcapng": f.pcapng()} {
		t.Run(name, func(t *testing.T) {
			msgs, err := Read(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range msgs {
				first, _, _ := strings.Cut(string(m.Raw), "\r\n")
				got = append(got, m.Transport+" "+first)
			}
			want := []string{"udp INVITE sip:bob@198.51.100.1 SIP/2.0", "udp SIP/2.0 200 OK", "udp ACK sip:bob@198.51.100.1:5060 SIP/2.0",
				"tcp INVITE sip:bob@198.51.100.1 SIP/2.0", "tcp SIP/2.0 200 OK", "tcp ACK sip:bob@198.51.100.1:5060 SIP/2.0"}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("messages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if msgs[1].Frame != 3 || msgs[3].Frame != 8 || msgs[1].Src.String() != "198.51.100.1:5060" {
				t.Errorf("frames/addresses: %d %d %s", msgs[1].Frame, msgs[3].Frame, msgs[1].Src)
			}
			for _, r := range diagnosis.Analyze(msgs) {
				if r.Verdict != diagnosis.OK {
					t.Errorf("%s: %s, want ok", r.CallID, r.Verdict)
				}
			}
		})
	}
}

// What is not a capture is an error; a capture cut short yields what it
// holds before the cut.
func TestReadRefusesAndTruncates(t *testing.T) {
	if _, err := Read(strings.NewReader("INVITE is not a capture")); err == nil {
		t.Error("a text file read as a capture")
	}
	f := &frameBuilder{t: t}
	f.udp(0, "203.0.113.7", "198.51.100.1", 5060, 5060, inviteMsg("cut"))
	f.udp(time.Second, "198.51.100.1", "203.0.113.7", 5060, 5060, okMsg("cut"))
	file := f.pcap()
	msgs, err := Read(bytes.NewReader(file[:len(file)-100]))
	if err != nil || len(msgs) != 1 {
		t.Fatalf("cut capture: %d messages, %v; want the first", len(msgs), err)
	}
}

// FuzzRead: any bytes are read without a panic or a hang.
func FuzzRead(f *testing.F) {
	fb := &frameBuilder{t: &testing.T{}}
	fb.udp(0, "203.0.113.7", "198.51.100.1", 5060, 5060, inviteMsg("fuzz"))
	fb.fragmentedUDP(time.Second, "198.51.100.1", "203.0.113.7", 5060, 5060, okMsg("fuzz"))
	fb.tcp(2*time.Second, "203.0.113.8", "198.51.100.1", 40000, 5060, 1000, false, inviteMsg("fuzz-tcp"))
	f.Add(fb.pcap())
	f.Add(fb.pcapng())
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _ := Read(bytes.NewReader(b))
		diagnosis.Analyze(msgs)
	})
}

// Write's pcap reads back as the same messages, over UDP and TCP, IPv4
// and IPv6: the download of a call natsbc hands out is what trace reads.
func TestWriteReadsBack(t *testing.T) {
	in := []diagnosis.Message{
		{Time: t0, Src: netip.MustParseAddrPort("203.0.113.7:5060"), Dst: netip.MustParseAddrPort("198.51.100.1:5060"), Transport: "udp", Raw: []byte(inviteMsg("w-1"))},
		{Time: t0.Add(time.Second), Src: netip.MustParseAddrPort("198.51.100.1:5060"), Dst: netip.MustParseAddrPort("203.0.113.7:5060"), Transport: "udp", Raw: []byte(okMsg("w-1"))},
		{Time: t0.Add(2 * time.Second), Src: netip.MustParseAddrPort("[2001:db8::7]:40000"), Dst: netip.MustParseAddrPort("[2001:db8::1]:5060"), Transport: "tcp", Raw: []byte(inviteMsg("w-2"))},
		{Time: t0.Add(3 * time.Second), Src: netip.MustParseAddrPort("[2001:db8::7]:40000"), Dst: netip.MustParseAddrPort("[2001:db8::1]:5060"), Transport: "tcp", Raw: []byte(ackMsg("w-2"))},
	}
	var b bytes.Buffer
	if err := Write(&b, in); err != nil {
		t.Fatal(err)
	}
	out, err := Read(&b)
	if err != nil || len(out) != len(in) {
		t.Fatalf("read back %d of %d messages: %v", len(out), len(in), err)
	}
	for i := range in {
		if out[i].Src != in[i].Src || out[i].Dst != in[i].Dst || out[i].Transport != in[i].Transport || !out[i].Time.Equal(in[i].Time) || out[i].Frame != i+1 {
			t.Errorf("message %d: %+v, want %+v", i, out[i], in[i])
		}
		if first, _, _ := strings.Cut(string(out[i].Raw), "\r\n"); !strings.HasPrefix(string(in[i].Raw), first) {
			t.Errorf("message %d starts %q", i, first)
		}
	}
}
