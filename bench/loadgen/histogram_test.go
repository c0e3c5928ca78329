package loadgen

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBucketsCoverEveryValueInOrder(t *testing.T) {
	// Each bucket's range must start right after the previous one's, and
	// bucketOf must put both ends of the range into that bucket.
	prevHigh := uint64(0)
	for i := range histBuckets - 1 {
		high := bucketHigh(i)
		if i > 0 && high <= prevHigh {
			t.Fatalf("bucket %d high %d not above bucket %d high %d", i, high, i-1, prevHigh)
		}
		low := prevHigh + 1
		if i == 0 {
			low = 0
		}
		if got := bucketOf(low); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", low, got, i)
		}
		if got := bucketOf(high); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", high, got, i)
		}
		prevHigh = high
	}
	if got := bucketOf(^uint64(0)); got != histBuckets-1 {
		t.Fatalf("bucketOf(max uint64) = %d, want %d", got, histBuckets-1)
	}
}

func TestQuantilesWithinBucketError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	values := make([]int64, 100_000)
	for i := range values {
		// Latency-like: mostly tens of microseconds, a long tail to 50 ms.
		v := int64(20_000 + rng.ExpFloat64()*15_000)
		if i%1000 == 0 {
			v = rng.Int64N(50_000_000)
		}
		values[i] = v
		h.Record(v)
	}
	slices.Sort(values)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := values[int(q*float64(len(values)))-1]
		got := h.Quantile(q)
		if diff := float64(got) - float64(exact); diff < 0 || diff > float64(exact)/histSub+1 {
			t.Errorf("q%.3f = %d, exact %d: outside [exact, exact+1/%d]", q, got, exact, histSub)
		}
	}
	if h.Max() != uint64(values[len(values)-1]) {
		t.Errorf("Max = %d, want %d", h.Max(), values[len(values)-1])
	}
	if h.Count() != uint64(len(values)) {
		t.Errorf("Count = %d, want %d", h.Count(), len(values))
	}
}

func TestQuantileSmallSets(t *testing.T) {
	var h Histogram
	if h.Quantile(0.99) != 0 {
		t.Fatal("empty histogram must give 0")
	}
	for _, v := range []int64{10, 20, 30, 40, -5} {
		h.Record(v)
	}
	// Sorted: 0 10 20 30 40 (the negative one clamps to 0). Below 128 every
	// value has its own bucket, so quantiles are exact.
	for q, want := range map[float64]uint64{0.2: 0, 0.5: 20, 0.99: 40, 1: 40} {
		if got := h.Quantile(q); got != want {
			t.Errorf("Quantile(%v) = %d, want %d", q, got, want)
		}
	}
}

func TestMergeAddsCountsAndKeepsMax(t *testing.T) {
	var a, b Histogram
	a.Record(1000)
	b.Record(5000)
	b.Record(7000)
	a.Merge(&b)
	if a.Count() != 3 || a.Max() != 7000 {
		t.Fatalf("merged count %d max %d, want 3 and 7000", a.Count(), a.Max())
	}
	if q := a.Quantile(0.5); q < 5000 || q > 5000+5000/histSub {
		t.Fatalf("merged median %d, want about 5000", q)
	}
}
