package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

type sippCounts struct {
	created, successful, failed, retrans int
}

// parseSippStats reads the last row of sipp's -trace_stat file: the
// cumulative (C) counters at the end of the run, by column name.
func parseSippStats(b []byte) (sippCounts, error) {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return sippCounts{}, fmt.Errorf("sipp statistics: %d lines, want a header and a row", len(lines))
	}
	header := strings.Split(strings.TrimRight(lines[0], ";"), ";")
	row := strings.Split(strings.TrimRight(lines[len(lines)-1], ";"), ";")
	col := func(name string) (int, error) {
		i := slices.Index(header, name)
		if i < 0 || i >= len(row) {
			return 0, fmt.Errorf("sipp statistics: no column %s", name)
		}
		return strconv.Atoi(strings.TrimSpace(row[i]))
	}
	var c sippCounts
	var err error
	for _, f := range []struct {
		name string
		dst  *int
	}{
		{"TotalCallCreated", &c.created},
		{"SuccessfulCall(C)", &c.successful},
		{"FailedCall(C)", &c.failed},
		{"Retransmissions(C)", &c.retrans},
	} {
		if *f.dst, err = col(f.name); err != nil {
			return c, err
		}
	}
	return c, nil
}

// rttSamples are the response times of one sipp rtd, from -trace_rtt:
// "Date_ms;response_time_ms;rtd_no" rows.
type rttSamples struct {
	ms         []float64
	first, end float64 // Date_ms of the first and last sample
}

func (s *rttSamples) parse(b []byte, rtd string) error {
	for i, line := range strings.Split(string(b), "\n") {
		if i == 0 || strings.TrimSpace(line) == "" {
			continue // header
		}
		f := strings.Split(strings.TrimSpace(line), ";")
		if len(f) != 3 {
			return fmt.Errorf("sipp rtt line %d: %q", i+1, line)
		}
		if f[2] != rtd {
			continue
		}
		at, err1 := strconv.ParseFloat(f[0], 64)
		ms, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("sipp rtt line %d: %q", i+1, line)
		}
		if len(s.ms) == 0 || at < s.first {
			s.first = at
		}
		s.end = max(s.end, at)
		s.ms = append(s.ms, ms)
	}
	return nil
}

// percentile is the nearest-rank percentile (p in 0..100); 0 without
// samples (JSON has no NaN; the sample count tells).
func (s *rttSamples) percentile(p float64) float64 {
	if len(s.ms) == 0 {
		return 0
	}
	v := slices.Clone(s.ms)
	slices.Sort(v)
	rank := int(math.Ceil(p / 100 * float64(len(v))))
	return v[max(rank, 1)-1]
}

// rate is samples per second between the first and the last: how fast
// calls were really answered.
func (s *rttSamples) rate() float64 {
	if len(s.ms) < 2 || s.end <= s.first {
		return 0
	}
	return float64(len(s.ms)-1) / ((s.end - s.first) / 1000)
}
