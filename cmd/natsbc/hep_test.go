package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/natsbc/natsbc/hep"
)

// Issue 13, item 2: with hep.address set, what natsbc receives and what it
// answers reach the collector as HEP v3 SIP packets with the real
// addresses, the message whole and the Call-ID as correlation id.
func TestHEPExportsEveryMessage(t *testing.T) {
	collector, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer collector.Close()
	sipPort, adminPort := freePort(t, "udp"), freePort(t, "tcp")
	file := filepath.Join(t.TempDir(), "natsbc.yaml")
	yaml := apiConfig(sipPort, adminPort, fmt.Sprintf("hep:\n  address: udp:%s\n  capture_id: 77\n  password: s3cret\n", collector.LocalAddr()))
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := options{configFile: file}
	cfg, err := loadConfig(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, opts, cfg, nil, new(slog.LevelVar), slog.New(slog.DiscardHandler)) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	phone, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	natsbc := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", sipPort))
	options := "OPTIONS sip:" + natsbc.String() + " SIP/2.0\r\nVia: SIP/2.0/UDP " + phone.LocalAddr().String() + ";branch=z9hG4bK-hep1;rport\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:ping@example.com>;tag=1\r\nTo: <sip:" + natsbc.String() + ">\r\nCall-ID: hep-test-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	// natsbc is starting: the OPTIONS is resent until it answers.
	answered := false
	buf := make([]byte, 65536)
	for i := 0; i < 50 && !answered; i++ {
		if _, err := phone.WriteToUDPAddrPort([]byte(options), natsbc); err != nil {
			t.Fatal(err)
		}
		_ = phone.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, _, err := phone.ReadFromUDP(buf); err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			answered = true
		}
	}
	if !answered {
		t.Fatal("natsbc did not answer the OPTIONS")
	}
	phoneAddr := phone.LocalAddr().(*net.UDPAddr).AddrPort()
	var in, out bool
	_ = collector.SetReadDeadline(time.Now().Add(5 * time.Second))
	for !(in && out) {
		n, _, err := collector.ReadFrom(buf)
		if err != nil {
			t.Fatalf("collector: %v (got request %v, answer %v)", err, in, out)
		}
		p, err := hep.Decode(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		if p.Type != hep.TypeSIP || p.CaptureID != 77 || p.Password != "s3cret" || p.Proto != 17 || p.CorrelationID != "hep-test-1" {
			t.Fatalf("HEP packet %+v", p)
		}
		switch {
		case strings.HasPrefix(string(p.Payload), "OPTIONS ") && p.Src == phoneAddr && p.Dst == natsbc:
			in = true
		case strings.HasPrefix(string(p.Payload), "SIP/2.0 200") && p.Src == natsbc && p.Dst == phoneAddr:
			out = true
		}
	}
}

// The relay's RTCP goes to Homer as the JSON its agents send: a receiver
// report's blocks with their loss and jitter.
func TestRTCPJSON(t *testing.T) {
	pkt, err := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 0xa, Reports: []rtcp.ReceptionReport{
		{SSRC: 0xb, FractionLost: 12, TotalLost: 3, LastSequenceNumber: 70000, Jitter: 40, LastSenderReport: 5, Delay: 6}}}})
	if err != nil {
		t.Fatal(err)
	}
	b, ok := rtcpJSON(pkt)
	if !ok {
		t.Fatal("a receiver report was not read")
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	block := got["report_blocks"].([]any)[0].(map[string]any)
	if got["type"] != 201.0 || got["ssrc"] != 10.0 || block["packets_lost"] != 3.0 || block["ia_jitter"] != 40.0 || block["highest_seq_no"] != 70000.0 {
		t.Fatalf("RTCP JSON %s", b)
	}
	if _, ok := rtcpJSON([]byte{0x80, 0xff}); ok {
		t.Fatal("garbage read as RTCP")
	}
}
