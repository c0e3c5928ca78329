package resolve

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testServer is a DNS server on loopback answering from zone records.
func testServer(t *testing.T, records ...string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var rrs []dns.RR
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			t.Fatalf("%q: %v", r, err)
		}
		rrs = append(rrs, rr)
	}
	soa, _ := dns.NewRR("example.com. 300 IN SOA ns.example.com. admin.example.com. 1 60 60 60 45")
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		name := q.Question[0].Name
		exists := false
		for _, rr := range rrs {
			if rr.Header().Name == name {
				exists = true
				if rr.Header().Rrtype == q.Question[0].Qtype {
					m.Answer = append(m.Answer, rr)
				}
			}
		}
		if len(m.Answer) == 0 {
			m.Ns = []dns.RR{soa}
			if !exists {
				m.Rcode = dns.RcodeNameError
			}
		}
		_ = w.WriteMsg(m)
	})
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestClientAgainstADNSServer(t *testing.T) {
	addr := testServer(t,
		`example.com. 60 IN NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.example.com.`,
		`example.com. 60 IN NAPTR 20 10 "s" "SIP+D2T" "" _sip._tcp.example.com.`,
		"_sip._udp.example.com. 120 IN SRV 10 0 5070 a.example.com.",
		"_sip._tcp.example.com. 120 IN SRV 10 0 5080 a.example.com.",
		"a.example.com. 30 IN A 192.0.2.1",
		"a.example.com. 40 IN AAAA 2001:db8::1",
	)
	c, err := NewClient([]string{addr})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := New(c, Options{}).Locate(ctx, Query{Host: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := "udp:192.0.2.1:5070 udp:[2001:db8::1]:5070 tcp:192.0.2.1:5080 tcp:[2001:db8::1]:5080"
	if targets(got) != want {
		t.Errorf("got  %s\nwant %s", targets(got), want)
	}

	// TTLs: the lowest of the answer; the SOA's for an empty one.
	if _, ttl, _ := c.IP(ctx, "a.example.com"); ttl != 30*time.Second {
		t.Errorf("IP ttl %v, want 30s", ttl)
	}
	if recs, ttl, err := c.NAPTR(ctx, "a.example.com"); err != nil || len(recs) != 0 || ttl != 45*time.Second {
		t.Errorf("no NAPTR: %v %v %v, want none for 45s (SOA minimum)", recs, ttl, err)
	}
	if recs, ttl, err := c.SRV(ctx, "_sip._udp.nowhere.example.com"); err != nil || len(recs) != 0 || ttl != 45*time.Second {
		t.Errorf("NXDOMAIN: %v %v %v, want an empty answer", recs, ttl, err)
	}
}

func TestClientReportsAServerThatDoesNotAnswer(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // never reads
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, _ := NewClient([]string{pc.LocalAddr().String()})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, _, err := c.NAPTR(ctx, "example.com"); err == nil {
		t.Error("no error from a silent server")
	}
}
