package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Mode says whether calls are set up over SIP through a target or the two
// sides stream to each other directly (the generator's own ceiling).
type Mode string

const (
	ModeSIP    Mode = "sip"
	ModeDirect Mode = "direct"
)

// Config is one run of the generator.
type Config struct {
	Mode         Mode
	Target       netip.AddrPort // sip: where INVITEs go
	UASHost      string         // sip: callee host:port in Request-URI; default the UAS socket's
	Calls        int
	Rate         float64 // sip: call set-ups per second
	Duration     time.Duration
	PTime        time.Duration
	Payload      int
	SetupTimeout time.Duration
	Timers       Timers
}

// Sockets are the generator's sockets; the caller opens and closes them.
// SIP sockets are needed in sip mode only. There is one RTP socket per
// worker on each side (the same number on both): each call's SDP names the
// sockets of the worker that carries it (WorkerOf).
type Sockets struct {
	UACSIP, UASSIP *net.UDPConn
	UACRTP, UASRTP []*RTPSocket
}

// Run sets up the calls (or, in direct mode, pretends they are up),
// streams media on all of them for cfg.Duration and tears them down. An
// error means the tool itself could not run; failed calls and lost packets
// are results, in the Report.
func Run(ctx context.Context, cfg Config, socks Sockets) (Report, error) {
	cpu0 := processCPU()
	run := newRunID()
	rep := Report{Mode: string(cfg.Mode), CallsRequested: cfg.Calls}
	if cfg.Calls <= 0 {
		return rep, errors.New("the number of calls must be positive")
	}
	if cfg.PTime <= 0 {
		cfg.PTime = 20 * time.Millisecond
	}
	if len(socks.UACRTP) == 0 || len(socks.UACRTP) != len(socks.UASRTP) {
		return rep, errors.New("both sides need the same number of RTP sockets, at least one")
	}
	uacRTP, uasRTP := rtpAddrs(socks.UACRTP), rtpAddrs(socks.UASRTP)
	workers := len(uacRTP)

	var calls []MediaCall
	var sess *sipSession
	switch cfg.Mode {
	case ModeDirect:
		calls = make([]MediaCall, cfg.Calls)
		for i := range calls {
			w := WorkerOf(uint32(i), workers)
			calls[i] = MediaCall{ID: uint32(i), AToB: uasRTP[w], BToA: uacRTP[w]}
		}
		rep.CallsUp = cfg.Calls
	case ModeSIP:
		var err error
		sess, err = startSIP(SIPConfig{UAC: socks.UACSIP, UAS: socks.UASSIP, Target: cfg.Target,
			UASHost: cfg.UASHost, UACRTP: uacRTP, UASRTP: uasRTP, Calls: cfg.Calls, Rate: cfg.Rate,
			SetupTimeout: cfg.SetupTimeout, PTime: cfg.PTime, Timers: cfg.Timers, Run: run})
		if err != nil {
			return rep, err
		}
		var setup SetupReport
		setup, calls = sess.setup(ctx)
		rep.addSetup(setup)
	default:
		return rep, fmt.Errorf("mode %q is neither %q nor %q", cfg.Mode, ModeSIP, ModeDirect)
	}

	var mediaErr error
	if len(calls) > 0 {
		var media MediaReport
		media, mediaErr = RunMedia(ctx, MediaConfig{A: socks.UACRTP, B: socks.UASRTP, Calls: calls,
			Duration: cfg.Duration, PTime: cfg.PTime, Payload: cfg.Payload, Run: run})
		rep.addMedia(media)
	}
	var closeErr error
	if sess != nil {
		rep.ByeFailed = sess.teardown(context.WithoutCancel(ctx))
		rep.addSignallingNotes(sess)
		closeErr = sess.close()
	}
	rep.GeneratorCPUS = (processCPU() - cpu0).Seconds()
	rep.finish()
	return rep, errors.Join(mediaErr, closeErr)
}

func rtpAddrs(socks []*RTPSocket) []netip.AddrPort {
	addrs := make([]netip.AddrPort, len(socks))
	for i, s := range socks {
		addrs[i] = s.LocalAddr()
	}
	return addrs
}
