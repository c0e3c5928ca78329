package secmedia

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// firstAnswer is what a natsbc DTLS server sends back to pkt: for a
// ClientHello, its HelloVerifyRequest (RFC 6347 §4.2.1).
func firstAnswer(t testing.TB, pkt []byte) []byte {
	t.Helper()
	got := make(chan []byte, 1)
	d, err := StartDTLS(DTLSConfig{
		Certificate: newCert(t),
		Remote:      []Fingerprint{mustFingerprint(t, newCert(t))},
		Send: func(p []byte) {
			select {
			case got <- bytes.Clone(p):
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Feed(pkt)
	select {
	case p := <-got:
		return p
	case <-time.After(testTimeout):
		t.Fatal("no answer to a ClientHello")
	}
	return nil
}

// FuzzDTLSFeed: whatever datagram the relay hands a session, in either
// role, nothing panics and Close still returns. The datagram is taken
// off the queue before Close, and Close waits for a handshake in progress,
// so pion has parsed it by the time the session ends.
func FuzzDTLSFeed(f *testing.F) {
	hello := clientHello(f)
	f.Add(hello, false)
	f.Add(firstAnswer(f, hello), true)
	// A handshake record header with nothing after it, a fatal alert, a
	// ChangeCipherSpec, application data in epoch 1.
	f.Add([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false)
	f.Add([]byte{21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 40}, true)
	f.Add([]byte{20, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1}, true)
	f.Add([]byte{23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4}, false)

	cert := newCert(f)
	remote := []Fingerprint{mustFingerprint(f, newCert(f))}
	f.Fuzz(func(t *testing.T, pkt []byte, client bool) {
		d, err := StartDTLS(DTLSConfig{
			Certificate:      cert,
			Client:           client,
			Remote:           remote,
			Send:             func([]byte) {},
			HandshakeTimeout: testTimeout,
		})
		if err != nil {
			t.Fatal(err)
		}
		d.Feed(pkt)
		deadline := time.Now().Add(testTimeout)
		// Until pion's reader took it, or the session ended without.
		for len(d.feedConn.queue) > 0 && !isClosed(d.feedConn.closed) {
			if time.Now().After(deadline) {
				t.Fatal("the session never read the datagram")
			}
			runtime.Gosched()
		}
		closeWithin(t, d)
	})
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
