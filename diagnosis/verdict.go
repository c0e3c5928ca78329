package diagnosis

// Verdict is what became of one INVITE dialog.
type Verdict string

// The verdicts, as `natsbc trace` prints them.
const (
	OK         Verdict = "ok"
	NoACK      Verdict = "no ACK for 2xx"
	ByeAfter32 Verdict = "ended by BYE ~32 s after the 2xx"
	Cancelled  Verdict = "CANCELled"
	Rejected   Verdict = "rejected"
	Incomplete Verdict = "incomplete capture"
)

// LostACK reports whether v is a call whose 2xx no ACK answered.
func (v Verdict) LostACK() bool { return v == NoACK || v == ByeAfter32 }

// Cause is why an ACK was lost, as far as the capture shows.
type Cause string

// The causes of a lost ACK (see the README, "Diagnosing dropped calls").
const (
	// NoNATHandling: the 2xx Contact (or its SDP) is a private address
	// that is not where the 2xx came from; the ACK went there, or nowhere.
	NoNATHandling Cause = "no NAT handling"
	// ExcessiveNATHandling: a 2xx that came through a record-routing proxy
	// had its Contact replaced by that proxy's source address, so the ACK
	// went to the proxy instead of the callee.
	ExcessiveNATHandling Cause = "excessive NAT handling"
	// ACKNotDelivered: the ACK left towards the right address and the 2xx
	// retransmissions went on (firewall, wrong advertised address, NAT
	// binding expired).
	ACKNotDelivered Cause = "ACK sent but not delivered"
	// NoACKSent: the 2xx reached the caller, which never sent an ACK.
	NoACKSent Cause = "no ACK sent at all"
)

// Summary is the verdict on the first INVITE dialog of reports, as the
// golden captures' expected files write it: "verdict" or "verdict: cause";
// "no INVITE dialog" when there is none.
func Summary(reports []Report) string {
	if len(reports) == 0 {
		return "no INVITE dialog"
	}
	r := reports[0]
	if r.Cause != "" {
		return string(r.Verdict) + ": " + string(r.Cause)
	}
	return string(r.Verdict)
}
