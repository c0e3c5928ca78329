//go:build linux

package natlab

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// TestSTUNOnSIPPort (registration scenario e): a STUN Binding request from
// behind the NAT to natsbc's SIP port 203.0.113.5:5060 is answered with the
// NAT's public mapping of that socket, the address:port conntrack shows on
// the router, and SIP on the same socket is still answered.
func TestSTUNOnSIPPort(t *testing.T) {
	t.Parallel()
	l := NewLab(t)
	n := l.StartNatsbc(t, BaseConfig+registrarPeer)
	conn := l.DialUDP(t, NSLan, EdgeOutIP+":5060")

	mapped, err := stunBinding(conn)
	if err != nil {
		t.Fatalf("STUN Binding to %s:5060: %v", EdgeOutIP, err)
	}
	localPort := conn.LocalAddr().(*net.UDPAddr).Port
	public := natMapping(t, l, localPort, EdgeOutIP, 5060)
	t.Logf("socket %s:%d: STUN mapped %s, conntrack public %s", PhoneIP, localPort, mapped, public)
	if mapped.String() != public {
		t.Errorf("STUN mapped %s, want the NAT's mapping %s", mapped, public)
	}
	n.Log.Await(t, 2*time.Second, "stun binding answered", map[string]string{"mapped": public})
	if !optionsAnswered(t, conn, "sip:"+EdgeOutIP+":5060") {
		t.Errorf("OPTIONS on the socket that sent STUN not answered 200")
	}
	n.AssertNoCrash(t)
}

// stunBinding sends a Binding request on conn and returns the
// XOR-MAPPED-ADDRESS of the success response. RFC 5389 §7.2.1: over UDP
// the request is retransmitted, here after 500 ms, 1 s and 2 s.
func stunBinding(conn *net.UDPConn) (*net.UDPAddr, error) {
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	buf := make([]byte, 1500)
	for wait := 500 * time.Millisecond; wait <= 2*time.Second; wait *= 2 {
		if _, err := conn.Write(req.Raw); err != nil {
			return nil, err
		}
		_ = conn.SetReadDeadline(time.Now().Add(wait))
		for {
			n, err := conn.Read(buf)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			if err != nil {
				return nil, err
			}
			res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if err := res.Decode(); err != nil || res.TransactionID != req.TransactionID {
				continue // not the answer to this request
			}
			if res.Type != stun.BindingSuccess {
				return nil, fmt.Errorf("answered %v", res.Type)
			}
			var xor stun.XORMappedAddress
			if err := xor.GetFrom(res); err != nil {
				return nil, fmt.Errorf("success without XOR-MAPPED-ADDRESS: %w", err)
			}
			return &net.UDPAddr{IP: xor.IP, Port: xor.Port}, nil
		}
	}
	return nil, errors.New("no answer")
}

// natMapping returns the public address:port the lab's NAT gave the phone's
// UDP socket on localPort towards dst:dport, read from conntrack.
func natMapping(t *testing.T, l *Lab, localPort int, dst string, dport int) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", l.NS(NSNAT), "conntrack", "-L", "-p", "udp").CombinedOutput()
	if err != nil {
		t.Fatalf("conntrack in nat namespace: %v\n%s", err, out)
	}
	// udp 17 29 src=PHONE dst=DST sport=L dport=D src=DST dst=PUBLIC sport=D dport=P ...
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, "src="+PhoneIP+" dst="+dst+" sport="+strconv.Itoa(localPort)+" dport="+strconv.Itoa(dport)+" ") {
			continue
		}
		var reply []string
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "dst=") || strings.HasPrefix(f, "dport=") {
				reply = append(reply, f[strings.Index(f, "=")+1:])
			}
		}
		if len(reply) == 4 { // original dst, dport; reply dst, dport
			return net.JoinHostPort(reply[2], reply[3])
		}
	}
	t.Fatalf("no conntrack entry for %s:%d -> %s:%d:\n%s", PhoneIP, localPort, dst, dport, out)
	return ""
}
