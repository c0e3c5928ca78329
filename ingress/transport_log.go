package ingress

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
)

// TransportLog wraps the handler of the logger natsbc gives sipgo's
// transport layer. sipgo logs a stream framing error at ERROR with the
// whole raw read ("failed to parse", data=...): whoever can open a TCP
// connection could fill the disk and forge log lines with it. Here it
// becomes the same rate-limited `malformed message` INFO line a bad
// datagram gets, with a short escaped excerpt. A read that natsbc's own
// guard ended (idle, slow header block, banned source) was already logged
// by GuardedListener, so sipgo's "Read error" for it drops to DEBUG.
// Each turned line counts in errs (nil: not counted).
func TransportLog(next slog.Handler, errs *ParseErrors) slog.Handler {
	if errs == nil {
		errs = &ParseErrors{}
	}
	return &transportLog{next: next, lim: NewLogLimiter(malformedLinesPerSecond), errs: errs}
}

// ParseErrors counts the messages sipgo could not parse, by transport.
type ParseErrors struct{ udp, tcp, tls, ws, wss atomic.Uint64 }

// ParseTransports are the transports ParseErrors counts.
var ParseTransports = []string{"udp", "tcp", "tls", "ws", "wss"}

// UDP and Stream are the counts so far (Stream: every transport but UDP).
func (p *ParseErrors) UDP() uint64 { return p.udp.Load() }
func (p *ParseErrors) Stream() uint64 {
	return p.tcp.Load() + p.tls.Load() + p.ws.Load() + p.wss.Load()
}

// Of is the count of one transport ("udp", "tcp", "tls", "ws", "wss").
func (p *ParseErrors) Of(transport string) uint64 {
	if c := p.counter(transport); c != nil {
		return c.Load()
	}
	return 0
}

func (p *ParseErrors) counter(transport string) *atomic.Uint64 {
	switch transport {
	case "udp":
		return &p.udp
	case "tcp", "":
		return &p.tcp
	case "tls":
		return &p.tls
	case "ws":
		return &p.ws
	case "wss":
		return &p.wss
	}
	return nil
}

// malformedLinesPerSecond bounds the `malformed message` lines of stream
// framing errors.
const malformedLinesPerSecond = 10

type transportLog struct {
	next slog.Handler
	lim  *LogLimiter
	errs *ParseErrors
	// transport is the one sipgo's logger names (caller=Transport<UDP>),
	// lower case; "" when not known.
	transport string
}

func (h *transportLog) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *transportLog) Handle(ctx context.Context, r slog.Record) error {
	switch r.Message {
	case "failed to parse":
		return h.malformed(ctx, r)
	case "Read error", "Got TCP error", "Fail to upgrade":
		// TCP/TLS and WebSocket read ends, refused upgrades.
		if r.Level > slog.LevelDebug && h.guardClosed(r) {
			r = withLevel(r, slog.LevelDebug)
		}
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *transportLog) malformed(ctx context.Context, r slog.Record) error {
	if c := h.errs.counter(h.transport); c != nil {
		c.Add(1)
	}
	ok, heldBack := h.lim.Allow()
	if !ok || !h.next.Enabled(ctx, slog.LevelInfo) {
		return nil
	}
	var reason, data string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "error":
			reason = a.Value.String()
		case "data":
			data = a.Value.String()
		}
		return true
	})
	transport, action := h.transport, "connection closed"
	switch transport {
	case "udp":
		action = "dropped"
	case "":
		transport = "stream"
	}
	attrs := []slog.Attr{slog.String("transport", transport), slog.String("reason", reason),
		slog.String("action", action), slog.Int("size", len(data)), slog.String("excerpt", excerpt([]byte(data)))}
	if heldBack > 0 {
		attrs = append(attrs, slog.Uint64("suppressed", heldBack))
	}
	out := slog.NewRecord(r.Time, slog.LevelInfo, "malformed message", r.PC)
	out.AddAttrs(attrs...)
	return h.next.Handle(ctx, out)
}

// guardClosed reports whether a read error is one of GuardedListener's.
func (h *transportLog) guardClosed(r slog.Record) bool {
	closed := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "error" {
			if err, ok := a.Value.Any().(error); ok {
				closed = isGuardClose(err)
			}
		}
		return true
	})
	return closed
}

// withLevel copies r at another level.
func withLevel(r slog.Record, level slog.Level) slog.Record {
	out := slog.NewRecord(r.Time, level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool { out.AddAttrs(a); return true })
	return out
}

func (h *transportLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	transport := h.transport
	for _, a := range attrs {
		v := a.Value.String()
		if a.Key == "caller" && strings.HasPrefix(v, "Transport<") && strings.HasSuffix(v, ">") {
			transport = strings.ToLower(v[len("Transport<") : len(v)-1])
		}
	}
	return &transportLog{next: h.next.WithAttrs(attrs), lim: h.lim, errs: h.errs, transport: transport}
}

func (h *transportLog) WithGroup(name string) slog.Handler {
	return &transportLog{next: h.next.WithGroup(name), lim: h.lim, errs: h.errs, transport: h.transport}
}
