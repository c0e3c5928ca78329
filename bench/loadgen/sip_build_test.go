package loadgen

import (
	"slices"
	"strings"
	"testing"
)

func TestRequestBuildParsesBackWithMandatoryHeaders(t *testing.T) {
	body := "v=0\r\n"
	r := request{method: "BYE", ruri: "sip:bench@127.0.0.20:5080", via: via("127.0.0.10:5062", "x1"),
		from: "<sip:a@h>;tag=1", to: "<sip:b@h>;tag=2", callID: "c1", cseq: 2,
		routes: []string{"<sip:10.0.0.1;lr>", "<sip:10.0.0.2;lr>"}, body: body}
	raw := r.build()
	m, err := parseSIP(raw)
	if err != nil {
		t.Fatalf("parseSIP: %v\n%s", err, raw)
	}
	if m.method != "BYE" || m.cseq != 2 || m.cseqMethod != "BYE" || string(m.body) != body {
		t.Fatalf("round trip lost something: %+v", m)
	}
	text := string(raw)
	for _, h := range []string{"Max-Forwards: 70\r\n", "Route: <sip:10.0.0.1;lr>\r\nRoute: <sip:10.0.0.2;lr>\r\n",
		"Content-Length: 5\r\n", "Via: SIP/2.0/UDP 127.0.0.10:5062;branch=z9hG4bKx1;rport\r\n"} {
		if !strings.Contains(text, h) {
			t.Errorf("missing %q in\n%s", h, text)
		}
	}
}

func TestResponseCopiesDialogHeaders(t *testing.T) {
	req, err := parseSIP(crlf(`INVITE sip:bench-1@127.0.0.20:5080 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2
Via: SIP/2.0/UDP 127.0.0.10:5062;branch=z9hG4bK1
Record-Route: <sip:10.0.0.1;lr>
Record-Route: <sip:10.0.0.2;lr>
From: <sip:a@h>;tag=1
To: <sip:bench-1@127.0.0.20:5080>
Call-ID: c
CSeq: 1 INVITE
Content-Length: 0

`))
	if err != nil {
		t.Fatal(err)
	}
	ok, err := parseSIP(response(req, 200, "OK", "t9", "sip:bench@127.0.0.20:5080", "v=0\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ok.vias, req.vias) || !slices.Equal(ok.recordRoute, req.recordRoute) {
		t.Errorf("Via %q / Record-Route %q not copied in order", ok.vias, ok.recordRoute)
	}
	if tagOf(ok.to) != "t9" || ok.contact != "sip:bench@127.0.0.20:5080" || ok.cseqMethod != "INVITE" {
		t.Errorf("To tag %q, Contact %q, CSeq %q", tagOf(ok.to), ok.contact, ok.cseqMethod)
	}
	trying, _ := parseSIP(response(req, 100, "Trying", "t9", "sip:x@h", ""))
	if tagOf(trying.to) != "" || trying.contact != "" || len(trying.recordRoute) != 0 {
		t.Errorf("100 Trying must carry no tag, Contact or Record-Route: %+v", trying)
	}
}

func TestRouteSetNext(t *testing.T) {
	// RFC 3261 §12.1.2: the caller reverses the 2xx's Record-Route.
	resp := &sipMessage{contact: "sip:bench@127.0.0.20:5080",
		recordRoute: []string{"<sip:10.0.0.2;lr>", "<sip:10.0.0.1;lr>"}}
	ruri, routes, hop := uacRouteSet(resp).next()
	if ruri != "sip:bench@127.0.0.20:5080" || hop != "sip:10.0.0.1;lr" ||
		!slices.Equal(routes, []string{"<sip:10.0.0.1;lr>", "<sip:10.0.0.2;lr>"}) {
		t.Errorf("loose: ruri %q routes %q hop %q", ruri, routes, hop)
	}

	// §12.2.1.1: a strict router first becomes the Request-URI and the
	// remote target goes last.
	strict := routeSet{target: "sip:bench@h", routes: []string{"<sip:10.0.0.1>", "<sip:10.0.0.2;lr>"}}
	ruri, routes, hop = strict.next()
	if ruri != "sip:10.0.0.1" || hop != "sip:10.0.0.1" ||
		!slices.Equal(routes, []string{"<sip:10.0.0.2;lr>", "<sip:bench@h>"}) {
		t.Errorf("strict: ruri %q routes %q hop %q", ruri, routes, hop)
	}

	ruri, routes, hop = routeSet{target: "sip:bench@h:1"}.next()
	if ruri != "sip:bench@h:1" || hop != ruri || routes != nil {
		t.Errorf("no route: ruri %q routes %q hop %q", ruri, routes, hop)
	}
}
