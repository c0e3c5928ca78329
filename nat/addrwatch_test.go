//go:build linux

package nat

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// fakeAddrSource plays the kernel: updates go in through feed, the
// subscription dies when fail is closed, list returns state.
type fakeAddrSource struct {
	subErr error
	feed   chan netlink.AddrUpdate
	fail   chan struct{}
	names  map[int]string

	mu      sync.Mutex
	state   []AddrEvent
	listErr error
	closed  bool
	subs    sync.WaitGroup
}

func newFakeAddrSource(state ...AddrEvent) *fakeAddrSource {
	return &fakeAddrSource{
		feed:  make(chan netlink.AddrUpdate),
		fail:  make(chan struct{}),
		names: map[int]string{2: "eth0", 3: "eth1"},
		state: state,
	}
}

func (f *fakeAddrSource) subscribe(ch chan<- netlink.AddrUpdate, done <-chan struct{}, onError func(error)) error {
	if f.subErr != nil {
		return f.subErr
	}
	f.subs.Go(func() {
		defer close(ch)
		for {
			select {
			case u := <-f.feed:
				ch <- u // as netlink does: the reader must drain ch
			case <-f.fail:
				onError(errors.New("receive failed: no buffer space"))
				return
			case <-done:
				return
			}
		}
	})
	return nil
}

func (f *fakeAddrSource) setState(state ...AddrEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = state
}

func (f *fakeAddrSource) list() ([]AddrEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.state), f.listErr
}

func (f *fakeAddrSource) linkName(i int) string { return f.names[i] }

func (f *fakeAddrSource) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
}

func addrEv(added bool, prefix string, link int, name string) AddrEvent {
	return AddrEvent{Added: added, Addr: netip.MustParsePrefix(prefix), LinkIndex: link, LinkName: name}
}

func update(added bool, prefix string, link int) netlink.AddrUpdate {
	_, n, _ := net.ParseCIDR(prefix)
	n.IP = net.ParseIP(netip.MustParsePrefix(prefix).Addr().String()) // keep the host part
	return netlink.AddrUpdate{NewAddr: added, LinkAddress: *n, LinkIndex: link}
}

func collectEvents(t *testing.T) (func(AddrEvent), func(n int) []AddrEvent) {
	events := make(chan AddrEvent, 16)
	next := func(n int) []AddrEvent {
		t.Helper()
		var got []AddrEvent
		for range n {
			select {
			case e := <-events:
				got = append(got, e)
			case <-time.After(5 * time.Second):
				t.Fatalf("waited for %d events, got %v", n, got)
			}
		}
		return got
	}
	return func(e AddrEvent) { events <- e }, next
}

func TestAddrWatcherReportsSubscriptionEvents(t *testing.T) {
	src := newFakeAddrSource(addrEv(true, "10.0.0.1/24", 2, "eth0"))
	onChange, next := collectEvents(t)
	w, err := watchAddresses(t.Context(), AddrWatchConfig{OnChange: onChange}, src)
	if err != nil {
		t.Fatal(err)
	}
	src.feed <- update(true, "10.0.0.2/24", 2)
	src.feed <- update(true, "10.0.0.1/24", 2) // known already: not a change
	src.feed <- update(false, "10.0.0.1/24", 2)
	src.feed <- update(true, "2001:db8::5/64", 3)
	got := next(3)
	want := []AddrEvent{
		addrEv(true, "10.0.0.2/24", 2, "eth0"),
		addrEv(false, "10.0.0.1/24", 2, "eth0"),
		addrEv(true, "2001:db8::5/64", 3, "eth1"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	w.Close()
	src.subs.Wait() // the subscription ended with the watcher
	if !src.closed {
		t.Error("Close left the netlink handle open")
	}
}

func TestAddrWatcherPollsWhenSubscribeFails(t *testing.T) {
	src := newFakeAddrSource(addrEv(true, "10.0.0.1/24", 2, "eth0"))
	src.subErr = errors.New("operation not permitted")
	onChange, next := collectEvents(t)
	w, err := watchAddresses(t.Context(), AddrWatchConfig{OnChange: onChange, PollInterval: 10 * time.Millisecond}, src)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	src.setState(addrEv(true, "10.0.0.9/24", 2, "eth0"))
	got := next(2)
	want := []AddrEvent{addrEv(false, "10.0.0.1/24", 2, "eth0"), addrEv(true, "10.0.0.9/24", 2, "eth0")}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// A subscription that dies (e.g. ENOBUFS after an overrun) is replaced by
// polling, which at once reports what changed meanwhile.
func TestAddrWatcherFallsBackWhenSubscriptionDies(t *testing.T) {
	src := newFakeAddrSource(addrEv(true, "10.0.0.1/24", 2, "eth0"))
	onChange, next := collectEvents(t)
	w, err := watchAddresses(t.Context(), AddrWatchConfig{OnChange: onChange, PollInterval: time.Hour}, src)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	src.setState(addrEv(true, "10.0.0.1/24", 2, "eth0"), addrEv(true, "192.0.2.7/32", 3, "eth1"))
	close(src.fail)
	if got := next(1); got[0] != addrEv(true, "192.0.2.7/32", 3, "eth1") {
		t.Errorf("event %v after the subscription died", got[0])
	}
}

// Close returns, and the subscription ends, even while the subscription
// is blocked handing over an update (as netlink's goroutine blocks on a
// full channel) and OnChange is busy.
func TestAddrWatcherCloseWhileBusy(t *testing.T) {
	src := newFakeAddrSource()
	gate := make(chan struct{})
	entered := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(t.Context())
	w, err := watchAddresses(ctx, AddrWatchConfig{OnChange: func(AddrEvent) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-gate
	}}, src)
	if err != nil {
		t.Fatal(err)
	}
	feed := func(i int) {
		src.feed <- update(true, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}), 32).String(), 2)
	}
	feed(0)
	<-entered // the watcher is stuck in OnChange
	// 64 fill the channel; the subscription takes one more and blocks.
	for i := 1; i <= 65; i++ {
		feed(i)
	}
	// Cancelled before OnChange returns, the watcher reads no more
	// updates itself: only draining on the way out frees the subscription.
	cancel()
	close(gate)
	closed := make(chan struct{})
	go func() { w.Close(); close(closed) }()
	subEnded := make(chan struct{})
	go func() { src.subs.Wait(); close(subEnded) }()
	for _, c := range []chan struct{}{closed, subEnded} {
		select {
		case <-c:
		case <-time.After(5 * time.Second):
			t.Fatal("Close hung or left the subscription blocked")
		}
	}
}

func TestWatchAddressesFailsWhenListingFails(t *testing.T) {
	src := newFakeAddrSource()
	src.listErr = errors.New("netlink: permission denied")
	if _, err := watchAddresses(context.Background(), AddrWatchConfig{}, src); err == nil {
		t.Fatal("no error though addresses cannot be listed")
	}
	src.subs.Wait()
	if !src.closed {
		t.Error("source left open after a failed start")
	}
}

func TestDiffAddrs(t *testing.T) {
	known := map[addrKey]AddrEvent{}
	for _, e := range []AddrEvent{addrEv(true, "10.0.0.1/24", 2, "eth0"), addrEv(true, "10.0.0.2/24", 2, "eth0"), addrEv(true, "fd00::1/64", 3, "eth1")} {
		known[keyOf(e)] = e
	}
	now := []AddrEvent{addrEv(true, "10.0.0.2/24", 2, "eth0"), addrEv(true, "10.0.0.3/24", 2, "eth0"), addrEv(true, "10.0.0.1/24", 3, "eth1")}
	want := []AddrEvent{
		addrEv(false, "10.0.0.1/24", 2, "eth0"),
		addrEv(false, "fd00::1/64", 3, "eth1"),
		addrEv(true, "10.0.0.3/24", 2, "eth0"),
		addrEv(true, "10.0.0.1/24", 3, "eth1"), // same IP, another link: another address
	}
	if got := diffAddrs(known, now); !slices.Equal(got, want) {
		t.Errorf("diff %v, want %v", got, want)
	}
}

func TestPrefixOf(t *testing.T) {
	cases := []struct {
		n    net.IPNet
		want string
	}{
		{net.IPNet{IP: net.IPv4(192, 0, 2, 7).To4(), Mask: net.CIDRMask(24, 32)}, "192.0.2.7/24"},
		{net.IPNet{IP: net.IPv4(192, 0, 2, 7), Mask: net.CIDRMask(120, 128)}, "192.0.2.7/24"},
		{net.IPNet{IP: net.ParseIP("2001:db8::1"), Mask: net.CIDRMask(64, 128)}, "2001:db8::1/64"},
	}
	for _, c := range cases {
		if got := prefixOf(c.n); got.String() != c.want {
			t.Errorf("prefixOf(%v) = %v, want %s", c.n, got, c.want)
		}
	}
}
