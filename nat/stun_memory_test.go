package nat

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestSTUNMemoryRemembersAndExpires(t *testing.T) {
	clock := newFakeClock()
	m := NewSTUNMemory(STUNMemoryConfig{TTL: time.Minute, Now: clock.Now})
	a := netip.MustParseAddrPort("203.0.113.7:40123")

	if _, ok := m.Mapped(a); ok {
		t.Fatal("empty memory knows an address")
	}
	m.Remember(a)
	seen, ok := m.Mapped(a)
	if !ok || !seen.Equal(clock.Now()) {
		t.Fatalf("Mapped = %v, %v; want the time it was remembered", seen, ok)
	}
	if _, ok := m.Mapped(netip.MustParseAddrPort("203.0.113.7:40124")); ok {
		t.Error("another port of the same IP counts as mapped")
	}
	// The same peer seen on a dual-stack socket is the same mapping.
	if _, ok := m.Mapped(netip.MustParseAddrPort("[::ffff:203.0.113.7]:40123")); !ok {
		t.Error("IPv4-mapped form of a remembered address not found")
	}

	clock.Advance(59 * time.Second)
	m.Remember(a) // a keepalive refreshes the entry
	clock.Advance(59 * time.Second)
	if _, ok := m.Mapped(a); !ok {
		t.Error("refreshed entry expired from its first sighting")
	}
	clock.Advance(time.Second)
	if _, ok := m.Mapped(a); ok {
		t.Error("entry still known a TTL after its last refresh")
	}
	m.Remember(netip.MustParseAddrPort("198.51.100.1:1"))
	if n := m.Len(); n != 1 {
		t.Errorf("Len = %d after an expired entry and a new one, want 1 (expired dropped)", n)
	}
}

func TestSTUNMemoryEvictsOldestAtCapacity(t *testing.T) {
	clock := newFakeClock()
	m := NewSTUNMemory(STUNMemoryConfig{Capacity: 3, Now: clock.Now})
	addr := func(i int) netip.AddrPort { return netip.MustParseAddrPort(fmt.Sprintf("192.0.2.%d:5060", i)) }
	for i := 1; i <= 3; i++ {
		m.Remember(addr(i))
		clock.Advance(time.Second)
	}
	m.Remember(addr(1)) // 1 is now the newest, 2 the oldest
	m.Remember(addr(4))
	if n := m.Len(); n != 3 {
		t.Fatalf("Len = %d, want the capacity 3", n)
	}
	for i, want := range map[int]bool{1: true, 2: false, 3: true, 4: true} {
		if _, ok := m.Mapped(addr(i)); ok != want {
			t.Errorf("address %d known=%v, want %v", i, ok, want)
		}
	}
}

func TestSTUNMemoryNilAndInvalid(t *testing.T) {
	var m *STUNMemory
	m.Remember(netip.MustParseAddrPort("192.0.2.1:1"))
	if _, ok := m.Mapped(netip.MustParseAddrPort("192.0.2.1:1")); ok || m.Len() != 0 {
		t.Error("nil memory remembered something")
	}
	m = NewSTUNMemory(STUNMemoryConfig{})
	m.Remember(netip.AddrPort{})
	if m.Len() != 0 {
		t.Error("invalid address remembered")
	}
}

// Answer remembers what a success response told the client, and nothing
// for a 420 or a dropped message.
func TestSTUNMemoryAnswer(t *testing.T) {
	m := NewSTUNMemory(STUNMemoryConfig{})
	from := netip.MustParseAddrPort("203.0.113.7:40123")
	if _, ok := m.Answer(bindingRequest(t, stun.RawAttribute{Type: 0x0003, Value: []byte{0, 0, 0, 0}}).Raw, from); !ok {
		t.Fatal("420 not sent")
	}
	if _, ok := m.Answer([]byte("not stun at all, not at all"), from); ok {
		t.Fatal("garbage answered")
	}
	if _, ok := m.Mapped(from); ok {
		t.Fatal("remembered a mapping the client was never told")
	}
	if _, ok := m.Answer(bindingRequest(t).Raw, from); !ok {
		t.Fatal("Binding request not answered")
	}
	if _, ok := m.Mapped(from); !ok {
		t.Error("mapping told in a success response not remembered")
	}
}

func TestSTUNMemoryConcurrent(t *testing.T) {
	m := NewSTUNMemory(STUNMemoryConfig{Capacity: 64})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				a := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(g), byte(i >> 8), byte(i)}), 5060)
				m.Remember(a)
				m.Mapped(a)
			}
		})
	}
	wg.Wait()
	if n := m.Len(); n != 64 {
		t.Errorf("Len = %d, want the capacity 64", n)
	}
}

func BenchmarkSTUNMemoryRememberKnown(b *testing.B) {
	m := NewSTUNMemory(STUNMemoryConfig{})
	a := netip.MustParseAddrPort("203.0.113.7:40123")
	b.ReportAllocs()
	for b.Loop() {
		m.Remember(a)
	}
}
