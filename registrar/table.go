package registrar

import (
	"maps"
	"net/netip"
	"sync"

	"github.com/natsbc/natsbc/registrar/store"
)

// bindingStore holds the registered bindings. It is an interface so a
// shared store can replace the in-memory one (DESIGN §1: a binding stays
// pinned to the instance whose socket holds its flow). The lookups serve
// from memory; a durable store also saves every change (persist.go).
type bindingStore interface {
	put(b *entry)
	byID(id uint64) (*entry, bool)
	byKey(key string) (*entry, bool)
	ofAOR(aor string) []*entry
	remove(b *entry) bool
	all() []*entry
	count() int
	// fromSource is the number of bindings whose flow comes from addr.
	fromSource(addr netip.Addr) int
	// byKind counts the bindings per NAT verdict.
	byKind() map[string]int

	// durable reports whether changes are saved anywhere.
	durable() bool
	// save makes a change durable before the phone hears of it; the
	// registrar calls it outside its lock, in the order of the changes.
	save(put []store.Binding, del []uint64) error
	// saved returns what a previous process saved.
	saved() ([]store.Binding, error)
}

// memBindings is the in-memory bindingStore.
type memBindings struct {
	mu   sync.Mutex
	ids  map[uint64]*entry
	keys map[string]*entry
	aors map[string]map[uint64]*entry
	// sources counts bindings per source address, each under its entry's
	// countedAt (a refresh may move its flow).
	sources map[netip.Addr]int
	// kinds counts bindings per NAT verdict, each under its entry's
	// countedKind (a refresh may change its verdict).
	kinds map[string]int
}

func newMemBindings() *memBindings {
	return &memBindings{ids: map[uint64]*entry{}, keys: map[string]*entry{}, aors: map[string]map[uint64]*entry{},
		sources: map[netip.Addr]int{}, kinds: map[string]int{}}
}

func (m *memBindings) put(b *entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.keys[b.Key]; ok && old.ID != b.ID {
		m.removeLocked(old)
	}
	m.ids[b.ID] = b
	m.keys[b.Key] = b
	set := m.aors[b.AoR]
	if set == nil {
		set = map[uint64]*entry{}
		m.aors[b.AoR] = set
	}
	set[b.ID] = b
	if src := b.Flow.Source.Addr(); b.countedAt != src {
		m.uncount(b)
		b.countedAt = src
		m.sources[src]++
	}
	if b.countedKind != b.Verdict.Kind {
		m.uncountKind(b)
		b.countedKind = b.Verdict.Kind
		m.kinds[b.countedKind]++
	}
}

func (m *memBindings) uncountKind(b *entry) {
	if b.countedKind == "" {
		return
	}
	if m.kinds[b.countedKind]--; m.kinds[b.countedKind] <= 0 {
		delete(m.kinds, b.countedKind)
	}
	b.countedKind = ""
}

// byKind counts the bindings per NAT verdict.
func (m *memBindings) byKind() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.kinds)
}

func (m *memBindings) uncount(b *entry) {
	if !b.countedAt.IsValid() {
		return
	}
	if m.sources[b.countedAt]--; m.sources[b.countedAt] <= 0 {
		delete(m.sources, b.countedAt)
	}
	b.countedAt = netip.Addr{}
}

func (m *memBindings) fromSource(addr netip.Addr) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sources[addr]
}

func (m *memBindings) byID(id uint64) (*entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.ids[id]
	return b, ok
}

func (m *memBindings) byKey(key string) (*entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.keys[key]
	return b, ok
}

func (m *memBindings) ofAOR(aor string) []*entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*entry, 0, len(m.aors[aor]))
	for _, b := range m.aors[aor] {
		out = append(out, b)
	}
	return out
}

// remove reports whether b was still present, so that two paths removing
// the same binding (expiry and keepalive) log and un-register it once.
func (m *memBindings) remove(b *entry) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.ids[b.ID]
	if !ok || cur != b {
		return false
	}
	m.removeLocked(b)
	return true
}

func (m *memBindings) removeLocked(b *entry) {
	delete(m.ids, b.ID)
	m.uncount(b)
	m.uncountKind(b)
	if m.keys[b.Key] == b {
		delete(m.keys, b.Key)
	}
	if set := m.aors[b.AoR]; set != nil {
		delete(set, b.ID)
		if len(set) == 0 {
			delete(m.aors, b.AoR)
		}
	}
}

func (m *memBindings) all() []*entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*entry, 0, len(m.ids))
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

// The memory-only store saves nothing: a restart forgets its bindings.
func (m *memBindings) durable() bool                                { return false }
func (m *memBindings) save(put []store.Binding, del []uint64) error { return nil }
func (m *memBindings) saved() ([]store.Binding, error)              { return nil, nil }
