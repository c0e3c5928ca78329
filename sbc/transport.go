package sbc

import (
	"context"
	"errors"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// asBuilt tells sipgo the request is complete: natsbc builds every header
// itself (sipgo's builder would add a Via with 0.0.0.0 and its own From).
func asBuilt(*sipgo.Client, *sip.Request) error { return nil }

// send starts a client transaction for a request natsbc built.
func (s *Server) send(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	return s.client.TransactionRequest(ctx, req, asBuilt)
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
func (s *Server) writeAck(ack *sip.Request) error {
	return s.client.WriteRequest(ack, asBuilt)
}
