package loadgen

import "math/bits"

// Histogram counts non-negative values (nanoseconds here) in log-linear
// buckets, as HDR histograms do: values below 2^histSubBits each get their
// own bucket, larger ones 2^histSubBits buckets per power of two, so any
// reported quantile is within 1/2^histSubBits (1.6 %) of the true value.
// Recording is a few instructions and never allocates.
type Histogram struct {
	counts [histBuckets]uint64
	total  uint64
	max    uint64
}

const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histBuckets = (64 - histSubBits + 1) * histSub
)

// Record adds one value; negative values (a clock step cannot happen on the
// monotonic clock, but a corrupted stamp can) count as 0.
func (h *Histogram) Record(v int64) {
	u := uint64(max(v, 0))
	h.counts[bucketOf(u)]++
	h.total++
	h.max = max(h.max, u)
}

// bucketOf maps v to its bucket: below histSub the value itself, above it
// the power of two (shift) and the top histSubBits+1 bits of v.
func bucketOf(v uint64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	return (shift+1)*histSub + int(v>>shift) - histSub
}

// bucketHigh is the largest value that falls into bucket i.
func bucketHigh(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	shift := i/histSub - 1
	low := uint64(histSub+i%histSub) << shift
	return low + (uint64(1)<<shift - 1)
}

// Merge adds the counts of o.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// Count is how many values were recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Max is the largest value recorded, exactly.
func (h *Histogram) Max() uint64 { return h.max }

// Quantile returns the value at or below which a fraction q (0..1] of the
// recorded values fall: the top of the bucket holding that rank, never more
// than Max. 0 when nothing was recorded.
func (h *Histogram) Quantile(q float64) uint64 {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.5)
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(bucketHigh(i), h.max)
		}
	}
	return h.max
}
