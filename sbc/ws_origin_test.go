package sbc

import (
	"context"
	"crypto/tls"
	"net/http"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// A wss socket's allowed origins reach its WebSocket filter: another
// page's upgrade gets 403, a listed page's upgrades.
func TestWebSocketSocketAllowedOrigins(t *testing.T) {
	b := newStreamBed(t, streamBedOpts{networks: []string{"wss"}, origins: []string{"https://app.example.com"}})
	dial := func(origin string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d := ws.Dialer{Protocols: []string{"sip"}, TLSConfig: &tls.Config{RootCAs: b.ca.Pool(), ServerName: outsideIP},
			NetDial: phoneDialer().DialContext, Header: ws.HandshakeHeaderHTTP(http.Header{"Origin": {origin}})}
		c, _, _, err := d.Dial(ctx, "wss://"+b.sockets["wss"].String()+"/sip")
		if c != nil {
			_ = c.Close()
		}
		return err
	}
	if err := dial("https://app.example.com"); err != nil {
		t.Errorf("listed origin: %v", err)
	}
	err := dial("https://evil.example")
	if se, ok := err.(ws.StatusError); !ok || int(se) != http.StatusForbidden {
		t.Errorf("other origin: %v; want 403", err)
	}
}
