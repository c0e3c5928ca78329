//go:build linux

package natlab

import (
	"os"
	"path/filepath"
	"testing"
)

// offersDir keeps real offers the lab's clients sent (Chromium through
// JsSIP, baresip with SDES and with DTLS-SRTP) among media's SDP test
// bodies, as lab_*.sdp: its golden tests run them through natsbc's rewrite.
const offersDir = "../../media/testdata/sdp"

// saveOffer writes an offer a client sent to offersDir when
// NATLAB_OFFERS=1 (to record them anew); otherwise it only logs it.
func saveOffer(t *testing.T, name, sdp string) {
	t.Helper()
	t.Logf("%s:\n%s", name, sdp)
	if os.Getenv("NATLAB_OFFERS") != "1" {
		return
	}
	if err := os.MkdirAll(offersDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(offersDir, name), []byte(sdp), 0o644); err != nil {
		t.Fatal(err)
	}
}
