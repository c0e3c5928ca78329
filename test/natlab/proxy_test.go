//go:build linux

package natlab

import (
	"strconv"
	"testing"
	"time"
)

// TestCallThroughRecordRoutingProxy (scenario b): phone → natsbc → Kamailio
// (record-routing) → callee. The callee's 2xx reaches natsbc through the
// proxy with a Record-Route, so natsbc must ACK along the route set and
// never "fix" the proxy's or the callee's address: the callee receiving
// the ACK and, after the 40 s hold, the BYE proves it. Two variants: the
// proxy configured as a peer with role proxy, and not configured at all
// (routed to by address). The callee checks that the ACK and BYE carry
// the proxy's Via.
func TestCallThroughRecordRoutingProxy(t *testing.T) {
	t.Parallel()
	proxyAddr := ProxyIP + ":5060"
	for _, c := range []struct{ name, config string }{
		{"configured-proxy", `peers:
  - name: kam
    networks: [` + ProxyIP + `/32]
    address: ` + proxyAddr + `
    role: proxy
routes:
  - from: "*"
    to: kam
`},
		{"unconfigured", `routes:
  - from: "*"
    to: ` + proxyAddr + `
`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := NewLab(t)
			n := l.StartNatsbc(t, BaseConfig+c.config)
			callee := l.StartSipp(t, "callee", calleeAt("callee_via_proxy.xml", CalleeIP))
			l.StartKamailio(t, ProxyIP, 5060, CalleeIP+":"+strconv.Itoa(5060))
			phone := l.StartSipp(t, "phone", phoneCall("phone_call.xml"))

			n.Log.Await(t, 10*time.Second, "call answered", nil)
			assertHeldCall(t, n, phone, callee)
			assertSBCIsRemoteTarget(t, l, "callee", false)
			n.AssertNoCrash(t)
		})
	}
}

// TestCarrierWithUnroutableContact (scenario f): a carrier trunk on the
// inside (nat: always) answers with Contact sip:carrier-user@10.0.0.99:5070
// where nothing listens. The ACK and, after the hold, the BYE must reach
// the carrier's real socket 10.0.0.40:5060 (its scenario receives them)
// with the Contact's user part kept in the request URI (its scenario
// checks "^ACK sip:carrier-user@" and "^BYE sip:carrier-user@").
func TestCarrierWithUnroutableContact(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+`peers:
  - name: carrier
    networks: [`+CarrierIP+`/32]
    address: `+CarrierIP+`:5060
    transport: udp
    role: trunk
    nat: always
routes:
  - from: "*"
    to: carrier
`)
	carrier := l.StartSipp(t, "carrier", calleeAt("carrier.xml", CarrierIP))
	phone := l.StartSipp(t, "phone", phoneCall("phone_call.xml"))

	n.Log.Await(t, 10*time.Second, "call answered", nil)
	assertHeldCall(t, n, phone, carrier)
	assertSBCIsRemoteTarget(t, l, "carrier", true)
	n.AssertNoCrash(t)
}
