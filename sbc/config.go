package sbc

import (
	"net/netip"
	"time"
)

// Config holds the signalling knobs. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	// Timers per RFC 3261 §17.1.1.1 (T1, T2) and §17.1.2.2 (T4).
	T1, T2, T4 time.Duration
	// DrainTimeout is how long active calls may go on after SIGTERM before
	// natsbc ends them with BYE on both legs.
	DrainTimeout time.Duration
	// MaxMessageSize bounds an incoming SIP message; larger ones get 400
	// (or are dropped when they cannot be answered).
	MaxMessageSize int
	// MaxCalls bounds concurrent calls (0: no bound); over it INVITEs get 503.
	MaxCalls int
	// UserAgent is put in the Server/User-Agent header of what natsbc originates.
	UserAgent string
}

// DefaultConfig returns the RFC 3261 timer defaults and safe limits.
func DefaultConfig() Config {
	return Config{
		T1:             500 * time.Millisecond,
		T2:             4 * time.Second,
		T4:             5 * time.Second,
		DrainTimeout:   30 * time.Second,
		MaxMessageSize: 65535,
		UserAgent:      "natsbc",
	}
}

// ListenSpec describes one SIP socket natsbc serves.
type ListenSpec struct {
	// Name identifies the socket in logs and config ("outside", "inside").
	Name string
	// Network is "udp" or "tcp".
	Network string
	// Addr is the local IP:port; the IP may be unspecified (0.0.0.0/::),
	// in which case natsbc advertises, per peer, the address of the
	// interface that faces it.
	Addr netip.AddrPort
	// Advertise, when valid, is put in Via/Contact/Record-Route instead of
	// the local IP (natsbc behind a 1:1 NAT).
	Advertise netip.Addr
}
