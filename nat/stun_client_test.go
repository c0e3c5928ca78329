package nat

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

func TestDiscoverLearnsTheLoopbackAddress(t *testing.T) {
	server := startTestSTUNServer(t, answerHonestly)
	conn := listenLoopback(t)
	got, err := Discover(t.Context(), conn, server.addr())
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if want := conn.LocalAddr().(*net.UDPAddr).AddrPort(); got != want {
		t.Errorf("mapped %v, want the client socket's own %v", got, want)
	}
	req := <-server.requests
	m := &stun.Message{Raw: req}
	if err := m.Decode(); err != nil || m.Type != stun.BindingRequest || stun.Fingerprint.Check(m) != nil {
		t.Errorf("request is not a fingerprinted Binding request: %v %v", m.Type, err)
	}
}

// RFC 5389 §7.2.1: a lost request is retransmitted after the RTO with the
// same transaction ID.
func TestDiscoverRetransmitsALostRequest(t *testing.T) {
	server := startTestSTUNServer(t, dropFirst(1, answerHonestly))
	conn := listenLoopback(t)
	start := time.Now()
	got, err := Discover(t.Context(), conn, server.addr())
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if elapsed := time.Since(start); elapsed < stunInitialRTO {
		t.Errorf("answered after %v: the retransmission came before the RTO", elapsed)
	}
	if got != conn.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Errorf("mapped %v", got)
	}
	first, second := <-server.requests, <-server.requests
	if !bytes.Equal(first[8:20], second[8:20]) {
		t.Error("retransmission has a new transaction ID")
	}
}

// A datagram from anyone but the server is ignored, even with the right
// transaction ID. Loopback delivers in send order, so the forged answer is
// read first.
func TestDiscoverIgnoresAnswersFromElsewhere(t *testing.T) {
	spoofer := listenLoopback(t)
	forged := netip.MustParseAddrPort("192.0.2.66:666")
	server := startTestSTUNServer(t, func(req []byte, from netip.AddrPort) []byte {
		lie, _ := AnswerBinding(req, forged)
		if _, err := spoofer.WriteToUDPAddrPort(lie, from); err != nil {
			t.Errorf("spoof: %v", err)
		}
		return answerHonestly(req, from)
	})
	conn := listenLoopback(t)
	got, err := Discover(t.Context(), conn, server.addr())
	if err != nil || got != conn.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("Discover = %v, %v; want the server's answer, not the forged %v", got, err, forged)
	}
}

func TestDiscoverFallsBackToMappedAddress(t *testing.T) {
	want := netip.MustParseAddrPort("198.51.100.4:4444")
	server := startTestSTUNServer(t, func(req []byte, _ netip.AddrPort) []byte {
		in := &stun.Message{Raw: req}
		if in.Decode() != nil {
			return nil
		}
		out, err := stun.Build(stun.NewTransactionIDSetter(in.TransactionID), stun.BindingSuccess,
			&stun.MappedAddress{IP: want.Addr().AsSlice(), Port: int(want.Port())})
		if err != nil {
			return nil
		}
		return out.Raw
	})
	got, err := Discover(t.Context(), listenLoopback(t), server.addr())
	if err != nil || got != want {
		t.Fatalf("Discover = %v, %v; want %v from MAPPED-ADDRESS", got, err, want)
	}
}

func TestDiscoverReportsAnErrorResponse(t *testing.T) {
	server := startTestSTUNServer(t, func(req []byte, _ netip.AddrPort) []byte {
		in := &stun.Message{Raw: req}
		if in.Decode() != nil {
			return nil
		}
		out, _ := stun.Build(stun.NewTransactionIDSetter(in.TransactionID), stun.BindingError,
			stun.CodeServerError)
		return out.Raw
	})
	_, err := Discover(t.Context(), listenLoopback(t), server.addr())
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("Discover = %v, want the server's 500", err)
	}
}

// Cancelling ctx ends a Discover blocked in ReadFrom at once, even without
// a deadline, and leaves the socket usable.
func TestDiscoverStopsOnCancel(t *testing.T) {
	server := startTestSTUNServer(t, func([]byte, netip.AddrPort) []byte { return nil })
	conn := listenLoopback(t)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := Discover(ctx, conn, server.addr())
		errc <- err
	}()
	<-server.requests // Discover is now waiting for the answer
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Discover = %v, want context.Canceled", err)
		}
	case <-time.After(stunInitialRTO / 2):
		t.Fatal("Discover did not return promptly after cancel")
	}
	honest := startTestSTUNServer(t, answerHonestly)
	if _, err := Discover(t.Context(), conn, honest.addr()); err != nil {
		t.Fatalf("socket unusable after a cancelled Discover: %v", err)
	}
}
