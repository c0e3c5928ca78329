package registrar

import (
	"fmt"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/registrar/store"
)

// Disk is where registrations survive a restart or a crash: the state file
// (registrar/store). The in-memory table stays the one natsbc routes
// from; the disk is written on every change and read once, by Restore.
type Disk interface {
	// Apply writes put and removes del, durably, in one step.
	Apply(put []store.Binding, del []uint64) error
	// Bindings returns every stored binding.
	Bindings() ([]store.Binding, error)
}

// durableBindings is the bindingStore of a registrar with a state file:
// the memory table, and the file behind it.
type durableBindings struct {
	*memBindings
	file Disk
}

func (d durableBindings) durable() bool { return true }

func (d durableBindings) save(put []store.Binding, del []uint64) error { return d.file.Apply(put, del) }

func (d durableBindings) saved() ([]store.Binding, error) { return d.file.Bindings() }

// diskChange is one change of the binding table on its way to the store.
// held: toDisk took r.saveMu for it, and writeDisk releases it.
type diskChange struct {
	put  []store.Binding
	del  []uint64
	held bool
}

// toDisk records a change made to the table; the caller holds r.mu (the
// records are read from the entries). It takes r.saveMu before r.mu is
// released, so that changes reach the file in the order they were made to
// the table, while r.mu (which every call to a binding takes) is not held
// across the fsync. writeDisk ends it.
func (r *Registrar) toDisk(put, del []*entry) diskChange {
	if !r.store.durable() || len(put)+len(del) == 0 {
		return diskChange{}
	}
	r.saveMu.Lock()
	ch := diskChange{put: make([]store.Binding, 0, len(put)), del: make([]uint64, 0, len(del)), held: true}
	for _, e := range put {
		ch.put = append(ch.put, e.record())
	}
	for _, e := range del {
		ch.del = append(ch.del, e.ID)
	}
	return ch
}

// writeDisk writes what toDisk recorded, after r.mu is released. A failed
// write is logged, not refused: the binding works from memory, and only a
// restart would lose it.
func (r *Registrar) writeDisk(ch diskChange) {
	if !ch.held {
		return
	}
	defer r.saveMu.Unlock()
	if err := r.store.save(ch.put, ch.del); err != nil {
		r.log.Error("bindings not written to the state file; a restart would lose them",
			"put", len(ch.put), "removed", len(ch.del), "error", err)
	}
}

// record is the binding as the state file keeps it.
func (e *entry) record() store.Binding {
	return store.Binding{
		ID: e.ID, AOR: e.AoR, Key: e.Key, Contact: e.URI.String(),
		Flow:    store.Flow{Transport: e.Flow.Transport, Local: e.Flow.Local, Source: e.Flow.Source, Advertised: e.Flow.Adv},
		Verdict: e.Verdict.Kind, Checks: e.Verdict.Checks, Keepalive: e.Verdict.Keepalive,
		Asked: e.Asked, Granted: e.Granted, Expires: e.Expires, PBXExpires: e.PBXExpires,
		PBX: store.PBXSide{RequestURI: e.PBX.RURI.String(), From: e.PBX.From.String(), To: e.PBX.To.String(),
			CallID: e.PBX.CallID, CSeq: e.PBX.CSeq, Transport: e.PBX.Transport, Local: e.PBX.Local,
			Destination: e.PBX.Dst, Advertised: e.PBX.Adv},
	}
}

// Restore fills the table from the state file at start. A binding past
// its expiry is deleted; one on a socket natsbc no longer serves (served
// says which) is skipped, and left on disk in case the socket comes back
// before it expires. UDP bindings are reachable at once, through the same
// socket to the same pinhole, and NATed ones get their keepalives again. A
// TCP binding's connection died with the old process and only the phone
// can open it again (natsbc cannot dial through its NAT): it is kept, and
// Reach answers ErrAwaitsReconnect until the phone registers again.
func (r *Registrar) Restore(served func(transport string, local netip.AddrPort) bool) error {
	if !r.store.durable() {
		return nil
	}
	recs, err := r.store.saved()
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	now := r.now()
	var expired []uint64
	loaded, waiting, skipped := 0, 0, 0
	for _, rec := range recs {
		if !now.Before(rec.Expires) {
			expired = append(expired, rec.ID)
			continue
		}
		e, err := r.entryOf(rec, served)
		if err != nil {
			skipped++
			r.log.Warn("stored binding not loaded", "aor", rec.AOR, "token", r.tokens.encode(rec.ID), "error", err)
			continue
		}
		e.nextPing = now
		r.store.put(e)
		loaded++
		if e.awaitsReconnect {
			waiting++
		}
	}
	if len(expired) > 0 {
		if err := r.store.save(nil, expired); err != nil {
			return fmt.Errorf("state file: deleting expired bindings: %w", err)
		}
	}
	r.log.Info("bindings loaded from the state file", "loaded", loaded, "awaiting_tcp_reconnect", waiting,
		"expired", len(expired), "skipped", skipped)
	return nil
}

// entryOf rebuilds a table entry from its record.
func (r *Registrar) entryOf(rec store.Binding, served func(string, netip.AddrPort) bool) (*entry, error) {
	if !served(rec.Flow.Transport, rec.Flow.Local) {
		return nil, fmt.Errorf("its socket %s %s is no longer served", rec.Flow.Transport, rec.Flow.Local)
	}
	if !served(rec.PBX.Transport, rec.PBX.Local) {
		return nil, fmt.Errorf("the socket %s %s facing the PBX is no longer served", rec.PBX.Transport, rec.PBX.Local)
	}
	var contact, ruri, from, to sip.Uri
	for _, u := range []struct {
		text string
		uri  *sip.Uri
	}{{rec.Contact, &contact}, {rec.PBX.RequestURI, &ruri}, {rec.PBX.From, &from}, {rec.PBX.To, &to}} {
		if err := sip.ParseUri(u.text, u.uri); err != nil {
			return nil, fmt.Errorf("URI %q: %w", u.text, err)
		}
	}
	return &entry{Binding: Binding{
		ID: rec.ID, Token: r.tokens.encode(rec.ID), AoR: rec.AOR, Key: rec.Key, URI: contact,
		Flow:    Flow{Transport: rec.Flow.Transport, Local: rec.Flow.Local, Source: rec.Flow.Source, Adv: rec.Flow.Advertised},
		Verdict: Verdict{Kind: rec.Verdict, Checks: rec.Checks, Keepalive: rec.Keepalive},
		PBX: PBXSide{RURI: ruri, From: from, To: to, CallID: rec.PBX.CallID, CSeq: rec.PBX.CSeq,
			Dst: rec.PBX.Destination, Local: rec.PBX.Local, Adv: rec.PBX.Advertised, Transport: rec.PBX.Transport},
		Asked: rec.Asked, Granted: rec.Granted, Expires: rec.Expires, PBXExpires: rec.PBXExpires,
	}, awaitsReconnect: rec.Flow.Transport != "UDP"}, nil
}
