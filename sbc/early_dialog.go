package sbc

import (
	"github.com/emiago/sipgo/sip"
)

// learnEarlyDialog makes the far leg's early dialog from a provisional of
// the initial INVITE and returns that fork's dialog (nil without a To tag).
//
// RFC 3261 §12.1.2: a provisional with a To tag creates an early dialog at
// the UAC: remote tag from To, remote target from Contact, route set from
// the reversed Record-Route. §13.2.2.4: the 2xx then recomputes the route
// set. A forking proxy may create several (one per To tag): natsbc collapses
// them onto the caller's one early dialog (its To tag is fixed per call), so
// a request the caller sends in it goes to the fork that spoke last; a PRACK
// goes to the fork whose reliable provisional it acknowledges (prack.go).
func (c *call) learnEarlyDialog(far *leg, res *sip.Response) *leg {
	tag := toTag(res)
	if tag == "" {
		return nil
	}
	fork := far.sibling(tag)
	c.s.learnRoute(fork, res, parseAddrPort(res.Source()), true)
	fork.mu.Lock()
	target, routes, hop, route, nated := fork.remoteTarget, fork.routeSet, fork.nextHop, fork.route, fork.nated
	fork.mu.Unlock()

	far.mu.Lock()
	if far.remoteTag != tag {
		c.log.Debug("early dialog", "leg", far.side.String(), "to_tag", tag, "next_hop", hop)
	}
	far.remoteTag = tag
	far.remoteTarget = target
	far.routeSet = routes
	// Fixed until the 2xx: an early target refresh (UPDATE) moves only
	// the remote target; answered() unfixes it for the 2xx.
	far.routeSetFixed = true
	far.nextHop = hop
	far.route = route
	far.nated = far.nated || nated
	far.mu.Unlock()
	return fork
}
