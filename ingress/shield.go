package ingress

import (
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// ShieldConfig is what the shield lets in and how long it remembers.
type ShieldConfig struct {
	// Deny and Allow apply before anything else: a denied source is
	// dropped; with a non-empty Allow, only those sources get in.
	Deny, Allow []netip.Prefix
	// Peer says whether a source is a configured peer (a PBX, a carrier):
	// peers pass every endpoint rule, and only PeerRate limits them.
	Peer func(netip.Addr) bool
	// Rate and Burst are the per-source token bucket on requests (per
	// second, bucket size); 0 Rate: no limit. PeerRate and PeerBurst are
	// the same for peers (0: peers unlimited).
	Rate, PeerRate   float64
	Burst, PeerBurst int
	// BanAfter requests dropped over the limit in one excess (before the
	// source lets its bucket fill again) ban the source for
	// BanTime (0 BanAfter: never banned for rate).
	BanAfter int
	BanTime  time.Duration
	// Scanners are User-Agent fragments (any case): a request carrying one
	// is dropped silently and its source banned.
	Scanners []string
	// AuthFailures challenges of requests that carried credentials, from
	// one source within AuthWindow and without a success between, ban it
	// (fail2ban's maxretry and findtime; 0: never).
	AuthFailures int
	AuthWindow   time.Duration
	// UnprovenCredit is how many bytes natsbc may send a UDP source beyond
	// those it received from it, until the source has proven it receives
	// what is sent to its address (unproven.go; 0: no bound).
	UnprovenCredit int
	// MaxSources bounds the sources remembered (buckets and bans); when
	// full, the one seen least recently is forgotten (0: 65536).
	MaxSources int
	Logger     *slog.Logger
	// Now is the clock (tests: a synctest bubble's); nil: time.Now.
	Now func() time.Time
}

// DefaultScanners are the User-Agents of the SIP scanners seen on the
// internet (SIPVicious and its descendants, sipcli, the Nmap NSE scripts).
var DefaultScanners = []string{"friendly-scanner", "sipvicious", "sipcli", "vaxsipuseragent", "iwar",
	"sip-scan", "sipsak", "sundayddr", "nmap nse", "smap", "sipscan", "pplsip", "scannersip"}

// Endpoints says which sources that are not peers may use one socket:
// any (the zero value), or when Restricted only those in Nets (none when
// empty).
type Endpoints struct {
	Restricted bool
	Nets       []netip.Prefix
}

// Verdict is what the shield does with a datagram or request.
type Verdict int

const (
	Pass       Verdict = iota
	Drop               // silently: nothing for a scanner to map
	Answer503          // once, when a source first goes over its rate
	DropBanned         // the source is banned
)

// Shield is the state the guards of every socket share: per-source
// buckets and bans. It is safe for concurrent use.
type Shield struct {
	cfg ShieldConfig
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	sources map[netip.Addr]*sourceState
	proofs  *proofs

	dropACL, dropRate, dropBanned, dropScanner, answered503, bans, unbans, authFailures atomic.Uint64
	unprovenDropped                                                                     atomic.Uint64
	// bansEnd is when the last ban given ends (Unix ns): before it no
	// source can be banned, and the check needs no lock.
	bansEnd atomic.Int64
}

type sourceState struct {
	tokens   float64
	last     time.Time // of the last refill, and of the last datagram
	over     int       // requests dropped over the rate since the bucket was last full
	told     bool      // got its 503 for this excess
	banUntil time.Time
	recent   [8]string // Via branches + method of its last requests
	next     int
	// authFailed failures since authSince, the first of them.
	authFailed int
	authSince  time.Time
	// credit is what natsbc may still send it while it is not proven, as
	// of creditAt.
	credit   float64
	creditAt time.Time
}

// NewShield builds the shared state.
func NewShield(cfg ShieldConfig) *Shield {
	if cfg.MaxSources <= 0 {
		cfg.MaxSources = 65536
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	lower := make([]string, len(cfg.Scanners))
	for i, s := range cfg.Scanners {
		lower[i] = strings.ToLower(s)
	}
	cfg.Scanners = lower
	return &Shield{cfg: cfg, log: log, now: now, sources: map[netip.Addr]*sourceState{}, proofs: newProofs(now())}
}

// Admit is the check of a new source (a TCP connection at accept): the
// deny and allow lists, a live ban, and which sources may use this socket.
func (s *Shield) Admit(src netip.Addr, ep Endpoints) Verdict { return s.admit(src, ep, 0) }

// AdmitDatagram is Admit for a UDP datagram of size bytes, before it is
// parsed; what it brings counts towards what natsbc may send its source
// while the source is unproven (unproven.go).
func (s *Shield) AdmitDatagram(src netip.Addr, ep Endpoints, size int) Verdict {
	return s.admit(src, ep, size)
}

func (s *Shield) admit(src netip.Addr, ep Endpoints, size int) Verdict {
	src = src.Unmap()
	if inAny(s.cfg.Deny, src) || len(s.cfg.Allow) > 0 && !inAny(s.cfg.Allow, src) {
		s.dropACL.Add(1)
		return Drop
	}
	if s.heard(src, size) {
		s.dropBanned.Add(1)
		return DropBanned
	}
	if s.isPeer(src) || !ep.Restricted || inAny(ep.Nets, src) {
		return Pass
	}
	s.dropACL.Add(1)
	return Drop
}

// RequestOf is Request for a parsed request: its User-Agent and the branch
// of its top Via. UDP requests meet it in GuardedPacketConn, stream
// requests in the B2BUA's handlers (sipgo frames them).
func (s *Shield) RequestOf(src netip.Addr, req *sip.Request) Verdict {
	ua, branch := "", ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	if v := req.Via(); v != nil {
		branch, _ = v.Params.Get("branch")
	}
	return s.Request(src, ua, branch, string(req.Method))
}

// Request is the check of a parsed request: a scanner's User-Agent bans
// its source; a new request (not a retransmission: same Via branch and
// method as one of the source's last few) takes a token of its bucket.
func (s *Shield) Request(src netip.Addr, userAgent, branch, method string) Verdict {
	src = src.Unmap()
	if ua := strings.ToLower(userAgent); ua != "" {
		for _, frag := range s.cfg.Scanners {
			if strings.Contains(ua, frag) {
				s.dropScanner.Add(1)
				s.ban(src, "scanner", userAgent)
				return DropBanned
			}
		}
	}
	peer := s.isPeer(src)
	rate, burst := s.cfg.Rate, s.cfg.Burst
	if peer {
		rate, burst = s.cfg.PeerRate, s.cfg.PeerBurst
	}
	if rate <= 0 {
		return Pass
	}
	now := s.now()
	s.mu.Lock()
	st := s.stateLocked(src, now, float64(burst))
	key := method + " " + branch
	if branch != "" && slices.Contains(st.recent[:], key) {
		s.mu.Unlock()
		return Pass // RFC 3261 §17.2: a retransmission is not a new request
	}
	st.recent[st.next%len(st.recent)] = key
	st.next++
	st.tokens = min(float64(burst), st.tokens+now.Sub(st.last).Seconds()*rate)
	st.last = now
	if st.tokens >= float64(burst) {
		// An excess ends when the source kept under its rate long enough
		// to refill the bucket; a request let through by a trickle of
		// refilled tokens does not end it (a flood at 100 times the rate
		// gets a token every 1/rate s and must still be banned).
		st.over, st.told = 0, false
	}
	if st.tokens >= 1 {
		st.tokens--
		s.mu.Unlock()
		return Pass
	}
	st.over++
	banNow := !peer && s.cfg.BanAfter > 0 && st.over >= s.cfg.BanAfter
	first := !st.told
	st.told = true
	s.mu.Unlock()
	s.dropRate.Add(1)
	switch {
	case banNow:
		s.ban(src, "rate", "")
		return DropBanned
	case first:
		s.answered503.Add(1)
		return Answer503
	}
	return Drop
}

// stateLocked is src's state, made (with a full bucket) when new; the
// table is bounded by forgetting the source seen least recently.
func (s *Shield) stateLocked(src netip.Addr, now time.Time, burst float64) *sourceState {
	if st, ok := s.sources[src]; ok {
		return st
	}
	if len(s.sources) >= s.cfg.MaxSources {
		s.evictLocked(now)
	}
	st := &sourceState{tokens: burst, last: now, credit: float64(s.cfg.UnprovenCredit), creditAt: now}
	s.sources[src] = st
	return st
}

// evictSample is how many entries an eviction compares; it looks further,
// up to evictScan, while all it saw were bans.
const (
	evictSample = 8
	evictScan   = 256
)

// evictLocked makes room for one source: of a few entries (Go's map
// iteration starts at a random one), the least recently heard that is not
// banned goes. A sample, not a scan: a flood of new forged sources keeps
// the table full, and a scan of 64 Ki entries per datagram under the lock
// would be the flood's win.
func (s *Shield) evictLocked(now time.Time) {
	var oldest, any netip.Addr
	var at time.Time
	n := 0
	for a, st := range s.sources {
		if !any.IsValid() {
			any = a
		}
		n++
		if oldest.IsValid() && n > evictSample || n > evictScan {
			break
		}
		if st.banUntil.After(now) {
			continue // a ban is kept while room can be made elsewhere
		}
		if seen := st.seen(); !oldest.IsValid() || seen.Before(at) {
			oldest, at = a, seen
		}
	}
	if !oldest.IsValid() {
		oldest = any
	}
	delete(s.sources, oldest)
}

// seen is when the source was last heard from or sent to.
func (st *sourceState) seen() time.Time {
	if st.creditAt.After(st.last) {
		return st.creditAt
	}
	return st.last
}

// AuthFailed records that the PBX challenged (401/407) a request from src
// that carried credentials: a wrong password. Only natsbc knows the real
// source (the PBX sees natsbc's address), so natsbc does what fail2ban
// would: AuthFailures of them within AuthWindow, without a success, ban
// src for BanTime. Peers are never banned for it.
func (s *Shield) AuthFailed(src netip.Addr) {
	src = src.Unmap()
	if s.cfg.AuthFailures <= 0 || s.isPeer(src) {
		return
	}
	now := s.now()
	s.mu.Lock()
	st := s.stateLocked(src, now, float64(s.cfg.Burst))
	if st.authFailed == 0 || now.Sub(st.authSince) > s.cfg.AuthWindow {
		st.authFailed, st.authSince = 0, now
	}
	st.authFailed++
	banNow := st.authFailed >= s.cfg.AuthFailures
	if banNow {
		st.authFailed = 0
	}
	s.mu.Unlock()
	s.authFailures.Add(1)
	if banNow {
		s.ban(src, "authentication failures", "")
	}
}

// AuthSucceeded records a success of src at the PBX (a 2xx to a request
// with credentials): its failures so far are forgiven.
func (s *Shield) AuthSucceeded(src netip.Addr) {
	src = src.Unmap()
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.sources[src]; ok {
		st.authFailed = 0
	}
}

func (s *Shield) ban(src netip.Addr, why, detail string) {
	now := s.now()
	s.mu.Lock()
	st := s.stateLocked(src, now, float64(s.cfg.Burst))
	already := st.banUntil.After(now)
	st.banUntil = now.Add(s.cfg.BanTime)
	if end := st.banUntil.UnixNano(); end > s.bansEnd.Load() {
		s.bansEnd.Store(end) // under s.mu: no lost update
	}
	st.over, st.told = 0, false
	s.mu.Unlock()
	if !already {
		s.bans.Add(1)
		s.log.Warn("source banned", "src", src.String(), "why", why, "user_agent", detail, "for", s.cfg.BanTime.String())
	}
}

// DropsBanned reports (and counts as a drop) whether src is banned: for
// requests of a stream connection that was accepted before its ban.
func (s *Shield) DropsBanned(src netip.Addr) bool {
	if !s.banned(src.Unmap()) {
		return false
	}
	s.dropBanned.Add(1)
	return true
}

func (s *Shield) banned(src netip.Addr) bool {
	if s.now().UnixNano() >= s.bansEnd.Load() {
		return false // no ban can be live: no lock for every TCP read
	}
	s.mu.Lock()
	st, ok := s.sources[src]
	if !ok {
		s.mu.Unlock()
		return false
	}
	banned, expired := s.banStateLocked(st)
	s.mu.Unlock()
	if expired {
		s.logBanExpired(src)
	}
	return banned
}

// banStateLocked reports whether st's ban holds now; a ban whose time is
// up is cleared and counted (expired: the caller logs it, unlocked).
func (s *Shield) banStateLocked(st *sourceState) (banned, expired bool) {
	if st.banUntil.IsZero() {
		return false, false
	}
	if s.now().Before(st.banUntil) {
		return true, false
	}
	st.banUntil = time.Time{}
	s.unbans.Add(1)
	return false, true
}

func (s *Shield) logBanExpired(src netip.Addr) {
	s.log.Info("source unbanned", "src", src.String(), "why", "ban expired")
}

func (s *Shield) isPeer(src netip.Addr) bool { return s.cfg.Peer != nil && s.cfg.Peer(src) }

// Ban is one banned source.
type Ban struct {
	Source netip.Addr `json:"source"`
	Until  time.Time  `json:"until"`
}

// Bans lists the live bans.
func (s *Shield) Bans() []Ban {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ban
	for a, st := range s.sources {
		if st.banUntil.After(now) {
			out = append(out, Ban{a, st.banUntil})
		}
	}
	slices.SortFunc(out, func(x, y Ban) int { return x.Source.Compare(y.Source) })
	return out
}

// Lift ends src's ban; false when it had none.
func (s *Shield) Lift(src netip.Addr) bool {
	src = src.Unmap()
	now := s.now()
	s.mu.Lock()
	st, ok := s.sources[src]
	lifted := ok && st.banUntil.After(now)
	if lifted {
		st.banUntil = time.Time{}
	}
	s.mu.Unlock()
	if lifted {
		s.unbans.Add(1)
		s.log.Info("source unbanned", "src", src.String(), "why", "lifted on the admin endpoint")
	}
	return lifted
}

// ShieldStats counts what the shield refused, by reason.
type ShieldStats struct {
	DroppedACL, DroppedRate, DroppedBanned, DroppedScanner, Answered503, Bans, Unbans uint64
	// AuthFailures counts the PBX's challenges of requests with credentials.
	AuthFailures uint64
	// UnprovenDropped counts datagrams natsbc did not send to a source that
	// had not proven it receives them, over its credit.
	UnprovenDropped uint64
}

// Stats returns the counters so far.
func (s *Shield) Stats() ShieldStats {
	return ShieldStats{DroppedACL: s.dropACL.Load(), DroppedRate: s.dropRate.Load(), DroppedBanned: s.dropBanned.Load(),
		DroppedScanner: s.dropScanner.Load(), Answered503: s.answered503.Load(), Bans: s.bans.Load(), Unbans: s.unbans.Load(),
		AuthFailures: s.authFailures.Load(), UnprovenDropped: s.unprovenDropped.Load()}
}

func inAny(nets []netip.Prefix, a netip.Addr) bool {
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}
