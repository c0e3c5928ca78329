package sbc

import (
	"sync"
	"time"
)

// refusedTCPFor is how long natsbc remembers that a next hop refused TCP,
// so that each large request to it does not pay the connect attempt again.
const refusedTCPFor = 5 * time.Minute

// maxRefusedHops bounds the memory: next hops are configured peers and the
// Contacts of non-NATed callees, but the table must not grow without end.
const maxRefusedHops = 1024

// hopMemory remembers next hops (host:port) for a while.
type hopMemory struct {
	mu   sync.Mutex
	now  func() time.Time
	hops map[string]time.Time // hop → when it is forgotten
}

func newHopMemory() *hopMemory {
	return &hopMemory{now: time.Now, hops: map[string]time.Time{}}
}

func (m *hopMemory) add(hop string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if len(m.hops) >= maxRefusedHops {
		for h, until := range m.hops {
			if !now.Before(until) {
				delete(m.hops, h)
			}
		}
		if len(m.hops) >= maxRefusedHops {
			// All fresh: forgetting them costs one connect attempt each.
			clear(m.hops)
		}
	}
	m.hops[hop] = now.Add(refusedTCPFor)
}

// recent reports whether hop was added less than refusedTCPFor ago.
func (m *hopMemory) recent(hop string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	until, ok := m.hops[hop]
	if ok && !m.now().Before(until) {
		delete(m.hops, hop)
		return false
	}
	return ok
}
