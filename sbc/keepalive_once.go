package sbc

import (
	"context"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// keepaliveRequest sends a keepalive OPTIONS and waits for its answer
// until ctx ends. On UDP it is not a client transaction: a transaction
// retransmits up to ten times while it waits (RFC 3261 §17.1.2.2), so a
// binding made by a forged or vanished source would cost that address ten
// datagrams per interval, an amplifier pointed wherever the source says.
// Until the flow has proven it receives (it answered a keepalive, or it
// carried a call), the keepalive is one datagram, as Kamailio's natping
// sends; once proven, it is retransmitted like a transaction's (T1
// doubling up to T2), so a lost datagram on a lossy link does not cost a
// real phone its binding. The answer reaches natsbc as a response no
// transaction matches (onStrayResponse) and is handed over by its Via
// branch.
func (s *Server) keepaliveRequest(ctx context.Context, req *sip.Request, proven bool) (*sip.Response, error) {
	if !isUDP(req.Transport()) {
		return s.do(ctx, req)
	}
	branch, _ := req.Via().Params.Get("branch")
	answer := s.pings.await(branch)
	defer s.pings.forget(branch)
	if err := s.client.WriteRequest(req, asBuilt); err != nil {
		return nil, err
	}
	wait := s.conf().T1
	again := time.NewTimer(wait)
	defer again.Stop()
	for {
		select {
		case res := <-answer:
			return res, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-again.C:
			if !proven {
				continue // one datagram: wait for the answer, or ctx
			}
			// RFC 3261 §17.1.2.2 Timer E: T1 doubling, at most T2.
			if err := s.client.WriteRequest(req, asBuilt); err != nil {
				return nil, err
			}
			wait = min(2*wait, s.conf().T2)
			again.Reset(wait)
		}
	}
}

// pingWaiters are the keepalives sent without a transaction that await
// their answer, by Via branch.
type pingWaiters struct {
	mu      sync.Mutex
	waiting map[string]chan *sip.Response
}

func (p *pingWaiters) await(branch string) <-chan *sip.Response {
	ch := make(chan *sip.Response, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waiting == nil {
		p.waiting = map[string]chan *sip.Response{}
	}
	p.waiting[branch] = ch
	return ch
}

func (p *pingWaiters) forget(branch string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.waiting, branch)
}

// answer hands a final response to the keepalive it answers; false when
// it answers none (a late or forged one).
func (p *pingWaiters) answer(res *sip.Response) bool {
	if res.IsProvisional() || res.Via() == nil {
		return false
	}
	branch, _ := res.Via().Params.Get("branch")
	p.mu.Lock()
	defer p.mu.Unlock()
	ch, ok := p.waiting[branch]
	if !ok {
		return false
	}
	delete(p.waiting, branch)
	ch <- res
	return true
}
