package loadgen

import (
	"testing"
	"time"
)

func TestSetupTrackerNeedsBothHalvesAndResolvesOnce(t *testing.T) {
	tr := newSetupTracker(4)
	tr.markAnswered(0, 10*time.Millisecond)
	tr.markAcked(0) // up
	tr.markAcked(1)
	tr.markAnswered(1, 30*time.Millisecond) // up, other order
	tr.markAnswered(2, 5*time.Millisecond)  // callee never got the ACK
	tr.fail(2, "no ACK reached the callee")
	tr.fail(0, "timeout") // already up: ignored
	select {
	case <-tr.done:
		t.Fatal("done with call 3 unresolved")
	default:
	}
	tr.fail(3, "status 503")
	tr.fail(3, "timeout") // already failed: ignored
	select {
	case <-tr.done:
	default:
		t.Fatal("not done with every call resolved")
	}
	rep, up := tr.report()
	if rep.Up != 2 || rep.Failed != 2 || len(up) != 2 || up[0] != 0 || up[1] != 1 {
		t.Fatalf("up %d %v failed %d", rep.Up, up, rep.Failed)
	}
	if rep.FailReasons["no ACK reached the callee"] != 1 || rep.FailReasons["status 503"] != 1 || len(rep.FailReasons) != 2 {
		t.Fatalf("reasons %v", rep.FailReasons)
	}
	// Nearest rank over {10, 30} ms: p50 is the 1st, p99 the 2nd.
	if rep.P50Ms != 10 || rep.P99Ms != 30 {
		t.Fatalf("p50 %v p99 %v", rep.P50Ms, rep.P99Ms)
	}
}

func TestSetupTrackerCountsUnfinishedCallsAsFailed(t *testing.T) {
	tr := newSetupTracker(3)
	tr.markAnswered(0, time.Millisecond)
	tr.markAcked(0)
	rep, _ := tr.report()
	if rep.Up != 1 || rep.Failed != 2 || rep.FailReasons["not finished"] != 2 {
		t.Fatalf("%+v", rep)
	}
}

func TestQuantileMsNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if quantileMs(d, 0.5) != 50 || quantileMs(d, 0.99) != 99 || quantileMs(d, 1) != 100 || quantileMs(nil, 0.5) != 0 {
		t.Fatalf("p50 %v p99 %v p100 %v", quantileMs(d, 0.5), quantileMs(d, 0.99), quantileMs(d, 1))
	}
}
