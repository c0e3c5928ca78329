package sbc

import (
	"sync"
	"time"
)

// registrar is natsbc's side of registrations: the binding table and the
// token signer. natsbc does not register anything itself: it relays each
// phone's REGISTER to the PBX with its own token Contact (so the phone's
// private address never reaches the PBX and the PBX's requests come back
// through natsbc), remembers the phone's flow, and keeps that flow open.
//
// Tokens rather than Path (RFC 3327): every registrar stores a Contact,
// few honour Path; and with a token natsbc needs nothing from the PBX but a
// working location service.
type registrar struct {
	store  bindingStore
	tokens tokenSigner
	// mu guards the mutable fields of every binding (refresh, keepalive
	// and expiry run concurrently). Never held across network I/O.
	mu  sync.Mutex
	now func() time.Time
	// disk keeps the table across restarts (nil: memory only); diskMu
	// orders its writes (reg_persist.go).
	disk   BindingDisk
	diskMu sync.Mutex
}

func newRegistrar(cfg RegistrationConfig, disk BindingDisk) *registrar {
	return &registrar{store: newMemBindings(), tokens: newTokenSigner(cfg.TokenSecret), now: time.Now, disk: disk}
}

// Bindings is the number of registered contacts natsbc holds.
func (s *Server) Bindings() int { return s.reg.store.count() }
