package nat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/stun/v3"
)

// RFC 5389 §7.2.1 retransmission over UDP: the first RTO is 500 ms and
// doubles with each retransmission; after Rc = 7 requests the client waits
// Rm = 16 initial RTOs for an answer (39.5 s in all).
const (
	stunInitialRTO = 500 * time.Millisecond
	stunRc         = 7
	stunRm         = 16
)

// ErrSTUNNoAnswer: the server never answered within RFC 5389 §7.2.1's
// retransmission schedule.
var ErrSTUNNoAnswer = errors.New("no answer to STUN Binding request")

// Discover asks the STUN server at server which address it sees conn's
// datagrams come from (RFC 5389 §7.2.1 client, §7.3.3 response
// processing): XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS for an RFC 3489
// server (§12.1.3). Retransmits per §7.2.1 until an answer, the end of the
// schedule or ctx, whichever comes first. Datagrams from other addresses
// or for other transactions are ignored. conn is read until Discover
// returns, so it must not be shared with another reader meanwhile.
func Discover(ctx context.Context, conn net.PacketConn, server netip.AddrPort) (netip.AddrPort, error) {
	if !server.IsValid() {
		return netip.AddrPort{}, errors.New("stun: invalid server address")
	}
	server = normalizeAddrPort(server)
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, softwareAttr, stun.Fingerprint)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("stun: build request: %w", err)
	}
	deadlines := newDeadlineGuard(ctx, conn)
	defer deadlines.stop()

	dst := net.UDPAddrFromAddrPort(server)
	rto := stunInitialRTO
	buf := make([]byte, 1500)
	for sent := 1; ; sent++ {
		if _, err := conn.WriteTo(req.Raw, dst); err != nil {
			return netip.AddrPort{}, fmt.Errorf("stun: send to %s: %w", server, err)
		}
		wait := rto
		if sent == stunRc {
			wait = stunRm * stunInitialRTO
		}
		mapped, err := awaitBindingAnswer(conn, deadlines, time.Now().Add(wait), server, req.TransactionID, buf)
		if err == nil || !errors.Is(err, errAwaitTimedOut) {
			return mapped, err
		}
		if err := ctxEnded(ctx); err != nil {
			return netip.AddrPort{}, fmt.Errorf("stun: %s: %w", server, err)
		}
		if sent == stunRc {
			return netip.AddrPort{}, fmt.Errorf("stun: %s: %w after %d requests", server, ErrSTUNNoAnswer, sent)
		}
		rto *= 2
	}
}

// ctxEnded is ctx.Err(), also when the deadline has passed but ctx's own
// timer has not fired yet: a read cut short by that deadline must end
// Discover, not start a burst of retransmissions.
func ctxEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

var errAwaitTimedOut = errors.New("stun: wait timed out")

// awaitBindingAnswer reads until the answer to txID arrives from server
// or the deadline passes (errAwaitTimedOut).
func awaitBindingAnswer(conn net.PacketConn, d *deadlineGuard, until time.Time,
	server netip.AddrPort, txID [stun.TransactionIDSize]byte, buf []byte,
) (netip.AddrPort, error) {
	if err := d.set(until); err != nil {
		return netip.AddrPort{}, errAwaitTimedOut // ctx is done; the caller says so
	}
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return netip.AddrPort{}, errAwaitTimedOut
			}
			return netip.AddrPort{}, fmt.Errorf("stun: read: %w", err)
		}
		if src, ok := udpAddrPort(from); !ok || src != server {
			continue // not our server: a stray or spoofed datagram
		}
		m := &stun.Message{Raw: buf[:n]}
		if m.Decode() != nil || m.TransactionID != txID {
			continue
		}
		return bindingResult(m, server)
	}
}

// bindingResult reads a Binding answer (§7.3.3 success, §7.3.4 error).
func bindingResult(m *stun.Message, server netip.AddrPort) (netip.AddrPort, error) {
	if m.Contains(stun.AttrFingerprint) && stun.Fingerprint.Check(m) != nil {
		return netip.AddrPort{}, fmt.Errorf("stun: %s: answer with a wrong FINGERPRINT", server)
	}
	switch m.Type {
	case stun.BindingSuccess:
	case stun.BindingError:
		var ec stun.ErrorCodeAttribute
		if ec.GetFrom(m) == nil {
			return netip.AddrPort{}, fmt.Errorf("stun: %s answered %d %s", server, ec.Code, ec.Reason)
		}
		return netip.AddrPort{}, fmt.Errorf("stun: %s answered an error", server)
	default:
		return netip.AddrPort{}, fmt.Errorf("stun: %s answered with a %v", server, m.Type)
	}
	var xor stun.XORMappedAddress
	if xor.GetFrom(m) == nil {
		if a, ok := ipPort(xor.IP, xor.Port); ok {
			return a, nil
		}
	}
	var mapped stun.MappedAddress
	if mapped.GetFrom(m) == nil {
		if a, ok := ipPort(mapped.IP, mapped.Port); ok {
			return a, nil
		}
	}
	return netip.AddrPort{}, fmt.Errorf("stun: %s answered without a mapped address", server)
}

func ipPort(ip net.IP, port int) (netip.AddrPort, bool) {
	a, ok := netip.AddrFromSlice(ip)
	if !ok || port < 0 || port > 0xffff {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), true
}

func udpAddrPort(a net.Addr) (netip.AddrPort, bool) {
	u, ok := a.(*net.UDPAddr)
	if !ok {
		return netip.AddrPort{}, false
	}
	return normalizeAddrPort(u.AddrPort()), true
}

// deadlineGuard lets ctx interrupt a blocked ReadFrom: on cancellation it
// moves the read deadline into the past, and set refuses to move it back,
// so a cancellation racing a new deadline is never lost.
type deadlineGuard struct {
	conn     net.PacketConn
	ctx      context.Context
	mu       sync.Mutex
	done     bool // ctx ended: the deadline is in the past for good
	stopped  bool // Discover returned: leave the conn alone
	stopFunc func() bool
}

func newDeadlineGuard(ctx context.Context, conn net.PacketConn) *deadlineGuard {
	d := &deadlineGuard{conn: conn, ctx: ctx}
	d.stopFunc = context.AfterFunc(ctx, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.stopped {
			return
		}
		d.done = true
		_ = conn.SetReadDeadline(time.Unix(1, 0))
	})
	return d
}

func (d *deadlineGuard) set(t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done {
		return d.ctx.Err()
	}
	if ctxDeadline, ok := d.ctx.Deadline(); ok && ctxDeadline.Before(t) {
		t = ctxDeadline
	}
	return d.conn.SetReadDeadline(t)
}

// stop ends the watch on ctx and clears the deadline it may have set.
func (d *deadlineGuard) stop() {
	d.stopFunc()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	_ = d.conn.SetReadDeadline(time.Time{})
}
