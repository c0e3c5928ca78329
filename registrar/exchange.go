package registrar

import (
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// refreshMargin: natsbc forwards a phone's refresh to the PBX once the PBX
// binding would otherwise have less than one phone interval plus this left.
const refreshMargin = 10 * time.Second

// NoExpires marks a contact that asked for no particular interval: the
// registrar picks one (RFC 3261 §10.2.1.1).
const NoExpires = -1

// Contact is one Contact of a phone's REGISTER.
type Contact struct {
	Key   string // binding key: AoR + contact URI
	URI   sip.Uri
	Asked int // seconds, or NoExpires
}

// Exchange is one REGISTER on its way through natsbc, as the binding table
// sees it: the phone's contacts, its flow and verdict, the PBX it goes to,
// and the binding each contact refreshes or makes.
type Exchange struct {
	AoR      string
	Wildcard bool // "Contact: *" removes every binding of the AoR (§10.2.2)
	Contacts []Contact
	Flow     Flow
	Verdict  Verdict
	PBX      PBXSide
	entries  []*entry // one per contact, same order
}

// Begin finds the binding of each contact of a REGISTER, or makes a new
// one (not in the table until Commit).
func (r *Registrar) Begin(x *Exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x.entries = x.entries[:0]
	for _, c := range x.Contacts {
		e, ok := r.store.byKey(c.Key)
		if !ok {
			id := newBindingID()
			e = &entry{Binding: Binding{ID: id, Token: r.tokens.encode(id), AoR: x.AoR, Key: c.Key, URI: *c.URI.Clone(), Asked: c.Asked}}
		}
		x.entries = append(x.entries, e)
	}
}

// Tokens are the token of each contact's binding, in contact order: the
// Contacts natsbc registers at the PBX.
func (x *Exchange) Tokens() []string {
	out := make([]string, len(x.entries))
	for i, e := range x.entries {
		out[i] = e.Token
	}
	return out
}

// AnswerCached refreshes the bindings of a REGISTER that changes nothing,
// as long as the PBX binding outlives the phone's next refresh
// (registration caching). It returns the interval granted per contact, or
// false when the REGISTER must go to the PBX.
func (r *Registrar) AnswerCached(x *Exchange) ([]int, bool) {
	if x.Wildcard || len(x.Contacts) == 0 {
		return nil, false
	}
	now := r.now()
	granted := make([]int, len(x.entries))
	r.mu.Lock()
	for i, e := range x.entries {
		cur, ok := r.store.byID(e.ID)
		c := x.Contacts[i]
		if !ok || cur != e || c.Asked == 0 || c.Asked != e.Asked ||
			e.Flow != x.Flow || e.PBX.CallID != x.PBX.CallID || e.Verdict.Kind != x.Verdict.Kind || e.awaitsReconnect ||
			e.PBXExpires.Sub(now) < time.Duration(e.Granted)*time.Second+refreshMargin {
			r.mu.Unlock()
			return nil, false
		}
		granted[i] = e.Granted
	}
	for _, e := range x.entries {
		e.Expires = now.Add(time.Duration(e.Granted) * time.Second)
		e.missed = 0
	}
	// The phone side's expiry moved: a restart must not drop it earlier.
	disk := r.toDisk(x.entries, nil)
	r.mu.Unlock()
	r.writeDisk(disk)
	for _, e := range x.entries {
		r.log.Debug("binding refreshed", "aor", e.AoR, "token", e.Token, "source", e.Flow.Source.String(), "forwarded", false)
	}
	return granted, true
}

// Commit applies the PBX's 2xx to the binding table: the contacts the PBX
// lists with a positive interval (pbxGranted, by binding id) are
// registered, the others removed. It returns the interval granted to the
// phone per binding id. RFC 3261 §10.3 step 8: the 2xx lists every current
// binding, each with its expires parameter.
func (r *Registrar) Commit(x *Exchange, pbxGranted map[uint64]int) map[uint64]int {
	now := r.now()
	granted := map[uint64]int{}
	r.mu.Lock()
	var added, refreshed, removed []*entry
	for i, e := range x.entries {
		g, listed := pbxGranted[e.ID]
		if !listed || g == 0 || x.Contacts[i].Asked == 0 {
			if r.store.remove(e) {
				removed = append(removed, e)
			}
			continue
		}
		phone := g
		if x.Verdict.Keepalive {
			phone = min(g, int(r.tuning().NATExpires/time.Second))
		}
		_, known := r.store.byID(e.ID)
		if e.Flow != x.Flow {
			e.Answered = false // a new flow proves nothing yet
		}
		e.Flow, e.PBX, e.Asked = x.Flow, x.PBX, x.Contacts[i].Asked
		e.Verdict = x.Verdict
		e.Granted = phone
		e.Expires = now.Add(time.Duration(phone) * time.Second)
		e.PBXExpires = now.Add(time.Duration(g) * time.Second)
		if !known {
			e.nextPing = now.Add(r.tuning().KeepaliveInterval)
			added = append(added, e)
		} else {
			refreshed = append(refreshed, e)
		}
		e.missed = 0
		e.awaitsReconnect = false
		r.store.put(e)
		granted[e.ID] = phone
	}
	if x.Wildcard {
		for _, e := range r.store.ofAOR(x.AoR) {
			if r.store.remove(e) {
				removed = append(removed, e)
			}
		}
	}
	// On disk before the phone's 200: what the phone was told survives.
	disk := r.toDisk(append(added, refreshed...), removed)
	r.mu.Unlock()
	r.writeDisk(disk)

	for _, e := range added {
		r.log.Info("binding registered", "aor", e.AoR, "contact", e.URI.String(), "token", e.Token,
			"source", e.Flow.Source.String(), "transport", strings.ToLower(e.Flow.Transport), "socket", e.Flow.Local.String(),
			"nat", e.Verdict.Kind, "checks", strings.Join(e.Verdict.Checks, ","), "expires", e.Granted,
			"pbx_expires", pbxGranted[e.ID])
	}
	for _, e := range refreshed {
		r.log.Debug("binding refreshed", "aor", e.AoR, "token", e.Token, "source", e.Flow.Source.String(), "forwarded", true)
	}
	for _, e := range removed {
		r.log.Info("binding removed", "aor", e.AoR, "token", e.Token, "reason", "unregistered")
	}
	return granted
}

// Admit checks a REGISTER against Config.MaxPerSource: the bindings it
// would add (contacts not yet registered, not being removed) plus those
// its source address holds already. Refreshes and removals always pass. It
// is checked as the REGISTER arrives, so two at once from one address may
// overshoot the bound by one REGISTER's contacts.
func (r *Registrar) Admit(x *Exchange) error {
	if r.tuning().MaxPerSource <= 0 {
		return nil
	}
	added := 0
	for i, e := range x.entries {
		if _, known := r.store.byID(e.ID); !known && x.Contacts[i].Asked != 0 {
			added++
		}
	}
	if added > 0 && r.store.fromSource(x.Flow.Source.Addr())+added > r.tuning().MaxPerSource {
		return ErrTooManyBindings
	}
	return nil
}
