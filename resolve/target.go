package resolve

import (
	"context"
	"net/netip"
	"time"
)

// Query is what a SIP URI says about where to send a request (RFC 3263 §4).
type Query struct {
	Host string
	// Port 0: the URI had none (SRV is used for a host name).
	Port int
	// Transport is the URI's transport= parameter ("udp", "tcp", "tls"); "" lets
	// NAPTR choose.
	Transport string
}

// Target is one place to send the request. Targets come in the order RFC
// 3263 §4.3 says to try them: the next is tried after a timeout or a 503.
type Target struct {
	Transport string // "udp", "tcp" or "tls"
	Addr      netip.AddrPort
	// Host is the name the address came from (the SRV target or the
	// queried host), for logs.
	Host string
}

// NAPTR is one NAPTR record (RFC 3403 §4.1); only the fields RFC 3263 uses.
type NAPTR struct {
	Order, Preference uint16
	Flags, Service    string
	Replacement       string
}

// SRV is one SRV record (RFC 2782).
type SRV struct {
	Priority, Weight, Port uint16
	Target                 string
}

// DNS answers the three queries RFC 3263 needs. ttl is how long the answer
// (also an empty one) may be cached; a name that does not exist is an empty
// answer, not an error. An error means the server could not be asked.
type DNS interface {
	NAPTR(ctx context.Context, name string) (recs []NAPTR, ttl time.Duration, err error)
	SRV(ctx context.Context, name string) (recs []SRV, ttl time.Duration, err error)
	IP(ctx context.Context, name string) (addrs []netip.Addr, ttl time.Duration, err error)
}
