package main

import "fmt"

// smokeCheck is what -quick asserts: every part measured something real.
// Targets are not checked (a short, small run says nothing about them);
// a call path that sets up no call at all, or media that never arrives,
// means the harness (or natsbc's wiring) is broken.
func smokeCheck(r *results, parts map[string]bool) error {
	if parts["cps"] {
		for _, c := range r.CPS {
			ok := false
			for _, s := range c.Steps {
				ok = ok || s.Successful > 0
			}
			if !ok {
				return fmt.Errorf("cps %s: no call succeeded", c.Name)
			}
		}
	}
	if parts["media"] && r.Media != nil {
		for _, runs := range [][]mediaRun{r.Media.Direct, r.Media.Via} {
			if len(runs) == 0 {
				return fmt.Errorf("media: a path was not measured")
			}
			g := runs[0].Report
			if g.CallsUp == 0 || g.AToB.Received == 0 || g.BToA.Received == 0 {
				return fmt.Errorf("media %s: %d calls up, %d/%d packets received", g.Mode, g.CallsUp, g.AToB.Received, g.BToA.Received)
			}
		}
	}
	return nil
}
