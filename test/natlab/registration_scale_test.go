//go:build linux

package natlab

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestThousandRegisteredPhones (registration scenario f): 1,000 distinct
// phones behind the NAT, one sipp run, each on its own socket and so its
// own NAT mapping, register through natsbc and refresh at half the granted
// 60 s for 2 minutes while natsbc pings each every 15 s. Every phone gets a
// binding at natsbc and at the registrar, none is dropped while the phones
// run, and a sample of 10 calls spread over them, placed a minute in (after
// the NAT would have forgotten unrefreshed mappings), is answered. natsbc's
// memory per binding is its live heap after a forced GC (natsbc built
// without the race detector, which multiplies memory); its RSS, which
// moves with the GC's pacing and the machine's load, is logged and held
// only to a bound that a leak would cross.
func TestThousandRegisteredPhones(t *testing.T) {
	t.Parallel()
	const (
		phones  = 1000
		run     = 2 * time.Minute
		samples = 10
		// Live heap a binding may cost, keepalive and refresh transactions
		// in flight included: 7.6 KB measured here (a keepalive every 15 s
		// and a refresh every 30 s, each a transaction alive 64×T1); the
		// benchmark measures 1.9 KB idle and 4.6 KB while its REGISTER
		// transactions live (README, Performance).
		heapPerPhone = 16 << 10
		// RSS a binding may cost, generous: 21-34 KiB measured once keepalive
		// and refresh transactions churn, Go's GC headroom and the load of
		// the other scenarios included. A leak of a binding's transactions
		// would cross it.
		rssPerPhone = 64 << 10
	)
	l := NewLab(t)
	reg := l.StartKamailioRegistrar(t, PBXIP, 5060, RegistrarOptions{})
	// Without the race detector: it multiplies memory (and CPU) several
	// times over; the other scenarios run natsbc with it.
	// All 1000 phones are behind one NAT address: above the default
	// registrations.max_per_source (100), max_in_flight_per_source (20)
	// and security.rate (20/s), as for a large office.
	n := l.StartNatsbcPlain(t, BaseConfig+"admin:\n  listen: "+adminAddr+"\n"+registrarPeer+
		"registrations:\n  max_per_source: 0\n  max_in_flight_per_source: 0\nsecurity:\n  rate: 0\n")
	rssBefore, heapBefore := rssBytes(t, n), liveHeapBytes(t, l)
	many := l.StartSipp(t, "phones", Sipp{Scenario: "phones_register_loop.xml", OOC: "phone_answers.xml",
		NS: NSLan, IP: PhoneIP, Port: 5060, Remote: EdgeOutIP + ":5060",
		Calls: phones, Rate: 100, PerCallSocket: true, Hold: time.Second, Timeout: run + time.Minute, NoMessageTrace: true,
		Args: []string{"-set", "run_ms", strconv.Itoa(int(run / time.Millisecond))}})

	registered := map[string]bool{}
	if _, ok := n.Log.WaitFunc(time.Minute, func(e LogEntry) bool {
		if e.Msg() == "binding registered" {
			registered[aorUser(e.Str("aor"))] = true
		}
		return len(registered) == phones
	}); !ok {
		t.Fatalf("natsbc registered %d distinct phones within a minute, want %d", len(registered), phones)
	}
	allAt := time.Now()
	if !poll(10*time.Second, func() bool { return reg.AoRCount(t) == phones }) {
		t.Errorf("registrar holds %d AoRs, want %d", reg.AoRCount(t), phones)
	}
	rssRegistered := rssBytes(t, n)

	// A minute in: every phone refreshed once and was pinged four times.
	// RSS every 10 s on the way shows whether it settles or keeps growing.
	rss := []int{rssBefore, rssRegistered}
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	minute := time.After(time.Until(allAt.Add(time.Minute)))
	for waiting := true; waiting; {
		select {
		case <-many.Done():
			t.Fatalf("the phones ended early: %v", many.Wait(0))
		case <-tick.C:
			rss = append(rss, rssBytes(t, n))
		case <-minute:
			waiting = false
		}
	}
	rssSettled, heapSettled := rssBytes(t, n), liveHeapBytes(t, l)
	rss = append(rss, rssSettled)
	var callers []*Proc
	for i := range samples {
		user := fmt.Sprintf("phone%d", 1+i*phones/samples+i)
		callers = append(callers, l.StartSipp(t, "caller-"+user, callerOf(user, 5070+i, 3*time.Second)))
	}
	for _, c := range callers {
		MustSucceed(t, c, 30*time.Second)
	}
	MustSucceed(t, many, run)

	perBinding := (rssSettled - rssBefore) / phones
	heapPerBinding := (heapSettled - heapBefore) / phones
	kib := make([]string, len(rss))
	for i, v := range rss {
		kib[i] = strconv.Itoa(v >> 10)
	}
	t.Logf("natsbc RSS (KiB): before %s, with %d bindings %s, then every 10 s %s: %d bytes per binding; live heap %d KiB before, %d KiB settled: %d bytes per binding",
		kib[0], phones, kib[1], strings.Join(kib[2:], " "), perBinding, heapBefore>>10, heapSettled>>10, heapPerBinding)
	if heapPerBinding > heapPerPhone {
		t.Errorf("%d bytes of live heap per binding, want at most %d", heapPerBinding, heapPerPhone)
	}
	if perBinding > rssPerPhone {
		t.Errorf("%d bytes of RSS per binding, want at most %d", perBinding, rssPerPhone)
	}
	// A single unanswered ping is allowed (natsbc retransmits and a later
	// one counts); three in a row drop the binding, checked below.
	t.Logf("keepalive unanswered: %d times", len(n.Log.Find("keepalive unanswered", nil)))
	for _, e := range n.Log.Find("binding removed", nil) {
		if e.At.Before(many.ExitedAt()) {
			t.Errorf("a binding was dropped while the phones ran: %s", e.Raw)
		}
	}
	if ended := n.Log.Find("call ended", map[string]string{"reason": "bye-from-a"}); len(ended) != samples {
		t.Errorf("natsbc logged %d calls ended by the caller, want %d", len(ended), samples)
	}
	n.AssertNoCrash(t)
}

// rssBytes reads natsbc's resident set size from /proc (ip netns exec
// execs the program, so the process started is natsbc itself).
func rssBytes(t *testing.T, n *Natsbc) int {
	t.Helper()
	pid := strconv.Itoa(n.Pid())
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatalf("natsbc's status: %v", err)
	}
	if comm, _ := os.ReadFile("/proc/" + pid + "/comm"); strings.TrimSpace(string(comm)) != "natsbc" {
		t.Fatalf("process %s is %q, not natsbc", pid, comm)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return kib << 10
		}
	}
	t.Fatalf("no VmRSS in natsbc's status")
	return 0
}

// liveHeapBytes is natsbc's live heap after a forced GC, as the benchmark
// reads it: HeapAlloc of /debug/pprof/heap?gc=1&debug=1.
func liveHeapBytes(t *testing.T, l *Lab) int {
	t.Helper()
	for _, line := range strings.Split(adminGet(t, l, "/debug/pprof/heap?gc=1&debug=1"), "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapAlloc = "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("HeapAlloc %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatal("no HeapAlloc in natsbc's heap profile")
	return 0
}
