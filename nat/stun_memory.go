package nat

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/stun/v3"
)

// STUN memory defaults: a mapping older than a NAT's UDP timeout says
// little about the phone's current one, and the cap bounds memory however
// many sources send Binding requests (roughly 150 bytes an entry).
const (
	DefaultSTUNMemoryCapacity = 100_000
	DefaultSTUNMemoryTTL      = 10 * time.Minute
)

// STUNMemoryConfig sizes a STUNMemory. Zero values take the defaults.
type STUNMemoryConfig struct {
	Capacity int              // most entries kept; the oldest go first
	TTL      time.Duration    // an entry is forgotten this long after it was last told
	Now      func() time.Time // clock (tests inject one)
}

// STUNMemory remembers the server-reflexive addresses natsbc returned in
// Binding responses (RFC 5389 §7.3: the mapped address is the request's
// source as natsbc saw it). The NAT verdict asks it whether a Contact is
// an address a phone learned from natsbc. Safe for concurrent use; a nil
// *STUNMemory remembers nothing.
type STUNMemory struct {
	capacity int
	ttl      time.Duration
	now      func() time.Time

	mu      sync.Mutex
	entries map[netip.AddrPort]*stunEntry
	// newest and oldest ends of a list ordered by seenAt, so expiry and
	// eviction only ever look at the oldest end.
	newest, oldest *stunEntry
}

type stunEntry struct {
	addr         netip.AddrPort
	seenAt       time.Time
	newer, older *stunEntry
}

// NewSTUNMemory returns an empty memory.
func NewSTUNMemory(cfg STUNMemoryConfig) *STUNMemory {
	if cfg.Capacity <= 0 {
		cfg.Capacity = DefaultSTUNMemoryCapacity
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultSTUNMemoryTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &STUNMemory{
		capacity: cfg.Capacity,
		ttl:      cfg.TTL,
		now:      cfg.Now,
		entries:  make(map[netip.AddrPort]*stunEntry),
	}
}

// Answer is AnswerBinding that also remembers the mapped address when the
// answer is a success response (a 420 tells the client nothing).
func (m *STUNMemory) Answer(req []byte, from netip.AddrPort) (resp []byte, ok bool) {
	resp, ok = AnswerBinding(req, from)
	// RFC 5389 §6: the message type is the first two bytes.
	if ok && binary.BigEndian.Uint16(resp) == stun.BindingSuccess.Value() {
		m.Remember(from)
	}
	return resp, ok
}

// Remember records that natsbc told source its mapped address is source.
// Telling it again refreshes the entry.
func (m *STUNMemory) Remember(source netip.AddrPort) {
	if m == nil || !source.IsValid() {
		return
	}
	source = normalizeAddrPort(source)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropExpired(now)
	if e, ok := m.entries[source]; ok {
		m.unlink(e)
		e.seenAt = now
		m.pushNewest(e)
		return
	}
	if len(m.entries) >= m.capacity {
		m.remove(m.oldest)
	}
	e := &stunEntry{addr: source, seenAt: now}
	m.entries[source] = e
	m.pushNewest(e)
}

// Mapped reports whether natsbc returned addr as somebody's mapped address
// within the TTL, and when it last did.
func (m *STUNMemory) Mapped(addr netip.AddrPort) (seenAt time.Time, ok bool) {
	if m == nil || !addr.IsValid() {
		return time.Time{}, false
	}
	addr = normalizeAddrPort(addr)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[addr]
	if !ok || m.expired(e, now) {
		return time.Time{}, false
	}
	return e.seenAt, true
}

// Len is the number of entries held, expired ones not yet dropped included.
func (m *STUNMemory) Len() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

func (m *STUNMemory) expired(e *stunEntry, now time.Time) bool {
	return now.Sub(e.seenAt) >= m.ttl
}

func (m *STUNMemory) dropExpired(now time.Time) {
	for m.oldest != nil && m.expired(m.oldest, now) {
		m.remove(m.oldest)
	}
}

func (m *STUNMemory) remove(e *stunEntry) {
	m.unlink(e)
	delete(m.entries, e.addr)
}

func (m *STUNMemory) pushNewest(e *stunEntry) {
	e.older, e.newer = m.newest, nil
	if m.newest != nil {
		m.newest.newer = e
	}
	m.newest = e
	if m.oldest == nil {
		m.oldest = e
	}
}

func (m *STUNMemory) unlink(e *stunEntry) {
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		m.newest = e.older
	}
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		m.oldest = e.newer
	}
	e.newer, e.older = nil, nil
}

// normalizeAddrPort makes an IPv4 peer seen on a dual-stack socket equal
// to the same peer written as IPv4, as AnswerBinding reports it.
func normalizeAddrPort(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().WithZone("").Unmap(), a.Port())
}
