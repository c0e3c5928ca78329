package main

import (
	"encoding/json"
	"log/slog"
	"net/netip"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtcp"

	"github.com/natsbc/natsbc/configs"
	"github.com/natsbc/natsbc/hep"
)

// hepTap copies what natsbc sends and receives to a HEP v3 collector
// (hep.address): every SIP message of both legs with the real addresses,
// the RTCP the relay forwards, and a log event per call ended for a
// missing ACK. All of one call carry the A-leg Call-ID as correlation id
// (HEP chunk 0x0011), so Homer and sngrep show both legs as one call.
type hepTap struct {
	exp *hep.Exporter
	// correlate maps a Call-ID of either leg to the call's A-leg Call-ID
	// (sbc.Server.CorrelationID); set before natsbc serves.
	correlate func(callID string) string
}

// openHEP starts the exporter; nil when hep.address is "".
func openHEP(cfg *configs.Config, log *slog.Logger) (*hepTap, error) {
	h := cfg.HEP
	if h.Address == "" {
		return nil, nil
	}
	exp, err := hep.NewExporter(hep.Config{Address: h.Address, CaptureID: h.CaptureID, Password: h.Password, Logger: log})
	if err != nil {
		return nil, err
	}
	return &hepTap{exp: exp, correlate: func(id string) string { return id }}, nil
}

// SIP is the ingress.Tap of every socket.
func (h *hepTap) SIP(received bool, transport string, local, remote netip.AddrPort, msg []byte) {
	src, dst := remote, local
	if !received {
		src, dst = local, remote
	}
	if h.exp.Busy() {
		return // not worth parsing a message for a full queue
	}
	proto := uint8(17)
	if transport != "udp" {
		proto = 6
	}
	h.exp.Send(hep.Packet{Src: src, Dst: dst, Proto: proto, Type: hep.TypeSIP, CorrelationID: h.callOf(msg), Payload: msg})
}

// callOf is the correlation id of a message: its call's A-leg Call-ID.
// Parsed with sipgo's parser, as everything natsbc reads (only with HEP on).
func (h *hepTap) callOf(msg []byte) string {
	m, err := sip.ParseMessage(msg)
	if err != nil || m.CallID() == nil {
		return ""
	}
	return h.correlate(m.CallID().Value())
}

// CallEvent is sbc.EventTap: a HEP log packet (type 100) with the event's JSON.
func (h *hepTap) CallEvent(correlationID string, local, remote netip.AddrPort, event []byte) {
	h.exp.Send(hep.Packet{Src: local, Dst: remote, Proto: 17, Type: hep.TypeLog, CorrelationID: correlationID, Payload: event})
}

// RTCP is media.Config.OnRTCP: the report as JSON (HEP type 5, the shape
// Homer's agents send), from the peer that sent it to the one it went to.
func (h *hepTap) RTCP(callID string, from, to netip.AddrPort, pkt []byte) {
	report, ok := rtcpJSON(pkt)
	if !ok {
		return
	}
	h.exp.Send(hep.Packet{Src: from, Dst: to, Proto: 17, Type: hep.TypeRTCP, CorrelationID: callID, Payload: report})
}

func (h *hepTap) Close() error { return h.exp.Close() }

// rtcpReport is the JSON of a sender or receiver report.
type rtcpReport struct {
	Type         uint8              `json:"type"`
	SSRC         uint32             `json:"ssrc"`
	ReportCount  int                `json:"report_count"`
	Sender       *rtcpSenderInfo    `json:"sender_information,omitempty"`
	ReportBlocks []rtcpReportBlocks `json:"report_blocks"`
}

type rtcpSenderInfo struct {
	NTPSec  uint32 `json:"ntp_timestamp_sec"`
	NTPUsec uint32 `json:"ntp_timestamp_usec"`
	RTPTime uint32 `json:"rtp_timestamp"`
	Packets uint32 `json:"packets"`
	Octets  uint32 `json:"octets"`
}

type rtcpReportBlocks struct {
	SourceSSRC   uint32 `json:"source_ssrc"`
	FractionLost uint8  `json:"fraction_lost"`
	PacketsLost  uint32 `json:"packets_lost"`
	HighestSeq   uint32 `json:"highest_seq_no"`
	Jitter       uint32 `json:"ia_jitter"`
	LSR          uint32 `json:"lsr"`
	DLSR         uint32 `json:"dlsr"`
}

// rtcpJSON reads the first sender or receiver report of a compound RTCP
// packet (RFC 3550 §6.4); false for anything else (SRTCP is opaque).
func rtcpJSON(pkt []byte) ([]byte, bool) {
	packets, err := rtcp.Unmarshal(pkt)
	if err != nil {
		return nil, false
	}
	blocks := func(rs []rtcp.ReceptionReport) []rtcpReportBlocks {
		out := make([]rtcpReportBlocks, len(rs))
		for i, r := range rs {
			out[i] = rtcpReportBlocks{SourceSSRC: r.SSRC, FractionLost: r.FractionLost, PacketsLost: r.TotalLost,
				HighestSeq: r.LastSequenceNumber, Jitter: r.Jitter, LSR: r.LastSenderReport, DLSR: r.Delay}
		}
		return out
	}
	for _, p := range packets {
		var rep rtcpReport
		switch r := p.(type) {
		case *rtcp.SenderReport:
			rep = rtcpReport{Type: 200, SSRC: r.SSRC, ReportCount: len(r.Reports), ReportBlocks: blocks(r.Reports),
				Sender: &rtcpSenderInfo{NTPSec: uint32(r.NTPTime >> 32), NTPUsec: uint32((r.NTPTime & 0xffffffff) * 1_000_000 >> 32),
					RTPTime: r.RTPTime, Packets: r.PacketCount, Octets: r.OctetCount}}
		case *rtcp.ReceiverReport:
			rep = rtcpReport{Type: 201, SSRC: r.SSRC, ReportCount: len(r.Reports), ReportBlocks: blocks(r.Reports)}
		default:
			continue
		}
		b, err := json.Marshal(rep)
		return b, err == nil
	}
	return nil, false
}
