package sbc

import (
	"context"
	"sync"
	"time"
)

// Shutdown drains: new INVITEs get 503 at once, active calls get
// Config.DrainTimeout to end by themselves, then natsbc ends the rest with
// BYE on both legs. It returns when every handler, call goroutine and socket
// read loop has ended (or ctx is done first).
func (s *Server) Shutdown(ctx context.Context) error {
	s.shuttingDown.Store(true)
	s.draining.Store(true)
	s.log.Info("draining", "active_calls", s.calls.count(), "drain_timeout", s.conf().DrainTimeout.String())
	// Subscriptions do not end by themselves within a drain: natsbc forgets
	// them now, and each subscriber re-subscribes (elsewhere) when its
	// refresh gets 481 (RFC 6665 §4.1.2.2).
	subs, _ := s.calls.snapshot()
	for _, c := range subs {
		if c.sub != nil {
			c.end("shutdown")
		}
	}

	deadline := time.NewTimer(s.conf().DrainTimeout)
	defer deadline.Stop()
wait:
	for {
		calls, changed := s.calls.snapshot()
		if len(calls) == 0 {
			break
		}
		select {
		case <-changed:
		case <-deadline.C:
			break wait
		case <-ctx.Done():
			break wait
		}
	}

	calls, _ := s.calls.snapshot()
	if len(calls) > 0 {
		s.log.Info("ending calls still up after drain", "calls", len(calls))
	}
	var byes sync.WaitGroup
	for _, c := range calls {
		byes.Add(1)
		go func() {
			defer byes.Done()
			c.hangup("shutdown", nil, `SIP;cause=503;text="natsbc shutting down"`)
		}()
	}
	byes.Wait()

	s.stop()
	done := make(chan struct{})
	go func() {
		s.handlers.Wait()
		s.serving.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop closes the sockets and the SIP stack; read loops end with them.
func (s *Server) stop() {
	s.stopOnce.Do(func() {
		close(s.stopped)
		s.cancelBase()
		s.closePublicAddresses()
		if s.stopWatch != nil {
			s.stopWatch()
		}
		for _, l := range s.listeners {
			if l.Packet != nil {
				_ = l.Packet.Close()
			}
			if l.Stream != nil {
				_ = l.Stream.Close()
			}
		}
		if s.handoff != nil {
			_ = s.handoff.Close()
		}
		_ = s.ua.Close()
		if s.ownCerts {
			s.certs.Close()
		}
	})
}

// Close stops at once, without draining.
func (s *Server) Close() error {
	s.stop()
	s.handlers.Wait()
	s.serving.Wait()
	return nil
}
