package sbc

import (
	"context"
	"errors"
	"fmt"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// asBuilt tells sipgo the request is complete: natsbc builds every header
// itself (sipgo's builder would add a Via with 0.0.0.0 and its own From).
func asBuilt(*sipgo.Client, *sip.Request) error { return nil }

// send starts a client transaction for a request natsbc built, over TCP
// when it is too large for UDP (pickTransport), over TLS and WebSocket on
// the flow's connection (streamConnection). A request that cannot be
// written is a warning that names its leg and size.
func (s *Server) send(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	s.pickTransport(req)
	if err := s.streamConnection(ctx, req); err != nil {
		s.requestNotSent(req, err)
		return nil, err
	}
	tx, err := s.client.TransactionRequest(ctx, req, asBuilt)
	if err != nil {
		s.requestNotSent(req, err)
	} else {
		s.tapStreamSent(req)
	}
	return tx, err
}

// do sends req and returns its final response. Provisional responses are
// drained (sipgo's response channel is unbuffered).
func (s *Server) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := s.send(ctx, req)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("transaction ended without a final response")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// writeAck sends an ACK for a 2xx: it is its own transaction (RFC 3261
// §17.1.1.3), so it goes straight to the transport.
// An ACK carrying a delayed offer's answer may be large: it picks its
// transport like any request.
func (s *Server) writeAck(ack *sip.Request) error {
	s.pickTransport(ack)
	err := s.streamConnection(s.base, ack)
	if err == nil {
		err = s.client.WriteRequest(ack, asBuilt)
	}
	if err != nil {
		err = fmt.Errorf("%d bytes over %s: %w", messageSize(ack), ack.Transport(), err)
	} else {
		s.tapStreamSent(ack)
	}
	return err
}
