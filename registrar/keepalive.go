package registrar

import (
	"context"
	"sync"
	"time"
)

// Host is what the keepalive needs from the signalling core: a ping on a
// binding's flow (RFC 5626 §4.4: OPTIONS, or CRLF on UDP), and the
// un-register at the PBX of a binding the registrar dropped.
type Host interface {
	// Ping reports whether the phone answered within the wait.
	Ping(ctx context.Context, b Binding) bool
	// Unregister removes the binding's token Contact at the PBX; b.PBX
	// carries the next CSeq of its registration.
	Unregister(b Binding)
}

// Run keeps NATed phones' pinholes open (RFC 5626 §3.5: natsbc plays the
// edge proxy's part for phones that do not do outbound themselves) and
// drops bindings that expire or stop answering. Each binding is pinged
// once per interval: the loop ticks at a fraction of it so pings spread
// instead of bursting. Run returns once ctx is done and its pings ended.
func (r *Registrar) Run(ctx context.Context, host Host) {
	var pings sync.WaitGroup
	defer pings.Wait()
	tick := time.NewTicker(keepaliveTick(r.cfg.KeepaliveInterval))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			expired, due := r.dueBindings(r.tuning().KeepaliveInterval)
			for _, e := range expired {
				r.drop(e, "expired", host)
			}
			for _, e := range due {
				pings.Add(1)
				go func() {
					defer pings.Done()
					r.ping(ctx, e, host)
				}()
			}
		}
	}
}

// keepaliveTick spreads pings: a tenth of the interval, 10 ms to 1 s.
func keepaliveTick(interval time.Duration) time.Duration {
	return min(max(interval/10, 10*time.Millisecond), time.Second)
}

// dueBindings returns the bindings past their expiry and those whose ping
// is due, marking the latter in flight.
func (r *Registrar) dueBindings(interval time.Duration) (expired, due []*entry) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.store.all() {
		switch {
		case now.After(e.Expires):
			expired = append(expired, e)
		// A TCP flow lost in a restart only comes back from the phone.
		case e.Verdict.Keepalive && !e.pingPending && !e.awaitsReconnect && !now.Before(e.nextPing):
			e.pingPending = true
			e.nextPing = now.Add(interval)
			due = append(due, e)
		}
	}
	return expired, due
}

// ping sends one keepalive and counts a missed answer; MaxMissed in a row
// drop the binding.
func (r *Registrar) ping(ctx context.Context, e *entry, host Host) {
	r.mu.Lock()
	b := e.snapshot()
	r.mu.Unlock()
	r.counts.pings.Add(1)
	answered := host.Ping(ctx, b)
	r.mu.Lock()
	e.pingPending = false
	if answered {
		e.missed = 0
		e.Answered = true
		r.mu.Unlock()
		return
	}
	e.missed++
	missed := e.missed
	r.mu.Unlock()
	if ctx.Err() != nil {
		return // natsbc is stopping: not the phone's miss
	}
	r.counts.missed.Add(1)
	r.log.Info("keepalive unanswered", "aor", b.AoR, "token", b.Token, "flow", b.Flow.String(), "missed", missed)
	if missed >= r.tuning().MaxMissed {
		r.drop(e, "keepalive", host)
	}
}

// drop removes a binding natsbc gave up on and has the host un-register
// it at the PBX, once however many paths drop it.
func (r *Registrar) drop(e *entry, reason string, host Host) {
	r.mu.Lock()
	removed := r.store.remove(e)
	e.PBX.CSeq++
	b := e.snapshot()
	var disk diskChange
	if removed {
		disk = r.toDisk(nil, []*entry{e})
	}
	r.mu.Unlock()
	r.writeDisk(disk)
	if !removed {
		return
	}
	switch reason {
	case "expired":
		r.counts.expired.Add(1)
	case "keepalive":
		r.counts.unanswered.Add(1)
	}
	r.log.Info("binding removed", "aor", b.AoR, "token", b.Token, "reason", reason, "flow", b.Flow.String())
	host.Unregister(b)
}
