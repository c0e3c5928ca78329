package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// The memory part runs natsbc with a short T1 (bench.memT1, 100 ms):
// transactions end 64*T1 (6.4 s) after their last message, so the heap can
// be read once only calls and bindings remain, without waiting 32 s. What a
// call or binding holds does not depend on T1.

// memSample is natsbc's memory at one moment: live heap after a forced GC,
// and RSS.
type memSample struct {
	HeapAlloc int64 `json:"heap_alloc_bytes"`
	HeapInuse int64 `json:"heap_inuse_bytes"`
	RSS       int64 `json:"rss_bytes"`
}

// memPer is the memory one call or one registration costs.
type memPer struct {
	Count     int       `json:"count"`
	Baseline  memSample `json:"baseline"`
	Loaded    memSample `json:"loaded"` // all up, transactions ended
	HeapBytes float64   `json:"heap_bytes_each"`
	RSSBytes  float64   `json:"rss_bytes_each"`
	// HeapAtSetup is per item right after the last one was set up, while
	// SIP transactions were still alive.
	HeapAtSetup float64   `json:"heap_bytes_each_with_transactions"`
	Caller      uacResult `json:"caller"`
}

type memResult struct {
	IdleCall     *memPer `json:"idle_call"`
	Registration *memPer `json:"registration"`
}

func (p *natsbcProc) memory() (memSample, error) {
	h, err := p.heapAfterGC()
	if err != nil {
		return memSample{}, err
	}
	rss, err := rssBytes(p.pid())
	return memSample{HeapAlloc: h.HeapAlloc, HeapInuse: h.HeapInuse, RSS: rss}, err
}

func (b *bench) runMemory(ctx context.Context, dir string) (*memResult, error) {
	res := &memResult{}
	var err error
	b.progress("memory: %d idle calls with media anchored", b.idleCalls)
	if res.IdleCall, err = b.measureMemory(ctx, filepath.Join(dir, "calls"), memJob{
		count: b.idleCalls, rate: min(b.idleCalls, 500), gauge: "natsbc_media_sessions",
		callee: "uas.xml", caller: "uac.xml", transport: "u1", anchor: true,
	}); err != nil {
		return res, err
	}
	b.progress("  heap %.0f B, RSS %.0f B per idle call", res.IdleCall.HeapBytes, res.IdleCall.RSSBytes)
	b.progress("memory: %d registrations", b.registrations)
	if res.Registration, err = b.measureMemory(ctx, filepath.Join(dir, "registrations"), memJob{
		count: b.registrations, rate: min(b.registrations, 1000), gauge: "natsbc_registrations",
		callee: "reg_uas.xml", caller: "reg_uac.xml", transport: "un",
	}); err != nil {
		return res, err
	}
	b.progress("  heap %.0f B, RSS %.0f B per registration", res.Registration.HeapBytes, res.Registration.RSSBytes)
	return res, nil
}

// memJob: count callers (calls or REGISTERs) at rate through a fresh natsbc,
// until gauge shows them all.
type memJob struct {
	count, rate    int
	gauge          string
	callee, caller string
	transport      string
	anchor         bool
}

func (b *bench) measureMemory(ctx context.Context, dir string, j memJob) (*memPer, error) {
	sbc, err := startNatsbc(b.natsbcBin, dir, b.plan, natsbcOpts{anchor: j.anchor, t1: b.memT1})
	if err != nil {
		return nil, err
	}
	defer sbc.stop()
	uas, err := startSippServer(dir, b.scenario(j.callee), b.plan.uas)
	if err != nil {
		return nil, err
	}
	defer uas.stop()
	per := &memPer{Count: j.count}
	if per.Baseline, err = sbc.memory(); err != nil {
		return nil, err
	}
	setup := time.Duration(j.count/j.rate+1) * time.Second
	settle := 64*b.memT1 + time.Second
	// Calls stay up until well after the second reading.
	hold := time.Duration(0)
	if j.caller == "uac.xml" {
		hold = setup + settle + 3*time.Second
	}
	run := uacRun{
		scenario: b.scenario(j.caller), target: b.plan.sbc, local: b.plan.uac,
		rate: j.rate, calls: j.count, hold: hold, transport: j.transport,
		limit: setup + hold + 60*time.Second,
	}
	type done struct {
		r   uacResult
		err error
	}
	finished := make(chan done, 1)
	go func() {
		r, err := run.run(ctx, filepath.Join(dir, "caller"))
		finished <- done{r, err}
	}()
	wait := func(d time.Duration) error {
		wctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		_, err := sbc.waitGauge(wctx, j.gauge, func(v float64) bool { return int(v) >= j.count })
		return err
	}
	measure := func() error {
		if err := wait(setup + 30*time.Second); err != nil {
			return fmt.Errorf("natsbc never held all %d: %w", j.count, err)
		}
		at, err := sbc.heapAfterGC()
		if err != nil {
			return err
		}
		per.HeapAtSetup = float64(at.HeapAlloc-per.Baseline.HeapAlloc) / float64(j.count)
		select {
		case <-time.After(settle):
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := wait(time.Second); err != nil {
			return fmt.Errorf("lost some before the reading: %w", err)
		}
		per.Loaded, err = sbc.memory()
		return err
	}
	merr := measure()
	d := <-finished
	per.Caller = d.r
	if d.err != nil { // the caller's own failure explains a gauge that never rose
		return per, d.err
	}
	if merr != nil {
		return per, merr
	}
	if d.r.Failed > 0 || d.r.Successful < j.count {
		return per, fmt.Errorf("caller: %d of %d succeeded, %d failed (see %s)", d.r.Successful, j.count, d.r.Failed, dir)
	}
	per.HeapBytes = float64(per.Loaded.HeapAlloc-per.Baseline.HeapAlloc) / float64(j.count)
	per.RSSBytes = float64(per.Loaded.RSS-per.Baseline.RSS) / float64(j.count)
	return per, nil
}
