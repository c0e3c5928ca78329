package loadgen

import "testing"

func TestSeqTrackerCountsLossDuplicatesAndReordering(t *testing.T) {
	cases := []struct {
		name                            string
		seqs                            []uint16
		received, lost, dups, reordered uint64
	}{
		{"in order", []uint16{0, 1, 2, 3}, 4, 0, 0, 0},
		{"gap", []uint16{0, 1, 4, 5}, 4, 2, 0, 0},
		{"first lost", []uint16{1, 2}, 2, 1, 0, 0},
		{"duplicate", []uint16{0, 1, 1, 2}, 3, 0, 1, 0},
		{"reordered fills the gap", []uint16{0, 2, 1, 3}, 4, 0, 0, 1},
		{"late duplicate in window", []uint16{0, 1, 2, 3, 1}, 4, 0, 1, 0},
		{"jump past the window", []uint16{0, 100, 101}, 3, 99, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s seqTracker
			for _, q := range tc.seqs {
				s.add(q)
			}
			if s.received != tc.received || s.lostBySeq() != tc.lost ||
				s.duplicates != tc.dups || s.reordered != tc.reordered {
				t.Fatalf("received %d lost %d dups %d reordered %d, want %d %d %d %d",
					s.received, s.lostBySeq(), s.duplicates, s.reordered,
					tc.received, tc.lost, tc.dups, tc.reordered)
			}
		})
	}
}

func TestSeqTrackerExtendsAcrossWrap(t *testing.T) {
	// 70,000 packets in order: the 16-bit number wraps once, nothing is lost.
	var s seqTracker
	for i := range 70_000 {
		s.add(uint16(i))
	}
	if s.maxExt != 69_999 || s.received != 70_000 || s.lostBySeq() != 0 {
		t.Fatalf("maxExt %d received %d lost %d, want 69999 70000 0", s.maxExt, s.received, s.lostBySeq())
	}
	// One lost right at the wrap, one reordered across it.
	var w seqTracker
	for i := 65_530; i < 65_536; i++ {
		w.add(uint16(i))
	}
	w.add(1) // 65537: 65536 missing
	w.add(2)
	if w.maxExt != 65_538 || w.lostBySeq() != 65_530+1 {
		// The stream started at 65530, so numbers 0..65529 count as lost by
		// sequence: the tracker assumes every stream starts at 0.
		t.Fatalf("maxExt %d lost %d", w.maxExt, w.lostBySeq())
	}
	w.add(0) // 65536 arrives late, still in the window
	if w.reordered != 1 || w.duplicates != 0 {
		t.Fatalf("reordered %d duplicates %d, want 1 0", w.reordered, w.duplicates)
	}
}

func TestSeqTrackerOldPacketBelowWrapIsNotPushedForward(t *testing.T) {
	var s seqTracker
	for i := 65_500; i < 65_536; i++ {
		s.add(uint16(i))
	}
	s.add(10) // 65546
	s.add(65_535)
	if s.maxExt != 65_546 || s.duplicates != 1 {
		t.Fatalf("maxExt %d duplicates %d, want 65546 and 1 (65535 seen twice)", s.maxExt, s.duplicates)
	}
}
