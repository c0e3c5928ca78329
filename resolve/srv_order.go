package resolve

import (
	"cmp"
	"slices"
)

// orderSRV puts SRV records in the order to try them (RFC 2782, "Usage
// rules"): lowest priority first; within one priority, a weighted random
// draw, where records of weight 0 are put first so they are rarely chosen
// early. intn(n) returns a number in [0, n).
func orderSRV(recs []SRV, intn func(int) int) []SRV {
	sorted := slices.Clone(recs)
	slices.SortStableFunc(sorted, func(a, b SRV) int { return cmp.Compare(a.Priority, b.Priority) })
	out := make([]SRV, 0, len(sorted))
	for start := 0; start < len(sorted); {
		end := start
		for end < len(sorted) && sorted[end].Priority == sorted[start].Priority {
			end++
		}
		out = append(out, weighted(sorted[start:end], intn)...)
		start = end
	}
	return out
}

// weighted draws the records of one priority in RFC 2782 order.
func weighted(group []SRV, intn func(int) int) []SRV {
	rest := slices.Clone(group)
	slices.SortStableFunc(rest, func(a, b SRV) int {
		// weight 0 first, as RFC 2782 asks before the draw.
		return cmp.Compare(min(a.Weight, 1), min(b.Weight, 1))
	})
	out := make([]SRV, 0, len(rest))
	for len(rest) > 0 {
		sum := 0
		for _, s := range rest {
			sum += int(s.Weight)
		}
		// "select a uniform random number between 0 and the sum":
		// inclusive of both ends.
		pick := intn(sum + 1)
		run, i := 0, 0
		for i = range rest {
			run += int(rest[i].Weight)
			if run >= pick {
				break
			}
		}
		out = append(out, rest[i])
		rest = slices.Delete(rest, i, i+1)
	}
	return out
}
