package sbc

// mapReplaces rewrites a Replaces value that natsbc carries across a call
// into one the receiver can match (RFC 3891 §3: the receiver compares
// to-tag with its local tag and from-tag with its remote tag). Every
// dialog a UA has through natsbc is a dialog with natsbc, so the value a
// sender writes names one leg natsbc holds, in one of two ways:
//
//   - natsbc is the UA it addresses (to-tag is natsbc's tag on that leg):
//     the sender named its own dialog with natsbc (attended transfer). The
//     UA the value is meant for sits on the call's other leg, so the value
//     becomes that leg's Call-ID, to-tag its peer's tag, from-tag natsbc's.
//   - natsbc is the other party (from-tag is natsbc's tag): the value
//     already names the dialog its receiver has with natsbc (a pickup of a
//     dialog the sender learned from the PBX) and passes unchanged.
//
// known is false when the value names no dialog natsbc holds, or one whose
// other tag does not match: RFC 3891 §3 answers that with 481, and natsbc
// never guesses another dialog.
func (t *callTable) mapReplaces(r replacesValue) (mapped replacesValue, known bool) {
	if c, side, ok := t.lookup(r.callID, r.toTag); ok && c.leg(side).remoteTagOf() == r.fromTag {
		other := c.leg(c.other(side))
		peerTag := other.remoteTagOf()
		if peerTag == "" {
			// The other leg has no dialog yet (no tagged answer): no UA
			// could match a value naming it.
			return replacesValue{}, false
		}
		r.callID, r.toTag, r.fromTag = other.callID, peerTag, other.localTag
		return r, true
	}
	if c, side, ok := t.lookup(r.callID, r.fromTag); ok && c.leg(side).remoteTagOf() == r.toTag {
		return r, true
	}
	return replacesValue{}, false
}

func (l *leg) remoteTagOf() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.remoteTag
}
