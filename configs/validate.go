package configs

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/natsbc/natsbc/hep"
	"github.com/natsbc/natsbc/policy"
)

// Limits on values that would make natsbc misbehave rather than fail.
const (
	minMessageSize = 1024    // a plain INVITE with SDP needs about 1 KiB
	maxMessageSize = 1 << 20 // RFC 3261 has no limit; memory has
	maxTimer       = time.Minute
	minTimerC      = time.Second
	maxTimerC      = 2 * time.Hour
)

var (
	logLevels     = []string{"debug", "info", "warn", "error"}
	logFormats    = []string{"text", "json"}
	listenNetwork = []string{"udp", "tcp", "both", "tls", "ws", "wss"}
)

// Validate reports every problem of c at once (nil when there is none),
// each an *Error placed where the value was written.
func (c *Config) Validate() error {
	return c.problems(true).err()
}

// checker turns a path into an Error at the position of that value (or of
// the nearest enclosing value written in the file).
type checker struct {
	c    *Config
	errs problems
}

func (k *checker) fail(path, format string, args ...any) {
	e := &Error{File: k.c.file, Path: path, Msg: fmt.Sprintf(format, args...), key: path}
	for p := path; ; p = parentPath(p) {
		if pos, ok := k.c.pos[p]; ok {
			e.Line, e.Column, e.Flag = pos.line, pos.col, pos.flag
			break
		}
		if p == "" {
			break
		}
	}
	k.errs.add(e)
}

// parentPath: "peers[1].role" → "peers[1]" → "peers" → "".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func (k *checker) oneOf(path, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		k.fail(path, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

// problems checks every value; with crossCheck, a config that passes is
// also built into a policy.Policy as a safety net.
func (c *Config) problems(crossCheck bool) problems {
	if c.pos == nil {
		c.pos = make(map[string]position)
	}
	k := &checker{c: c}
	k.oneOf("log.level", c.Log.Level, logLevels)
	k.oneOf("log.format", c.Log.Format, logFormats)
	k.checkSIP(&c.SIP)
	k.checkSessionTimer(&c.SIP)
	if c.Shutdown.DrainTimeout < 0 {
		k.fail("shutdown.drain_timeout", "%v is negative", c.Shutdown.DrainTimeout)
	}
	if c.Limits.MaxCalls < 0 {
		k.fail("limits.max_calls", "%d is negative (0 means no limit)", c.Limits.MaxCalls)
	}
	if c.Limits.MaxCallsPerSource < 0 {
		k.fail("limits.max_calls_per_source", "%d is negative (0 means no limit)", c.Limits.MaxCallsPerSource)
	}
	if c.Limits.MaxRelayPairsPerSource < 0 {
		k.fail("limits.max_relay_pairs_per_source", "%d is negative (0 means no limit)", c.Limits.MaxRelayPairsPerSource)
	}
	if c.Limits.MaxTransactions < 0 {
		k.fail("limits.max_transactions", "%d is negative (0 means no limit)", c.Limits.MaxTransactions)
	}
	k.checkRegistrations(&c.Registrations)
	k.checkKeepalive(&c.Keepalive)
	k.checkNAT(&c.NAT)
	k.checkMedia(&c.Relay)
	k.checkSecurity(&c.Security)
	if p := c.CDR.Path; p != "" && p != "-" && (!filepath.IsAbs(p) || strings.HasSuffix(p, "/")) {
		k.fail("cdr.path", "%q is not an absolute path to a file (\"-\" is standard output, \"\" keeps no records)", p)
	}
	if n := c.Diagnosis.KeepCalls; n < 0 || n > 100000 {
		k.fail("diagnosis.keep_calls", "%d is not between 0 (off) and 100000", n)
	}
	if a := c.HEP.Address; a != "" {
		if _, _, err := hep.ParseAddress(a); err != nil {
			k.fail("hep.address", "%v", err)
		}
	}
	k.checkAdmin(&c.Admin)
	k.checkListen(c.Sockets)
	k.checkPeers(c.Peers)
	k.checkPeersTLS(c)
	k.checkRoutes(c.Routes, c.Peers)
	if crossCheck && len(k.errs) == 0 {
		// Safety net: whatever policy.New refuses must not pass here.
		if _, err := policy.New(c.Policy()); err != nil {
			k.fail("", "%v", err)
		}
	}
	return k.errs
}

func (k *checker) checkSIP(s *SIPConfig) {
	for _, t := range []struct {
		key string
		v   time.Duration
	}{{"t1", s.T1}, {"t2", s.T2}, {"t4", s.T4}} {
		if t.v <= 0 || t.v > maxTimer {
			k.fail("sip."+t.key, "%v must be more than 0 and at most %v", t.v, maxTimer)
		}
	}
	// RFC 3261 §17.1.2.2: retransmissions double from T1 up to T2.
	if s.T1 > 0 && s.T2 > 0 && s.T1 >= s.T2 {
		k.fail("sip.t2", "%v must be longer than sip.t1 (%v)", s.T2, s.T1)
	}
	// RFC 3261 §16.6 item 11 wants Timer C above 3 minutes; shorter
	// values are allowed for tests and for operators who want ringing cut.
	if s.TimerC < minTimerC || s.TimerC > maxTimerC {
		k.fail("sip.timer_c", "%v is not in %v..%v", s.TimerC, minTimerC, maxTimerC)
	}
	if s.MaxMessageSize < minMessageSize || s.MaxMessageSize > maxMessageSize {
		k.fail("sip.max_message_size", "%d is not in %d..%d", s.MaxMessageSize, minMessageSize, maxMessageSize)
	}
	// The user agent goes into a header: line breaks would inject headers.
	if strings.ContainsFunc(s.UserAgent, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		k.fail("sip.user_agent", "%q contains control characters", s.UserAgent)
	}
}

func (k *checker) checkListen(ls []ListenEntry) {
	if len(ls) == 0 {
		k.fail("listen", "at least one socket is required")
		return
	}
	names := make(map[string]int)
	for i, l := range ls {
		p := fmt.Sprintf("listen[%d]", i)
		switch {
		case l.Name == "":
			k.fail(p+".name", "a name is required")
		case strings.ContainsAny(l.Name, "= \t"):
			k.fail(p+".name", "%q may not contain '=' or spaces", l.Name)
		default:
			if j, dup := names[l.Name]; dup {
				k.fail(p+".name", "%q is already the name of listen[%d]", l.Name, j)
			}
			names[l.Name] = i
		}
		a := l.Address.Addr()
		switch {
		case !l.Address.IsValid():
			k.fail(p+".address", "an IP:PORT is required")
		case l.Address.Port() == 0:
			k.fail(p+".address", "port 0 is not allowed: peers need a known port")
		case a.IsMulticast():
			k.fail(p+".address", "%s is a multicast address", a)
		}
		if l.Transport != "" {
			k.oneOf(p+".transport", l.Transport, listenNetwork)
		}
		k.checkListenTLS(p, l)
		k.securityMode(p+".srtp", l.SRTP)
		switch {
		case l.Advertise.IsValid() && l.AdvertiseSTUN != "":
			k.fail(p+".advertise", "give an IP or a stun: server, not both")
		case l.Advertise.IsValid() && (l.Advertise.IsUnspecified() || l.Advertise.IsMulticast()):
			k.fail(p+".advertise", "%s cannot be reached: give the public IP of this socket", l.Advertise)
		case l.AdvertiseSTUN != "":
			if _, err := parseSTUNServer(l.AdvertiseSTUN); err != nil {
				k.fail(p+".advertise", "stun:%s: %v", l.AdvertiseSTUN, err)
			}
		}
		for j := range i {
			if clash(ls[j], l) {
				k.fail(p+".address", "%s overlaps listen[%d] (%s) on the same port and transport", l.Address, j, ls[j].Address)
			}
		}
	}
}

// clash reports whether two sockets cannot both be bound: same port and
// transport, and the same IP or a wildcard covering the other (on Linux
// [::] also takes IPv4).
func clash(a, b ListenEntry) bool {
	if !a.Address.IsValid() || !b.Address.IsValid() || a.Address.Port() != b.Address.Port() {
		return false
	}
	// TLS and WebSocket sockets are TCP sockets: they clash with TCP ones.
	if !slices.ContainsFunc(a.sockets(), func(n string) bool { return slices.Contains(b.sockets(), n) }) {
		return false
	}
	x, y := a.Address.Addr().Unmap(), b.Address.Addr().Unmap()
	covers := func(w, o netip.Addr) bool {
		return w.IsUnspecified() && (w.Is6() || o.Is4())
	}
	return x == y || covers(x, y) || covers(y, x)
}

// networks lists the transports the entry serves: "udp", "tcp", "tls",
// "ws", "wss" ("both" is UDP and TCP).
func (l ListenEntry) networks() []string {
	switch l.Transport {
	case "udp", "tcp", "tls", "ws", "wss":
		return []string{l.Transport}
	case "", "both":
		return []string{"udp", "tcp"}
	}
	return nil
}

// sockets lists the kernel sockets the entry binds: "udp" and/or "tcp".
func (l ListenEntry) sockets() []string {
	var out []string
	for _, n := range l.networks() {
		if s := socketOf(n); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// socketOf is the kernel socket of a transport: TLS and WebSocket run on TCP.
func socketOf(network string) string {
	if network == "udp" {
		return "udp"
	}
	return "tcp"
}
