//go:build linux

package media

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRelayLoad measures the relay's CPU per relayed packet on loopback:
// MEDIA_LOAD calls (G.711, 50 packets/s each way) through a RelayAnchor,
// once with a goroutine per relay socket and once through the packet
// engine, between baselines of the same generator sending phone to PBX
// directly, all in one process. The relay's cost is the process CPU
// (getrusage) of a relayed run minus what the generator spends on as many
// packets in the baselines on either side. MEDIA_LOAD_ROUNDS repeats the
// relayed runs (the figures of a shared machine wander; the medians are
// printed), MEDIA_LOAD_MODE=engine|goroutines runs one mode only (to
// profile it), MEDIA_LOAD_SECONDS is each run's window (default 5).
// Skipped unless MEDIA_LOAD is set, e.g.
//
//	MEDIA_LOAD=1000 MEDIA_LOAD_SECONDS=3 MEDIA_LOAD_ROUNDS=3 go test -run TestRelayLoad -v ./media/
func TestRelayLoad(t *testing.T) {
	calls, _ := strconv.Atoi(os.Getenv("MEDIA_LOAD"))
	if calls <= 0 {
		t.Skip("set MEDIA_LOAD=<calls> to run the relay load test")
	}
	secs, _ := strconv.Atoi(os.Getenv("MEDIA_LOAD_SECONDS"))
	if secs <= 0 {
		secs = 5
	}
	window := time.Duration(secs) * time.Second
	gen := newLoadGen(t)
	phones, pbxs := gen.ends[0], gen.ends[1]

	// The same calls twice: through the packet engine, and with a
	// goroutine per socket (sockets the engine does not take).
	engA, engB := loadCalls(t, gen, calls, 50000, listenUDP)
	gorA, gorB := loadCalls(t, gen, calls, 50000+4*calls+400, func(network string, laddr netip.AddrPort) (net.PacketConn, error) {
		c, err := listenUDP(network, laddr)
		if err != nil {
			return nil, err
		}
		return plainUDPConn{c.(*net.UDPConn)}, nil
	})

	direct := func() {
		phones.dest = repeatAddr(pbxs.addr, calls)
		pbxs.dest = repeatAddr(phones.addr, calls)
	}
	rounds, _ := strconv.Atoi(os.Getenv("MEDIA_LOAD_ROUNDS"))
	modes := []struct {
		name     string
		from, to []netip.AddrPort
	}{{"goroutines", gorA, gorB}, {"engine", engA, engB}}
	if only := os.Getenv("MEDIA_LOAD_MODE"); only != "" { // e.g. to profile one mode
		modes = slices.DeleteFunc(modes, func(m struct {
			name     string
			from, to []netip.AddrPort
		}) bool {
			return m.name != only
		})
	}
	// baseline, then per round each relay mode and a baseline again: each
	// relayed run is judged against the baselines on either side of it.
	prev := loadRun(t, gen, "baseline", window, direct)
	results := map[string][]float64{}
	for range max(rounds, 1) {
		var relayed []loadResult
		for _, m := range modes {
			relayed = append(relayed, loadRun(t, gen, m.name, window, func() { phones.dest, pbxs.dest = m.from, m.to }))
		}
		next := loadRun(t, gen, "baseline", window, direct)
		// The generator's CPU per packet it sends and receives.
		genPerPkt := (prev.cpu + next.cpu) / (prev.pps + next.pps)
		for _, r := range relayed {
			pct := 100 * (r.cpu - r.pps*genPerPkt) / (r.pps / 10000)
			results[r.name] = append(results[r.name], pct)
			t.Logf("%-10s %.2f× the baseline's CPU per packet; %.2f%% of one core per 10,000 packets/s relayed (%d calls, %.0f packets/s relayed)",
				r.name, r.cpu/r.pps/genPerPkt, pct, calls, r.pps)
		}
		prev = next
	}
	for _, m := range modes {
		t.Logf("%-10s median %.2f%% of one core per 10,000 packets/s over %d rounds", m.name, median(results[m.name]), len(results[m.name]))
	}
}

// loadResult is one run: process CPU-seconds and packets that arrived
// (both ways) per second of window, as measured: a busy machine may slow
// the generator, and a relay that falls behind relays fewer than were sent.
type loadResult struct {
	name     string
	cpu, pps float64
}

func loadRun(t *testing.T, gen *loadGen, name string, window time.Duration, setup func()) loadResult {
	setup()
	r := loadResult{name: name}
	var before time.Duration
	var overflows uint64
	gen.run(time.Second, window, func(start bool) {
		if start {
			before = processCPU(t)
			overflows = udpRcvbufErrors()
		} else {
			r.cpu = (processCPU(t) - before).Seconds() / window.Seconds()
			overflows = udpRcvbufErrors() - overflows
		}
	})
	var lat latencyHist
	var sent, recv, arrived int64
	for _, e := range gen.ends {
		lat.merge(&e.latency)
		sent += e.sent
		recv += e.received
		arrived += e.arrived
	}
	r.pps = float64(arrived) / window.Seconds()
	t.Logf("%-10s %7.0f pkt/s each way sent, %7.0f arrived, loss %.3f%%, latency p50 %v p99 %v, CPU %.1f%% of a core, "+
		"generator max lag %v/%v, socket buffer overflows %d (whole host)",
		name, float64(sent)/2/window.Seconds(), r.pps/2, 100*float64(sent-recv)/float64(max(sent, 1)),
		lat.quantile(0.5), lat.quantile(0.99), 100*r.cpu, gen.ends[0].maxLag, gen.ends[1].maxLag, overflows)
	return r
}

// udpRcvbufErrors counts datagrams the host dropped because a socket's
// receive buffer was full (/proc/net/snmp; 0 when it cannot be read).
func udpRcvbufErrors() uint64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		if i := slices.Index(names, "RcvbufErrors"); i > 0 && i < len(f) {
			n, _ := strconv.ParseUint(f[i], 10, 64)
			return n
		}
	}
	return 0
}

// memNow is the heap and stack in use, after a GC, and the goroutines.
func memNow() (heap, stack uint64, goroutines int) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// plainUDPConn hides *net.UDPConn from the engine: the relay serves it
// with a goroutine per socket, as it does injected sockets.
type plainUDPConn struct{ *net.UDPConn }

// loadCalls sets up calls between gen's phones and PBXs through a relay
// of its own and returns the relay ports each side sends to.
func loadCalls(t *testing.T, gen *loadGen, calls, portMin int,
	listen func(string, netip.AddrPort) (net.PacketConn, error)) (relayA, relayB []netip.AddrPort) {
	phones, pbxs := gen.ends[0], gen.ends[1]
	a, err := NewRelayAnchor(Config{PortMin: portMin, PortMax: portMin + 4*calls + 399, Listen: listen, Logger: discardLogger(),
		LatchWindow: time.Hour}) // the calls are set up long before some runs
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	relayA = make([]netip.AddrPort, calls)
	relayB = make([]netip.AddrPort, calls)
	facing := netip.MustParseAddr("127.0.0.1")
	heap0, stack0, g0 := memNow()
	defer func() {
		heap1, stack1, g1 := memNow()
		t.Logf("relay with %d calls: per call %.1f KiB heap, %.1f KiB goroutine stacks, %.1f goroutines",
			calls, float64(heap1-heap0)/1024/float64(calls), float64(stack1-stack0)/1024/float64(calls), float64(g1-g0)/float64(calls))
	}()
	for i := range calls {
		s, err := a.NewSession(fmt.Sprint("load-", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		s.SetPeer(LegA, PeerInfo{SignalSource: phones.addr, NATed: true})
		s.SetPeer(LegB, PeerInfo{SignalSource: pbxs.addr})
		for _, step := range []struct {
			from Leg
			peer netip.AddrPort
			to   *netip.AddrPort
		}{{LegA, phones.addr, &relayB[i]}, {LegB, pbxs.addr, &relayA[i]}} {
			out, err := s.Rewrite(step.from, "application/sdp", []byte(sdpFor(step.peer)), facing)
			if err != nil {
				t.Fatal(err)
			}
			st, err := ParseStreams(out)
			if err != nil {
				t.Fatal(err)
			}
			*step.to = netip.AddrPortFrom(facing, uint16(st[0].Port))
		}
		s.Answered()
	}
	return relayA, relayB
}

func repeatAddr(a netip.AddrPort, n int) []netip.AddrPort {
	s := make([]netip.AddrPort, n)
	for i := range s {
		s[i] = a
	}
	return s
}

// processCPU is the user+system time this process has used.
func processCPU(tb testing.TB) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
