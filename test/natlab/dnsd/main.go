// Command dnsd is the NAT lab's DNS server: it answers from a zone given as
// resource record lines (RFC 1035 master file syntax, one record a line)
// and logs every question on stderr ("QUERY NAPTR pbx.lab."), so a test
// can see which look-ups natsbc made. A name with no record of the asked
// type gets an empty answer with the zone's SOA (negative TTL 5 s); an
// unknown name gets NXDOMAIN.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/miekg/dns"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:53", "UDP address to serve on")
	zone := flag.String("zone", "", "file of resource records, one a line")
	flag.Parse()
	rrs, err := readZone(*zone)
	if err != nil {
		log.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	soa, _ := dns.NewRR(". 5 IN SOA ns.lab. admin.lab. 1 60 60 60 5")
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		if len(q.Question) != 1 {
			m.Rcode = dns.RcodeFormatError
			_ = w.WriteMsg(m)
			return
		}
		question := q.Question[0]
		fmt.Fprintf(os.Stderr, "QUERY %s %s\n", dns.TypeToString[question.Qtype], question.Name)
		known := false
		for _, rr := range rrs {
			if strings.EqualFold(rr.Header().Name, question.Name) {
				known = true
				if rr.Header().Rrtype == question.Qtype {
					m.Answer = append(m.Answer, rr)
				}
			}
		}
		if len(m.Answer) == 0 {
			m.Ns = []dns.RR{soa}
			if !known {
				m.Rcode = dns.RcodeNameError
			}
		}
		_ = w.WriteMsg(m)
	})}
	fmt.Fprintf(os.Stderr, "dnsd serving %s with %d records\n", *listen, len(rrs))
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		_ = srv.Shutdown()
	}()
	if err := srv.ActivateAndServe(); err != nil {
		log.Fatal(err)
	}
}

func readZone(path string) ([]dns.RR, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rrs []dns.RR
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", line, err)
		}
		rrs = append(rrs, rr)
	}
	return rrs, sc.Err()
}
