package capture

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/natsbc/natsbc/diagnosis"
)

// The golden captures were recorded in the lab (TestGoldenCaptures, with
// NATLAB_GOLDEN=1) by tshark between two sipp sides without natsbc: trace
// gives each the verdict in the file next to it.
func TestGoldenCaptures(t *testing.T) {
	pcaps, err := filepath.Glob("testdata/golden/*.pcap")
	if err != nil || len(pcaps) < 5 {
		t.Fatalf("golden captures %v (%v), want at least 5", pcaps, err)
	}
	for _, pcap := range pcaps {
		t.Run(filepath.Base(pcap), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(pcap, ".pcap") + ".verdict")
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(pcap)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			msgs, err := Read(f)
			if err != nil {
				t.Fatal(err)
			}
			if got := diagnosis.Summary(diagnosis.Analyze(msgs)); got != strings.TrimSpace(string(want)) {
				t.Errorf("%q, want %q", got, strings.TrimSpace(string(want)))
			}
		})
	}
}
