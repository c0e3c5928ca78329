package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// goBench is one line of `go test -bench -benchmem`.
type goBench struct {
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
}

// goBenchPackages hold the hot paths' benchmarks: SIP ingress and leg
// rewriting (sbc), SDP rewrite and RTP forwarding (media), STUN (nat).
var goBenchPackages = []string{"./sbc", "./media", "./nat"}

func (b *bench) runGoBenchmarks(ctx context.Context) ([]goBench, error) {
	b.progress("go benchmarks (-benchtime %s): %s", b.goBenchTime, strings.Join(goBenchPackages, " "))
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1", "-benchtime", b.goBenchTime}, goBenchPackages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = b.root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %v\n%s", err, out)
	}
	res := parseGoBench(string(out))
	if len(res) == 0 {
		return nil, fmt.Errorf("go test -bench printed no benchmark:\n%s", out)
	}
	return res, nil
}

// parseGoBench reads "BenchmarkX-2  N  12.3 ns/op  0 B/op  0 allocs/op"
// lines (other metrics on the line are skipped).
func parseGoBench(out string) []goBench {
	var res []goBench
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		g := goBench{Name: f[0]}
		if i := strings.LastIndexByte(g.Name, '-'); i > 0 {
			if _, err := strconv.Atoi(g.Name[i+1:]); err == nil {
				g.Name = g.Name[:i]
			}
		}
		ok := false
		for i := 2; i+1 < len(f); i++ {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				g.NsPerOp, ok = v, true
			case "B/op":
				g.BytesPerOp = v
			case "allocs/op":
				g.AllocsPerOp = v
			}
		}
		if ok {
			res = append(res, g)
		}
	}
	return res
}
