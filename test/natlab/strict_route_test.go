//go:build linux

package natlab

import (
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestCallThroughStrictRouter (issue 10): phone → natsbc → Kamailio acting
// as a strict router (Record-Route without ;lr,
// testdata/kamailio-strict-proxy.cfg) → callee. natsbc must send the ACK
// and the BYE to Kamailio with Kamailio's URI as Request-URI and the
// callee's Contact as the last Route (RFC 3261 §12.2.1.1): Kamailio logs
// what it received, and the callee's scenario checks that both came
// through Kamailio. The call holds 40 s like every answered lab call.
func TestCallThroughStrictRouter(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	proxyAddr := ProxyIP + ":5060"
	n := l.StartNatsbc(t, BaseConfig+`peers:
  - name: kam
    networks: [`+ProxyIP+`/32]
    address: `+proxyAddr+`
    role: proxy
routes:
  - from: "*"
    to: kam
`)
	callee := l.StartSipp(t, "callee", calleeAt("callee_via_proxy.xml", CalleeIP))
	kam := l.runKamailio(t, "kamailio-strict", "kamailio-strict-proxy.cfg", ProxyIP, 5060,
		"__CALLEE__", CalleeIP+":"+strconv.Itoa(5060))
	phone := l.StartSipp(t, "phone", phoneCall("phone_call.xml"))

	n.Log.Await(t, 10*time.Second, "call answered", nil)
	assertHeldCall(t, n, phone, callee)
	assertSBCIsRemoteTarget(t, l, "callee", false)

	log, err := os.ReadFile(kam.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	// The strict form: R-URI = the router, Route = the callee's Contact.
	for _, method := range []string{"ACK", "BYE"} {
		re := regexp.MustCompile(`STRICT-IN ` + method + ` ruri=sip:` + regexp.QuoteMeta(proxyAddr) +
			` route=<sip:callee@` + regexp.QuoteMeta(CalleeIP) + `:5060;transport=UDP>`)
		if !re.Match(log) {
			t.Errorf("Kamailio got no strict-routed %s from natsbc (want R-URI sip:%s, Route <callee's Contact>); its log:\n%s",
				method, proxyAddr, log)
		}
	}
	n.AssertNoCrash(t)
}
