package sbc

import (
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// flow is how a phone is reached (RFC 5626 §3.3 "flow"): the socket its
// REGISTER arrived on and the source address it came from. For UDP, sending
// from that socket to that source reuses the phone's NAT pinhole; for TCP,
// sipgo keys connections by remote address, so the same destination reuses
// the phone's own connection.
type flow struct {
	transport string // "UDP" | "TCP"
	sock      *socket
	source    netip.AddrPort
	adv       netip.AddrPort // natsbc's address as the phone sees it
}

// pbxSide is what natsbc needs to refresh or remove the binding at the
// PBX on the phone's behalf. RFC 3261 §10.2.4: refreshes keep the Call-ID
// and raise the CSeq.
type pbxSide struct {
	ruri      sip.Uri
	from, to  sip.Uri
	callID    string
	cseq      uint32
	dst       netip.AddrPort
	sock      *socket
	adv       netip.AddrPort
	transport string
}

func (f flow) String() string { return lower(f.transport) + ":" + f.source.String() }

// binding is one registered Contact of one AoR (RFC 3261 §10.2.1), and what
// natsbc told the PBX about it.
type binding struct {
	id    uint64
	token string
	aor   string  // To URI, scheme:user@host
	key   string  // aor + contact: identifies the binding across refreshes
	uri   sip.Uri // the phone's own Contact URI (what it expects as R-URI)

	flow   flow
	nat    string   // "no NAT" | "NAT" | "NAT-aware" | "symmetric NAT"
	checks []string // the checks behind the verdict
	// keepalive: natsbc keeps this flow's pinhole open (a NATed phone).
	keepalive bool

	pbx pbxSide
	// asked is the Expires the phone asked for (-1: none), as the PBX saw it.
	asked int

	granted    int       // Expires told to the phone
	expires    time.Time // phone side: gone when not refreshed by then
	pbxExpires time.Time // PBX side: refreshed by natsbc before then
	// awaitsReconnect: a TCP binding loaded from the state file, whose
	// connection died with the previous process; calls get 480 until the
	// phone registers again on a new connection.
	awaitsReconnect bool
	missed          int // keepalives unanswered in a row
	nextPing        time.Time
	pingPending     bool
}

// bindingStore holds the registered bindings. It is an interface so a
// shared store can replace the in-memory one (DESIGN §1: a binding stays
// pinned to the instance whose socket holds its flow).
type bindingStore interface {
	put(b *binding)
	byID(id uint64) (*binding, bool)
	byKey(key string) (*binding, bool)
	ofAOR(aor string) []*binding
	remove(b *binding) bool
	all() []*binding
	count() int
}

// memBindings is the in-memory bindingStore.
type memBindings struct {
	mu   sync.Mutex
	ids  map[uint64]*binding
	keys map[string]*binding
	aors map[string]map[uint64]*binding
}

func newMemBindings() *memBindings {
	return &memBindings{ids: map[uint64]*binding{}, keys: map[string]*binding{}, aors: map[string]map[uint64]*binding{}}
}

func (m *memBindings) put(b *binding) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.keys[b.key]; ok && old.id != b.id {
		m.removeLocked(old)
	}
	m.ids[b.id] = b
	m.keys[b.key] = b
	set := m.aors[b.aor]
	if set == nil {
		set = map[uint64]*binding{}
		m.aors[b.aor] = set
	}
	set[b.id] = b
}

func (m *memBindings) byID(id uint64) (*binding, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.ids[id]
	return b, ok
}

func (m *memBindings) byKey(key string) (*binding, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.keys[key]
	return b, ok
}

func (m *memBindings) ofAOR(aor string) []*binding {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*binding, 0, len(m.aors[aor]))
	for _, b := range m.aors[aor] {
		out = append(out, b)
	}
	return out
}

// remove reports whether b was still present, so that two paths removing
// the same binding (expiry and keepalive) log and un-register it once.
func (m *memBindings) remove(b *binding) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.ids[b.id]
	if !ok || cur != b {
		return false
	}
	m.removeLocked(b)
	return true
}

func (m *memBindings) removeLocked(b *binding) {
	delete(m.ids, b.id)
	if m.keys[b.key] == b {
		delete(m.keys, b.key)
	}
	if set := m.aors[b.aor]; set != nil {
		delete(set, b.id)
		if len(set) == 0 {
			delete(m.aors, b.aor)
		}
	}
}

func (m *memBindings) all() []*binding {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*binding, 0, len(m.ids))
	for _, b := range m.ids {
		out = append(out, b)
	}
	return out
}

func (m *memBindings) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ids)
}
