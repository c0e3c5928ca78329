// Package nat answers two questions for the signalling layer: is the peer
// that sent this message behind a NAT (Detect), and which of our local
// addresses faces a destination (Router). It imports nothing of the
// project and knows no SIP library: callers hand it plain observations.
//
// It also speaks STUN (RFC 5389): AnswerBinding serves Binding requests on
// the SIP and media sockets, STUNMemory remembers the mappings told so
// Classify can tell NAT-aware and symmetric-NAT phones apart, and Discover
// and PublicAddress learn natsbc's own public address. WatchAddresses
// reports local address changes (rtnetlink).
package nat
