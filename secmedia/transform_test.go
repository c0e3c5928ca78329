package secmedia

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

var allSuites = []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM", "AEAD_AES_256_GCM"}

// g711Packet is an RTP packet as a PBX sends G.711: 12-byte header and
// 160 bytes of payload (20 ms).
func g711Packet(t testing.TB, ssrc uint32, seq uint16) []byte {
	t.Helper()
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = byte(int(seq) + i)
	}
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: ssrc}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func receiverReport(t testing.TB, ssrc uint32) []byte {
	t.Helper()
	b, err := (&rtcp.ReceiverReport{SSRC: ssrc, Reports: []rtcp.ReceptionReport{{SSRC: ssrc + 1, LastSequenceNumber: 77}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pionContext is the peer's side of a leg, built with pion/srtp directly.
func pionContext(t testing.TB, suite string, keySalt []byte) *srtp.Context {
	t.Helper()
	p, _ := Profile(suite)
	keyLen, _, err := keySaltLen(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := srtp.CreateContext(keySalt[:keyLen], keySalt[keyLen:], p)
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// legKeys builds natsbc's Transform for a leg and the peer's two pion
// contexts the other way round: the peer encrypts with its key (natsbc's
// remote) and decrypts with natsbc's.
func legKeys(t testing.TB, suite string) (tr *Transform, peerEnc, peerDec *srtp.Context) {
	t.Helper()
	local, err := NewKeySalt(suite)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := NewKeySalt(suite)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Profile(suite)
	if tr, err = NewTransform(p, local, remote); err != nil {
		t.Fatal(err)
	}
	return tr, pionContext(t, suite, remote), pionContext(t, suite, local)
}

func TestTransformInteroperatesWithPion(t *testing.T) {
	for _, suite := range allSuites {
		t.Run(suite, func(t *testing.T) {
			tr, peerEnc, peerDec := legKeys(t, suite)
			for seq := uint16(65530); seq != 5; seq++ { // across a sequence wrap
				// natsbc -> peer
				plain := g711Packet(t, 0x1111, seq)
				enc, err := tr.EncryptRTP(make([]byte, 0, len(plain)+tr.Overhead()), plain)
				if err != nil {
					t.Fatalf("EncryptRTP: %v", err)
				}
				if len(enc) > len(plain)+tr.Overhead() || bytes.Equal(enc[12:len(plain)], plain[12:]) {
					t.Fatalf("SRTP packet of %d bytes, payload not encrypted", len(enc))
				}
				got, err := peerDec.DecryptRTP(nil, enc, nil)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("pion cannot decrypt natsbc's packet %d: %v", seq, err)
				}
				// peer -> natsbc, decrypted in place
				plain = g711Packet(t, 0x2222, seq)
				enc, err = peerEnc.EncryptRTP(nil, plain, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err = tr.DecryptRTP(enc, enc)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("natsbc cannot decrypt pion's packet %d: %v", seq, err)
				}
			}
			for i := range 3 {
				plain := receiverReport(t, 0x1111+uint32(i))
				enc, err := tr.EncryptRTCP(nil, plain)
				if err != nil {
					t.Fatalf("EncryptRTCP: %v", err)
				}
				if len(enc) > len(plain)+tr.Overhead() {
					t.Fatalf("SRTCP adds %d bytes, Overhead says %d", len(enc)-len(plain), tr.Overhead())
				}
				if got, err := peerDec.DecryptRTCP(nil, enc, nil); err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("pion cannot decrypt natsbc's RTCP: %v", err)
				}
				enc, err = peerEnc.EncryptRTCP(nil, plain, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := tr.DecryptRTCP(enc, enc); err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("natsbc cannot decrypt pion's RTCP: %v", err)
				}
			}
		})
	}
}

// A packet whose tag does not verify is an error and changes nothing: the
// genuine packet still decrypts afterwards, once (replay protection).
func TestTransformRejectsBadTagAndReplay(t *testing.T) {
	for _, suite := range allSuites {
		t.Run(suite, func(t *testing.T) {
			tr, peerEnc, _ := legKeys(t, suite)
			enc, err := peerEnc.EncryptRTP(nil, g711Packet(t, 7, 100), nil)
			if err != nil {
				t.Fatal(err)
			}
			bad := bytes.Clone(enc)
			bad[len(bad)-1] ^= 1
			if _, err := tr.DecryptRTP(nil, bad); err == nil {
				t.Fatal("RTP with a bad tag decrypted")
			}
			if _, err := tr.DecryptRTP(nil, enc); err != nil {
				t.Fatalf("genuine RTP after a bad one: %v", err)
			}
			if _, err := tr.DecryptRTP(nil, enc); err == nil {
				t.Fatal("replayed RTP decrypted again")
			}

			encRTCP, err := peerEnc.EncryptRTCP(nil, receiverReport(t, 7), nil)
			if err != nil {
				t.Fatal(err)
			}
			bad = bytes.Clone(encRTCP)
			bad[len(bad)-1] ^= 1
			if _, err := tr.DecryptRTCP(nil, bad); err == nil {
				t.Fatal("RTCP with a bad tag decrypted")
			}
			if _, err := tr.DecryptRTCP(nil, encRTCP); err != nil {
				t.Fatalf("genuine RTCP after a bad one: %v", err)
			}
			if _, err := tr.DecryptRTCP(nil, encRTCP); err == nil {
				t.Fatal("replayed RTCP decrypted again")
			}

			// A key natsbc did not agree on does not decrypt at all.
			other, _, _ := legKeys(t, suite)
			if _, err := other.DecryptRTP(nil, enc); err == nil {
				t.Fatal("packet decrypted with another leg's key")
			}
		})
	}
}

func TestNewTransformRefusesWrongKeys(t *testing.T) {
	p, _ := Profile("AES_CM_128_HMAC_SHA1_80")
	good := make([]byte, 30)
	for _, c := range []struct {
		name          string
		local, remote []byte
	}{
		{"short local", good[:29], good},
		{"long remote", good, make([]byte, 31)},
		{"nil", nil, nil},
	} {
		if _, err := NewTransform(p, c.local, c.remote); !errors.Is(err, ErrKeyLength) {
			t.Errorf("%s: %v, want ErrKeyLength", c.name, err)
		}
	}
	if _, err := NewTransform(srtp.ProtectionProfile(0x7777), good, good); err == nil {
		t.Error("unknown profile accepted")
	}
}

// Every direction used by several goroutines at once, as the relay's
// readers do; run under -race. Each goroutine has its own SSRC so that
// what it decrypts can be checked.
func TestTransformConcurrentUse(t *testing.T) {
	const workers, packets = 4, 200
	tr, peerEnc, peerDec := legKeys(t, "AEAD_AES_128_GCM")
	// The peer's packets, made before pion's contexts are shared.
	fromPeer := make([][][]byte, workers)
	fromPeerRTCP := make([][][]byte, workers)
	for w := range workers {
		for i := range packets {
			enc, err := peerEnc.EncryptRTP(nil, g711Packet(t, uint32(w), uint16(i)), nil)
			if err != nil {
				t.Fatal(err)
			}
			fromPeer[w] = append(fromPeer[w], enc)
			encRTCP, err := peerEnc.EncryptRTCP(nil, receiverReport(t, uint32(w)), nil)
			if err != nil {
				t.Fatal(err)
			}
			fromPeerRTCP[w] = append(fromPeerRTCP[w], encRTCP)
		}
	}
	var mu sync.Mutex // guards peerDec, which is pion's and not shared-safe
	var wg sync.WaitGroup
	errs := make(chan error, 4*workers)
	for w := range workers {
		wg.Add(4)
		go func() { // natsbc -> peer, RTP
			defer wg.Done()
			buf := make([]byte, 0, 256)
			for i := range packets {
				plain := g711Packet(t, 100+uint32(w), uint16(i))
				enc, err := tr.EncryptRTP(buf, plain)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				got, err := peerDec.DecryptRTP(nil, enc, nil)
				mu.Unlock()
				if err != nil || !bytes.Equal(got, plain) {
					errs <- fmt.Errorf("worker %d RTP %d: %v", w, i, err)
					return
				}
			}
		}()
		go func() { // natsbc -> peer, RTCP
			defer wg.Done()
			for range packets {
				if _, err := tr.EncryptRTCP(nil, receiverReport(t, 100+uint32(w))); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() { // peer -> natsbc, RTP
			defer wg.Done()
			for i, enc := range fromPeer[w] {
				got, err := tr.DecryptRTP(nil, enc)
				if err != nil || !bytes.Equal(got, g711Packet(t, uint32(w), uint16(i))) {
					errs <- fmt.Errorf("worker %d decrypt RTP %d: %v", w, i, err)
					return
				}
			}
		}()
		go func() { // peer -> natsbc, RTCP
			defer wg.Done()
			for i, enc := range fromPeerRTCP[w] {
				if _, err := tr.DecryptRTCP(nil, enc); err != nil {
					errs <- fmt.Errorf("worker %d decrypt RTCP %d: %v", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The relay's steady state: with buffers of the right size, neither
// direction allocates.
func TestTransformDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	for _, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM"} {
		tr, peerEnc, _ := legKeys(t, suite)
		plain := g711Packet(t, 1, 1)
		buf := make([]byte, 0, 256)
		seq := uint16(0)
		if n := testing.AllocsPerRun(100, func() {
			seq++
			plain[2], plain[3] = byte(seq>>8), byte(seq)
			if _, err := tr.EncryptRTP(buf, plain); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s EncryptRTP: %v allocations", suite, n)
		}
		var batch [][]byte
		for i := range 110 { // AllocsPerRun calls once more than asked
			enc, _ := peerEnc.EncryptRTP(nil, g711Packet(t, 1, uint16(i)), nil)
			batch = append(batch, enc)
		}
		tr.DecryptRTP(nil, batch[0]) // the SSRC's state is made once
		i := 0
		if n := testing.AllocsPerRun(100, func() {
			i++
			if _, err := tr.DecryptRTP(batch[i], batch[i]); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s DecryptRTP: %v allocations", suite, n)
		}
	}
}

// WithRemote keys decryption anew and leaves natsbc's encryption where it
// was (RFC 3711 §9.1): after the sequence numbers wrapped, a packet with
// an index seen before the wrap is encrypted under the new rollover
// count, not with the keystream already used for it.
func TestTransformWithRemoteKeepsEncryption(t *testing.T) {
	const suite = "AES_CM_128_HMAC_SHA1_80"
	local, _ := NewKeySalt(suite)
	peer1, _ := NewKeySalt(suite)
	peer2, _ := NewKeySalt(suite)
	profile, _ := Profile(suite)
	tr, err := NewTransform(profile, local, peer1)
	if err != nil {
		t.Fatal(err)
	}
	before, err := tr.EncryptRTP(nil, g711Packet(t, 0xabc, 11))
	if err != nil {
		t.Fatal(err)
	}
	for seq := 1011; seq < 65536+11; seq += 1000 { // through a wrap: ROC 1
		if _, err := tr.EncryptRTP(nil, g711Packet(t, 0xabc, uint16(seq))); err != nil {
			t.Fatal(err)
		}
	}
	next, err := tr.WithRemote(peer2)
	if err != nil {
		t.Fatal(err)
	}
	after, err := next.EncryptRTP(nil, g711Packet(t, 0xabc, 11))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(before, after) {
		t.Fatal("seq 11 encrypted twice with one keystream: the encryption restarted")
	}
	// The peer's new key decrypts; its old one no longer does.
	sealed, err := pionContext(t, suite, peer2).EncryptRTP(nil, g711Packet(t, 0xdef, 5), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := next.DecryptRTP(nil, sealed); err != nil {
		t.Fatalf("the new peer key does not decrypt: %v", err)
	}
	old, _ := pionContext(t, suite, peer1).EncryptRTP(nil, g711Packet(t, 0xdef, 6), nil)
	if _, err := next.DecryptRTP(nil, old); err == nil {
		t.Fatal("the old peer key still decrypts")
	}
	if _, err := next.WithRemote(peer2[:5]); err == nil {
		t.Fatal("a short key was taken")
	}
}
