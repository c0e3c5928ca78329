package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// What the runner reads of a natsbc through its admin endpoint.

var httpClient = &http.Client{Timeout: 30 * time.Second}

func (p *natsbcProc) get(path string) (string, error) {
	res, err := httpClient.Get(p.admin + path)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", path, res.Status)
	}
	return string(b), err
}

// metrics scrapes /metrics into name → value (unlabelled series only).
func (p *natsbcProc) metrics() (map[string]float64, error) {
	text, err := p.get("/metrics")
	if err != nil {
		return nil, err
	}
	return parseMetrics(text), nil
}

func parseMetrics(text string) map[string]float64 {
	m := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			m[name] = v
		}
	}
	return m
}

// waitGauge polls /metrics until cond holds for the named gauge.
func (p *natsbcProc) waitGauge(ctx context.Context, name string, cond func(float64) bool) (float64, error) {
	for {
		if err := p.alive(); err != nil {
			return 0, err
		}
		m, err := p.metrics()
		if err == nil && cond(m[name]) {
			return m[name], nil
		}
		select {
		case <-ctx.Done():
			return m[name], fmt.Errorf("%s = %v: %w", name, m[name], ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// heapStats are runtime.MemStats after a forced GC, read from the heap
// profile: /debug/pprof/heap?gc=1 runs runtime.GC() before it writes, and
// debug=1 appends the MemStats. Standard pprof, no benchmark-only endpoint.
type heapStats struct {
	HeapAlloc, HeapInuse int64
}

var memStatLine = regexp.MustCompile(`(?m)^# (HeapAlloc|HeapInuse) = (\d+)$`)

func (p *natsbcProc) heapAfterGC() (heapStats, error) {
	text, err := p.get("/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return heapStats{}, err
	}
	return parseHeapProfile(text)
}

func parseHeapProfile(text string) (heapStats, error) {
	var h heapStats
	found := 0
	for _, m := range memStatLine.FindAllStringSubmatch(text, -1) {
		v, _ := strconv.ParseInt(m[2], 10, 64)
		switch m[1] {
		case "HeapAlloc":
			h.HeapAlloc = v
		case "HeapInuse":
			h.HeapInuse = v
		}
		found++
	}
	if found < 2 {
		return h, errors.New("heap profile has no HeapAlloc/HeapInuse lines")
	}
	return h, nil
}
