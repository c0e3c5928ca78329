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

// WorkerOf is the worker, and so the socket of each side, that carries
// call id: its SDP must name that worker's sockets.
func WorkerOf(id uint32, workers int) int { return int(id % uint32(workers)) }

// planWorker builds worker wi of len(socks[0]): its calls (WorkerOf), send
// plans spread over the slots of one ptime, and receivers. A call's two
// directions send half a ptime apart, as two independent phones would.
func planWorker(wi int, calls []MediaCall, socks [2][]*RTPSocket, slots, payload, batch, sendBatch int, run uint32) *worker {
	workers := len(socks[0])
	var mine []MediaCall
	maxID := uint32(0)
	for _, c := range calls {
		maxID = max(maxID, c.ID+1)
		if WorkerOf(c.ID, workers) == wi {
			mine = append(mine, c)
		}
	}
	w := &worker{slots: slots, batch: sendBatch}
	for _, dir := range []Direction{AToB, BToA} {
		// A→B leaves side A's socket and arrives at side B's.
		from, to := socks[0][wi], socks[1][wi]
		if dir == BToA {
			from, to = to, from
		}
		w.send[dir] = buildPlan(mine, dir, NewBatchConn(from, sendBatch), slots, payload, run)
		w.recv[dir] = newReceiver(NewBatchConn(to, batch), run, dir, int(maxID), batch)
	}
	return w
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
