package sbc

import (
	"log/slog"

	"github.com/natsbc/natsbc/registrar/store"
)

// BindingDisk is where registrations survive a restart or a crash: the
// state file (registrar/store), or nil for memory only. The in-memory
// table stays the one natsbc routes from; the disk is written on every
// change and read once, at New.
type BindingDisk interface {
	// Apply writes put and removes del, durably, in one step.
	Apply(put []store.Binding, del []uint64) error
	// Bindings returns every stored binding.
	Bindings() ([]store.Binding, error)
}

// diskChange is one change of the binding table as it goes to disk.
// held: toDisk took r.diskMu for it, and writeDisk releases it.
type diskChange struct {
	put  []store.Binding
	del  []uint64
	held bool
}

// toDisk records a change made to the table; the caller holds r.mu (the
// records are read from the bindings). It takes r.diskMu before r.mu is
// released, so that changes reach the file in the order they were made to
// the table, while r.mu is not held across the fsync. writeDisk ends it.
func (r *registrar) toDisk(put, del []*binding) diskChange {
	if r.disk == nil || len(put)+len(del) == 0 {
		return diskChange{}
	}
	r.diskMu.Lock()
	ch := diskChange{put: make([]store.Binding, 0, len(put)), del: make([]uint64, 0, len(del)), held: true}
	for _, b := range put {
		ch.put = append(ch.put, b.record())
	}
	for _, b := range del {
		ch.del = append(ch.del, b.id)
	}
	return ch
}

// writeDisk writes what toDisk recorded, after r.mu is released. A failed
// write is logged, not refused: the binding works from memory, and only a
// restart would lose it.
func (r *registrar) writeDisk(ch diskChange, log *slog.Logger) {
	if !ch.held {
		return
	}
	defer r.diskMu.Unlock()
	if err := r.disk.Apply(ch.put, ch.del); err != nil {
		log.Error("bindings not written to the state file; a restart would lose them", "put", len(ch.put), "removed", len(ch.del), "error", err)
	}
}

// record is the binding as the state file keeps it.
func (b *binding) record() store.Binding {
	return store.Binding{
		ID: b.id, AOR: b.aor, Key: b.key, Contact: b.uri.String(),
		Flow: store.Flow{Transport: b.flow.transport, Local: b.flow.sock.local,
			Source: b.flow.source, Advertised: b.flow.adv},
		Verdict: b.nat, Checks: b.checks, Keepalive: b.keepalive,
		Asked: b.asked, Granted: b.granted, Expires: b.expires, PBXExpires: b.pbxExpires,
		PBX: store.PBXSide{RequestURI: b.pbx.ruri.String(), From: b.pbx.from.String(), To: b.pbx.to.String(),
			CallID: b.pbx.callID, CSeq: b.pbx.cseq, Transport: b.pbx.transport, Local: b.pbx.sock.local,
			Destination: b.pbx.dst, Advertised: b.pbx.adv},
	}
}
