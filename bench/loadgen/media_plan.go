package loadgen

import "net/netip"

// MediaCall is one call's media as the two legs see it: where side A (the
// caller) sends its RTP and where side B (the callee) sends its own. With a
// relay in the path these are the relay's ports from the SDP; in direct mode
// they are the other side's socket.
type MediaCall struct {
	ID   uint32
	AToB netip.AddrPort
	BToA netip.AddrPort
}

// planWorkers deals the calls out to workers round-robin and, within each
// worker, spreads them over the slots of one ptime. A call's two directions
// send half a ptime apart, as two independent phones would.
func planWorkers(calls []MediaCall, conns [2][]*BatchConn, workers, slots int, payload int, run uint32) []*sendWorker {
	ws := make([]*sendWorker, workers)
	for wi := range ws {
		w := &sendWorker{slots: slots}
		var mine []MediaCall
		for i := wi; i < len(calls); i += workers {
			mine = append(mine, calls[i])
		}
		for _, dir := range []Direction{AToB, BToA} {
			w.plans[dir] = buildPlan(mine, dir, conns[dir][wi], slots, payload, run)
		}
		ws[wi] = w
	}
	return ws
}

func buildPlan(calls []MediaCall, dir Direction, conn *BatchConn, slots, payload int, run uint32) sendPlan {
	pktLen := rtpHeaderLen + payload
	slab := make([]byte, len(calls)*pktLen)
	p := sendPlan{
		conn:    conn,
		streams: make([]sendStream, 0, len(calls)),
		msgs:    make([]Message, 0, len(calls)),
		slotEnd: make([]int, slots),
	}
	offset := 0
	if dir == BToA {
		offset = slots / 2
	}
	for slot := range slots {
		for k, c := range calls {
			if (k+offset)%slots != slot {
				continue
			}
			i := len(p.streams)
			pkt := slab[i*pktLen : (i+1)*pktLen : (i+1)*pktLen]
			buildPacket(pkt, run, c.ID, dir)
			dest := c.AToB
			if dir == BToA {
				dest = c.BToA
			}
			p.streams = append(p.streams, sendStream{pkt: pkt})
			p.msgs = append(p.msgs, Message{Buf: pkt, Addr: dest})
		}
		p.slotEnd[slot] = len(p.streams)
	}
	return p
}
