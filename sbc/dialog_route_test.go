package sbc

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/media"
	"github.com/natsbc/natsbc/policy"
)

func mustParse(t *testing.T, raw string) sip.Message {
	t.Helper()
	raw = strings.ReplaceAll(strings.TrimLeft(raw, "\n"), "\n", "\r\n")
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	return msg
}

func testPolicy(t *testing.T, peers ...policy.Peer) *policy.Policy {
	t.Helper()
	p, err := policy.New(policy.Config{Peers: peers, Routes: []policy.Route{{From: "*", To: "10.0.0.10:5060"}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const ok2xx = `
SIP/2.0 200 OK
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK.abc;rport
%RR%From: <sip:alice@example.org>;tag=ours
To: <sip:bob@example.org>;tag=theirs
Call-ID: b-leg-call
CSeq: 1 INVITE
Contact: <%CONTACT%>
Content-Length: 0

`

func twoHundred(t *testing.T, contact, recordRoute string) *sip.Response {
	raw := strings.Replace(ok2xx, "%CONTACT%", contact, 1)
	rr := ""
	if recordRoute != "" {
		rr = "Record-Route: " + recordRoute + "\n"
	}
	raw = strings.Replace(raw, "%RR%", rr, 1)
	return mustParse(t, raw).(*sip.Response)
}

// TestLearnRouteFromB2xx is the heart of the project: where natsbc's ACK
// (and every later request) to the callee goes, for each kind of 2xx.
func TestLearnRouteFromB2xx(t *testing.T) {
	proxy := policy.Peer{Name: "kamailio", Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.20/32")}, Role: policy.RoleProxy, NAT: policy.NATAuto}
	carrier := policy.Peer{Name: "carrier", Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.40/32")}, Role: policy.RoleTrunk, NAT: policy.NATAlways}
	stubborn := policy.Peer{Name: "lab-phone", Networks: []netip.Prefix{netip.MustParsePrefix("203.0.113.9/32")}, Role: policy.RoleEndpoint, NAT: policy.NATNever}
	tests := []struct {
		name        string
		peer        policy.Peer
		source      string
		contact     string
		recordRoute string
		wantHop     string
		wantTarget  string
		wantFixed   bool
	}{
		{
			name: "NATed callee straight to us: its flow", source: "203.0.113.1:40123",
			contact: "sip:bob@192.168.1.10:5060", wantHop: "203.0.113.1:40123",
			wantTarget: "sip:bob@203.0.113.1:40123", wantFixed: true,
		},
		{
			name: "unknown proxy that record-routes: route set, Contact kept", source: "10.0.0.20:5060",
			contact: "sip:bob@192.168.1.10:5060", recordRoute: "<sip:10.0.0.20;lr>",
			wantHop: "10.0.0.20:5060", wantTarget: "sip:bob@192.168.1.10:5060",
		},
		{
			name: "configured proxy without Record-Route: Contact kept (excessive NAT handling)", peer: proxy,
			source: "10.0.0.20:5060", contact: "sip:bob@192.168.1.10:5060",
			wantHop: "192.168.1.10:5060", wantTarget: "sip:bob@192.168.1.10:5060",
		},
		{
			name: "carrier nat: always: Contact host:port replaced, user kept", peer: carrier,
			source: "10.0.0.40:5060", contact: "sip:carrier-user@10.0.0.99:5070",
			wantHop: "10.0.0.40:5060", wantTarget: "sip:carrier-user@10.0.0.40:5060", wantFixed: true,
		},
		{
			name: "nat: never end-point: Contact kept whatever the checks say", peer: stubborn,
			source: "203.0.113.9:40000", contact: "sip:bob@192.168.1.10:5060",
			wantHop: "192.168.1.10:5060", wantTarget: "sip:bob@192.168.1.10:5060",
		},
		{
			name: "public end-point, not NATed: Contact used", source: "198.51.100.7:5060",
			contact: "sip:bob@198.51.100.7:5060", wantHop: "198.51.100.7:5060", wantTarget: "sip:bob@198.51.100.7:5060",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peers := []policy.Peer{}
			if tt.peer.Known() {
				peers = append(peers, tt.peer)
			}
			s := &Server{policy: newLivePolicy(testPolicy(t, peers...)), ops: newOpsCounters()}
			src := netip.MustParseAddrPort(tt.source)
			l := &leg{side: media.LegB, transport: "UDP", peer: s.policy.Classify(src.Addr())}
			s.learnRoute(l, twoHundred(t, tt.contact, tt.recordRoute), src, true)
			if l.nextHop != tt.wantHop {
				t.Errorf("next hop = %s, want %s (rule %q)", l.nextHop, tt.wantHop, l.route.Rule)
			}
			if got := l.remoteTarget.String(); got != tt.wantTarget {
				t.Errorf("remote target = %s, want %s", got, tt.wantTarget)
			}
			if l.route.Fixed != tt.wantFixed {
				t.Errorf("fixed = %v, want %v (rule %q)", l.route.Fixed, tt.wantFixed, l.route.Rule)
			}
			if l.route.Rule == "" || l.route.Contact == "" || l.route.Source != tt.source {
				t.Errorf("route choice not recorded for the diagnosis: %+v", l.route)
			}
		})
	}
}

// TestRouteSetIsFixedAtDialogStart: a target refresh moves the remote
// target, never the route set (RFC 3261 §12.2).
func TestRouteSetIsFixedAtDialogStart(t *testing.T) {
	s := &Server{policy: newLivePolicy(testPolicy(t)), ops: newOpsCounters()}
	src := netip.MustParseAddrPort("10.0.0.20:5060")
	l := &leg{side: media.LegB, transport: "UDP", peer: s.policy.Classify(src.Addr())}
	s.learnRoute(l, twoHundred(t, "sip:bob@10.0.0.30:5060", "<sip:10.0.0.20;lr>, <sip:10.0.0.21;lr>"), src, true)
	if len(l.routeSet) != 2 || l.routeSet[0].Host != "10.0.0.21" {
		t.Fatalf("UAC route set must be the reversed Record-Route, got %v", l.routeSet)
	}
	s.learnRoute(l, twoHundred(t, "sip:bob@10.0.0.31:5060", "<sip:10.0.0.99;lr>"), src, true)
	if len(l.routeSet) != 2 || l.routeSet[0].Host != "10.0.0.21" {
		t.Errorf("route set changed by a refresh: %v", l.routeSet)
	}
	if l.remoteTarget.Host != "10.0.0.31" {
		t.Errorf("remote target not refreshed: %s", l.remoteTarget.String())
	}
}
