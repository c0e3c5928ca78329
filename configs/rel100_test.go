package configs

import (
	"strings"
	"testing"
)

// sip.100rel is on unless the file turns it off; a non-boolean fails with
// its position.
func TestRel100Mapping(t *testing.T) {
	for _, tt := range []struct {
		section string
		off     bool
	}{
		{section: "", off: false},
		{section: "sip:\n  100rel: true\n", off: false},
		{section: "sip:\n  100rel: false\n", off: true},
	} {
		c, err := parseWith(t, tt.section)
		if err != nil {
			t.Fatalf("%q: %v", tt.section, err)
		}
		if got := c.SBC().Disable100rel; got != tt.off {
			t.Errorf("%q: Disable100rel = %v, want %v", tt.section, got, tt.off)
		}
	}
	_, err := parseWith(t, "sip:\n  100rel: maybe\n")
	if err == nil || !strings.Contains(err.Error(), "t.yaml:2:11") || !strings.Contains(err.Error(), "sip.100rel") {
		t.Errorf("100rel: maybe: error = %v, want one naming t.yaml:2:11 and sip.100rel", err)
	}
}
