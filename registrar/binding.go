package registrar

import (
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Flow is how a phone is reached (RFC 5626 §3.3 "flow"): the natsbc socket
// its REGISTER arrived on and the source address it came from. For UDP,
// sending from that socket to that source reuses the phone's NAT pinhole;
// for TCP, the same destination reuses the phone's own connection. The
// socket is named by its bound address, so a flow can be stored and
// matched to the socket again after a restart.
type Flow struct {
	Transport string         // "UDP" | "TCP"
	Local     netip.AddrPort // the bound address of natsbc's socket
	Source    netip.AddrPort
	Adv       netip.AddrPort // natsbc's address as the phone sees it
}

func (f Flow) String() string { return strings.ToLower(f.Transport) + ":" + f.Source.String() }

// PBXSide is what natsbc needs to refresh or remove the binding at the
// PBX on the phone's behalf. RFC 3261 §10.2.4: refreshes keep the Call-ID
// and raise the CSeq.
type PBXSide struct {
	RURI      sip.Uri
	From, To  sip.Uri
	CallID    string
	CSeq      uint32
	Dst       netip.AddrPort
	Local     netip.AddrPort // natsbc's socket facing the PBX
	Adv       netip.AddrPort
	Transport string
}

// Verdict is the NAT verdict of a registration.
type Verdict struct {
	Kind      string   // "no NAT" | "NAT" | "NAT-aware" | "symmetric NAT"
	Checks    []string // why
	Keepalive bool     // natsbc must keep the phone's pinhole open
}

// Binding is one registered Contact of one AoR (RFC 3261 §10.2.1), and
// what natsbc told the PBX about it. The registrar hands out copies: only
// the registrar changes a binding.
type Binding struct {
	ID    uint64
	Token string
	AoR   string  // To URI, scheme:user@host
	Key   string  // AoR + contact: identifies the binding across refreshes
	URI   sip.Uri // the phone's own Contact URI (what it expects as R-URI)

	Flow    Flow
	Verdict Verdict
	PBX     PBXSide
	// Asked is the Expires the phone asked for (-1: none), as the PBX saw it.
	Asked int

	Granted    int       // Expires told to the phone
	Expires    time.Time // phone side: gone when not refreshed by then
	PBXExpires time.Time // PBX side: refreshed by natsbc before then
	// Answered: the flow answered a keepalive, so the phone is proven to
	// receive there (not a forged source): its keepalives may be
	// retransmitted.
	Answered bool
}

// entry is a binding in the table with its keepalive state.
type entry struct {
	Binding
	missed      int // keepalives unanswered in a row
	nextPing    time.Time
	pingPending bool
	// awaitsReconnect: a TCP binding restored from the state file, whose
	// connection died with the previous process; calls get 480 until the
	// phone registers again on a new connection.
	awaitsReconnect bool
	// countedAt is the source address the table counts this binding
	// under (memBindings.sources); only the table touches it.
	countedAt netip.Addr
	// countedKind is the verdict the table counts it under (memBindings.kinds).
	countedKind string
}

// snapshot copies the binding for use outside the registrar's lock.
func (e *entry) snapshot() Binding {
	b := e.Binding
	b.URI = *e.URI.Clone()
	b.Verdict.Checks = append([]string(nil), e.Verdict.Checks...)
	return b
}
