// Package nat answers two questions for the signalling layer: is the peer
// that sent this message behind a NAT (Detect), and which of our local
// addresses faces a destination (Router). It imports nothing of the
// project and knows no SIP library: callers hand it plain observations.
package nat
