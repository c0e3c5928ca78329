package sbc

import (
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/natsbc/natsbc/registrar/store"
)

// BenchmarkRegisterPersist is what the state file adds to one REGISTER:
// the binding's record written and fsync'd before the 200 goes out
// (README "State on disk"). Run it on the disk natsbc will use: t.TempDir
// is on the same file system as the test's TMPDIR.
func BenchmarkRegisterPersist(b *testing.B) {
	st, err := store.Open(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r := newRegistrar(RegistrationConfig{}, st)
	sock := &socket{network: "udp", local: netip.MustParseAddrPort("192.0.2.1:5060")}
	var contact sip.Uri
	_ = sip.ParseUri("sip:alice@192.168.1.10:5060;ob", &contact)
	bd := &binding{id: 1, aor: "sip:alice@example.com", key: "sip:alice@example.com|sip:alice@192.168.1.10:5060", uri: contact,
		flow: flow{transport: "UDP", sock: sock, source: netip.MustParseAddrPort("198.51.100.7:40123"), adv: sock.local},
		nat:  "NAT", checks: []string{"contact-private", "via-host-differs"}, keepalive: true,
		pbx: pbxSide{ruri: contact, from: contact, to: contact, callID: "4f1a9c2e7b3d4a5f9e8d7c6b5a4f3e2d", cseq: 1,
			dst: netip.MustParseAddrPort("10.0.0.5:5060"), sock: sock, adv: sock.local, transport: "UDP"},
		asked: 3600, granted: 60}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i := 0; b.Loop(); i++ {
		r.mu.Lock()
		bd.id = uint64(i%1000 + 1) // a table of 1000 phones refreshing
		bd.pbx.cseq++
		bd.expires = time.Now().Add(time.Minute)
		ch := r.toDisk([]*binding{bd}, nil)
		r.mu.Unlock()
		r.writeDisk(ch, log)
	}
}
