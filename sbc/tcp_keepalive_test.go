package sbc

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/policy"
)

// RFC 5626 §4.4.1: a TCP phone keeps its flow alive with a CRLFCRLF
// "ping"; the server answers a single CRLF "pong".
func TestTCPCRLFKeepaliveAnswered(t *testing.T) {
	t.Parallel()
	addr, _ := newTCPServer(t, policy.Config{Peers: []policy.Peer{{Name: "pbx", Networks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Address: "127.0.0.1:5060", Role: policy.RolePBX}}}, ingress.ShieldConfig{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 2 {
		if _, err := c.Write([]byte("\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(wait))
		pong := make([]byte, 2)
		if _, err := io.ReadFull(c, pong); err != nil || string(pong) != "\r\n" {
			t.Fatalf("pong = %q, %v; want CRLF", pong, err)
		}
	}
}

// newTCPServer runs natsbc with one TCP socket, the given peers and shield
// settings, and returns that socket's address; it stops with the test.
func newTCPServer(t *testing.T, peers policy.Config, sec ingress.ShieldConfig, mods ...func(*Options)) (string, *Server) {
	t.Helper()
	ln, err := net.Listen("tcp", outsideIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(peers)
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	opts := Options{
		Listeners: []Listener{{Spec: ListenSpec{Name: "tcp", Network: "tcp", Addr: addr}, Stream: ln}},
		Policy:    pol,
		Security:  sec,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, mod := range mods {
		mod(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return addr.String(), srv
}
