package configs

import (
	"encoding/hex"
	"path/filepath"
	"strings"
	"time"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/sbc"
)

// Bounds of the registration, keepalive, NAT and media knobs: outside them
// natsbc would still run, but phones would lose their pinholes, calls their
// media, or the host its CPU.
const (
	minNATExpires   = 10 * time.Second // shorter floods the PBX side with refreshes
	maxNATExpires   = time.Hour        // longer keeps a vanished phone reachable in name
	minTokenSecret  = 16               // bytes: 128-bit key for the Contact tokens
	minKeepalive    = 100 * time.Millisecond
	maxKeepalive    = 10 * time.Minute
	maxMissedLimit  = 100
	minSTUNRefresh  = time.Second
	maxSTUNRefresh  = 24 * time.Hour
	minPort         = 1024 // below are privileged and well-known services
	maxPort         = 65535
	minPortPairs    = 2
	maxMediaDrain   = 10 * time.Minute
	minMediaTimeout = time.Second
	maxMediaTimeout = 24 * time.Hour
	maxLatchWindow  = 10 * time.Minute
)

var keepaliveMethods = []string{sbc.KeepaliveOptions, sbc.KeepaliveCRLF}

// between fails path unless lo <= v <= hi.
func (k *checker) between(path string, v, lo, hi time.Duration) {
	if v < lo || v > hi {
		k.fail(path, "%v must be at least %v and at most %v", v, lo, hi)
	}
}

// positive fails path unless 0 < v <= hi (a zero would silently mean the
// package default).
func (k *checker) positive(path string, v, hi time.Duration) {
	if v <= 0 || v > hi {
		k.fail(path, "%v must be more than 0 and at most %v", v, hi)
	}
}

func (k *checker) checkRegistrations(r *RegistrationsConfig) {
	k.between("registrations.nat_expires", r.NATExpires, minNATExpires, maxNATExpires)
	if r.MaxPerSource < 0 {
		k.fail("registrations.max_per_source", "%d is negative (0 means no limit)", r.MaxPerSource)
	}
	if r.MaxInFlightPerSource < 0 {
		k.fail("registrations.max_in_flight_per_source", "%d is negative (0 means no limit)", r.MaxInFlightPerSource)
	}
	// natsbc may be started from any directory: a relative path would be
	// a different file each time.
	if r.StateFile != "" && (!filepath.IsAbs(r.StateFile) || strings.HasSuffix(r.StateFile, "/")) {
		k.fail("registrations.state_file", "%q is not an absolute path to a file (\"\" keeps registrations in memory only)", r.StateFile)
	}
	if r.TokenSecret == "" {
		return
	}
	// The secret's value is never echoed: error output ends up in logs.
	key, err := hex.DecodeString(r.TokenSecret)
	switch {
	case err != nil:
		k.fail("registrations.token_secret", "the secret is not hex (write %d or more bytes as 0-9a-f, e.g. from `openssl rand -hex 32`)", minTokenSecret)
	case len(key) < minTokenSecret:
		k.fail("registrations.token_secret", "the secret is %d bytes; at least %d are needed", len(key), minTokenSecret)
	}
}

func (k *checker) checkKeepalive(ka *KeepaliveConfig) {
	k.oneOf("keepalive.method", ka.Method, keepaliveMethods)
	k.between("keepalive.interval", ka.Interval, minKeepalive, maxKeepalive)
	if ka.MaxMissed < 1 || ka.MaxMissed > maxMissedLimit {
		k.fail("keepalive.max_missed", "%d is not in 1..%d", ka.MaxMissed, maxMissedLimit)
	}
}

func (k *checker) checkNAT(n *NATConfig) {
	k.between("nat.stun_refresh", n.STUNRefresh, minSTUNRefresh, maxSTUNRefresh)
}

// checkMedia checks the relay settings even when anchoring is off, so
// turning it on later cannot surface an old mistake at the worst moment.
func (k *checker) checkMedia(m *MediaConfig) {
	k.checkPorts(m.PortMin, m.PortMax)
	switch a := m.ListenIP; {
	case !a.IsValid():
		k.fail("media.listen_ip", "an IP address is required (0.0.0.0 for all)")
	case a.IsMulticast():
		k.fail("media.listen_ip", "%s is a multicast address", a)
	}
	k.positive("media.drain", m.Drain, maxMediaDrain)
	k.between("media.timeout", m.Timeout, minMediaTimeout, maxMediaTimeout)
	// On hold phones often send nothing: a shorter limit there would end
	// held calls before active ones.
	if m.Timeout >= minMediaTimeout && m.HoldTimeout < m.Timeout {
		k.fail("media.hold_timeout", "%v must not be shorter than media.timeout (%v)", m.HoldTimeout, m.Timeout)
	} else {
		k.between("media.hold_timeout", m.HoldTimeout, minMediaTimeout, maxMediaTimeout)
	}
	k.positive("media.latch_window", m.LatchWindow, maxLatchWindow)
	if m.Latching != "" {
		k.oneOf("media.latching", m.Latching, endpointLatchModes)
	}
	k.securityMode("media.srtp", m.SRTP)
	if m.MaxStreams < 1 || m.MaxStreams > media.MaxStreamsBound {
		k.fail("media.max_streams", "%d is out of range 1-%d", m.MaxStreams, media.MaxStreamsBound)
	}
}

// checkPorts: RFC 3550 §11 puts RTP on an even port and RTCP on the odd
// one above, so the range starts even and is counted in pairs.
func (k *checker) checkPorts(lo, hi int) {
	const path = "media.ports"
	switch {
	case lo > hi:
		k.fail(path, "%d-%d runs backwards: write the lower port first", lo, hi)
	case lo < minPort || hi > maxPort:
		k.fail(path, "%d-%d is not within %d-%d", lo, hi, minPort, maxPort)
	case lo%2 != 0:
		k.fail(path, "%d-%d starts at an odd port: RTP takes the even port of each pair (RFC 3550 §11)", lo, hi)
	case (hi-lo+1)/2 < minPortPairs:
		k.fail(path, "%d-%d holds %d port pair(s); at least %d are needed", lo, hi, (hi-lo+1)/2, minPortPairs)
	}
}
