package loadgen

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

// SIPConfig is the signalling of one run: both ends of every call.
type SIPConfig struct {
	UAC, UAS *net.UDPConn   // the caller's and the callee's SIP sockets
	Target   netip.AddrPort // where the caller sends its INVITEs
	// UASHost is the callee's host:port as it appears in Request-URI and
	// To; empty means the UAS socket's address.
	UASHost string
	// UACRTP and UASRTP are each side's RTP sockets, one per worker: call
	// n's SDP names the socket of WorkerOf(n).
	UACRTP, UASRTP []netip.AddrPort
	Calls          int
	Rate           float64       // call set-ups started per second
	SetupTimeout   time.Duration // a call not up this long after its INVITE failed; default 5 s
	PTime          time.Duration
	Timers         Timers
	Run            uint32
}

// sipSession runs the caller and the callee of all calls.
type sipSession struct {
	cfg     SIPConfig
	tracker *setupTracker
	uac     *uac
	uas     *uas
}

func startSIP(cfg SIPConfig) (*sipSession, error) {
	if cfg.UAC == nil || cfg.UAS == nil {
		return nil, errors.New("sip: both sides need a SIP socket")
	}
	if cfg.Rate <= 0 {
		return nil, errors.New("sip: the call rate must be positive")
	}
	if len(cfg.UACRTP) == 0 || len(cfg.UACRTP) != len(cfg.UASRTP) {
		return nil, errors.New("sip: both sides need the same number of RTP addresses, at least one")
	}
	if cfg.SetupTimeout <= 0 {
		cfg.SetupTimeout = 5 * time.Second
	}
	tracker := newSetupTracker(cfg.Calls)
	uasEP := newEndpoint(cfg.UAS, cfg.Timers)
	if cfg.UASHost == "" {
		cfg.UASHost = hostPort(uasEP.local)
	}
	s := &sipSession{cfg: cfg, tracker: tracker}
	s.uac = &uac{ep: newEndpoint(cfg.UAC, cfg.Timers), tracker: tracker, target: cfg.Target,
		uasHost: cfg.UASHost, rtp: cfg.UACRTP, ptime: cfg.PTime, run: cfg.Run,
		setupTimeout: cfg.SetupTimeout, calls: make([]*uacCall, cfg.Calls),
		byCallID: make(map[string]*uacCall, cfg.Calls)}
	s.uas = &uas{ep: uasEP, tracker: tracker, rtp: cfg.UASRTP, ptime: cfg.PTime, run: cfg.Run,
		calls: make([]*uasCall, cfg.Calls), byCallID: make(map[string]*uasCall, cfg.Calls)}
	s.uas.ep.start(s.uas.handle)
	s.uac.ep.start(s.uac.handle)
	return s, nil
}

// setup starts the calls at the configured rate and waits until each is up
// or has failed.
func (s *sipSession) setup(ctx context.Context) (SetupReport, []MediaCall) {
	pace(ctx, s.cfg.Calls, s.cfg.Rate, func(n int, now time.Time) { s.uac.invite(n, now) })
	select {
	case <-s.tracker.done:
	case <-ctx.Done():
	}
	rep, up := s.tracker.report()
	return rep, s.mediaCalls(up)
}

// mediaCalls pairs what each side learnt from the other's SDP.
func (s *sipSession) mediaCalls(up []int) []MediaCall {
	s.uac.ep.mu.Lock()
	defer s.uac.ep.mu.Unlock()
	s.uas.ep.mu.Lock()
	defer s.uas.ep.mu.Unlock()
	calls := make([]MediaCall, 0, len(up))
	for _, n := range up {
		a, b := s.uac.calls[n], s.uas.calls[n]
		if a == nil || b == nil {
			continue
		}
		calls = append(calls, MediaCall{ID: uint32(n), AToB: a.media, BToA: b.media})
	}
	return calls
}

// teardown sends a BYE on every answered call at the set-up rate and waits
// for their final responses; it returns how many BYEs failed.
func (s *sipSession) teardown(ctx context.Context) (byeFailed int) {
	calls := s.uac.startTeardown()
	pace(ctx, len(calls), s.cfg.Rate, func(i int, now time.Time) { s.uac.byeOne(calls[i], now) })
	select {
	case <-s.uac.byeDone:
	case <-ctx.Done():
	}
	s.uac.ep.mu.Lock()
	defer s.uac.ep.mu.Unlock()
	return s.uac.byeFailed + s.uac.byeLeft
}

func (s *sipSession) close() error {
	return errors.Join(s.uac.ep.close(), s.uas.ep.close())
}

// pace calls fn for 0..count-1 at rate per second, catching up in bursts
// when a wake-up comes late, until done or ctx ends.
func pace(ctx context.Context, count int, rate float64, fn func(i int, now time.Time)) {
	start := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := 0; i < count; {
		now := time.Now()
		due := min(count, int(now.Sub(start).Seconds()*rate)+1)
		for ; i < due; i++ {
			fn(i, now)
		}
		if i == count {
			return
		}
		next := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		timer.Reset(max(time.Until(next), pacingGranularity))
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
	}
}

// pacingGranularity keeps a high rate from waking the pacer for every
// single call: at 2,000/s a wake-up starts two calls.
const pacingGranularity = time.Millisecond
