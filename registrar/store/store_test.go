package store

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func sampleBinding(id uint64) Binding {
	return Binding{
		ID: id, AOR: "sip:alice@pbx.example", Key: "sip:alice@pbx.example|sip:alice@10.0.0.5:5060",
		Contact: "sip:alice@10.0.0.5:5060;ob",
		Flow: Flow{Transport: "UDP", Local: netip.MustParseAddrPort("192.0.2.1:5060"),
			Source: netip.MustParseAddrPort("198.51.100.7:40123"), Advertised: netip.MustParseAddrPort("192.0.2.1:5060")},
		Verdict: "NAT", Checks: []string{"via-received", "contact-private"}, Keepalive: true,
		Asked: 3600, Granted: 60,
		Expires:    time.Unix(1_900_000_060, 0).UTC(),
		PBXExpires: time.Unix(1_900_003_600, 0).UTC(),
		PBX: PBXSide{RequestURI: "sip:pbx.example", From: "sip:alice@pbx.example", To: "sip:alice@pbx.example",
			CallID: "abc@10.0.0.5", CSeq: 42, Transport: "TCP", Local: netip.MustParseAddrPort("203.0.113.1:5060"),
			Destination: netip.MustParseAddrPort("203.0.113.9:5060"), Advertised: netip.MustParseAddrPort("203.0.113.1:5060")},
	}
}

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "state.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s, path
}

func TestRoundTripSurvivesReopen(t *testing.T) {
	s, path := openTemp(t)
	want := []Binding{sampleBinding(1), sampleBinding(2)}
	want[1].Flow.Transport, want[1].Keepalive, want[1].Checks = "TCP", false, nil
	for _, b := range want {
		if err := s.Put(b); err != nil {
			t.Fatal(err)
		}
	}
	key, err := s.TokenKey(32)
	if err != nil || len(key) != 32 {
		t.Fatalf("TokenKey: %x, %v", key, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.Bindings()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("bindings after reopen:\n got %+v\nwant %+v", got, want)
	}
	again, err := s.TokenKey(32)
	if err != nil || string(again) != string(key) {
		t.Fatalf("token key changed across reopen: %x then %x (%v)", key, again, err)
	}
}

func TestPutReplacesAndDeleteRemoves(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	b := sampleBinding(7)
	if err := s.Put(b); err != nil {
		t.Fatal(err)
	}
	b.PBX.CSeq = 43
	if err := s.Put(b); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Bindings()
	if len(got) != 1 || got[0].PBX.CSeq != 43 {
		t.Fatalf("after a second Put of one id: %+v", got)
	}
	if err := s.Delete(7); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(7); err != nil {
		t.Fatalf("deleting a missing binding: %v", err)
	}
	if got, _ := s.Bindings(); len(got) != 0 {
		t.Fatalf("after Delete: %+v", got)
	}
}

func TestSecondOpenFailsOnLock(t *testing.T) {
	s, path := openTemp(t)
	defer s.Close()
	start := time.Now()
	_, err := Open(path)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Open: %v, want ErrLocked naming %s", err, path)
	}
	if d := time.Since(start); d > 3*LockTimeout {
		t.Fatalf("second Open took %s", d)
	}
	if IsUnreadable(err) {
		t.Fatal("a held lock must not count as an unreadable file (--reset-state would move a good file aside)")
	}
}

// expectUnreadable opens path and wants an error naming the path and the
// problem.
func expectUnreadable(t *testing.T, path string, problem error, detail string) {
	t.Helper()
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s) succeeded, want %v", path, problem)
	}
	if !errors.Is(err, problem) || !IsUnreadable(err) {
		t.Fatalf("Open: %v, want %v", err, problem)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, detail) {
		t.Fatalf("Open error %q does not name %s and %q", msg, path, detail)
	}
}

func TestVersionMismatchFailsOpen(t *testing.T) {
	s, path := openTemp(t)
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyVersion, []byte("99")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	expectUnreadable(t, path, ErrVersion, `version "99"`)
}

// filledFile is a closed state file holding enough bindings to span
// several pages.
func filledFile(t *testing.T) string {
	t.Helper()
	s, path := openTemp(t)
	for i := uint64(1); i <= 200; i++ {
		if err := s.Put(sampleBinding(i)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	return path
}

func TestTruncatedFileFailsOpen(t *testing.T) {
	path := filledFile(t)
	fi, _ := os.Stat(path)
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	// bbolt meets the missing pages either at open (its freelist) or the
	// page walk does: either way Open names the path and "corrupt".
	expectUnreadable(t, path, ErrCorrupt, "")
}

func TestGarbageFileFailsOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 2000)), 0o600); err != nil {
		t.Fatal(err)
	}
	expectUnreadable(t, path, ErrCorrupt, "not a bbolt database")
}

func TestOtherBoltFileFailsOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := openBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("jobs")); return err }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	expectUnreadable(t, path, ErrCorrupt, "not a natsbc state file")
}

// A damaged data page: bbolt's checksums cover its meta pages only, so
// this is what the records' own checksums and the page walk at Open are
// for.
func TestDamagedPageFailsOpen(t *testing.T) {
	path := filledFile(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := os.Getpagesize()
	// Pages 0 and 1 are meta, 2 the freelist, then buckets and leaves:
	// flip bytes in the middle of every page after the first four.
	damaged := 0
	for off := 4 * pageSize; off+pageSize <= len(data); off += pageSize {
		for i := off + 100; i < off+120; i++ {
			data[i] ^= 0x5a
		}
		damaged++
	}
	if damaged == 0 {
		t.Fatalf("file of %d bytes has no data page to damage", len(data))
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	expectUnreadable(t, path, ErrCorrupt, "")
}

func FuzzDecodeBinding(f *testing.F) {
	v, _ := encodeBinding(sampleBinding(1))
	f.Add(v)
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := decodeBinding(data)
		if err != nil {
			return
		}
		again, err := encodeBinding(b)
		if err != nil {
			t.Fatalf("a decoded binding does not encode: %v", err)
		}
		if _, err := decodeBinding(again); err != nil {
			t.Fatalf("re-encoded binding does not decode: %v", err)
		}
	})
}
