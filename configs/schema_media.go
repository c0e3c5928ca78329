package configs

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// media decodes the `media:` section. Ranges and bounds are checked by
// Validate, so a file and a program-built Config get the same answers.
func (d *decoder) media(n *yaml.Node, path string, m *MediaConfig) {
	d.mapping(n, path, map[string]func(*yaml.Node, string){
		"anchor":       d.boolean(&m.Anchor),
		"ports":        d.portRange(&m.PortMin, &m.PortMax),
		"listen_ip":    d.addr(&m.ListenIP),
		"drain":        d.duration(&m.Drain),
		"timeout":      d.duration(&m.Timeout),
		"hold_timeout": d.duration(&m.HoldTimeout),
		"latch_window": d.duration(&m.LatchWindow),
		"max_streams":  d.integer(&m.MaxStreams),
		"latching":     d.str(&m.Latching),
		"srtp":         d.str(&m.SRTP),
	})
}

func (d *decoder) portRange(lo, hi *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path)
		if !ok {
			return
		}
		a, b, err := parsePortRange(s)
		if err != nil {
			d.fail(n, path, "%v", err)
			return
		}
		*lo, *hi = a, b
	}
}

// parsePortRange reads "MIN-MAX"; whether the range is usable is
// Validate's question.
func parsePortRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	lo, errA := strconv.Atoi(strings.TrimSpace(a))
	hi, errB := strconv.Atoi(strings.TrimSpace(b))
	if !ok || errA != nil || errB != nil || lo < 0 || hi < 0 {
		return 0, 0, fmt.Errorf("%q is not a port range like 20000-29999", s)
	}
	return lo, hi, nil
}
