//go:build linux

package natlab

// The lab's fixed addressing. Every lab uses the same addresses: they live
// in the lab's own namespaces, so parallel labs never see each other.
const (
	PhoneIP     = "192.168.1.10" // the phone, in "lan", behind the NAT
	NATInsideIP = "192.168.1.1"  // the router's LAN side, the phone's gateway
	NATPublicIP = "203.0.113.1"  // the router's public side: what natsbc sees
	EdgeOutIP   = "203.0.113.5"  // natsbc's outside socket
	EdgeInIP    = "10.0.0.5"     // natsbc's inside socket
	PBXIP       = "10.0.0.10"    // the PBX / default callee
	ProxyIP     = "10.0.0.20"    // the record-routing Kamailio
	CalleeIP    = "10.0.0.30"    // the callee behind Kamailio
	CarrierIP   = "10.0.0.40"    // the carrier trunk
)

// Namespace roles within a lab.
const (
	NSLan  = "lan"
	NSNAT  = "nat"
	NSEdge = "edge"
	NSPBX  = "pbx"
)
