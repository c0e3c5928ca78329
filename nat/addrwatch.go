//go:build linux

package nat

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// DefaultAddrPollInterval is how often addresses are listed when the
// netlink subscription is unavailable or has failed (a missed event, e.g.
// a receive-buffer overrun, ends a subscription).
const DefaultAddrPollInterval = 10 * time.Second

// AddrEvent is one local address appearing or going away (RTM_NEWADDR,
// RTM_DELADDR), e.g. a DHCP renew that changes the outside address.
type AddrEvent struct {
	Added     bool
	Addr      netip.Prefix
	LinkIndex int
	LinkName  string
}

func (e AddrEvent) String() string {
	verb := "removed"
	if e.Added {
		verb = "added"
	}
	return fmt.Sprintf("%s %s on %s (%d)", verb, e.Addr, e.LinkName, e.LinkIndex)
}

// AddrWatchConfig configures WatchAddresses.
type AddrWatchConfig struct {
	Logger *slog.Logger
	// OnChange is called for every address added or removed, one call at
	// a time, from the watcher's goroutine. A kernel re-announcing an
	// address it already has (IPv6 lifetime updates) is not a change.
	OnChange     func(AddrEvent)
	Netns        *netns.NsHandle // namespace to watch; nil: the current one
	PollInterval time.Duration   // fallback polling; default 10 s
}

// AddrWatcher reports local address changes until Close.
type AddrWatcher struct {
	cfg    AddrWatchConfig
	src    addrSource
	known  map[addrKey]AddrEvent // owned by run
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

type addrKey struct {
	linkIndex int
	prefix    netip.Prefix
}

// addrSource is the kernel side; tests replace it.
type addrSource interface {
	// subscribe sends address updates to ch until done is closed or the
	// subscription fails, then closes ch. onError hears of failures.
	subscribe(ch chan<- netlink.AddrUpdate, done <-chan struct{}, onError func(error)) error
	list() ([]AddrEvent, error) // every address now, Added set
	linkName(index int) string
	close()
}

// WatchAddresses subscribes to the kernel's address notifications
// (rtnetlink groups RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR), falling
// back to listing addresses every PollInterval if the subscription cannot
// be made or fails. It returns an error only if addresses cannot even be
// listed.
func WatchAddresses(ctx context.Context, cfg AddrWatchConfig) (*AddrWatcher, error) {
	src, err := newNetlinkAddrSource(cfg.Netns)
	if err != nil {
		return nil, err
	}
	return watchAddresses(ctx, cfg, src)
}

func watchAddresses(ctx context.Context, cfg AddrWatchConfig, src addrSource) (*AddrWatcher, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnChange == nil {
		cfg.OnChange = func(AddrEvent) {}
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultAddrPollInterval
	}
	w := &AddrWatcher{cfg: cfg, src: src, done: make(chan struct{})}

	// Subscribe before listing so nothing falls between the two; updates
	// already in the list are deduplicated.
	var stopping atomic.Bool
	updates := make(chan netlink.AddrUpdate, 64)
	subDone := make(chan struct{})
	onError := func(err error) {
		if !stopping.Load() {
			cfg.Logger.Debug("address subscription error", "err", err)
		}
	}
	var recv <-chan netlink.AddrUpdate = updates
	if err := src.subscribe(updates, subDone, onError); err != nil {
		cfg.Logger.Warn("cannot subscribe to address changes; polling instead",
			"err", err, "interval", cfg.PollInterval)
		recv = nil
	}
	snapshot, err := src.list()
	if err != nil {
		stopping.Store(true)
		close(subDone)
		drain(recv)
		src.close()
		return nil, fmt.Errorf("list local addresses: %w", err)
	}
	w.known = make(map[addrKey]AddrEvent, len(snapshot))
	for _, e := range snapshot {
		w.known[keyOf(e)] = e
	}
	runCtx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	go w.run(runCtx, recv, subDone, &stopping)
	return w, nil
}

// Close stops watching and waits until no callback runs any more.
func (w *AddrWatcher) Close() {
	w.once.Do(func() {
		w.cancel()
		<-w.done
		w.src.close()
	})
}

func (w *AddrWatcher) run(ctx context.Context, updates <-chan netlink.AddrUpdate, subDone chan struct{}, stopping *atomic.Bool) {
	defer close(w.done)
	defer func() {
		// The subscription's goroutine blocks on a full channel: keep
		// reading until it has closed it.
		stopping.Store(true)
		close(subDone)
		drain(updates)
	}()
	var poll <-chan time.Time
	var ticker *time.Ticker
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	startPolling := func() {
		ticker = time.NewTicker(w.cfg.PollInterval)
		poll = ticker.C
	}
	if updates == nil {
		startPolling()
	}
	for {
		if ctx.Err() != nil {
			return // closing: report nothing more, even if updates wait
		}
		select {
		case <-ctx.Done():
			return
		case u, ok := <-updates:
			if !ok {
				updates = nil
				w.cfg.Logger.Warn("address subscription ended; polling instead", "interval", w.cfg.PollInterval)
				startPolling()
				w.poll() // catch up on what the subscription missed
				continue
			}
			w.apply(w.eventOf(u))
		case <-poll:
			w.poll()
		}
	}
}

func drain(ch <-chan netlink.AddrUpdate) {
	if ch == nil {
		return
	}
	for range ch {
		// discard: the watcher is stopping
	}
}

func (w *AddrWatcher) eventOf(u netlink.AddrUpdate) AddrEvent {
	e := AddrEvent{Added: u.NewAddr, Addr: prefixOf(u.LinkAddress), LinkIndex: u.LinkIndex}
	if k, ok := w.known[keyOf(e)]; ok && k.LinkName != "" {
		e.LinkName = k.LinkName // a removed link has no name to look up
	} else {
		e.LinkName = w.src.linkName(u.LinkIndex)
	}
	return e
}

// apply records e and reports it unless it changes nothing.
func (w *AddrWatcher) apply(e AddrEvent) {
	k := keyOf(e)
	_, had := w.known[k]
	if e.Added == had {
		return
	}
	if e.Added {
		w.known[k] = e
	} else {
		delete(w.known, k)
	}
	w.cfg.Logger.Info("local address change", "event", e.String())
	w.cfg.OnChange(e)
}

// poll lists the addresses and reports the difference with what is known.
func (w *AddrWatcher) poll() {
	now, err := w.src.list()
	if err != nil {
		w.cfg.Logger.Warn("listing local addresses failed", "err", err)
		return
	}
	for _, e := range diffAddrs(w.known, now) {
		w.apply(e)
	}
}

// diffAddrs lists the removals then the additions that turn known into
// now, in a stable order.
func diffAddrs(known map[addrKey]AddrEvent, now []AddrEvent) []AddrEvent {
	current := make(map[addrKey]AddrEvent, len(now))
	for _, e := range now {
		current[keyOf(e)] = e
	}
	var removed, added []AddrEvent
	for k, e := range known {
		if _, ok := current[k]; !ok {
			e.Added = false
			removed = append(removed, e)
		}
	}
	for k, e := range current {
		if _, ok := known[k]; !ok {
			e.Added = true
			added = append(added, e)
		}
	}
	byKey := func(a, b AddrEvent) int {
		if c := cmp.Compare(a.LinkIndex, b.LinkIndex); c != 0 {
			return c
		}
		return a.Addr.Addr().Compare(b.Addr.Addr())
	}
	slices.SortFunc(removed, byKey)
	slices.SortFunc(added, byKey)
	return append(removed, added...)
}

func keyOf(e AddrEvent) addrKey { return addrKey{e.LinkIndex, e.Addr} }

func prefixOf(n net.IPNet) netip.Prefix {
	ip, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}
	}
	ones, _ := n.Mask.Size()
	ip = ip.Unmap()
	if ip.Is4() && ones > 32 {
		ones -= 96
	}
	return netip.PrefixFrom(ip, ones)
}
