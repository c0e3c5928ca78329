package sbc

import (
	"strconv"
	"strings"
	"sync"

	"github.com/natsbc/natsbc/media"
)

// maxReferIDs bounds the REFERs per call whose subscription ids natsbc
// maps; a call that transfers more forgets the oldest.
const maxReferIDs = 16

// referSeq is a REFER's CSeq number on one leg. A leg has two CSeq
// spaces (RFC 3261 §12.2: natsbc's and its peer's): byNatsbc says whose
// number it is, so a REFER each way in one call cannot collide.
type referSeq struct {
	side     media.Leg
	seq      uint32
	byNatsbc bool
}

// referIDs maps the ids of a call's REFER subscriptions between its legs.
// RFC 3515 §2.4.6: the id of "Event: refer" is the CSeq of the REFER that
// made the subscription, on the dialog it was received on. natsbc numbers
// each leg's requests itself, so a REFER of CSeq 7 on one leg may be CSeq
// 3 on the other: the NOTIFY coming back (and a SUBSCRIBE refreshing or
// ending it) needs the id of the leg it goes to. Lives in the call, so it
// is freed with it.
type referIDs struct {
	mu    sync.Mutex
	peer  map[referSeq]referSeq
	order []referSeq // received REFERs, oldest first
}

// remember records a REFER received with CSeq in and relayed with out.
func (r *referIDs) remember(in, out referSeq) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.peer == nil {
		r.peer = map[referSeq]referSeq{}
	}
	if len(r.order) >= maxReferIDs {
		old := r.order[0]
		r.order = r.order[1:]
		delete(r.peer, r.peer[old])
		delete(r.peer, old)
	}
	r.order = append(r.order, in)
	r.peer[in], r.peer[out] = out, in
}

// across is the id on the other leg of the REFER that has id seq on side,
// numbered there by natsbc (byNatsbc) or by the peer.
func (r *referIDs) across(side media.Leg, seq uint32, byNatsbc bool) (uint32, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.peer[referSeq{side, seq, byNatsbc}]
	return p.seq, ok
}

// rewriteReferEventID returns an Event header value (RFC 6665 §8.2.1:
// event-type *(SEMI event-param)) with the id of a "refer" event replaced
// by mapID's answer. changed is false when the value is not a refer event
// with a numeric id, or mapID knows no other id.
func rewriteReferEventID(v string, mapID func(uint32) (uint32, bool)) (out string, changed bool) {
	parts := strings.Split(v, ";")
	if !strings.EqualFold(strings.TrimSpace(parts[0]), "refer") {
		return v, false
	}
	for i, p := range parts[1:] {
		name, value, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "id") {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSpace(value), 10, 32)
		if err != nil {
			return v, false
		}
		to, ok := mapID(uint32(id))
		if !ok {
			return v, false
		}
		parts[i+1] = "id=" + strconv.FormatUint(uint64(to), 10)
		return strings.Join(parts, ";"), true
	}
	return v, false
}
