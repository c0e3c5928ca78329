package policy

import "fmt"

// ContactFix decides whether natsbc replaces a message's Contact (and so
// the next hop of requests sent to that peer) by the address the message
// came from. It is the core decision of natsbc: fixing too little loses
// the ACK and BYE of NATed phones; fixing too much ("excessive NAT
// handling") sends requests meant for a callee behind a proxy to the proxy
// that merely relayed them.
//
// The rules, first match wins:
//
//  1. peer.NAT == never: no fix. The operator knows the Contact is right.
//  2. peer.NAT == always: fix. For carriers that advertise a Contact they
//     cannot be reached at (a private address behind their own NAT).
//  3. the peer is a pbx, proxy or trunk: no fix. It forwards for others and
//     stays in the path; its Contact is where the dialog lives.
//  4. the message carried Record-Route: no fix. RFC 3261 §12.1.1/§12.1.2:
//     the route set, not the Contact, decides the next hop, and an element
//     that record-routes stays in the path; the source is that element,
//     not the end-point that wrote the Contact.
//  5. NAT was detected (private Contact, Via differs from source, ...):
//     fix. RFC 3581 §4 (symmetric response routing) in spirit: the only
//     address that reaches a NATed end-point is the flow it used.
//  6. otherwise: no fix. The Contact of a reachable end-point is used.
//
// rule explains the outcome for logs and diagnostics; an unknown peer
// (zero Name) shows as "unknown peer".
func ContactFix(peer Peer, viaRecordRoute bool, natDetected bool) (fix bool, rule string) {
	label := peerLabel(peer)
	switch {
	case peer.NAT == NATNever:
		return false, label + " nat=never"
	case peer.NAT == NATAlways:
		return true, label + " nat=always"
	case peer.Role.Forwards():
		return false, fmt.Sprintf("%s is a %s: stays in path, Contact kept", label, peer.Role)
	case viaRecordRoute:
		return false, "Record-Route present: route set, Contact kept"
	case natDetected:
		return true, "NATed end-point: routed to its flow"
	default:
		return false, "end-point not NATed: Contact used"
	}
}
