package ingress

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// RFC 6455 §10.2: with allowed origins set, a browser page from another
// origin is refused with 403; a listed origin and a client without Origin
// (not a browser) upgrade.
func TestWebSocketAllowedOrigins(t *testing.T) {
	ln, _, _ := sipgoOverWS(t, WSConfig{AllowedOrigins: []string{"https://app.example.com"}})
	dial := func(origin ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h := http.Header{}
		for _, o := range origin {
			h.Add("Origin", o)
		}
		conn, _, _, err := ws.Dialer{Protocols: []string{"sip"}, Header: ws.HandshakeHeaderHTTP(h)}.Dial(ctx, "ws://"+ln.Addr().String()+"/")
		if conn != nil {
			_ = conn.Close()
		}
		return err
	}
	for _, c := range []struct {
		origins []string
		want    int // 0: upgraded
	}{
		{[]string{"https://app.example.com"}, 0},
		{[]string{"HTTPS://APP.example.com"}, 0},
		{nil, 0},
		{[]string{"https://evil.example"}, 403},
		{[]string{"https://app.example.com.evil.example"}, 403},
		{[]string{"http://app.example.com"}, 403},
		{[]string{"https://app.example.com", "https://evil.example"}, 403},
	} {
		err := dial(c.origins...)
		var se ws.StatusError
		switch {
		case c.want == 0 && err != nil:
			t.Errorf("Origin %q: %v; want upgraded", c.origins, err)
		case c.want != 0 && (!errorsAs(err, &se) || int(se) != c.want):
			t.Errorf("Origin %q: %v; want status %d", c.origins, err, c.want)
		}
	}
}

// Without allowed origins, any page's upgrade proceeds.
func TestWebSocketAnyOriginByDefault(t *testing.T) {
	ln, _, _ := sipgoOverWS(t, WSConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := ws.HandshakeHeaderHTTP(http.Header{"Origin": {"https://anywhere.example"}})
	conn, _, _, err := ws.Dialer{Protocols: []string{"sip"}, Header: h}.Dial(ctx, "ws://"+ln.Addr().String()+"/")
	if err != nil {
		t.Fatalf("upgrade with an Origin and no allowed_origins: %v", err)
	}
	_ = conn.Close()
}
