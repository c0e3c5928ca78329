package loadgen

import "testing"

func TestRateKeptAllowsRareLateTicksOnly(t *testing.T) {
	cases := []struct {
		ticks, late, unsent uint64
		want                bool
	}{
		{5000, 0, 0, true},
		{5000, 5, 0, true},  // 0.1 %
		{5000, 6, 0, false}, // over the budget
		{5000, 0, 1, false}, // a packet never left
		{0, 0, 0, true},
	}
	for _, c := range cases {
		if got := rateKept(c.ticks, c.late, c.unsent); got != c.want {
			t.Errorf("rateKept(%d ticks, %d late, %d unsent) = %v, want %v", c.ticks, c.late, c.unsent, got, c.want)
		}
	}
}
