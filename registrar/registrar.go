// Package registrar is natsbc's side of registrations: the binding table,
// the tokens, and the keepalive that holds NATed phones' pinholes open.
// natsbc does not register anything itself: it relays each phone's
// REGISTER to the PBX with its own token Contact (so the phone's private
// address never reaches the PBX and the PBX's requests come back through
// natsbc), remembers the phone's flow, and keeps that flow open.
//
// Tokens rather than Path (RFC 3327): every registrar stores a Contact,
// few honour Path; and with a token natsbc needs nothing from the PBX but a
// working location service.
//
// The SIP side (reading and relaying REGISTER, sending keepalives and
// un-registers) is the signalling core's; it tells the registrar what a
// REGISTER and the PBX's answer said (Begin, Commit) and asks it where a
// token's phone is (Reach). The call side sees a Binding copy, never the
// table.
package registrar

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config governs the registrar.
type Config struct {
	// NATExpires is the longest registration interval granted to a phone
	// that needs keepalive (NATed), so its own refreshes keep its pinhole
	// open. The PBX still sees the interval the phone asked for.
	NATExpires time.Duration
	// TokenSecret keys the tokens in natsbc's Contact towards the PBX.
	// Empty: a random key per start.
	TokenSecret []byte
	// KeepaliveInterval is how often a NATed phone's flow is pinged;
	// MaxMissed unanswered pings in a row drop its binding.
	KeepaliveInterval time.Duration
	MaxMissed         int
	Log               *slog.Logger
	// MaxPerSource bounds the bindings whose flow comes from one address
	// (0: no bound): Admit refuses a REGISTER that would add more.
	MaxPerSource int
	// Disk keeps the bindings across restarts (nil: memory only); Restore
	// loads what it holds.
	Disk Disk
}

// Tuning is what Retune may change while natsbc runs: it applies to the
// next REGISTER and the next keepalive round, not to what was granted.
type Tuning struct {
	NATExpires        time.Duration
	KeepaliveInterval time.Duration
	MaxMissed         int
	MaxPerSource      int
}

// Registrar holds the bindings.
type Registrar struct {
	cfg    Config
	tune   atomic.Pointer[Tuning]
	counts counters
	log    *slog.Logger
	store  bindingStore
	tokens tokenSigner
	// mu guards the mutable fields of every entry (refresh, keepalive
	// and expiry run concurrently). Never held across network I/O.
	mu sync.Mutex
	// saveMu orders the writes to a durable store (persist.go).
	saveMu sync.Mutex
	now    func() time.Time
}

// New returns an empty registrar.
func New(cfg Config) *Registrar {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	var table bindingStore = newMemBindings()
	if cfg.Disk != nil {
		table = durableBindings{memBindings: newMemBindings(), file: cfg.Disk}
	}
	r := &Registrar{cfg: cfg, log: log, store: table, tokens: newTokenSigner(cfg.TokenSecret), now: time.Now}
	r.Retune(Tuning{NATExpires: cfg.NATExpires, KeepaliveInterval: cfg.KeepaliveInterval, MaxMissed: cfg.MaxMissed, MaxPerSource: cfg.MaxPerSource})
	return r
}

// Retune replaces the knobs of Tuning (a configuration reload).
func (r *Registrar) Retune(t Tuning) { r.tune.Store(&t) }

func (r *Registrar) tuning() *Tuning { return r.tune.Load() }

// Count is the number of registered contacts.
func (r *Registrar) Count() int { return r.store.count() }

// Get returns a copy of the binding with id.
func (r *Registrar) Get(id uint64) (Binding, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.store.byID(id)
	if !ok {
		return Binding{}, false
	}
	return e.snapshot(), true
}

var (
	// ErrNotToken: the user part is not shaped like a natsbc token.
	ErrNotToken = errTokenFormat
	// ErrForged: shaped like a token but not issued with natsbc's key.
	ErrForged = errTokenMAC
	// ErrGone: a token natsbc issued whose binding is gone (expired,
	// un-registered, keepalive failed).
	ErrGone = errors.New("binding expired or removed")
	// ErrTooManyBindings: the REGISTER would give its source address more
	// bindings than Config.MaxPerSource.
	ErrTooManyBindings = errors.New("too many bindings from this source address")
	// ErrAwaitsReconnect: a TCP binding restored after a restart, whose
	// phone has not connected again yet.
	ErrAwaitsReconnect = errors.New("its TCP connection was lost in a restart; waiting for the phone to register again")
)

// LooksLikeToken tells a mangled token (natsbc's prefix, wrong length or
// alphabet) from an ordinary user part addressed to natsbc.
func LooksLikeToken(user string) bool {
	return len(user) > len(TokenPrefix) && strings.ToLower(user[:len(TokenPrefix)]) == TokenPrefix
}

// TokenID returns the binding id a token names, if natsbc issued it.
func (r *Registrar) TokenID(user string) (uint64, error) {
	return r.tokens.decode(user)
}

// Reach returns the binding a token (a Request-URI user part) names:
// ErrNotToken or ErrForged for one natsbc never issued, ErrGone for one
// whose binding is no more.
func (r *Registrar) Reach(token string) (Binding, error) {
	id, err := r.tokens.decode(token)
	if err != nil {
		return Binding{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.store.byID(id)
	switch {
	case !ok:
		return Binding{}, ErrGone
	case e.awaitsReconnect:
		return Binding{}, ErrAwaitsReconnect
	}
	return e.snapshot(), nil
}
