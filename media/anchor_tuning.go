package media

import (
	"errors"
	"time"
)

// Tuning is what a configuration reload may change of the relay. A
// session takes the tuning current when it starts and keeps it: a reload
// changes new calls, never the media of a running one.
type Tuning struct {
	Timeout, HoldTimeout, LatchWindow time.Duration
	MaxStreams                        int
}

// tuningOf is the part of cfg a reload may change.
func tuningOf(cfg Config) Tuning {
	return Tuning{Timeout: cfg.Timeout, HoldTimeout: cfg.HoldTimeout, LatchWindow: cfg.LatchWindow, MaxStreams: cfg.MaxStreams}
}

// Retune replaces the relay's tuning for sessions that start from now on
// (zero fields take DefaultConfig's values).
func (a *RelayAnchor) Retune(t Tuning) error {
	d := tuningOf(Config{Timeout: t.Timeout, HoldTimeout: t.HoldTimeout, LatchWindow: t.LatchWindow, MaxStreams: t.MaxStreams}.withDefaults())
	if d.Timeout <= 0 || d.HoldTimeout <= 0 || d.LatchWindow <= 0 || d.MaxStreams <= 0 {
		return errors.New("media: timeouts, latch window and max streams must be positive")
	}
	a.tune.Store(&d)
	return nil
}
