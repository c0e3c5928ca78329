package main

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// A system that holds up to limit calls/s: doubling finds the bracket,
// bisections narrow it, and the result is the best rate that passed.
func TestSearchDoublesThenBisects(t *testing.T) {
	for _, tt := range []struct {
		limit     int
		wantRates []int
		wantMax   int
	}{
		{limit: 2600, wantRates: []int{250, 500, 1000, 2000, 4000, 3000, 2500}, wantMax: 2500},
		{limit: 100, wantRates: []int{250, 100, 150}, wantMax: 100},
		{limit: 99999, wantRates: []int{250, 500, 1000, 2000, 4000, 8000}, wantMax: 8000},
		{limit: 5000, wantRates: []int{250, 500, 1000, 2000, 4000, 8000, 6000, 5000}, wantMax: 5000},
	} {
		probe := func(rate int) (cpsStep, error) {
			return cpsStep{Rate: rate, Pass: rate <= tt.limit}, nil
		}
		steps, got, err := search(searchPlan{start: 250, max: 8000, bisections: 2, budget: time.Hour}, probe)
		var rates []int
		for _, s := range steps {
			rates = append(rates, s.Rate)
		}
		if err != nil || got != tt.wantMax || !slices.Equal(rates, tt.wantRates) {
			t.Errorf("limit %d: max %d, rates %v, %v; want %d, %v", tt.limit, got, rates, err, tt.wantMax, tt.wantRates)
		}
	}
}

func TestSearchStopsOnHarnessErrorAndBudget(t *testing.T) {
	broken := errors.New("sipp failed to run")
	_, _, err := search(searchPlan{start: 250, max: 8000, bisections: 2, budget: time.Hour}, func(int) (cpsStep, error) {
		return cpsStep{}, broken
	})
	if !errors.Is(err, broken) {
		t.Errorf("err = %v; want the probe's", err)
	}
	steps, _, _ := search(searchPlan{start: 250, max: 8000, bisections: 2, budget: 0}, func(rate int) (cpsStep, error) {
		return cpsStep{Rate: rate, Pass: true}, nil
	})
	if len(steps) != 1 {
		t.Errorf("%d steps with no budget left; want only the first", len(steps))
	}
	// Out of budget after a failure, the bisections still run.
	var rates []int
	search(searchPlan{start: 1000, max: 8000, bisections: 2, budget: 0}, func(rate int) (cpsStep, error) {
		rates = append(rates, rate)
		return cpsStep{Rate: rate, Pass: rate <= 800}, nil
	})
	if !slices.Equal(rates, []int{1000, 500, 750}) {
		t.Errorf("rates %v; want 1000, then bisections 500 and 750", rates)
	}
}

func TestJudge(t *testing.T) {
	good := uacResult{Created: 1000, Successful: 1000, SetupP99Ms: 12, RateKept: 100}
	if ok, why := judge(100, 1000, good); !ok {
		t.Errorf("a clean step fails: %s", why)
	}
	for name, r := range map[string]uacResult{
		"failed call":   {Created: 1000, Successful: 999, Failed: 1, SetupP99Ms: 12, RateKept: 100},
		"missing call":  {Created: 999, Successful: 999, SetupP99Ms: 12, RateKept: 100},
		"slow setup":    {Created: 1000, Successful: 1000, SetupP99Ms: 200, RateKept: 100},
		"rate not kept": {Created: 1000, Successful: 1000, SetupP99Ms: 12, RateKept: 80},
		"timed out":     {Created: 1000, Successful: 1000, SetupP99Ms: 12, RateKept: 100, TimedOut: true},
	} {
		if ok, _ := judge(100, 1000, r); ok {
			t.Errorf("%s passes", name)
		}
	}
}
