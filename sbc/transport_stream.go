package sbc

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/ingress"
	"github.com/natsbc/natsbc/policy"
)

// Over TLS and WebSocket the connection is the flow (RFC 5626 §3; RFC 5923
// §3 for TLS; RFC 7118 §5 for WebSocket, whose clients have no address of
// their own: "sip:abc@df7jal23ls0d.invalid;transport=ws"). Every request
// natsbc sends to a leg or a binding that came over one goes on that
// connection, to its remote address in sipgo's pool, never on a new
// connection to the Contact or Record-Route (sipgo #361). natsbc opens TLS
// connections itself, and only to peers configured transport: tls; it
// never opens a WebSocket.
//
// Why natsbc dials TLS itself rather than through sipgo: sipgo's dial takes
// one tls.Config for every peer and sets its ServerName to the host of the
// request's destination, so a peer's own server_name (SNI and the name
// checked) cannot reach it; and while the client certificate could be
// picked per dial (CertificateRequestInfo.Context is the context given to
// TransactionRequest), the server is verified before that callback runs,
// in VerifyConnection, which gets no context. So natsbc builds each
// peer's tls.Config, dials, and hands the connection to sipgo through a
// listener sipgo serves (handoff), where sipgo pools it like an accepted
// one.

var (
	// errFlowGone: the connection a request must go on is closed.
	errFlowGone = errors.New("the connection of this flow is closed")
	// errNotTLSPeer: natsbc opens TLS only to configured tls peers.
	errNotTLSPeer = errors.New("no connection, and natsbc opens TLS only to peers with transport: tls")
)

// flowBound reports whether transport's connections are the flow.
func flowBound(transport string) bool {
	switch strings.ToUpper(transport) {
	case "TLS", "WS", "WSS":
		return true
	}
	return false
}

// isWebSocket reports whether network is ws or wss.
func isWebSocket(network string) bool {
	n := strings.ToLower(network)
	return n == "ws" || n == "wss"
}

// streamConnection makes sure a request over TLS or WebSocket has its
// connection in sipgo's pool: the flow's, or for a tls peer one natsbc
// opens now.
func (s *Server) streamConnection(ctx context.Context, req *sip.Request) error {
	network := lower(req.Transport())
	if !flowBound(network) {
		return nil
	}
	dst := req.Destination()
	if s.hasConnection(network, dst) {
		return nil
	}
	if network != "tls" {
		return fmt.Errorf("%w: %s %s", errFlowGone, network, dst)
	}
	if to := s.tlsListenerOf(dst); to != dst {
		// The peer's connection (its client port) is gone: natsbc opens
		// one to where the peer listens, never to that port.
		req.SetDestination(to)
		if s.hasConnection(network, to) {
			return nil
		}
		dst = to
	}
	return s.dialTLS(ctx, dst)
}

// tlsListenerOf is where the tls peer that dst belongs to listens, when its
// address is an IP with a port and dst is another port of that IP (the
// client port of a connection the peer opened); else dst.
func (s *Server) tlsListenerOf(dst string) string {
	ap := parseAddrPort(dst)
	peer := s.policy.Classify(ap.Addr())
	if !ap.IsValid() || peer.Transport != "tls" {
		return dst
	}
	host, port, err := policy.SplitPeerAddress(peer.Address)
	ip, perr := netip.ParseAddr(host)
	if err != nil || perr != nil || port == 0 || ip.Unmap() != ap.Addr().Unmap() {
		return dst
	}
	return netip.AddrPortFrom(ip, uint16(port)).String()
}

// hasConnection reports whether sipgo's pool of network holds a connection
// to addr.
func (s *Server) hasConnection(network, addr string) bool {
	pool := s.ua.TransportLayer().Pool(network)
	if pool == nil {
		return false
	}
	c := pool.Get(addr)
	if c == nil {
		return false
	}
	_, _ = c.TryClose() // Get took a reference
	return true
}

// dialTLS opens a TLS connection to dst, a tls peer's address, with that
// peer's CA, name and client certificate, and hands it to sipgo. One dial
// per destination at a time: concurrent requests wait for it.
func (s *Server) dialTLS(ctx context.Context, dst string) error {
	ap := parseAddrPort(dst)
	peer := s.policy.Classify(ap.Addr())
	if !ap.IsValid() || peer.Transport != "tls" {
		return fmt.Errorf("%w (%s)", errNotTLSPeer, dst)
	}
	if s.handoff == nil {
		return errors.New("natsbc has no TLS socket")
	}
	return s.tlsDials.do(dst, func() error {
		if s.hasConnection("tls", dst) {
			return nil // opened while this one waited
		}
		host, _, err := policy.SplitPeerAddress(peer.Address)
		if err != nil || host == "" {
			host = ap.Addr().String()
		}
		cfg, err := s.certs.ClientConfig(s.conf().PeerTLS[peer.Name], host)
		if err != nil {
			s.log.Warn("TLS connection to peer not opened", "peer", peer.Name, "to", dst, "error", err)
			return err
		}
		dctx, cancel := context.WithTimeout(ctx, max(64*s.conf().T1, time.Second))
		defer cancel()
		var d net.Dialer
		raw, err := d.DialContext(dctx, "tcp", dst)
		if err != nil {
			s.log.Warn("TLS connection to peer failed", "peer", peer.Name, "to", dst, "error", err)
			return err
		}
		withCert := cfg.GetClientCertificate != nil
		asked := watchCertificateRequest(cfg)
		conn := tls.Client(raw, cfg)
		started := time.Now()
		err = conn.HandshakeContext(dctx)
		var opened net.Conn = conn
		if err == nil && asked.Load() {
			opened, err = serverVerdict(conn, time.Since(started))
		}
		if err != nil {
			_ = raw.Close()
			s.log.Warn("TLS connection to peer failed", "peer", peer.Name, "to", dst, "server_name", cfg.ServerName,
				"client_certificate", withCert, "certificate_requested", asked.Load(), "error", err)
			return fmt.Errorf("TLS handshake with %s: %w", dst, err)
		}
		s.log.Info("TLS connection to peer opened", "peer", peer.Name, "to", dst, "local", raw.LocalAddr().String(),
			"server_name", cfg.ServerName, "version", tls.VersionName(conn.ConnectionState().Version),
			"client_certificate", withCert && asked.Load())
		return s.handoff.give(dctx, opened)
	})
}

// watchCertificateRequest notes whether the server asks for a client
// certificate (mutual TLS) during cfg's handshake.
func watchCertificateRequest(cfg *tls.Config) *atomic.Bool {
	asked := new(atomic.Bool)
	give := cfg.GetClientCertificate
	cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		asked.Store(true)
		if give == nil {
			return &tls.Certificate{}, nil // none: the server decides
		}
		return give(cri)
	}
	return asked
}

// serverVerdict waits a moment for the server's verdict on natsbc's client
// certificate. In TLS 1.3 the client's handshake ends before the server
// has checked the certificate (RFC 8446 §4.4.2): a refusal comes as an
// alert after it, which natsbc would otherwise meet only when the INVITE
// it sent is lost. The wait is the handshake's own duration (about two
// round trips), 20 ms to 1 s; what the server sends meanwhile is kept.
func serverVerdict(conn *tls.Conn, handshake time.Duration) (net.Conn, error) {
	if conn.ConnectionState().Version < tls.VersionTLS13 {
		return conn, nil // TLS 1.2: the server's Finished came after its check
	}
	wait := min(max(handshake, 20*time.Millisecond), time.Second)
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	_ = conn.SetReadDeadline(time.Time{})
	var ne net.Error
	switch {
	case n > 0:
		return &prefixedConn{Conn: conn, prefix: buf[:n]}, nil
	case errors.As(err, &ne) && ne.Timeout():
		return conn, nil // no alert: the certificate was taken
	case err == nil:
		return conn, nil
	}
	return nil, fmt.Errorf("the peer refused natsbc's client certificate: %w", err)
}

// prefixedConn gives back what serverVerdict read before the connection's
// own bytes.
type prefixedConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixedConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// dialGroup runs one dial per destination; callers for the same one wait
// for it and get its result.
type dialGroup struct {
	mu sync.Mutex
	m  map[string]*dialCall
}

type dialCall struct {
	done chan struct{}
	err  error
}

func (g *dialGroup) do(key string, f func() error) error {
	g.mu.Lock()
	if c, ok := g.m[key]; ok {
		g.mu.Unlock()
		<-c.done
		return c.err
	}
	if g.m == nil {
		g.m = map[string]*dialCall{}
	}
	c := &dialCall{done: make(chan struct{})}
	g.m[key] = c
	g.mu.Unlock()
	c.err = f()
	g.mu.Lock()
	delete(g.m, key)
	g.mu.Unlock()
	close(c.done)
	return c.err
}

// handoff is a net.Listener whose Accept returns the TLS connections
// natsbc opened itself. sipgo's ServeTLS serves it like the TLS socket: it
// pools each connection under its remote address and reads it, so requests
// to that address and the peer's requests on it work as on an accepted one.
type handoff struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newHandoff(addr net.Addr) *handoff {
	return &handoff{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (h *handoff) Accept() (net.Conn, error) {
	select {
	case c := <-h.conns:
		return c, nil
	case <-h.closed:
		return nil, net.ErrClosed
	}
}

func (h *handoff) Close() error {
	h.once.Do(func() { close(h.closed) })
	return nil
}

func (h *handoff) Addr() net.Addr { return h.addr }

// give hands c to sipgo and returns once sipgo reads it: sipgo pools a
// connection before its first read.
func (h *handoff) give(ctx context.Context, c net.Conn) error {
	fr := &firstRead{Conn: c, reading: make(chan struct{})}
	select {
	case h.conns <- fr:
	case <-h.closed:
		_ = c.Close()
		return net.ErrClosed
	case <-ctx.Done():
		_ = c.Close()
		return ctx.Err()
	}
	select {
	case <-fr.reading:
		return nil
	case <-h.closed:
		return net.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// firstRead tells when its connection is first read.
type firstRead struct {
	net.Conn
	once    sync.Once
	reading chan struct{}
}

func (c *firstRead) Read(b []byte) (int, error) {
	c.once.Do(func() { close(c.reading) })
	return c.Conn.Read(b)
}

// WebSocket defaults when the ListenSpec leaves them zero (configs sets
// them; tests need not).
const (
	defaultWSPing = 30 * time.Second
	defaultWSIdle = 120 * time.Second
)

// streamLimits are the guard's bounds for one stream socket. A WebSocket
// carries masked frames, not header blocks: once upgraded it is timed by
// its idle timeout alone, which natsbc's pings keep from a live peer; its
// upgrade request, like a TLS handshake, is bounded like a header block.
func (s *Server) streamLimits(tcp ingress.TCPConfig, spec ListenSpec) ingress.TCPConfig {
	if isWebSocket(spec.Network) {
		tcp.UpgradeTimeout = cmp.Or(tcp.HeaderTimeout, 10*time.Second)
		tcp.HeaderTimeout = 0
		tcp.IdleTimeout = cmp.Or(spec.IdleTimeout, defaultWSIdle)
	}
	if tcp.HandshakeTimeout == 0 {
		tcp.HandshakeTimeout = cmp.Or(tcp.HeaderTimeout, 10*time.Second)
	}
	return tcp
}
