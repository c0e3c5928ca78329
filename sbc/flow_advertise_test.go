package sbc

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/stun/v3"

	"github.com/natsbc/natsbc/nat"
	"github.com/natsbc/natsbc/policy"
)

// fakeSTUN answers Binding requests with a fixed "public" address, as a
// STUN server outside a 1:1 NAT would; it counts them and signals each.
func fakeSTUN(t *testing.T, public netip.AddrPort) (netip.AddrPort, *atomic.Int32, <-chan struct{}) {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	each := make(chan struct{}, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFromUDP(buf)
			if err != nil {
				return
			}
			req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if req.Decode() != nil {
				continue
			}
			asked.Add(1)
			select {
			case each <- struct{}{}:
			default:
			}
			res := stun.MustBuild(req, stun.BindingSuccess,
				&stun.XORMappedAddress{IP: public.Addr().AsSlice(), Port: int(public.Port())}, stun.Fingerprint)
			_, _ = pc.WriteToUDP(res.Raw, from)
		}
	}()
	t.Cleanup(func() { _ = pc.Close(); <-done })
	return pc.LocalAddr().(*net.UDPAddr).AddrPort(), &asked, each
}

// natsbc behind a 1:1 NAT learns its public address over STUN before it
// serves, puts it in Via and Contact, and re-learns it when a local
// address changes.
func TestFlowAdvertiseSTUN(t *testing.T) {
	t.Parallel()
	public := netip.MustParseAddrPort("198.51.100.7:40000")
	stunAddr, asked, each := fakeSTUN(t, public)
	pbx := newTestPeer(t, "pbx", pbxIP)
	pol, err := policy.New(policy.Config{Peers: []policy.Peer{{Name: "pbx", Networks: []netip.Prefix{netip.PrefixFrom(pbx.addr().Addr(), 32)}, Address: pbx.addr().String(), Role: policy.RolePBX}}})
	if err != nil {
		t.Fatal(err)
	}
	sipAddr, pc := listenUDP(t, outsideIP)
	var onChange func(nat.AddrEvent)
	srv, err := New(Options{
		Config:    Config{T1: flowT1, T2: flowT2, T4: flowT4},
		Listeners: []Listener{{Spec: ListenSpec{Name: "cloud", Network: "udp", Addr: sipAddr, AdvertiseSTUN: stunAddr.String()}, Packet: pc}},
		Policy:    pol,
		Router:    loopRouter{pbx: pbx.addr().Addr()},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		WatchAddresses: func(_ context.Context, f func(nat.AddrEvent)) (func(), error) {
			onChange = f
			return func() {}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer srv.Close()
	if asked.Load() != 1 {
		t.Fatalf("STUN server asked %d times before serving, want 1", asked.Load())
	}
	<-each

	phone := newTestPeer(t, "phone", phoneIP)
	phone.target = sipAddr
	b := &flowBed{srv: srv, phone: phone, pbx: pbx, outside: sipAddr, inside: sipAddr, log: newLogSink()}
	b.phone.Send(t, b.register(newPhoneReg("cloud"), 3600))
	got := pbx.Expect(t, wait, "REGISTER at the PBX", isRequest(sip.REGISTER)).(*sip.Request)
	if via := got.Via(); via.Host != public.Addr().String() {
		t.Errorf("Via host %s, want the STUN-learned %s", via.Host, public.Addr())
	}
	if c := contactOf(t, got); c.Host != public.Addr().String() || c.Port != int(sipAddr.Port()) {
		t.Errorf("Contact %s, want %s with the socket's port %d", c.String(), public.Addr(), sipAddr.Port())
	}
	if !srv.isOwnAddress(netip.AddrPortFrom(public.Addr(), sipAddr.Port())) {
		t.Error("the learned public address is not recognised as natsbc's own (loops, token Contacts)")
	}

	onChange(nat.AddrEvent{Added: true, Addr: netip.MustParsePrefix("10.9.9.9/24"), LinkName: "eth0"})
	select {
	case <-each:
	case <-time.After(wait):
		t.Errorf("an address event did not trigger a new STUN discovery")
	}
}
