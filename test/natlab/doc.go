//go:build linux

// Package natlab builds a real NAT in network namespaces and drives natsbc
// with real SIP peers (sipp, Kamailio) through it. A phone sits in "lan"
// behind a masquerading router "nat"; natsbc runs in "edge" between the
// public 203.0.113.0/24 and the inside 10.0.0.0/24 where the PBX, proxies
// and carriers live (namespace "pbx").
//
// Every test builds its own lab with a unique prefix and tears it down in
// t.Cleanup, so runs can overlap and a failed run leaves nothing behind.
// The lab needs root; see RequireRoot.
package natlab
