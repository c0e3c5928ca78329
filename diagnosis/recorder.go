package diagnosis

import "sync"

// Recorder keeps the SIP messages of natsbc's own calls, both legs under
// the call's id (its A-leg Call-ID): of the calls up and of the last ones
// that ended, so that a call that ended badly is explained by the same
// engine as a capture, and can be handed out as one (capture.Write).
//
// Memory is bounded: keep ended calls; per call maxCallMessages messages
// of at most maxCallBytes (later ones are counted, not kept); and the
// messages of an INVITE that is not a call yet (natsbc sets the call up
// after its 100 Trying) wait in a pending set of maxPending Call-IDs, the
// oldest going first: a flood of INVITEs that never become calls costs
// that much and no more.
type Recorder struct {
	mu      sync.Mutex
	keep    int
	live    map[string]*CallLog
	ended   []*CallLog // oldest first, at most keep
	pending map[string]*CallLog
	order   []string // pending Call-IDs, oldest first
}

// CallLog is one call's messages, in the order natsbc saw them.
type CallLog struct {
	ID       string
	Messages []Message
	// Dropped counts the messages past the bounds.
	Dropped int
	// Reason is why natsbc ended the call (its `call ended` reason).
	Reason string
	bytes  int
}

// EndedCall is one ended call kept: its id and why it ended.
type EndedCall struct {
	ID     string `json:"a_call_id"`
	Reason string `json:"reason"`
}

const (
	maxCallMessages = 512
	maxCallBytes    = 512 << 10
	maxPending      = 1024
)

// NewRecorder keeps the last keep ended calls; keep 0 makes a Recorder
// that keeps nothing (Enabled is false).
func NewRecorder(keep int) *Recorder {
	return &Recorder{keep: keep, live: map[string]*CallLog{}, pending: map[string]*CallLog{}}
}

// Enabled reports whether the Recorder keeps anything.
func (r *Recorder) Enabled() bool { return r != nil && r.keep > 0 }

// Add records (a copy of) m for the call id.
func (r *Recorder) Add(id string, m Message) {
	if !r.Enabled() || id == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.live[id]
	if c == nil {
		c = &CallLog{ID: id}
		r.live[id] = c
	}
	c.add(m)
}

// AddPending records m for a Call-ID that is not a call yet; Adopt makes
// it one.
func (r *Recorder) AddPending(callID string, m Message) {
	if !r.Enabled() || callID == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.live[callID]; c != nil { // it became a call meanwhile
		c.add(m)
		return
	}
	c := r.pending[callID]
	if c == nil {
		if len(r.order) >= maxPending {
			delete(r.pending, r.order[0])
			r.order = r.order[1:]
		}
		c = &CallLog{ID: callID}
		r.pending[callID] = c
		r.order = append(r.order, callID)
	}
	c.add(m)
}

// Adopt starts the call id with what was pending for it.
func (r *Recorder) Adopt(id string) {
	if !r.Enabled() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.pending[id]
	if c == nil {
		c = &CallLog{ID: id}
	} else {
		delete(r.pending, id)
		for i, p := range r.order {
			if p == id {
				r.order = append(r.order[:i], r.order[i+1:]...)
				break
			}
		}
	}
	r.live[id] = c
}

func (c *CallLog) add(m Message) {
	if len(c.Messages) >= maxCallMessages || c.bytes+len(m.Raw) > maxCallBytes {
		c.Dropped++
		return
	}
	m.Raw = append([]byte(nil), m.Raw...)
	m.sip = nil
	m.Frame = len(c.Messages) + 1
	c.bytes += len(m.Raw)
	c.Messages = append(c.Messages, m)
}

// Messages returns a copy of what is recorded of the call, up or ended.
func (r *Recorder) Messages(id string) []Message {
	if !r.Enabled() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.live[id]; c != nil {
		return append([]Message(nil), c.Messages...)
	}
	for _, c := range r.ended {
		if c.ID == id {
			return append([]Message(nil), c.Messages...)
		}
	}
	return nil
}

// End moves the call to the ended ones, the oldest beyond keep going;
// reason is why it ended.
func (r *Recorder) End(id, reason string) {
	if !r.Enabled() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.live[id]
	if c == nil {
		return
	}
	delete(r.live, id)
	c.Reason = reason
	r.ended = append(r.ended, c)
	if over := len(r.ended) - r.keep; over > 0 {
		r.ended = append(r.ended[:0], r.ended[over:]...)
	}
}

// Ended lists the ended calls kept, newest first.
func (r *Recorder) Ended() []EndedCall {
	if !r.Enabled() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]EndedCall, 0, len(r.ended))
	for i := len(r.ended) - 1; i >= 0; i-- {
		out = append(out, EndedCall{r.ended[i].ID, r.ended[i].Reason})
	}
	return out
}
