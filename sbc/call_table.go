package sbc

import (
	"sync"

	"github.com/natsbc/natsbc/media"
)

// dialogKey identifies one leg's dialog from natsbc's side: its Call-ID and
// natsbc's own tag on it (RFC 3261 §12: the local tag is what we chose).
type dialogKey struct{ callID, localTag string }

type callRef struct {
	c    *call
	side media.Leg
}

// callTable finds calls by either leg's dialog.
type callTable struct {
	mu      sync.Mutex
	byKey   map[dialogKey]callRef
	byID    map[string]*call // either leg's Call-ID
	calls   map[*call]struct{}
	changed chan struct{} // closed and replaced whenever a call leaves
}

func newCallTable() *callTable {
	return &callTable{byKey: map[dialogKey]callRef{}, byID: map[string]*call{}, calls: map[*call]struct{}{}, changed: make(chan struct{})}
}

func (t *callTable) add(c *call) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls[c] = struct{}{}
	t.byKey[dialogKey{c.a.callID, c.a.localTag}] = callRef{c, media.LegA}
	t.byKey[dialogKey{c.b.callID, c.b.localTag}] = callRef{c, media.LegB}
	t.byID[c.a.callID], t.byID[c.b.callID] = c, c
}

func (t *callTable) remove(c *call) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.calls[c]; !ok {
		return
	}
	delete(t.calls, c)
	delete(t.byKey, dialogKey{c.a.callID, c.a.localTag})
	delete(t.byKey, dialogKey{c.b.callID, c.b.localTag})
	for _, id := range []string{c.a.callID, c.b.callID} {
		if t.byID[id] == c {
			delete(t.byID, id)
		}
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// lookup finds the call and leg whose dialog has this Call-ID and local tag.
func (t *callTable) lookup(callID, localTag string) (*call, media.Leg, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.byKey[dialogKey{callID, localTag}]
	return r.c, r.side, ok
}

// byCallID finds the call one of whose legs has Call-ID id.
func (t *callTable) byCallID(id string) *call {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byID[id]
}

func (t *callTable) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.calls)
}

// snapshot returns the calls and a channel closed when the next one leaves.
func (t *callTable) snapshot() ([]*call, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*call, 0, len(t.calls))
	for c := range t.calls {
		out = append(out, c)
	}
	return out, t.changed
}
