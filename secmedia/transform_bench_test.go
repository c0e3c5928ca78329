package secmedia

import (
	"encoding/binary"
	"testing"
)

var benchSuites = []string{"AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM"}

// BenchmarkTransformEncryptRTP: natsbc protecting a PBX's 172-byte G.711
// packet for the secure leg, into a reused buffer.
func BenchmarkTransformEncryptRTP(b *testing.B) {
	for _, suite := range benchSuites {
		b.Run(suite, func(b *testing.B) {
			tr, _, _ := legKeys(b, suite)
			plain := g711Packet(b, 0x1234, 0)
			buf := make([]byte, 0, len(plain)+tr.Overhead())
			seq := uint16(0)
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			for b.Loop() {
				seq++
				binary.BigEndian.PutUint16(plain[2:], seq)
				if _, err := tr.EncryptRTP(buf, plain); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTransformDecryptRTP: natsbc decrypting the secure peer's
// packets in place, in order, with replay protection. The peer's packets
// are made by pion in batches outside the timer.
func BenchmarkTransformDecryptRTP(b *testing.B) {
	const batch = 1024
	for _, suite := range benchSuites {
		b.Run(suite, func(b *testing.B) {
			tr, peerEnc, _ := legKeys(b, suite)
			plain := g711Packet(b, 0x1234, 0)
			pkts := make([][]byte, batch)
			for i := range pkts {
				pkts[i] = make([]byte, 0, len(plain)+tr.Overhead())
			}
			seq := uint16(0)
			refill := func() {
				for i := range pkts {
					binary.BigEndian.PutUint16(plain[2:], seq)
					seq++
					var err error
					if pkts[i], err = peerEnc.EncryptRTP(pkts[i][:0], plain, nil); err != nil {
						b.Fatal(err)
					}
				}
			}
			i := batch
			b.SetBytes(int64(len(plain)))
			b.ReportAllocs()
			for b.Loop() {
				if i == batch {
					b.StopTimer()
					refill()
					i = 0
					b.StartTimer()
				}
				if _, err := tr.DecryptRTP(pkts[i], pkts[i]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
