package capture

import (
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/natsbc/natsbc/diagnosis"
)

// Write writes messages as a pcap Wireshark opens (and Read reads back):
// raw IP packets, UDP datagrams for udp messages, one TCP segment each for
// tcp ones (sequence numbers running per direction). It is how natsbc
// hands out the messages of its own calls.
func Write(w io.Writer, msgs []diagnosis.Message) error {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535+128, layers.LinkTypeRaw); err != nil {
		return err
	}
	seqs := map[flowKey]uint32{}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	for i, m := range msgs {
		src, dst := m.Src.Addr().Unmap(), m.Dst.Addr().Unmap()
		var ip gopacket.NetworkLayer
		var ipLayer gopacket.SerializableLayer
		if src.Is4() && dst.Is4() {
			v4 := &layers.IPv4{Version: 4, TTL: 64, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
			ip, ipLayer = v4, v4
		} else {
			v6 := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: net.IP(netip.AddrFrom16(src.As16()).AsSlice()), DstIP: net.IP(netip.AddrFrom16(dst.As16()).AsSlice())}
			ip, ipLayer = v6, v6
		}
		var l4 gopacket.SerializableLayer
		// TLS and WebSocket messages were recorded as natsbc read them,
		// in the clear: they go out as TCP segments.
		if m.Transport != "" && m.Transport != "udp" {
			key := flowKey{m.Src, m.Dst}
			seg := &layers.TCP{SrcPort: layers.TCPPort(m.Src.Port()), DstPort: layers.TCPPort(m.Dst.Port()), Seq: seqs[key] + 1, ACK: true, PSH: true, Window: 65535}
			seqs[key] += uint32(len(m.Raw))
			_ = seg.SetNetworkLayerForChecksum(ip)
			l4 = seg
			setProto(ipLayer, layers.IPProtocolTCP)
		} else {
			u := &layers.UDP{SrcPort: layers.UDPPort(m.Src.Port()), DstPort: layers.UDPPort(m.Dst.Port())}
			_ = u.SetNetworkLayerForChecksum(ip)
			l4 = u
			setProto(ipLayer, layers.IPProtocolUDP)
		}
		if err := gopacket.SerializeLayers(buf, opts, ipLayer, l4, gopacket.Payload(m.Raw)); err != nil {
			return fmt.Errorf("message %d: %w", i+1, err)
		}
		data := buf.Bytes()
		if err := pw.WritePacket(gopacket.CaptureInfo{Timestamp: m.Time, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			return err
		}
	}
	return nil
}

func setProto(l gopacket.SerializableLayer, p layers.IPProtocol) {
	switch ip := l.(type) {
	case *layers.IPv4:
		ip.Protocol = p
	case *layers.IPv6:
		ip.NextHeader = p
	}
}
