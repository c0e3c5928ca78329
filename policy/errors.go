package policy

import "errors"

// Sentinel errors. Callers test them with errors.Is; the wrapped text says
// which peer, route or value was at fault.
var (
	// ErrNoRoute: no route matches the source of a request. natsbc answers
	// such a request with 404 rather than guessing a destination.
	ErrNoRoute = errors.New("no route matches")
	// ErrInvalidConfig wraps every problem found by New.
	ErrInvalidConfig = errors.New("invalid policy")
	// ErrNoAddress: a route names a peer that has no address to send to.
	ErrNoAddress = errors.New("peer has no address")
	// ErrBadRequestURI: the Request-URI cannot be used as a destination.
	ErrBadRequestURI = errors.New("unusable Request-URI")
)
